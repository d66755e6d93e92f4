package rating_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/internal/domaintest"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rating"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/supervision"
)

func ptr(v int) *int { return &v }

var (
	dec1     = time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC) // 2026-12-01 00:00 China time
	recorded = rating.Recorded{Period: "2026-11", Rating: supervision.Yellow, Inputs: rating.Inputs{OpenYellow: 1, Satisfied: ptr(912), Score: ptr(104)},
		Reasons: []string{"1条黄色预警未消除"}, TakenAt: dec1.Add(time.Minute)}
)

func TestGoldens(t *testing.T) {
	domaintest.Goldens(t, domaintest.Registry(t, rating.RegisterEvents), "testdata", []kernel.Event{recorded})
}

// TestCombine: the rating formula — the worst of the open alerts, the satisfaction band and the score band.
func TestCombine(t *testing.T) {
	p := rulebook.Defaults()
	for _, c := range []struct {
		name string
		in   rating.Inputs
		want supervision.Rating
		why  []string
	}{
		{"nothing", rating.Inputs{}, supervision.Green, nil},
		{"good survey and score", rating.Inputs{Satisfied: ptr(800), Score: ptr(80)}, supervision.Green, nil},
		{"an open yellow alert", rating.Inputs{OpenYellow: 2, Satisfied: ptr(950)}, supervision.Yellow, []string{"2条黄色预警未消除"}},
		{"satisfaction 79.9%", rating.Inputs{Satisfied: ptr(799)}, supervision.Yellow, []string{"满意度79.9%，低于80.0%"}},
		{"satisfaction 59.9%", rating.Inputs{Satisfied: ptr(599)}, supervision.Red, []string{"满意度59.9%，低于60.0%"}},
		{"score 79", rating.Inputs{Score: ptr(79)}, supervision.Yellow, []string{"年度考核得分79，低于80"}},
		{"score 59 with a yellow alert", rating.Inputs{OpenYellow: 1, Score: ptr(59)}, supervision.Red, []string{"1条黄色预警未消除", "年度考核得分59，低于60"}},
		{"a red alert and a low survey", rating.Inputs{OpenRed: 1, Satisfied: ptr(700)}, supervision.Red, []string{"1条红色预警未消除", "满意度70.0%，低于80.0%"}},
	} {
		got, why := rating.Combine(c.in, p)
		if got != c.want || !reflect.DeepEqual(why, c.why) {
			t.Errorf("%s: %s %q, want %s %q", c.name, got, why, c.want, c.why)
		}
	}
	lowered, err := p.With(rulebook.Satisfaction, rulebook.ParamYellowBelow, "700")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := rating.Combine(rating.Inputs{Satisfied: ptr(750)}, lowered); got != supervision.Green {
		t.Errorf("75%% under a band lowered to 70%%: %s, want green", got)
	}
}

// TestHistory: a period's rating recorded once, after the period ended.
func TestHistory(t *testing.T) {
	record := func(period string, now time.Time) func(*rating.History) ([]kernel.Event, error) {
		return func(h *rating.History) ([]kernel.Event, error) {
			return h.Record(period, recorded.Inputs, rulebook.Defaults(), now)
		}
	}
	domaintest.Run(t, domaintest.Registry(t, rating.RegisterEvents), func() *rating.History { return &rating.History{} }, []domaintest.Case[*rating.History]{
		{Name: "November, on 1 December", When: record("2026-11", recorded.TakenAt), Then: []kernel.Event{recorded}},
		{Name: "November twice", Given: []kernel.Event{recorded}, When: record("2026-11", recorded.TakenAt), ThenErr: rating.ErrRecorded},
		{Name: "November, on 30 November", When: record("2026-11", dec1.Add(-time.Minute)), ThenErr: kernel.Invalid("period-not-ended", "period", "")},
		{Name: "the fourth quarter, on 1 December", When: record("2026-Q4", recorded.TakenAt), ThenErr: kernel.Invalid("period-not-ended", "period", "")},
		{Name: "a fifth quarter", When: record("2026-Q5", recorded.TakenAt), ThenErr: kernel.Invalid("invalid-period", "period", "")},
	})
	if m, q := rating.Ended(recorded.TakenAt); m != "2026-11" || q != "2026-Q3" {
		t.Errorf("ended on 1 December: %s %s, want 2026-11 2026-Q3", m, q)
	}
	if m, q := rating.Ended(time.Date(2026, 12, 31, 16, 30, 0, 0, time.UTC)); m != "2026-12" || q != "2026-Q4" {
		t.Errorf("ended on 1 January: %s %s, want 2026-12 2026-Q4", m, q)
	}
}
