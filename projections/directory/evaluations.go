package directory

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/evaluation"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/survey"
	"github.com/grassroots-ledger/ledger/projections/internal/decode"
	"github.com/grassroots-ledger/ledger/projections/internal/tables"
)

// Satisfaction surveys and democratic evaluations as the public sees them: tallies only. Every row is
// written once by the event that makes it.

var (
	surveysTable = tables.New("surveys", []string{"community_id", "survey_id"}, "nothing",
		"community_id text", "survey_id text", "title text", "audience text", "opened_at timestamptz", "event_id uuid", "commit_pos int8")
	questionsTable = tables.New("survey_questions", []string{"community_id", "survey_id", "question_id"}, "nothing",
		"community_id text", "survey_id text", "question_id text", "position int4", "text text", "scale text")
	surveyResultsTable = tables.New("survey_results", []string{"community_id", "survey_id"}, "nothing",
		"community_id text", "survey_id text", "respondents int4", "closed_at timestamptz", "event_id uuid", "commit_pos int8")
	talliesTable = tables.New("survey_tallies", []string{"community_id", "survey_id", "question_id"}, "nothing",
		"community_id text", "survey_id text", "question_id text", "counts text")
	evaluationsTable = tables.New("evaluations", []string{"community_id", "evaluation_id"}, "nothing",
		"community_id text", "evaluation_id text", "period text", "evaluators int4", "held_at timestamptz", "event_id uuid", "commit_pos int8")
	evaluationResultsTable = tables.New("evaluation_results", []string{"community_id", "evaluation_id", "position"}, "nothing",
		"community_id text", "evaluation_id text", "position int4", "person_id text", "public_name text", "role text", "report_sha256 text",
		"competent int4", "basically int4", "incompetent int4")
)

func isEvaluation(p any) bool {
	switch p.(type) {
	case survey.Opened, survey.Closed, evaluation.Held:
		return true
	}
	return false
}

// writeEvaluations folds a batch's survey and evaluation events into rows.
func writeEvaluations(w *tables.Writer, evs []decode.Event) error {
	if len(evs) == 0 {
		return nil
	}
	svs, qs, res, tls, ens, ers := surveysTable.Rows(), questionsTable.Rows(), surveyResultsTable.Rows(), talliesTable.Rows(),
		evaluationsTable.Rows(), evaluationResultsTable.Rows()
	for _, e := range evs {
		src, c := e.Source(), e.Community()
		switch p := e.Payload.(type) {
		case survey.Opened:
			if err := checkCommunityStream(e, "survey", p.SurveyID); err != nil {
				return err
			}
			aud := make([]string, len(p.Audience))
			for i, a := range p.Audience {
				aud[i] = string(a)
			}
			svs.Row().Text(c).Text(p.SurveyID).Text(p.Title).Text(strings.Join(aud, ",")).Time(p.OpenedAt).UUID(src.ID).Int8(src.Commit)
			for i, q := range p.Questions {
				qs.Row().Text(c).Text(p.SurveyID).Text(q.QuestionID).Int4(int32(i)).Text(q.Text).Text(string(q.Scale))
			}
		case survey.Closed:
			if err := checkCommunityStream(e, "survey", p.SurveyID); err != nil {
				return err
			}
			if err := decode.Int32s(e, p.Respondents); err != nil {
				return err
			}
			res.Row().Text(c).Text(p.SurveyID).Int4(int32(p.Respondents)).Time(p.ClosedAt).UUID(src.ID).Int8(src.Commit)
			for _, t := range p.Tallies {
				counts := make([]string, len(t.Counts))
				for i, n := range t.Counts {
					counts[i] = strconv.Itoa(n)
				}
				tls.Row().Text(c).Text(p.SurveyID).Text(t.QuestionID).Text(strings.Join(counts, ","))
			}
		case evaluation.Held:
			if err := checkCommunityStream(e, "evaluation", p.EvaluationID); err != nil {
				return err
			}
			if err := decode.Int32s(e, p.Evaluators); err != nil {
				return err
			}
			ens.Row().Text(c).Text(p.EvaluationID).Text(p.Period).Int4(int32(p.Evaluators)).Time(p.HeldAt).UUID(src.ID).Int8(src.Commit)
			for i, r := range p.Results {
				if err := decode.Int32s(e, r.Competent, r.Basically, r.Incompetent); err != nil {
					return err
				}
				ers.Row().Text(c).Text(p.EvaluationID).Int4(int32(i)).Text(string(r.Person)).NullText(tables.Text(r.PublicName)).Text(string(r.Role)).
					NullText(tables.Text(r.ReportSHA256)).Int4(int32(r.Competent)).Int4(int32(r.Basically)).Int4(int32(r.Incompetent))
			}
		}
	}
	for _, r := range []*tables.Rows{svs, qs, res, tls, ens, ers} {
		w.Upsert(r)
	}
	return nil
}

// ---- queries --------------------------------------------------------------------------------------------

// Survey is one survey of a community with, once closed, its results.
type Survey struct {
	SurveyID  string
	Title     string
	Audience  []survey.Audience
	OpenedAt  time.Time
	Opened    Ref
	Questions []Question
	// Closed is set once the survey closed, with the respondents.
	Closed      *time.Time
	Respondents int
	Result      *Ref
}

// Question is one question of a survey and its tally (nil before the survey closed).
type Question struct {
	QuestionID string
	Text       string
	Scale      survey.Scale
	Counts     []int
}

// Surveys returns a community's surveys, the latest first.
func Surveys(ctx context.Context, q Querier, communityID string) ([]Survey, error) {
	type qrow struct {
		survey string
		q      Question
	}
	qrows, err := tables.Collect(ctx, q, "directory", "survey questions of "+communityID, `SELECT q.survey_id, q.question_id, q.text, q.scale,
		t.counts FROM `+pgx.Identifier{Schema, "survey_questions"}.Sanitize()+` q LEFT JOIN `+pgx.Identifier{Schema, "survey_tallies"}.Sanitize()+` t
		USING (community_id, survey_id, question_id) WHERE q.community_id = $1 ORDER BY q.survey_id, q.position`, func(rs pgx.Rows) (qrow, error) {
		var r qrow
		var scale string
		var counts pgtype.Text
		err := rs.Scan(&r.survey, &r.q.QuestionID, &r.q.Text, &scale, &counts)
		r.q.Scale = survey.Scale(scale)
		if counts.Valid {
			for _, s := range strings.Split(counts.String, ",") {
				n, _ := strconv.Atoi(s)
				r.q.Counts = append(r.q.Counts, n)
			}
		}
		return r, err
	}, communityID)
	if err != nil {
		return nil, err
	}
	questions := map[string][]Question{}
	for _, r := range qrows {
		questions[r.survey] = append(questions[r.survey], r.q)
	}
	return tables.Collect(ctx, q, "directory", "surveys of "+communityID, `SELECT s.survey_id, s.title, s.audience, s.opened_at, s.event_id,
		s.commit_pos, r.closed_at, coalesce(r.respondents, 0), r.event_id, r.commit_pos FROM `+pgx.Identifier{Schema, "surveys"}.Sanitize()+` s
		LEFT JOIN `+pgx.Identifier{Schema, "survey_results"}.Sanitize()+` r USING (community_id, survey_id)
		WHERE s.community_id = $1 ORDER BY s.opened_at DESC, s.survey_id DESC`, func(rs pgx.Rows) (Survey, error) {
		var s Survey
		var aud string
		var ev, rev pgtype.UUID
		var pos int64
		var closed pgtype.Timestamptz
		var rpos pgtype.Int8
		err := rs.Scan(&s.SurveyID, &s.Title, &aud, &s.OpenedAt, &ev, &pos, &closed, &s.Respondents, &rev, &rpos)
		for _, a := range strings.Split(aud, ",") {
			s.Audience = append(s.Audience, survey.Audience(a))
		}
		s.Opened, s.Questions = Ref{ev.Bytes, uint64(pos)}, questions[s.SurveyID]
		if closed.Valid {
			at := closed.Time
			s.Closed, s.Result = &at, &Ref{rev.Bytes, uint64(rpos.Int64)}
		}
		return s, err
	}, communityID)
}

// Evaluation is one half year's democratic evaluation of a community's committee.
type Evaluation struct {
	EvaluationID string
	Period       string
	Evaluators   int
	HeldAt       time.Time
	Results      []evaluation.Result
	EventID      eventlog.ID
	Commit       uint64
}

// Evaluations returns a community's democratic evaluations, the latest first.
func Evaluations(ctx context.Context, q Querier, communityID string) ([]Evaluation, error) {
	type rrow struct {
		id string
		r  evaluation.Result
	}
	rrows, err := tables.Collect(ctx, q, "directory", "evaluation results of "+communityID, `SELECT evaluation_id, person_id, coalesce(public_name, ''),
		role, coalesce(report_sha256, ''), competent, basically, incompetent FROM `+pgx.Identifier{Schema, "evaluation_results"}.Sanitize()+`
		WHERE community_id = $1 ORDER BY evaluation_id, position`, func(rs pgx.Rows) (rrow, error) {
		var r rrow
		var person, role string
		err := rs.Scan(&r.id, &person, &r.r.PublicName, &role, &r.r.ReportSHA256, &r.r.Competent, &r.r.Basically, &r.r.Incompetent)
		r.r.Person, r.r.Role = kernel.PersonID(person), community.Role(role)
		return r, err
	}, communityID)
	if err != nil {
		return nil, err
	}
	results := map[string][]evaluation.Result{}
	for _, r := range rrows {
		results[r.id] = append(results[r.id], r.r)
	}
	return tables.Collect(ctx, q, "directory", "evaluations of "+communityID, `SELECT evaluation_id, period, evaluators, held_at, event_id, commit_pos
		FROM `+pgx.Identifier{Schema, "evaluations"}.Sanitize()+` WHERE community_id = $1 ORDER BY held_at DESC, evaluation_id DESC`,
		func(rs pgx.Rows) (Evaluation, error) {
			var e Evaluation
			var ev pgtype.UUID
			var pos int64
			err := rs.Scan(&e.EvaluationID, &e.Period, &e.Evaluators, &e.HeldAt, &ev, &pos)
			e.EventID, e.Commit, e.Results = ev.Bytes, uint64(pos), results[e.EvaluationID]
			return e, err
		}, communityID)
}

// EvaluationsFingerprint changes whenever a community's surveys or evaluations do.
func EvaluationsFingerprint(ctx context.Context, q Querier, id string) (string, error) {
	marks, err := tables.Collect(ctx, q, "directory", "evaluations fingerprint of "+id, `SELECT
		(SELECT count(*) || '.' || coalesce(max(commit_pos), 0) FROM `+pgx.Identifier{Schema, "surveys"}.Sanitize()+` WHERE community_id = $1)
		|| '/' || (SELECT count(*) || '.' || coalesce(max(commit_pos), 0) FROM `+pgx.Identifier{Schema, "survey_results"}.Sanitize()+` WHERE community_id = $1)
		|| '/' || (SELECT count(*) || '.' || coalesce(max(commit_pos), 0) FROM `+pgx.Identifier{Schema, "evaluations"}.Sanitize()+` WHERE community_id = $1)`,
		tables.One[string], id)
	if err != nil || len(marks) == 0 {
		return "", err
	}
	return marks[0], nil
}

// Standing is a community's latest satisfaction survey and democratic evaluation, as supervisors compare
// communities: the share satisfied over the survey's satisfaction-scale questions, and the evaluation's
// lowest 称职 share of a member.
type Standing struct {
	CommunityID   string
	CommunityName string
	// Survey is the latest closed survey's id, when it closed, its respondents and the share satisfied
	// (满意 or 基本满意, per mille of the answers to its satisfaction-scale questions); empty when none.
	Survey            string
	SurveyClosed      *time.Time
	Respondents       int
	SatisfiedPermille int
	// Evaluation is the latest evaluation's period and its members' lowest 称职 share (per mille) and
	// highest 不称职 share; empty when none.
	Evaluation                 string
	LowestCompetentPermille    int
	HighestIncompetentPermille int
}

// Standings returns the standing of every community under path, by name.
func Standings(ctx context.Context, q Querier, path string) ([]Standing, error) {
	like := path + "/%"
	if path == "" {
		like = "%"
	}
	return tables.Collect(ctx, q, "directory", "standings under "+path, `WITH c AS (
			SELECT community_id, name FROM `+pgx.Identifier{Schema, "communities"}.Sanitize()+` WHERE path LIKE $1),
		s AS (SELECT DISTINCT ON (r.community_id) r.community_id, r.survey_id, r.closed_at, r.respondents
			FROM `+pgx.Identifier{Schema, "survey_results"}.Sanitize()+` r JOIN c USING (community_id)
			ORDER BY r.community_id, r.closed_at DESC, r.survey_id DESC),
		t AS (SELECT s.community_id,
				sum(split_part(t.counts, ',', 1)::int + split_part(t.counts, ',', 2)::int) AS good,
				sum(split_part(t.counts, ',', 1)::int + split_part(t.counts, ',', 2)::int + split_part(t.counts, ',', 3)::int) AS answers
			FROM s JOIN `+pgx.Identifier{Schema, "survey_tallies"}.Sanitize()+` t USING (community_id, survey_id)
			JOIN `+pgx.Identifier{Schema, "survey_questions"}.Sanitize()+` q USING (community_id, survey_id, question_id)
			WHERE q.scale = 'satisfaction' GROUP BY s.community_id),
		e AS (SELECT DISTINCT ON (v.community_id) v.community_id, v.evaluation_id, v.period
			FROM `+pgx.Identifier{Schema, "evaluations"}.Sanitize()+` v JOIN c USING (community_id)
			ORDER BY v.community_id, v.held_at DESC, v.evaluation_id DESC),
		m AS (SELECT e.community_id,
				min(r.competent * 1000 / greatest(r.competent + r.basically + r.incompetent, 1)) AS lowest,
				max(r.incompetent * 1000 / greatest(r.competent + r.basically + r.incompetent, 1)) AS highest
			FROM e JOIN `+pgx.Identifier{Schema, "evaluation_results"}.Sanitize()+` r USING (community_id, evaluation_id) GROUP BY e.community_id)
		SELECT c.community_id, c.name, coalesce(s.survey_id, ''), s.closed_at, coalesce(s.respondents, 0),
			coalesce(t.good * 1000 / nullif(t.answers, 0), 0), coalesce(e.period, ''), coalesce(m.lowest, 0), coalesce(m.highest, 0)
		FROM c LEFT JOIN s USING (community_id) LEFT JOIN t USING (community_id) LEFT JOIN e USING (community_id) LEFT JOIN m USING (community_id)
		ORDER BY c.name, c.community_id`, func(rs pgx.Rows) (Standing, error) {
		var s Standing
		var closed pgtype.Timestamptz
		err := rs.Scan(&s.CommunityID, &s.CommunityName, &s.Survey, &closed, &s.Respondents, &s.SatisfiedPermille, &s.Evaluation,
			&s.LowestCompetentPermille, &s.HighestIncompetentPermille)
		if closed.Valid {
			at := closed.Time
			s.SurveyClosed = &at
		}
		return s, err
	}, like)
}
