package workload

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/assessment"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// The annual assessment (年度目标考核加扣分, seed 002): each district defines its year's items in the first
// window of the year (or of the history), scored from the ledger's facts and one item by its assessors;
// in the last window of the year the district's supervisors score that item for every community, with a
// reason. The year is frozen by `ledger serve`'s standing job once it ended (it reads the alerts, which
// the generator does not produce).

// assessmentItems are a district's items of a year.
var assessmentItems = []assessment.Item{
	{Code: "A1", Title: "村(居)务、财务按时公开", Measure: assessment.Disclosures, Points: 20},
	{Code: "A2", Title: "村(居)民会议、代表会议和议事协商会按规定召开", Measure: assessment.Meetings, Points: 10},
	{Code: "A3", Title: "经济责任审计按期完成", Measure: assessment.Audits, Points: 10},
	{Code: "A4", Title: "协商议题按期办结", Measure: assessment.TopicsClosed, Points: 10},
	{Code: "B1", Title: "监督预警未按期消除", Measure: assessment.OpenAlerts, Points: 20},
	{Code: "B2", Title: "监督预警逾期消除", Measure: assessment.LateClears, Points: 10},
	{Code: "C1", Title: "年度重点工作完成情况", Measure: assessment.Assessor, Points: 10},
}

// assessorReasons are what the assessors write, by the sign of their score.
var assessorReasons = map[bool][]string{
	true:  {"垃圾分类和环境整治成效明显", "矛盾纠纷调处及时，群众反映良好", "为民办实事项目按期完成"},
	false: {"重点工作推进滞后", "台账资料不完整", "群众反映问题办理不及时"},
}

// assessments defines each district's year at the first window of a year, and scores the assessors' item
// of every community at the window that ends the year. Between windows no community runs.
func (g *gen) assessments(comms []*comm, from, to time.Time, w *window) error {
	start, end := from.In(cst), to.In(cst).Add(-time.Minute)
	phase := 0
	for _, s := range w.segs {
		phase = max(phase, s.phase+1)
	}
	seen := map[string]bool{}
	for _, c := range comms {
		d := c.district
		if (start.Month() == time.January && start.Day() == 1 || from.Equal(g.plan.start)) && !seen[d.Code] {
			seen[d.Code] = true
			at := from
			evs, err := (&assessment.Scheme{}).Define(d.Path, start.Year(), assessmentItems, at)
			if err != nil {
				return fmt.Errorf("workload: assessment of %s refused: %w", d.Path, err)
			}
			if err := g.supervise(w, d, nil, assessment.SchemeStream(d.Path, start.Year()), fmt.Sprintf("assessment-%d", start.Year()), phase, evs, at); err != nil {
				return err
			}
		}
		if end.Month() != time.December || end.Day() != 31 {
			continue
		}
		year := end.Year()
		scheme := assessment.RehydrateScheme([]kernel.Event{assessment.Defined{Jurisdiction: d.Path, Year: year, Items: assessmentItems}})
		r := rand.New(rand.NewPCG(g.plan.seed, streamKey("assessment/"+string(c.info.ID)+"/"+strconv.Itoa(year))))
		points := r.IntN(11) - 5
		reasons := assessorReasons[points >= 0]
		at := time.Date(year, time.December, 28, 16, 0, 0, 0, cst).UTC()
		evs, err := (&assessment.Scorecard{}).Score(d.Path, year, scheme, "C1", points, reasons[r.IntN(len(reasons))], kernel.PersonID("demo-supervisor-"+d.Code), at)
		if err != nil {
			return fmt.Errorf("workload: assessment score of %s refused: %w", c.info.ID, err)
		}
		if err := g.supervise(w, d, c.info, assessment.ScorecardStream(c.info.ID, year), fmt.Sprintf("score-%s-%d", c.info.ID, year), phase, evs, at); err != nil {
			return err
		}
	}
	return nil
}

// supervise adds a segment of a district supervisor's command on stream (a new one, of community c when
// not nil) to w.
func (g *gen) supervise(w *window, d *District, c *Community, stream, id string, phase int, evs []kernel.Event, at time.Time) error {
	actor := commands.Actor{Subject: "demo-supervisor-" + d.Code, Role: commands.RoleSupervisor, Scope: string(d.Path)}
	m := commands.Meta{CommandID: fmt.Sprintf("demo-%d-%s-%s", g.plan.seed, d.Code, id), Actor: actor}
	t := commands.Target{Stream: stream, Path: d.Path}
	if c != nil {
		t.CommunityID, t.Path = c.ID, c.Path
	}
	envs, err := commands.Envelope(g.reg, m, t, evs, at)
	if err != nil {
		return err
	}
	w.segs = append(w.segs, &segment{stream: stream, phase: phase, expected: eventlog.NoStream(), events: envs, n: len(envs), done: make(chan struct{})})
	g.stats.Commands++
	for _, e := range evs {
		g.stats.ByType[e.EventName()]++
	}
	return nil
}
