package portal

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/grassroots-ledger/ledger/domain/survey"
	"github.com/grassroots-ledger/ledger/projections/directory"
)

// A community's satisfaction surveys (居民满意度测评, with a chart per question) and democratic evaluations of
// its committee (民主评议: 称职, 基本称职, 不称职 per member by public name). Tallies only: never an answer or a
// vote by a person.

// Evaluations is a community's surveys and evaluations.
type Evaluations struct {
	CommunityID   string           `json:"community_id"`
	CommunityName string           `json:"community_name"`
	Surveys       []SurveyInfo     `json:"surveys" doc:"The latest first"`
	Evaluations   []EvaluationInfo `json:"evaluations" doc:"The latest first"`
}

// SurveyInfo is one survey.
type SurveyInfo struct {
	SurveyID    string         `json:"survey_id"`
	Title       string         `json:"title"`
	Audience    string         `json:"audience" doc:"Who answered, in Chinese"`
	OpenedAt    time.Time      `json:"opened_at"`
	ClosedAt    *time.Time     `json:"closed_at,omitempty" doc:"Set once closed with its results"`
	Respondents int            `json:"respondents"`
	Questions   []QuestionInfo `json:"questions"`
	Source      *Source        `json:"source"`
}

// QuestionInfo is one question and its tally.
type QuestionInfo struct {
	Text string `json:"text"`
	// SatisfiedPermille is the share of answers 满意 or 基本满意 (or 4–5 points), in per mille.
	SatisfiedPermille int          `json:"satisfied_permille"`
	Satisfied         string       `json:"satisfied" doc:"The same, as a percentage for people"`
	Answers           []AnswerInfo `json:"answers"`
	// Chart draws the answers (the page's; the JSON has the figures).
	Chart template.HTML `json:"-"`
}

// AnswerInfo is one answer's count and share.
type AnswerInfo struct {
	Label   string `json:"label"`
	Count   int    `json:"count"`
	Percent int    `json:"percent"`
}

// EvaluationInfo is one half year's evaluation.
type EvaluationInfo struct {
	Period     string         `json:"period"`
	PeriodName string         `json:"period_name"`
	Evaluators int            `json:"evaluators"`
	HeldAt     time.Time      `json:"held_at"`
	Members    []MemberResult `json:"members"`
	Source     *Source        `json:"source"`
}

// MemberResult is one member's evaluation.
type MemberResult struct {
	Name        string `json:"name" doc:"The public name the roster shows"`
	RoleName    string `json:"role_name"`
	Competent   int    `json:"competent"`
	Basically   int    `json:"basically"`
	Incompetent int    `json:"incompetent"`
	// CompetentPercent is the share of 称职 among the member's evaluations.
	CompetentPercent int  `json:"competent_percent"`
	Report           bool `json:"report" doc:"A work report (述职报告) was filed"`
}

var audienceNames = map[string]string{string(survey.Residents): "居民(村民)", string(survey.Representatives): "居民(村民)代表",
	string(survey.PartyMembers): "党员"}

func percent(part, whole int) int {
	if whole == 0 {
		return 0
	}
	return (part*100 + whole/2) / whole
}

func (p *Portal) loadEvaluations(ctx context.Context, id string) (Evaluations, error) {
	name, err := p.communityName(ctx, id)
	if err != nil {
		return Evaluations{}, err
	}
	svs, err := directory.Surveys(ctx, p.db, id)
	if err != nil {
		return Evaluations{}, err
	}
	evs, err := directory.Evaluations(ctx, p.db, id)
	if err != nil {
		return Evaluations{}, err
	}
	out := Evaluations{CommunityID: id, CommunityName: name, Surveys: make([]SurveyInfo, 0, len(svs)), Evaluations: make([]EvaluationInfo, 0, len(evs))}
	for _, s := range svs {
		aud := make([]string, len(s.Audience))
		for i, a := range s.Audience {
			aud[i] = label(audienceNames, string(a))
		}
		si := SurveyInfo{SurveyID: s.SurveyID, Title: Redact(s.Title), Audience: strings.Join(aud, "、"), OpenedAt: local(s.OpenedAt),
			Respondents: s.Respondents, Questions: make([]QuestionInfo, 0, len(s.Questions)), Source: src(s.Opened.EventID.String(), s.Opened.Commit)}
		if s.Closed != nil {
			si.ClosedAt, si.Source = localPtr(*s.Closed), src(s.Result.EventID.String(), s.Result.Commit)
		}
		for _, q := range s.Questions {
			qi := QuestionInfo{Text: Redact(q.Text), Answers: []AnswerInfo{}}
			total := 0
			for _, n := range q.Counts {
				total += n
			}
			for i, n := range q.Counts {
				qi.Answers = append(qi.Answers, AnswerInfo{Label: q.Scale.Labels()[min(i, len(q.Scale.Labels())-1)], Count: n, Percent: percent(n, total)})
			}
			qi.Chart = surveyChart("survey-"+s.SurveyID+"-"+q.QuestionID, qi)
			if q.Counts != nil {
				qi.SatisfiedPermille = survey.Satisfied(q.Scale, q.Counts)
				qi.Satisfied = fmt.Sprintf("%d.%d%%", qi.SatisfiedPermille/10, qi.SatisfiedPermille%10)
			}
			si.Questions = append(si.Questions, qi)
		}
		out.Surveys = append(out.Surveys, si)
	}
	for _, e := range evs {
		ei := EvaluationInfo{Period: e.Period, PeriodName: periodName(e.Period), Evaluators: e.Evaluators, HeldAt: local(e.HeldAt),
			Members: make([]MemberResult, 0, len(e.Results)), Source: src(e.EventID.String(), e.Commit)}
		for _, r := range e.Results {
			ei.Members = append(ei.Members, MemberResult{Name: Redact(r.PublicName), RoleName: label(roles, string(r.Role)), Competent: r.Competent, Basically: r.Basically,
				Incompetent: r.Incompetent, CompetentPercent: percent(r.Competent, r.Votes()), Report: r.ReportSHA256 != ""})
		}
		out.Evaluations = append(out.Evaluations, ei)
	}
	return out, nil
}

// periodName shows 2026-H1 as 2026年上半年.
func periodName(p string) string {
	if len(p) == 7 && p[5] == 'H' {
		return p[:4] + map[byte]string{'1': "年上半年", '2': "年下半年"}[p[6]]
	}
	return p
}

// evaluationsPage is GET /c/{id}/evaluations.
func (p *Portal) evaluationsPage(w http.ResponseWriter, r *http.Request) {
	p.registerPage(w, r, "民主评议与满意度测评", "evaluations-page", func(ctx context.Context, id string) (any, error) { return p.loadEvaluations(ctx, id) })
}

// registerEvaluationAPI registers the JSON; op makes a public GET operation (registerAPI's).
func (p *Portal) registerEvaluationAPI(api huma.API, op func(id, path, summary, desc string, body reflect.Type) huma.Operation) {
	p.registerRegisterAPI(api, op("public-evaluations", "/communities/{id}/evaluations", "A community's satisfaction surveys and democratic evaluations (满意度测评, 民主评议)",
		"Each survey with its questions and, once closed, the tallies per answer and the share satisfied; each half year's democratic "+
			"evaluation of the committee's members by public name (称职, 基本称职, 不称职). Tallies only: never an answer or a vote by a person.",
		reflect.TypeFor[Evaluations]()), "evaluations", directory.EvaluationsFingerprint,
		func(ctx context.Context, id string) (any, error) { return p.loadEvaluations(ctx, id) })
}
