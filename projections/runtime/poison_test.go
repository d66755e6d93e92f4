package runtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/projections/audittrail"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// badPayloadAt makes the events numbered in bad carry a payload the tally cannot decode.
func badPayloadAt(bad ...int) func(i int) []byte {
	return func(i int) []byte {
		for _, b := range bad {
			if i == b {
				return []byte(`{"amount":"lots"}`)
			}
		}
		return []byte(fmt.Sprintf(`{"amount":%d}`, i%97+1))
	}
}

// positions lists the $all positions of stream's events in order.
func positions(t *testing.T, src runtime.Source, stream string) []eventlog.Position {
	t.Helper()
	var out []eventlog.Position
	if err := src.ReadAll(context.Background(), eventlog.Start, 0, func(r eventlog.Recorded) error {
		if r.Stream == stream {
			out = append(out, r.Position)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

type poisonRow struct {
	Position       eventlog.Position
	Stream, Policy string
	Reason         string
}

func poisonRows(t *testing.T, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, model string) []poisonRow {
	t.Helper()
	rows, err := q.Query(context.Background(), "SELECT commit_pos, prepare_pos, stream, policy, reason FROM rm_meta.poison_events WHERE projection = $1 ORDER BY commit_pos", model)
	if err != nil {
		t.Fatal(err)
	}
	var out []poisonRow
	for rows.Next() {
		var r poisonRow
		var c, p int64
		if err := rows.Scan(&c, &p, &r.Stream, &r.Policy, &r.Reason); err != nil {
			t.Fatal(err)
		}
		r.Position = eventlog.Position{Commit: uint64(c), Prepare: uint64(p)}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPoisonHaltStopsTheModelBeforeTheEvent: a model with the Halt policy stops with its checkpoint just
// before the poison event, having applied the events before it in the same batch; the event is recorded and
// counted; the other models go on to the head. The model does not say which event of the batch is poison:
// the runtime finds it.
func TestPoisonHaltStopsTheModelBeforeTheEvent(t *testing.T) {
	t.Parallel()
	pool := testPool(t)
	store, _ := testStore(t)
	f := newFiller(store, 1)
	head := f.append(t, 10, 10, badPayloadAt(6))
	pos := positions(t, store, f.streams[0])

	tl := &tally{name: "tally", policy: runtime.Halt, barePoison: true}
	rt, reg := newRuntime(t, pool, store, models(tl))
	start(t, rt)
	waitCheckpoint(t, pool, "rm_audittrail", head, 30*time.Second)
	waitFor(t, 30*time.Second, "tally to halt", func() (bool, string) {
		st := rt.Status()[1]
		return st.Halted, fmt.Sprintf("%+v", st)
	})
	// Appends after the halt reach the other model only.
	head = f.append(t, 5, 5, nil)
	waitCheckpoint(t, pool, "rm_audittrail", head, 30*time.Second)

	if got := checkpointOf(t, pool, "rm_tally"); got != pos[5] {
		t.Fatalf("halted tally checkpoint %s, want %s (the event before the poison one at %s)", got, pos[5], pos[6])
	}
	var events, amount int64
	if err := pool.QueryRow(context.Background(), "SELECT events, amount FROM rm_tally.tallies").Scan(&events, &amount); err != nil {
		t.Fatal(err)
	}
	if events != 6 {
		t.Fatalf("tally applied %d events before halting, want the 6 before the poison one", events)
	}
	rows := poisonRows(t, pool, "tally")
	if len(rows) != 1 || rows[0].Position != pos[6] || rows[0].Policy != "halt" || !strings.Contains(rows[0].Reason, "lots") {
		t.Fatalf("poison_events %+v, want one row at %s with policy halt", rows, pos[6])
	}
	if got := metricValue(t, reg, "ledger_projection_poison_events_total", "tally"); got != 1 {
		t.Fatalf("poison counter %v, want 1", got)
	}
	if got := metricValue(t, reg, "ledger_projection_halted", "tally"); got != 1 {
		t.Fatalf("halted gauge %v, want 1", got)
	}
	var state, reason string
	if err := pool.QueryRow(context.Background(), "SELECT state, halt_reason FROM rm_meta.projections WHERE name = 'tally'").Scan(&state, &reason); err != nil {
		t.Fatal(err)
	}
	if state != "halted" || !strings.Contains(reason, pos[6].String()) {
		t.Fatalf("rm_meta.projections says %s (%s)", state, reason)
	}
	if st := rt.Status()[1]; !strings.Contains(st.HaltReason, pos[6].String()) {
		t.Fatalf("status %+v does not name the event", st)
	}
	if st := rt.Status()[0]; st.Halted || st.Checkpoint != head {
		t.Fatalf("audit trail status %+v, want running at %s", st, head)
	}
}

// TestPoisonSkipAndReportGoesOn: with SkipAndReport every poison event is recorded and counted, the
// others are applied, and the checkpoint reaches the head. Two poison events share one batch; the model is
// written with the dispatcher, which names the event.
func TestPoisonSkipAndReportGoesOn(t *testing.T) {
	t.Parallel()
	pool := testPool(t)
	store, _ := testStore(t)
	f := newFiller(store, 1)
	head := f.append(t, 12, 12, badPayloadAt(3, 8))
	pos := positions(t, store, f.streams[0])

	d := &dispatched{}
	rt, reg := newRuntime(t, pool, store, []runtime.ReadModel{audittrail.Model{}, d})
	start(t, rt)
	waitCheckpoint(t, pool, "rm_dispatched", head, 30*time.Second)
	waitCheckpoint(t, pool, "rm_audittrail", head, 30*time.Second)

	var events, amount int64
	if err := pool.QueryRow(context.Background(), "SELECT count(*), sum(amount) FROM rm_dispatched.amounts").Scan(&events, &amount); err != nil {
		t.Fatal(err)
	}
	if events != 10 || amount != f.sums[f.streams[0]] {
		t.Fatalf("applied %d events summing %d, want 10 summing %d", events, amount, f.sums[f.streams[0]])
	}
	rows := poisonRows(t, pool, "dispatched")
	if len(rows) != 2 || rows[0].Position != pos[3] || rows[1].Position != pos[8] || rows[0].Policy != "skip-and-report" {
		t.Fatalf("poison_events %+v, want rows at %s and %s", rows, pos[3], pos[8])
	}
	if got := metricValue(t, reg, "ledger_projection_poison_events_total", "dispatched"); got != 2 {
		t.Fatalf("poison counter %v, want 2", got)
	}
	var applied int64
	if err := pool.QueryRow(context.Background(), "SELECT events_applied FROM rm_dispatched.checkpoint").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != 10 {
		t.Fatalf("checkpoint counts %d events applied, want 10", applied)
	}
}

// dispatched is a read model written with the dispatcher, whose handler reports poison without a position.
type dispatched struct{ dispatcher }

func (m *dispatched) Name() string                 { return "dispatched" }
func (m *dispatched) Poison() runtime.PoisonPolicy { return runtime.SkipAndReport }
func (m *dispatched) Migrations() fsFS {
	return mapFS("CREATE TABLE amounts (commit_pos bigint PRIMARY KEY, amount bigint NOT NULL);")
}
func (m *dispatched) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.Recorded) error {
	if len(m.handlers) == 0 {
		m.On(tallyType, func(ctx context.Context, tx pgx.Tx, e eventlog.Recorded) error {
			var p tallyPayload
			if err := json.Unmarshal(e.Data, &p); err != nil {
				return fmt.Errorf("decode: %v: %w", err, runtime.ErrPoison)
			}
			_, err := tx.Exec(ctx, "INSERT INTO amounts VALUES ($1, $2)", int64(e.Position.Commit), p.Amount)
			return err
		})
	}
	return m.dispatcher.Apply(ctx, tx, batch)
}

// TestTransientErrorsAreRetriedNeverSkipped: an error that is not poison (here: the first attempts fail as
// a lost connection would) is retried with backoff until the batch applies; nothing is skipped or recorded.
func TestTransientErrorsAreRetriedNeverSkipped(t *testing.T) {
	t.Parallel()
	pool := testPool(t)
	store, _ := testStore(t)
	f := newFiller(store, 3)
	head := f.append(t, 300, 100, nil)
	var calls atomic.Int32
	tl := newTally()
	tl.fail = func() error {
		if calls.Add(1) <= 7 { // more than the Retry middleware's 5: the message is nacked and redelivered too
			return errors.New("connection reset by peer (simulated)")
		}
		return nil
	}
	rt, reg := newRuntime(t, pool, store, models(tl), func(c *runtime.Config) { c.RetryInitial, c.RetryMax = 5*time.Millisecond, 20*time.Millisecond })
	start(t, rt)
	waitCheckpoint(t, pool, "rm_tally", head, 30*time.Second)
	checkTallies(t, pool, "rm_tally", f)
	if rows := poisonRows(t, pool, "tally"); len(rows) != 0 {
		t.Fatalf("a transient error was recorded as poison: %+v", rows)
	}
	if got := metricValue(t, reg, "ledger_projection_batch_failures_total", "tally"); got < 7 {
		t.Fatalf("failures counter %v, want at least 7", got)
	}
}

// TestDatabaseRefusalsArePoison: an event PostgreSQL refuses every time (here its amount takes a bigint
// column out of range, as a NUL takes a text column out of its encoding) is poison, not a transient error:
// a SkipAndReport model records it and reaches the head, a Halt model halts at it; neither retries forever
// and the other models are not held up.
func TestDatabaseRefusalsArePoison(t *testing.T) {
	t.Parallel()
	for _, policy := range []runtime.PoisonPolicy{runtime.SkipAndReport, runtime.Halt} {
		t.Run(policy.String(), func(t *testing.T) {
			t.Parallel()
			pool := testPool(t)
			store, _ := testStore(t)
			f := newFiller(store, 1)
			head := f.append(t, 10, 10, func(i int) []byte {
				if i == 3 {
					return []byte(`{"amount":9223372036854775807}`)
				}
				return []byte(fmt.Sprintf(`{"amount":%d}`, i+1))
			})
			pos := positions(t, store, f.streams[0])
			tl := &tally{name: "tally", policy: policy}
			rt, _ := newRuntime(t, pool, store, models(tl))
			start(t, rt)
			waitCheckpoint(t, pool, "rm_audittrail", head, 30*time.Second)
			want, wantEvents := head, int64(9)
			if policy == runtime.Halt {
				want, wantEvents = pos[2], 3
				waitFor(t, 30*time.Second, "tally to halt", func() (bool, string) {
					st := rt.Status()[1]
					return st.Halted, fmt.Sprintf("%+v", st)
				})
			}
			waitCheckpoint(t, pool, "rm_tally", want, 30*time.Second)
			var events int64
			if err := pool.QueryRow(context.Background(), "SELECT events FROM rm_tally.tallies").Scan(&events); err != nil {
				t.Fatal(err)
			}
			if events != wantEvents {
				t.Fatalf("tally applied %d events, want %d", events, wantEvents)
			}
			rows := poisonRows(t, pool, "tally")
			if len(rows) != 1 || rows[0].Position != pos[3] || !strings.Contains(rows[0].Reason, "out of range") {
				t.Fatalf("poison_events %+v, want one row at %s naming the database's refusal", rows, pos[3])
			}
		})
	}
}

// TestOperatorSkipsAPoisonEventWithoutARestart: a Halt model stops at a poison event; the operator skips
// it (SkipPoison, what `ledger projections skip` does); the running runtime resumes the model within
// ResumeEvery, applies what came after, also what arrives later, and the event's row says it was skipped,
// by whom and why. Skipping a model that is not halted there changes nothing.
func TestOperatorSkipsAPoisonEventWithoutARestart(t *testing.T) {
	t.Parallel()
	pool := testPool(t)
	store, _ := testStore(t)
	f := newFiller(store, 1)
	f.append(t, 10, 10, badPayloadAt(3))
	pos := positions(t, store, f.streams[0])
	tl := &tally{name: "tally", policy: runtime.Halt}
	rt, _ := newRuntime(t, pool, store, models(tl), func(c *runtime.Config) { c.ResumeEvery = 100 * time.Millisecond })
	start(t, rt)
	waitFor(t, 30*time.Second, "tally to halt", func() (bool, string) {
		st := rt.Status()[1]
		return st.Halted, fmt.Sprintf("%+v", st)
	})
	ctx := context.Background()
	if _, err := rt.SkipPoison(ctx, "tally", pos[4], "wrong event", "admin:ops"); !errors.Is(err, runtime.ErrNothingToSkip) {
		t.Fatalf("skipping an event the model is not halted at: %v", err)
	}
	if _, err := rt.SkipPoison(ctx, "audittrail", pos[3], "x", "admin:ops"); !errors.Is(err, runtime.ErrNothingToSkip) {
		t.Fatalf("skipping for a model that runs: %v", err)
	}
	for _, reason := range []string{"", "\u200b", "录入错误\x00", "录入错误\u202e正更"} { // refused, the model stays halted
		if _, err := rt.SkipPoison(ctx, "tally", pos[3], reason, "admin:ops"); err == nil || errors.Is(err, runtime.ErrNothingToSkip) {
			t.Fatalf("skipping with the reason %q: %v", reason, err)
		}
	}
	if st := rt.Status()[1]; !st.Halted {
		t.Fatalf("a refused skip moved the model: %+v", st)
	}
	sk, err := rt.SkipPoison(ctx, "tally", pos[3], "录入错误，已另行更正", "admin:ops")
	if err != nil {
		t.Fatal(err)
	}
	if sk.Stream != f.streams[0] || sk.Revision != 3 {
		t.Fatalf("skipped %+v", sk)
	}
	head := f.append(t, 5, 5, nil) // more arrives while it resumes
	waitCheckpoint(t, pool, "rm_tally", head, 30*time.Second)
	if st := rt.Status()[1]; st.Halted {
		t.Fatalf("still halted: %+v", st)
	}
	var events int64
	if err := pool.QueryRow(ctx, "SELECT events FROM rm_tally.tallies").Scan(&events); err != nil {
		t.Fatal(err)
	}
	if events != 14 {
		t.Fatalf("tally applied %d events, want the 14 that are not poison", events)
	}
	rows := poisonRows(t, pool, "tally")
	if len(rows) != 1 || rows[0].Policy != "skipped" || !strings.Contains(rows[0].Reason, "admin:ops") || !strings.Contains(rows[0].Reason, "录入错误") {
		t.Fatalf("poison_events %+v, want the event marked skipped with who and why", rows)
	}
}

// stuckTally is a tally model (halt policy) whose Apply blocks until unstick is called (any number of
// times); it applies normally afterwards.
func stuckTally(name string) (tl *tally, unstick func()) {
	release := make(chan struct{})
	var stuck atomic.Bool
	stuck.Store(true)
	var once sync.Once
	tl = &tally{name: name, policy: runtime.Halt, fail: func() error {
		if stuck.Load() {
			<-release
		}
		return nil
	}}
	return tl, func() { stuck.Store(false); once.Do(func() { close(release) }) }
}

// feedGoesOnAfter is the runtime of the stuck-model tests: batches of 50 events, and a feed that goes on
// without a model whose queue stays full for d.
func feedGoesOnAfter(d time.Duration) func(*runtime.Config) {
	return func(c *runtime.Config) { c.StuckAfter, c.MaxBatch = d, 50 }
}

// TestAStuckModelDoesNotStallTheOthers: a model that stops taking batches (its Apply blocks) fills its
// queue; after StuckAfter the feed goes on without it, so the other models reach the head; when it takes
// batches again it finds the gap, resubscribes from its checkpoint and applies every event exactly once.
func TestAStuckModelDoesNotStallTheOthers(t *testing.T) {
	t.Parallel()
	pool := testPool(t)
	store, _ := testStore(t)
	f := newFiller(store, 4)
	tl, unstick := stuckTally("tally")
	rt, _ := newRuntime(t, pool, store, models(tl), feedGoesOnAfter(200*time.Millisecond))
	start(t, rt)
	t.Cleanup(unstick) // runs before the runtime is stopped, also when the test fails
	var head eventlog.Position
	for range 10 { // many batches, so the stuck model's queue fills
		head = f.append(t, 50, 50, nil)
	}
	waitCheckpoint(t, pool, "rm_audittrail", head, 90*time.Second)
	unstick()
	waitCheckpoint(t, pool, "rm_tally", head, 90*time.Second)
	checkTallies(t, pool, "rm_tally", f)
}

// TestAStuckModelCatchesUpAfterAnotherResynced: while one model is stuck, another (stuck for a while too)
// asks for a new subscription, so the feed starts a new epoch the stuck model's queue has no room for.
// When the stuck model drains its queue (batches of the old epoch) it must still ask for a subscription
// from its checkpoint: the gap it fell into is the new epoch's, not the old one's, which is over.
func TestAStuckModelCatchesUpAfterAnotherResynced(t *testing.T) {
	t.Parallel()
	pool := testPool(t)
	store, _ := testStore(t)
	f := newFiller(store, 4)
	long, unstickLong := stuckTally("long")
	short, unstickShort := stuckTally("short")
	const stuckAfter = 100 * time.Millisecond
	rt, reg := newRuntime(t, pool, store, []runtime.ReadModel{long, short}, feedGoesOnAfter(stuckAfter))
	start(t, rt)
	t.Cleanup(unstickLong) // before the runtime stops, also when the test fails
	t.Cleanup(unstickShort)
	var head eventlog.Position
	for range 8 {
		head = f.append(t, 50, 50, nil)
	}
	passedOver := func(name string) float64 {
		return metricValue(t, reg, "ledger_projection_batches_passed_over_total", name)
	}
	// Both models are stuck with full queues: the feed goes on without them. The short one then takes
	// batches again, finds the gap and has the feed start a new epoch from the lowest checkpoint, the
	// long one's; it reaches the head, while the long one's queue still holds the old epoch's batches, so
	// the new epoch's go by it too.
	waitFor(t, 90*time.Second, "the feed to pass over both models", func() (bool, string) {
		s, l := passedOver("short"), passedOver("long")
		return s > 0 && l > 0, fmt.Sprintf("short %v, long %v", s, l)
	})
	unstickShort()
	waitCheckpoint(t, pool, "rm_short", head, 90*time.Second)
	// The short model has every batch, so the new epoch's last was cut; the feed's offer of it to the long
	// model ends once its queue has stayed full for StuckAfter.
	time.Sleep(4 * stuckAfter)
	unstickLong()
	waitCheckpoint(t, pool, "rm_long", head, 90*time.Second)
	checkTallies(t, pool, "rm_long", f)
	checkTallies(t, pool, "rm_short", f)
}
