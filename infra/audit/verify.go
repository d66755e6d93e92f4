package audit

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
)

// VerifyOptions tune Verify. The zero value is ready.
type VerifyOptions struct {
	// Progress, when set, is called from Verify's goroutine every ProgressEvery events and once at the end.
	Progress func(VerifyProgress)
	// ProgressEvery is how many events pass between Progress calls. Default 10 000.
	ProgressEvery int
	// Workers is how many goroutines recompute hashes (each owns a share of the streams). Default
	// GOMAXPROCS.
	Workers int
}

// VerifyProgress is how far a verification has read.
type VerifyProgress struct {
	// Events is the number of events read so far (system events included).
	Events uint64
	// Position is the $all position reached; Head the head of $all when the verification started. On the
	// embedded node positions count events; on an EventStoreDB server they are log offsets, so
	// Position.Commit/Head.Commit is the fraction done either way.
	Position, Head eventlog.Position
}

// ChainBreak is the first place the history fails verification, in $all order.
type ChainBreak struct {
	Stream    string            `json:"stream"`
	Revision  uint64            `json:"revision"`
	EventID   string            `json:"event_id"`
	EventType string            `json:"event_type"`
	Position  eventlog.Position `json:"position"`
	Reason    string            `json:"reason"`
}

func (b *ChainBreak) String() string {
	return fmt.Sprintf("stream %s revision %d, event %s (%s) at $all position %s: %s",
		b.Stream, b.Revision, b.EventID, b.EventType, b.Position, b.Reason)
}

// VerifyReport is the outcome of Verify.
type VerifyReport struct {
	// Intact is true when every stream's chain verified and $all positions strictly increased.
	Intact bool `json:"intact"`
	// Events counts the ledger events checked; SystemEvents the store's own ($-stream) events skipped.
	// After a break, the counts stop near it: reading ends once the break is certain to be the first.
	Events       uint64 `json:"events"`
	SystemEvents uint64 `json:"system_events"`
	// Streams counts the streams seen.
	Streams int `json:"streams"`
	// Head is the head of $all when the verification started; Last the last position read.
	Head eventlog.Position `json:"head"`
	Last eventlog.Position `json:"last"`
	// Break is the first break in $all order; nil when intact.
	Break *ChainBreak `json:"break,omitempty"`
	// Seconds is how long the verification took.
	Seconds float64 `json:"seconds"`
	// Message says the outcome in one sentence.
	Message string `json:"message"`
}

// errStop ends the $all read once the first break is known.
var errStop = errors.New("audit: verification stops")

// verifyBatch is how many events the reader hands to a worker at once.
const verifyBatch = 512

// Verify reads the whole history ($all, streaming: nothing but one tail hash and one revision per stream
// is kept) and checks, for every event of every stream, that it comes at the next revision of its
// stream, that its prev_hash is the hash of the stream's previous event, and that its content hashes to
// its recorded hash (eventlog.ChainVerifier); and that $all positions strictly increase. It reports the
// first failure in $all order: the stream, revision, event id and position, and why.
//
// A broken chain is a report (Intact false), not an error; the error is for a verification that could
// not be completed (the store unreachable, ctx cancelled).
//
// What no chain can show: the removal of the last events of a stream, or of whole streams. Catching those
// needs an anchor kept outside the store (the planned signed transparency-log checkpoints).
func (a *Auditor) Verify(ctx context.Context, opts VerifyOptions) (VerifyReport, error) {
	started := time.Now()
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = 10_000
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	head, err := a.cfg.Store.Head(ctx)
	if err != nil {
		return VerifyReport{}, fmt.Errorf("verify: %w", err)
	}
	v := newVerifier(workers)
	defer v.stop()

	var (
		rep       = VerifyReport{Head: head}
		last      eventlog.Position
		seen      bool
		sinceTick int
	)
	tick := func() {
		if opts.Progress != nil {
			opts.Progress(VerifyProgress{Events: rep.Events + rep.SystemEvents, Position: last, Head: head})
		}
	}
	err = a.cfg.Store.ReadAll(ctx, eventlog.Start, 0, func(r eventlog.Recorded) error {
		if brk := v.first(); brk != nil && brk.Position.Less(r.Position) {
			return errStop // every event before the break has been handed out: it is the first
		}
		if seen && !last.Less(r.Position) {
			v.report(breakOf(r, fmt.Sprintf("$all position %s does not come after the previous event's %s", r.Position, last)))
		}
		last, seen = r.Position, true
		if sinceTick++; sinceTick >= opts.ProgressEvery {
			sinceTick = 0
			tick()
		}
		if eventlog.SystemStream(r.Stream) {
			rep.SystemEvents++
			return nil
		}
		rep.Events++
		v.dispatch(r)
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return VerifyReport{}, fmt.Errorf("verify: %w", err)
	}
	rep.Streams = v.finish()
	rep.Last = last
	tick()
	rep.Break = v.first()
	rep.Intact = rep.Break == nil
	rep.Seconds = time.Since(started).Seconds()
	if rep.Intact {
		rep.Message = fmt.Sprintf("verified %d events in %d streams, all chains intact", rep.Events, rep.Streams)
	} else {
		rep.Message = "hash chain broken at " + rep.Break.String()
	}
	return rep, nil
}

func breakOf(r eventlog.Recorded, reason string) *ChainBreak {
	return &ChainBreak{Stream: r.Stream, Revision: r.Revision, EventID: r.ID.String(), EventType: r.Type, Position: r.Position, Reason: reason}
}

// verifier checks streams in parallel: each worker owns the streams that hash to it, so each stream's
// events are checked in order by one goroutine, and each worker's events arrive in $all order.
type verifier struct {
	seed    maphash.Seed
	pending [][]eventlog.Recorded
	in      []chan []eventlog.Recorded
	wg      sync.WaitGroup
	streams []int
	stopped bool

	brk atomic.Pointer[ChainBreak]
}

func newVerifier(workers int) *verifier {
	v := &verifier{
		seed:    maphash.MakeSeed(),
		pending: make([][]eventlog.Recorded, workers),
		in:      make([]chan []eventlog.Recorded, workers),
		streams: make([]int, workers),
	}
	for i := range v.in {
		v.in[i] = make(chan []eventlog.Recorded, 4)
		v.pending[i] = make([]eventlog.Recorded, 0, verifyBatch)
		v.wg.Go(func() { v.work(i) })
	}
	return v
}

func (v *verifier) dispatch(r eventlog.Recorded) {
	w := int(maphash.String(v.seed, r.Stream) % uint64(len(v.in)))
	v.pending[w] = append(v.pending[w], r)
	if len(v.pending[w]) == verifyBatch {
		v.in[w] <- v.pending[w]
		v.pending[w] = make([]eventlog.Recorded, 0, verifyBatch)
	}
}

// finish hands out what is pending, waits for the workers and returns the number of streams seen.
func (v *verifier) finish() int {
	for w := range v.in {
		if len(v.pending[w]) > 0 {
			v.in[w] <- v.pending[w]
			v.pending[w] = nil
		}
	}
	v.stop()
	n := 0
	for _, s := range v.streams {
		n += s
	}
	return n
}

func (v *verifier) stop() {
	if v.stopped {
		return
	}
	v.stopped = true
	for _, c := range v.in {
		close(c)
	}
	v.wg.Wait()
}

func (v *verifier) work(w int) {
	chains := map[string]*eventlog.ChainVerifier{}
	broken := false
	for batch := range v.in[w] {
		if broken {
			continue // this worker's later events all come after its break
		}
		for _, r := range batch {
			c := chains[r.Stream]
			if c == nil {
				c = &eventlog.ChainVerifier{}
				chains[r.Stream] = c
			}
			// The tail is kept for the stream's next event: copy it out of the metadata document it
			// shares memory with, so a million streams keep a million hashes, not a million documents.
			r.Meta.Hash = strings.Clone(r.Meta.Hash)
			if err := c.Next(r); err != nil {
				var brk *eventlog.Break
				reason := err.Error()
				if errors.As(err, &brk) {
					reason = brk.Reason
				}
				v.report(breakOf(r, reason))
				broken = true
				break
			}
		}
	}
	v.streams[w] = len(chains)
}

// report records a break; the earliest in $all order wins.
func (v *verifier) report(b *ChainBreak) {
	for {
		cur := v.brk.Load()
		if cur != nil && !b.Position.Less(cur.Position) {
			return
		}
		if v.brk.CompareAndSwap(cur, b) {
			return
		}
	}
}

// first is the earliest break reported so far.
func (v *verifier) first() *ChainBreak { return v.brk.Load() }
