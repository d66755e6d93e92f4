package runtime_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"
	"github.com/grassroots-ledger/ledger/projections/audittrail"
	"github.com/grassroots-ledger/ledger/projections/freshness"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// Environment of the projecting child process of TestKillNineDuringCatchUp.
const (
	childEnv     = "PROJECTION_TEST_CHILD"
	childDBEnv   = "PROJECTION_TEST_CHILD_DATABASE_URL"
	childESDBEnv = "PROJECTION_TEST_CHILD_EVENTSTORE_URL"
)

// TestKillNineDuringCatchUp kills the projecting process with SIGKILL at ten random points of a 100 000-event
// catch-up. Whatever a kill interrupts (a batch being applied, a commit in flight, a subscription being
// opened), the final read models must equal, row for row, a clean rebuild, and the tally must count every
// event exactly once.
func TestKillNineDuringCatchUp(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		projectAsChild(t)
		return
	}
	t.Parallel()
	const events, kills = 100_000, 10
	dbURL := newDatabase(t, databaseURL(t))
	pool := connect(t, dbURL)
	store, node := testStore(t)
	f := newFiller(store, 50)
	began := time.Now()
	head := f.append(t, events, 2000, nil)
	t.Logf("appended %d events in %s", events, time.Since(began))

	// Kill points: ten random checkpoints spread over the history, each overshot by a random few ms so the
	// kill lands at any point of a batch's life, not just after a commit.
	points := make([]uint64, kills)
	for i := range points {
		points[i] = rand.Uint64N(head.Commit * 9 / 10)
	}
	slices.Sort(points)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	began = time.Now()
	for i, point := range points {
		cmd := exec.Command(exe, "-test.run=^TestKillNineDuringCatchUp$", "-test.count=1")
		cmd.Env = append(os.Environ(), childEnv+"=1", childDBEnv+"="+dbURL, childESDBEnv+"="+node.URL())
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatalf("start child: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		reached := false
		deadline := time.Now().Add(90 * time.Second)
		for !reached {
			select {
			case err := <-exited:
				t.Fatalf("child exited by itself (%v):\n%s", err, out.String())
			case <-time.After(5 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				<-exited
				t.Fatalf("the child did not reach checkpoint %d in 90s:\n%s", point, out.String())
			}
			var c int64
			if err := pool.QueryRow(context.Background(), "SELECT commit_pos FROM rm_tally.checkpoint").Scan(&c); err == nil {
				reached = uint64(c) >= point
			}
		}
		time.Sleep(time.Duration(rand.IntN(40)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatalf("kill child: %v", err)
		}
		<-exited
		t.Logf("kill %d at checkpoint >= %d: tally %s, audit trail %s", i+1, point,
			checkpointOf(t, pool, "rm_tally"), checkpointOf(t, pool, "rm_audittrail"))
	}
	t.Logf("%d kills in %s", kills, time.Since(began))

	// The last run finishes the catch-up in this process.
	tl := newTally()
	rt, _ := newRuntime(t, pool, store, models(tl))
	stop := start(t, rt)
	waitCheckpoint(t, pool, "rm_tally", head, 120*time.Second)
	waitCheckpoint(t, pool, "rm_audittrail", head, 120*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	checkTallies(t, pool, "rm_tally", f)
	live := modelSums(t, pool)

	// A clean rebuild of both models from the same history must give the same rows.
	for _, m := range models(tl) {
		if err := rt.Rebuild(context.Background(), m, nil); err != nil {
			t.Fatal(err)
		}
	}
	if rebuilt := modelSums(t, pool); rebuilt != live {
		t.Fatalf("after kill -9: live %+v, clean rebuild %+v", live, rebuilt)
	}
}

// projectAsChild is the child process of TestKillNineDuringCatchUp: it projects until it is killed.
func projectAsChild(t *testing.T) {
	ctx := context.Background()
	pool, err := pg.Connect(ctx, pg.Config{URL: os.Getenv(childDBEnv)})
	if err != nil {
		t.Fatal(err)
	}
	store, err := eventstore.Dial(ctx, eventstore.Config{URL: os.Getenv(childESDBEnv), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	rt, _ := newRuntime(t, pool, store, models(newTally()))
	err = rt.Run(ctx)
	t.Fatalf("child runtime stopped: %v", err)
}

// replayingSource delivers overlapping ranges: after every `every` events of a subscription it delivers the
// last `back` events again, as a subscription resumed from an old position would; ReadAll pages overlap too.
type replayingSource struct {
	runtime.Source
	every, back int
}

func (s replayingSource) SubscribeAll(ctx context.Context, from eventlog.Position, filter eventlog.Filter, fn func(eventlog.Delivery) error) error {
	var recent []eventlog.Delivery
	n := 0
	return s.Source.SubscribeAll(ctx, from, filter, func(d eventlog.Delivery) error {
		if err := fn(d); err != nil {
			return err
		}
		recent = append(recent, d)
		if len(recent) > s.back {
			recent = recent[len(recent)-s.back:]
		}
		if n++; n%s.every == 0 {
			for _, old := range recent {
				if err := fn(old); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func (s replayingSource) ReadAll(ctx context.Context, from eventlog.Position, max int, fn func(eventlog.Recorded) error) error {
	var page []eventlog.Recorded
	if err := s.Source.ReadAll(ctx, from, max, func(r eventlog.Recorded) error { page = append(page, r); return nil }); err != nil {
		return err
	}
	for i, r := range page {
		if err := fn(r); err != nil {
			return err
		}
		if i == len(page)/2 { // half the page again
			for _, again := range page[:i] {
				if err := fn(again); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// TestEveryEventDeliveredTwice projects the same history three ways into three databases: plainly; with
// every Watermill message (batch) delivered a second time after it was acked; and from a source that
// replays overlapping ranges. All three must be identical, and the tallies exact.
func TestEveryEventDeliveredTwice(t *testing.T) {
	t.Parallel()
	store, _ := testStore(t)
	f := newFiller(store, 20)
	head := f.append(t, 10_000, 1000, nil)

	project := func(name string, src runtime.Source, tweak func(*runtime.Runtime)) (sums, *pgxpool.Pool) {
		pool := testPool(t)
		rt, _ := newRuntime(t, pool, src, models(newTally()), func(c *runtime.Config) { c.MaxBatch = 300 })
		if tweak != nil {
			tweak(rt)
		}
		stop := start(t, rt)
		// Live appends land while the duplicating feed runs, too.
		waitCheckpoint(t, pool, "rm_tally", head, 120*time.Second)
		waitCheckpoint(t, pool, "rm_audittrail", head, 120*time.Second)
		if err := stop(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkTallies(t, pool, "rm_tally", f)
		return modelSums(t, pool), pool
	}
	once, _ := project("once", store, nil)
	twice, _ := project("every batch twice", store, runtime.DeliverEveryBatchTwice)
	replayed, pool := project("overlapping ranges", replayingSource{Source: store, every: 700, back: 500}, nil)
	if twice != once || replayed != once {
		t.Fatalf("single delivery %+v\nevery batch twice %+v\noverlapping ranges %+v", once, twice, replayed)
	}

	// A rebuild that reads overlapping pages gives the same rows too.
	rt, _ := newRuntime(t, pool, replayingSource{Source: store, every: 700, back: 500}, models(newTally()),
		func(c *runtime.Config) { c.RebuildBatch = 777 })
	for _, m := range models(newTally()) {
		if err := rt.Rebuild(context.Background(), m, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := modelSums(t, pool); got != once {
		t.Fatalf("rebuild over overlapping pages %+v, want %+v", got, once)
	}
}

// TestTwoProcessesProjectTheSameModels runs two runtimes over one database at once, as two instances of
// the ledger would. Each batch transaction checks the checkpoint under a row lock, so one of them applies
// each event and the other finds the checkpoint moved and follows.
func TestTwoProcessesProjectTheSameModels(t *testing.T) {
	t.Parallel()
	pool := testPool(t)
	store, _ := testStore(t)
	f := newFiller(store, 10)
	head := f.append(t, 5000, 500, nil)
	a, regA := newRuntime(t, pool, store, models(newTally()), func(c *runtime.Config) { c.MaxBatch = 200 })
	b, regB := newRuntime(t, pool, store, models(newTally()), func(c *runtime.Config) { c.MaxBatch = 170 })
	start(t, a)
	start(t, b)
	for i := 0; i < 20; i++ {
		head = f.append(t, 50, 10, nil)
		time.Sleep(5 * time.Millisecond)
	}
	waitCheckpoint(t, pool, "rm_tally", head, 60*time.Second)
	waitCheckpoint(t, pool, "rm_audittrail", head, 60*time.Second)
	checkTallies(t, pool, "rm_tally", f)
	if n := countRows(t, pool, "SELECT count(*) FROM rm_audittrail.audit_events"); n != int64(f.total) {
		t.Fatalf("audit trail has %d rows, appended %d", n, f.total)
	}
	applied := metricValue(t, regA, "ledger_projection_events_applied_total", "tally") + metricValue(t, regB, "ledger_projection_events_applied_total", "tally")
	t.Logf("events applied by a + b: %v of %d; resyncs a %v, b %v", applied, f.total,
		metricValue(t, regA, "ledger_projection_resyncs_total", "tally"), metricValue(t, regB, "ledger_projection_resyncs_total", "tally"))
}

// TestPostgresRestartDuringLiveProjection crashes the read-model database in the middle of live projection
// (immediate stop: commits not yet flushed are lost, so checkpoints may move back) and starts it again.
// The projector must retry with backoff, reconnect, and end with every event counted exactly once.
func TestPostgresRestartDuringLiveProjection(t *testing.T) {
	t.Parallel()
	c := pgtest.New(t)
	pool := connect(t, c.URL())
	store, _ := testStore(t)
	f := newFiller(store, 10)
	head := f.append(t, 3000, 300, nil)
	tl := newTally()
	rt, reg := newRuntime(t, pool, store, models(tl))
	start(t, rt)
	waitCheckpoint(t, pool, "rm_tally", head, 60*time.Second)

	// Live appends at a steady pace all along; the filler is not safe for concurrent use, so one goroutine
	// appends and the test reads its head under the lock.
	var mu sync.Mutex
	var stopAppending atomic.Bool
	appended := make(chan struct{})
	go func() {
		defer close(appended)
		for !stopAppending.Load() {
			mu.Lock()
			head = f.append(t, 5, 5, nil)
			mu.Unlock()
			time.Sleep(10 * time.Millisecond)
		}
	}()
	time.Sleep(500 * time.Millisecond)
	c.Crash()
	down := time.Now()
	time.Sleep(2 * time.Second)
	c.Start()
	up := time.Now()
	time.Sleep(500 * time.Millisecond)
	stopAppending.Store(true)
	<-appended
	mu.Lock()
	final := head
	mu.Unlock()
	waitCheckpoint(t, pool, "rm_tally", final, 90*time.Second)
	waitCheckpoint(t, pool, "rm_audittrail", final, 90*time.Second)
	t.Logf("database down %s; caught up with %d events %s after restart; batch failures %v, resyncs %v",
		up.Sub(down).Round(time.Millisecond), f.total, time.Since(up).Round(time.Millisecond),
		metricValue(t, reg, "ledger_projection_batch_failures_total", "tally"), metricValue(t, reg, "ledger_projection_resyncs_total", "tally"))
	// The crash hits the projector one way or the other: a batch fails while the database is down, or (when
	// its connection attempts wait the outage out) the commits the crash lost (synchronous_commit is off)
	// move its checkpoint back and it resumes from there.
	if metricValue(t, reg, "ledger_projection_batch_failures_total", "tally")+metricValue(t, reg, "ledger_projection_resyncs_total", "tally") == 0 {
		t.Error("no batch failed and no checkpoint moved back while the database was down: the crash did not hit the projector")
	}
	checkTallies(t, pool, "rm_tally", f)
	if n := countRows(t, pool, "SELECT count(*) FROM rm_audittrail.audit_events"); n != int64(f.total) {
		t.Fatalf("audit trail has %d rows, appended %d", n, f.total)
	}
	fresh, err := freshness.Read(context.Background(), pool)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range fresh {
		if p.Checkpoint != final || p.State != "running" {
			t.Errorf("freshness %+v, want checkpoint %s running", p, final)
		}
	}
	var _ = audittrail.Name
	var _ = errors.Is
}

// TestCheckpointMovedBackIsReplayedNotSkipped restores the tally model to an older state behind the live
// projector's back (as restoring a backup, or losing unflushed commits in a crash, would). The projector
// must notice that the checkpoint is not where it left it, resubscribe from the older checkpoint and apply
// the events again, never continue over the gap.
func TestCheckpointMovedBackIsReplayedNotSkipped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testPool(t)
	store, f := filledStore(t, 5)
	head := f.append(t, 500, 100, nil)
	rt, reg := newRuntime(t, pool, store, models(newTally()))
	start(t, rt)
	waitCheckpoint(t, pool, "rm_tally", head, 30*time.Second)
	if _, err := pool.Exec(ctx, `CREATE SCHEMA backup; CREATE TABLE backup.tallies AS TABLE rm_tally.tallies;
		CREATE TABLE backup.checkpoint AS TABLE rm_tally.checkpoint`); err != nil {
		t.Fatal(err)
	}
	head = f.append(t, 500, 100, nil)
	waitCheckpoint(t, pool, "rm_tally", head, 30*time.Second)
	if _, err := pool.Exec(ctx, `BEGIN; LOCK rm_tally.checkpoint;
		DELETE FROM rm_tally.tallies; INSERT INTO rm_tally.tallies SELECT * FROM backup.tallies;
		DELETE FROM rm_tally.checkpoint; INSERT INTO rm_tally.checkpoint SELECT * FROM backup.checkpoint; COMMIT`); err != nil {
		t.Fatal(err)
	}
	head = f.append(t, 10, 10, nil)
	waitCheckpoint(t, pool, "rm_tally", head, 30*time.Second)
	checkTallies(t, pool, "rm_tally", f)
	if got := metricValue(t, reg, "ledger_projection_resyncs_total", "tally"); got < 1 {
		t.Fatalf("resyncs %v: the moved checkpoint went unnoticed", got)
	}
}
