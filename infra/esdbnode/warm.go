package esdbnode

import (
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grassroots-ledger/ledger/infra/meminfo"
)

// A read of most of $all on a cold page cache — a rebuild, a verify or a copy-store soon after the
// machine started — reads the store file through bbolt's memory map, one page fault at a time: rebuilding
// one model over a million events took 23 s cold against 10 s with the file in the page cache, and reading
// the whole file in one sequential pass takes under 2 s on the same disk. So before a read that will cover
// at least warmMinEvents events, the store asks the kernel to read the whole file ahead (asynchronously),
// when it fits comfortably in the memory available; never more often than once every warmEvery. A file
// too large for that is read ahead a window at a time (warmWindow bytes) as the read moves through it:
// $all lies in the file about in position order (reading the first 10 % of a million events cold left
// the first 18 % of the file cached and nothing beyond), so a read at position p of h is about p/h of the
// way through the file.
const (
	warmMinEvents = 50_000
	warmEvery     = time.Minute
)

// warmWindow is how far ahead of a read's place in the file a file too large to read whole is read ahead.
var warmWindow int64 = 256 << 20

// warmer reads a store file ahead of a large read, at most once every warmEvery.
type warmer struct {
	last atomic.Int64 // unix nanoseconds of the last read-ahead asked for (0: none yet)
	// done, when set, is called after each read-ahead asked for, with its outcome.
	done func(warmResult)

	mu sync.Mutex
	// size is the size of a file too large to read whole that is being read ahead a window at a time
	// (0: none), reached how far into it the windows asked for go.
	size, reached int64
}

// warmResult says what a read-ahead did.
type warmResult struct {
	size, available int64 // the file's size and the memory available, in bytes
	asked           bool  // the kernel was asked to read the file ahead
	err             error
	took            time.Duration
}

// ahead asks for a read-ahead of the file at path in the background when events (the events the read
// will cover) reaches warmMinEvents and none was asked for within warmEvery.
func (w *warmer) ahead(path string, events uint64) {
	if events < warmMinEvents {
		return
	}
	now := time.Now().UnixNano()
	last := w.last.Load()
	if last != 0 && now-last < int64(warmEvery) || !w.last.CompareAndSwap(last, now) {
		return
	}
	go func() {
		r := readAhead(path)
		w.pace(r)
		if w.done != nil {
			w.done(r)
		}
	}()
}

// pace has progress read the file a window at a time when the read-ahead r found it too large to read
// whole.
func (w *warmer) pace(r warmResult) {
	if r.err != nil || r.asked || r.size == 0 {
		return
	}
	w.mu.Lock()
	w.size, w.reached = r.size, 0
	w.mu.Unlock()
}

// progress tells the warmer that a read of $all has reached position pos of head. When the file is read
// ahead a window at a time and the read has come within half a window of the end of what was asked for,
// the next window is asked for in the background (from where the read is, or where the last window ended
// if that is further); the last window ends the pacing.
func (w *warmer) progress(path string, pos, head uint64) {
	w.mu.Lock()
	if w.size == 0 || head == 0 || pos > head {
		w.mu.Unlock()
		return
	}
	at := int64(float64(w.size) * (float64(pos) / float64(head)))
	if at+warmWindow/2 < w.reached {
		w.mu.Unlock()
		return
	}
	from, to := max(w.reached, at), min(at+warmWindow, w.size)
	w.reached = to
	if to >= w.size {
		w.size = 0
	}
	w.mu.Unlock()
	go func() { _ = adviseRange(path, from, to) }()
}

// adviseRange asks the kernel to read bytes [from, to) of the file at path ahead.
func adviseRange(path string, from, to int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return fadviseWillNeed(f, from, to)
}

// readAhead asks the kernel to read the whole file into the page cache when it takes at most half of the
// memory available (MemAvailable); a larger file would push out more than the read gains (ahead then has
// progress read it a window at a time).
func readAhead(path string) warmResult {
	t0 := time.Now()
	var r warmResult
	fi, err := os.Stat(path)
	if err != nil {
		r.err = err
		return r
	}
	r.size = fi.Size()
	if r.available, err = meminfo.Field("MemAvailable"); err != nil {
		r.err = err
		return r
	}
	if r.size == 0 || r.size > r.available/2 {
		return r
	}
	r.asked, r.err = true, adviseRange(path, 0, r.size)
	r.took = time.Since(t0)
	return r
}
