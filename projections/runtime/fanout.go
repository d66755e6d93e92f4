package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/outage"
)

// batch is a contiguous stretch of $all: every event after From up to and including Last, less the system
// ($) streams. It is shared, read-only, by every model's message: it is never copied or encoded.
type batch struct {
	epoch  uint64
	from   eventlog.Position // exclusive
	last   eventlog.Position
	events []eventlog.Recorded
	cutAt  time.Time
}

type batchKey struct{}

// batchOf returns the batch a message carries in its context.
func batchOf(msg *message.Message) (*batch, bool) {
	b, ok := msg.Context().Value(batchKey{}).(*batch)
	return b, ok
}

// topic is the feed of one read model.
type topic struct {
	name   string
	queue  chan *batch
	halted atomic.Bool
	// gapped is the epoch of the last batch cut while the model was not taking any (it was stuck), 0 when
	// none was: the batches in its queue end before the feed, and nothing may ever come to show it the gap
	// (a quiet ledger). It is that batch's epoch, not the epoch of the batches still queued: another model
	// may have had the feed start a new epoch meanwhile, and the gap is in the new one.
	gapped atomic.Uint64
}

// item travels from the upstream subscription to the batcher: an event, or the start of a new epoch (a
// fresh subscription from a new position).
type item struct {
	rec   eventlog.Recorded
	start bool
	epoch uint64
	from  eventlog.Position
}

// fanout is the runtime's Watermill subscriber: one catch-up subscription to $all, cut into batches, each
// batch offered to one topic per read model. A topic gets its next batch only after it acked the previous
// one; a nacked batch is offered again after a backoff. Offsets are not kept here: each model's resume
// point is its checkpoint in Postgres, which its handler checks in every transaction.
type fanout struct {
	src      Source
	cfg      *Config
	log      *slog.Logger
	topics   map[string]*topic
	minStart func(ctx context.Context) (eventlog.Position, bool, error)

	in      chan item
	kick    chan struct{}
	pending atomic.Int64 // batches queued or in flight, summed over topics

	// resyncEpoch is the newest epoch a model asked to abandon; resyncNote wakes the upstream.
	resyncEpoch atomic.Uint64
	// epoch is the upstream's current epoch.
	epoch      atomic.Uint64
	resyncNote chan struct{}

	closeOnce sync.Once
	closed    chan struct{}

	// How far the subscription has come: the last position it delivered (of any stream; where it started
	// until it delivers one) and the last event it passed on to the models (Runtime.Started reads them).
	progressMu          sync.Mutex
	received, forwarded eventlog.Position

	// passedOver counts, per model, the batches the feed went on without (nil: not counted).
	passedOver func(name string)

	duplicate bool // tests only: every batch is delivered twice
}

var _ message.Subscriber = (*fanout)(nil)

// progress returns the last position the subscription delivered and the last event it passed on.
func (f *fanout) progress() (received, forwarded eventlog.Position) {
	f.progressMu.Lock()
	defer f.progressMu.Unlock()
	return f.received, f.forwarded
}

func newFanout(cfg *Config, names []string, minStart func(context.Context) (eventlog.Position, bool, error)) *fanout {
	f := &fanout{
		src:        cfg.Source,
		cfg:        cfg,
		log:        cfg.Logger,
		topics:     make(map[string]*topic, len(names)),
		minStart:   minStart,
		in:         make(chan item, 4*cfg.MaxBatch),
		kick:       make(chan struct{}, 1),
		resyncNote: make(chan struct{}, 1),
		closed:     make(chan struct{}),
	}
	for _, n := range names {
		f.topics[n] = &topic{name: n, queue: make(chan *batch, cfg.QueueDepth)}
	}
	return f
}

// Subscribe returns the feed of one read model's topic. Each topic may be subscribed once.
func (f *fanout) Subscribe(ctx context.Context, name string) (<-chan *message.Message, error) {
	t, ok := f.topics[name]
	if !ok {
		return nil, fmt.Errorf("projection runtime: no read model %q", name)
	}
	out := make(chan *message.Message)
	go func() {
		defer close(out)
		for {
			select {
			case b := <-t.queue:
				if !f.deliver(ctx, t, out, b) {
					return
				}
			case <-ctx.Done():
				return
			case <-f.closed:
				return
			}
		}
	}()
	return out, nil
}

// Close ends every feed.
func (f *fanout) Close() error {
	f.closeOnce.Do(func() { close(f.closed) })
	return nil
}

// deliver offers b to the topic's handler until it is acked. It reports false when the feed is closing.
func (f *fanout) deliver(ctx context.Context, t *topic, out chan<- *message.Message, b *batch) bool {
	payload := []byte(b.from.String() + " " + b.last.String() + " " + strconv.Itoa(len(b.events)))
	for attempt := 0; ; attempt++ {
		msg := message.NewMessage(t.name+"@"+b.last.String(), payload)
		msg.Metadata.Set("epoch", strconv.FormatUint(b.epoch, 10))
		msg.SetContext(context.WithValue(ctx, batchKey{}, b))
		select {
		case out <- msg:
		case <-ctx.Done():
			return false
		case <-f.closed:
			return false
		}
		select {
		case <-msg.Acked():
			if f.duplicate && attempt == 0 {
				continue // test seam: deliver every batch a second time
			}
			if f.pending.Add(-1) == 0 {
				select {
				case f.kick <- struct{}{}:
				default:
				}
			}
			// The model has taken all it was given, and batches went by without it: resubscribe from the
			// lowest checkpoint now, rather than wait for a next batch that may never come. The request
			// names the epoch of the batch it missed: a subscription started since (from the lowest
			// checkpoint, so from at most this model's) covers that gap, one started before does not.
			if t.gapped.Load() != 0 && len(t.queue) == 0 {
				if e := t.gapped.Swap(0); e != 0 {
					f.requestResync(e)
				}
			}
			return true
		case <-msg.Nacked():
			if !sleep(ctx, backoff(f.cfg, attempt)) {
				return false
			}
		case <-ctx.Done():
			return false
		case <-f.closed:
			return false
		}
	}
}

// halt stops offering batches to a topic whose model halted.
func (f *fanout) halt(name string) {
	if t, ok := f.topics[name]; ok {
		t.halted.Store(true)
	}
}

// unhalt offers batches again to a topic whose model an operator resumed; the next batch it gets does
// not continue from the model's checkpoint, so the model asks for a resync from there.
func (f *fanout) unhalt(name string) {
	if t, ok := f.topics[name]; ok {
		t.halted.Store(false)
	}
	f.requestResync(f.epoch.Load())
}

// requestResync asks for a new subscription from the lowest checkpoint, because a model found that the
// batches of epoch do not continue from its checkpoint. Requests about an older epoch are ignored.
func (f *fanout) requestResync(epoch uint64) {
	for {
		cur := f.resyncEpoch.Load()
		if epoch <= cur {
			return
		}
		if f.resyncEpoch.CompareAndSwap(cur, epoch) {
			break
		}
	}
	select {
	case f.resyncNote <- struct{}{}:
	default:
	}
}

// runUpstream keeps one subscription to $all open and feeds f.in. A dropped subscription is resumed after
// the last event received (same epoch: the stream of events stays contiguous); a resync request starts a
// new epoch from the lowest checkpoint of the running models.
func (f *fanout) runUpstream(ctx context.Context) error {
	var epoch uint64
	var from eventlog.Position
	needStart := true
	failures := 0
	var dropped outage.Log // the store away: logged once a minute, not at every resubscription
	for {
		if needStart {
			for {
				p, any, err := f.minStart(ctx)
				if err == nil && !any {
					f.log.WarnContext(ctx, "projection runtime: every read model is halted; not subscribing")
					<-ctx.Done()
					return ctx.Err()
				}
				if err == nil {
					from = p
					break
				}
				if ctx.Err() != nil {
					return ctx.Err()
				}
				f.log.WarnContext(ctx, "projection runtime: cannot read checkpoints, retrying", "err", err)
				if !sleep(ctx, backoff(f.cfg, failures)) {
					return ctx.Err()
				}
				failures++
			}
			epoch++
			f.epoch.Store(epoch)
			select {
			case f.in <- item{start: true, epoch: epoch, from: from}:
			case <-ctx.Done():
				return ctx.Err()
			}
			needStart = false
			f.progressMu.Lock()
			f.received = from
			f.progressMu.Unlock()
			f.log.InfoContext(ctx, "projection runtime: subscribing to $all", "after", from.String(), "epoch", epoch)
		}

		subCtx, cancel := context.WithCancel(ctx)
		var resynced atomic.Bool
		watchDone := make(chan struct{})
		go func(epoch uint64) {
			for {
				if f.resyncEpoch.Load() >= epoch {
					resynced.Store(true)
					cancel()
					return
				}
				select {
				case <-f.resyncNote:
				case <-watchDone:
					return
				}
			}
		}(epoch)
		received, delivered := 0, false
		err := f.src.SubscribeAll(subCtx, from, eventlog.Filter{}, func(d eventlog.Delivery) error {
			if !delivered { // once a subscription: not a clock reading per event
				delivered = true
				dropped.Over(f.log, time.Now(), "projection runtime: $all subscription delivers again")
			}
			if d.Event == nil || !from.Less(d.Event.Position) {
				return nil // a checkpoint, or an event delivered again (a replayed range): seen already
			}
			from = d.Event.Position
			received++
			system := eventlog.SystemStream(d.Event.Stream)
			f.progressMu.Lock()
			f.received = from
			if !system {
				f.forwarded = from
			}
			f.progressMu.Unlock()
			if system {
				return nil
			}
			rec := *d.Event
			rec.Shared = new(eventlog.Shared) // every model gets this copy: its payload is decoded once
			select {
			case f.in <- item{rec: rec, epoch: epoch}:
				return nil
			case <-subCtx.Done():
				return subCtx.Err()
			}
		})
		close(watchDone)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if resynced.Load() {
			needStart, failures = true, 0
			continue
		}
		if received > 0 {
			failures = 0
		}
		if err == nil {
			err = errors.New("subscription ended without an error")
		}
		dropped.Fail(f.log, time.Now(), "projection runtime: $all subscription dropped, resubscribing", "after", from.String(), "err", err)
		if !sleep(ctx, backoff(f.cfg, failures)) {
			return ctx.Err()
		}
		failures++
	}
}

// runBatcher cuts the upstream events into batches: when MaxBatch events are waiting, when the oldest has
// waited MaxWait, or at once when every model is idle (so a quiet ledger sees each event within one
// transaction's time, and a busy one gets big batches: the batch grows while the models work).
func (f *fanout) runBatcher(ctx context.Context) error {
	var cur *batch
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	armed := false
	cut := func() bool {
		if armed {
			timer.Stop()
			armed = false
		}
		b := cur
		cur = &batch{epoch: b.epoch, from: b.last, last: b.last}
		b.cutAt = time.Now()
		for _, t := range f.topics {
			if t.halted.Load() {
				continue
			}
			f.pending.Add(1)
			select {
			case t.queue <- b:
				continue
			default:
			}
			wait := time.NewTimer(f.cfg.StuckAfter)
			select {
			case t.queue <- b:
				wait.Stop()
			case <-wait.C:
				// The model has not taken a batch for StuckAfter: go on without it rather than stall every
				// model. It will find the gap at its next batch and resubscribe from its checkpoint.
				f.pending.Add(-1)
				t.gapped.Store(b.epoch)
				if f.passedOver != nil {
					f.passedOver(t.name)
				}
				f.log.WarnContext(ctx, "projection runtime: a read model is not keeping up; the others go on without waiting for it",
					"projection", t.name, "batch_last", b.last.String())
			case <-ctx.Done():
				wait.Stop()
				return false
			}
		}
		return true
	}
	for {
		select {
		case it := <-f.in:
			if it.start {
				cur = &batch{epoch: it.epoch, from: it.from, last: it.from}
				if armed {
					timer.Stop()
					armed = false
				}
				continue
			}
			if cur == nil || it.epoch != cur.epoch {
				continue // left over from an epoch that was abandoned
			}
			cur.events = append(cur.events, it.rec)
			cur.last = it.rec.Position
		drain:
			for len(cur.events) < f.cfg.MaxBatch {
				select {
				case it := <-f.in:
					if it.start {
						// A new epoch replaces the partial batch: the new subscription delivers its events again.
						cur = &batch{epoch: it.epoch, from: it.from, last: it.from}
						break drain
					}
					if it.epoch != cur.epoch {
						continue
					}
					cur.events = append(cur.events, it.rec)
					cur.last = it.rec.Position
				default:
					break drain
				}
			}
			switch {
			case len(cur.events) == 0:
			case len(cur.events) >= f.cfg.MaxBatch || f.pending.Load() == 0:
				if !cut() {
					return ctx.Err()
				}
			case !armed:
				timer.Reset(f.cfg.MaxWait)
				armed = true
			}
		case <-timer.C:
			armed = false
			if cur != nil && len(cur.events) > 0 && !cut() {
				return ctx.Err()
			}
		case <-f.kick:
			if cur != nil && len(cur.events) > 0 && f.pending.Load() == 0 && !cut() {
				return ctx.Err()
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// backoff is the wait before retry number attempt (0-based): exponential from RetryInitial, capped at
// RetryMax, with jitter so that many projectors do not retry in step.
func backoff(cfg *Config, attempt int) time.Duration {
	d := cfg.RetryInitial
	for i := 0; i < attempt && d < cfg.RetryMax; i++ {
		d *= 2
	}
	d = min(d, cfg.RetryMax)
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
