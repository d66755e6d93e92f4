package esdbnode

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"golang.org/x/sys/unix"
)

// resident is the share of the file's pages in the page cache (mincore over a mapping of it).
func resident(t *testing.T, path string) float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	pages := (len(m) + os.Getpagesize() - 1) / os.Getpagesize()
	vec := make([]byte, pages)
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal(errno)
	}
	in := 0
	for _, v := range vec {
		in += int(v & 1)
	}
	return float64(in) / float64(pages)
}

// evict drops the file's clean pages from the page cache, or skips the test where the file system keeps
// them (tmpfs): there a read-ahead cannot be told from nothing.
func evict(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
	if r := resident(t, path); r > 0.5 {
		t.Skipf("the file system of %s keeps %.0f %% of the file cached after FADV_DONTNEED (tmpfs?)", path, 100*r)
	}
}

// A read-ahead brings the whole file into the page cache, not only the kernel's read-ahead window of it
// (one advice for the whole file brought 8 MB of a 1.1 GB file).
func TestReadAheadBringsTheWholeFileIntoTheCache(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	b := make([]byte, 48<<20)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil { // dirty pages cannot be dropped
		t.Fatal(err)
	}
	f.Close()
	evict(t, path)
	r := readAhead(path)
	if r.err != nil || !r.asked || r.size != int64(len(b)) {
		t.Fatalf("read-ahead: %+v", r)
	}
	var got float64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = resident(t, path); got > 0.99 {
			return
		}
	}
	t.Fatalf("after the read-ahead %.1f %% of the file is in the page cache, want all of it", 100*got)
}

// A read-ahead is asked for a read of warmMinEvents events or more, and at most once every warmEvery.
func TestReadAheadOnlyForLargeReadsAndNotTooOften(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan warmResult, 4)
	w := warmer{done: func(r warmResult) { done <- r }}
	w.ahead(path, warmMinEvents-1)
	select {
	case r := <-done:
		t.Fatalf("a read of %d events asked for a read-ahead: %+v", warmMinEvents-1, r)
	case <-time.After(200 * time.Millisecond):
	}
	w.ahead(path, warmMinEvents)
	select {
	case r := <-done:
		if !r.asked || r.err != nil {
			t.Fatalf("read-ahead: %+v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("a read of %d events asked for no read-ahead", warmMinEvents)
	}
	w.ahead(path, 10*warmMinEvents)
	select {
	case r := <-done:
		t.Fatalf("a second read-ahead within %s: %+v", warmEvery, r)
	case <-time.After(200 * time.Millisecond):
	}
}

// A bulk reader of $all — pages of ReadAll from far behind the head, or a subscription catching up from
// there — has the node read its file ahead; a small read does not.
func TestBulkReadsOfAllReadTheStoreFileAhead(t *testing.T) {
	ctx := context.Background()
	for _, way := range []string{"read", "subscribe"} {
		t.Run(way, func(t *testing.T) {
			n, err := Open(ctx, Config{Dir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			defer n.Close()
			done := make(chan warmResult, 4)
			n.store.warm.done = func(r warmResult) { done <- r }
			for i := range warmMinEvents / 1000 { // the history, in batches straight into the writer
				req := &appendRequest{stream: []byte("bulk"), expected: expectation{kind: expectAny}}
				for j := range 1000 {
					p := proposed{eventType: []byte("Bulk"), contentType: []byte("application/json"), data: []byte(`{}`)}
					binary.BigEndian.PutUint64(p.id[:8], uint64(i*1000+j)+1)
					req.events = append(req.events, p)
				}
				if res := n.writer.submit(ctx, req); res.err != nil || res.wrongVersion {
					t.Fatalf("append: %+v", res)
				}
			}
			c := testClient(t, n.URL())
			if rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{}, 10); err != nil {
				t.Fatal(err)
			} else {
				rs.Close()
			}
			select {
			case r := <-done:
				t.Fatalf("a read of ten events asked for a read-ahead: %+v", r)
			case <-time.After(200 * time.Millisecond):
			}
			switch way {
			case "read":
				rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{}, 2000)
				if err != nil {
					t.Fatal(err)
				}
				defer rs.Close()
				if _, err := rs.Recv(); err != nil {
					t.Fatal(err)
				}
			case "subscribe":
				sub, err := c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: esdb.Start{}})
				if err != nil {
					t.Fatal(err)
				}
				defer sub.Close()
				if ev := sub.Recv(); ev.SubscriptionDropped != nil {
					t.Fatal(ev.SubscriptionDropped.Error)
				}
			}
			select {
			case r := <-done:
				if !r.asked || r.err != nil || r.size == 0 {
					t.Fatalf("read-ahead: %+v", r)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no read-ahead for a bulk read of $all")
			}
		})
	}
}
