package runtime_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/esdbnode"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"
	"github.com/grassroots-ledger/ledger/projections/audittrail"
	"github.com/grassroots-ledger/ledger/projections/internal/decode/decodetest"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

func quietLogger() *slog.Logger {
	if os.Getenv("PROJECTION_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// databaseURL is the server the tests create their databases on (pgtest: fails without DATABASE_URL).
func databaseURL(tb testing.TB) string { tb.Helper(); return pgtest.ServerURL(tb) }

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newDatabase creates a database of its own for one test on the server at serverURL and returns its URL.
func newDatabase(tb testing.TB, serverURL string) string {
	tb.Helper()
	return pgtest.NewDatabaseOn(tb, serverURL)
}

func connect(tb testing.TB, url string) *pgxpool.Pool {
	tb.Helper()
	pool, err := pg.Connect(context.Background(), pg.Config{URL: url, MaxConns: 8})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// testPool is a fresh database on DATABASE_URL's server.
func testPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	return connect(tb, newDatabase(tb, databaseURL(tb)))
}

// testStore starts an embedded node in a temporary directory and dials it through the real adapter.
func testStore(tb testing.TB) (*eventstore.Store, *esdbnode.Node) {
	tb.Helper()
	return openStore(tb, tb.TempDir())
}

func openStore(tb testing.TB, dir string) (*eventstore.Store, *esdbnode.Node) {
	tb.Helper()
	ctx := context.Background()
	node, err := esdbnode.Open(ctx, esdbnode.Config{Dir: dir, Listen: "127.0.0.1:0", Logger: quietLogger()})
	if err != nil {
		tb.Fatalf("open embedded node: %v", err)
	}
	tb.Cleanup(func() { _ = node.Close() })
	store, err := eventstore.Dial(ctx, eventstore.Config{URL: node.URL(), Logger: quietLogger()})
	if err != nil {
		tb.Fatalf("dial embedded node: %v", err)
	}
	tb.Cleanup(func() { _ = store.Close() })
	return store, node
}

// newRuntime builds a runtime over pool and src with a private metrics registry.
func newRuntime(tb testing.TB, pool *pgxpool.Pool, src runtime.Source, models []runtime.ReadModel, tweak ...func(*runtime.Config)) (*runtime.Runtime, *prometheus.Registry) {
	tb.Helper()
	reg := prometheus.NewRegistry()
	cfg := runtime.Config{
		Pool: pool, Source: src, Migrate: pg.Migrator(pool), Models: models, Registerer: reg, Logger: quietLogger(),
		RetryInitial: 20 * time.Millisecond, RetryMax: 500 * time.Millisecond,
	}
	for _, f := range tweak {
		f(&cfg)
	}
	rt, err := runtime.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return rt, reg
}

// start runs rt until the test ends (or stop is called) and reports Run's error.
func start(tb testing.TB, rt *runtime.Runtime) (stop func() error) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	stopped := false
	var result error
	stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			select {
			case result = <-done:
			case <-time.After(60 * time.Second):
				result = errors.New("runtime did not stop within 60s")
			}
			if errors.Is(result, context.Canceled) {
				result = nil
			}
		}
		return result
	}
	tb.Cleanup(func() {
		if err := stop(); err != nil {
			tb.Errorf("runtime: %v", err)
		}
	})
	return stop
}

// ---- events -------------------------------------------------------------------------------------------

// tallyPayload is the payload of the test events: an amount to add to its stream's tally.
type tallyPayload struct {
	Amount int64 `json:"amount"`
}

const tallyType = "test.tallied"

// community i of the test data, and its jurisdiction path (two districts, so subtree queries select).
func community(i int) (id, path string) {
	district := "330303"
	if i%2 == 1 {
		district = "330304"
	}
	id = fmt.Sprintf("%s%06d", district, i)
	return id, "33/3303/" + district + "/" + id[:9] + "/" + id
}

// testEvents builds n events of stream, numbered from first, as a command would.
func testEvents(stream string, first, n int, payload func(i int) []byte) []eventlog.Event {
	_, comm, _, _ := eventlog.SplitStreamName(stream)
	var path string
	for i := 0; i < 64; i++ {
		if id, p := community(i); id == comm {
			path = p
		}
	}
	evs := make([]eventlog.Event, n)
	base := time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
	for k := range evs {
		i := first + k
		cmd := fmt.Sprintf("%s/%d", stream, i)
		data := []byte(fmt.Sprintf(`{"amount":%d}`, i%97+1))
		if payload != nil {
			data = payload(i)
		}
		evs[k] = eventlog.Event{
			ID: eventlog.DeriveID(cmd, 0), Type: tallyType, Data: data,
			Meta: eventlog.Metadata{SchemaVersion: 1, CommunityID: comm, Jurisdiction: path,
				Actor: fmt.Sprintf("clerk:%d", i%7), CommandID: cmd, CorrelationID: "corr-" + cmd,
				OccurredAt: base.Add(time.Duration(i) * time.Second)},
		}
	}
	return evs
}

// filler appends test events to a fixed set of streams and remembers their tails, so it can go on later.
type filler struct {
	store   *eventstore.Store
	streams []string
	next    []int
	tails   []eventlog.Expected
	rr      int
	sums    map[string]int64 // expected tally per stream
	counts  map[string]int64
	total   int
}

// filledStore is a test's own embedded node and a filler of streams streams over it.
func filledStore(tb testing.TB, streams int) (*eventstore.Store, *filler) {
	tb.Helper()
	store, _ := testStore(tb)
	return store, newFiller(store, streams)
}

func newFiller(store *eventstore.Store, streams int) *filler {
	f := &filler{store: store, sums: map[string]int64{}, counts: map[string]int64{}}
	for i := 0; i < streams; i++ {
		id, _ := community(i % 64)
		f.streams = append(f.streams, eventlog.StreamName("tally", id, fmt.Sprintf("s%03d", i)))
		f.next = append(f.next, 0)
		f.tails = append(f.tails, eventlog.NoStream())
	}
	return f
}

// append writes n events in appends of at most per events, round-robin over the streams.
func (f *filler) append(tb testing.TB, n, per int, payload func(i int) []byte) eventlog.Position {
	tb.Helper()
	var last eventlog.Position
	for n > 0 {
		k := min(n, per)
		s := f.rr % len(f.streams)
		f.rr++
		evs := testEvents(f.streams[s], f.next[s], k, payload)
		res, err := f.store.Append(context.Background(), f.streams[s], f.tails[s], evs)
		if err != nil {
			tb.Fatalf("append %d events to %s: %v", k, f.streams[s], err)
		}
		for _, e := range evs {
			var p tallyPayload
			if json.Unmarshal(e.Data, &p) == nil && p.Amount > 0 {
				f.sums[f.streams[s]] += p.Amount
				f.counts[f.streams[s]]++
			}
		}
		f.tails[s] = eventlog.At(res.Revision, evs[k-1].Meta.Hash)
		f.next[s] += k
		f.total += k
		n -= k
		last = res.Position
	}
	return last
}

// ---- a test read model that counts: any event applied twice shows ---------------------------------------

// tally keeps, per stream, how many events it saw and the sum of their amounts. Unlike the audit trail,
// whose primary key would reject a duplicate, it silently double-counts one: the effectively-once tests
// rely on that.
type tally struct {
	name   string
	policy runtime.PoisonPolicy
	// fail, when set, is called before each batch; an error from it fails the batch (a transient error).
	fail func() error
	// barePoison reports poison as a plain wrapped ErrPoison, without naming the event.
	barePoison bool
}

func (m *tally) Name() string                 { return m.name }
func (m *tally) Poison() runtime.PoisonPolicy { return m.policy }
func (m *tally) Migrations() fs.FS {
	return fstest.MapFS{"0001_tallies.sql": {Data: []byte(`
CREATE TABLE tallies (stream text PRIMARY KEY, events bigint NOT NULL, amount bigint NOT NULL, last_revision bigint NOT NULL);`)}}
}

// Apply pipelines one upsert per event in a single round trip.
func (m *tally) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.Recorded) error {
	if m.fail != nil {
		if err := m.fail(); err != nil {
			return err
		}
	}
	b := &pgx.Batch{}
	for _, e := range batch {
		if e.Type != tallyType {
			continue
		}
		var p tallyPayload
		if err := json.Unmarshal(e.Data, &p); err != nil || p.Amount <= 0 {
			err := fmt.Errorf("payload %q: %v: %w", e.Data, err, runtime.ErrPoison)
			if m.barePoison {
				return err
			}
			return runtime.Poison(e, err)
		}
		b.Queue(`INSERT INTO tallies AS t (stream, events, amount, last_revision) VALUES ($1, 1, $2, $3)
			ON CONFLICT (stream) DO UPDATE SET events = t.events + 1, amount = t.amount + excluded.amount, last_revision = excluded.last_revision`,
			e.Stream, p.Amount, int64(e.Revision))
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

func newTally() *tally { return &tally{name: "tally", policy: runtime.Halt} }

func models(t *tally) []runtime.ReadModel { return []runtime.ReadModel{audittrail.Model{}, t} }

// ---- checking -----------------------------------------------------------------------------------------

// checksum is the md5 of every row of schema.table in key order.
func checksum(tb testing.TB, pool *pgxpool.Pool, schema, table, key string) string {
	tb.Helper()
	var sum string
	var n int64
	err := pool.QueryRow(context.Background(), fmt.Sprintf(
		"SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY %s), '')), count(*) FROM %s t",
		key, pgx.Identifier{schema, table}.Sanitize())).Scan(&sum, &n)
	if err != nil {
		tb.Fatalf("checksum %s.%s: %v", schema, table, err)
	}
	return fmt.Sprintf("%s/%d", sum, n)
}

type sums struct{ audit, tally string }

func modelSums(tb testing.TB, pool *pgxpool.Pool) sums {
	return sums{
		audit: checksum(tb, pool, "rm_audittrail", "audit_events", "commit_pos, prepare_pos"),
		tally: checksum(tb, pool, "rm_tally", "tallies", "stream"),
	}
}

// checkpointOf and waitFor are the read-model test kit's.
var (
	checkpointOf = decodetest.Checkpoint
	waitFor      = decodetest.WaitFor
)

// waitCheckpoint waits until schema's checkpoint reaches at least pos.
func waitCheckpoint(tb testing.TB, pool *pgxpool.Pool, schema string, pos eventlog.Position, timeout time.Duration) {
	tb.Helper()
	waitFor(tb, timeout, schema+" to reach "+pos.String(), func() (bool, string) {
		var c, p int64
		err := pool.QueryRow(context.Background(), "SELECT commit_pos, prepare_pos FROM "+pgx.Identifier{schema, "checkpoint"}.Sanitize()).Scan(&c, &p)
		if err != nil {
			return false, err.Error()
		}
		got := eventlog.Position{Commit: uint64(c), Prepare: uint64(p)}
		return !got.Less(pos), "at " + got.String()
	})
}

// checkTallies compares the tally table with what the filler appended.
func checkTallies(tb testing.TB, pool *pgxpool.Pool, schema string, f *filler) {
	tb.Helper()
	rows, err := pool.Query(context.Background(), "SELECT stream, events, amount FROM "+pgx.Identifier{schema, "tallies"}.Sanitize())
	if err != nil {
		tb.Fatal(err)
	}
	got := map[string][2]int64{}
	for rows.Next() {
		var s string
		var n, a int64
		if err := rows.Scan(&s, &n, &a); err != nil {
			tb.Fatal(err)
		}
		got[s] = [2]int64{n, a}
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	bad := 0
	for s, n := range f.counts {
		if g := got[s]; g != [2]int64{n, f.sums[s]} {
			if bad < 5 {
				tb.Errorf("stream %s: tally has %d events summing %d, appended %d summing %d", s, g[0], g[1], n, f.sums[s])
			}
			bad++
		}
	}
	if len(got) != len(f.counts) {
		tb.Errorf("tally has %d streams, appended %d", len(got), len(f.counts))
	}
	if bad > 0 {
		tb.Fatalf("%d streams wrong", bad)
	}
}

func countRows(tb testing.TB, pool *pgxpool.Pool, sql string, args ...any) int64 {
	tb.Helper()
	var n int64
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
	return n
}

// metricValue reads one labelled sample of a counter or gauge from reg (0 when absent).
func metricValue(tb testing.TB, reg *prometheus.Registry, name, projection string) float64 {
	tb.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "projection" && l.GetValue() == projection {
					if c := m.GetCounter(); c != nil {
						return c.GetValue()
					}
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return 0
}

type fsFS = fs.FS

// mapFS is a migration set of one file.
func mapFS(sql string) fs.FS { return fstest.MapFS{"0001_init.sql": {Data: []byte(sql)}} }
