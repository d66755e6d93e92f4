package runtime_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/projections/audittrail"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

func TestProjectsHistoryThenLiveAndResumesFromCheckpoint(t *testing.T) {
	t.Parallel()
	pool := testPool(t)
	store, _ := testStore(t)
	f := newFiller(store, 20)
	began := time.Now()
	head := f.append(t, 5000, 500, nil)
	t.Logf("appended %d events in %s", f.total, time.Since(began))

	tl := newTally()
	rt, reg := newRuntime(t, pool, store, models(tl))
	stop := start(t, rt)
	waitCheckpoint(t, pool, "rm_audittrail", head, 60*time.Second)
	waitCheckpoint(t, pool, "rm_tally", head, 60*time.Second)
	t.Logf("caught up on %d events in %s", f.total, time.Since(began))

	// Live: small appends arrive one by one.
	for i := 0; i < 20; i++ {
		head = f.append(t, 3, 3, nil)
	}
	waitCheckpoint(t, pool, "rm_tally", head, 30*time.Second)
	waitCheckpoint(t, pool, "rm_audittrail", head, 30*time.Second)
	// The metric counts a batch once its transaction has committed, just after the checkpoint is seen in
	// the table: wait for it before stopping (a stop in between would cancel the commit's acknowledgement).
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got := metricValue(t, reg, "ledger_projection_events_applied_total", "tally")
		if int(got) == f.total {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("applied metric %v, want %d", got, f.total)
			break
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// While nothing projects, more history; a new runtime resumes from the checkpoints.
	head = f.append(t, 1000, 250, nil)
	rt2, _ := newRuntime(t, pool, store, models(tl))
	start(t, rt2)
	waitCheckpoint(t, pool, "rm_tally", head, 30*time.Second)
	waitCheckpoint(t, pool, "rm_audittrail", head, 30*time.Second)
	checkTallies(t, pool, "rm_tally", f)
	if n := countRows(t, pool, "SELECT count(*) FROM rm_audittrail.audit_events"); n != int64(f.total) {
		t.Fatalf("audit trail has %d rows, appended %d", n, f.total)
	}
	// The status is the runtime's memory of the checkpoint, set just after the transaction that wrote it
	// commits: it may trail the table by a moment.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		behind := ""
		for _, st := range rt2.Status() {
			if st.Checkpoint != head || st.Halted {
				behind = fmt.Sprintf("status %+v, want checkpoint %s running", st, head)
			}
		}
		if behind == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(behind)
		}
	}
	_ = runtime.Halt
}

// backendTally is a tally that notes the PostgreSQL backend each of its batches ran on.
type backendTally struct {
	*tally
	mu   sync.Mutex
	pids map[int32]int // backend pid → batches
}

func (m *backendTally) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.Recorded) error {
	var pid int32
	if err := tx.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		return err
	}
	m.mu.Lock()
	m.pids[pid]++
	m.mu.Unlock()
	return m.tally.Apply(ctx, tx, batch)
}

// TestLiveModelsKeepAConnectionOfTheirOwn: when the pool has a connection to spare for every model (and
// two more), each live model runs all its batches on one connection of its own, whose backend has its
// statements prepared and its tables in its caches; the runtime gives them back when it stops. With a
// smaller pool the models take connections batch by batch, and still project everything.
func TestLiveModelsKeepAConnectionOfTheirOwn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		conns int32
		own   bool
	}{{8, true}, {3, false}} {
		t.Run(fmt.Sprintf("pool=%d", tc.conns), func(t *testing.T) {
			pool, err := pg.Connect(ctx, pg.Config{URL: newDatabase(t, databaseURL(t)), MaxConns: tc.conns})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(pool.Close)
			store, _ := testStore(t)
			f := newFiller(store, 10)
			m := &backendTally{tally: newTally(), pids: map[int32]int{}}
			rt, _ := newRuntime(t, pool, store, []runtime.ReadModel{audittrail.Model{}, m})
			stop := start(t, rt)
			var head eventlog.Position
			for range 15 { // one append at a time: a batch each, or nearly
				head = f.append(t, 4, 4, nil)
				waitCheckpoint(t, pool, "rm_tally", head, 30*time.Second)
			}
			waitCheckpoint(t, pool, "rm_audittrail", head, 30*time.Second)
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			checkTallies(t, pool, "rm_tally", f)
			m.mu.Lock()
			batches := 0
			for _, n := range m.pids {
				batches += n
			}
			backends := len(m.pids)
			m.mu.Unlock()
			if batches < 10 {
				t.Fatalf("only %d batches: the test needs several", batches)
			}
			if tc.own && backends != 1 {
				t.Errorf("%d batches ran on %d backends, want one: the model's own connection", batches, backends)
			}
			if held := pool.Stat().AcquiredConns(); held != 0 {
				t.Errorf("%d connections still held after the runtime stopped", held)
			}
		})
	}
}

// Started is closed once every model has applied the history the store held when Run started, not
// before: serve's readiness and the live benchmarks wait on it.
func TestStartedWaitsForEveryModelToCatchUp(t *testing.T) {
	t.Parallel()
	store, _ := testStore(t)
	pool := testPool(t)
	f := newFiller(store, 4)
	head := f.append(t, 300, 10, nil)
	m := newTally()
	release := make(chan struct{})
	m.fail = func() error { <-release; return nil } // the tally applies nothing until released
	rt, _ := newRuntime(t, pool, store, models(m))
	start(t, rt)
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free) // before the runtime stops (cleanups run last first)
	waitCheckpoint(t, pool, "rm_audittrail", head, 60*time.Second)
	select {
	case <-rt.Started():
		t.Fatal("Started closed while the tally had applied nothing")
	case <-time.After(200 * time.Millisecond):
	}
	free()
	select {
	case <-rt.Started():
	case <-time.After(60 * time.Second):
		t.Fatal("Started not closed within 60 s of every model being able to catch up")
	}
	for _, schema := range []string{"rm_audittrail", "rm_tally"} {
		var c, p int64
		if err := pool.QueryRow(context.Background(), "SELECT commit_pos, prepare_pos FROM "+pgx.Identifier{schema, "checkpoint"}.Sanitize()).Scan(&c, &p); err != nil {
			t.Fatal(err)
		}
		if got := (eventlog.Position{Commit: uint64(c), Prepare: uint64(p)}); got.Less(head) {
			t.Errorf("Started closed with %s at %s, before the head at start %s", schema, got, head)
		}
	}
}

// On an empty store Started closes as soon as the models' handlers run.
func TestStartedOnAnEmptyStore(t *testing.T) {
	t.Parallel()
	store, _ := testStore(t)
	rt, _ := newRuntime(t, testPool(t), store, models(newTally()))
	start(t, rt)
	select {
	case <-rt.Started():
	case <-time.After(60 * time.Second):
		t.Fatal("Started not closed within 60 s on an empty store")
	}
}
