package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/esdbnode/nodetest"
	"github.com/grassroots-ledger/ledger/infra/health"
	"github.com/grassroots-ledger/ledger/infra/httpapi/apitest"
	"github.com/grassroots-ledger/ledger/infra/metrics"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// strict counts events and cannot apply those of type test.bad; it halts on them.
type strict struct{}

func (strict) Name() string                 { return "strict" }
func (strict) Poison() runtime.PoisonPolicy { return runtime.Halt }
func (strict) Migrations() fs.FS {
	return fstest.MapFS{"0001_seen.sql": {Data: []byte("CREATE TABLE seen (commit_pos bigint PRIMARY KEY);")}}
}
func (strict) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.Recorded) error {
	for _, e := range batch {
		if e.Type == "test.bad" {
			return runtime.Poison(e, errors.New("this event cannot be applied"))
		}
		if _, err := tx.Exec(ctx, "INSERT INTO seen VALUES ($1)", int64(e.Position.Commit)); err != nil {
			return err
		}
	}
	return nil
}

func event(typ string, i int) eventlog.Event {
	cmd := fmt.Sprintf("health-%s-%d", typ, i)
	return eventlog.Event{ID: eventlog.DeriveID(cmd, 0), Type: typ, Data: []byte(`{}`),
		Meta: eventlog.Metadata{SchemaVersion: 1, CommunityID: "330303001001", Jurisdiction: "33/3303/330303/330303001/330303001001",
			Actor: "clerk:1", CommandID: cmd, CorrelationID: cmd, OccurredAt: time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)}}
}

func get(t *testing.T, url string) (int, health.Report) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r health.Report
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, r
}

// TestHealthNamesWhatStopsTheLedger: /healthz and /readyz are 200 while the store and PostgreSQL answer
// and the models run; a model halted on a poison event makes both 503 and the report names the model and
// the event; a store that stopped answering makes them 503 naming the store.
func TestHealthNamesWhatStopsTheLedger(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	pool, err := pg.Connect(ctx, pg.Config{URL: apitest.NewDatabase(t), MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	node, store := nodetest.Start(t, log)
	rt, err := runtime.New(runtime.Config{Pool: pool, Source: store, Migrate: pg.Migrator(pool), Models: []runtime.ReadModel{strict{}},
		Registerer: prometheus.NewRegistry(), Logger: log, RetryInitial: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = rt.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done })
	lag, err := metrics.NewLag(pool, store, []string{"strict"}, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	c := health.New(health.Config{Store: store, Database: pool, Models: rt.Status, Lag: lag.Last})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", c.Healthz)
	mux.HandleFunc("GET /readyz", c.Readyz)
	mux.HandleFunc("GET /livez", health.Livez)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	stream := "test-330303001001-h"
	res, err := store.Append(ctx, stream, eventlog.NoStream(), []eventlog.Event{event("test.good", 0), event("test.good", 1)})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the model to apply the good events", func() bool { return rt.Status()[0].Checkpoint == res.Position })
	_ = lag.Update(ctx)
	time.Sleep(1100 * time.Millisecond) // past the checker's one-second reuse
	for _, p := range []string{"/healthz", "/readyz"} {
		if st, r := get(t, srv.URL+p); st != http.StatusOK || !r.Healthy || !r.Store.Reachable || !r.Database.Reachable || len(r.Models) != 1 || r.Models[0].State != health.Running {
			t.Fatalf("%s with everything running: %d %+v", p, st, r)
		}
	}
	// A standby (its runtime not running) or a serve restarted with nothing new to apply shows the
	// checkpoint the database holds, not the zero position of a runtime that has applied nothing yet.
	standby, err := runtime.New(runtime.Config{Pool: pool, Source: store, Migrate: pg.Migrator(pool), Models: []runtime.ReadModel{strict{}},
		Registerer: prometheus.NewRegistry(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	sc := health.New(health.Config{Store: store, Database: pool, Models: standby.Status, Lag: lag.Last})
	ssrv := httptest.NewServer(http.HandlerFunc(sc.Healthz))
	t.Cleanup(ssrv.Close)
	if st, r := get(t, ssrv.URL); st != http.StatusOK || len(r.Models) != 1 || r.Models[0].Checkpoint != res.Position.String() {
		t.Fatalf("a standby's /healthz: %d %+v; want the model at %s", st, r, res.Position)
	}

	recs, err := store.ReadStream(ctx, stream, 0, 10, false)
	if err != nil {
		t.Fatal(err)
	}
	last := recs[len(recs)-1]
	bad, err := store.Append(ctx, stream, eventlog.At(last.Revision, last.Meta.Hash), []eventlog.Event{event("test.bad", 2)})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the model to halt", func() bool { return rt.Status()[0].Halted })
	time.Sleep(1100 * time.Millisecond)
	for _, p := range []string{"/healthz", "/readyz"} {
		st, r := get(t, srv.URL+p)
		if st != http.StatusServiceUnavailable || r.Healthy || r.Models[0].State != health.Halted ||
			!strings.Contains(r.Models[0].HaltReason, bad.Position.String()) || len(r.Problems) == 0 {
			t.Fatalf("%s with the model halted at %s: %d %+v", p, bad.Position, st, r)
		}
	}

	if err := node.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	st, r := get(t, srv.URL+"/healthz")
	if st != http.StatusServiceUnavailable || r.Store.Reachable || !r.Database.Reachable {
		t.Fatalf("/healthz with the store down: %d %+v", st, r)
	}
	// A load balancer's check: the process still serves (the portal from PostgreSQL), so still 200.
	if st := getStatus(t, srv.URL+"/livez"); st != http.StatusOK {
		t.Fatalf("/livez with a model halted and the store down: %d", st)
	}
}

func getStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// While the projections this process runs are starting, /readyz is 503 naming it and /healthz stays 200;
// once they have started, /readyz is 200.
func TestNotReadyWhileTheProjectionsStart(t *testing.T) {
	starting := true
	srv := serveChecks(t, health.Config{Starting: func() bool { return starting }})
	if st, r := get(t, srv.URL+"/readyz"); st != http.StatusServiceUnavailable || r.Ready || !r.Healthy ||
		len(r.Problems) != 1 || !strings.Contains(r.Problems[0], "starting") {
		t.Fatalf("/readyz while starting: %d %+v", st, r)
	}
	if st, r := get(t, srv.URL+"/healthz"); st != http.StatusOK || !r.Healthy {
		t.Fatalf("/healthz while starting: %d %+v", st, r)
	}
	starting = false
	time.Sleep(1100 * time.Millisecond) // past the checker's one-second reuse
	if st, r := get(t, srv.URL+"/readyz"); st != http.StatusOK || !r.Ready {
		t.Fatalf("/readyz once started: %d %+v", st, r)
	}
}

// Until the read models' lag behind the store has been measured once, /readyz is 503 saying so (a serve
// just started on a database far behind — restored, or new — answered 200 for its first second or two,
// seen by hand after a restore); /healthz stays 200. Once measured and caught up, /readyz is 200.
func TestNotReadyBeforeTheLagIsMeasured(t *testing.T) {
	ctx := context.Background()
	pool, err := pg.Connect(ctx, pg.Config{URL: apitest.NewDatabase(t), MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	_, store := nodetest.Start(t, slog.New(slog.DiscardHandler))
	// A read model's checkpoint row, as the runtime's migration makes it, at the start.
	if _, err := pool.Exec(ctx, `CREATE SCHEMA rm_probe; CREATE TABLE rm_probe.checkpoint (commit_pos bigint, prepare_pos bigint);
		INSERT INTO rm_probe.checkpoint VALUES (0, 0)`); err != nil {
		t.Fatal(err)
	}
	lag, err := metrics.NewLag(pool, store, []string{"probe"}, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	srv := serveChecks(t, health.Config{Lag: lag.Last})
	if st, r := get(t, srv.URL+"/readyz"); st != http.StatusServiceUnavailable || r.Ready || !r.Healthy ||
		len(r.Problems) != 1 || !strings.Contains(r.Problems[0], "not measured") {
		t.Fatalf("/readyz before the lag is measured: %d %+v", st, r)
	}
	if st, r := get(t, srv.URL+"/healthz"); st != http.StatusOK || !r.Healthy {
		t.Fatalf("/healthz before the lag is measured: %d %+v", st, r)
	}
	if err := lag.Update(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // past the checker's one-second reuse
	if st, r := get(t, srv.URL+"/readyz"); st != http.StatusOK || !r.Ready {
		t.Fatalf("/readyz once measured: %d %+v", st, r)
	}
}

// A store that answers reads but refuses every append (the embedded node after a failed commit: a full
// disk) is not healthy: /healthz and /readyz are 503 and say why and that reads go on; once it takes
// appends again (a restarted node), both are 200.
func TestAStoreRefusingAppendsIsNotHealthy(t *testing.T) {
	var refusing error
	srv := serveChecks(t, health.Config{Refusing: func() error { return refusing }})
	if st, r := get(t, srv.URL+"/healthz"); st != http.StatusOK || !r.Healthy || r.Store.Refusing != "" {
		t.Fatalf("/healthz while the store takes appends: %d %+v", st, r)
	}
	refusing = errors.New("esdbnode: store is failed after a commit error, restart the node: no space left on device")
	time.Sleep(1100 * time.Millisecond) // past the checker's one-second reuse
	for _, p := range []string{"/healthz", "/readyz"} {
		st, r := get(t, srv.URL+p)
		if st != http.StatusServiceUnavailable || r.Healthy || r.Ready || !r.Store.Reachable || !strings.Contains(r.Store.Refusing, "no space left") ||
			len(r.Problems) != 1 || !strings.Contains(r.Problems[0], "refuses every append") {
			t.Fatalf("%s while the store refuses appends: %d %+v", p, st, r)
		}
	}
	refusing = nil
	time.Sleep(1100 * time.Millisecond)
	if st, r := get(t, srv.URL+"/readyz"); st != http.StatusOK || !r.Ready {
		t.Fatalf("/readyz once the store takes appends again: %d %+v", st, r)
	}
}

// serveChecks serves /healthz and /readyz of cfg, completed with a database of the test's own, an embedded
// node and no read models.
func serveChecks(t *testing.T, cfg health.Config) *httptest.Server {
	t.Helper()
	pool, err := pg.Connect(context.Background(), pg.Config{URL: apitest.NewDatabase(t), MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	_, store := nodetest.Start(t, slog.New(slog.DiscardHandler))
	cfg.Store, cfg.Database, cfg.Models = store, pool, func() []runtime.Status { return nil }
	c := health.New(cfg)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", c.Healthz)
	mux.HandleFunc("GET /readyz", c.Readyz)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}
