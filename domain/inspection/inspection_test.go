package inspection_test

import (
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/inspection"
	"github.com/grassroots-ledger/ledger/domain/internal/domaintest"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

var (
	t0       = time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)
	defaults = rulebook.Defaults()
	found    = []inspection.Finding{{FindingID: "f-1", Severity: inspection.Minor, Text: "村务公开栏未按季度更新"},
		{FindingID: "f-2", Severity: inspection.Major, Text: "议事协商未留存会议记录"}}
	conducted = inspection.Conducted{InspectionID: "2026-r1", Inspectors: "区民政局督查组", Round: "2026年第1轮",
		Methods: []inspection.Method{inspection.SiteVisit, inspection.LedgerReview}, Findings: found, HeldAt: t0}
)

func TestGoldens(t *testing.T) {
	domaintest.Goldens(t, domaintest.Registry(t, inspection.RegisterEvents), "testdata", []kernel.Event{conducted})
}

func conduct(cmd inspection.Conduct) func(*inspection.Inspection) ([]kernel.Event, error) {
	return func(i *inspection.Inspection) ([]kernel.Event, error) { return i.Conduct(cmd, defaults, t0) }
}

func TestInspection(t *testing.T) {
	ok := inspection.Conduct{InspectionID: "2026-r1", Inspectors: "区民政局督查组", Round: "2026年第1轮",
		Methods: []inspection.Method{inspection.SiteVisit, inspection.LedgerReview}, Findings: found}
	with := func(f func(*inspection.Conduct)) inspection.Conduct {
		c := ok
		c.Methods, c.Findings = append([]inspection.Method(nil), ok.Methods...), append([]inspection.Finding(nil), ok.Findings...)
		f(&c)
		return c
	}
	domaintest.Run(t, domaintest.Registry(t, inspection.RegisterEvents), func() *inspection.Inspection { return &inspection.Inspection{} },
		[]domaintest.Case[*inspection.Inspection]{
			{Name: "an inspection with two findings", When: conduct(ok), Then: []kernel.Event{conducted}},
			{Name: "an inspection that found nothing", When: conduct(with(func(c *inspection.Conduct) { c.Findings = nil })),
				ThenNames: []string{"inspection.conducted"}},
			{Name: "recorded twice", Given: []kernel.Event{conducted}, When: conduct(ok), ThenErr: inspection.ErrInspectionExists},
			{Name: "no method", When: conduct(with(func(c *inspection.Conduct) { c.Methods = nil })), ThenErr: kernel.Invalid("required", "methods", "")},
			{Name: "a method twice", When: conduct(with(func(c *inspection.Conduct) { c.Methods[1] = inspection.SiteVisit })),
				ThenErr: kernel.Invalid("invalid-method", "methods[1]", "")},
			{Name: "a finding id twice", When: conduct(with(func(c *inspection.Conduct) { c.Findings[1].FindingID = "f-1" })),
				ThenErr: kernel.Invalid("duplicate-finding", "findings[1].finding_id", "")},
			{Name: "an unknown severity", When: conduct(with(func(c *inspection.Conduct) { c.Findings[0].Severity = "grave" })),
				ThenErr: kernel.Invalid("invalid-severity", "findings[0].severity", "")},
			{Name: "held a week before it was recorded", When: conduct(with(func(c *inspection.Conduct) { c.HeldAt = t0.Add(-7 * 24 * time.Hour) })),
				ThenBreaches: []kernel.RuleID{rulebook.LateRecording}},
		})
	i := inspection.Rehydrate([]kernel.Event{conducted})
	if f, ok := i.Finding("f-2"); !ok || f.Severity != inspection.Major {
		t.Fatalf("finding f-2: %+v %v", f, ok)
	}
	if _, ok := i.Finding("f-9"); ok {
		t.Fatal("a finding never recorded")
	}
}
