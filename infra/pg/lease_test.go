package pg_test

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/infra/logtest"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"
)

// Three processes share a lease: at every moment at most one works; when the holder's connection is
// killed (as PostgreSQL sees a process killed with -9) it stops, and one of the others takes over; when
// the holder shuts down, another takes over too. Each handover is logged with its duration.
func TestLeaseHasOneHolderAndHandsOver(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var working, most atomic.Int32
	var mu sync.Mutex
	var starts []int // which process started working, in order
	type proc struct {
		lease  *pg.Lease
		pool   *pgxpool.Pool
		cancel context.CancelFunc
		done   chan struct{}
	}
	procs := make([]*proc, 3)
	for i := range procs {
		pool := poolOn(t, url)
		pctx, pcancel := context.WithCancel(ctx)
		p := &proc{pool: pool, cancel: pcancel, done: make(chan struct{}),
			lease: &pg.Lease{Pool: pool, Name: "test worker", Retry: 100 * time.Millisecond, Check: 50 * time.Millisecond}}
		procs[i] = p
		go func() {
			defer close(p.done)
			_ = p.lease.Run(pctx, func(wctx context.Context) error {
				n := working.Add(1)
				defer working.Add(-1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				mu.Lock()
				starts = append(starts, i)
				mu.Unlock()
				<-wctx.Done()
				return nil
			})
		}()
	}
	holder := func() int {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			for i, p := range procs {
				if p.lease.Active() {
					return i
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatal("no process took the lease within 30 s")
		return -1
	}
	first := holder()
	// Kill the holder's lock connection from outside, as the server sees a killed process.
	admin := procs[(first+1)%3].pool
	began := time.Now()
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid() AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`); err != nil {
		t.Fatal(err)
	}
	for procs[first].lease.Active() {
		time.Sleep(5 * time.Millisecond)
	}
	second := holder()
	t.Logf("process %d lost its connection; process %d took over after %s", first, second, time.Since(began).Round(time.Millisecond))

	// The holder shuts down: another takes over.
	began = time.Now()
	procs[second].cancel()
	<-procs[second].done
	third := holder()
	if third == second {
		t.Fatalf("process %d still holds the lease after shutting down", second)
	}
	t.Logf("process %d shut down; process %d took over after %s", second, third, time.Since(began).Round(time.Millisecond))
	// The holder is Active just before its work's goroutine records the start: wait for the record.
	started := func() []int {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(starts)
	}
	for deadline := time.Now().Add(30 * time.Second); len(started()) < 3 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if got := started(); len(got) != 3 || got[0] != first || got[1] != second || got[2] != third {
		t.Fatalf("work started by %v, want by %d, %d, %d", got, first, second, third)
	}
	if m := most.Load(); m != 1 {
		t.Fatalf("%d processes worked at once", m)
	}
}

// The test kit's standby streams what the primary commits, refuses writes, and keeps answering reads
// when the primary stops.
func TestStandbyFollowsThePrimary(t *testing.T) {
	t.Parallel()
	primary := pgtest.New(t)
	ctx := context.Background()
	pp := poolOn(t, primary.URL())
	if _, err := pp.Exec(ctx, `CREATE TABLE facts (n int)`); err != nil {
		t.Fatal(err)
	}
	standby := primary.Standby()
	sp := poolOn(t, standby.URL())
	if _, err := pp.Exec(ctx, `INSERT INTO facts VALUES (1), (2)`); err != nil {
		t.Fatal(err)
	}
	var n int
	for deadline := time.Now().Add(30 * time.Second); n != 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the standby has %d rows after 30 s", n)
		}
		_ = sp.QueryRow(ctx, `SELECT count(*) FROM facts`).Scan(&n)
	}
	if _, err := sp.Exec(ctx, `INSERT INTO facts VALUES (3)`); err == nil {
		t.Fatal("the standby took a write")
	}
	primary.Stop()
	if err := sp.QueryRow(ctx, `SELECT count(*) FROM facts`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("standby after the primary stopped: %d rows, %v", n, err)
	}
}

// A standby whose database is down tries the lease every Retry (here every 20 ms, for a second) and says
// so once, not fifty times; once the database is back it says so, takes the lease and works.
func TestLeaseLogsAnOutageOnce(t *testing.T) {
	t.Parallel()
	c := pgtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pool := poolOn(t, c.URL())
	c.Crash()
	var logs logtest.Lines
	worked := make(chan struct{})
	l := &pg.Lease{Pool: pool, Name: "test worker", Logger: logs.Logger(), Retry: 20 * time.Millisecond, Check: 20 * time.Millisecond}
	done := make(chan error, 1)
	go func() {
		done <- l.Run(ctx, func(wctx context.Context) error {
			close(worked)
			<-wctx.Done()
			return nil
		})
	}()
	time.Sleep(time.Second)
	c.Start()
	select {
	case <-worked:
	case <-time.After(30 * time.Second):
		t.Fatal("the lease was not taken within 30 s of the database's return")
	}
	cancel()
	<-done
	gone, still, back := logs.With("lease: cannot try test worker"), logs.With("lease: cannot try test worker (still failing)"),
		logs.With("lease: can try test worker again")
	if len(gone) != 1 || len(still) != 0 || len(back) != 1 {
		t.Fatalf("logged %d, %d and %d lines; want one line as the database went away and one as it came back", len(gone), len(still), len(back))
	}
	failures := back[0]["failures"]
	if n, err := strconv.Atoi(failures); err != nil || n < 10 {
		t.Errorf("the line at the end of the outage counts %q failed tries; want the many made", failures)
	}
}
