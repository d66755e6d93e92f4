package commands

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/grassroots-ledger/ledger/domain/evaluation"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/survey"
)

// Satisfaction surveys (居民满意度测评) and democratic evaluations of cadres (民主评议): recorded by the
// community's clerks (RecordAffairs), one stream per survey and per evaluation.

var (
	surveys     = kind[*survey.Survey]{"survey_id", survey.Stream, survey.Rehydrate}
	evaluations = kind[*evaluation.Evaluation]{"evaluation_id", evaluation.Stream, evaluation.Rehydrate}
)

// SurveyQuestion is one question of a survey.
type SurveyQuestion struct {
	QuestionID string       `json:"question_id" minLength:"1" maxLength:"32" pattern:"^[A-Za-z0-9._-]+$" doc:"Id of the question within the survey"`
	Text       string       `json:"text" minLength:"1" maxLength:"300" doc:"The question"`
	Scale      survey.Scale `json:"scale" doc:"satisfaction 满意/基本满意/不满意, five-point 1—5分"`
}

// OpenSurvey opens a satisfaction survey of the community (满意度测评).
type OpenSurvey struct {
	CommunityID string            `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	SurveyID    string            `json:"survey_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"Id of the survey, e.g. 2026"`
	Title       string            `json:"title" minLength:"1" maxLength:"200" doc:"The survey's title"`
	Audience    []survey.Audience `json:"audience" minItems:"1" maxItems:"3" doc:"Who may answer: residents, representatives, party-members"`
	Questions   []SurveyQuestion  `json:"questions" minItems:"1" maxItems:"30" doc:"The questions"`
}

// OpenSurvey handles open-survey.
func (h *Handlers) OpenSurvey(ctx context.Context, m Meta, c OpenSurvey) (Result, error) {
	qs := make([]survey.Question, len(c.Questions))
	for i, q := range c.Questions {
		qs[i] = survey.Question{QuestionID: q.QuestionID, Text: q.Text, Scale: q.Scale}
	}
	return affair(ctx, h, m, c.CommunityID, surveys, c.SurveyID, func(s *survey.Survey, f Facts) ([]kernel.Event, error) {
		return s.Open(c.SurveyID, c.Title, c.Audience, qs, f.Now)
	})
}

// OpenStreetSurvey opens the same satisfaction survey in every community of a street (or district) at once.
type OpenStreetSurvey struct {
	Jurisdiction string            `json:"jurisdiction" minLength:"1" maxLength:"512" pattern:"^[A-Za-z0-9_]+(/[A-Za-z0-9_]+){0,6}$" doc:"The street's or district's path"`
	SurveyID     string            `json:"survey_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"Id of the survey in every community, e.g. 2026"`
	Title        string            `json:"title" minLength:"1" maxLength:"200" doc:"The survey's title"`
	Audience     []survey.Audience `json:"audience" minItems:"1" maxItems:"3" doc:"Who may answer: residents, representatives, party-members"`
	Questions    []SurveyQuestion  `json:"questions" minItems:"1" maxItems:"30" doc:"The questions"`
}

// OpenStreetSurvey handles open-street-survey: open-survey for each registered community under the
// jurisdiction (as the read models list them), each as its own command whose id is the command's and the
// community's — a retry opens what a crash left out and nothing twice; each community's clerks close
// their own with their tallies. The result is the last community's, with every community's events.
func (h *Handlers) OpenStreetSurvey(ctx context.Context, m Meta, c OpenStreetSurvey) (Result, error) {
	path := kernel.JurisdictionPath(c.Jurisdiction)
	if _, err := admit(m, RecordAffairs, func() (Target, error) {
		if err := checkPath(path, "jurisdiction"); err != nil {
			return Target{}, err
		}
		return Target{Path: path}, nil
	}); err != nil {
		return Result{}, err
	}
	if d := path.Depth(); d != kernel.LevelStreet && d != kernel.LevelDistrict {
		return Result{}, kernel.Invalid("survey-jurisdiction", "jurisdiction", "统一测评须按街道(乡镇)或区(县)开展")
	}
	if h.standings == nil {
		return Result{}, ErrNoStandings
	}
	ids, err := h.standings.CommunitiesUnder(ctx, path)
	if err != nil {
		return Result{}, err
	}
	if len(ids) == 0 {
		return Result{}, kernel.NotFound("no-communities", "该辖区没有已登记的社区(村)").WithField("jurisdiction")
	}
	var out Result
	replayed := true
	for _, id := range ids {
		one := m
		one.CommandID = partID(m.CommandID, string(id))
		res, err := h.OpenSurvey(ctx, one, OpenSurvey{CommunityID: string(id), SurveyID: c.SurveyID, Title: c.Title, Audience: c.Audience, Questions: c.Questions})
		if err != nil {
			return Result{}, fmt.Errorf("community %s: %w", id, err)
		}
		events := append(out.Events, res.Events...)
		out, replayed = res, replayed && res.Replayed
		out.Events = events
	}
	out.Replayed = replayed
	return out, nil
}

// partID is the id of the part of command id that concerns community c: id:c, or when that is longer
// than a command id may be, a hash of id in its place.
func partID(id, c string) string {
	if len(id)+1+len(c) <= 128 {
		return id + ":" + c
	}
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:16]) + ":" + c
}

// SurveyTally is what a question's respondents answered: counts in the order of the scale's answers.
type SurveyTally struct {
	QuestionID string `json:"question_id" minLength:"1" maxLength:"32" doc:"The question"`
	Counts     []int  `json:"counts" minItems:"3" maxItems:"5" minimum:"0" maximum:"1000000" doc:"Counts per answer: 满意, 基本满意, 不满意; or 1 to 5 points"`
}

// CloseSurvey closes a survey with its results (测评结果): aggregate tallies only, never an answer by a
// person.
type CloseSurvey struct {
	CommunityID string        `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	SurveyID    string        `json:"survey_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The survey"`
	Respondents int           `json:"respondents" minimum:"1" maximum:"1000000" doc:"How many answered"`
	Tallies     []SurveyTally `json:"tallies" minItems:"1" maxItems:"30" doc:"One tally per question"`
}

// CloseSurvey handles close-survey.
func (h *Handlers) CloseSurvey(ctx context.Context, m Meta, c CloseSurvey) (Result, error) {
	ts := make([]survey.Tally, len(c.Tallies))
	for i, t := range c.Tallies {
		ts[i] = survey.Tally{QuestionID: t.QuestionID, Counts: t.Counts}
	}
	return affair(ctx, h, m, c.CommunityID, surveys, c.SurveyID, ruled(func(s *survey.Survey, f Facts, p rulebook.Params) ([]kernel.Event, error) {
		return s.Close(c.Respondents, ts, p, f.Now)
	}))
}

// EvaluationTally is one member's evaluation.
type EvaluationTally struct {
	Person       string `json:"person" minLength:"1" maxLength:"128" doc:"Person id of a sitting committee member"`
	ReportSHA256 string `json:"report_sha256,omitempty" pattern:"^([0-9a-f]{64})?$" doc:"SHA-256 of the member's work report (述职报告), if filed"`
	Competent    int    `json:"competent" minimum:"0" maximum:"100000" doc:"称职"`
	Basically    int    `json:"basically" minimum:"0" maximum:"100000" doc:"基本称职"`
	Incompetent  int    `json:"incompetent" minimum:"0" maximum:"100000" doc:"不称职"`
}

// HoldEvaluation records a half year's democratic evaluation of the committee's members (民主评议): the
// tallies per member; the public names and roles come from the roster.
type HoldEvaluation struct {
	CommunityID  string            `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	EvaluationID string            `json:"evaluation_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"Id of the evaluation, e.g. 2026-H1"`
	Period       string            `json:"period" minLength:"7" maxLength:"7" doc:"The half year evaluated, 2026-H1 or 2026-H2"`
	Evaluators   int               `json:"evaluators" minimum:"1" maximum:"100000" doc:"How many evaluated (cadres, party members, representatives)"`
	Results      []EvaluationTally `json:"results" minItems:"1" maxItems:"50" doc:"One per member evaluated"`
	HeldAt       time.Time         `json:"held_at,omitzero" doc:"When (RFC 3339); default now"`
}

// HoldEvaluation handles hold-evaluation; the roster is the community's sitting committee.
func (h *Handlers) HoldEvaluation(ctx context.Context, m Meta, c HoldEvaluation) (Result, error) {
	ts := make([]evaluation.Tally, len(c.Results))
	for i, r := range c.Results {
		ts[i] = evaluation.Tally{Person: kernel.PersonID(r.Person), ReportSHA256: r.ReportSHA256, Competent: r.Competent, Basically: r.Basically,
			Incompetent: r.Incompetent}
	}
	return affair(ctx, h, m, c.CommunityID, evaluations, c.EvaluationID, ruled(func(e *evaluation.Evaluation, f Facts, p rulebook.Params) ([]kernel.Event, error) {
		return e.Hold(evaluation.Hold{EvaluationID: c.EvaluationID, Period: c.Period, Evaluators: c.Evaluators, Tallies: ts, HeldAt: c.HeldAt,
			Roster: f.Community.Roster()}, p, f.Now)
	}))
}
