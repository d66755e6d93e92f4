package esdbnode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// expectKind is the expected-revision mode of an append.
type expectKind uint8

const (
	expectAny expectKind = iota
	expectNoStream
	expectStreamExists
	expectExact
)

type expectation struct {
	kind expectKind
	rev  uint64 // for expectExact
}

// proposed is one event of an append request, already validated by the gRPC layer.
type proposed struct {
	id          [16]byte
	eventType   []byte
	contentType []byte
	metadata    []byte
	data        []byte
}

type appendRequest struct {
	stream   []byte
	expected expectation
	events   []proposed
	done     chan appendResult // buffered: the writer never blocks on a caller that gave up
	// chain, when set, ties the request to the ones queued before it by the same import (Node.Import): once
	// one of them is refused or fails, the writer refuses the rest, so an import never leaves a gap.
	chain *importChain
}

// appendResult is the outcome of one append. Exactly one of err, wrongVersion or success applies.
type appendResult struct {
	err error

	// wrongVersion: the expectation failed; current is the stream's last revision when currentExists.
	wrongVersion  bool
	currentExists bool
	current       uint64

	// success: lastRev is the stream's revision after the append (of its last event); position is the $all
	// position of the last event. For an empty append to a missing stream, noStream is set and position is 0.
	lastRev  uint64
	position uint64
	noStream bool
}

// writer is the single goroutine that mutates the store. Group commit: it takes every append queued while the
// previous commit was syncing (up to maxBatch events), validates each against the committed state plus the
// earlier requests of the same batch, writes the accepted ones to the log in one bbolt transaction, commits once
// (one fsync for all), adds their index entries to the index tail, publishes the new head to readers, then
// replies. A rejected request writes nothing and does not disturb the others. Between batches it keeps the
// indexes up to date (index.go).
type writer struct {
	st       *store
	log      *slog.Logger
	heads    *headWatch
	maxBatch int
	// Index flushing (index.go): flush above softCap when idle, above hardCap always, flushChunk events at a time.
	softCap, hardCap, flushChunk int
	idleFlush                    time.Duration

	reqs    chan *appendRequest
	quit    chan struct{}
	stopped chan struct{}

	// Only the writer goroutine touches the fields below.
	next   uint64 // next $all position to assign
	idx    *index // the in-memory tail of the indexes (index.go)
	failed error  // set after a failed commit; the writer then refuses everything

	// failure is failed as other goroutines may read it (Node.Failed).
	failure atomic.Pointer[error]
}

// fail puts the writer in the failed state: every append from now on is refused with err.
func (w *writer) fail(err error) {
	w.failed = err
	w.failure.Store(&err)
}

func newWriter(st *store, logger *slog.Logger, heads *headWatch, head uint64, cfg Config) *writer {
	return &writer{
		st:         st,
		log:        logger,
		heads:      heads,
		maxBatch:   cfg.MaxBatch,
		softCap:    cfg.indexSoftCap,
		hardCap:    max(cfg.indexSoftCap, tailHardCap*cfg.indexSoftCap/tailSoftCap),
		flushChunk: cfg.indexFlushChunk,
		idleFlush:  cfg.indexIdleFlush,
		reqs:       make(chan *appendRequest, 1024),
		quit:       make(chan struct{}),
		stopped:    make(chan struct{}),
		next:       head + 1,
		idx:        st.idx,
	}
}

// submit queues r and waits for its result. A result that was committed is returned even if ctx ends at the
// same time; if ctx ends first the append may still commit (the caller retries with the same event ids and gets
// the original result).
func (w *writer) submit(ctx context.Context, r *appendRequest) appendResult {
	if err := w.enqueue(ctx, r); err != nil {
		return appendResult{err: err}
	}
	return w.wait(ctx, r)
}

// enqueue queues r without waiting for its result (wait does): the writer takes requests in the order they
// were queued.
func (w *writer) enqueue(ctx context.Context, r *appendRequest) error {
	r.done = make(chan appendResult, 1)
	select {
	case w.reqs <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-w.quit:
		return ErrClosed
	}
}

// wait is the result of a request enqueue queued.
func (w *writer) wait(ctx context.Context, r *appendRequest) appendResult {
	select {
	case res := <-r.done:
		return res
	case <-ctx.Done():
		return appendResult{err: ctx.Err()}
	case <-w.stopped:
		select {
		case res := <-r.done:
			return res
		default:
			return appendResult{err: ErrClosed}
		}
	}
}

// stop makes the writer finish its current batch, refuse what is still queued, and exit.
func (w *writer) stop() {
	close(w.quit)
	<-w.stopped
}

func (w *writer) run() {
	defer close(w.stopped)
	batch := make([]*appendRequest, 0, 256)
	idle := time.NewTimer(time.Hour)
	defer idle.Stop()
	// Group-commit bookkeeping for gather: how many requests the last commit answered, how many were already
	// waiting when it finished, and how long it took.
	var lastBatch, queuedAfterCommit int
	var lastCommit time.Duration
	for {
		w.maintainIndex(len(w.reqs) == 0)
		if w.idx.pending > 0 {
			idle.Reset(w.idleFlush)
		}
		select {
		case r := <-w.reqs:
			batch = append(batch[:0], r)
			batch = w.gather(batch, queuedAfterCommit+lastBatch, lastCommit)
			queuedAfterCommit, lastBatch = 0, len(batch)
			started := time.Now()
			w.commit(batch)
			lastCommit = time.Since(started)
			queuedAfterCommit = len(w.reqs)
			clear(batch)
		case <-idle.C:
			w.flushIndex(w.flushChunk)
		case <-w.quit:
			for {
				select {
				case r := <-w.reqs:
					r.done <- appendResult{err: ErrClosed}
				default:
					// Index the whole tail so the next open has nothing to rebuild.
					for w.idx.pending > 0 && w.failed == nil {
						w.flushIndex(w.flushChunk)
					}
					return
				}
			}
		}
	}
}

// gather adds queued requests to batch, up to maxBatch events. When the last commit answered several
// concurrent appenders, it lingers briefly for them to come back with their next append (expect is the
// requests waiting after the last commit plus those it answered), so that concurrent appenders share one
// fsync instead of settling into alternating half-size batches. The linger is bounded by half the last commit's
// duration and by maxLinger, so it can at most add a fraction of one commit's latency; a lone appender never
// lingers.
func (w *writer) gather(batch []*appendRequest, expect int, lastCommit time.Duration) []*appendRequest {
	events := len(batch[0].events)
	linger := min(lastCommit/2, maxLinger)
	var deadline <-chan time.Time
	for events < w.maxBatch {
		select {
		case r := <-w.reqs:
			batch = append(batch, r)
			events += len(r.events)
			continue
		default:
		}
		if len(batch) >= expect || linger <= 0 {
			return batch
		}
		if deadline == nil {
			t := time.NewTimer(linger)
			defer t.Stop()
			deadline = t.C
		}
		select {
		case r := <-w.reqs:
			batch = append(batch, r)
			events += len(r.events)
		case <-deadline:
			return batch
		case <-w.quit:
			return batch
		}
	}
	return batch
}

// maxLinger caps how long gather waits for concurrent appenders to come back.
const maxLinger = 2 * time.Millisecond

// maintainIndex flushes the index tail when it is long: always above the hard cap, and above the soft cap when
// no append is waiting.
func (w *writer) maintainIndex(queueEmpty bool) {
	if w.idx.pending >= w.hardCap || (queueEmpty && w.idx.pending >= w.softCap) {
		w.flushIndex(w.flushChunk)
	}
}

func (w *writer) flushIndex(limit int) {
	if w.failed != nil || w.idx.pending == 0 {
		return
	}
	n, err := w.idx.flush(w.st, limit)
	if err != nil {
		w.fail(fmt.Errorf("esdbnode: store is failed after an index commit error, restart the node: %w", err))
		w.log.Error("esdbnode: indexing failed; refusing further appends", "path", w.st.path, "err", err)
		return
	}
	w.log.Debug("esdbnode: indexed events", "events", n, "through", w.idx.through, "pending", w.idx.pending)
}

// commit writes one batch in one bbolt transaction and replies to every request in it.
func (w *writer) commit(batch []*appendRequest) {
	results := make([]appendResult, len(batch))
	if w.failed != nil {
		for _, r := range batch {
			r.done <- appendResult{err: w.failed}
		}
		return
	}
	next := w.next
	wrote := false
	bi := newBatchIndex(w.idx.nextNum)
	err := guard(w.st.path, "append", func() error {
		return w.st.db.Update(func(tx *bolt.Tx) error {
			wt := writeTx{
				st:      w.st,
				tx:      tx,
				log:     tx.Bucket(bucketLog),
				next:    next,
				created: time.Now().UnixNano() / 100,
				idx:     w.idx,
				batch:   bi,
			}
			// Positions are appended in increasing key order: fill pages completely instead of splitting them
			// half-empty.
			wt.log.FillPercent = 1.0
			for i, r := range batch {
				if r.chain.broken() {
					results[i] = appendResult{err: errImportStopped}
					continue
				}
				results[i] = wt.apply(r)
				if wt.fatal != nil {
					return wt.fatal
				}
				if results[i].err != nil || results[i].wrongVersion {
					r.chain.breakOff()
				}
			}
			if wt.next == next {
				return errNoChange // nothing accepted: skip the fsync
			}
			wrote = true
			next = wt.next
			return nil
		})
	})
	if errors.Is(err, errNoChange) {
		err = nil
	}
	var fatal *putError
	if errors.As(err, &fatal) {
		// Nothing was committed; the store is as it was. Fail this batch only.
		w.log.Error("esdbnode: append batch rolled back", "path", w.st.path, "err", err)
		for _, r := range batch {
			r.chain.breakOff()
			r.done <- appendResult{err: err}
		}
		return
	}
	if err != nil {
		// The file's state after a failed commit or fsync is not trustworthy (the kernel may have dropped the
		// dirty pages): refuse further writes until an operator restarts the node, which re-reads what is
		// really on disk.
		w.fail(fmt.Errorf("esdbnode: store is failed after a commit error, restart the node: %w", err))
		w.log.Error("esdbnode: commit failed; refusing further appends", "path", w.st.path, "err", err)
		for _, r := range batch {
			r.done <- appendResult{err: fmt.Errorf("esdbnode: commit: %w", err)}
		}
		return
	}
	if wrote {
		w.next = next
		w.idx.addBatch(bi)
		w.heads.publish(next - 1)
	}
	for i, r := range batch {
		r.done <- results[i]
	}
}

// writeTx applies appends inside one bbolt write transaction. Only the log bucket is written; the index
// entries go to batch and join the index tail once the transaction commits (index.go).
type writeTx struct {
	st      *store
	tx      *bolt.Tx
	log     *bolt.Bucket
	next    uint64
	created int64
	idx     *index
	batch   *batchIndex
	fatal   error // a Put failed: the transaction holds a partial append and must roll back
}

// putError marks a failed bbolt Put; the batch is rolled back.
type putError struct {
	stream []byte
	err    error
}

func (e *putError) Error() string {
	return fmt.Sprintf("esdbnode: write to stream %q: %v", e.stream, e.err)
}

func (e *putError) Unwrap() error { return e.err }

// apply validates r against the transaction's current state and writes it if accepted. It writes nothing unless
// every check passed, so a rejection leaves the transaction as it was.
func (wt *writeTx) apply(r *appendRequest) appendResult {
	var head streamHead
	exists := false
	bt := wt.batch.tails[string(r.stream)]
	if bt != nil {
		head, exists = streamHead{num: bt.num, lastRev: bt.lastRev()}, true
	} else {
		h, found, err := wt.idx.streamHead(wt.st, wt.tx, r.stream)
		if err != nil {
			return appendResult{err: err}
		}
		head, exists = h, found
	}

	if res, handled := wt.checkIdempotent(r, head, exists); handled {
		return res
	}

	ok := false
	switch r.expected.kind {
	case expectAny:
		ok = true
	case expectNoStream:
		ok = !exists
	case expectStreamExists:
		ok = exists
	case expectExact:
		ok = exists && head.lastRev == r.expected.rev
	}
	if !ok {
		return appendResult{wrongVersion: true, currentExists: exists, current: head.lastRev}
	}
	if len(r.events) == 0 {
		if !exists {
			return appendResult{noStream: true}
		}
		return appendResult{lastRev: head.lastRev, position: 0}
	}

	rev := uint64(0)
	if exists {
		rev = head.lastRev + 1
	} else {
		head.num = wt.batch.nextNum
		wt.batch.nextNum++
	}
	if bt == nil {
		bt = &streamTail{num: head.num, base: rev}
		wt.batch.tails[string(r.stream)] = bt
	}
	// bbolt keeps references to keys and values until commit, so each request gets its own buffers.
	size := 0
	for i := range r.events {
		size += encodedEventLen(&event{stream: r.stream, eventType: r.events[i].eventType,
			contentType: r.events[i].contentType, metadata: r.events[i].metadata, data: r.events[i].data})
	}
	records := make([]byte, 0, size)
	keys := make([]byte, 0, len(r.events)*8)
	for i := range r.events {
		p := &r.events[i]
		e := event{
			position:    wt.next,
			revision:    rev,
			created:     wt.created,
			id:          p.id,
			stream:      r.stream,
			eventType:   p.eventType,
			contentType: p.contentType,
			metadata:    p.metadata,
			data:        p.data,
		}
		start := len(records)
		records = appendEvent(records, &e)
		keys = append(keys, positionKey(e.position)...)
		if err := wt.log.Put(keys[len(keys)-8:], records[start:len(records):len(records)]); err != nil {
			return wt.putFailed(r, err)
		}
		bt.positions = append(bt.positions, e.position)
		wt.batch.ids = append(wt.batch.ids, idPos{id: p.id, pos: e.position})
		wt.batch.idSet[p.id] = e.position
		wt.next++
		rev++
	}
	return appendResult{lastRev: rev - 1, position: wt.next - 1}
}

// putFailed reports a bbolt Put error. Requests are validated for size before they reach the writer, so this
// means the store is in trouble; the partial writes are in the transaction, so the whole batch must not commit.
func (wt *writeTx) putFailed(r *appendRequest, err error) appendResult {
	wt.fatal = &putError{stream: r.stream, err: err}
	return appendResult{err: wt.fatal}
}

// checkIdempotent implements the event-id rules. Event ids are unique in the store: the event-id index (the ids
// bucket plus its unindexed tail, index.go) maps each id to its one position, durably. For a request whose ids
// are all new it returns handled=false and the normal expected-revision check follows. Otherwise:
//
//   - every id already written, to this stream, at consecutive revisions in request order, and the request's
//     expectation consistent with where they were written (exact: expected+1 is the first revision; no_stream:
//     the first revision is 0; any and stream_exists: anywhere) — a retry: the original result (revision and
//     position of the last of those events) is returned and nothing is written;
//   - anything else (some ids new and some not, ids written to another stream or out of order, or a retry with
//     an expectation that does not match the original) — wrong expected version with the stream's current
//     revision, nothing written. Writing would duplicate or scatter an append that already happened.
//
// A request that repeats an id within itself is refused the same way.
func (wt *writeTx) checkIdempotent(r *appendRequest, head streamHead, exists bool) (appendResult, bool) {
	if len(r.events) == 0 {
		return appendResult{}, false
	}
	positions := make([]uint64, len(r.events))
	seen := 0
	for i := range r.events {
		pos, found := wt.batch.idSet[r.events[i].id]
		if !found {
			var err error
			pos, found, err = wt.idx.lookupID(wt.st, wt.tx, &r.events[i].id)
			if err != nil {
				return appendResult{err: err}, true
			}
		}
		if !found {
			continue
		}
		positions[i] = pos
		seen++
	}
	wrong := appendResult{wrongVersion: true, currentExists: exists, current: head.lastRev}
	if seen == 0 {
		if hasDuplicateID(r.events) {
			wt.st.log.Warn("esdbnode: append repeats an event id; refused", "stream", string(r.stream))
			return wrong, true
		}
		return appendResult{}, false
	}
	if seen < len(r.events) {
		wt.st.log.Warn("esdbnode: append reuses some but not all event ids of earlier appends; refused",
			"stream", string(r.stream), "reused", seen, "events", len(r.events))
		return wrong, true
	}
	var e event
	var firstRev uint64
	for i, pos := range positions {
		pk := positionKey(pos)
		if err := decodeEvent(pk, wt.log.Get(pk), &e); err != nil {
			return appendResult{err: wt.st.corrupt(fmt.Sprintf("record at position %d", pos), err)}, true
		}
		if i == 0 {
			firstRev = e.revision
		}
		if !bytes.Equal(e.stream, r.stream) || e.revision != firstRev+uint64(i) || e.id != r.events[i].id {
			wt.st.log.Warn("esdbnode: append reuses event ids written elsewhere; refused", "stream", string(r.stream))
			return wrong, true
		}
	}
	consistent := true
	switch r.expected.kind {
	case expectNoStream:
		consistent = firstRev == 0
	case expectExact:
		consistent = r.expected.rev+1 == firstRev
	}
	if !consistent {
		wt.st.log.Warn("esdbnode: retry of an earlier append with a different expected revision; refused",
			"stream", string(r.stream))
		return wrong, true
	}
	return appendResult{lastRev: e.revision, position: e.position}, true
}

func hasDuplicateID(events []proposed) bool {
	if len(events) <= 16 {
		for i := 1; i < len(events); i++ {
			for j := 0; j < i; j++ {
				if events[i].id == events[j].id {
					return true
				}
			}
		}
		return false
	}
	seen := make(map[[16]byte]struct{}, len(events))
	for i := range events {
		if _, dup := seen[events[i].id]; dup {
			return true
		}
		seen[events[i].id] = struct{}{}
	}
	return false
}
