package alerting_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/supervision"
	"github.com/grassroots-ledger/ledger/infra/alerting"
	"github.com/grassroots-ledger/ledger/infra/alerting/alertingtest"
	"github.com/grassroots-ledger/ledger/projections/alerts"
)

// TestOpenAlertsRatingsAndCounts: the read endpoints answer within the token's scope only.
func TestOpenAlertsRatingsAndCounts(t *testing.T) {
	t.Parallel()
	h := alertingtest.New(t, alertingtest.Options{})
	x1, x2 := alertingtest.NewCommunity(alertingtest.DistrictX, 1), alertingtest.NewCommunity(alertingtest.DistrictX, 2)
	y1 := alertingtest.NewCommunity(alertingtest.DistrictY, 1)
	for _, c := range []alertingtest.Community{x1, x2, y1} {
		h.Register(c, kernel.Urban, 1000, 2000)
	}
	h.Record(x1, x1.Stream("expenditure", "big"), funds.ExpenditurePaid{ExpenditureID: "big", VoucherNo: "v", Amount: kernel.Yuan(90000),
		PaidAt: h.Clock.Now(), Watch: breach(rulebook.MajorMatterResolution, "未经决议")})
	raise(h, x2, "x2")
	raise(h, y1, "y1")
	h.WaitAlert(rulebook.BudgetBalance, y1.Stream("expenditure", "y1"), alertingtest.Open)
	h.WaitAlert(rulebook.MajorMatterResolution, x1.Stream("expenditure", "big"), alertingtest.Open)
	h.WaitAlert(rulebook.BudgetBalance, x2.Stream("expenditure", "x2"), alertingtest.Open)
	h.Quiesce()

	tok := h.Token(commands.RoleAuditor, alertingtest.DistrictX)
	var open struct{ Alerts []alerts.Alert }
	get(t, h, tok, alerting.AlertsPath, &open)
	if len(open.Alerts) != 2 || open.Alerts[0].Severity != rulebook.Red || open.Alerts[1].Community != x2.ID {
		t.Fatalf("open alerts of district X: %+v", open.Alerts)
	}
	var ratings struct{ Ratings []alerts.CommunityRating }
	get(t, h, tok, alerting.RatingsPath, &ratings)
	if len(ratings.Ratings) != 2 || ratings.Ratings[0].Rating != supervision.Red || ratings.Ratings[1].Rating != supervision.Yellow ||
		ratings.Ratings[0].OpenRed != 1 {
		t.Fatalf("ratings of district X: %+v", ratings.Ratings)
	}
	get(t, h, tok, alerting.RatingsPath+"?under="+string(x2.Path), &ratings)
	if len(ratings.Ratings) != 1 || ratings.Ratings[0].Community != x2.ID {
		t.Fatalf("ratings under %s: %+v", x2.Path, ratings.Ratings)
	}
	var counts struct {
		Open     []alerts.Count
		ByRating map[supervision.Rating]int `json:"communities_by_rating"`
	}
	get(t, h, h.Token(commands.RoleAdmin, "*"), alerting.AlertsPath+"/counts", &counts)
	if len(counts.Open) != 2 || counts.ByRating[supervision.Red] != 1 || counts.ByRating[supervision.Yellow] != 2 || counts.ByRating[supervision.Green] != 0 {
		t.Fatalf("counts: %+v", counts)
	}
	h.Server.Do(t, http.MethodGet, alerting.RatingsPath+"?under="+string(alertingtest.DistrictY), bearer(tok), nil).WantProblem(t, 403, "out-of-scope")
	h.Server.Do(t, http.MethodGet, alerting.AlertsPath, bearer(h.Token(commands.RoleCommittee, "*")), nil).WantProblem(t, 403, "role-not-allowed")
	// An auditor reads but does not resolve.
	a := h.WaitAlert(rulebook.BudgetBalance, x2.Stream("expenditure", "x2"), alertingtest.Open)
	resolve(t, h, tok, a.ID, "x").WantProblem(t, 403, "role-not-allowed")
	sup := h.Token(commands.RoleSupervisor, "*")
	resolve(t, h, sup, "nope", "x").WantProblem(t, 404, "alert-not-found")
	h.Server.Do(t, http.MethodPost, "/api/v1/alerts/"+a.ID+"/resolve", bearer(sup), `{"reason":"x","extra":1}`).WantProblem(t, 400, "unknown-field")

	// Metrics from the read model: open alerts by rule and severity, communities by rating.
	if got, err := alerts.RatingOf(t.Context(), h.Server.Pool, "nowhere"); err != nil || got.Rating != supervision.Green {
		t.Fatalf("an unknown community is green: %+v %v", got, err)
	}
}

func get(t *testing.T, h *alertingtest.Harness, token, path string, v any) {
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
	h := alertingtest.New(t, alertingtest.Options{})
	tokX := h.Token(commands.RoleSupervisor, alertingtest.DistrictX)
	r := newReceiver(t, 0)
	hook := register(t, h, tokX, r, "")
	if hook.Under != alertingtest.DistrictX {
		t.Fatalf("under defaults to the token's scope: %q", hook.Under)
	}
	var list struct{ Webhooks []alerting.Webhook }
	get(t, h, tokX, alerting.WebhooksPath, &list)
	if len(list.Webhooks) != 1 || list.Webhooks[0].ID != hook.ID || list.Webhooks[0].Owner != "supervisor:test-supervisor" {
		t.Fatalf("%+v", list)
	}
	get(t, h, h.Token(commands.RoleSupervisor, alertingtest.DistrictY), alerting.WebhooksPath, &list)
	if len(list.Webhooks) != 0 {
		t.Fatalf("district Y sees %+v", list)
	}
	if resp := h.Server.Do(t, http.MethodDelete, alerting.WebhooksPath+"/"+hook.ID, bearer(tokX), nil); resp.Status != 204 {
		t.Fatalf("delete: %d %s", resp.Status, resp.Body)
	}
	raise(h, alertingtest.NewCommunity(alertingtest.DistrictX, 1), "x")
	h.Quiesce()
	time.Sleep(300 * time.Millisecond) // several rounds of the deliverer
	if n := len(r.requests()); n != 0 {
		t.Fatalf("a deleted webhook got %d deliveries", n)
	}
}
