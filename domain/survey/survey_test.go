package survey_test

import (
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/internal/domaintest"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/survey"
)

var (
	t0        = time.Date(2026, 11, 10, 2, 0, 0, 0, time.UTC)
	questions = []survey.Question{{QuestionID: "q1", Text: "对居委会工作总体评价", Scale: survey.Satisfaction},
		{QuestionID: "q2", Text: "小区环境卫生", Scale: survey.FivePoint}}
	opened = survey.Opened{SurveyID: "2026", Title: "2026年度居民满意度测评", Audience: []survey.Audience{survey.Residents, survey.Representatives},
		Questions: questions, OpenedAt: t0}
	closed = survey.Closed{SurveyID: "2026", Respondents: 200, Tallies: []survey.Tally{{QuestionID: "q1", Counts: []int{150, 40, 10}},
		{QuestionID: "q2", Counts: []int{5, 10, 30, 80, 70}}}, ClosedAt: t0.Add(240 * time.Hour)}
)

func TestGoldens(t *testing.T) {
	domaintest.Goldens(t, domaintest.Registry(t, survey.RegisterEvents), "testdata", []kernel.Event{opened, closed})
}

// TestSurvey: a survey opened with its audience and questions, closed with a tally per question whose
// counts fit the question's scale and the respondents; never an answer by a person.
func TestSurvey(t *testing.T) {
	open := func(id string, aud []survey.Audience, qs []survey.Question) func(*survey.Survey) ([]kernel.Event, error) {
		return func(s *survey.Survey) ([]kernel.Event, error) {
			return s.Open(id, "2026年度居民满意度测评", aud, qs, t0)
		}
	}
	close := func(respondents int, ts ...survey.Tally) func(*survey.Survey) ([]kernel.Event, error) {
		return func(s *survey.Survey) ([]kernel.Event, error) {
			return s.Close(respondents, ts, rulebook.Defaults(), t0.Add(240*time.Hour))
		}
	}
	q1 := survey.Tally{QuestionID: "q1", Counts: []int{150, 40, 10}}
	q2 := survey.Tally{QuestionID: "q2", Counts: []int{5, 10, 30, 80, 70}}
	domaintest.Run(t, domaintest.Registry(t, survey.RegisterEvents), func() *survey.Survey { return &survey.Survey{} },
		[]domaintest.Case[*survey.Survey]{
			{Name: "opened", When: open("2026", opened.Audience, questions), Then: []kernel.Event{opened}},
			{Name: "opened twice", Given: []kernel.Event{opened}, When: open("2026", opened.Audience, questions), ThenErr: survey.ErrExists},
			{Name: "no audience", When: open("2026", nil, questions), ThenErr: kernel.Invalid("required", "audience", "")},
			{Name: "an unknown scale", When: open("2026", opened.Audience, []survey.Question{{QuestionID: "q1", Text: "x", Scale: "ten-point"}}),
				ThenErr: kernel.Invalid("invalid-scale", "questions[0].scale", "")},
			{Name: "closed with the results", Given: []kernel.Event{opened}, When: close(200, q2, q1), Then: []kernel.Event{closed}},
			{Name: "a question left out", Given: []kernel.Event{opened}, When: close(200, q1), ThenErr: kernel.Invalid("missing-tally", "tallies", "")},
			{Name: "more answers than respondents", Given: []kernel.Event{opened}, When: close(100, q1, q2), ThenErr: kernel.Invalid("invalid-tally", "tallies", "")},
			{Name: "five counts for three answers", Given: []kernel.Event{opened}, When: close(200, survey.Tally{QuestionID: "q1", Counts: q2.Counts}, q2),
				ThenErr: kernel.Invalid("invalid-tally", "tallies", "")},
			{Name: "a question it does not have", Given: []kernel.Event{opened}, When: close(200, q1, q2, survey.Tally{QuestionID: "q9", Counts: []int{1, 1, 1}}),
				ThenErr: kernel.Invalid("unknown-question", "tallies", "")},
			{Name: "closed twice", Given: []kernel.Event{opened, closed}, When: close(200, q1, q2), ThenErr: survey.ErrClosed},
			{Name: "closed before it opened", When: close(200, q1, q2), ThenErr: survey.ErrNotFound},
		})
	if got := survey.Satisfied(survey.Satisfaction, q1.Counts); got != 950 {
		t.Fatalf("satisfied or basically: %d‰, want 950", got)
	}
	if got := survey.Satisfied(survey.FivePoint, q2.Counts); got != 769 {
		t.Fatalf("4 or 5 points: %d‰, want 769 (150 of 195)", got)
	}
}

// TestRule_Satisfaction: a survey closed with a satisfied share (满意 or 基本满意, over its satisfaction
// questions) below satisfaction's yellow-below breaks the rule; at or above it, or with the band lowered
// by an override, it does not; five-point questions do not count.
func TestRule_Satisfaction(t *testing.T) {
	lowered, err := rulebook.Defaults().With(rulebook.Satisfaction, rulebook.ParamYellowBelow, "700")
	if err != nil {
		t.Fatal(err)
	}
	close := func(p rulebook.Params, q1 ...int) func(*survey.Survey) ([]kernel.Event, error) {
		return func(s *survey.Survey) ([]kernel.Event, error) {
			return s.Close(200, []survey.Tally{{QuestionID: "q1", Counts: q1}, {QuestionID: "q2", Counts: []int{100, 50, 10, 0, 0}}}, p, t0.Add(240*time.Hour))
		}
	}
	domaintest.Run(t, domaintest.Registry(t, survey.RegisterEvents), func() *survey.Survey { return &survey.Survey{} },
		[]domaintest.Case[*survey.Survey]{
			{Name: "75% satisfied", Given: []kernel.Event{opened}, When: close(rulebook.Defaults(), 100, 50, 50), ThenBreaches: []kernel.RuleID{rulebook.Satisfaction}},
			{Name: "exactly 80%", Given: []kernel.Event{opened}, When: close(rulebook.Defaults(), 100, 60, 40)},
			{Name: "75% under a band lowered to 70%", Given: []kernel.Event{opened}, When: close(lowered, 100, 50, 50)},
		})
	if share, ok := survey.Overall(questions, []survey.Tally{{QuestionID: "q1", Counts: []int{100, 50, 50}}, {QuestionID: "q2", Counts: []int{200, 0, 0, 0, 0}}}); !ok || share != 750 {
		t.Fatalf("overall: %d‰ %v, want 750 (the five-point question does not count)", share, ok)
	}
}
