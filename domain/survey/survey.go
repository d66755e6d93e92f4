// Package survey is the residents' satisfaction survey (居民满意度测评, seeds 001 and 002: satisfaction is
// the main measure of a community's governance, and its results are public): a survey is opened for a
// community with its questions and who may answer, and closed with the tallies per question — counts
// per answer and the number of respondents, never an answer by a person.
//
// One stream per survey: survey-<communityID>-<surveyID>.
package survey

import (
	"fmt"
	"slices"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// Audience is who may answer.
type Audience string

const (
	Residents       Audience = "residents"       // 居民(村民)
	Representatives Audience = "representatives" // 居民(村民)代表
	PartyMembers    Audience = "party-members"   // 党员
)

// Audiences lists the audiences, in the order the API documents them.
func Audiences() []Audience { return []Audience{Residents, Representatives, PartyMembers} }

// Valid reports whether a is a known audience.
func (a Audience) Valid() bool { return slices.Contains(Audiences(), a) }

// Scale is how a question is answered.
type Scale string

const (
	Satisfaction Scale = "satisfaction" // 满意 / 基本满意 / 不满意
	FivePoint    Scale = "five-point"   // 1–5
)

// Scales lists the scales, in the order the API documents them.
func Scales() []Scale { return []Scale{Satisfaction, FivePoint} }

// Valid reports whether s is a known scale.
func (s Scale) Valid() bool { return slices.Contains(Scales(), s) }

// Answers is the number of answers of the scale.
func (s Scale) Answers() int {
	if s == FivePoint {
		return 5
	}
	return 3
}

// Labels names the scale's answers, in the order of the counts.
func (s Scale) Labels() []string {
	if s == FivePoint {
		return []string{"1分", "2分", "3分", "4分", "5分"}
	}
	return []string{"满意", "基本满意", "不满意"}
}

// Question is one question of a survey.
type Question struct {
	QuestionID string `json:"question_id"`
	Text       string `json:"text"`
	Scale      Scale  `json:"scale"`
}

// Tally is what a question's respondents answered: counts in the order of the scale's answers.
type Tally struct {
	QuestionID string `json:"question_id"`
	Counts     []int  `json:"counts"`
}

// Opened records a survey opened for a community.
type Opened struct {
	SurveyID  string     `json:"survey_id"`
	Title     string     `json:"title"`
	Audience  []Audience `json:"audience"`
	Questions []Question `json:"questions"`
	OpenedAt  time.Time  `json:"opened_at"`
}

func (Opened) EventName() string  { return "survey.opened" }
func (Opened) SchemaVersion() int { return 1 }

// Closed records a survey closed with its results: the number of respondents and each question's tally.
// A satisfied share (over the satisfaction-scale questions) below satisfaction's yellow-below carries a
// breach of satisfaction.
type Closed struct {
	kernel.Watch
	SurveyID    string    `json:"survey_id"`
	Respondents int       `json:"respondents"`
	Tallies     []Tally   `json:"tallies"`
	ClosedAt    time.Time `json:"closed_at"`
}

func (Closed) EventName() string  { return "survey.closed" }
func (Closed) SchemaVersion() int { return 1 }

// RegisterEvents adds the package's events to r.
func RegisterEvents(r *kernel.Registry) error {
	return kernel.RegisterAll(r, kernel.Register[Opened], kernel.Register[Closed])
}

// Stream is the stream of one survey, survey-<communityID>-<surveyID>.
func Stream(c kernel.CommunityID, id string) string {
	return eventlog.StreamName("survey", string(c), id)
}

// Survey is one survey. The zero value is one not yet opened.
type Survey struct {
	id        string
	questions []Question
	closed    bool
}

// Rehydrate rebuilds a survey from its history.
func Rehydrate(history []kernel.Event) *Survey { return kernel.Rehydrate(&Survey{}, history) }

// Apply changes state only.
func (s *Survey) Apply(e kernel.Event) {
	switch e := e.(type) {
	case Opened:
		s.id, s.questions = e.SurveyID, e.Questions
	case Closed:
		s.closed = true
	}
}

// Errors of surveys.
var (
	ErrNotFound = kernel.NotFound("survey-not-found", "没有这项测评").WithField("survey_id")
	ErrExists   = kernel.Conflict("survey-already-opened", "这项测评已开始")
	ErrClosed   = kernel.Conflict("survey-already-closed", "这项测评已结束")
)

// MaxQuestions is the most questions a survey has.
const MaxQuestions = 30

// Open opens a survey at now.
func (s *Survey) Open(id, title string, audience []Audience, questions []Question, now time.Time) ([]kernel.Event, error) {
	if s.id != "" {
		return nil, ErrExists
	}
	if err := kernel.Required(id, "survey_id", "测评编号"); err != nil {
		return nil, err
	}
	if err := kernel.Required(title, "title", "测评名称"); err != nil {
		return nil, err
	}
	if len(audience) == 0 {
		return nil, kernel.Invalid("required", "audience", "请填写参加测评的对象")
	}
	for i, a := range audience {
		if !a.Valid() || slices.Index(audience, a) != i {
			return nil, kernel.Invalid("invalid-audience", fmt.Sprintf("audience[%d]", i), "测评对象须为 residents、representatives 或 party-members，且不重复")
		}
	}
	if len(questions) == 0 || len(questions) > MaxQuestions {
		return nil, kernel.Invalid("invalid-questions", "questions", fmt.Sprintf("测评题目须为1—%d个", MaxQuestions))
	}
	seen := map[string]bool{}
	for i, q := range questions {
		field := fmt.Sprintf("questions[%d]", i)
		if err := kernel.Required(q.QuestionID, field+".question_id", "题目编号"); err != nil {
			return nil, err
		}
		if seen[q.QuestionID] {
			return nil, kernel.Invalid("duplicate-question", field+".question_id", "题目编号重复")
		}
		seen[q.QuestionID] = true
		if err := kernel.Required(q.Text, field+".text", "题目"); err != nil {
			return nil, err
		}
		if !q.Scale.Valid() {
			return nil, kernel.Invalid("invalid-scale", field+".scale", "评价方式须为 satisfaction(满意/基本满意/不满意) 或 five-point(1—5分)")
		}
	}
	return []kernel.Event{Opened{SurveyID: id, Title: title, Audience: slices.Clone(audience), Questions: slices.Clone(questions), OpenedAt: now.UTC()}}, nil
}

// Close closes the survey at now with its results: every question tallied once, each with as many counts
// as its scale has answers and no more answers than respondents.
func (s *Survey) Close(respondents int, tallies []Tally, p rulebook.Params, now time.Time) ([]kernel.Event, error) {
	if s.id == "" {
		return nil, ErrNotFound
	}
	if s.closed {
		return nil, ErrClosed
	}
	if respondents < 1 || respondents > 1000000 {
		return nil, kernel.Invalid("invalid-respondents", "respondents", "参加测评人数须为1—1000000")
	}
	byID := map[string]Tally{}
	for i, t := range tallies {
		if _, dup := byID[t.QuestionID]; dup {
			return nil, kernel.Invalid("duplicate-tally", fmt.Sprintf("tallies[%d].question_id", i), "同一题目重复统计")
		}
		byID[t.QuestionID] = t
	}
	out := Closed{SurveyID: s.id, Respondents: respondents, ClosedAt: now.UTC()}
	for _, q := range s.questions {
		t, ok := byID[q.QuestionID]
		if !ok {
			return nil, kernel.Invalid("missing-tally", "tallies", fmt.Sprintf("缺少题目 %s 的统计结果", q.QuestionID))
		}
		delete(byID, q.QuestionID)
		sum := 0
		for _, n := range t.Counts {
			if n < 0 {
				sum = -1
				break
			}
			sum += n
		}
		if len(t.Counts) != q.Scale.Answers() || sum < 0 || sum > respondents {
			return nil, kernel.Invalid("invalid-tally", "tallies", fmt.Sprintf("题目 %s 须有%d项非负票数，合计不超过参加人数", q.QuestionID, q.Scale.Answers()))
		}
		out.Tallies = append(out.Tallies, Tally{QuestionID: q.QuestionID, Counts: slices.Clone(t.Counts)})
	}
	for id := range byID {
		return nil, kernel.Invalid("unknown-question", "tallies", fmt.Sprintf("测评没有题目 %s", id))
	}
	if share, ok := Overall(s.questions, out.Tallies); ok {
		if floor := p.Count(rulebook.Satisfaction, rulebook.ParamYellowBelow); share < floor {
			out.Breaches = []kernel.Breach{{Rule: rulebook.Satisfaction, Detail: fmt.Sprintf("满意度测评满意(含基本满意)率%d.%d%%，低于%d.%d%%",
				share/10, share%10, floor/10, floor%10)}}
		}
	}
	return []kernel.Event{out}, nil
}

// Overall is the survey's satisfied share, per mille of the answers to its satisfaction-scale questions
// (满意 or 基本满意); ok is false when it has none answered.
func Overall(questions []Question, tallies []Tally) (share int, ok bool) {
	scale := map[string]Scale{}
	for _, q := range questions {
		scale[q.QuestionID] = q.Scale
	}
	good, total := 0, 0
	for _, t := range tallies {
		if scale[t.QuestionID] != Satisfaction || len(t.Counts) != 3 {
			continue
		}
		good += t.Counts[0] + t.Counts[1]
		total += t.Counts[0] + t.Counts[1] + t.Counts[2]
	}
	if total == 0 {
		return 0, false
	}
	return good * 1000 / total, true
}

// Satisfied is the share of a satisfaction tally that is 满意 or 基本满意, in per mille of the answers (0
// when none); for a five-point tally, of answers 4 or 5.
func Satisfied(scale Scale, counts []int) int {
	total, good := 0, 0
	for i, n := range counts {
		total += n
		if scale == Satisfaction && i < 2 || scale == FivePoint && i >= 3 {
			good += n
		}
	}
	if total == 0 {
		return 0
	}
	return good * 1000 / total
}
