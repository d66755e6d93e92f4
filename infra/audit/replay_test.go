package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	alerts "github.com/grassroots-ledger/ledger/projections/supervision"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/infra/workload"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// boundarySink appends through the adapter and, once at least `at` events are written, calls pause
// before the next append: the history is written across a boundary the test controls.
type boundarySink struct {
	st    *eventstore.Store
	at    int
	pause func(last eventlog.Position)

	mu    sync.Mutex
	n     int
	fired bool
}

func (s *boundarySink) Append(ctx context.Context, stream string, exp eventlog.Expected, evs []eventlog.Event) (eventlog.AppendResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	res, err := s.st.Append(ctx, stream, exp, evs)
	if err != nil {
		return res, err
	}
	if s.n += len(evs); s.n >= s.at && !s.fired {
		s.fired = true
		s.pause(res.Position)
	}
	return res, nil
}

// liveState rebuilds the live read models from the whole store, as `ledger serve` keeps them, and returns
// each community's summary through the models' queries, as JSON.
func liveState(t *testing.T, pool *pgxpool.Pool, st *eventstore.Store) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	rt, err := runtime.New(runtime.Config{Pool: pool, Source: st, Migrate: pg.Migrator(pool), Models: models(), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, m := range models() {
		if err := rt.Rebuild(ctx, m, nil); err != nil {
			t.Fatalf("rebuild %s: %v", m.Name(), err)
		}
	}
	out := map[string][]byte{}
	for _, cid := range communities(t, st) {
		s, err := summarize(ctx, schemaQuerier{q: pool, r: strings.NewReplacer()}, models(), cid, pathOf(t, st, cid))
		if err != nil {
			t.Fatal(err)
		}
		out[cid] = mustJSON(t, jsonable(s))
	}
	return out
}

// pathOf is a community's jurisdiction path.
func pathOf(t *testing.T, st *eventstore.Store, cid string) string {
	t.Helper()
	sc, err := newAuditor(t, st, nil).communityScope(context.Background(), cid)
	if err != nil {
		t.Fatal(err)
	}
	return sc.path
}

// communities lists the communities registered in the store.
func communities(t *testing.T, st *eventstore.Store) []string {
	t.Helper()
	var ids []string
	for _, r := range readAll(t, st) {
		if k, cid, id, err := eventlog.SplitStreamName(r.Stream); err == nil && k == "community" && id == "profile" && r.Revision == 0 {
			ids = append(ids, cid)
		}
	}
	if len(ids) < 2 {
		t.Fatalf("the workload registered %d communities", len(ids))
	}
	return ids
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A replay as of T gives exactly the state the live read models had at T. The history (two communities
// of a year, from the workload generator) is written across a wall-clock boundary: at the boundary the
// live models are rebuilt and their state captured; the rest is written after. Replaying as of the
// boundary, by recorded time or by $all position, must give the captured state; replaying as of now the
// state of the live models at the end.
func TestReplayAsOfIsTheStateAtThatTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n := openNode(t, t.TempDir())
	livePool, replayPool := testPool(t), testPool(t)

	var (
		boundary   time.Time
		boundaryAt eventlog.Position
		atBoundary map[string][]byte
	)
	sink := &boundarySink{st: n.store, at: 700, pause: func(last eventlog.Position) {
		time.Sleep(5 * time.Millisecond) // the last event's recorded time is before the boundary …
		boundary, boundaryAt = time.Now(), last
		atBoundary = liveState(t, livePool, n.store)
		time.Sleep(5 * time.Millisecond) // … and the next event's after it
	}}
	stats, err := workload.Generate(ctx, workload.Options{Seed: 7, Communities: 2, Years: 1, Concurrency: 1}, sink)
	if err != nil {
		t.Fatal(err)
	}
	if atBoundary == nil || stats.Events < 1000 {
		t.Fatalf("generated %d events; boundary reached: %v", stats.Events, atBoundary != nil)
	}
	atEnd := liveState(t, livePool, n.store)

	a := newAuditor(t, n.store, replayPool)
	cids := communities(t, n.store)
	for _, cid := range cids {
		check := func(name string, req ReplayRequest, want []byte) *Snapshot {
			t.Helper()
			req.Community = cid
			snap, err := a.Replay(ctx, req)
			if err != nil {
				t.Fatalf("%s: replay %s: %v", name, cid, err)
			}
			if got := mustJSON(t, snap.Summary); !bytes.Equal(got, want) {
				t.Fatalf("%s: replay of %s differs from the live state:\n%s", name, cid, diff(string(want), string(got)))
			}
			for _, m := range snap.Models {
				if len(m.Poison) > 0 {
					t.Errorf("%s: %s could not apply %+v", name, m.Name, m.Poison)
				}
			}
			return snap
		}
		byTime := check("as of the boundary", ReplayRequest{AsOf: boundary}, atBoundary[cid])
		byPos := check("up to the boundary position", ReplayRequest{AsOf: time.Now().Add(time.Hour), Until: boundaryAt}, atBoundary[cid])
		now := check("as of now", ReplayRequest{AsOf: time.Now().Add(time.Hour), Tables: true}, atEnd[cid])
		if bytes.Equal(atBoundary[cid], atEnd[cid]) {
			t.Fatalf("%s: the state did not change after the boundary: the test shows nothing", cid)
		}
		if byTime.Events != byPos.Events || byTime.Events >= now.Events || byTime.Later == 0 || now.Later != 0 {
			t.Fatalf("%s: applied %d (by time), %d (by position), %d (now); later %d", cid, byTime.Events, byPos.Events, now.Events, byTime.Later)
		}
		if byTime.LastEvent == nil || !byTime.LastEvent.Position.Less(boundaryAt) && byTime.LastEvent.Position != boundaryAt {
			t.Fatalf("%s: last event applied %+v is after the boundary %s", cid, byTime.LastEvent, boundaryAt)
		}
		// The scratch tables hold this community and the jurisdictions above it, never the other one.
		tables := string(mustJSON(t, now.Models))
		for _, other := range cids {
			if other != cid && strings.Contains(tables, other) {
				t.Fatalf("the replay of %s holds rows of %s", cid, other)
			}
		}
		if !strings.Contains(tables, cid) || now.OwnEvents == 0 || now.OwnEvents == now.Events {
			t.Fatalf("replay of %s: %d events, %d its own", cid, now.Events, now.OwnEvents)
		}
		var text bytes.Buffer
		if err := now.WriteText(&text); err != nil || !strings.Contains(text.String(), "Community "+cid) {
			t.Fatalf("text: %v\n%s", err, text.String())
		}
	}
	a.Close() // waits for the replays' scratch schemas to be dropped
	var left int
	if err := replayPool.QueryRow(ctx, "SELECT count(*) FROM pg_namespace WHERE starts_with(nspname, 'scratch_')").Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d scratch schemas left behind (%v)", left, err)
	}
}

// diff shows the first line where two texts differ, with context.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		if i >= len(w) || i >= len(g) || w[i] != g[i] {
			lo := max(0, i-3)
			return fmt.Sprintf("at line %d\nwant: %s\ngot:  %s", i+1, strings.Join(w[lo:min(len(w), i+3)], "\n      "),
				strings.Join(g[lo:min(len(g), i+3)], "\n      "))
		}
	}
	return "(equal)"
}

func TestReplayByOccurredTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n := openNode(t, t.TempDir())
	if _, err := workload.Generate(ctx, workload.Options{Seed: 3, Communities: 1, Years: 1, Concurrency: 1}, n.store); err != nil {
		t.Fatal(err)
	}
	cid := communities1(t, n.store)
	a := newAuditor(t, n.store, testPool(t))
	all, err := a.Replay(ctx, ReplayRequest{Community: cid, AsOf: time.Now().Add(time.Hour), By: ByOccurred})
	if err != nil {
		t.Fatal(err)
	}
	// Every event was recorded now but occurred over the simulated year: half way through it, about
	// half the events count.
	mid, err := a.Replay(ctx, ReplayRequest{Community: cid, AsOf: workload.DefaultUntil.AddDate(0, -6, 0), By: ByOccurred})
	if err != nil {
		t.Fatal(err)
	}
	none, err := a.Replay(ctx, ReplayRequest{Community: cid, AsOf: workload.DefaultUntil.AddDate(-2, 0, 0), By: ByOccurred})
	if err != nil {
		t.Fatal(err)
	}
	if all.Later != 0 || mid.Events == 0 || mid.Events >= all.Events || none.Events != 0 || none.Later != all.Events {
		t.Fatalf("by occurred time: all %d/%d, mid %d/%d, none %d/%d", all.Events, all.Later, mid.Events, mid.Later, none.Events, none.Later)
	}
	if mid.Hint != "" || mid.OccurredBefore != 0 {
		t.Errorf("by occurred time, no hint is due: %q", mid.Hint)
	}
	// By recorded time, the same instant finds nothing — the history was recorded now — and says why, and
	// what to ask instead.
	byRecorded, err := a.Replay(ctx, ReplayRequest{Community: cid, AsOf: workload.DefaultUntil.AddDate(0, -6, 0), By: ByRecorded})
	if err != nil {
		t.Fatal(err)
	}
	if byRecorded.Events != 0 || byRecorded.OccurredBefore != mid.Events || !strings.Contains(byRecorded.Hint, "occurred") {
		t.Fatalf("by recorded time: %d events, %d occurred before, hint %q (by occurred: %d events)", byRecorded.Events,
			byRecorded.OccurredBefore, byRecorded.Hint, mid.Events)
	}
}

func communities1(t *testing.T, st *eventstore.Store) string {
	for _, r := range readAll(t, st) {
		if k, cid, id, err := eventlog.SplitStreamName(r.Stream); err == nil && k == "community" && id == "profile" {
			return cid
		}
	}
	t.Fatal("no community registered")
	return ""
}

func TestReplayRefusesUnknownAndInvalidCommunities(t *testing.T) {
	t.Parallel()
	n := openNode(t, t.TempDir())
	history(t, n.store)
	a := newAuditor(t, n.store, testPool(t))
	ctx := context.Background()
	if _, err := a.Replay(ctx, ReplayRequest{Community: "999999999999", AsOf: time.Now()}); !errors.Is(err, ErrCommunityNotFound) {
		t.Fatalf("unknown community: %v", err)
	}
	if _, err := a.Replay(ctx, ReplayRequest{Community: "33-1", AsOf: time.Now()}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("malformed id: %v", err)
	}
	if _, err := a.Replay(ctx, ReplayRequest{Community: commA}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("no as-of: %v", err)
	}
	if _, err := newAuditor(t, n.store, nil).Replay(ctx, ReplayRequest{Community: commA, AsOf: time.Now()}); !errors.Is(err, ErrReplayUnavailable) {
		t.Fatalf("no database: %v", err)
	}
}

// The scratch schemas of a replay that died are dropped by the next replay; those of a running one are not.
func TestReplaySweepsAbandonedScratchSchemas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n := openNode(t, t.TempDir())
	profile := synth("reg", "community.registered", commA, pathA, 1)
	mustAppend(t, n.store, "community-"+commA+"-profile", eventlog.NoStream(), profile)
	pool := testPool(t)
	if _, err := pool.Exec(ctx, `CREATE SCHEMA scratch_0123456789ab_board; CREATE SCHEMA scratch_0123456789ab_finances;
		CREATE SCHEMA scratch_aaaaaaaaaaaa_board`); err != nil {
		t.Fatal(err)
	}
	busy, err := pool.Acquire(ctx) // a replay still running holds its lock
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Release()
	if _, err := busy.Exec(ctx, "SELECT pg_advisory_lock(hashtextextended($1, 0))", scratchLockKey("aaaaaaaaaaaa")); err != nil {
		t.Fatal(err)
	}
	a := newAuditor(t, n.store, pool)
	if _, err := a.Replay(ctx, ReplayRequest{Community: commA, AsOf: time.Now()}); err != nil {
		t.Fatal(err)
	}
	a.Close() // the replay's own schemas are dropped in the background: wait for it
	rows, err := pool.Query(ctx, "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, 'scratch_') ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		left = append(left, s)
	}
	if len(left) != 1 || left[0] != "scratch_aaaaaaaaaaaa_board" {
		t.Fatalf("scratch schemas left: %v", left)
	}
}

// BenchmarkReplayAsOf replays one community of about 10 000 events (target: at most 1 s) with every read
// model, and with every one but the alerts engine. The store also holds a second community of the same
// size, which the replay must not read.
func BenchmarkReplayAsOf(b *testing.B) {
	n, stats := replayLedger(b, 2, 20_000)
	pool := testPool(b)
	all := models()
	var withoutAlerts []runtime.ReadModel
	for _, m := range all {
		if m.Name() != alerts.Name {
			withoutAlerts = append(withoutAlerts, m)
		}
	}
	for _, set := range []struct {
		name   string
		models []runtime.ReadModel
		spare  bool
	}{{"all-models", all, false}, {"all-models-spare", all, true}, {"without-alerts", withoutAlerts, false}} {
		b.Run(set.name, func(b *testing.B) { benchReplay(b, n, stats, pool, set.models, set.spare) })
	}
}

// BenchmarkReplayAsOfInALargerLedger is BenchmarkReplayAsOf's all-models-spare in a ledger of thirty
// communities of about 10 000 events each: the replay selects one thirtieth of $all.
func BenchmarkReplayAsOfInALargerLedger(b *testing.B) {
	n, stats := replayLedger(b, 30, 300_000)
	benchReplay(b, n, stats, testPool(b), models(), true)
}

// replayLedger is a node holding a generated history of that many communities and events.
func replayLedger(b *testing.B, communities, events int) (*testNode, workload.Stats) {
	n := openNode(b, b.TempDir())
	stats, err := workload.Generate(context.Background(), workload.Options{Seed: 5, Communities: communities, Target: events}, n.store)
	if err != nil {
		b.Fatal(err)
	}
	return n, stats
}

// benchReplay replays the first community of stats as of now with models, with a spare set of scratch
// schemas or without.
func benchReplay(b *testing.B, n *testNode, stats workload.Stats, pool *pgxpool.Pool, models []runtime.ReadModel, spare bool) {
	ctx := context.Background()
	cid := string(stats.Districts[0].Streets[0].Communities[0].ID)
	a := newAuditor(b, n.store, pool)
	a.cfg.Models, a.cfg.Spare = models, spare
	a, err := New(a.cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	if os.Getenv("AUDIT_BENCH_LOG") != "" {
		a.cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	// With a spare set, each replay comes once the spare is ready, as an auditor's next request does when
	// it comes later than the spare takes to make (about 0.3 s here); the wait is not timed.
	ready := func() {
		if !spare {
			return
		}
		b.StopTimer()
		for deadline := time.Now().Add(30 * time.Second); len(a.spare) == 0; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				b.Fatal("no spare set of scratch schemas within 30 s")
			}
		}
		b.StartTimer()
	}
	asOf := time.Now()
	b.ResetTimer()
	cpu := cpuTime()
	var snap *Snapshot
	for range b.N {
		ready()
		if snap, err = a.Replay(ctx, ReplayRequest{Community: cid, AsOf: asOf}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/replay")
	b.ReportMetric(float64(snap.Events), "events/replay")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/replay")
	b.Logf("store: %d events in %d communities; community %s: %d events applied (%d its own)", stats.Events, stats.Communities, cid, snap.Events, snap.OwnEvents)
}

// TestSpareScratchSchemas: with Config.Spare a replay takes the set of scratch schemas made ahead, which is
// emptied in the background and kept as the next; the answers are the same as without, and Close drops the
// spare.
func TestSpareScratchSchemas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n := openNode(t, t.TempDir())
	stats, err := workload.Generate(ctx, workload.Options{Seed: 3, Communities: 1, Target: 1500}, n.store)
	if err != nil {
		t.Fatal(err)
	}
	pool := testPool(t)
	cid := string(stats.Districts[0].Streets[0].Communities[0].ID)
	plain := newAuditor(t, n.store, pool)
	cfg := plain.cfg
	cfg.Spare = true
	spare, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	req := ReplayRequest{Community: cid, AsOf: time.Now().Add(time.Hour), Tables: true}
	want, err := plain.Replay(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	plain.Close() // its schemas dropped
	names := func() string {
		var s string
		if err := pool.QueryRow(ctx, "SELECT coalesce(string_agg(nspname, ' ' ORDER BY nspname), '') FROM pg_namespace WHERE starts_with(nspname, 'scratch_')").Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	schemas := func() int { return len(strings.Fields(names())) }
	var first string // the first spare's schemas: emptied after each replay, they are the next spare
	for i := range 3 {
		if first == "" {
			for deadline := time.Now().Add(30 * time.Second); len(spare.spare) == 0; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("no spare set of scratch schemas within 30 s")
				}
			}
			first = names()
		}
		got, err := spare.Replay(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(mustJSON(t, got.Summary), mustJSON(t, want.Summary)) || !bytes.Equal(mustJSON(t, got.Models), mustJSON(t, want.Models)) {
			t.Fatalf("replay %d with a spare set differs from one without", i)
		}
		deadline := time.Now().Add(30 * time.Second)
		for schemas() != len(spare.Models()) { // the next spare, made in the background
			if time.Now().After(deadline) {
				t.Fatalf("after replay %d: %d scratch schemas, want the spare's %d", i, schemas(), len(spare.Models()))
			}
			time.Sleep(20 * time.Millisecond)
		}
		for deadline := time.Now().Add(30 * time.Second); len(spare.spare) == 0; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("after replay %d: no spare set of scratch schemas within 30 s", i)
			}
		}
		if got := names(); got != first {
			t.Fatalf("after replay %d the spare is %s, want the emptied %s", i, got, first)
		}
	}
	spare.Close()
	if n := schemas(); n != 0 {
		t.Fatalf("%d scratch schemas left after Close", n)
	}
}

// TestScratchSchemasKeepOnlyTheIndexesConstraintsNeed: a scratch schema keeps the primary keys and unique
// indexes the models' upserts conflict on, and none of the read-side indexes (the audit trail's five); its
// tables are unlogged.
func TestScratchSchemasKeepOnlyTheIndexesConstraintsNeed(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	a := newAuditor(t, openNode(t, t.TempDir()).store, pool)
	s, err := a.newScratch(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close(ctx)
	indexes := func(schema string) (unique, other int) {
		if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE i.indisunique), count(*) FILTER (WHERE NOT i.indisunique)
			FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = $1`, schema).Scan(&unique, &other); err != nil {
			t.Fatal(err)
		}
		return unique, other
	}
	for _, m := range a.replayed {
		unique, other := indexes(s.schema(m.Name()))
		if unique == 0 || other != 0 {
			t.Errorf("%s: %d unique indexes, %d others; want the unique ones only", s.schema(m.Name()), unique, other)
		}
		var unlogged, logged int
		if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE c.relpersistence = 'u'), count(*) FILTER (WHERE c.relpersistence <> 'u')
			FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`,
			s.schema(m.Name())).Scan(&unlogged, &logged); err != nil {
			t.Fatal(err)
		}
		if unlogged == 0 || logged != 0 {
			t.Errorf("%s: %d unlogged tables, %d logged; want every table unlogged", s.schema(m.Name()), unlogged, logged)
		}
	}
}
