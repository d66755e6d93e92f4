package portal_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/grassroots-ledger/ledger/projections/standing"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/events"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/infra/auth"
	"github.com/grassroots-ledger/ledger/infra/esdbnode"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
	"github.com/grassroots-ledger/ledger/infra/httpapi"
	"github.com/grassroots-ledger/ledger/infra/httpapi/apitest"
	"github.com/grassroots-ledger/ledger/infra/logtest"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/infra/portal"
	"github.com/grassroots-ledger/ledger/infra/supervision"
	"github.com/grassroots-ledger/ledger/infra/workload"
	"github.com/grassroots-ledger/ledger/projections/all"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// district is a demo district served the way `ledger serve` serves it: the embedded node reached through
// the real client, the projections running into a PostgreSQL database of the test's own, the alert
// engine, the command API and the portal on one mux, the portal connected as its read-only role.
type district struct {
	t      testing.TB
	URL    string
	API    *apitest.Server // the command API's helpers (tokens, posting commands)
	Node   *esdbnode.Node
	Store  *eventstore.Store
	Admin  *pgxpool.Pool
	Portal *portal.Portal
	Stats  workload.Stats
	DBURL  string
	Clock  *demoClock // the executor's, the alert engine's and the portal's time
	// Handlers are the command API's, reading the read models (the standing job runs on them).
	Handlers *commands.Handlers
	// PortalLog holds what the portal logged, for tests of what an operator is told.
	PortalLog *logtest.Lines
}

// demoClock runs from the end of the demo history at the pace of the wall clock: the district is the
// same whatever the calendar day, and what is recorded during a test still follows the history in time.
type demoClock struct {
	base, started time.Time
}

func newDemoClock(at time.Time) *demoClock { return &demoClock{base: at.UTC(), started: time.Now()} }

// Now implements commands.Clock.
func (c *demoClock) Now() time.Time { return c.base.Add(time.Since(c.started)) }

func quiet() *slog.Logger {
	if os.Getenv("PORTAL_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// demoUntil is when the tests' demo histories end, and when their clocks start: a fixed instant, so that
// no test depends on the day it runs (the history's year holds a general election).
var demoUntil = workload.DefaultUntil

// demoOptions is the small demo district the tests read: three communities over the year before demoUntil.
func demoOptions() workload.Options {
	return workload.Options{Seed: 7, Communities: 3, Years: 1, Until: demoUntil, Concurrency: 8}
}

// newDistrict builds a district of the test's own, removed when the test ends.
func newDistrict(t testing.TB, opts workload.Options) *district {
	t.Helper()
	d, cleanup, err := buildDistrict(opts, t.Logf)
	t.Cleanup(cleanup)
	if err != nil {
		t.Fatal(err)
	}
	d.t = t
	return d
}

var (
	sharedOnce    sync.Once
	sharedD       *district
	sharedErr     error
	sharedCleanup = func() {}
)

// sharedDistrict is the demo district the read-only tests (and the browser test, which adds a payment)
// share, built once: generating and projecting it is most of the package's test time.
func sharedDistrict(t testing.TB) *district {
	t.Helper()
	sharedOnce.Do(func() { sharedD, sharedCleanup, sharedErr = buildDistrict(demoOptions(), t.Logf) })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedD.with(t)
}

func TestMain(m *testing.M) {
	code := m.Run()
	sharedCleanup()
	os.Exit(code)
}

// with returns the district reporting to t.
func (d *district) with(t testing.TB) *district {
	c := *d
	c.t = t
	return &c
}

// buildDistrict builds a district on DATABASE_URL's server; cleanup undoes whatever was built, also after
// an error.
func buildDistrict(opts workload.Options, logf func(string, ...any)) (_ *district, cleanup func(), err error) {
	server := os.Getenv("DATABASE_URL")
	if server == "" {
		return nil, func() {}, fmt.Errorf("DATABASE_URL is not set: these tests need PostgreSQL. Run `make test` (it starts a throwaway " +
			"cluster) or `bash scripts/with-pg.sh go test ./infra/portal/...`, or set DATABASE_URL for a role that may CREATE DATABASE and CREATE ROLE")
	}
	return buildDistrictOn(server, opts, logf)
}

// buildDistrictOn builds a district in a new database on the PostgreSQL server at server.
func buildDistrictOn(server string, opts workload.Options, logf func(string, ...any)) (_ *district, cleanup func(), err error) {
	ctx := context.Background()
	var undo []func()
	cleanup = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	start := time.Now()
	dbURL, drop, err := createDatabase(ctx, server)
	if err != nil {
		return nil, cleanup, err
	}
	undo = append(undo, drop)
	admin, err := pg.Connect(ctx, pg.Config{URL: dbURL, MaxConns: 12})
	if err != nil {
		return nil, cleanup, err
	}
	undo = append(undo, admin.Close)
	dir, err := os.MkdirTemp("", "portal-node-")
	if err != nil {
		return nil, cleanup, err
	}
	undo = append(undo, func() { _ = os.RemoveAll(dir) })
	node, err := esdbnode.Open(ctx, esdbnode.Config{Dir: dir, Listen: "127.0.0.1:0", Logger: quiet()})
	if err != nil {
		return nil, cleanup, fmt.Errorf("open embedded node: %w", err)
	}
	undo = append(undo, func() { _ = node.Close() })
	store, err := eventstore.Dial(ctx, eventstore.Config{URL: node.URL(), Logger: quiet()})
	if err != nil {
		return nil, cleanup, fmt.Errorf("dial embedded node: %w", err)
	}
	undo = append(undo, func() { _ = store.Close() })
	if opts.Until.IsZero() {
		opts.Until = demoUntil
	}
	clock := newDemoClock(opts.Until)
	stats, err := workload.Generate(ctx, opts, store)
	if err != nil {
		return nil, cleanup, fmt.Errorf("generate the demo district: %w", err)
	}
	generated := time.Since(start)
	if stats.Events > 100_000 {
		logf("generated %d events in %s; projecting", stats.Events, generated.Round(time.Second))
	}

	reg := events.MustRegistry()
	rt, err := runtime.New(runtime.Config{Pool: admin, Source: store, Migrate: pg.Migrator(admin), Logger: quiet(),
		Models: all.Models(nil)})
	if err != nil {
		return nil, cleanup, err
	}
	if err := rt.Migrate(ctx); err != nil {
		return nil, cleanup, err
	}
	if err := supervision.Migrate(ctx, admin); err != nil {
		return nil, cleanup, err
	}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	undo = append(undo, func() {
		stop()
		// Bounded: after TestServesWithStoreDown stopped the node, the projection router has been seen not
		// to return from its shutdown (an open bug, see the closing note); the test process must not hang.
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			logf("projections and alert engine did not stop within 20 s after cancellation; leaving them")
		}
	})
	wg.Go(func() { _ = rt.Run(runCtx) })
	engine, err := supervision.NewEngine(supervision.EngineConfig{Pool: admin, Store: store, Clock: clock, Logger: quiet(), SweepEvery: 200 * time.Millisecond})
	if err != nil {
		return nil, cleanup, err
	}
	wg.Go(func() { _ = engine.Run(runCtx) })

	tokens, err := auth.Open(ctx, admin)
	if err != nil {
		return nil, cleanup, err
	}
	if err := portal.EnsureRole(ctx, admin, portal.DefaultRole); err != nil {
		return nil, cleanup, err
	}
	pp, err := portal.OpenPool(ctx, portal.PoolConfig{URL: dbURL, Role: portal.DefaultRole})
	if err != nil {
		return nil, cleanup, err
	}
	undo = append(undo, pp.Close)

	mux := http.NewServeMux()
	cmds, err := httpapi.New(httpapi.Config{Mux: mux, Tokens: tokens, Logger: quiet()})
	if err != nil {
		return nil, cleanup, err
	}
	x := commands.NewExecutor(store, clock, reg, quiet())
	handlers := commands.NewHandlers(x, quiet()).WithStandings(standing.Reader{Q: admin})
	httpapi.RegisterCatalogue(cmds, handlers)
	portalLog := &logtest.Lines{Next: quiet().Handler()}
	p, err := portal.New(portal.Config{DB: pp, API: cmds.API(), Logger: portalLog.Logger(), Events: store, PollInterval: 50 * time.Millisecond, Now: clock.Now,
		Regrant: func(ctx context.Context) error { return portal.EnsureRole(ctx, admin, portal.DefaultRole) }})
	if err != nil {
		return nil, cleanup, err
	}
	p.Mount(mux)
	wg.Go(func() { _ = p.Run(runCtx) })
	hs := httptest.NewServer(mux)
	undo = append(undo, hs.Close)

	d := &district{URL: hs.URL, Node: node, Store: store, Admin: admin, Portal: p, Stats: stats, DBURL: dbURL, Clock: clock, Handlers: handlers, PortalLog: portalLog,
		API: &apitest.Server{URL: hs.URL, DatabaseURL: dbURL, Pool: admin, Store: store, Executor: x, Tokens: tokens, Commands: cmds, Mux: mux}}
	// A big district takes its time to project: a minute, and a second more for every thousand events.
	if err := d.waitCaughtUp(time.Minute + time.Duration(stats.Events)*time.Millisecond); err != nil {
		return nil, cleanup, err
	}
	logf("demo district: %d events, %d communities; generated in %s, projected in %s", stats.Events, stats.Communities,
		generated.Round(time.Millisecond), (time.Since(start) - generated).Round(time.Millisecond))
	return d, cleanup, nil
}

// createDatabase creates a database of the tests' own on server and returns its URL and how to drop it.
func createDatabase(ctx context.Context, server string) (string, func(), error) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "portaltest_" + hex.EncodeToString(b[:])
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		return "", func() {}, fmt.Errorf("connect to DATABASE_URL: %w", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", func() {}, fmt.Errorf("create database %s: %w", name, err)
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, server); err == nil {
			_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			_ = c.Close(ctx)
		}
	}
	u, err := url.Parse(server)
	if err != nil || !strings.Contains(server, "://") {
		return server + " dbname=" + name, drop, nil
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}

// waitCaughtUp waits until every read model has applied everything in the store, and the alert engine's
// appends have come back. A failed look (the first query on a pooled connection PostgreSQL's restart
// closed: "unexpected EOF") is tried again until the timeout.
func (d *district) waitCaughtUp(timeout time.Duration) error {
	ctx := context.Background()
	deadline := time.Now().Add(timeout)
	stable := 0
	var last eventlog.Position
	var lastErr error
	for ; time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		head, err := d.Store.Head(ctx)
		if err != nil {
			lastErr = err
			continue
		}
		var lowest int64
		err = d.Admin.QueryRow(ctx, `SELECT min(commit_pos) FROM (
			SELECT commit_pos FROM rm_directory.checkpoint UNION ALL SELECT commit_pos FROM rm_board.checkpoint
			UNION ALL SELECT commit_pos FROM rm_finances.checkpoint UNION ALL SELECT commit_pos FROM rm_elections.checkpoint
			UNION ALL SELECT commit_pos FROM rm_meetings.checkpoint UNION ALL SELECT commit_pos FROM rm_audittrail.checkpoint
			UNION ALL SELECT commit_pos FROM rm_alerts.checkpoint) c`).Scan(&lowest)
		if err != nil {
			lastErr = err
			continue
		}
		if uint64(lowest) >= head.Commit {
			if head == last {
				stable++
			} else {
				stable = 0
			}
			last = head
			if stable >= 3 { // the engine appended nothing more for a while
				return nil
			}
		}
	}
	if lastErr != nil {
		return fmt.Errorf("the read models did not catch up with the store within %s (last look: %w)", timeout, lastErr)
	}
	return fmt.Errorf("the read models did not catch up with the store within %s", timeout)
}

// get fetches a path of the portal.
func (d *district) get(path string, header ...string) (int, http.Header, []byte) {
	d.t.Helper()
	req, err := http.NewRequest(http.MethodGet, d.URL+path, nil)
	if err != nil {
		d.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		d.t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, resp.Header, b
}

// getOK fetches a path and fails the test unless it is a 200.
func (d *district) getOK(path string) []byte {
	d.t.Helper()
	status, _, b := d.get(path)
	if status != http.StatusOK {
		d.t.Fatalf("GET %s: status %d: %.500s", path, status, b)
	}
	return b
}

// getJSON fetches a JSON path into v.
func (d *district) getJSON(path string, v any) http.Header {
	d.t.Helper()
	status, h, b := d.get(path)
	if status != http.StatusOK {
		d.t.Fatalf("GET %s: status %d: %.500s", path, status, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		d.t.Fatalf("GET %s: %v: %.300s", path, err, b)
	}
	return h
}

// registerPage fetches a community's page at /c/{id}/{slug}, fails unless it holds every want, checks that
// the community page links it (so the personal-data crawl reads it too), and returns it.
func (d *district) registerPage(id, slug string, wants ...string) string {
	d.t.Helper()
	page := string(d.getOK("/c/" + id + "/" + slug))
	for _, want := range wants {
		if !strings.Contains(page, want) {
			d.t.Fatalf("the %s page lacks %q", slug, want)
		}
	}
	if !strings.Contains(string(d.getOK("/c/"+id)), `href="/c/`+id+`/`+slug+`"`) {
		d.t.Fatalf("the community page does not link its %s page", slug)
	}
	return page
}

// openAlert returns the community's open alert of the rule, failing when there is none.
func (d *district) openAlert(id, rule string) portal.Alert {
	d.t.Helper()
	var l portal.AlertList
	d.getJSON("/api/v1/public/communities/"+id+"/alerts", &l)
	for _, a := range l.Alerts {
		if a.Rule == rule {
			return a
		}
	}
	d.t.Fatalf("no open %s alert for %s: %+v", rule, id, l.Alerts)
	return portal.Alert{}
}

// community returns the first community of the demo district with payments, notices and meetings.
func (d *district) community() workload.Community {
	d.t.Helper()
	for _, di := range d.Stats.Districts {
		for _, st := range di.Streets {
			for _, c := range st.Communities {
				return c
			}
		}
	}
	d.t.Fatal("the demo district has no community")
	return workload.Community{}
}

// chair returns a sitting member of community id's committee (its chair when it has one), as the
// community's profile stream records it: only a member may approve an expenditure.
func (d *district) chair(id string) string {
	d.t.Helper()
	history, err := d.API.Executor.Load(context.Background(), community.ProfileStream(kernel.CommunityID(id)))
	if err != nil {
		d.t.Fatal(err)
	}
	var cm community.Community
	for _, e := range history {
		cm.Apply(e)
	}
	roster := cm.Roster()
	if len(roster) == 0 {
		d.t.Fatalf("community %s has no committee", id)
	}
	for _, s := range roster {
		if s.Role == community.Chair {
			return string(s.Person)
		}
	}
	return string(roster[0].Person)
}

// moduleRoot finds the directory of go.mod, for artifacts/.
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }

func mustContain(t testing.TB, what string, b []byte, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !contains(b, s) {
			t.Errorf("%s does not contain %q", what, s)
		}
	}
}
