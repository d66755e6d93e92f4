// Package supervisiontest starts the supervision pipeline for tests the way `ledger serve` runs it: the real
// embedded node through the real client adapter, a PostgreSQL database of the test's own, the projection
// runtime with the alerts read model, the alerting engine on a clock the test drives, the webhook
// deliverer and the supervisors' HTTP API on an httptest server. Tests record domain events as the
// command side would (envelope, community metadata, append) and watch the alerts come and go.
//
// Tests fail, not skip, when DATABASE_URL is unset.
package supervisiontest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/grassroots-ledger/ledger/projections/board"
	"github.com/grassroots-ledger/ledger/projections/meetings"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/events"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/infra/httpapi"
	"github.com/grassroots-ledger/ledger/infra/httpapi/apitest"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/infra/supervision"
	"github.com/grassroots-ledger/ledger/projections/directory"
	"github.com/grassroots-ledger/ledger/projections/runtime"
	alerts "github.com/grassroots-ledger/ledger/projections/supervision"
)

// Clock is a clock the test sets.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t.UTC()} }

// Now implements commands.Clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t.UTC()
	c.mu.Unlock()
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Start is the default start of a harness clock: Monday 2 March 2026, 09:00 China time.
var Start = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)

// Options adjust a harness.
type Options struct {
	// Clock starts at Start unless set.
	Clock *Clock
	// Webhooks adjusts the webhook deliverer's configuration (Pool and Registerer are set).
	Webhooks func(*supervision.WebhookConfig)
	// NoEngine leaves the engine stopped (StartEngine starts it).
	NoEngine bool
	// Streams caps the alert streams (the API's defaults when nil).
	Streams *httpapi.StreamLimits
}

// Harness is a running supervision pipeline.
type Harness struct {
	Server   *apitest.Server
	Clock    *Clock
	Registry *kernel.Registry
	Metrics  *prometheus.Registry
	Engine   *supervision.Engine
	Webhooks *supervision.Webhooks
	API      *supervision.API

	tb           testing.TB
	ctx          context.Context
	stopRuntime  func()
	stopEngine   func()
	stopWebhooks func()
}

// New starts a harness for the test; everything stops when the test ends.
func New(tb testing.TB, opts Options) *Harness {
	tb.Helper()
	h := &Harness{tb: tb, Clock: opts.Clock, Registry: events.MustRegistry(), Metrics: prometheus.NewRegistry()}
	if h.Clock == nil {
		h.Clock = NewClock(Start)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	h.ctx = ctx
	h.Server = apitest.Start(tb, apitest.Config{Clock: h.Clock, Register: func(s *apitest.Server) {
		if err := supervision.Migrate(ctx, s.Pool); err != nil {
			tb.Fatal(err)
		}
		var err error
		h.Engine, err = supervision.NewEngine(supervision.EngineConfig{Pool: s.Pool, Store: s.Store, Clock: h.Clock, Registerer: h.Metrics,
			Logger: apitest.Logger(), SweepEvery: 25 * time.Millisecond, CatchUpTimeout: 10 * time.Second})
		if err != nil {
			tb.Fatal(err)
		}
		wc := supervision.WebhookConfig{Pool: s.Pool, Registerer: h.Metrics, Logger: apitest.Logger(), PollEvery: 50 * time.Millisecond,
			BaseBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, MaxAttempts: 5, Lease: 5 * time.Second,
			// The tests' receivers listen on loopback over http.
			Policy: supervision.WebhookPolicy{AllowHTTP: true, AllowPrivate: true}}
		if opts.Webhooks != nil {
			opts.Webhooks(&wc)
		}
		h.Webhooks, err = supervision.NewWebhooks(wc)
		if err != nil {
			tb.Fatal(err)
		}
		h.API, err = supervision.NewAPI(supervision.APIConfig{Mux: s.Mux, Pool: s.Pool, Tokens: s.Tokens, Engine: h.Engine, Executor: s.Executor, Webhooks: h.Webhooks,
			Store: s.Store, Now: h.Clock.Now, Registerer: h.Metrics, Logger: apitest.Logger(), Heartbeat: 2 * time.Second, Streams: opts.Streams})
		if err != nil {
			tb.Fatal(err)
		}
	}})
	h.StartRuntime()
	if !opts.NoEngine {
		h.StartEngine()
	}
	h.stopWebhooks = h.goRun("webhooks", h.Webhooks.Run)
	h.goRun("api", h.API.Run)
	return h
}

func (h *Harness) goRun(name string, run func(context.Context) error) func() {
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			h.tb.Errorf("%s: %v", name, err)
		}
	}
	h.tb.Cleanup(stop)
	return stop
}

// StartDirectory starts a second projection runtime with the directory, board and meetings read models
// (the casework, standings and assessments the supervisors' API reports on).
func (h *Harness) StartDirectory() {
	h.tb.Helper()
	rt, err := runtime.New(runtime.Config{Pool: h.Server.Pool, Source: h.Server.Store, Migrate: pg.Migrator(h.Server.Pool),
		Models: []runtime.ReadModel{directory.New(), board.New(), meetings.New()}, Logger: apitest.Logger(), RetryInitial: 20 * time.Millisecond,
		RetryMax: 200 * time.Millisecond})
	if err != nil {
		h.tb.Fatal(err)
	}
	if err := rt.Migrate(h.ctx); err != nil {
		h.tb.Fatal(err)
	}
	h.goRun("directory", rt.Run)
}

// NewModel returns a fresh alerts read model.
func (h *Harness) NewModel() *alerts.Model { return alerts.New(h.Registry) }

// StartRuntime starts a projection runtime with the alerts read model.
func (h *Harness) StartRuntime() {
	h.tb.Helper()
	rt, err := runtime.New(runtime.Config{Pool: h.Server.Pool, Source: h.Server.Store, Migrate: pg.Migrator(h.Server.Pool),
		Models: []runtime.ReadModel{h.NewModel()}, Logger: apitest.Logger(), RetryInitial: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond})
	if err != nil {
		h.tb.Fatal(err)
	}
	if err := rt.Migrate(h.ctx); err != nil {
		h.tb.Fatal(err)
	}
	h.stopRuntime = h.goRun("projections", rt.Run)
}

// StopRuntime stops the projection runtime (a crash of the projector, as far as the others can tell).
func (h *Harness) StopRuntime() { h.stopRuntime() }

// StartEngine starts the alerting engine.
func (h *Harness) StartEngine() { h.stopEngine = h.goRun("engine", h.Engine.Run) }

// StopEngine stops the alerting engine.
func (h *Harness) StopEngine() { h.stopEngine() }

// StopWebhooks stops the webhook deliverer.
func (h *Harness) StopWebhooks() { h.stopWebhooks() }

// StartWebhooks starts w (a new deliverer, as after a restart) in place of the harness's.
func (h *Harness) StartWebhooks(w *supervision.Webhooks) {
	h.Webhooks = w
	h.stopWebhooks = h.goRun("webhooks", w.Run)
}

// Community is a community of the harness's jurisdiction tree: province 33, city 3303, districts
// 330303 and 330304.
type Community struct {
	ID   kernel.CommunityID
	Path kernel.JurisdictionPath
}

// District paths of the harness.
const (
	DistrictX kernel.JurisdictionPath = "33/3303/330303"
	DistrictY kernel.JurisdictionPath = "33/3303/330304"
)

// NewCommunity returns the i-th community of a district: <district>/<district>001/<district>001<iii>.
func NewCommunity(district kernel.JurisdictionPath, i int) Community {
	d := district.Last()
	street := d + "001"
	id := fmt.Sprintf("%s%03d", street, i)
	return Community{ID: kernel.CommunityID(id), Path: kernel.JurisdictionPath(fmt.Sprintf("%s/%s/%s", district, street, id))}
}

// Stream names a stream of the community: <kind>-<community>-<id>.
func (c Community) Stream(kind, id string) string { return eventlog.StreamName(kind, string(c.ID), id) }

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Record appends events to stream as a clerk's command on community c would, at the clock's now.
func (h *Harness) Record(c Community, stream string, evs ...kernel.Event) eventlog.AppendResult {
	h.tb.Helper()
	return h.RecordExpecting(c, stream, eventlog.Any(), evs...)
}

// RecordExpecting is Record with an expectation of the stream (NoStream for a new one: one round trip).
func (h *Harness) RecordExpecting(c Community, stream string, expected eventlog.Expected, evs ...kernel.Event) eventlog.AppendResult {
	h.tb.Helper()
	cmd := "test-" + newID()
	out := make([]eventlog.Event, len(evs))
	for i, e := range evs {
		if !h.Registry.Knows(e) {
			h.tb.Fatalf("%s is not registered", e.EventName())
		}
		name, v, data, err := kernel.Encode(e)
		if err != nil {
			h.tb.Fatal(err)
		}
		out[i] = eventlog.Event{ID: eventlog.DeriveID(cmd, i), Type: name, Data: data, Meta: eventlog.Metadata{
			SchemaVersion: v, CommunityID: string(c.ID), Jurisdiction: string(c.Path), Actor: "clerk:test", CommandID: cmd,
			CorrelationID: cmd, CausationID: cmd, OccurredAt: h.Clock.Now()}}
	}
	res, err := h.Server.Store.Append(h.ctx, stream, expected, out)
	if err != nil {
		h.tb.Fatalf("append to %s: %v", stream, err)
	}
	return res
}

// Advance moves the clock and wakes the engine.
func (h *Harness) Advance(d time.Duration) {
	h.Clock.Advance(d)
	h.Engine.Wake()
}

// SetClock sets the clock to t and wakes the engine.
func (h *Harness) SetClock(t time.Time) {
	h.Clock.Set(t)
	h.Engine.Wake()
}

// Register records community c's registration (its profile stream) with kind and figures, now.
func (h *Harness) Register(c Community, kind kernel.CommunityKind, households, adults int) {
	h.Record(c, c.Stream("community", "profile"), community.Registered{CommunityID: c.ID, Name: "社区" + string(c.ID), Kind: kind,
		Jurisdiction: c.Path, Households: households, Adults: adults, RegisteredAt: h.Clock.Now()})
}

// Token mints a token of role scoped to path.
func (h *Harness) Token(role commands.Role, path kernel.JurisdictionPath) string {
	return h.Server.Token(h.tb, role, string(path))
}

// Wait polls cond until it holds or the timeout passes (then the test fails with what cond said last).
func (h *Harness) Wait(what string, timeout time.Duration, cond func() (bool, string)) {
	h.tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			h.tb.Fatalf("timed out after %s waiting for %s: %s", timeout, what, last)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Alerts returns every alert of a community, open or not, newest first.
func (h *Harness) Alerts(c kernel.CommunityID) []alerts.Alert {
	h.tb.Helper()
	out, err := alerts.AlertsOf(h.ctx, h.Server.Pool, c)
	if err != nil {
		h.tb.Fatal(err)
	}
	return out
}

// WaitAlert waits for an alert of rule about subject that satisfies ok, and returns it.
func (h *Harness) WaitAlert(rule kernel.RuleID, subject string, ok func(alerts.Alert) bool) alerts.Alert {
	h.tb.Helper()
	var found alerts.Alert
	h.Wait(fmt.Sprintf("alert %s on %s", rule, subject), 15*time.Second, func() (bool, string) {
		all, err := alerts.AlertsAbout(h.ctx, h.Server.Pool, rule, subject)
		if err != nil {
			return false, err.Error()
		}
		var seen []string
		for _, a := range all {
			if ok(a) {
				found = a
				return true, ""
			}
			seen = append(seen, fmt.Sprintf("%+v", a))
		}
		return false, fmt.Sprintf("alerts: %v", seen)
	})
	return found
}

// Snapshot is every row of the alerts read model that a rebuild must give again, as text: alerts,
// ratings, deadlines, conditions, the feed and the outbox.
func (h *Harness) Snapshot() string {
	h.tb.Helper()
	var s string
	err := h.Server.Pool.QueryRow(h.ctx, `SELECT string_agg(t, E'\n' ORDER BY t) FROM (
		SELECT format('alert %s %s %s %s %s %s', alert_id, rule, severity, cleared_at, clear_reason, raised_commit) t FROM rm_alerts.alerts
		UNION ALL SELECT format('rating %s %s %s %s', community_id, rating, open_red, open_yellow) FROM rm_alerts.ratings
		UNION ALL SELECT format('deadline %s %s %s %s %s', rule, subject, due_at, next_at, severity) FROM rm_alerts.deadlines
		UNION ALL SELECT format('condition %s %s %s', rule, subject, broken) FROM rm_alerts.conditions
		UNION ALL SELECT format('feed %s %s %s', commit_pos, event_id, type) FROM rm_alerts.alert_events
		UNION ALL SELECT format('outbox %s', event_id) FROM rm_alerts.outbox) x`).Scan(&s)
	if err != nil {
		h.tb.Fatal(err)
	}
	return s
}

// Open matches an open alert; OfSeverity an open alert of a severity; Cleared a cleared one.
func Open(a alerts.Alert) bool { return a.Open() }

// Cleared matches a cleared alert.
func Cleared(a alerts.Alert) bool { return !a.Open() }

// RedOpen matches an open red alert.
func RedOpen(a alerts.Alert) bool { return a.Open() && a.Severity == "red" }

// YellowOpen matches an open yellow alert.
func YellowOpen(a alerts.Alert) bool { return a.Open() && a.Severity == "yellow" }

// Quiesce waits until the read model has applied everything in the store and the outbox is empty.
func (h *Harness) Quiesce() {
	h.tb.Helper()
	h.Wait("the alerts pipeline to settle", 15*time.Second, func() (bool, string) {
		head, err := h.Server.Store.Head(h.ctx)
		if err != nil {
			return false, err.Error()
		}
		cp, err := alerts.NewRunner(h.Server.Pool).Checkpoint(h.ctx)
		if err != nil {
			return false, err.Error()
		}
		var pending int
		if err := h.Server.Pool.QueryRow(h.ctx, `SELECT count(*) FROM rm_alerts.outbox`).Scan(&pending); err != nil {
			return false, err.Error()
		}
		return !cp.Less(head) && pending == 0, fmt.Sprintf("checkpoint %s head %s outbox %d", cp, head, pending)
	})
}

// AlertEvents counts the alert events in the store, by type.
func (h *Harness) AlertEvents() map[string]int {
	h.tb.Helper()
	out := map[string]int{}
	err := h.Server.Store.ReadAll(h.ctx, eventlog.Start, 0, func(r eventlog.Recorded) error {
		if len(r.Stream) > 7 && r.Stream[:7] == "alerts-" {
			out[r.Type]++
		}
		return nil
	})
	if err != nil {
		h.tb.Fatal(err)
	}
	return out
}

// Serve serves a new HTTP server for the supervisors' API on the harness's database (another instance
// of `ledger serve`'s API, say after a restart). Close it to stop it.
func (h *Harness) Serve() (*httptest.Server, *supervision.API) {
	h.tb.Helper()
	mux := http.NewServeMux()
	api, err := supervision.NewAPI(supervision.APIConfig{Mux: mux, Pool: h.Server.Pool, Tokens: h.Server.Tokens, Engine: h.Engine, Executor: h.Server.Executor,
		Store: h.Server.Store, Logger: apitest.Logger(), Heartbeat: 2 * time.Second})
	if err != nil {
		h.tb.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	stop := h.goRun("api", api.Run)
	h.tb.Cleanup(func() { srv.Close(); stop() })
	return srv, api
}
