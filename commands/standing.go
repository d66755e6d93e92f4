package commands

import (
	"context"
	"strconv"
	"time"

	"github.com/grassroots-ledger/ledger/domain/assessment"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rating"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// The annual assessment (年度目标考核加扣分) and the rating history (红黄绿 per month and quarter). A street or
// district defines the year's items; its supervisors score the assessor's items; the year is frozen, and
// each period's rating recorded, from what the read models show at that moment (the Standings port) — by
// the standing job of `ledger serve` at the period's end, or by a supervisor.

// Standings is what freezing a year and recording a rating read of the read models.
type Standings interface {
	// AssessmentFacts counts the facts of each measure of the community's year.
	AssessmentFacts(ctx context.Context, c kernel.CommunityID, path kernel.JurisdictionPath, year int) (map[assessment.Measure]int, error)
	// RatingInputs returns what the community's rating combines as it stands now, with the assessment
	// score of year.
	RatingInputs(ctx context.Context, c kernel.CommunityID, path kernel.JurisdictionPath, year int) (rating.Inputs, error)
	// CommunitiesUnder lists the registered communities under path, in path order.
	CommunitiesUnder(ctx context.Context, path kernel.JurisdictionPath) ([]kernel.CommunityID, error)
}

// ErrNoStandings is the error of freeze-assessment and record-rating on a ledger without read models.
var ErrNoStandings = kernel.Rejected("standings-unavailable", "此服务未运行读模型，无法据以评分或评级")

// WithStandings gives the handlers the read models freeze-assessment and record-rating read.
func (h *Handlers) WithStandings(s Standings) *Handlers { h.standings = s; return h }

var (
	scorecards = kind[*assessment.Scorecard]{"year", func(c kernel.CommunityID, year string) string {
		y, _ := strconv.Atoi(year) // the handlers pass strconv.Itoa of the command's year
		return assessment.ScorecardStream(c, y)
	}, assessment.RehydrateScorecard}
	ratings = kind[*rating.History]{"period", func(c kernel.CommunityID, _ string) string { return rating.Stream(c) }, rating.Rehydrate}
)

// AssessmentItem is one item of a year's assessment.
type AssessmentItem struct {
	Code    string             `json:"code" minLength:"1" maxLength:"32" pattern:"^[A-Za-z0-9._-]+$" doc:"Code of the item, e.g. A1"`
	Title   string             `json:"title" minLength:"1" maxLength:"200" doc:"The item, e.g. 村(居)务按时公开"`
	Measure assessment.Measure `json:"measure" doc:"How it is scored: disclosures, meetings, audits, topics-closed (points added per fact), open-alerts, late-clears (deducted per fact), assessor (an assessor's score with a reason)"`
	Points  int                `json:"points" minimum:"1" maximum:"100" doc:"The most points the item adds or deducts"`
}

// DefineAssessment defines a street's or district's assessment year (年度目标考核).
type DefineAssessment struct {
	Jurisdiction string           `json:"jurisdiction" minLength:"1" maxLength:"512" pattern:"^[A-Za-z0-9_]+(/[A-Za-z0-9_]+){0,6}$" doc:"The street's or district's path"`
	Year         int              `json:"year" minimum:"2000" maximum:"2100" doc:"The year assessed"`
	Items        []AssessmentItem `json:"items" minItems:"1" maxItems:"50" doc:"The items; points per fact are the rulebook's (annual-assessment)"`
}

// DefineAssessment handles define-assessment.
func (h *Handlers) DefineAssessment(ctx context.Context, m Meta, c DefineAssessment) (Result, error) {
	path := kernel.JurisdictionPath(c.Jurisdiction)
	return h.x.execute(ctx, m, Inspect, func() (Target, error) {
		if err := checkPath(path, "jurisdiction"); err != nil {
			return Target{}, err
		}
		return Target{Stream: assessment.SchemeStream(path, c.Year), Path: path}, nil
	}, func(history []kernel.Event, now time.Time) ([]kernel.Event, error) {
		if err := h.requireNode(ctx, path, "jurisdiction"); err != nil {
			return nil, err
		}
		items := make([]assessment.Item, len(c.Items))
		for i, it := range c.Items {
			items[i] = assessment.Item{Code: it.Code, Title: it.Title, Measure: it.Measure, Points: it.Points}
		}
		return assessment.RehydrateScheme(history).Define(path, c.Year, items, now)
	})
}

// schemeFor reads the scheme of year that applies at path: its street's, or else its district's.
func (h *Handlers) schemeFor(ctx context.Context, path kernel.JurisdictionPath, year int) (kernel.JurisdictionPath, *assessment.Scheme, error) {
	for p, ok := path.Parent(); ok; p, ok = p.Parent() {
		if d := p.Depth(); d != kernel.LevelStreet && d != kernel.LevelDistrict {
			continue
		}
		history, err := h.x.Load(ctx, assessment.SchemeStream(p, year))
		if err != nil {
			return "", nil, err
		}
		if s := assessment.RehydrateScheme(history); s.Defined() {
			return p, s, nil
		}
	}
	return "", &assessment.Scheme{}, nil
}

// ScoreAssessment records an assessor's score of an item of a community's year, with the reason.
type ScoreAssessment struct {
	CommunityID string `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	Year        int    `json:"year" minimum:"2000" maximum:"2100" doc:"The year assessed"`
	ItemCode    string `json:"item_code" minLength:"1" maxLength:"32" pattern:"^[A-Za-z0-9._-]+$" doc:"An item scored by an assessor"`
	Points      int    `json:"points" minimum:"-100" maximum:"100" doc:"Points added (negative: deducted), within the item's"`
	Reason      string `json:"reason" minLength:"1" maxLength:"2000" doc:"Why (public)"`
}

// ScoreAssessment handles score-assessment.
func (h *Handlers) ScoreAssessment(ctx context.Context, m Meta, c ScoreAssessment) (Result, error) {
	return affairAs(ctx, h, m, Inspect, c.CommunityID, scorecards, strconv.Itoa(c.Year), func(card *assessment.Scorecard, f Facts) ([]kernel.Event, error) {
		at, scheme, err := h.schemeFor(ctx, f.Community.Path(), c.Year)
		if err != nil {
			return nil, err
		}
		return card.Score(at, c.Year, scheme, c.ItemCode, c.Points, c.Reason, kernel.PersonID(m.Actor.Subject), f.Now)
	})
}

// FreezeAssessment freezes a community's year after it ended: the facts as the read models count them
// now, the assessors' scores and the rulebook in force.
type FreezeAssessment struct {
	CommunityID string `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	Year        int    `json:"year" minimum:"2000" maximum:"2100" doc:"The year, ended"`
}

// FreezeAssessment handles freeze-assessment.
func (h *Handlers) FreezeAssessment(ctx context.Context, m Meta, c FreezeAssessment) (Result, error) {
	return affairAs(ctx, h, m, Inspect, c.CommunityID, scorecards, strconv.Itoa(c.Year), ruled(func(card *assessment.Scorecard, f Facts, p rulebook.Params) ([]kernel.Event, error) {
		at, scheme, err := h.schemeFor(ctx, f.Community.Path(), c.Year)
		if err != nil {
			return nil, err
		}
		if !scheme.Defined() {
			return nil, assessment.ErrNotDefined
		}
		if f.Now.Before(assessment.YearEnd(c.Year)) {
			return nil, assessment.ErrYearNotEnded
		}
		if h.standings == nil {
			return nil, ErrNoStandings
		}
		facts, err := h.standings.AssessmentFacts(ctx, f.Community.ID(), f.Community.Path(), c.Year)
		if err != nil {
			return nil, err
		}
		return card.Freeze(at, c.Year, scheme, facts, p, f.Now)
	}))
}

// RecordRating records a community's rating for a period that ended (a month 2026-11 or a quarter
// 2026-Q4), as it stands now.
type RecordRating struct {
	CommunityID string `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	Period      string `json:"period" minLength:"7" maxLength:"7" doc:"A month (2026-11) or a quarter (2026-Q4) that ended"`
}

// RecordRating handles record-rating.
func (h *Handlers) RecordRating(ctx context.Context, m Meta, c RecordRating) (Result, error) {
	return affairAs(ctx, h, m, Inspect, c.CommunityID, ratings, c.Period, ruled(func(hist *rating.History, f Facts, p rulebook.Params) ([]kernel.Event, error) {
		if hist.Has(c.Period) {
			return nil, rating.ErrRecorded
		}
		end, ok := rating.PeriodEnd(c.Period)
		if !ok {
			return nil, rating.ErrInvalidPeriod
		}
		if f.Now.Before(end) {
			return nil, rating.ErrNotEnded
		}
		if h.standings == nil {
			return nil, ErrNoStandings
		}
		in, err := h.standings.RatingInputs(ctx, f.Community.ID(), f.Community.Path(), end.Add(-time.Hour).In(kernel.ChinaTime()).Year())
		if err != nil {
			return nil, err
		}
		return hist.Record(c.Period, in, p, f.Now)
	}))
}
