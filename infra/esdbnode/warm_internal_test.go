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
func resident(t *testing.T, path string) float64 { return residentIn(t, path, 0, -1) }

// residentIn is the share of the pages of bytes [from, to) of the file in the page cache (to -1: its end).
func residentIn(t *testing.T, path string, from, to int64) float64 {
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
	if to < 0 {
		to = int64(len(m))
	}
	page := int64(os.Getpagesize())
	lo, hi := from/page, (to+page-1)/page
	in := 0
	for _, v := range vec[lo:hi] {
		in += int(v & 1)
	}
	return float64(in) / float64(hi-lo)
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

// coldFile is a file of size random bytes on disk, none of it in the page cache.
func coldFile(t *testing.T, size int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f")
	b := make([]byte, size)
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
	return path
}

// cached waits up to ten seconds for bytes [from, to) of the file to be in the page cache.
func cached(t *testing.T, path string, from, to int64) {
	t.Helper()
	var got float64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = residentIn(t, path, from, to); got > 0.99 {
			return
		}
	}
	t.Fatalf("bytes [%d, %d) of the file: %.1f %% in the page cache, want all", from, to, 100*got)
}

// A read-ahead brings the whole file into the page cache, not only the kernel's read-ahead window of it
// (one advice for the whole file brought 8 MB of a 1.1 GB file).
func TestReadAheadBringsTheWholeFileIntoTheCache(t *testing.T) {
	path := coldFile(t, 48<<20)
	r := readAhead(path)
	if r.err != nil || !r.asked || r.size != 48<<20 {
		t.Fatalf("read-ahead: %+v", r)
	}
	cached(t, path, 0, -1)
}

// A file too large to read whole is read ahead a window at a time, from where the read is in it, the next
// window once the read comes within half a window of the end of the last; the last window ends it.
func TestLargeFileIsReadAheadAWindowAtATime(t *testing.T) {
	const mb = 1 << 20
	defer func(w int64) { warmWindow = w }(warmWindow)
	warmWindow = 8 * mb
	path := coldFile(t, 48*mb)
	var w warmer
	w.pace(warmResult{size: 48 * mb, available: 64 * mb, asked: true}) // read whole: no pacing
	w.progress(path, 0, 100)
	if w.size != 0 || w.reached != 0 {
		t.Fatalf("a file read whole is paced: size %d, reached %d", w.size, w.reached)
	}
	w.pace(warmResult{size: 48 * mb, available: 64 * mb}) // too large to read whole
	w.progress(path, 0, 100)
	cached(t, path, 0, 8*mb)
	w.progress(path, 5, 100) // 2.4 MB in: more than half a window before what was asked for ends
	if w.reached != 8*mb {
		t.Fatalf("asked for up to %d bytes, want %d", w.reached, 8*mb)
	}
	w.progress(path, 50, 100) // 24 MB in
	cached(t, path, 24*mb, 32*mb)
	if r := residentIn(t, path, 12*mb, 20*mb); r > 0.5 {
		t.Fatalf("bytes the read skipped were read ahead: %.0f %% of [12 MB, 20 MB)", 100*r)
	}
	w.progress(path, 95, 100)     // the last window
	cached(t, path, 46*mb, 48*mb) // from 45.6 MB in
	if w.size != 0 {
		t.Fatalf("still paced after the last window: size %d", w.size)
	}
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
			bulk := func() {
				switch way {
				case "read":
					rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{}, 2000)
					if err != nil {
						t.Fatal(err)
					}
					defer rs.Close()
					for range 2000 { // the whole page: the node has read it
						if _, err := rs.Recv(); err != nil {
							t.Fatal(err)
						}
					}
				case "subscribe":
					sub, err := c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: esdb.Start{}})
					if err != nil {
						t.Fatal(err)
					}
					defer sub.Close()
					for seen := 0; seen < 2000; {
						ev := sub.Recv()
						if ev.SubscriptionDropped != nil {
							t.Fatal(ev.SubscriptionDropped.Error)
						}
						if ev.EventAppeared != nil {
							seen++
						}
					}
				}
			}
			bulk()
			select {
			case r := <-done:
				if !r.asked || r.err != nil || r.size == 0 {
					t.Fatalf("read-ahead: %+v", r)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no read-ahead for a bulk read of $all")
			}
			// Were the file too large to read whole, the read would have the windows asked for as it goes.
			fi, err := os.Stat(n.store.path)
			if err != nil {
				t.Fatal(err)
			}
			n.store.warm.pace(warmResult{size: fi.Size()})
			bulk()
			n.store.warm.mu.Lock()
			size, reached := n.store.warm.size, n.store.warm.reached
			n.store.warm.mu.Unlock()
			if size != 0 || reached != fi.Size() { // the window is larger than the file: the first is the last
				t.Fatalf("after a paced bulk read: pacing a file of %d bytes, asked for up to %d of %d", size, reached, fi.Size())
			}
		})
	}
}
