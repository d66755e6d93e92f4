package directory

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/grassroots-ledger/ledger/domain/assessment"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rating"
	"github.com/grassroots-ledger/ledger/domain/supervision"
	"github.com/grassroots-ledger/ledger/projections/internal/decode"
	"github.com/grassroots-ledger/ledger/projections/internal/tables"
)

// The annual assessment (年度目标考核加扣分) and the rating history: the year's items, the assessors' latest
// scores (with the reason, never the assessor), each community's frozen years and its rating per period.

var (
	assessmentItemsTable = tables.New("assessment_items", []string{"jurisdiction", "year", "code"}, "nothing",
		"jurisdiction text", "year int4", "code text", "position int4", "title text", "measure text", "points int4", "defined_at timestamptz",
		"event_id uuid", "commit_pos int8")
	assessmentScoresTable = tables.New("assessment_scores", []string{"community_id", "year", "item_code"},
		"points = excluded.points, reason = excluded.reason, scored_at = excluded.scored_at, event_id = excluded.event_id, commit_pos = excluded.commit_pos "+
			"WHERE t.commit_pos < excluded.commit_pos",
		"community_id text", "year int4", "item_code text", "points int4", "reason text", "scored_at timestamptz", "event_id uuid", "commit_pos int8")
	assessmentResultsTable = tables.New("assessment_results", []string{"community_id", "year"}, "nothing",
		"community_id text", "year int4", "jurisdiction text", "base int4", "total int4", "lines jsonb", "frozen_at timestamptz", "event_id uuid", "commit_pos int8")
	ratingHistoryTable = tables.New("rating_history", []string{"community_id", "period"}, "nothing",
		"community_id text", "period text", "rating text", "open_red int4", "open_yellow int4", "satisfied int4", "score int4", "reasons text",
		"taken_at timestamptz", "event_id uuid", "commit_pos int8")
)

func isStanding(p any) bool {
	switch p.(type) {
	case assessment.Defined, assessment.Scored, assessment.Frozen, rating.Recorded:
		return true
	}
	return false
}

func nullInt(p *int) pgtype.Int4 {
	if p == nil {
		return pgtype.Int4{}
	}
	return pgtype.Int4{Int32: int32(*p), Valid: true}
}

// writeStandings folds a batch's assessment and rating events into rows. Within a batch a later score of
// an item replaces an earlier one (the upsert keeps the latest by position).
func writeStandings(w *tables.Writer, evs []decode.Event) error {
	items, scores, results, ratings := assessmentItemsTable.Rows(), assessmentScoresTable.Rows(), assessmentResultsTable.Rows(), ratingHistoryTable.Rows()
	latest := map[string]int{} // community/year/item → index of its row in scores' events
	var scored []decode.Event
	for _, e := range evs {
		src, c := e.Source(), e.Community()
		switch p := e.Payload.(type) {
		case assessment.Defined:
			if p.Jurisdiction.Validate("jurisdiction") != nil || e.Rec.Stream != assessment.SchemeStream(p.Jurisdiction, p.Year) {
				return e.Poison(fmt.Errorf("an assessment of %q in stream %q: %w", p.Jurisdiction, e.Rec.Stream, decode.ErrEnvelope))
			}
			for i, it := range p.Items {
				if err := decode.Int32s(e, it.Points); err != nil {
					return err
				}
				items.Row().Text(string(p.Jurisdiction)).Int4(int32(p.Year)).Text(it.Code).Int4(int32(i)).Text(it.Title).Text(string(it.Measure)).
					Int4(int32(it.Points)).Time(p.DefinedAt).UUID(src.ID).Int8(src.Commit)
			}
		case assessment.Scored:
			if err := checkCommunityStream(e, "scorecard", strconv.Itoa(p.Year)); err != nil {
				return err
			}
			if err := decode.Int32s(e, p.Points); err != nil {
				return err
			}
			key := c + "/" + strconv.Itoa(p.Year) + "/" + p.ItemCode
			if i, dup := latest[key]; dup {
				scored[i] = e
			} else {
				latest[key] = len(scored)
				scored = append(scored, e)
			}
		case assessment.Frozen:
			if err := checkCommunityStream(e, "scorecard", strconv.Itoa(p.Year)); err != nil {
				return err
			}
			if err := decode.Int32s(e, p.Base, p.Total); err != nil {
				return err
			}
			lines, err := json.Marshal(p.Lines)
			if err != nil {
				return e.Poison(err)
			}
			results.Row().Text(c).Int4(int32(p.Year)).Text(string(p.Jurisdiction)).Int4(int32(p.Base)).Int4(int32(p.Total)).Text(string(lines)).
				Time(p.FrozenAt).UUID(src.ID).Int8(src.Commit)
		case rating.Recorded:
			if err := checkCommunityStream(e, "rating", "history"); err != nil {
				return err
			}
			if err := decode.Int32s(e, p.Inputs.OpenRed, p.Inputs.OpenYellow); err != nil {
				return err
			}
			ratings.Row().Text(c).Text(p.Period).Text(string(p.Rating)).Int4(int32(p.Inputs.OpenRed)).Int4(int32(p.Inputs.OpenYellow)).
				NullInt4(nullInt(p.Inputs.Satisfied)).NullInt4(nullInt(p.Inputs.Score)).Text(strings.Join(p.Reasons, "\n")).Time(p.TakenAt).
				UUID(src.ID).Int8(src.Commit)
		}
	}
	for _, e := range scored {
		p, src := e.Payload.(assessment.Scored), e.Source()
		scores.Row().Text(e.Community()).Int4(int32(p.Year)).Text(p.ItemCode).Int4(int32(p.Points)).Text(p.Reason).Time(p.ScoredAt).UUID(src.ID).Int8(src.Commit)
	}
	for _, r := range []*tables.Rows{items, scores, results, ratings} {
		w.Upsert(r)
	}
	return nil
}

// ---- queries --------------------------------------------------------------------------------------------

// Scheme is the assessment year that applies to a community: its street's, or else its district's.
type Scheme struct {
	Jurisdiction kernel.JurisdictionPath
	Year         int
	Items        []assessment.Item
	DefinedAt    time.Time
	Defined      Ref
}

// SchemeFor returns the scheme of year that applies to the community at path: the one of its deepest
// ancestor that defined one; ok is false when none did.
func SchemeFor(ctx context.Context, q Querier, path kernel.JurisdictionPath, year int) (s Scheme, ok bool, err error) {
	var anc []string
	for p := path; ; {
		parent, more := p.Parent()
		if !more {
			break
		}
		anc, p = append(anc, string(parent)), parent
	}
	type row struct {
		j  string
		it assessment.Item
		at time.Time
		r  Ref
	}
	rows, err := tables.Collect(ctx, q, "directory", "assessment scheme of "+string(path), `SELECT jurisdiction, code, title, measure, points, defined_at,
		event_id, commit_pos FROM `+pgx.Identifier{Schema, "assessment_items"}.Sanitize()+` WHERE year = $2 AND jurisdiction = (
			SELECT jurisdiction FROM `+pgx.Identifier{Schema, "assessment_items"}.Sanitize()+` WHERE year = $2 AND jurisdiction = ANY($1)
			ORDER BY length(jurisdiction) DESC LIMIT 1) ORDER BY position`, func(rs pgx.Rows) (row, error) {
		var r row
		var measure string
		var ev pgtype.UUID
		var pos int64
		err := rs.Scan(&r.j, &r.it.Code, &r.it.Title, &measure, &r.it.Points, &r.at, &ev, &pos)
		r.it.Measure, r.r = assessment.Measure(measure), Ref{ev.Bytes, uint64(pos)}
		return r, err
	}, anc, year)
	if err != nil || len(rows) == 0 {
		return Scheme{}, false, err
	}
	s = Scheme{Jurisdiction: kernel.JurisdictionPath(rows[0].j), Year: year, DefinedAt: rows[0].at, Defined: rows[0].r}
	for _, r := range rows {
		s.Items = append(s.Items, r.it)
	}
	return s, true, nil
}

// Schemed returns the paths of the jurisdictions that defined an assessment of year.
func Schemed(ctx context.Context, q Querier, year int) ([]kernel.JurisdictionPath, error) {
	return tables.Collect(ctx, q, "directory", "schemes of "+strconv.Itoa(year), `SELECT DISTINCT jurisdiction FROM `+
		pgx.Identifier{Schema, "assessment_items"}.Sanitize()+` WHERE year = $1 ORDER BY 1`, func(rs pgx.Rows) (kernel.JurisdictionPath, error) {
		var p string
		err := rs.Scan(&p)
		return kernel.JurisdictionPath(p), err
	}, year)
}

// Score is an assessor's latest score of an item.
type Score struct {
	Points   int
	Reason   string
	ScoredAt time.Time
	Source   Ref
}

// Scores returns the assessors' latest scores of a community's year, by item code.
func Scores(ctx context.Context, q Querier, communityID string, year int) (map[string]Score, error) {
	return tables.CollectMap(ctx, q, "directory", "assessment scores of "+communityID, `SELECT item_code, points, reason, scored_at, event_id, commit_pos
		FROM `+pgx.Identifier{Schema, "assessment_scores"}.Sanitize()+` WHERE community_id = $1 AND year = $2`, func(rs pgx.Rows) (string, Score, error) {
		var code string
		var s Score
		var ev pgtype.UUID
		var pos int64
		err := rs.Scan(&code, &s.Points, &s.Reason, &s.ScoredAt, &ev, &pos)
		s.Source = Ref{ev.Bytes, uint64(pos)}
		return code, s, err
	}, communityID, year)
}

// FrozenYear is a community's frozen assessment year.
type FrozenYear struct {
	Year         int
	Jurisdiction kernel.JurisdictionPath
	Base, Total  int
	Lines        []assessment.Line
	FrozenAt     time.Time
	Source       Ref
}

// FrozenYears returns a community's frozen years, the latest first.
func FrozenYears(ctx context.Context, q Querier, communityID string) ([]FrozenYear, error) {
	return tables.Collect(ctx, q, "directory", "frozen assessments of "+communityID, `SELECT year, jurisdiction, base, total, lines, frozen_at, event_id,
		commit_pos FROM `+pgx.Identifier{Schema, "assessment_results"}.Sanitize()+` WHERE community_id = $1 ORDER BY year DESC`, func(rs pgx.Rows) (FrozenYear, error) {
		var f FrozenYear
		var j string
		var lines []byte
		var ev pgtype.UUID
		var pos int64
		if err := rs.Scan(&f.Year, &j, &f.Base, &f.Total, &lines, &f.FrozenAt, &ev, &pos); err != nil {
			return f, err
		}
		f.Jurisdiction, f.Source = kernel.JurisdictionPath(j), Ref{ev.Bytes, uint64(pos)}
		return f, json.Unmarshal(lines, &f.Lines)
	}, communityID)
}

// AuditsConcluded returns the audits of a community concluded in [from, to), as assessment facts.
func AuditsConcluded(ctx context.Context, q Querier, communityID string, from, to time.Time) ([]assessment.Fact, error) {
	return tables.Collect(ctx, q, "directory", "audits concluded by "+communityID, `SELECT audit_id, closed_at, closed_commit_pos
		FROM `+pgx.Identifier{Schema, "audits"}.Sanitize()+` WHERE community_id = $1 AND closed_at >= $2 AND closed_at < $3 ORDER BY closed_at, audit_id`,
		func(rs pgx.Rows) (assessment.Fact, error) {
			f := assessment.Fact{Measure: assessment.Audits}
			var id string
			var pos int64
			err := rs.Scan(&id, &f.At, &pos)
			f.What, f.Position = "审计 "+id, uint64(pos)
			return f, err
		}, communityID, from, to)
}

// RatingEntry is one period's recorded rating of a community.
type RatingEntry struct {
	CommunityID string
	Period      string
	Rating      supervision.Rating
	Inputs      rating.Inputs
	Reasons     []string
	TakenAt     time.Time
	Source      Ref
}

func scanRatingEntry(rs pgx.Rows) (RatingEntry, error) {
	var r RatingEntry
	var rt, reasons string
	var sat, score pgtype.Int4
	var ev pgtype.UUID
	var pos int64
	err := rs.Scan(&r.CommunityID, &r.Period, &rt, &r.Inputs.OpenRed, &r.Inputs.OpenYellow, &sat, &score, &reasons, &r.TakenAt, &ev, &pos)
	r.Rating, r.Source = supervision.Rating(rt), Ref{ev.Bytes, uint64(pos)}
	if sat.Valid {
		v := int(sat.Int32)
		r.Inputs.Satisfied = &v
	}
	if score.Valid {
		v := int(score.Int32)
		r.Inputs.Score = &v
	}
	if reasons != "" {
		r.Reasons = strings.Split(reasons, "\n")
	}
	return r, err
}

const ratingColumns = `community_id, period, rating, open_red, open_yellow, satisfied, score, reasons, taken_at, event_id, commit_pos`

// RatingHistory returns a community's recorded ratings, the latest period first (months and quarters).
func RatingHistory(ctx context.Context, q Querier, communityID string) ([]RatingEntry, error) {
	return tables.Collect(ctx, q, "directory", "rating history of "+communityID, `SELECT `+ratingColumns+` FROM `+
		pgx.Identifier{Schema, "rating_history"}.Sanitize()+` WHERE community_id = $1 ORDER BY taken_at DESC, period DESC`, scanRatingEntry, communityID)
}

// RatingsUnder returns the recorded ratings of every community under path, by community name then period.
func RatingsUnder(ctx context.Context, q Querier, path string) ([]RatingEntry, error) {
	return tables.Collect(ctx, q, "directory", "ratings under "+path, `SELECT r.community_id, r.period, r.rating, r.open_red, r.open_yellow,
		r.satisfied, r.score, r.reasons, r.taken_at, r.event_id, r.commit_pos FROM `+pgx.Identifier{Schema, "rating_history"}.Sanitize()+` r
		JOIN `+pgx.Identifier{Schema, "communities"}.Sanitize()+` c USING (community_id) WHERE c.path LIKE $1 ORDER BY c.name, r.community_id, r.period`,
		scanRatingEntry, path+"/%")
}

// StandingFingerprint changes whenever a community's assessment or rating history does.
func StandingFingerprint(ctx context.Context, q Querier, id string) (string, error) {
	marks, err := tables.Collect(ctx, q, "directory", "standing fingerprint of "+id, `SELECT
		(SELECT count(*) || '.' || coalesce(max(commit_pos), 0) FROM `+pgx.Identifier{Schema, "assessment_scores"}.Sanitize()+` WHERE community_id = $1)
		|| '/' || (SELECT count(*) || '.' || coalesce(max(commit_pos), 0) FROM `+pgx.Identifier{Schema, "assessment_results"}.Sanitize()+` WHERE community_id = $1)
		|| '/' || (SELECT count(*) || '.' || coalesce(max(commit_pos), 0) FROM `+pgx.Identifier{Schema, "rating_history"}.Sanitize()+` WHERE community_id = $1)
		|| '/' || (SELECT count(*) || '.' || coalesce(max(commit_pos), 0) FROM `+pgx.Identifier{Schema, "assessment_items"}.Sanitize()+`)`,
		tables.One[string], id)
	if err != nil || len(marks) == 0 {
		return "", err
	}
	return marks[0], nil
}

// LatestSatisfied returns the satisfied share (per mille, 满意 or 基本满意 over its satisfaction-scale
// questions) of the community's latest closed survey; ok is false when it has none with such answers.
func LatestSatisfied(ctx context.Context, q Querier, communityID string) (share int, ok bool, err error) {
	shares, err := tables.Collect(ctx, q, "directory", "latest satisfaction of "+communityID, `WITH s AS (
			SELECT survey_id FROM `+pgx.Identifier{Schema, "survey_results"}.Sanitize()+` WHERE community_id = $1 ORDER BY closed_at DESC, survey_id DESC LIMIT 1)
		SELECT sum(split_part(t.counts, ',', 1)::int + split_part(t.counts, ',', 2)::int) * 1000 /
			nullif(sum(split_part(t.counts, ',', 1)::int + split_part(t.counts, ',', 2)::int + split_part(t.counts, ',', 3)::int), 0)
		FROM s JOIN `+pgx.Identifier{Schema, "survey_tallies"}.Sanitize()+` t ON t.community_id = $1 AND t.survey_id = s.survey_id
		JOIN `+pgx.Identifier{Schema, "survey_questions"}.Sanitize()+` q ON q.community_id = $1 AND q.survey_id = s.survey_id AND q.question_id = t.question_id
		WHERE q.scale = 'satisfaction'`, tables.One[pgtype.Int8], communityID)
	if err != nil || len(shares) == 0 || !shares[0].Valid {
		return 0, false, err
	}
	return int(shares[0].Int64), true, nil
}

// Rated returns the communities whose rating for period is recorded.
func Rated(ctx context.Context, q Querier, period string) (map[string]bool, error) {
	return communitySet(ctx, q, "rated for "+period, "rating_history", "period", period)
}

// Frozen returns the communities whose assessment year is frozen.
func Frozen(ctx context.Context, q Querier, year int) (map[string]bool, error) {
	return communitySet(ctx, q, "frozen for "+strconv.Itoa(year), "assessment_results", "year", year)
}

// communitySet is the set of communities with a row in table whose column equals value.
func communitySet(ctx context.Context, q Querier, what, table, column string, value any) (map[string]bool, error) {
	ids, err := tables.Collect(ctx, q, "directory", what, `SELECT community_id FROM `+pgx.Identifier{Schema, table}.Sanitize()+
		` WHERE `+pgx.Identifier{column}.Sanitize()+` = $1`, tables.One[string], value)
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, err
}

// RecordedRatingsByStreet counts, per street (the first four segments of the path), the communities by
// the rating recorded for the latest month any community has one for; that month is returned too.
func RecordedRatingsByStreet(ctx context.Context, q Querier) (month string, counts map[string]map[supervision.Rating]int, err error) {
	type row struct {
		month, street, rating string
		n                     int
	}
	rows, err := tables.Collect(ctx, q, "directory", "recorded ratings by district", `WITH m AS (
			SELECT max(period) AS period FROM `+pgx.Identifier{Schema, "rating_history"}.Sanitize()+` WHERE period NOT LIKE '%Q%')
		SELECT m.period, substring(c.path from '^[^/]+/[^/]+/[^/]+/[^/]+'), r.rating, count(*) FROM m
		JOIN `+pgx.Identifier{Schema, "rating_history"}.Sanitize()+` r ON r.period = m.period
		JOIN `+pgx.Identifier{Schema, "communities"}.Sanitize()+` c USING (community_id) GROUP BY 1, 2, 3`, func(rs pgx.Rows) (row, error) {
		var r row
		return r, rs.Scan(&r.month, &r.street, &r.rating, &r.n)
	})
	counts = map[string]map[supervision.Rating]int{}
	for _, r := range rows {
		month = r.month
		if counts[r.street] == nil {
			counts[r.street] = map[supervision.Rating]int{}
		}
		counts[r.street][supervision.Rating(r.rating)] = r.n
	}
	return month, counts, err
}
