package workload

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/grassroots-ledger/ledger/domain/evaluation"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/survey"
)

// Democratic evaluations (民主评议) and satisfaction surveys (满意度测评): every community's committee is
// evaluated about every half year — five months and up to a fortnight after the last, so never more than
// six months apart — by thirty to seventy cadres, party members and representatives, almost all 称职; and
// each November the residents answer the year's satisfaction survey (four questions, 80 to 300
// respondents). The assigned anomalies: an evaluation skipped (cadre-evaluation-interval) and a member
// found 不称职 by nearly half the evaluations (cadre-incompetent). Choices draw on a random stream of their
// own.

const (
	plantSkippedEvaluation = string(rulebook.CadreEvaluation) + ":skipped"
	plantIncompetent       = string(rulebook.CadreIncompetent)
)

// surveyQuestions are the year's satisfaction survey.
var surveyQuestions = []survey.Question{
	{QuestionID: "q1", Text: "对本社区(村)“两委”班子工作的总体评价", Scale: survey.Satisfaction},
	{QuestionID: "q2", Text: "对村(居)务公开及时性、完整性的评价", Scale: survey.Satisfaction},
	{QuestionID: "q3", Text: "对便民服务、办事效率的评价", Scale: survey.Satisfaction},
	{QuestionID: "q4", Text: "对小区(村庄)环境卫生的评分", Scale: survey.FivePoint},
}

// evalState is the community's evaluations as the generator keeps them.
type evalState struct {
	rng *rand.Rand
	seq int
}

func (c *comm) evalState() *evalState {
	if c.evals == nil {
		c.evals = &evalState{rng: rand.New(rand.NewPCG(c.g.plan.seed, streamKey("evaluation/"+string(c.info.ID))))}
	}
	return c.evals
}

// scheduleEvaluation schedules the next democratic evaluation about five months after from (seven where
// the skipped evaluation was planted).
func (c *comm) scheduleEvaluation(from time.Time) {
	s := c.evalState()
	next := from.AddDate(0, 5, s.rng.IntN(15))
	if c.planted(plantSkippedEvaluation) {
		c.plant(plantSkippedEvaluation)
		next = from.AddDate(0, 7, 0)
	}
	c.at(c.office(next), c.evaluate)
}

// evaluate records the evaluation of the sitting committee and schedules the next.
func (c *comm) evaluate() {
	s := c.evalState()
	roster := c.profile.Roster()
	if len(roster) == 0 {
		c.scheduleEvaluation(c.now)
		return
	}
	t := c.now.In(cst)
	period := fmt.Sprintf("%d-H%d", t.Year(), 1+(int(t.Month())-1)/6)
	s.seq++
	id := fmt.Sprintf("%s-%d", period, s.seq)
	evaluators := 30 + s.rng.IntN(41)
	incompetent := c.planted(plantIncompetent)
	var tallies []evaluation.Tally
	for i, seat := range roster {
		bad := s.rng.IntN(3)
		basic := s.rng.IntN(evaluators/8 + 1)
		if incompetent && i == len(roster)-1 {
			c.plant(plantIncompetent)
			bad = evaluators * 45 / 100
		}
		basic = min(basic, evaluators-bad)
		tallies = append(tallies, evaluation.Tally{Person: seat.Person, Competent: evaluators - bad - basic - s.rng.IntN(2), Basically: basic, Incompetent: bad})
	}
	e := &evaluation.Evaluation{}
	evs, err := e.Hold(evaluation.Hold{EvaluationID: id, Period: period, Evaluators: evaluators, Tallies: tallies, Roster: roster}, c.params, c.now)
	apply(e, c.record(c.clerk, evaluation.Stream(c.info.ID, id), nil, evs, err))
	c.done(evaluation.Stream(c.info.ID, id))
	c.scheduleEvaluation(c.now)
}

// scheduleSurvey schedules the year's satisfaction survey: opened early in November, closed three weeks
// later with its tallies.
func (c *comm) scheduleSurvey(y int) {
	s := c.evalState()
	open := c.office(day(y, time.November, 3+s.rng.IntN(5), 0, 0))
	if open.Before(c.now) {
		return
	}
	id := fmt.Sprint(y)
	stream := survey.Stream(c.info.ID, id)
	sv := &survey.Survey{}
	c.at(open, func() {
		evs, err := sv.Open(id, fmt.Sprintf("%d年度居民满意度测评", y), []survey.Audience{survey.Residents, survey.Representatives}, surveyQuestions, c.now)
		apply(sv, c.record(c.clerk, stream, nil, evs, err))
		c.after(days(20+s.rng.IntN(5)), func() {
			c.at(c.office(c.now), func() {
				respondents := 80 + s.rng.IntN(221)
				var tallies []survey.Tally
				for _, q := range surveyQuestions {
					answered := respondents - s.rng.IntN(respondents/20+1)
					tallies = append(tallies, survey.Tally{QuestionID: q.QuestionID, Counts: spread(s.rng, answered, q.Scale)})
				}
				evs, err := sv.Close(respondents, tallies, c.params, c.now)
				apply(sv, c.record(c.clerk, stream, nil, evs, err))
				c.done(stream)
			})
		})
	})
}

// spread draws how n answers fall on a scale: mostly satisfied.
func spread(r *rand.Rand, n int, scale survey.Scale) []int {
	weights := []int{70 + r.IntN(20), 10 + r.IntN(15), 1 + r.IntN(8)}
	if scale == survey.FivePoint {
		weights = []int{1 + r.IntN(3), 2 + r.IntN(4), 8 + r.IntN(10), 30 + r.IntN(15), 35 + r.IntN(20)}
	}
	total := 0
	for _, w := range weights {
		total += w
	}
	counts := make([]int, len(weights))
	left := n
	for i, w := range weights[:len(weights)-1] {
		counts[i] = n * w / total
		left -= counts[i]
	}
	counts[len(counts)-1] = left
	return counts
}
