package tlog_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"
	"github.com/grassroots-ledger/ledger/projections/internal/decode/decodetest"
	"github.com/grassroots-ledger/ledger/projections/runtime"
	"github.com/grassroots-ledger/ledger/projections/tlog"
)

const crashEvents = 30_000

// crashChildEnv names the database a child process projects into until it is killed.
const crashChildEnv = "TLOG_CRASH_CHILD_DB"

// The process building the tree is killed (SIGKILL) in the middle of it; another process resumes from
// the checkpoint. The tree it ends with equals a clean rebuild, row for row, and has the library's root.
func TestCrashDuringTreeBuilding(t *testing.T) {
	if url := os.Getenv(crashChildEnv); url != "" {
		projectUntilKilled(t, url)
		return
	}
	t.Parallel()
	url := pgtest.NewDatabase(t)
	pool := poolOn(t, url)
	child := exec.Command(os.Args[0], "-test.run=^TestCrashDuringTreeBuilding$")
	child.Env = append(os.Environ(), crashChildEnv+"="+url)
	child.Stdout, child.Stderr = os.Stderr, os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- child.Wait() }()
	t.Cleanup(func() { _ = child.Process.Kill() }) // should the test fail before it kills the child
	decodetest.WaitFor(t, 2*time.Minute, "the child projects a third of the history", func() (bool, string) {
		var n int64
		if err := pool.QueryRow(context.Background(), "SELECT events_applied FROM rm_tlog.checkpoint").Scan(&n); err != nil {
			return false, err.Error()
		}
		return n >= crashEvents/3, "applied so far"
	})
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-done
	killedAt := decodetest.Count(t, pool, "SELECT count(*) FROM rm_tlog.leaves")
	if killedAt >= crashEvents {
		t.Fatalf("the child finished (%d leaves) before it was killed", killedAt)
	}

	evs := events(crashEvents)
	rt := decodetest.NewRuntime(t, pool, decodetest.NewMemSource(evs), pg.Migrator(pool), []runtime.ReadModel{tlog.Model{}},
		func(c *runtime.Config) { c.MaxBatch = 97 })
	if err := rt.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	decodetest.Start(t, rt)
	last := evs[len(evs)-1].Position
	decodetest.WaitFor(t, 2*time.Minute, "the resumed log catches up", func() (bool, string) {
		cp := decodetest.Checkpoint(t, pool, tlog.Schema)
		return cp == last, cp.String()
	})
	resumed := decodetest.Checksum(t, pool, tlog.Schema)
	if err := rt.Rebuild(context.Background(), tlog.Model{}, nil); err != nil {
		t.Fatal(err)
	}
	if clean := decodetest.Checksum(t, pool, tlog.Schema); clean != resumed {
		t.Fatalf("killed after %d leaves and resumed:\n%s\na clean rebuild:\n%s", killedAt, resumed, clean)
	}
	roots, _ := reference(t, evs)
	if root, err := tlog.NewTree(pool).Root(context.Background(), crashEvents); err != nil || !bytes.Equal(root, roots[crashEvents]) {
		t.Fatalf("root %x, %v; the library's %x", root, err, roots[crashEvents])
	}
	t.Logf("killed after %d of %d leaves", killedAt, crashEvents)
}

func poolOn(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pg.Connect(context.Background(), pg.Config{URL: url, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// projectUntilKilled is the child: it projects the history in small batches, durably, until it is killed
// (or gives up after five minutes, should its parent be gone).
func projectUntilKilled(t *testing.T, url string) {
	pool := poolOn(t, url)
	rt := decodetest.NewRuntime(t, pool, decodetest.NewMemSource(events(crashEvents)), pg.Migrator(pool), []runtime.ReadModel{tlog.Model{}},
		func(c *runtime.Config) { c.MaxBatch = 13; c.DurableCommit = true })
	if err := rt.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	_ = rt.Run(ctx)
	t.Fatal("the child was not killed")
}
