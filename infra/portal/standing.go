package portal

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/grassroots-ledger/ledger/domain/assessment"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/projections/directory"
	"github.com/grassroots-ledger/ledger/projections/standing"
)

// A community's annual assessment (年度目标考核加扣分: this year's score as it stands, every point explained
// by the facts that gave it, and the frozen years) and its rating history (红黄绿 per month and quarter, as
// recorded when each period ended); and a street's or district's table of ratings by period.

// Standing is a community's assessment and rating history.
type Standing struct {
	CommunityID   string           `json:"community_id"`
	CommunityName string           `json:"community_name"`
	Current       *AssessmentInfo  `json:"current,omitempty" doc:"This year's assessment as it stands; absent when no street or district defined one"`
	Frozen        []AssessmentInfo `json:"frozen" doc:"The frozen years, the latest first"`
	Ratings       []RatingInfo     `json:"ratings" doc:"The recorded ratings, the latest first"`
	RatingsHref   string           `json:"ratings_href" doc:"The street's table of ratings"`
}

// AssessmentInfo is one year's assessment.
type AssessmentInfo struct {
	Year         int        `json:"year"`
	Jurisdiction string     `json:"jurisdiction" doc:"Who defined it"`
	Base         int        `json:"base"`
	Total        int        `json:"total"`
	PassScore    int        `json:"pass_score,omitempty"`
	Band         string     `json:"band,omitempty" doc:"This year's: green, yellow (below the pass score) or red (below red-below)"`
	Lines        []LineInfo `json:"lines"`
	FrozenAt     *time.Time `json:"frozen_at,omitempty"`
	Source       *Source    `json:"source,omitempty"`
}

// LineInfo is one item's result, with the facts that gave its points.
type LineInfo struct {
	Code        string     `json:"code"`
	Title       string     `json:"title"`
	MeasureName string     `json:"measure_name"`
	Facts       int        `json:"facts"`
	Points      int        `json:"points"`
	Signed      string     `json:"signed" doc:"The points as +3 or -2"`
	Reason      string     `json:"reason,omitempty" doc:"An assessor's reason"`
	Evidence    []FactInfo `json:"evidence,omitempty" doc:"Each fact counted (this year's only), linked to its event"`
}

// FactInfo is one fact counted.
type FactInfo struct {
	What string    `json:"what"`
	At   time.Time `json:"at"`
	Href string    `json:"href"`
}

// RatingInfo is one period's recorded rating.
type RatingInfo struct {
	Period     string    `json:"period"`
	PeriodName string    `json:"period_name"`
	Rating     string    `json:"rating"`
	RatingName string    `json:"rating_name"`
	Reasons    []string  `json:"reasons"`
	Satisfied  string    `json:"satisfied,omitempty"`
	Score      *int      `json:"score,omitempty"`
	OpenRed    int       `json:"open_red"`
	OpenYellow int       `json:"open_yellow"`
	TakenAt    time.Time `json:"taken_at"`
	Source     *Source   `json:"source"`
}

func signed(n int) string {
	if n > 0 {
		return "+" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

func ratingPeriodName(p string) string {
	if len(p) == 7 && p[5] == 'Q' {
		return p[:4] + "年第" + p[6:] + "季度"
	}
	if len(p) == 7 {
		m, _ := strconv.Atoi(p[5:])
		return p[:4] + "年" + strconv.Itoa(m) + "月"
	}
	return p
}

func lineInfos(lines []assessment.Line) []LineInfo {
	out := make([]LineInfo, len(lines))
	for i, l := range lines {
		out[i] = LineInfo{Code: l.Code, Title: Redact(l.Title), MeasureName: l.Measure.Chinese(), Facts: l.Facts, Points: l.Points, Signed: signed(l.Points)}
	}
	return out
}

func (p *Portal) loadStanding(ctx context.Context, id string) (Standing, error) {
	c, err := directory.CommunityByID(ctx, p.db, id)
	if err != nil {
		return Standing{}, err
	}
	out := Standing{CommunityID: id, CommunityName: c.Name, Frozen: []AssessmentInfo{}, Ratings: []RatingInfo{}}
	if parent, ok := kernel.JurisdictionPath(c.Path).Parent(); ok {
		out.RatingsHref = "/ratings/" + string(parent)
	}
	year := p.cfg.Now().In(kernel.ChinaTime()).Year()
	a, ok, err := standing.Assess(ctx, p.db, kernel.CommunityID(id), kernel.JurisdictionPath(c.Path), year)
	if err != nil {
		return Standing{}, err
	}
	if ok {
		names, err := directory.Names(ctx, p.db, []string{string(a.Scheme.Jurisdiction)})
		if err != nil {
			return Standing{}, err
		}
		cur := AssessmentInfo{Year: year, Jurisdiction: names[string(a.Scheme.Jurisdiction)], Base: a.Result.Base, Total: a.Result.Total,
			PassScore: a.PassScore, Band: string(a.Band), Lines: lineInfos(a.Result.Lines)}
		for i, l := range a.Result.Lines {
			if l.Measure == assessment.Assessor {
				if s, ok := a.Scores[l.Code]; ok {
					cur.Lines[i].Reason = Redact(s.Reason)
					cur.Lines[i].Evidence = []FactInfo{{What: "评分：" + Redact(s.Reason), At: local(s.ScoredAt), Href: eventHref(s.Source.Commit)}}
				}
				continue
			}
			for _, f := range a.Facts {
				if f.Measure == l.Measure {
					cur.Lines[i].Evidence = append(cur.Lines[i].Evidence, FactInfo{What: Redact(f.What), At: local(f.At), Href: eventHref(f.Position)})
				}
			}
		}
		out.Current = &cur
	}
	frozen, err := directory.FrozenYears(ctx, p.db, id)
	if err != nil {
		return Standing{}, err
	}
	for _, f := range frozen {
		names, err := directory.Names(ctx, p.db, []string{string(f.Jurisdiction)})
		if err != nil {
			return Standing{}, err
		}
		at := local(f.FrozenAt)
		out.Frozen = append(out.Frozen, AssessmentInfo{Year: f.Year, Jurisdiction: names[string(f.Jurisdiction)], Base: f.Base, Total: f.Total,
			Lines: lineInfos(f.Lines), FrozenAt: &at, Source: src(f.Source.EventID.String(), f.Source.Commit)})
	}
	hist, err := directory.RatingHistory(ctx, p.db, id)
	if err != nil {
		return Standing{}, err
	}
	for _, r := range hist {
		out.Ratings = append(out.Ratings, ratingInfo(r))
	}
	return out, nil
}

func ratingInfo(r directory.RatingEntry) RatingInfo {
	ri := RatingInfo{Period: r.Period, PeriodName: ratingPeriodName(r.Period), Rating: string(r.Rating), RatingName: label(ratingLabels, string(r.Rating)),
		Reasons: r.Reasons, Score: r.Inputs.Score, OpenRed: r.Inputs.OpenRed, OpenYellow: r.Inputs.OpenYellow, TakenAt: local(r.TakenAt),
		Source: src(r.Source.EventID.String(), r.Source.Commit)}
	if ri.Reasons == nil {
		ri.Reasons = []string{}
	}
	if s := r.Inputs.Satisfied; s != nil {
		ri.Satisfied = fmt.Sprintf("%d.%d%%", *s/10, *s%10)
	}
	return ri
}

// standingPage is GET /c/{id}/assessment.
func (p *Portal) standingPage(w http.ResponseWriter, r *http.Request) {
	p.registerPage(w, r, "年度考核与评级", "standing-page", func(ctx context.Context, id string) (any, error) { return p.loadStanding(ctx, id) })
}

// RatingTable is the ratings by period of the communities under a street or district.
type RatingTable struct {
	Jurisdiction string       `json:"jurisdiction"`
	Name         string       `json:"name"`
	Periods      []string     `json:"periods" doc:"The columns: months, then quarters, the latest first"`
	PeriodNames  []string     `json:"period_names"`
	Rows         []RatingsRow `json:"rows"`
}

// RatingsRow is one community's ratings by period.
type RatingsRow struct {
	CommunityID   string `json:"community_id"`
	CommunityName string `json:"community_name"`
	Href          string `json:"href"`
	// Cells holds the rating of each period of the table's, "" where none was recorded.
	Cells []RatingCell `json:"cells"`
}

// RatingCell is one period's rating in the table.
type RatingCell struct {
	Rating     string `json:"rating"`
	RatingName string `json:"rating_name"`
}

func (p *Portal) loadRatingTable(ctx context.Context, path string) (RatingTable, error) {
	jp := kernel.JurisdictionPath(path)
	if jp.Validate("jurisdiction") != nil || jp.Depth() != kernel.LevelDistrict && jp.Depth() != kernel.LevelStreet {
		return RatingTable{}, errNotFound
	}
	names, err := directory.Names(ctx, p.db, []string{path})
	if err != nil {
		return RatingTable{}, err
	}
	if names[path] == "" {
		return RatingTable{}, errNotFound
	}
	entries, err := directory.RatingsUnder(ctx, p.db, path)
	if err != nil {
		return RatingTable{}, err
	}
	cns, err := directory.CommunitiesUnder(ctx, p.db, path, "", 1000)
	if err != nil {
		return RatingTable{}, err
	}
	var months, quarters []string
	for _, e := range entries {
		list := &months
		if strings.Contains(e.Period, "Q") {
			list = &quarters
		}
		if !slices.Contains(*list, e.Period) {
			*list = append(*list, e.Period)
		}
	}
	slices.Sort(months)
	slices.Reverse(months)
	slices.Sort(quarters)
	slices.Reverse(quarters)
	periods := append(months[:min(len(months), 12)], quarters[:min(len(quarters), 8)]...)
	out := RatingTable{Jurisdiction: path, Name: names[path], Periods: periods, PeriodNames: make([]string, len(periods)), Rows: []RatingsRow{}}
	col := map[string]int{}
	for i, pr := range periods {
		out.PeriodNames[i], col[pr] = ratingPeriodName(pr), i
	}
	row := map[string]int{}
	for _, c := range cns {
		row[c.ID] = len(out.Rows)
		out.Rows = append(out.Rows, RatingsRow{CommunityID: c.ID, CommunityName: c.Name, Href: communityHref(c.ID) + "/assessment", Cells: make([]RatingCell, len(periods))})
	}
	for _, e := range entries {
		i, ok1 := row[e.CommunityID]
		j, ok2 := col[e.Period]
		if ok1 && ok2 {
			out.Rows[i].Cells[j] = RatingCell{Rating: string(e.Rating), RatingName: label(ratingLabels, string(e.Rating))}
		}
	}
	return out, nil
}

// ratingTablePage is GET /ratings/{path...}.
func (p *Portal) ratingTablePage(w http.ResponseWriter, r *http.Request) {
	p.nodePage(w, r, "评级", "ratings-page", func(ctx context.Context, path string) (any, string, string, error) {
		t, err := p.loadRatingTable(ctx, path)
		return t, t.Name, t.Jurisdiction, err
	})
}

type ratingsIn struct {
	ConditionalParams
	Jurisdiction string `query:"jurisdiction" maxLength:"64" doc:"The street's or district's path, e.g. 33/3303/330303"`
}

// registerStandingAPI registers the JSON; op makes a public GET operation (registerAPI's).
func (p *Portal) registerStandingAPI(api huma.API, op func(id, path, summary, desc string, body reflect.Type) huma.Operation) {
	p.registerRegisterAPI(api, op("public-assessment", "/communities/{id}/assessment", "A community's annual assessment and rating history (年度考核, 评级)",
		"This year's assessment as it stands — every item's points with the facts that gave them, each linked to its event — the frozen years, "+
			"and the red/yellow/green rating recorded at the end of every month and quarter with what made it.",
		reflect.TypeFor[Standing]()), "assessment", func(ctx context.Context, _ directory.Querier, _ string) (string, error) {
		s := p.snapshot(ctx)
		return s.FreshnessText(), nil
	}, func(ctx context.Context, id string) (any, error) { return p.loadStanding(ctx, id) })
	registerNodeAPI(p, api, op("public-ratings", "/ratings", "A street's or district's ratings by period (评级)",
		"The rating of every community under the street or district for each month and quarter recorded, as it stood when the period ended.",
		reflect.TypeFor[RatingTable]()), "ratings", "没有这个街道(乡镇)或区(县)", "jurisdiction",
		func(in *ratingsIn) (ConditionalParams, string) { return in.ConditionalParams, in.Jurisdiction },
		func(ctx context.Context, path string) (any, error) { return p.loadRatingTable(ctx, path) })
}
