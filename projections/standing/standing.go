// Package standing reads a community's standing across the read models: its annual assessment as the year
// goes (the scheme from the directory, the facts from the board, the meetings, the directory's audits and
// the alerts, the rulebook in force) and what its rating combines (open alerts, the latest satisfaction
// survey, the year's score). It writes nothing: every statement is its model's.
package standing

import (
	"context"
	"github.com/grassroots-ledger/ledger/domain/supervision"

	"github.com/grassroots-ledger/ledger/domain/assessment"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rating"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/projections/board"
	"github.com/grassroots-ledger/ledger/projections/directory"
	"github.com/grassroots-ledger/ledger/projections/meetings"
	alerts "github.com/grassroots-ledger/ledger/projections/supervision"
)

// Querier is a connection or pool on the database holding the read models.
type Querier = alerts.Querier

// Assessment is a community's assessment year as it stands.
type Assessment struct {
	Year   int
	Scheme directory.Scheme
	// Facts are the facts counted, every measure's in order of time.
	Facts  []assessment.Fact
	Scores map[string]directory.Score
	Result assessment.Result
	// PassScore is the rulebook's pass score in force for the community; Band the colour the total gives
	// (rating.ScoreBand); params the rulebook in force, for BandOf.
	PassScore int
	Band      supervision.Rating
	params    rulebook.Params
}

// Assess returns the community's year as it stands; ok is false when no scheme applies to it.
func Assess(ctx context.Context, q Querier, c kernel.CommunityID, path kernel.JurisdictionPath, year int) (a Assessment, ok bool, err error) {
	scheme, ok, err := directory.SchemeFor(ctx, q, path, year)
	if err != nil || !ok {
		return Assessment{}, false, err
	}
	p, err := alerts.ParamsAt(ctx, q, path)
	if err != nil {
		return Assessment{}, false, err
	}
	facts, err := Facts(ctx, q, c, year, p)
	if err != nil {
		return Assessment{}, false, err
	}
	scores, err := directory.Scores(ctx, q, string(c), year)
	if err != nil {
		return Assessment{}, false, err
	}
	byCode := make(map[string]int, len(scores))
	for code, s := range scores {
		byCode[code] = s.Points
	}
	r := assessment.Compute(scheme.Items, Count(facts), byCode, p)
	return Assessment{Year: year, Scheme: scheme, Facts: facts, Scores: scores, Result: r, PassScore: p.Count(rulebook.AnnualAssessment, rulebook.ParamPassScore),
		Band: rating.ScoreBand(r.Total, p), params: p}, true, nil
}

// BandOf is the colour another total of the year (a frozen one) gives under the same rulebook.
func (a Assessment) BandOf(total int) supervision.Rating { return rating.ScoreBand(total, a.params) }

// Facts returns every fact of the community's year that an assessment measure counts.
func Facts(ctx context.Context, q Querier, c kernel.CommunityID, year int, p rulebook.Params) ([]assessment.Fact, error) {
	from, to := assessment.YearStart(year), assessment.YearEnd(year)
	var out []assessment.Fact
	for _, read := range []func() ([]assessment.Fact, error){
		func() ([]assessment.Fact, error) { return board.NoticesPublished(ctx, q, string(c), from, to) },
		func() ([]assessment.Fact, error) {
			return meetings.AssessmentFacts(ctx, q, string(c), from, to, p.Span(rulebook.AnnualAssessment, rulebook.ParamTopicWithin))
		},
		func() ([]assessment.Fact, error) { return directory.AuditsConcluded(ctx, q, string(c), from, to) },
		func() ([]assessment.Fact, error) {
			return alerts.AssessmentFacts(ctx, q, c, from, to, p.Span(rulebook.AnnualAssessment, rulebook.ParamClearWithin))
		},
	} {
		fs, err := read()
		if err != nil {
			return nil, err
		}
		out = append(out, fs...)
	}
	return out, nil
}

// Count counts facts by measure.
func Count(facts []assessment.Fact) map[assessment.Measure]int {
	out := map[assessment.Measure]int{}
	for _, f := range facts {
		out[f.Measure]++
	}
	return out
}

// Inputs returns what the community's rating combines as it stands: its open alerts, its latest closed
// survey's satisfied share, and its assessment score of year so far (when a scheme applies).
func Inputs(ctx context.Context, q Querier, c kernel.CommunityID, path kernel.JurisdictionPath, year int) (rating.Inputs, error) {
	r, err := alerts.RatingOf(ctx, q, c)
	if err != nil {
		return rating.Inputs{}, err
	}
	in := rating.Inputs{OpenRed: r.OpenRed, OpenYellow: r.OpenYellow}
	if share, ok, err := directory.LatestSatisfied(ctx, q, string(c)); err != nil {
		return rating.Inputs{}, err
	} else if ok {
		in.Satisfied = &share
	}
	a, ok, err := Assess(ctx, q, c, path, year)
	if err != nil {
		return rating.Inputs{}, err
	}
	if ok {
		in.Score = &a.Result.Total
	}
	return in, nil
}

// Reader is the command side's Standings port on the read models.
type Reader struct{ Q Querier }

// AssessmentFacts implements commands.Standings.
func (r Reader) AssessmentFacts(ctx context.Context, c kernel.CommunityID, path kernel.JurisdictionPath, year int) (map[assessment.Measure]int, error) {
	p, err := alerts.ParamsAt(ctx, r.Q, path)
	if err != nil {
		return nil, err
	}
	facts, err := Facts(ctx, r.Q, c, year, p)
	return Count(facts), err
}

// RatingInputs implements commands.Standings.
func (r Reader) RatingInputs(ctx context.Context, c kernel.CommunityID, path kernel.JurisdictionPath, year int) (rating.Inputs, error) {
	return Inputs(ctx, r.Q, c, path, year)
}

// CommunitiesUnder implements commands.Standings.
func (r Reader) CommunitiesUnder(ctx context.Context, path kernel.JurisdictionPath) ([]kernel.CommunityID, error) {
	var out []kernel.CommunityID
	err := directory.EachCommunity(ctx, r.Q, string(path), func(c directory.Community) error {
		out = append(out, kernel.CommunityID(c.ID))
		return nil
	})
	return out, err
}
