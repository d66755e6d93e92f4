package esdbnode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// TestIndexTailAgainstModel drives a node whose index flushes are tiny (a flush every few events, in chunks
// that split streams' tails) through random appends and retries, and checks every stream, $all and the
// idempotency answers against a model — on the live node and on crash-consistent snapshots of its file
// (which reopen with an unflushed tail to rebuild from the log).
func TestIndexTailAgainstModel(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	n, err := Open(ctx, Config{Dir: t.TempDir(), Logger: logger,
		indexSoftCap: 10, indexFlushChunk: 7, indexIdleFlush: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	c := testClient(t, n.URL())

	type appended struct {
		stream string
		events []esdb.EventData
		result esdb.WriteResult
	}
	model := map[string][]uuid.UUID{}
	var all []uuid.UUID
	var history []appended
	rng := rand.New(rand.NewPCG(1, 2))
	streams := []string{"a", "b", "c", "d", "e"}

	check := func(c *esdb.Client, what string, model map[string][]uuid.UUID, all []uuid.UUID) {
		t.Helper()
		for _, s := range streams {
			got := readIDs(t, c, s)
			if fmt.Sprint(got) != fmt.Sprint(model[s]) {
				t.Fatalf("%s: stream %s holds %v, want %v", what, s, got, model[s])
			}
		}
		rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{}, 1<<40)
		if err != nil {
			t.Fatal(err)
		}
		var got []uuid.UUID
		for {
			e, err := rs.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: read $all: %v", what, err)
			}
			got = append(got, e.Event.EventID)
		}
		rs.Close()
		if fmt.Sprint(got) != fmt.Sprint(all) {
			t.Fatalf("%s: $all differs from the model", what)
		}
	}

	for step := range 300 {
		if step%40 == 39 {
			check(c, fmt.Sprintf("live at step %d", step), model, all)
			// A crash-consistent copy of the file, reopened: the unflushed tail is rebuilt from the log.
			snap := filepath.Join(t.TempDir(), dataFileName)
			if err := n.store.db.View(func(tx *bolt.Tx) error { return tx.CopyFile(snap, 0o600) }); err != nil {
				t.Fatal(err)
			}
			n.store.idx.mu.RLock()
			pending, through := n.store.idx.pending, n.store.idx.through
			n.store.idx.mu.RUnlock()
			t.Logf("step %d: snapshot with %d events unindexed, through %d", step, pending, through)
			n2, err := Open(ctx, Config{Dir: filepath.Dir(snap), Logger: logger})
			if err != nil {
				t.Fatalf("reopen snapshot: %v", err)
			}
			c2 := testClient(t, n2.URL())
			check(c2, fmt.Sprintf("snapshot at step %d (%d events unindexed)", step, pending), model, all)
			h := history[rng.IntN(len(history))]
			if res, err := c2.AppendToStream(ctx, h.stream, esdb.AppendToStreamOptions{}, h.events...); err != nil || *res != h.result {
				t.Fatalf("snapshot: retry: %+v, %v; want %+v", res, err, h.result)
			}
			_ = c2.Close()
			if err := n2.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if len(history) > 0 && rng.IntN(5) == 0 {
			// Retry an earlier append: the original result, nothing written.
			h := history[rng.IntN(len(history))]
			res, err := c.AppendToStream(ctx, h.stream, esdb.AppendToStreamOptions{}, h.events...)
			if err != nil || *res != h.result {
				t.Fatalf("step %d: retry of an append to %s: %+v, %v; want %+v", step, h.stream, res, err, h.result)
			}
			continue
		}
		s := streams[rng.IntN(len(streams))]
		events := make([]esdb.EventData, 1+rng.IntN(4))
		for i := range events {
			events[i] = esdb.EventData{EventID: uuid.New(), EventType: "Step", ContentType: esdb.ContentTypeJson,
				Data: []byte(fmt.Sprintf(`{"step":%d}`, step))}
		}
		var expected esdb.ExpectedRevision = esdb.NoStream{}
		if k := len(model[s]); k > 0 {
			expected = esdb.Revision(uint64(k - 1))
		}
		res, err := c.AppendToStream(ctx, s, esdb.AppendToStreamOptions{ExpectedRevision: expected}, events...)
		if err != nil {
			t.Fatalf("step %d: append to %s: %v", step, s, err)
		}
		for _, e := range events {
			model[s] = append(model[s], e.EventID)
			all = append(all, e.EventID)
		}
		history = append(history, appended{stream: s, events: events, result: *res})
		if res.NextExpectedVersion != uint64(len(model[s])-1) || res.CommitPosition != uint64(len(all)) {
			t.Fatalf("step %d: result %+v, want revision %d position %d", step, *res, len(model[s])-1, len(all))
		}
		if got := readIDs(t, c, s); fmt.Sprint(got) != fmt.Sprint(model[s]) {
			t.Fatalf("step %d: stream %s holds %v, want %v", step, s, got, model[s])
		}
	}
}

func testClient(t *testing.T, url string) *esdb.Client {
	t.Helper()
	cfg, err := esdb.ParseConnectionString(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = esdb.NoopLogging()
	c, err := esdb.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func readIDs(t *testing.T, c *esdb.Client, stream string) []uuid.UUID {
	t.Helper()
	rs, err := c.ReadStream(context.Background(), stream, esdb.ReadStreamOptions{}, 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []uuid.UUID
	for {
		e, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		var ee *esdb.Error
		if errors.As(err, &ee) && ee.Code() == esdb.ErrorCodeResourceNotFound {
			return nil
		}
		if err != nil {
			t.Fatalf("read %s: %v", stream, err)
		}
		if e.Event.EventNumber != uint64(len(out)) {
			t.Fatalf("stream %s: revision %d at index %d", stream, e.Event.EventNumber, len(out))
		}
		out = append(out, e.Event.EventID)
	}
}

// BenchmarkOpenAfterCrashWithFullTail measures Open of a store whose last tailHardCap events were never indexed
// (a crash at the worst moment): Open rebuilds that tail from the log.
func BenchmarkOpenAfterCrashWithFullTail(b *testing.B) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	n, err := Open(ctx, Config{Dir: b.TempDir(), Logger: logger, indexSoftCap: 1 << 30, indexIdleFlush: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	cfg, _ := esdb.ParseConnectionString(n.URL())
	cfg.Logger = esdb.NoopLogging()
	c, _ := esdb.NewClient(cfg)
	data := make([]byte, 200)
	for have := 0; have < tailHardCap; have += 4096 {
		events := make([]esdb.EventData, min(4096, tailHardCap-have))
		for i := range events {
			events[i] = esdb.EventData{EventID: uuid.New(), EventType: "Crash", ContentType: esdb.ContentTypeBinary, Data: data}
		}
		if _, err := c.AppendToStream(ctx, fmt.Sprintf("s-%d", have%37), esdb.AppendToStreamOptions{}, events...); err != nil {
			b.Fatal(err)
		}
	}
	snapDir := b.TempDir()
	if err := n.store.db.View(func(tx *bolt.Tx) error {
		return tx.CopyFile(filepath.Join(snapDir, dataFileName), 0o600)
	}); err != nil {
		b.Fatal(err)
	}
	pending := n.store.idx.pending
	_ = c.Close()
	_ = n.Close()
	b.ResetTimer()
	var total time.Duration
	for range b.N {
		// Open read-only in effect: nothing is appended, and Close would index the tail, so copy first.
		dir := b.TempDir()
		b.StopTimer()
		if err := copyFile(filepath.Join(snapDir, dataFileName), filepath.Join(dir, dataFileName)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		n2, err := Open(ctx, Config{Dir: dir, Logger: logger})
		if err != nil {
			b.Fatal(err)
		}
		total += time.Since(t0)
		if n2.store.idx.pending != pending {
			b.Fatalf("rebuilt %d pending events, want %d", n2.store.idx.pending, pending)
		}
		b.StopTimer()
		_ = n2.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "open-ms")
	b.ReportMetric(float64(pending), "tail-events")
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600)
}
