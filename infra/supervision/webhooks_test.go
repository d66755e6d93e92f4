package supervision_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/infra/supervision"
	"github.com/grassroots-ledger/ledger/infra/supervision/supervisiontest"
)

// receiver is a webhook endpoint that fails its first `failFirst` requests (or all while down), and
// checks every request's signature.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	fail   int
	down   bool
	got    []received
}

type received struct {
	ok        bool
	signed    bool
	eventID   string
	timestamp int64
	body      map[string]any
}

func newReceiver(t *testing.T, failFirst int) *receiver {
	r := &receiver{t: t, fail: failFirst}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		rec := received{signed: supervision.Verify(r.secret, supervision.SignedContent(req.Header.Get(supervision.HeaderTimestamp), body),
			req.Header.Get(supervision.HeaderSignature)), eventID: req.Header.Get(supervision.HeaderEventID)}
		rec.timestamp, _ = strconv.ParseInt(req.Header.Get(supervision.HeaderTimestamp), 10, 64)
		_ = json.Unmarshal(body, &rec.body)
		if r.down || r.fail > 0 {
			r.fail--
			r.got = append(r.got, rec)
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		rec.ok = true
		r.got = append(r.got, rec)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func (r *receiver) setDown(down bool) {
	r.mu.Lock()
	r.down = down
	r.mu.Unlock()
}

type registered struct {
	supervision.Webhook
	Secret string `json:"secret"`
}

func register(t *testing.T, h *supervisiontest.Harness, token string, r *receiver, under kernel.JurisdictionPath) registered {
	t.Helper()
	resp := h.Server.Do(t, http.MethodPost, supervision.WebhooksPath, bearer(token), map[string]string{"url": r.srv.URL + "/hook", "under": string(under)})
	if resp.Status != http.StatusCreated {
		t.Fatalf("register: %d %s", resp.Status, resp.Body)
	}
	var reg registered
	if err := json.Unmarshal(resp.Body, &reg); err != nil || reg.Secret == "" || reg.ID == "" {
		t.Fatalf("register: %v %s", err, resp.Body)
	}
	r.mu.Lock()
	r.secret = reg.Secret
	r.mu.Unlock()
	return reg
}

func deliveries(t *testing.T, h *supervisiontest.Harness, token, id, state string) []supervision.Delivery {
	t.Helper()
	resp := h.Server.Do(t, http.MethodGet, supervision.WebhooksPath+"/"+id+"/deliveries?state="+state, bearer(token), nil)
	if resp.Status != 200 {
		t.Fatalf("deliveries: %d %s", resp.Status, resp.Body)
	}
	var out struct{ Deliveries []supervision.Delivery }
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		t.Fatal(err)
	}
	return out.Deliveries
}

// TestWebhookRetriesUntilDelivered: the receiver fails twice, then succeeds; every attempt is signed; a
// webhook of district X never receives district Y's alerts.
func TestWebhookRetriesUntilDelivered(t *testing.T) {
	t.Parallel()
	h := supervisiontest.New(t, supervisiontest.Options{})
	tok := h.Token(commands.RoleSupervisor, supervisiontest.DistrictX)
	r := newReceiver(t, 2)
	hook := register(t, h, tok, r, supervisiontest.DistrictX)
	cx := supervisiontest.NewCommunity(supervisiontest.DistrictX, 1)
	cy := supervisiontest.NewCommunity(supervisiontest.DistrictY, 1)
	raise(h, cy, "y1")
	raise(h, cx, "x1")
	raise(h, cy, "y2")
	h.Wait("the delivery", 15*time.Second, func() (bool, string) {
		got := r.requests()
		return len(got) > 0 && got[len(got)-1].ok, ""
	})
	h.Quiesce()
	time.Sleep(300 * time.Millisecond)
	got := r.requests()
	if len(got) != 3 {
		t.Fatalf("%d requests, want 2 failures and a success: %+v", len(got), got)
	}
	for i, g := range got {
		if !g.signed || g.timestamp == 0 || g.eventID == "" || g.eventID != got[0].eventID {
			t.Fatalf("request %d: %+v", i, g)
		}
		alert := g.body["alert"].(map[string]any)
		if alert["community_id"] != string(cx.ID) || g.body["webhook_id"] != hook.ID || g.body["type"] != "supervision.alert-raised" {
			t.Fatalf("request %d delivered %v", i, g.body)
		}
	}
	d := deliveries(t, h, tok, hook.ID, "")
	if len(d) != 1 || d[0].State != "delivered" || d[0].Attempts != 3 || d[0].DeliveredAt == nil {
		t.Fatalf("deliveries %+v", d)
	}
	if n := counter(t, h, "ledger_webhook_deliveries_total", "outcome", "failed"); n != 2 {
		t.Fatalf("failed %v", n)
	}
	// The signature covers the body: a changed body does not verify.
	if supervision.Verify(hook.Secret, []byte(`{"forged":true}`), supervision.Sign(hook.Secret, []byte(`{}`))) {
		t.Fatal("forged body verified")
	}
	// Another district's supervisor does not see the webhook.
	other := h.Token(commands.RoleSupervisor, supervisiontest.DistrictY)
	h.Server.Do(t, http.MethodPost, supervision.WebhooksPath+"/"+hook.ID+"/replay", bearer(other), nil).WantProblem(t, 404, "webhook-not-found")
	h.Server.Do(t, http.MethodPost, supervision.WebhooksPath, bearer(other), map[string]string{"url": r.srv.URL, "under": string(supervisiontest.DistrictX)}).
		WantProblem(t, 403, "out-of-scope")
	h.Server.Do(t, http.MethodPost, supervision.WebhooksPath, bearer(other), map[string]string{"url": "ftp://x"}).WantProblem(t, 400, "invalid-webhook-url")
}

// TestWebhookParkAndReplay: after MaxAttempts failures a delivery is parked; replay delivers it once the
// receiver is back.
func TestWebhookParkAndReplay(t *testing.T) {
	t.Parallel()
	h := supervisiontest.New(t, supervisiontest.Options{Webhooks: func(c *supervision.WebhookConfig) { c.MaxAttempts = 3 }})
	tok := h.Token(commands.RoleSupervisor, supervisiontest.DistrictX)
	r := newReceiver(t, 0)
	r.setDown(true)
	hook := register(t, h, tok, r, "")
	cx := supervisiontest.NewCommunity(supervisiontest.DistrictX, 1)
	raise(h, cx, "x1")
	h.Wait("the delivery to be parked", 15*time.Second, func() (bool, string) {
		d := deliveries(t, h, tok, hook.ID, "parked")
		return len(d) == 1, ""
	})
	if n := len(r.requests()); n != 3 {
		t.Fatalf("%d attempts before parking, want 3", n)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(r.requests()); n != 3 {
		t.Fatalf("a parked delivery was tried again (%d)", n)
	}
	if n := counter(t, h, "ledger_webhook_deliveries_total", "outcome", "parked"); n != 1 {
		t.Fatalf("parked %v", n)
	}
	r.setDown(false)
	resp := h.Server.Do(t, http.MethodPost, supervision.WebhooksPath+"/"+hook.ID+"/replay", bearer(tok), nil)
	if resp.Status != 200 || string(resp.Body) != `{"replayed":1,"webhook_id":"`+hook.ID+`"}`+"\n" {
		t.Fatalf("replay: %d %s", resp.Status, resp.Body)
	}
	h.Wait("the replayed delivery", 15*time.Second, func() (bool, string) {
		d := deliveries(t, h, tok, hook.ID, "delivered")
		return len(d) == 1, ""
	})
	if got := r.requests(); len(got) != 4 || !got[3].ok || !got[3].signed {
		t.Fatalf("%+v", got)
	}
}

// TestWebhookDeliveriesSurviveRestart: a delivery failing while the deliverer stops is delivered by the
// next one, with its count of attempts kept.
func TestWebhookDeliveriesSurviveRestart(t *testing.T) {
	t.Parallel()
	h := supervisiontest.New(t, supervisiontest.Options{Webhooks: func(c *supervision.WebhookConfig) { c.BaseBackoff = 500 * time.Millisecond }})
	tok := h.Token(commands.RoleAdmin, "*")
	r := newReceiver(t, 0)
	r.setDown(true)
	hook := register(t, h, tok, r, supervisiontest.DistrictY)
	raise(h, supervisiontest.NewCommunity(supervisiontest.DistrictY, 4), "y1")
	h.Wait("a failed attempt", 15*time.Second, func() (bool, string) {
		d := deliveries(t, h, tok, hook.ID, "pending")
		return len(d) == 1 && d[0].Attempts == 1, ""
	})
	h.StopWebhooks()
	r.setDown(false)
	w, err := supervision.NewWebhooks(supervision.WebhookConfig{Pool: h.Server.Pool, PollEvery: 50 * time.Millisecond, BaseBackoff: 500 * time.Millisecond,
		Policy: supervision.WebhookPolicy{AllowHTTP: true, AllowPrivate: true}})
	if err != nil {
		t.Fatal(err)
	}
	h.StartWebhooks(w)
	h.Wait("the delivery after the restart", 15*time.Second, func() (bool, string) {
		d := deliveries(t, h, tok, hook.ID, "delivered")
		return len(d) == 1 && d[0].Attempts == 2, ""
	})
	if got := r.requests(); len(got) != 2 || !got[1].ok {
		t.Fatalf("%+v", got)
	}
}
