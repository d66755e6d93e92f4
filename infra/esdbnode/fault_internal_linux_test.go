package esdbnode

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// TestAFailedCommitRefusesAppendsAndSaysSo fills the disk under a running node — the store file's
// descriptor is pointed at /dev/full, so every write to it fails with ENOSPC as on a full disk — and checks
// that the append in flight is refused (never acknowledged), that every later one is refused too, that
// Node.Failed says why (what the health check reports), and that the events committed before are still
// read.
func TestAFailedCommitRefusesAppendsAndSaysSo(t *testing.T) {
	dir := t.TempDir()
	n, err := Open(context.Background(), Config{Dir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = n.Close() }() // closing a store whose file is /dev/full may report an error
	ctx := context.Background()
	appendOne := func(i int, exp expectation) appendResult {
		p := proposed{eventType: []byte("Recorded"), contentType: []byte("application/json"), data: make([]byte, 5000)}
		binary.BigEndian.PutUint64(p.id[:8], uint64(i)+1)
		return n.writer.submit(ctx, &appendRequest{stream: []byte("fault"), expected: exp, events: []proposed{p}})
	}
	if res := appendOne(0, expectation{kind: expectNoStream}); res.err != nil || res.wrongVersion {
		t.Fatalf("the first append: %+v", res)
	}
	if n.Failed() != nil {
		t.Fatalf("a node that commits is failed: %v", n.Failed())
	}

	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer full.Close()
	path, err := filepath.EvalSymlinks(filepath.Join(dir, "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	swapped := 0
	for _, fd := range fds {
		target, err := os.Readlink("/proc/self/fd/" + fd.Name())
		if err != nil || target != path {
			continue
		}
		num, err := strconv.Atoi(fd.Name())
		if err != nil {
			continue
		}
		if err := unix.Dup2(int(full.Fd()), num); err != nil {
			t.Fatal(err)
		}
		swapped++
	}
	if swapped == 0 {
		t.Fatalf("found no descriptor of %s", path)
	}

	res := appendOne(1, expectation{kind: expectExact, rev: 0})
	if res.err == nil {
		t.Fatalf("an append onto a full disk was acknowledged: %+v", res)
	}
	failed := n.Failed()
	if failed == nil || !strings.Contains(failed.Error(), "restart the node") {
		t.Fatalf("Failed() = %v, want why, and what to do", failed)
	}
	if res := appendOne(2, expectation{kind: expectAny}); res.err == nil || !errors.Is(res.err, failed) && res.err.Error() != failed.Error() {
		t.Fatalf("an append after the failure: %+v, want it refused with %v", res, failed)
	}
	var got int
	err = n.store.db.View(func(tx *bolt.Tx) error {
		got = tx.Bucket(bucketLog).Stats().KeyN
		return nil
	})
	if err != nil || got != 1 {
		t.Fatalf("the log after the failure: %d events, %v; want the one committed before", got, err)
	}
}
