package esdbnode

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

// A read of most of $all on a cold page cache — a rebuild, a verify or a copy-store soon after the
// machine started — reads the store file through bbolt's memory map, one page fault at a time: rebuilding
// one model over a million events took 23 s cold against 10 s with the file in the page cache, and reading
// the whole file in one sequential pass takes under 2 s on the same disk. So before a read that will cover
// at least warmMinEvents events, the store asks the kernel to read the whole file ahead (asynchronously),
// when it fits comfortably in the memory available; never more often than once every warmEvery.
const (
	warmMinEvents = 50_000
	warmEvery     = time.Minute
)

// warmer reads a store file ahead of a large read, at most once every warmEvery.
type warmer struct {
	last atomic.Int64 // unix nanoseconds of the last read-ahead asked for (0: none yet)
	// done, when set, is called after each read-ahead asked for, with its outcome.
	done func(warmResult)
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
		if w.done != nil {
			w.done(r)
		}
	}()
}

// readAhead asks the kernel to read the whole file into the page cache when it takes at most half of the
// memory available (MemAvailable); a larger file would push out more than the read gains.
func readAhead(path string) warmResult {
	t0 := time.Now()
	var r warmResult
	f, err := os.Open(path)
	if err != nil {
		r.err = err
		return r
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		r.err = err
		return r
	}
	r.size = fi.Size()
	if r.available, err = memAvailable(); err != nil {
		r.err = err
		return r
	}
	if r.size == 0 || r.size > r.available/2 {
		return r
	}
	r.asked, r.err = true, fadviseWillNeed(f, r.size)
	r.took = time.Since(t0)
	return r
}

// memAvailable is the kernel's estimate of the memory available for new work, page cache included
// (MemAvailable in /proc/meminfo), in bytes.
func memAvailable() (int64, error) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("MemAvailable:"))
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte("kB")))), 10, 64)
		if err != nil {
			return 0, err
		}
		return kb << 10, nil
	}
	return 0, os.ErrNotExist
}
