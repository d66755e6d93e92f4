package assessment_test

import (
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/assessment"
	"github.com/grassroots-ledger/ledger/domain/internal/domaintest"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

var (
	t0     = time.Date(2026, 1, 5, 2, 0, 0, 0, time.UTC)
	street = kernel.JurisdictionPath("33/3303/330303/330303001")
	items  = []assessment.Item{
		{Code: "A1", Title: "村(居)务按时公开", Measure: assessment.Disclosures, Points: 20},
		{Code: "A2", Title: "会议按规定召开", Measure: assessment.Meetings, Points: 10},
		{Code: "A3", Title: "审计", Measure: assessment.Audits, Points: 10},
		{Code: "A4", Title: "议题办结", Measure: assessment.TopicsClosed, Points: 10},
		{Code: "B1", Title: "预警未消除", Measure: assessment.OpenAlerts, Points: 20},
		{Code: "B2", Title: "预警逾期消除", Measure: assessment.LateClears, Points: 10},
		{Code: "C1", Title: "重点工作", Measure: assessment.Assessor, Points: 10},
	}
	defined = assessment.Defined{Jurisdiction: street, Year: 2026, Items: items, DefinedAt: t0}
	scored  = assessment.Scored{Year: 2026, Jurisdiction: street, ItemCode: "C1", Points: -4, Reason: "垃圾分类工作推进滞后", Assessor: "p-assessor",
		ScoredAt: t0.Add(200 * 24 * time.Hour)}
	yearEnd = time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC) // 2027-01-01 00:00 China time
	facts   = map[assessment.Measure]int{assessment.Disclosures: 14, assessment.Meetings: 12, assessment.Audits: 1, assessment.TopicsClosed: 3,
		assessment.OpenAlerts: 4, assessment.LateClears: 2}
	// 100 + 14 + 10 (12, capped) + 5 + 6 - 8 - 2 - 4 = 121
	frozen = assessment.Frozen{Year: 2026, Jurisdiction: street, Base: 100, Total: 121, FrozenAt: yearEnd, Lines: []assessment.Line{
		{Code: "A1", Title: "村(居)务按时公开", Measure: assessment.Disclosures, Facts: 14, Points: 14},
		{Code: "A2", Title: "会议按规定召开", Measure: assessment.Meetings, Facts: 12, Points: 10},
		{Code: "A3", Title: "审计", Measure: assessment.Audits, Facts: 1, Points: 5},
		{Code: "A4", Title: "议题办结", Measure: assessment.TopicsClosed, Facts: 3, Points: 6},
		{Code: "B1", Title: "预警未消除", Measure: assessment.OpenAlerts, Facts: 4, Points: -8},
		{Code: "B2", Title: "预警逾期消除", Measure: assessment.LateClears, Facts: 2, Points: -2},
		{Code: "C1", Title: "重点工作", Measure: assessment.Assessor, Points: -4},
	}}
)

func registry(t *testing.T) *kernel.Registry {
	return domaintest.Registry(t, assessment.RegisterEvents)
}

func TestGoldens(t *testing.T) {
	domaintest.Goldens(t, registry(t), "testdata", []kernel.Event{defined, scored, frozen})
}

// TestScheme: a street's or district's year defined once, with valid items.
func TestScheme(t *testing.T) {
	define := func(path kernel.JurisdictionPath, year int, its ...assessment.Item) func(*assessment.Scheme) ([]kernel.Event, error) {
		return func(s *assessment.Scheme) ([]kernel.Event, error) { return s.Define(path, year, its, t0) }
	}
	domaintest.Run(t, registry(t), func() *assessment.Scheme { return &assessment.Scheme{} }, []domaintest.Case[*assessment.Scheme]{
		{Name: "a street's year", When: define(street, 2026, items...), Then: []kernel.Event{defined}},
		{Name: "twice", Given: []kernel.Event{defined}, When: define(street, 2026, items...), ThenErr: assessment.ErrExists},
		{Name: "by a community", When: define(street+"/330303001001", 2026, items...), ThenErr: assessment.ErrNotAStreet},
		{Name: "no items", When: define(street, 2026), ThenErr: kernel.Invalid("invalid-items", "items", "")},
		{Name: "a code twice", When: define(street, 2026, items[0], items[0]), ThenErr: kernel.Invalid("duplicate-item", "items[1].code", "")},
		{Name: "an unknown measure", When: define(street, 2026, assessment.Item{Code: "X", Title: "x", Measure: "likes", Points: 5}),
			ThenErr: kernel.Invalid("invalid-measure", "items[0].measure", "")},
		{Name: "101 points", When: define(street, 2026, assessment.Item{Code: "X", Title: "x", Measure: assessment.Meetings, Points: 101}),
			ThenErr: kernel.Invalid("invalid-points", "items[0].points", "")},
		{Name: "year 1999", When: define(street, 1999, items...), ThenErr: kernel.Invalid("invalid-year", "year", "")},
	})
}

// TestScorecard: an assessor scores only the assessor's items, within their points and with a reason; the
// year is frozen once, after it ended, with every item's line.
func TestScorecard(t *testing.T) {
	scheme := assessment.RehydrateScheme([]kernel.Event{defined})
	score := func(code string, points int, reason string) func(*assessment.Scorecard) ([]kernel.Event, error) {
		return func(c *assessment.Scorecard) ([]kernel.Event, error) {
			return c.Score(street, 2026, scheme, code, points, reason, "p-assessor", scored.ScoredAt)
		}
	}
	freeze := func(s *assessment.Scheme, now time.Time) func(*assessment.Scorecard) ([]kernel.Event, error) {
		return func(c *assessment.Scorecard) ([]kernel.Event, error) {
			return c.Freeze(street, 2026, s, facts, rulebook.Defaults(), now)
		}
	}
	domaintest.Run(t, registry(t), func() *assessment.Scorecard { return &assessment.Scorecard{} }, []domaintest.Case[*assessment.Scorecard]{
		{Name: "an assessor's score", When: score("C1", -4, scored.Reason), Then: []kernel.Event{scored}},
		{Name: "a fact item", When: score("A1", 3, "x"), ThenErr: assessment.ErrNotAssessed},
		{Name: "an unknown item", When: score("Z9", 3, "x"), ThenErr: assessment.ErrUnknownItem},
		{Name: "over its points", When: score("C1", 11, "x"), ThenErr: kernel.Invalid("invalid-points", "points", "")},
		{Name: "without a reason", When: score("C1", 2, ""), ThenErr: kernel.Invalid("required", "reason", "")},
		{Name: "frozen at year end", Given: []kernel.Event{scored}, When: freeze(scheme, yearEnd), Then: []kernel.Event{frozen}},
		{Name: "frozen before the year ended", When: freeze(scheme, yearEnd.Add(-time.Second)), ThenErr: assessment.ErrYearNotEnded},
		{Name: "frozen twice", Given: []kernel.Event{scored, frozen}, When: freeze(scheme, yearEnd), ThenErr: assessment.ErrFrozen},
		{Name: "scored once frozen", Given: []kernel.Event{frozen}, When: score("C1", 1, "x"), ThenErr: assessment.ErrFrozen},
		{Name: "without a scheme", When: freeze(&assessment.Scheme{}, yearEnd), ThenErr: assessment.ErrNotDefined},
	})
}

// TestRule_AnnualAssessment: a year frozen below the pass score breaks annual-assessment; the points per
// fact and the pass score are the jurisdiction's rulebook.
func TestRule_AnnualAssessment(t *testing.T) {
	scheme := assessment.RehydrateScheme([]kernel.Event{defined})
	bad := map[assessment.Measure]int{assessment.OpenAlerts: 12, assessment.LateClears: 10} // 100 - 20 - 10 = 70
	stricter, err := rulebook.Defaults().With(rulebook.AnnualAssessment, rulebook.ParamPassScore, "130")
	if err != nil {
		t.Fatal(err)
	}
	generous, err := rulebook.Defaults().With(rulebook.AnnualAssessment, rulebook.ParamPerOpenAlert, "1")
	if err != nil {
		t.Fatal(err)
	}
	freeze := func(f map[assessment.Measure]int, p rulebook.Params) func(*assessment.Scorecard) ([]kernel.Event, error) {
		return func(c *assessment.Scorecard) ([]kernel.Event, error) {
			return c.Freeze(street, 2026, scheme, f, p, yearEnd)
		}
	}
	domaintest.Run(t, registry(t), func() *assessment.Scorecard { return &assessment.Scorecard{} }, []domaintest.Case[*assessment.Scorecard]{
		{Name: "70 points", When: freeze(bad, rulebook.Defaults()), ThenBreaches: []kernel.RuleID{rulebook.AnnualAssessment}},
		{Name: "125 points (unscored)", When: freeze(facts, rulebook.Defaults())},
		{Name: "125 points (unscored) under a pass score of 130", When: freeze(facts, stricter), ThenBreaches: []kernel.RuleID{rulebook.AnnualAssessment}},
		{Name: "an open alert worth 1 point: 100 - 12 - 10 = 78, still below 80", When: freeze(bad, generous), ThenBreaches: []kernel.RuleID{rulebook.AnnualAssessment}},
	})
	if r := assessment.Compute(items, bad, nil, generous); r.Total != 78 {
		t.Fatalf("total %d, want 78", r.Total)
	}
}
