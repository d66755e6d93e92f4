package supervision_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	policy "github.com/grassroots-ledger/ledger/domain/supervision"
	"github.com/grassroots-ledger/ledger/infra/httpapi"
	"github.com/grassroots-ledger/ledger/infra/supervision"
	"github.com/grassroots-ledger/ledger/infra/supervision/supervisiontest"
)

// sseEvent is one server-sent event.
type sseEvent struct {
	ID, Event string
	Item      supervision.StreamItem
	Alert     map[string]any
}

// sseClient reads a stream in the background.
type sseClient struct {
	resp   *http.Response
	events chan sseEvent
	cancel context.CancelFunc
}

func openStream(t testing.TB, base, token, query, lastID string) *sseClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+supervision.StreamPath+query, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	c := &sseClient{resp: resp, events: make(chan sseEvent, 100), cancel: cancel}
	go func() {
		defer close(c.events)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		var data string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if data != "" {
					_ = json.Unmarshal([]byte(data), &ev.Item)
					_ = json.Unmarshal(ev.Item.Alert, &ev.Alert)
					c.events <- ev
				}
				ev, data = sseEvent{}, ""
			case strings.HasPrefix(line, "id: "):
				ev.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.Event = line[7:]
			case strings.HasPrefix(line, "data: "):
				data = line[6:]
			}
		}
	}()
	t.Cleanup(c.close)
	return c
}

func (c *sseClient) close() {
	c.cancel()
	_ = c.resp.Body.Close()
}

// next returns the next n events, failing after a timeout.
func (c *sseClient) next(t *testing.T, n int) []sseEvent {
	t.Helper()
	var out []sseEvent
	timeout := time.After(15 * time.Second)
	for len(out) < n {
		select {
		case ev, ok := <-c.events:
			if !ok {
				t.Fatalf("stream ended after %d of %d events", len(out), n)
			}
			out = append(out, ev)
		case <-timeout:
			t.Fatalf("got %d of %d events: %+v", len(out), n, out)
		}
	}
	return out
}

// none fails if an event arrives within d.
func (c *sseClient) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case ev := <-c.events:
		t.Fatalf("unexpected event %+v", ev)
	case <-time.After(d):
	}
}

// raise records a breach that raises one alert about subject id in community c.
func raise(h *supervisiontest.Harness, c supervisiontest.Community, id string) {
	h.Record(c, c.Stream("expenditure", id), funds.ExpenditureApproved{ExpenditureID: id, By: "p", ApprovedAt: h.Clock.Now(),
		Watch: breach(rulebook.BudgetBalance, "超预算 "+id)})
}

func subjects(evs []sseEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, fmt.Sprint(e.Alert["subject"]))
	}
	return out
}

func TestStreamScopeAuth(t *testing.T) {
	t.Parallel()
	h := supervisiontest.New(t, supervisiontest.Options{})
	x := h.Token(commands.RoleSupervisor, supervisiontest.DistrictX)
	for _, c := range []struct {
		name, token, query string
		status             int
		code               string
	}{
		{"no token", "", "", 401, "unauthenticated"},
		{"a bad token", "lg_nope", "", 401, "unauthenticated"},
		{"a clerk", h.Token(commands.RoleClerk, supervisiontest.DistrictX), "", 403, "role-not-allowed"},
		{"another district", x, "?under=" + string(supervisiontest.DistrictY), 403, "out-of-scope"},
		{"above the scope", x, "?under=33/3303", 403, "out-of-scope"},
		{"a malformed path", x, "?under=33//x", 400, "invalid-jurisdiction-path"},
	} {
		t.Run(c.name, func(t *testing.T) {
			hdr := http.Header{}
			if c.token != "" {
				hdr.Set("Authorization", "Bearer "+c.token)
			}
			h.Server.Do(t, http.MethodGet, supervision.StreamPath+c.query, hdr, nil).WantProblem(t, c.status, c.code)
		})
	}
	hdr := http.Header{"Authorization": {"Bearer " + x}, "Last-Event-Id": {"garbage"}}
	h.Server.Do(t, http.MethodGet, supervision.StreamPath, hdr, nil).WantProblem(t, 400, "invalid-value")
}

// TestStreamScopeAndResume: a supervisor of district X hears X's alerts and never Y's; reconnecting with
// Last-Event-ID resumes right after the last event seen, without loss or repeat, also when the server
// (its API, engine and projector) restarted in between.
func TestStreamScopeAndResume(t *testing.T) {
	t.Parallel()
	h := supervisiontest.New(t, supervisiontest.Options{})
	cx := supervisiontest.NewCommunity(supervisiontest.DistrictX, 1)
	cy := supervisiontest.NewCommunity(supervisiontest.DistrictY, 1)
	tokX := h.Token(commands.RoleSupervisor, supervisiontest.DistrictX)
	tokY := h.Token(commands.RoleAuditor, supervisiontest.DistrictY)

	srvA, _ := h.Serve()
	sx := openStream(t, srvA.URL, tokX, "", "")
	sy := openStream(t, srvA.URL, tokY, "", "")
	raise(h, cx, "x1")
	raise(h, cy, "y1")
	raise(h, cx, "x2")
	raise(h, cy, "y2")
	raise(h, cx, "x3")
	got := sx.next(t, 3)
	if s := subjects(got); strings.Join(s, ",") != cx.Stream("expenditure", "x1")+","+cx.Stream("expenditure", "x2")+","+cx.Stream("expenditure", "x3") {
		t.Fatalf("district X heard %v", s)
	}
	for _, e := range got {
		if e.Event != "supervision.alert-raised" || e.ID != e.Item.Position || e.Item.Stream != "alerts-330303" {
			t.Fatalf("event %+v", e)
		}
	}
	if ys := sy.next(t, 2); ys[0].Alert["community_id"] != string(cy.ID) || ys[1].Alert["community_id"] != string(cy.ID) {
		t.Fatalf("district Y heard %v", subjects(ys))
	}
	sx.none(t, 300*time.Millisecond)

	// Disconnect after the second event; two more alerts while away; resume after the second.
	sx.close()
	raise(h, cx, "x4")
	raise(h, cx, "x5")
	h.Quiesce()
	s2 := openStream(t, srvA.URL, tokX, "", got[1].ID)
	resumed := s2.next(t, 3)
	if s := subjects(resumed); strings.Join(s, ",") != cx.Stream("expenditure", "x3")+","+cx.Stream("expenditure", "x4")+","+cx.Stream("expenditure", "x5") {
		t.Fatalf("resumed with %v", s)
	}
	s2.none(t, 300*time.Millisecond)
	last := resumed[2].ID

	// The server goes down: API, engine and projector. Alerts are raised meanwhile (recorded while the
	// server is down, raised once it is back).
	s2.close()
	srvA.CloseClientConnections()
	srvA.Close()
	h.StopEngine()
	h.StopRuntime()
	raise(h, cx, "x6")
	raise(h, cy, "y3")
	raise(h, cx, "x7")
	h.StartRuntime()
	h.StartEngine()
	srvB, _ := h.Serve()
	s3 := openStream(t, srvB.URL, tokX, "", last)
	after := s3.next(t, 2)
	if s := subjects(after); strings.Join(s, ",") != cx.Stream("expenditure", "x6")+","+cx.Stream("expenditure", "x7") {
		t.Fatalf("after the restart: %v", s)
	}
	// Live again after the resume.
	raise(h, cx, "x8")
	if s := subjects(s3.next(t, 1)); s[0] != cx.Stream("expenditure", "x8") {
		t.Fatalf("live: %v", s)
	}
	s3.none(t, 300*time.Millisecond)

	// A narrower subscription within the scope hears only its community.
	raise(h, supervisiontest.NewCommunity(supervisiontest.DistrictX, 2), "other")
	s4 := openStream(t, srvB.URL, tokX, "?under="+string(cx.Path), last)
	if s := subjects(s4.next(t, 3)); s[2] != cx.Stream("expenditure", "x8") {
		t.Fatalf("under the community: %v", s)
	}
	s4.none(t, 300*time.Millisecond)
	_ = policy.Green
}

// TestStreamsAreCapped: alert streams are exempt from the write timeout, so they are capped per token
// and in total: beyond either cap a stream is refused with 429 too-many-streams and Retry-After; a
// stream closed frees its place.
func TestStreamsAreCapped(t *testing.T) {
	t.Parallel()
	h := supervisiontest.New(t, supervisiontest.Options{Streams: &httpapi.StreamLimits{PerKey: 2, Total: 3}})
	a := h.Token(commands.RoleSupervisor, supervisiontest.DistrictX)
	b := h.Token(commands.RoleSupervisor, supervisiontest.DistrictX)
	c := h.Token(commands.RoleAuditor, supervisiontest.DistrictY)
	refused := func(token, why string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, h.Server.URL+supervision.StreamPath, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var p httpapi.Problem
		_ = json.NewDecoder(resp.Body).Decode(&p)
		if resp.StatusCode != http.StatusTooManyRequests || p.Code != httpapi.CodeTooManyStreams || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("%s: %d %+v, want 429 too-many-streams with Retry-After", why, resp.StatusCode, p)
		}
	}
	first := openStream(t, h.Server.URL, a, "", "")
	openStream(t, h.Server.URL, a, "", "")
	refused(a, "a third stream of one token")
	openStream(t, h.Server.URL, b, "", "")
	refused(c, "a fourth stream in all")
	first.close()
	waitStreams(t, func() bool {
		req, _ := http.NewRequest(http.MethodGet, h.Server.URL+supervision.StreamPath, nil)
		req.Header.Set("Authorization", "Bearer "+c)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

func waitStreams(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a closed stream did not free its place within 10 s")
		}
	}
}
