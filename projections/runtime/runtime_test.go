package runtime_test

import (
	"fmt"
	"testing"
	"time"

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
