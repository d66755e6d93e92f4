package supervision_test

import (
	"encoding/json"
	"fmt"
	"github.com/grassroots-ledger/ledger/domain/assessment"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	drating "github.com/grassroots-ledger/ledger/domain/rating"
	"github.com/grassroots-ledger/ledger/projections/meetings"
	"net/http"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/inspection"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rectification"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	policy "github.com/grassroots-ledger/ledger/domain/supervision"
	"github.com/grassroots-ledger/ledger/domain/survey"
	"github.com/grassroots-ledger/ledger/infra/supervision"
	"github.com/grassroots-ledger/ledger/infra/supervision/supervisiontest"
	"github.com/grassroots-ledger/ledger/projections/directory"
	alerts "github.com/grassroots-ledger/ledger/projections/supervision"
)

// TestOpenAlertsRatingsAndCounts: the read endpoints answer within the token's scope only.
func TestOpenAlertsRatingsAndCounts(t *testing.T) {
	t.Parallel()
	h := supervisiontest.New(t, supervisiontest.Options{})
	x1, x2 := supervisiontest.NewCommunity(supervisiontest.DistrictX, 1), supervisiontest.NewCommunity(supervisiontest.DistrictX, 2)
	y1 := supervisiontest.NewCommunity(supervisiontest.DistrictY, 1)
	for _, c := range []supervisiontest.Community{x1, x2, y1} {
		h.Register(c, kernel.Urban, 1000, 2000)
	}
	h.Record(x1, x1.Stream("expenditure", "big"), funds.ExpenditurePaid{ExpenditureID: "big", VoucherNo: "v", Amount: kernel.Yuan(90000),
		PaidAt: h.Clock.Now(), Watch: breach(rulebook.MajorMatterResolution, "未经决议")})
	raise(h, x2, "x2")
	raise(h, y1, "y1")
	h.WaitAlert(rulebook.BudgetBalance, y1.Stream("expenditure", "y1"), supervisiontest.Open)
	h.WaitAlert(rulebook.MajorMatterResolution, x1.Stream("expenditure", "big"), supervisiontest.Open)
	h.WaitAlert(rulebook.BudgetBalance, x2.Stream("expenditure", "x2"), supervisiontest.Open)
	h.Quiesce()

	tok := h.Token(commands.RoleAuditor, supervisiontest.DistrictX)
	var open struct{ Alerts []alerts.Alert }
	get(t, h, tok, supervision.AlertsPath, &open)
	if len(open.Alerts) != 2 || open.Alerts[0].Severity != rulebook.Red || open.Alerts[1].Community != x2.ID {
		t.Fatalf("open alerts of district X: %+v", open.Alerts)
	}
	get(t, h, tok, supervision.AlertsPath+"?limit=1", &open)
	if len(open.Alerts) != 1 || open.Alerts[0].Severity != rulebook.Red {
		t.Fatalf("the first open alert of district X: %+v", open.Alerts)
	}
	for _, bad := range []string{"0", "-1", "x", "1001"} {
		h.Server.Do(t, http.MethodGet, supervision.AlertsPath+"?limit="+bad, bearer(tok), nil).WantProblem(t, 400, "invalid-limit")
	}
	var ratings struct{ Ratings []alerts.CommunityRating }
	get(t, h, tok, supervision.RatingsPath, &ratings)
	if len(ratings.Ratings) != 2 || ratings.Ratings[0].Rating != policy.Red || ratings.Ratings[1].Rating != policy.Yellow ||
		ratings.Ratings[0].OpenRed != 1 {
		t.Fatalf("ratings of district X: %+v", ratings.Ratings)
	}
	get(t, h, tok, supervision.RatingsPath+"?under="+string(x2.Path), &ratings)
	if len(ratings.Ratings) != 1 || ratings.Ratings[0].Community != x2.ID {
		t.Fatalf("ratings under %s: %+v", x2.Path, ratings.Ratings)
	}
	var counts struct {
		Open     []alerts.Count
		ByRating map[policy.Rating]int `json:"communities_by_rating"`
	}
	get(t, h, h.Token(commands.RoleAdmin, "*"), supervision.AlertsPath+"/counts", &counts)
	if len(counts.Open) != 2 || counts.ByRating[policy.Red] != 1 || counts.ByRating[policy.Yellow] != 2 || counts.ByRating[policy.Green] != 0 {
		t.Fatalf("counts: %+v", counts)
	}
	h.Server.Do(t, http.MethodGet, supervision.RatingsPath+"?under="+string(supervisiontest.DistrictY), bearer(tok), nil).WantProblem(t, 403, "out-of-scope")
	h.Server.Do(t, http.MethodGet, supervision.AlertsPath, bearer(h.Token(commands.RoleCommittee, "*")), nil).WantProblem(t, 403, "role-not-allowed")
	// An auditor reads but does not resolve.
	a := h.WaitAlert(rulebook.BudgetBalance, x2.Stream("expenditure", "x2"), supervisiontest.Open)
	resolve(t, h, tok, a.ID, "x").WantProblem(t, 403, "role-not-allowed")
	sup := h.Token(commands.RoleSupervisor, "*")
	resolve(t, h, sup, "nope", "x").WantProblem(t, 404, "alert-not-found")
	h.Server.Do(t, http.MethodPost, "/api/v1/alerts/"+a.ID+"/resolve", bearer(sup), `{"reason":"x","extra":1}`).WantProblem(t, 400, "unknown-field")
	// A reason is held to the text rules of every door (kernel.CheckText): a bidirectional override, a
	// control character, a key twice, invalid UTF-8; and one of zero-width spaces is no reason.
	for _, body := range []string{`{"reason":"已整改\u202e否"}`, `{"reason":"已整改\u0007"}`, `{"reason":"x","reason":"y"}`, "{\"reason\":\"\xff\"}"} {
		h.Server.Do(t, http.MethodPost, "/api/v1/alerts/"+a.ID+"/resolve", bearer(sup), body).WantProblem(t, 400, "")
	}
	resolve(t, h, sup, a.ID, "\u200b\u200b").WantProblem(t, 400, "required")
	if got := h.WaitAlert(rulebook.BudgetBalance, x2.Stream("expenditure", "x2"), supervisiontest.Open); got.ID != a.ID {
		t.Fatalf("the alert after refused resolutions: %+v", got)
	}

	// Metrics from the read model: open alerts by rule and severity, communities by rating.
	if got, err := alerts.RatingOf(t.Context(), h.Server.Pool, "nowhere"); err != nil || got.Rating != policy.Green {
		t.Fatalf("an unknown community is green: %+v %v", got, err)
	}
}

func get(t *testing.T, h *supervisiontest.Harness, token, path string, v any) {
	t.Helper()
	resp := h.Server.Do(t, http.MethodGet, path, bearer(token), nil)
	if resp.Status != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.Status, resp.Body)
	}
	if err := json.Unmarshal(resp.Body, v); err != nil {
		t.Fatalf("GET %s: %v %s", path, err, resp.Body)
	}
}

// TestWebhookListAndDelete: a webhook is listed to the actors whose scope covers it, and deleting it
// stops its deliveries.
func TestWebhookListAndDelete(t *testing.T) {
	t.Parallel()
	h := supervisiontest.New(t, supervisiontest.Options{})
	tokX := h.Token(commands.RoleSupervisor, supervisiontest.DistrictX)
	r := newReceiver(t, 0)
	hook := register(t, h, tokX, r, "")
	if hook.Under != supervisiontest.DistrictX {
		t.Fatalf("under defaults to the token's scope: %q", hook.Under)
	}
	var list struct{ Webhooks []supervision.Webhook }
	get(t, h, tokX, supervision.WebhooksPath, &list)
	if len(list.Webhooks) != 1 || list.Webhooks[0].ID != hook.ID || list.Webhooks[0].Owner != "supervisor:test-supervisor" {
		t.Fatalf("%+v", list)
	}
	get(t, h, h.Token(commands.RoleSupervisor, supervisiontest.DistrictY), supervision.WebhooksPath, &list)
	if len(list.Webhooks) != 0 {
		t.Fatalf("district Y sees %+v", list)
	}
	if resp := h.Server.Do(t, http.MethodDelete, supervision.WebhooksPath+"/"+hook.ID, bearer(tokX), nil); resp.Status != 204 {
		t.Fatalf("delete: %d %s", resp.Status, resp.Body)
	}
	raise(h, supervisiontest.NewCommunity(supervisiontest.DistrictX, 1), "x")
	h.Quiesce()
	time.Sleep(300 * time.Millisecond) // several rounds of the deliverer
	if n := len(r.requests()); n != 0 {
		t.Fatalf("a deleted webhook got %d deliveries", n)
	}
}

// TestCaseworkCoverage: the supervisors' view of casework under their scope — this year's coverage and the
// rectifications unreported past their deadline, the longest overdue first; out of scope is refused.
func TestCaseworkCoverage(t *testing.T) {
	t.Parallel()
	h := supervisiontest.New(t, supervisiontest.Options{})
	h.StartDirectory()
	c := supervisiontest.NewCommunity(supervisiontest.DistrictX, 23)
	h.Register(c, kernel.Urban, 1200, 3000)
	now := h.Clock.Now()
	h.Record(c, c.Stream("inspection", "2026-r1"), inspection.Conducted{InspectionID: "2026-r1", Inspectors: "区民政局督查组",
		Methods: []inspection.Method{inspection.SiteVisit}, HeldAt: now, Findings: []inspection.Finding{{FindingID: "f-1", Severity: inspection.Minor,
			Text: "公开栏未更新"}, {FindingID: "f-2", Severity: inspection.Major, Text: "议事记录缺失"}}})
	for i, f := range []string{"公开栏未更新", "议事记录缺失"} {
		id := fmt.Sprintf("z-%d", i+1)
		h.Record(c, c.Stream("rectification", id), rectification.Ordered{RectificationID: id, Source: rectification.Source{Kind: rectification.Inspection,
			ID: "2026-r1", FindingID: fmt.Sprintf("f-%d", i+1), Finding: f}, Requirement: "限期整改", Due: now.Add(time.Duration(7+i) * 24 * time.Hour), OrderedAt: now})
	}
	h.Record(c, c.Stream("rectification", "z-2"), rectification.Reported{RectificationID: "z-2", Response: "已补齐", ReportedAt: now.Add(time.Hour)})
	h.Advance(10 * 24 * time.Hour)
	tok := h.Token(commands.RoleSupervisor, supervisiontest.DistrictX)
	var got struct {
		Coverage directory.Coverage
		Overdue  []directory.Overdue
	}
	h.Wait("the casework projected", 10*time.Second, func() (bool, string) {
		get(t, h, tok, supervision.CaseworkPath, &got)
		return got.Coverage.Ordered == 2 && got.Coverage.Reported == 1, fmt.Sprintf("%+v", got.Coverage)
	})
	if got.Coverage.Inspected != 1 || got.Coverage.Findings != 2 || got.Coverage.Unmet != 1 || len(got.Overdue) != 1 || got.Overdue[0].RectificationID != "z-1" ||
		got.Overdue[0].Finding != "公开栏未更新" {
		t.Fatalf("casework %+v", got)
	}
	h.Server.Do(t, http.MethodGet, supervision.CaseworkPath+"?under="+string(supervisiontest.DistrictY), bearer(tok), nil).WantProblem(t, 403, "out-of-scope")

	// Deliberation: a topic deliberated and closed within topic-within (60 days) of its collection, and one
	// collected 100 days ago closed now.
	for i, collected := range []time.Time{h.Clock.Now(), h.Clock.Now().Add(-100 * 24 * time.Hour)} {
		id := fmt.Sprintf("t-%d", i+1)
		h.Record(c, c.Stream("topic", id), meeting.TopicCollected{TopicID: id, Channel: meeting.HomeVisit, Summary: "楼道堆物", CollectedAt: collected},
			meeting.TopicDeliberationHeld{TopicID: id, MeetingID: "m-1", Outcome: "清理", HeldAt: h.Clock.Now()},
			meeting.TopicFeedbackRecorded{TopicID: id, Feedback: "已清理", Closed: true, RecordedAt: h.Clock.Now()})
	}
	var dl struct{ Deliberation meetings.Deliberation }
	h.Wait("the topics projected", 10*time.Second, func() (bool, string) {
		get(t, h, tok, supervision.CaseworkPath, &dl)
		return dl.Deliberation.TopicsClosed == 2, fmt.Sprintf("%+v", dl)
	})
	if d := dl.Deliberation; d.Deliberating != 1 || d.ClosedInTime != 1 {
		t.Fatalf("deliberation %+v, want 1 community deliberating and 1 of 2 topics closed in time", d)
	}
	h.Server.Do(t, http.MethodGet, supervision.CaseworkPath+"?limit=0", bearer(tok), nil).WantProblem(t, 400, "invalid-limit")

	// The standings: the community's latest survey and evaluation.
	h.Record(c, c.Stream("survey", "2026"), survey.Opened{SurveyID: "2026", Title: "2026年度居民满意度测评", Audience: []survey.Audience{survey.Residents},
		Questions: []survey.Question{{QuestionID: "q1", Text: "总体评价", Scale: survey.Satisfaction}}, OpenedAt: h.Clock.Now()},
		survey.Closed{SurveyID: "2026", Respondents: 50, Tallies: []survey.Tally{{QuestionID: "q1", Counts: []int{30, 15, 5}}}, ClosedAt: h.Clock.Now()})
	var st struct{ Standings []directory.Standing }
	h.Wait("the survey projected", 10*time.Second, func() (bool, string) {
		get(t, h, tok, supervision.StandingsPath, &st)
		return len(st.Standings) == 1 && st.Standings[0].Survey == "2026", fmt.Sprintf("%+v", st)
	})
	if s := st.Standings[0]; s.SatisfiedPermille != 900 || s.Respondents != 50 || s.Evaluation != "" {
		t.Fatalf("standing %+v", s)
	}
	h.Server.Do(t, http.MethodGet, supervision.StandingsPath+"?under="+string(supervisiontest.DistrictY), bearer(tok), nil).WantProblem(t, 403, "out-of-scope")

	// The assessments: this year's score as it stands (the district's one assessor item scored +7), a past
	// year frozen, and the ratings recorded.
	year := h.Clock.Now().In(kernel.ChinaTime()).Year()
	items := []assessment.Item{{Code: "C1", Title: "年度重点工作", Measure: assessment.Assessor, Points: 10}}
	h.Record(c, assessment.SchemeStream(supervisiontest.DistrictX, year), assessment.Defined{Jurisdiction: supervisiontest.DistrictX, Year: year,
		Items: items, DefinedAt: h.Clock.Now()})
	h.Record(c, assessment.ScorecardStream(c.ID, year), assessment.Scored{Year: year, Jurisdiction: supervisiontest.DistrictX, ItemCode: "C1", Points: 7,
		Reason: "重点工作完成较好", Assessor: "p-sup", ScoredAt: h.Clock.Now()})
	h.Record(c, assessment.SchemeStream(supervisiontest.DistrictX, year-1), assessment.Defined{Jurisdiction: supervisiontest.DistrictX, Year: year - 1,
		Items: items, DefinedAt: h.Clock.Now()})
	h.Record(c, assessment.ScorecardStream(c.ID, year-1), assessment.Frozen{Year: year - 1, Jurisdiction: supervisiontest.DistrictX, Base: 100, Total: 74,
		Lines: []assessment.Line{{Code: "C1", Title: "年度重点工作", Measure: assessment.Assessor, Points: -26}}, FrozenAt: h.Clock.Now()})
	h.Record(c, drating.Stream(c.ID), drating.Recorded{Period: "2026-01", Rating: "yellow", Inputs: drating.Inputs{OpenYellow: 1}, Reasons: []string{"1条黄色预警未消除"},
		TakenAt: h.Clock.Now()})
	var as struct {
		Scores  []supervision.CommunityScore
		Ratings []struct{ Period, Rating string }
	}
	h.Wait("the assessments projected", 10*time.Second, func() (bool, string) {
		get(t, h, tok, supervision.AssessmentsPath, &as)
		return len(as.Scores) == 1 && as.Scores[0].Total == 107 && len(as.Ratings) == 1, fmt.Sprintf("%+v", as)
	})
	if s := as.Scores[0]; !s.Assessed || s.Frozen || s.Band != "green" || as.Ratings[0].Period != "2026-01" || as.Ratings[0].Rating != "yellow" {
		t.Fatalf("assessments %+v", as)
	}
	get(t, h, tok, supervision.AssessmentsPath+fmt.Sprintf("?year=%d", year-1), &as)
	if s := as.Scores[0]; !s.Frozen || s.Total != 74 || s.Band != "yellow" {
		t.Fatalf("the frozen year %+v", as.Scores)
	}
	h.Server.Do(t, http.MethodGet, supervision.AssessmentsPath+"?year=99", bearer(tok), nil).WantProblem(t, 400, "invalid-year")
	h.Server.Do(t, http.MethodGet, supervision.AssessmentsPath+"?under="+string(supervisiontest.DistrictY), bearer(tok), nil).WantProblem(t, 403, "out-of-scope")
}
