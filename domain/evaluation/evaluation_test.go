package evaluation_test

import (
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/evaluation"
	"github.com/grassroots-ledger/ledger/domain/internal/domaintest"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

var (
	t0       = time.Date(2026, 6, 20, 2, 0, 0, 0, time.UTC)
	defaults = rulebook.Defaults()
	roster   = []community.Seat{{Person: "p-1", Role: community.Chair, PublicName: "张建国"}, {Person: "p-2", Role: community.Member, PublicName: "李秀英"}}
	held     = evaluation.Held{EvaluationID: "2026-H1", Period: "2026-H1", Evaluators: 40, HeldAt: t0, Results: []evaluation.Result{
		{Person: "p-1", PublicName: "张建国", Role: community.Chair, ReportSHA256: strings.Repeat("d", 64), Competent: 36, Basically: 3, Incompetent: 1},
		{Person: "p-2", PublicName: "李秀英", Role: community.Member, Competent: 30, Basically: 8, Incompetent: 2}}}
)

func TestGoldens(t *testing.T) {
	h := held
	h.Breaches = []kernel.Breach{{Rule: rulebook.CadreIncompetent, Detail: "2026-H1民主评议中，李秀英被15人(共40票)评为不称职"}}
	domaintest.Goldens(t, domaintest.Registry(t, evaluation.RegisterEvents), "testdata", []kernel.Event{h})
}

func hold(f func(*evaluation.Hold)) func(*evaluation.Evaluation) ([]kernel.Event, error) {
	return func(e *evaluation.Evaluation) ([]kernel.Event, error) {
		cmd := evaluation.Hold{EvaluationID: "2026-H1", Period: "2026-H1", Evaluators: 40, Roster: roster, Tallies: []evaluation.Tally{
			{Person: "p-1", ReportSHA256: strings.Repeat("d", 64), Competent: 36, Basically: 3, Incompetent: 1},
			{Person: "p-2", Competent: 30, Basically: 8, Incompetent: 2}}}
		if f != nil {
			f(&cmd)
		}
		return e.Hold(cmd, defaults, t0)
	}
}

func run(t *testing.T, cases []domaintest.Case[*evaluation.Evaluation]) {
	t.Helper()
	domaintest.Run(t, domaintest.Registry(t, evaluation.RegisterEvents), func() *evaluation.Evaluation { return &evaluation.Evaluation{} }, cases)
}

// TestEvaluation: a half year's evaluation of the sitting committee's members, their public names and
// roles taken from the roster; what is not a member, a tally beyond the evaluators, a bad period refused.
func TestEvaluation(t *testing.T) {
	run(t, []domaintest.Case[*evaluation.Evaluation]{
		{Name: "held", When: hold(nil), Then: []kernel.Event{held}},
		{Name: "held twice", Given: []kernel.Event{held}, When: hold(nil), ThenErr: evaluation.ErrExists},
		{Name: "someone not on the committee", When: hold(func(c *evaluation.Hold) { c.Tallies[1].Person = "p-9" }),
			ThenErr: evaluation.ErrNotMember.WithField("results[1].person")},
		{Name: "the same member twice", When: hold(func(c *evaluation.Hold) { c.Tallies[1].Person = "p-1" }),
			ThenErr: kernel.Invalid("duplicate-person", "results[1].person", "")},
		{Name: "more votes than evaluators", When: hold(func(c *evaluation.Hold) { c.Tallies[0].Competent = 40 }),
			ThenErr: kernel.Invalid("invalid-tally", "results[0]", "")},
		{Name: "a period that is no half year", When: hold(func(c *evaluation.Hold) { c.Period = "2026-Q2" }),
			ThenErr: kernel.Invalid("invalid-period", "period", "")},
		{Name: "nobody evaluated", When: hold(func(c *evaluation.Hold) { c.Tallies = nil }), ThenErr: kernel.Invalid("required", "results", "")},
	})
}

// TestRule_CadreIncompetent (watch, red): a member found 不称职 by a third of the evaluations or more
// raises one alert naming every such member; just under a third does not; an override changes the share.
func TestRule_CadreIncompetent(t *testing.T) {
	third := func(incompetent int) func(*evaluation.Hold) {
		return func(c *evaluation.Hold) {
			c.Tallies[1] = evaluation.Tally{Person: "p-2", Competent: 30 - incompetent, Incompetent: incompetent}
		}
	}
	run(t, []domaintest.Case[*evaluation.Evaluation]{
		{Name: "10 of 30", When: hold(third(10)), ThenBreaches: []kernel.RuleID{rulebook.CadreIncompetent}},
		{Name: "9 of 30", When: hold(third(9))},
	})
	evs, err := (&evaluation.Evaluation{}).Hold(evaluation.Hold{EvaluationID: "x", Period: "2026-H2", Evaluators: 30, Roster: roster, Tallies: []evaluation.Tally{
		{Person: "p-1", Competent: 20, Incompetent: 10}, {Person: "p-2", Competent: 15, Incompetent: 15}}}, defaults, t0)
	if err != nil {
		t.Fatal(err)
	}
	b := evs[0].(evaluation.Held).Breaches
	if len(b) != 1 || !strings.Contains(b[0].Detail, "张建国") || !strings.Contains(b[0].Detail, "李秀英") {
		t.Fatalf("one breach naming both: %+v", b)
	}
	p, _ := defaults.With(rulebook.CadreIncompetent, rulebook.ParamIncompetentShare, ">1/2")
	evs, _ = (&evaluation.Evaluation{}).Hold(evaluation.Hold{EvaluationID: "x", Period: "2026-H2", Evaluators: 30, Roster: roster, Tallies: []evaluation.Tally{
		{Person: "p-2", Competent: 15, Incompetent: 15}}}, p, t0)
	if len(evs[0].(evaluation.Held).Breaches) != 0 {
		t.Fatal("half is not more than half")
	}
}
