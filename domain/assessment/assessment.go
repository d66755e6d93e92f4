// Package assessment is the annual assessment with points (年度目标考核加扣分, seed 002): a street or district
// defines the year's items, each with its points and how it is scored — from the ledger's own facts
// (notices published, meetings held, audits concluded, deliberation topics closed, alerts left open or
// cleared late) or by an assessor's recorded score with a reason. A community's score is the rulebook's
// base plus every item's points; the points per fact are rulebook data (annual-assessment), overridable
// per jurisdiction. At year end the result is frozen as an event: a frozen year is what it was then.
//
// Two kinds of stream: the scheme of a jurisdiction's year, assessment-<code>-<year> (assessment.defined),
// and a community's scorecard of the year, scorecard-<communityID>-<year> (assessment.scored,
// assessment.frozen).
package assessment

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// Measure is how an item is scored.
type Measure string

const (
	Disclosures  Measure = "disclosures"   // + per notice published in the year (not withdrawn)
	Meetings     Measure = "meetings"      // + per meeting held in the year with its attendance recorded
	Audits       Measure = "audits"        // + per audit concluded in the year
	TopicsClosed Measure = "topics-closed" // + per deliberation topic closed in the year within topic-within of its collection
	OpenAlerts   Measure = "open-alerts"   // − per alert of the year still open
	LateClears   Measure = "late-clears"   // − per alert of the year cleared later than clear-within
	Assessor     Measure = "assessor"      // an assessor's recorded score, with a reason
)

// Measures lists the measures, in the order the API documents them.
func Measures() []Measure {
	return []Measure{Disclosures, Meetings, Audits, TopicsClosed, OpenAlerts, LateClears, Assessor}
}

// Valid reports whether m is a known measure.
func (m Measure) Valid() bool { return slices.Contains(Measures(), m) }

// Deducts reports whether the measure's facts deduct points.
func (m Measure) Deducts() bool { return m == OpenAlerts || m == LateClears }

// Weight is the annual-assessment parameter that says how many points one fact of the measure is worth
// ("" for the assessor's items).
func (m Measure) Weight() string {
	switch m {
	case Disclosures:
		return rulebook.ParamPerDisclosure
	case Meetings:
		return rulebook.ParamPerMeeting
	case Audits:
		return rulebook.ParamPerAudit
	case TopicsClosed:
		return rulebook.ParamPerTopic
	case OpenAlerts:
		return rulebook.ParamPerOpenAlert
	case LateClears:
		return rulebook.ParamPerLateClear
	}
	return ""
}

// Chinese names the measure for the public.
func (m Measure) Chinese() string {
	switch m {
	case Disclosures:
		return "按时公开"
	case Meetings:
		return "会议召开"
	case Audits:
		return "审计完成"
	case TopicsClosed:
		return "议题办结"
	case OpenAlerts:
		return "预警未消除"
	case LateClears:
		return "预警逾期消除"
	}
	return "考核评分"
}

// Item is one item of a year's assessment: at most Points points, added (or, for the alert measures,
// deducted) at the rulebook's points per fact; an assessor's item scores between -Points and +Points.
type Item struct {
	Code    string  `json:"code"`
	Title   string  `json:"title"`
	Measure Measure `json:"measure"`
	Points  int     `json:"points"`
}

// Defined records the items of a jurisdiction's assessment year.
type Defined struct {
	Jurisdiction kernel.JurisdictionPath `json:"jurisdiction"`
	Year         int                     `json:"year"`
	Items        []Item                  `json:"items"`
	DefinedAt    time.Time               `json:"defined_at"`
}

func (Defined) EventName() string  { return "assessment.defined" }
func (Defined) SchemaVersion() int { return 1 }

// Scored records an assessor's score of one item for a community, with the reason. A later score of the
// same item replaces it.
type Scored struct {
	Year         int                     `json:"year"`
	Jurisdiction kernel.JurisdictionPath `json:"jurisdiction"`
	ItemCode     string                  `json:"item_code"`
	Points       int                     `json:"points"`
	Reason       string                  `json:"reason"`
	Assessor     kernel.PersonID         `json:"assessor"`
	ScoredAt     time.Time               `json:"scored_at"`
}

func (Scored) EventName() string  { return "assessment.scored" }
func (Scored) SchemaVersion() int { return 1 }

// Line is one item's result: the facts counted and the points they gave.
type Line struct {
	Code    string  `json:"code"`
	Title   string  `json:"title"`
	Measure Measure `json:"measure"`
	Facts   int     `json:"facts"`
	Points  int     `json:"points"`
}

// Frozen records a community's year, frozen after it ended: the base, every item's result and the total.
// A total below the pass score carries a breach of annual-assessment.
type Frozen struct {
	kernel.Watch
	Year         int                     `json:"year"`
	Jurisdiction kernel.JurisdictionPath `json:"jurisdiction"`
	Base         int                     `json:"base"`
	Lines        []Line                  `json:"lines"`
	Total        int                     `json:"total"`
	FrozenAt     time.Time               `json:"frozen_at"`
}

func (Frozen) EventName() string  { return "assessment.frozen" }
func (Frozen) SchemaVersion() int { return 1 }

// RegisterEvents adds the package's events to r.
func RegisterEvents(r *kernel.Registry) error {
	return kernel.RegisterAll(r, kernel.Register[Defined], kernel.Register[Scored], kernel.Register[Frozen])
}

// SchemeStream is the stream of the assessment year of the jurisdiction at path.
func SchemeStream(path kernel.JurisdictionPath, year int) string {
	return eventlog.StreamName("assessment", path.Last(), strconv.Itoa(year))
}

// ScorecardStream is the stream of a community's assessment year.
func ScorecardStream(c kernel.CommunityID, year int) string {
	return eventlog.StreamName("scorecard", string(c), strconv.Itoa(year))
}

// Errors of assessments.
var (
	ErrExists       = kernel.Conflict("assessment-already-defined", "该年度考核已制定")
	ErrNotDefined   = kernel.NotFound("assessment-not-defined", "该年度考核尚未制定").WithField("year")
	ErrNotAStreet   = kernel.Invalid("assessment-jurisdiction", "jurisdiction", "年度考核由街道(乡镇)或区(县)制定")
	ErrUnknownItem  = kernel.Invalid("unknown-item", "item_code", "考核没有这一项")
	ErrNotAssessed  = kernel.Invalid("item-not-assessed", "item_code", "这一项按台账事实自动计分，不由考核人员评分")
	ErrFrozen       = kernel.Conflict("assessment-frozen", "该年度考核结果已确定")
	ErrYearNotEnded = kernel.Invalid("year-not-ended", "year", "年度结束后才能确定考核结果")
)

// MaxItems is the most items a year's assessment has; MaxPoints the most points of one item.
const (
	MaxItems  = 50
	MaxPoints = 100
)

// Scheme is a jurisdiction's assessment year. The zero value is one not yet defined.
type Scheme struct {
	defined bool
	year    int
	items   []Item
}

// RehydrateScheme rebuilds a scheme from its history.
func RehydrateScheme(history []kernel.Event) *Scheme { return kernel.Rehydrate(&Scheme{}, history) }

// Apply changes state only.
func (s *Scheme) Apply(e kernel.Event) {
	if d, ok := e.(Defined); ok {
		s.defined, s.year, s.items = true, d.Year, d.Items
	}
}

// Defined reports whether the scheme is defined.
func (s *Scheme) Defined() bool { return s.defined }

// Items returns the scheme's items.
func (s *Scheme) Items() []Item { return slices.Clone(s.items) }

// Item returns the item with code.
func (s *Scheme) Item(code string) (Item, bool) {
	for _, it := range s.items {
		if it.Code == code {
			return it, true
		}
	}
	return Item{}, false
}

// Define defines the year's items of the jurisdiction at path, at now.
func (s *Scheme) Define(path kernel.JurisdictionPath, year int, items []Item, now time.Time) ([]kernel.Event, error) {
	if s.defined {
		return nil, ErrExists
	}
	if d := path.Depth(); d != kernel.LevelStreet && d != kernel.LevelDistrict {
		return nil, ErrNotAStreet
	}
	if year < 2000 || year > 2100 {
		return nil, kernel.Invalid("invalid-year", "year", "年度须为2000—2100")
	}
	if len(items) == 0 || len(items) > MaxItems {
		return nil, kernel.Invalid("invalid-items", "items", fmt.Sprintf("考核项目须为1—%d项", MaxItems))
	}
	seen := map[string]bool{}
	for i, it := range items {
		field := fmt.Sprintf("items[%d]", i)
		if err := kernel.Required(it.Code, field+".code", "项目编号"); err != nil {
			return nil, err
		}
		if seen[it.Code] {
			return nil, kernel.Invalid("duplicate-item", field+".code", "项目编号重复")
		}
		seen[it.Code] = true
		if err := kernel.Required(it.Title, field+".title", "项目名称"); err != nil {
			return nil, err
		}
		if !it.Measure.Valid() {
			return nil, kernel.Invalid("invalid-measure", field+".measure", "计分方式须为 disclosures、meetings、audits、topics-closed、open-alerts、late-clears 或 assessor")
		}
		if it.Points < 1 || it.Points > MaxPoints {
			return nil, kernel.Invalid("invalid-points", field+".points", fmt.Sprintf("分值须为1—%d", MaxPoints))
		}
	}
	return []kernel.Event{Defined{Jurisdiction: path, Year: year, Items: slices.Clone(items), DefinedAt: now.UTC()}}, nil
}

// Scorecard is a community's assessment year. The zero value is one with no score yet.
type Scorecard struct {
	scores map[string]int
	frozen bool
}

// RehydrateScorecard rebuilds a scorecard from its history.
func RehydrateScorecard(history []kernel.Event) *Scorecard {
	return kernel.Rehydrate(&Scorecard{scores: map[string]int{}}, history)
}

// Apply changes state only.
func (c *Scorecard) Apply(e kernel.Event) {
	switch e := e.(type) {
	case Scored:
		if c.scores == nil {
			c.scores = map[string]int{}
		}
		c.scores[e.ItemCode] = e.Points
	case Frozen:
		c.frozen = true
	}
}

// Scores returns the assessors' latest score of each item, by item code.
func (c *Scorecard) Scores() map[string]int {
	out := make(map[string]int, len(c.scores))
	for k, v := range c.scores {
		out[k] = v
	}
	return out
}

// Score records an assessor's score of an item of scheme s for the community, at now.
func (c *Scorecard) Score(path kernel.JurisdictionPath, year int, s *Scheme, code string, points int, reason string, assessor kernel.PersonID, now time.Time) ([]kernel.Event, error) {
	if !s.Defined() {
		return nil, ErrNotDefined
	}
	if c.frozen {
		return nil, ErrFrozen
	}
	it, ok := s.Item(code)
	if !ok {
		return nil, ErrUnknownItem
	}
	if it.Measure != Assessor {
		return nil, ErrNotAssessed
	}
	if points < -it.Points || points > it.Points {
		return nil, kernel.Invalid("invalid-points", "points", fmt.Sprintf("这一项的得分须在-%d—%d之间", it.Points, it.Points))
	}
	if err := kernel.Required(reason, "reason", "评分理由"); err != nil {
		return nil, err
	}
	return []kernel.Event{Scored{Year: year, Jurisdiction: path, ItemCode: code, Points: points, Reason: reason, Assessor: assessor, ScoredAt: now.UTC()}}, nil
}

// Freeze records the community's frozen year at now: facts counts the facts of each measure in the year.
// Only once, and only after the year ended (in China time).
func (c *Scorecard) Freeze(path kernel.JurisdictionPath, year int, s *Scheme, facts map[Measure]int, p rulebook.Params, now time.Time) ([]kernel.Event, error) {
	if !s.Defined() {
		return nil, ErrNotDefined
	}
	if c.frozen {
		return nil, ErrFrozen
	}
	if now.Before(YearEnd(year)) {
		return nil, ErrYearNotEnded
	}
	r := Compute(s.Items(), facts, c.scores, p)
	f := Frozen{Year: year, Jurisdiction: path, Base: r.Base, Lines: r.Lines, Total: r.Total, FrozenAt: now.UTC()}
	if pass := p.Count(rulebook.AnnualAssessment, rulebook.ParamPassScore); r.Total < pass {
		f.Breaches = []kernel.Breach{{Rule: rulebook.AnnualAssessment, Detail: fmt.Sprintf("%d年度考核得分%d，低于合格分%d", year, r.Total, pass)}}
	}
	return []kernel.Event{f}, nil
}

// YearEnd is the instant a year ends in China time.
func YearEnd(year int) time.Time {
	return time.Date(year+1, 1, 1, 0, 0, 0, 0, kernel.ChinaTime()).UTC()
}

// YearStart is the instant a year starts in China time.
func YearStart(year int) time.Time { return YearEnd(year - 1) }

// Result is a community's score: the base, every item's line and the total.
type Result struct {
	Base  int    `json:"base"`
	Lines []Line `json:"lines"`
	Total int    `json:"total"`
}

// Compute scores the items: a fact measure gives its facts times the rulebook's points per fact, capped
// at the item's points (deducted for the alert measures); an assessor's item gives the assessor's latest
// score (0 while unscored). The total is the rulebook's base plus every line.
func Compute(items []Item, facts map[Measure]int, scores map[string]int, p rulebook.Params) Result {
	r := Result{Base: p.Count(rulebook.AnnualAssessment, rulebook.ParamBase), Lines: make([]Line, 0, len(items))}
	r.Total = r.Base
	for _, it := range items {
		l := Line{Code: it.Code, Title: it.Title, Measure: it.Measure}
		if it.Measure == Assessor {
			l.Points = scores[it.Code]
		} else {
			l.Facts = facts[it.Measure]
			l.Points = min(l.Facts*p.Count(rulebook.AnnualAssessment, it.Measure.Weight()), it.Points)
			if it.Measure.Deducts() {
				l.Points = -l.Points
			}
		}
		r.Lines = append(r.Lines, l)
		r.Total += l.Points
	}
	return r
}

// Fact is one fact a measure counts, with the log position of the event that made it (for the link).
type Fact struct {
	Measure  Measure
	What     string
	At       time.Time
	Position uint64
}
