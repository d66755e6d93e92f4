package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/projections/freshness"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// TestRebuildWhileLiveIsIdenticalAndSwapsUnderReaders rebuilds both models while live projection runs,
// events keep arriving and a reader with the read-only role keeps querying. The reader never fails nor sees
// fewer rows; after the swap live projection continues from the rebuilt checkpoint without losing or
// doubling an event; and rebuilding again from a quiet ledger gives the same rows, checksum for checksum.
func TestRebuildWhileLiveIsIdenticalAndSwapsUnderReaders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	server := databaseURL(t)
	role := "projtest_ro_" + randomSuffix()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "CREATE ROLE "+role+" NOLOGIN"); err != nil {
		t.Fatal(err)
	}
	admin.Close(ctx)
	t.Cleanup(func() { // runs after the database is dropped, which held the role's grants
		if admin, err := pgx.Connect(ctx, server); err == nil {
			_, _ = admin.Exec(ctx, "DROP ROLE IF EXISTS "+role)
			admin.Close(ctx)
		}
	})
	pool := connect(t, newDatabase(t, server))
	store, _ := testStore(t)
	f := newFiller(store, 20)
	head := f.append(t, 10_000, 1000, nil)
	withRole := func(c *runtime.Config) { c.ReadOnlyRole = role; c.RebuildBatch = 3000 }
	rt, _ := newRuntime(t, pool, store, models(newTally()), withRole)
	start(t, rt)
	waitCheckpoint(t, pool, "rm_audittrail", head, 60*time.Second)
	waitCheckpoint(t, pool, "rm_tally", head, 60*time.Second)

	// The portal: reads under the read-only role throughout.
	var wg sync.WaitGroup
	var quit atomic.Bool
	var reads atomic.Int64
	readErr := make(chan error, 1)
	wg.Go(func() {
		floor := int64(f.total)
		for !quit.Load() {
			var n int64
			err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, "SET LOCAL ROLE "+role); err != nil {
					return err
				}
				return tx.QueryRow(ctx, "SELECT count(*) FROM rm_audittrail.audit_events").Scan(&n)
			})
			if err == nil && n < floor {
				err = errors.New("the reader saw fewer rows than before the rebuild")
			}
			if err != nil {
				readErr <- err
				return
			}
			reads.Add(1)
			time.Sleep(2 * time.Millisecond)
		}
	})
	// The ledger: appends throughout.
	var mu sync.Mutex
	wg.Go(func() {
		for !quit.Load() {
			mu.Lock()
			head = f.append(t, 10, 10, nil)
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
	})

	var calls int
	var last runtime.RebuildProgress
	for _, m := range models(newTally()) {
		if err := rt.Rebuild(ctx, m, func(p runtime.RebuildProgress) {
			calls++
			if p.Done < last.Done && m.Name() == "audittrail" {
				t.Errorf("progress went back from %d to %d", last.Done, p.Done)
			}
			if p.Done > p.Read || p.Total < p.Done {
				t.Errorf("progress %+v: more done than read, or a total below it", p)
			}
			last = p
		}); err != nil {
			t.Fatal(err)
		}
		if m.Name() == "audittrail" {
			t.Logf("audit trail rebuilt: %d progress reports, last %+v", calls, last)
			if calls < 2 || last.Done < uint64(10_000) {
				t.Errorf("progress: %d calls, last %+v", calls, last)
			}
		}
	}
	time.Sleep(200 * time.Millisecond)
	quit.Store(true)
	wg.Wait()
	select {
	case err := <-readErr:
		t.Fatalf("reader during rebuild: %v", err)
	default:
	}
	t.Logf("%d reads under the read-only role during the rebuilds", reads.Load())
	mu.Lock()
	final := head
	mu.Unlock()
	waitCheckpoint(t, pool, "rm_audittrail", final, 60*time.Second)
	waitCheckpoint(t, pool, "rm_tally", final, 60*time.Second)
	checkTallies(t, pool, "rm_tally", f)
	if n := countRows(t, pool, "SELECT count(*) FROM rm_audittrail.audit_events"); n != int64(f.total) {
		t.Fatalf("audit trail has %d rows after rebuild and live catch-up, appended %d", n, f.total)
	}
	if n := countRows(t, pool, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rm\\_%\\_\\_%'"); n != 0 {
		t.Fatalf("%d shadow or retired schemas left behind", n)
	}

	// Quiet now: live rows and a rebuild must match exactly.
	live := modelSums(t, pool)
	for _, m := range models(newTally()) {
		if err := rt.Rebuild(ctx, m, nil); err != nil {
			t.Fatal(err)
		}
	}
	if rebuilt := modelSums(t, pool); rebuilt != live {
		t.Fatalf("live %+v\nrebuilt %+v", live, rebuilt)
	}
	fresh, err := freshness.Read(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range fresh {
		if p.RebuiltAt.IsZero() || p.Checkpoint != final || p.EventsApplied != int64(f.total) {
			t.Errorf("freshness after rebuild %+v, want rebuilt, at %s with %d events", p, final, f.total)
		}
	}
}

// TestRebuildRefusesWhenAnotherRuns: the rebuild lock is per model and across processes.
func TestRebuildRefusesWhenAnotherRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testPool(t)
	store, _ := testStore(t)
	rt, _ := newRuntime(t, pool, store, models(newTally()))
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtextextended('ledger.rebuild:tally', 0))"); err != nil {
		t.Fatal(err)
	}
	if err := rt.Rebuild(ctx, newTally(), nil); !errors.Is(err, runtime.ErrRebuildRunning) {
		t.Fatalf("rebuild while another holds the lock: %v, want ErrRebuildRunning", err)
	}
	// An empty ledger rebuilds to an empty model, and the checkpoint stays at the start.
	if err := rt.Rebuild(ctx, models(newTally())[0], nil); err != nil {
		t.Fatal(err)
	}
	if got := checkpointOf(t, pool, "rm_audittrail"); got != eventlog.Start {
		t.Fatalf("empty rebuild checkpoint %s", got)
	}
}

// TestRebuildAllOnASmallPool rebuilds seven models at once from one read of the history on a pool of two
// connections (fewer than the models: the default pool of a 2-core machine is four), as `ledger rebuild`
// does: every model gets every event exactly once, and nothing waits forever for a connection.
func TestRebuildAllOnASmallPool(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := pg.Connect(ctx, pg.Config{URL: newDatabase(t, databaseURL(t)), MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	store, _ := testStore(t)
	f := newFiller(store, 10)
	f.append(t, 5_000, 500, nil)
	var ms []runtime.ReadModel
	for i := range 7 {
		ms = append(ms, &tally{name: fmt.Sprintf("tally%d", i), policy: runtime.Halt})
	}
	rt, _ := newRuntime(t, pool, store, ms, func(c *runtime.Config) { c.RebuildBatch = 700 })
	if err := rt.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	var calls atomic.Int64
	var last runtime.RebuildProgress
	if err := rt.RebuildAll(rctx, ms, func(p runtime.RebuildProgress) { calls.Add(1); last = p }); err != nil {
		t.Fatalf("rebuild of seven models on a pool of two: %v", err)
	}
	if calls.Load() == 0 {
		t.Error("no progress was reported")
	}
	// The last report counts each event of the history once, for every model.
	if last.Done != 5_000 || last.Read != 5_000 || last.Total != 5_000 || len(last.Models) != 7 {
		t.Errorf("last progress %+v, want 5000 events done, read and in total, for 7 models", last)
	}
	for _, mp := range last.Models {
		if mp.Done != 5_000 {
			t.Errorf("model %s went through %d events, want 5000", mp.Name, mp.Done)
		}
	}
	for i := range 7 {
		checkTallies(t, pool, fmt.Sprintf("rm_tally%d", i), f)
	}
}

// observingTally is a tally that, in each batch's transaction and before applying it, asks observe (a
// query of one text value) and keeps the answers in seen.
type observingTally struct {
	tally
	observe string
	seen    []string
}

func (m *observingTally) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.Recorded) error {
	var v string
	if err := tx.QueryRow(ctx, m.observe).Scan(&v); err != nil {
		return err
	}
	m.seen = append(m.seen, v)
	return m.tally.Apply(ctx, tx, batch)
}

// indexedTally is a tally with two more indexes, one of which its rebuild builds last. It sees, at each
// batch, whether tallies_by_amount was in the schema Apply wrote to ("true" or "false").
type indexedTally struct {
	observingTally
	last []string
}

func newIndexedTally(name string, last ...string) *indexedTally {
	return &indexedTally{observingTally: observingTally{tally: tally{name: name, policy: runtime.Halt},
		observe: `SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'tallies_by_amount')::text`},
		last: last}
}

func (m *indexedTally) Migrations() fs.FS {
	return fstest.MapFS{
		"0001_tallies.sql": {Data: []byte(`
CREATE TABLE tallies (stream text PRIMARY KEY, events bigint NOT NULL, amount bigint NOT NULL, last_revision bigint NOT NULL);`)},
		"0002_indexes.sql": {Data: []byte(`
CREATE INDEX tallies_by_amount ON tallies (amount DESC, stream) WHERE events > 1;
CREATE UNIQUE INDEX tallies_by_revision ON tallies (last_revision, stream);`)},
	}
}

func (m *indexedTally) IndexesBuiltLast() []string { return m.last }

// TestRebuildBuildsTheIndexesLeftForLastBeforeTheSwap: a model's index its Apply does not read through
// is absent while the history is applied, and the swapped-in schema has it, as its migration made it (and
// statistics of the shadow made as it grew); naming a unique index fails the rebuild and leaves the live
// schema alone.
func TestRebuildBuildsTheIndexesLeftForLastBeforeTheSwap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, store, f := threePages(t)
	m := newIndexedTally("itally", "tallies_by_amount")
	rt := pagedRuntime(t, pool, store, m)
	defs := func() map[string]string {
		rows, err := pool.Query(ctx, "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'rm_itally' AND tablename = 'tallies'")
		if err != nil {
			t.Fatal(err)
		}
		out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
			var p [2]string
			return p, r.Scan(&p[0], &p[1])
		})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, p := range out {
			m[p[0]] = p[1]
		}
		return m
	}
	before := defs()
	if len(before) != 3 {
		t.Fatalf("the migrations made indexes %v, want three", before)
	}
	if err := rt.Rebuild(ctx, m, nil); err != nil {
		t.Fatal(err)
	}
	if len(m.seen) < 3 || slices.Contains(m.seen, "true") {
		t.Errorf("the index built last was in the shadow schema while the history was applied (batches: %v)", m.seen)
	}
	if after := defs(); !maps.Equal(before, after) {
		t.Errorf("indexes after the rebuild:\n%v\nwant, as the migrations made them:\n%v", after, before)
	}
	checkTallies(t, pool, "rm_itally", f)
	// The shadow's statistics were refreshed after its first pages (1, 2, 4, …), so that look-ups by key
	// were planned for the table as it was, not as the empty table it was made; they came through the swap.
	var analyzed int64
	var rows float64
	if err := pool.QueryRow(ctx, `SELECT s.analyze_count, c.reltuples FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
		WHERE s.schemaname = 'rm_itally' AND s.relname = 'tallies'`).Scan(&analyzed, &rows); err != nil {
		t.Fatal(err)
	}
	if analyzed < 2 || rows <= 0 { // three pages of 1 000 events: analysed after the first and the second
		t.Errorf("rm_itally.tallies after the rebuild: analysed %d times, %v rows estimated; want at least twice and a size", analyzed, rows)
	}

	m.last = []string{"tallies_by_revision"}
	err := rt.Rebuild(ctx, m, nil)
	if err == nil || !strings.Contains(err.Error(), "tallies_by_revision is unique") {
		t.Fatalf("rebuild naming a unique index to build last: %v, want an error naming it", err)
	}
	if after := defs(); !maps.Equal(before, after) {
		t.Errorf("a failed rebuild changed the live indexes: %v", after)
	}
	checkTallies(t, pool, "rm_itally", f)
}

// TestRebuildSwapsWithoutWaitingForReadersOfTheOldTables: the swap renames schemas and takes no lock on a
// table, so a reader holding one of the live tables (an auditor's long transaction) does not hold up the
// swap; the replaced tables are dropped once that reader lets go, and the rebuild returns only then. The
// retired schema a rebuild stopped between its swap and that drop leaves behind is dropped by the next
// rebuild.
func TestRebuildSwapsWithoutWaitingForReadersOfTheOldTables(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testPool(t)
	store, f := filledStore(t, 5)
	f.append(t, 300, 100, nil)
	tally := newTally()
	rt, _ := newRuntime(t, pool, store, []runtime.ReadModel{tally})
	if err := rt.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rt.Rebuild(ctx, tally, nil); err != nil {
		t.Fatal(err)
	}
	var oldTable uint32
	if err := pool.QueryRow(ctx, "SELECT 'rm_tally.tallies'::regclass::oid").Scan(&oldTable); err != nil {
		t.Fatal(err)
	}
	reader, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = reader.Rollback(ctx) }()
	if _, err := reader.Exec(ctx, "SELECT count(*) FROM rm_tally.tallies"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- rt.Rebuild(ctx, tally, nil) }()
	// The swap commits while the reader still holds the old table: rm_tally is another table's schema.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var now uint32
		if err := pool.QueryRow(ctx, "SELECT 'rm_tally.tallies'::regclass::oid").Scan(&now); err != nil {
			t.Fatal(err)
		}
		if now != oldTable {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the rebuild returned (%v) while a reader held the table it replaces", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the swap did not happen while a reader held a table of the live schema")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := countRows(t, pool, "SELECT count(*) FROM pg_namespace WHERE nspname = 'rm_tally__retired'"); n != 1 {
		t.Fatalf("%d retired schemas while the reader holds the old table, want 1", n)
	}
	select {
	case err := <-done:
		t.Fatalf("the rebuild returned (%v) before the replaced tables were dropped", err)
	case <-time.After(200 * time.Millisecond):
	}
	if err := reader.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, pool, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rm\\_tally\\_\\_%'"); n != 0 {
		t.Fatalf("%d shadow or retired schemas left after the rebuild", n)
	}
	checkTallies(t, pool, "rm_tally", f)

	// A retired schema left by a rebuild stopped after its swap does not stop the next one.
	if _, err := pool.Exec(ctx, "CREATE SCHEMA rm_tally__retired; CREATE TABLE rm_tally__retired.tallies (stream text)"); err != nil {
		t.Fatal(err)
	}
	if err := rt.Rebuild(ctx, tally, nil); err != nil {
		t.Fatalf("rebuild with a retired schema left behind: %v", err)
	}
	if n := countRows(t, pool, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rm\\_tally\\_\\_%'"); n != 0 {
		t.Fatalf("%d shadow or retired schemas left after the rebuild", n)
	}
	checkTallies(t, pool, "rm_tally", f)
}

// threePages is a fresh database and a store of 3 000 events over ten streams: three pages of pagedRuntime.
func threePages(t *testing.T) (*pgxpool.Pool, runtime.Source, *filler) {
	t.Helper()
	store, f := filledStore(t, 10)
	f.append(t, 3_000, 500, nil)
	return testPool(t), store, f
}

// pagedRuntime is a runtime of models on pool and store that rebuilds in pages of 1 000 events, migrated.
func pagedRuntime(t *testing.T, pool *pgxpool.Pool, store runtime.Source, models ...runtime.ReadModel) *runtime.Runtime {
	t.Helper()
	rt, _ := newRuntime(t, pool, store, models, func(c *runtime.Config) { c.RebuildBatch = 1000 })
	if err := rt.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return rt
}

// waitingTally is a tally that, at the last event of the history, waits until wait returns true (or
// gives up after a minute, failing its batch).
type waitingTally struct {
	tally
	events, total int
	wait          func(ctx context.Context) (bool, error)
}

func (m *waitingTally) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.Recorded) error {
	if m.events += len(batch); m.events == m.total {
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
			ok, err := m.wait(ctx)
			if err != nil {
				return err
			}
			if ok {
				break
			}
			if time.Now().After(deadline) {
				return errors.New("waited a minute at the last event")
			}
		}
	}
	return m.tally.Apply(ctx, tx, batch)
}

// TestRebuildBuildsAModelsIndexesWhileTheOthersStillApply: the indexes a model builds last are built as
// soon as that model has applied the whole history, while a slower model is still applying its last
// batch (here it waits for them), not after every model has; the rebuild then swaps both in whole. An
// index that fails to build fails the rebuild, names the index and leaves the live schemas alone.
func TestRebuildBuildsAModelsIndexesWhileTheOthersStillApply(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, store, f := threePages(t)
	fast := newIndexedTally("fast", "tallies_by_amount")
	indexed := func(ctx context.Context) (bool, error) {
		var there bool
		err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = 'rm_fast__rebuild'
			AND indexname = 'tallies_by_amount')`).Scan(&there)
		return there, err
	}
	slow := &waitingTally{tally: tally{name: "slow", policy: runtime.Halt}, total: 3_000, wait: indexed}
	rt := pagedRuntime(t, pool, store, fast, slow)
	if err := rt.RebuildAll(ctx, []runtime.ReadModel{fast, slow}, nil); err != nil {
		t.Fatalf("rebuild: %v (the slow model waits at its last event for the fast one's index)", err)
	}
	checkTallies(t, pool, "rm_fast", f)
	checkTallies(t, pool, "rm_slow", f)
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM pg_indexes WHERE schemaname = 'rm_fast' AND indexname = 'tallies_by_amount'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("the swapped-in schema has %d tallies_by_amount (%v), want 1", n, err)
	}

	// An index whose build fails (a division by zero over the rows: the empty table of the migration made
	// it) fails the rebuild; neither model is swapped in.
	broken := &brokenIndexTally{indexedTally: *newIndexedTally("broken", "tallies_broken")}
	slow = &waitingTally{tally: tally{name: "slow", policy: runtime.Halt}, total: 3_000,
		wait: func(context.Context) (bool, error) { return true, nil }}
	rt = pagedRuntime(t, pool, store, broken, slow)
	if _, err := pool.Exec(ctx, "UPDATE rm_slow.tallies SET amount = -1"); err != nil {
		t.Fatal(err)
	}
	err := rt.RebuildAll(ctx, []runtime.ReadModel{broken, slow}, nil)
	if err == nil || !strings.Contains(err.Error(), "broken") || !strings.Contains(err.Error(), "tallies_broken") {
		t.Fatalf("rebuild with an index that cannot be built: %v, want an error naming the model and the index", err)
	}
	var negative int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM rm_slow.tallies WHERE amount = -1").Scan(&negative); err != nil || negative == 0 {
		t.Errorf("the failed rebuild swapped in the slow model (%d live rows untouched, %v)", negative, err)
	}
}

// brokenIndexTally is an indexedTally with an index that cannot be built over any row.
type brokenIndexTally struct{ indexedTally }

func (m *brokenIndexTally) Migrations() fs.FS {
	return fstest.MapFS{
		"0001_tallies.sql": {Data: []byte(`
CREATE TABLE tallies (stream text PRIMARY KEY, events bigint NOT NULL, amount bigint NOT NULL, last_revision bigint NOT NULL);
CREATE INDEX tallies_broken ON tallies ((amount / (events - events)));`)},
	}
}

// writeOnlyTally is a tally whose rebuild leaves its statistics alone (runtime.WriteOnly).
type writeOnlyTally struct{ tally }

func (*writeOnlyTally) AppliesWithoutReading() {}

// TestRebuildLeavesTheStatisticsOfAWriteOnlyModel: a model whose Apply reads none of its tables is not
// analysed as its shadow grows (the others are: see TestRebuildBuildsTheIndexesLeftForLastBeforeTheSwap).
func TestRebuildLeavesTheStatisticsOfAWriteOnlyModel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, store, f := threePages(t)
	wo, rw := &writeOnlyTally{tally{name: "wo", policy: runtime.Halt}}, &tally{name: "rw", policy: runtime.Halt}
	rt := pagedRuntime(t, pool, store, wo, rw)
	if err := rt.RebuildAll(ctx, []runtime.ReadModel{wo, rw}, nil); err != nil {
		t.Fatal(err)
	}
	checkTallies(t, pool, "rm_wo", f)
	checkTallies(t, pool, "rm_rw", f)
	analyzed := func(schema string) int64 {
		var n int64
		if err := pool.QueryRow(ctx, `SELECT analyze_count FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'tallies'`,
			schema).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := analyzed("rm_wo"); n != 0 {
		t.Errorf("the write-only model's table was analysed %d times during its rebuild, want none", n)
	}
	if n := analyzed("rm_rw"); n < 2 {
		t.Errorf("the other model's table was analysed %d times, want at least twice (after pages 1 and 2)", n)
	}
}

// TestRebuildKeepsAutovacuumOffTheShadowUntilTheSwap: the shadow tables a rebuild loads are not
// autovacuumed (the rebuild analyses what its models read itself); the tables swapped in are, as any
// live table, and a model whose migration sets autovacuum itself is refused before anything is loaded.
func TestRebuildKeepsAutovacuumOffTheShadowUntilTheSwap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, store, f := threePages(t)
	m := &observingTally{tally: tally{name: "vw", policy: runtime.Halt},
		observe: `SELECT coalesce(array_to_string(reloptions, ','), '') FROM pg_class WHERE oid = 'tallies'::regclass`}
	rt := pagedRuntime(t, pool, store, m)
	if err := rt.RebuildAll(ctx, []runtime.ReadModel{m}, nil); err != nil {
		t.Fatal(err)
	}
	checkTallies(t, pool, "rm_vw", f)
	if len(m.seen) < 3 {
		t.Fatalf("%d batches in the rebuild, want at least 3", len(m.seen))
	}
	for i, o := range m.seen {
		if !strings.Contains(o, "autovacuum_enabled=off") {
			t.Fatalf("batch %d of the rebuild wrote to a table with options %q: autovacuum on", i, o)
		}
	}
	var opts string
	if err := pool.QueryRow(ctx, `SELECT coalesce(array_to_string(reloptions, ','), '') FROM pg_class WHERE oid = 'rm_vw.tallies'::regclass`).Scan(&opts); err != nil {
		t.Fatal(err)
	}
	if opts != "" {
		t.Fatalf("the live table has options %q after the swap, want the server's own", opts)
	}

	own := &ownVacuum{tally: tally{name: "ov", policy: runtime.Halt}}
	rt = pagedRuntime(t, pool, store, own)
	err := rt.RebuildAll(ctx, []runtime.ReadModel{own}, nil)
	if err == nil || !strings.Contains(err.Error(), "autovacuum_enabled") {
		t.Fatalf("rebuild of a model whose migration sets autovacuum: %v, want an error naming autovacuum_enabled", err)
	}
}

// ownVacuum is a tally whose migration sets autovacuum_enabled on its table.
type ownVacuum struct{ tally }

func (*ownVacuum) Migrations() fs.FS {
	return fstest.MapFS{"0001_tallies.sql": {Data: []byte(`
CREATE TABLE tallies (stream text PRIMARY KEY, events bigint NOT NULL, amount bigint NOT NULL, last_revision bigint NOT NULL) WITH (autovacuum_enabled = on);`)}}
}

// appendLog is a WriteOnly model that inserts one row an event (no upsert), with a primary key and a unique
// index it builds last; oneRowAStream adds a unique index on the stream, which its rows break as soon as a
// stream has two events.
type appendLog struct {
	name          string
	oneRowAStream bool
	last          []string
	sawKey        []bool // at each batch: whether the primary key was in the schema Apply wrote to
}

func (m *appendLog) Name() string                 { return m.name }
func (m *appendLog) Poison() runtime.PoisonPolicy { return runtime.Halt }
func (m *appendLog) AppliesWithoutReading()       {}
func (m *appendLog) IndexesBuiltLast() []string   { return m.last }
func (m *appendLog) Migrations() fs.FS {
	sql := `CREATE TABLE entries (stream text NOT NULL, revision bigint NOT NULL, PRIMARY KEY (stream, revision));
CREATE UNIQUE INDEX entries_by_revision ON entries (revision, stream);`
	if m.oneRowAStream {
		sql += "\nCREATE UNIQUE INDEX entries_one_a_stream ON entries (stream);"
	}
	return fstest.MapFS{"0001_entries.sql": {Data: []byte(sql)}}
}

func (m *appendLog) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.Recorded) error {
	var key bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'entries'::regclass AND contype = 'p')`).Scan(&key); err != nil {
		return err
	}
	m.sawKey = append(m.sawKey, key)
	b := &pgx.Batch{}
	for _, e := range batch {
		b.Queue("INSERT INTO entries (stream, revision) VALUES ($1, $2)", e.Stream, int64(e.Revision))
	}
	return tx.SendBatch(ctx, b).Close()
}

// TestRebuildBuildsAWriteOnlyModelsKeysLast: a WriteOnly model may name its primary key and unique indexes
// to be built last: the history goes into the shadow without them, and the swapped-in schema has them as the
// migrations made them, the key a primary-key constraint again. A duplicate fails the index's build and the
// rebuild, naming the index, and the live schema is left alone. A model that is not WriteOnly still may not
// (TestRebuildBuildsTheIndexesLeftForLastBeforeTheSwap).
func TestRebuildBuildsAWriteOnlyModelsKeysLast(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, store, _ := threePages(t)
	m := &appendLog{name: "log", last: []string{"entries_pkey", "entries_by_revision"}}
	dup := &appendLog{name: "dup", oneRowAStream: true, last: []string{"entries_one_a_stream"}}
	rt := pagedRuntime(t, pool, store, m, dup)
	shape := func(schema string) map[string]string {
		rows, err := pool.Query(ctx, `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'entries'
			UNION ALL SELECT 'constraint ' || conname, contype::text FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
			WHERE n.nspname = $1 AND k.conrelid = to_regclass($1 || '.entries') AND k.contype IN ('p', 'u')`, schema)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				t.Fatal(err)
			}
			out[k] = v
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	before := shape("rm_log")
	if before["constraint entries_pkey"] != "p" || len(before) != 3 {
		t.Fatalf("the migration made %v, want the key (and its constraint) and entries_by_revision", before)
	}
	if err := rt.Rebuild(ctx, m, nil); err != nil {
		t.Fatal(err)
	}
	if len(m.sawKey) != 3 || slices.Contains(m.sawKey, true) {
		t.Errorf("the primary key was in the shadow schema while the history was applied (batches: %v)", m.sawKey)
	}
	if after := shape("rm_log"); !maps.Equal(before, after) {
		t.Errorf("after the rebuild:\n%v\nwant, as the migrations made them:\n%v", after, before)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM rm_log.entries").Scan(&n); err != nil || n != 3_000 {
		t.Errorf("rm_log.entries has %d rows (%v), want 3000", n, err)
	}

	err := rt.Rebuild(ctx, dup, nil)
	if err == nil || !strings.Contains(err.Error(), "entries_one_a_stream") {
		t.Fatalf("rebuild whose rows break a unique index built last: %v, want an error naming the index", err)
	}
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM rm_dup.entries").Scan(&n); err != nil || n != 0 {
		t.Errorf("the failed rebuild changed the live schema: %d rows (%v)", n, err)
	}
}
