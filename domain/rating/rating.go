// Package rating is the red/yellow/green rating of a community per period (红黄绿三色预警, seed 002), kept
// as history: at the end of every month and quarter the ledger records each community's rating as it
// stood, so a past rating is what it was then, not a recomputation. The rating combines the community's
// open alerts, its latest satisfaction survey and its assessment score of the year (Combine).
//
// One stream per community: rating-<communityID>-history.
package rating

import (
	"fmt"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/supervision"
)

// Inputs is what a rating combines.
type Inputs struct {
	OpenRed    int  `json:"open_red"`
	OpenYellow int  `json:"open_yellow"`
	Satisfied  *int `json:"satisfied,omitempty"` // the latest survey's satisfied share, per mille; nil without one
	Score      *int `json:"score,omitempty"`     // the year's assessment score so far; nil without a scheme
}

// Recorded records a community's rating for a period (a month "2026-11" or a quarter "2026-Q4"), as it
// stood when the period ended, with what made it.
type Recorded struct {
	Period  string             `json:"period"`
	Rating  supervision.Rating `json:"rating"`
	Inputs  Inputs             `json:"inputs"`
	Reasons []string           `json:"reasons,omitempty"`
	TakenAt time.Time          `json:"taken_at"`
}

func (Recorded) EventName() string  { return "rating.recorded" }
func (Recorded) SchemaVersion() int { return 1 }

// RegisterEvents adds the package's events to r.
func RegisterEvents(r *kernel.Registry) error {
	return kernel.RegisterAll(r, kernel.Register[Recorded])
}

// Stream is a community's rating history.
func Stream(c kernel.CommunityID) string { return eventlog.StreamName("rating", string(c), "history") }

// Combine is the rating formula: the worst of
//   - the open alerts: red with an open red alert, yellow with an open yellow one;
//   - the latest satisfaction survey: red below satisfaction's red-below (600‰), yellow below its
//     yellow-below (800‰);
//   - the year's assessment score: red below annual-assessment's red-below (60), yellow below its
//     pass-score (80).
//
// A community without a survey or a scheme is rated on what it has. Reasons say, in Chinese, what made a
// rating other than green.
func Combine(in Inputs, p rulebook.Params) (supervision.Rating, []string) {
	r := supervision.Rate(in.OpenRed, in.OpenYellow)
	var reasons []string
	if in.OpenRed > 0 {
		reasons = append(reasons, fmt.Sprintf("%d条红色预警未消除", in.OpenRed))
	}
	if in.OpenYellow > 0 {
		reasons = append(reasons, fmt.Sprintf("%d条黄色预警未消除", in.OpenYellow))
	}
	band := func(v int, red, yellow int, what string) {
		switch {
		case v < red:
			r = supervision.Red
			reasons = append(reasons, fmt.Sprintf("%s%s，低于%s", what, fmtValue(what, v), fmtValue(what, red)))
		case v < yellow:
			if r == supervision.Green {
				r = supervision.Yellow
			}
			reasons = append(reasons, fmt.Sprintf("%s%s，低于%s", what, fmtValue(what, v), fmtValue(what, yellow)))
		}
	}
	if in.Satisfied != nil {
		band(*in.Satisfied, p.Count(rulebook.Satisfaction, rulebook.ParamRedBelow), p.Count(rulebook.Satisfaction, rulebook.ParamYellowBelow), satisfiedLabel)
	}
	if in.Score != nil {
		band(*in.Score, p.Count(rulebook.AnnualAssessment, rulebook.ParamRedBelow), p.Count(rulebook.AnnualAssessment, rulebook.ParamPassScore), scoreLabel)
	}
	return r, reasons
}

// ScoreBand is the colour an assessment score gives by the formula's third part: red below
// annual-assessment's red-below, yellow below its pass-score, green otherwise.
func ScoreBand(score int, p rulebook.Params) supervision.Rating {
	r, _ := Combine(Inputs{Score: &score}, p)
	return r
}

const (
	satisfiedLabel = "满意度"
	scoreLabel     = "年度考核得分"
)

func fmtValue(what string, v int) string {
	if what == satisfiedLabel {
		return fmt.Sprintf("%d.%d%%", v/10, v%10)
	}
	return fmt.Sprint(v)
}

// Month is the month of t in China time, "2026-11".
func Month(t time.Time) string { return t.In(kernel.ChinaTime()).Format("2006-01") }

// Quarter is the quarter of t in China time, "2026-Q4".
func Quarter(t time.Time) string {
	c := t.In(kernel.ChinaTime())
	return fmt.Sprintf("%d-Q%d", c.Year(), (int(c.Month())-1)/3+1)
}

// Ended returns the month and the quarter that last ended before now (China time): the periods whose
// ratings are due.
func Ended(now time.Time) (month, quarter string) {
	c := now.In(kernel.ChinaTime())
	firstOfMonth := time.Date(c.Year(), c.Month(), 1, 0, 0, 0, 0, kernel.ChinaTime())
	month = Month(firstOfMonth.Add(-time.Hour))
	qStart := time.Date(c.Year(), time.Month((int(c.Month())-1)/3*3+1), 1, 0, 0, 0, 0, kernel.ChinaTime())
	return month, Quarter(qStart.Add(-time.Hour))
}

// History is a community's rating history. The zero value has none.
type History struct{ periods map[string]bool }

// Rehydrate rebuilds a history from its events.
func Rehydrate(history []kernel.Event) *History {
	return kernel.Rehydrate(&History{periods: map[string]bool{}}, history)
}

// Apply changes state only.
func (h *History) Apply(e kernel.Event) {
	if r, ok := e.(Recorded); ok {
		if h.periods == nil {
			h.periods = map[string]bool{}
		}
		h.periods[r.Period] = true
	}
}

// Has reports whether the period's rating is recorded.
func (h *History) Has(period string) bool { return h.periods[period] }

// Errors of ratings.
var (
	ErrRecorded      = kernel.Conflict("rating-already-recorded", "该期评级已记录")
	ErrInvalidPeriod = kernel.Invalid("invalid-period", "period", "评级期间须为 2026-11 或 2026-Q4")
	ErrNotEnded      = kernel.Invalid("period-not-ended", "period", "期间结束后才能记录评级")
)

// Record records the period's rating from in under p, at now; once per period, and only after it ended.
func (h *History) Record(period string, in Inputs, p rulebook.Params, now time.Time) ([]kernel.Event, error) {
	if h.Has(period) {
		return nil, ErrRecorded
	}
	end, ok := PeriodEnd(period)
	if !ok {
		return nil, ErrInvalidPeriod
	}
	if now.Before(end) {
		return nil, ErrNotEnded
	}
	r, reasons := Combine(in, p)
	return []kernel.Event{Recorded{Period: period, Rating: r, Inputs: in, Reasons: reasons, TakenAt: now.UTC()}}, nil
}

// PeriodEnd is when a month "2026-11" or a quarter "2026-Q4" ends (China time).
func PeriodEnd(period string) (time.Time, bool) {
	var y, n int
	if _, err := fmt.Sscanf(period, "%d-Q%d", &y, &n); err == nil && n >= 1 && n <= 4 && period == fmt.Sprintf("%d-Q%d", y, n) {
		return time.Date(y, time.Month(n*3+1), 1, 0, 0, 0, 0, kernel.ChinaTime()).UTC(), true
	}
	t, err := time.ParseInLocation("2006-01", period, kernel.ChinaTime())
	if err != nil {
		return time.Time{}, false
	}
	return t.AddDate(0, 1, 0).UTC(), true
}
