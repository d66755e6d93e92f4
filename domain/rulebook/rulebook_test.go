package rulebook_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/internal/domaintest"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

var t0 = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)

const (
	province  kernel.JurisdictionPath = "33"
	district  kernel.JurisdictionPath = "33/3303/330303"
	street    kernel.JurisdictionPath = "33/3303/330303/330303001"
	community kernel.JurisdictionPath = "33/3303/330303/330303001/330303001001"
)

func samples() []kernel.Event {
	return []kernel.Event{
		rulebook.OverrideSet{Jurisdiction: district, Rule: rulebook.MajorMatterResolution, Param: rulebook.ParamThreshold,
			Value: "3000000", Reason: "区民政局文件：重大开支标准调整为3万元", By: "p-admin", SetAt: t0},
		rulebook.OverrideRemoved{Jurisdiction: district, Rule: rulebook.MajorMatterResolution, Param: rulebook.ParamThreshold,
			Reason: "恢复默认标准", By: "p-admin", RemovedAt: t0.Add(time.Hour)},
	}
}

func TestGoldens(t *testing.T) {
	domaintest.Goldens(t, domaintest.Registry(t, rulebook.RegisterEvents), "testdata", samples())
}

func TestDefaultsMatchDomainTable(t *testing.T) {
	p := rulebook.Defaults()
	if got := p.Span(rulebook.CandidateResidence, rulebook.ParamMinResidence); got != (rulebook.Span{Years: 1}) {
		t.Errorf("residence %v", got)
	}
	if got := p.Span(rulebook.CandidateListPublicity, rulebook.ParamMinPublicity); got != (rulebook.Span{Days: 7}) {
		t.Errorf("publicity %v", got)
	}
	if p.MajorThreshold() != kernel.Yuan(50000) || !p.IsMajor(kernel.Yuan(50000)) || p.IsMajor(kernel.Yuan(50000)-1) {
		t.Errorf("major threshold %v", p.MajorThreshold())
	}
	for rule, want := range map[kernel.RuleID]time.Duration{
		rulebook.MinutesKept: 48 * time.Hour, rulebook.PaymentDisclosed: 24 * time.Hour,
		rulebook.ResultsDisclosed: 24 * time.Hour, rulebook.DisclosureFrequency: 24 * time.Hour,
	} {
		if got := p.Due(rule, t0).Sub(t0); got != want {
			t.Errorf("%s due after %v, want %v", rule, got, want)
		}
	}
	if got := p.Due(rulebook.CadreAudit, t0); !got.Equal(t0.AddDate(0, 6, 0)) {
		t.Errorf("audit due %v", got)
	}
	for households, want := range map[int]kernel.Fen{1999: kernel.Yuan(40000), 2000: kernel.Yuan(50000), 3000: kernel.Yuan(50000), 3001: kernel.Yuan(60000)} {
		if got := p.OperatingFundsRequired(households); got != want {
			t.Errorf("operating funds for %d households: %v, want %v", households, got, want)
		}
	}
	if p.Count(rulebook.ResidentsMeetingFrequency, rulebook.ParamPerYear) != 2 {
		t.Error("two residents' meetings a year")
	}
	// Red: unauthorised major spending (and splitting a major expenditure to evade a resolution), an
	// invalid election, a seal used without approval, and a cadre found 不称职 by a third of the evaluations (the
	// issue's "red alert").
	reds := map[kernel.RuleID]bool{rulebook.MajorMatterResolution: true, rulebook.ElectionValidity: true, rulebook.SplitSpending: true,
		rulebook.SealUse: true, rulebook.CadreIncompetent: true}
	for _, r := range rulebook.Rules() {
		want := rulebook.Yellow
		if reds[r.ID] {
			want = rulebook.Red
		}
		if got := p.Severity(r.ID); got != want {
			t.Errorf("%s severity %s, want %s", r.ID, got, want)
		}
	}
}

func TestMissingDisclosureTurnsRedAfterSevenDays(t *testing.T) {
	p := rulebook.Defaults()
	due := t0
	if got := p.SeverityAt(rulebook.PaymentDisclosed, due, due.Add(6*24*time.Hour)); got != rulebook.Yellow {
		t.Errorf("six days late: %s", got)
	}
	if got := p.SeverityAt(rulebook.PaymentDisclosed, due, due.Add(7*24*time.Hour)); got != rulebook.Red {
		t.Errorf("seven days late: %s", got)
	}
	if got := p.SeverityAt(rulebook.MinutesKept, due, due.Add(30*24*time.Hour)); got != rulebook.Yellow {
		t.Errorf("minutes have no red-after: %s", got)
	}
}

func TestMostSpecificOverrideWins(t *testing.T) {
	rb := rulebook.New()
	for _, e := range []kernel.Event{
		rulebook.OverrideSet{Jurisdiction: province, Rule: rulebook.MajorMatterResolution, Param: rulebook.ParamThreshold, Value: "8000000"},
		rulebook.OverrideSet{Jurisdiction: street, Rule: rulebook.MajorMatterResolution, Param: rulebook.ParamThreshold, Value: "3000000"},
		rulebook.OverrideSet{Jurisdiction: district, Rule: rulebook.MajorMatterResolution, Param: rulebook.ParamThreshold, Value: "6000000"},
		rulebook.OverrideSet{Jurisdiction: district, Rule: rulebook.MinutesKept, Param: rulebook.ParamWithin, Value: "72h"},
	} {
		rb.Apply(e)
	}
	if got := rb.For(community).MajorThreshold(); got != kernel.Yuan(30000) {
		t.Errorf("community under the street: %v", got)
	}
	if got := rb.For(district).MajorThreshold(); got != kernel.Yuan(60000) {
		t.Errorf("district: %v", got)
	}
	if got := rb.For("33/3301").MajorThreshold(); got != kernel.Yuan(80000) {
		t.Errorf("another city of the province: %v", got)
	}
	if got := rb.For("44").MajorThreshold(); got != kernel.Yuan(50000) {
		t.Errorf("another province: %v", got)
	}
	if got := rb.For(community).Due(rulebook.MinutesKept, t0).Sub(t0); got != 72*time.Hour {
		t.Errorf("inherited minutes override: %v", got)
	}
	rb.Apply(rulebook.OverrideRemoved{Jurisdiction: street, Rule: rulebook.MajorMatterResolution, Param: rulebook.ParamThreshold})
	if got := rb.For(community).MajorThreshold(); got != kernel.Yuan(60000) {
		t.Errorf("after the street's override is removed: %v", got)
	}
}

func TestSpanAndThreshold(t *testing.T) {
	for s, want := range map[string]rulebook.Span{"1y": {Years: 1}, "6mo": {Months: 6}, "7d": {Days: 7}, "48h": {Hours: 48}, "1y6mo": {Years: 1, Months: 6}} {
		got, err := rulebook.ParseSpan(s)
		if err != nil || got != want || got.String() != s {
			t.Errorf("ParseSpan(%q) = %v %v", s, got, err)
		}
	}
	for _, s := range []string{"", "0d", "7", "d", "7w", "1d1d", "-1d", "9999999d"} {
		if _, err := rulebook.ParseSpan(s); err == nil {
			t.Errorf("ParseSpan(%q) succeeded", s)
		}
	}
	half, _ := rulebook.ParseThreshold(">1/2")
	twoThirds, _ := rulebook.ParseThreshold(">=2/3")
	if half.Met(50, 100) || !half.Met(51, 100) || !twoThirds.Met(2, 3) || twoThirds.Met(65, 100) {
		t.Error("threshold arithmetic")
	}
	for _, s := range []string{"1/2", ">0/2", ">3/2", ">=1", ">a/b", ">1/0"} {
		if _, err := rulebook.ParseThreshold(s); err == nil {
			t.Errorf("ParseThreshold(%q) succeeded", s)
		}
	}
}

func TestOverrides(t *testing.T) {
	set := rulebook.OverrideSet{Jurisdiction: district, Rule: rulebook.CandidateListPublicity, Param: rulebook.ParamMinPublicity,
		Value: "10d", Reason: "市级规定", By: "p-admin", SetAt: t0}
	domaintest.Run(t, domaintest.Registry(t, rulebook.RegisterEvents), func() *rulebook.Overrides { return &rulebook.Overrides{} },
		[]domaintest.Case[*rulebook.Overrides]{
			{
				Name: "set a parameter",
				When: func(o *rulebook.Overrides) ([]kernel.Event, error) {
					return o.Set(rulebook.SetOverride{Jurisdiction: district, Rule: rulebook.CandidateListPublicity,
						Param: rulebook.ParamMinPublicity, Value: "10d", Reason: "市级规定", By: "p-admin"}, t0)
				},
				Then: []kernel.Event{set},
			},
			{
				Name:  "setting the value in force again yields nothing",
				Given: []kernel.Event{set},
				When: func(o *rulebook.Overrides) ([]kernel.Event, error) {
					return o.Set(rulebook.SetOverride{Jurisdiction: district, Rule: rulebook.CandidateListPublicity,
						Param: rulebook.ParamMinPublicity, Value: "10d", Reason: "重复", By: "p-admin"}, t0)
				},
				Then: []kernel.Event{},
			},
			{
				Name: "unknown rule is invalid and named",
				When: func(o *rulebook.Overrides) ([]kernel.Event, error) {
					return o.Set(rulebook.SetOverride{Jurisdiction: district, Rule: "no-such-rule", Param: "x", Value: "1", Reason: "r"}, t0)
				},
				ThenErr: rulebook.ErrUnknownRule,
			},
			{
				Name: "unknown parameter",
				When: func(o *rulebook.Overrides) ([]kernel.Event, error) {
					return o.Set(rulebook.SetOverride{Jurisdiction: district, Rule: rulebook.MinutesKept, Param: "nope", Value: "1d", Reason: "r"}, t0)
				},
				ThenErr: rulebook.ErrUnknownParam,
			},
			{
				Name: "bad value",
				When: func(o *rulebook.Overrides) ([]kernel.Event, error) {
					return o.Set(rulebook.SetOverride{Jurisdiction: district, Rule: rulebook.MajorMatterResolution, Param: rulebook.ParamThreshold, Value: "5万", Reason: "r"}, t0)
				},
				ThenErr: rulebook.ErrInvalidValue,
			},
			{
				Name:  "another jurisdiction's stream",
				Given: []kernel.Event{set},
				When: func(o *rulebook.Overrides) ([]kernel.Event, error) {
					return o.Set(rulebook.SetOverride{Jurisdiction: street, Rule: rulebook.MinutesKept, Param: rulebook.ParamWithin, Value: "24h", Reason: "r"}, t0)
				},
				ThenErr: rulebook.ErrJurisdictionMismatch,
			},
			{
				Name:  "remove",
				Given: []kernel.Event{set},
				When: func(o *rulebook.Overrides) ([]kernel.Event, error) {
					return o.Remove(district, rulebook.CandidateListPublicity, rulebook.ParamMinPublicity, "恢复", "p-admin", t0)
				},
				ThenNames: []string{"rulebook.override-removed"},
			},
			{
				Name: "remove what is not overridden",
				When: func(o *rulebook.Overrides) ([]kernel.Event, error) {
					return o.Remove(district, rulebook.CandidateListPublicity, rulebook.ParamMinPublicity, "恢复", "p-admin", t0)
				},
				ThenErr: rulebook.ErrOverrideNotFound,
			},
		})
}

func TestUnknownRuleErrorNamesTheRule(t *testing.T) {
	_, err := rulebook.Validate("no-such-rule", "x", "1")
	var de kernel.Error
	if !errors.As(err, &de) || de.Kind != kernel.KindInvalid || de.Field != "rule" || !strings.Contains(de.Msg, "no-such-rule") {
		t.Fatalf("%#v", de)
	}
}

func TestCommitteeSizeFor(t *testing.T) {
	p := rulebook.Defaults()
	for _, c := range []struct {
		kind               kernel.CommunityKind
		households, adults int
		lo, hi             int
	}{
		{kernel.Urban, 1500, 4000, 5, 7},
		{kernel.Urban, 3500, 9000, 6, 7}, // suggests 7, one short is tolerated
		{kernel.Rural, 300, 999, 3, 3},
		{kernel.Rural, 400, 1000, 5, 5},
	} {
		lo, hi := p.CommitteeSizeFor(c.kind, c.households, c.adults)
		if lo != c.lo || hi != c.hi {
			t.Errorf("%+v: got %d—%d", c, lo, hi)
		}
	}
}

func TestEveryRuleHasSeverityFirst(t *testing.T) {
	seen := map[kernel.RuleID]bool{}
	for _, r := range rulebook.Rules() {
		if seen[r.ID] {
			t.Errorf("%s twice", r.ID)
		}
		seen[r.ID] = true
		if len(r.Params) == 0 || r.Params[0].Name != rulebook.ParamSeverity || r.Title == "" {
			t.Errorf("%s: %+v", r.ID, r)
		}
		for _, p := range r.Params {
			if _, err := rulebook.Validate(r.ID, p.Name, p.Default); err != nil {
				t.Errorf("%s/%s default %q: %v", r.ID, p.Name, p.Default, err)
			}
		}
	}
}

func TestZeroRulebookIsUsable(t *testing.T) {
	var rb rulebook.Rulebook
	rb.Apply(rulebook.OverrideRemoved{Jurisdiction: district, Rule: rulebook.MinutesKept, Param: rulebook.ParamWithin})
	rb.Apply(rulebook.OverrideSet{Jurisdiction: district, Rule: rulebook.MinutesKept, Param: rulebook.ParamWithin, Value: "24h"})
	if got := rb.For(community).Due(rulebook.MinutesKept, t0).Sub(t0); got != 24*time.Hour {
		t.Fatal(got)
	}
	var p rulebook.Params
	if p.MajorThreshold() != kernel.Yuan(50000) {
		t.Fatal("zero Params are the defaults")
	}
}
