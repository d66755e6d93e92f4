package workload

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/fnv"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/events"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/worklist"
)

// Sink receives the generated events: one call per batch of one stream, with the exact expected state of
// the stream (eventlog.NoStream for its first batch, eventlog.At its last revision and hash afterwards).
// Like the store adapter (infra/eventstore.Store), which satisfies it, Append must seal the events into
// the stream's hash chain in place (eventlog.Seal after expected.TailHash): the generator reads the hash
// of each batch's last event to continue the chain with the next.
//
// Append is called from several goroutines at once (Options.Concurrency), never for the same stream at
// the same time, and always in each stream's order.
type Sink interface {
	Append(ctx context.Context, stream string, expected eventlog.Expected, events []eventlog.Event) (eventlog.AppendResult, error)
}

// Stats describes a generated history: what it contains and where (the who's who of the demo district,
// without any credentials — the demo creates no API tokens), how long writing it took, and a digest of
// its content.
type Stats struct {
	Seed        uint64    `json:"seed"`
	Communities int       `json:"communities"`
	Years       int       `json:"years"`
	From        time.Time `json:"from"` // the first event's occurred_at
	To          time.Time `json:"to"`   // the last event's occurred_at
	Until       time.Time `json:"until"`
	Events      int       `json:"events"`
	Commands    int       `json:"commands"`
	Streams     int       `json:"streams"`
	Appends     int       `json:"appends"`
	// ByType counts events by wire name; ByStreamKind counts streams by kind (the first field of the
	// stream name: election, meeting, expenditure…).
	ByType       map[string]int `json:"by_type"`
	ByStreamKind map[string]int `json:"by_stream_kind"`
	// Breaches counts the watch-rule breaches recorded on events, by rule.
	Breaches map[kernel.RuleID]int `json:"breaches"`
	// Planted counts the anomalies planted in the history, by name (a rule id, or a rule id with a
	// suffix for a deadline that nothing in the history meets; see Community.Planted).
	Planted   map[string]int `json:"planted"`
	Districts []District     `json:"districts"`
	// Digest is a SHA-256 over every appended batch in generation order (stream, expected revision,
	// count, hash of the last event, which chains everything before it). The same seed and options give
	// the same digest whatever the concurrency.
	Digest  string        `json:"digest"`
	Elapsed time.Duration `json:"elapsed_ns"`
}

// EventsPerSecond is the write rate of the run.
func (s Stats) EventsPerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Events) / s.Elapsed.Seconds()
}

// gen is one run.
type gen struct {
	plan     plan
	reg      *kernel.Registry
	tree     []District
	rulebook *rulebook.Rulebook
	sink     Sink
	progress *Progress
	digest   hash.Hash
	stats    Stats
	appends  atomic.Int64
	written  int // events generated so far
	// documents receives the history's documents (Options.Documents).
	documents func(pdf []byte)
	// worklists are the districts' lists of community work, as the preamble published them.
	worklists map[kernel.JurisdictionPath]*worklist.District
}

// window is the output of one window of simulated time: its segments in generation order.
type window struct {
	segs []*segment
}

// Generate simulates the options' district(s) and writes every event into sink, window by window,
// without holding more than a window of events in memory. It returns when everything is written, or at
// the first error (a refused append, a cancelled context, or a command the domain refused — a bug of
// the generator, never expected). On error the sink holds a prefix of the history: each stream whole up
// to some batch.
func Generate(ctx context.Context, opts Options, sink Sink) (Stats, error) {
	started := time.Now()
	p, err := opts.plan()
	if err != nil {
		return Stats{}, err
	}
	tree, err := buildTree(p.seed, p.communities)
	if err != nil {
		return Stats{}, err
	}
	reg, err := events.NewRegistry()
	if err != nil {
		return Stats{}, err
	}
	g := &gen{plan: p, reg: reg, tree: tree, rulebook: rulebook.New(), sink: sink, progress: opts.Progress, digest: sha256.New(),
		documents: opts.Documents}
	if g.progress == nil {
		g.progress = &Progress{}
	}
	g.progress.planned.Store(int64(p.estimate))
	g.stats = Stats{Seed: p.seed, Communities: p.communities, Years: p.years, Until: p.end.UTC(),
		ByType: map[string]int{}, ByStreamKind: map[string]int{}, Breaches: map[kernel.RuleID]int{}, Planted: map[string]int{}}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pre, err := g.preamble()
	if err != nil {
		return Stats{}, err
	}
	w := g.startWriter(ctx, cancel)
	g.account(pre)
	if err := w.submit(ctx, pre); err != nil {
		return Stats{}, w.fail(ctx, err)
	}
	for _, s := range pre.segs { // the tree must be there before the communities register under it
		<-s.done
		if s.failed {
			return Stats{}, w.fail(ctx, nil)
		}
	}
	comms := g.communities()
	for _, c := range comms {
		c.start()
	}
	if err := g.simulate(ctx, comms, w); err != nil {
		return Stats{}, w.fail(ctx, err)
	}
	if err := w.close(); err != nil {
		return Stats{}, err
	}
	if err := ctx.Err(); err != nil {
		return Stats{}, err
	}
	for _, c := range comms {
		g.merge(c)
	}
	g.stats.Events = g.written
	g.stats.Districts = g.tree
	g.stats.Appends = int(g.appends.Load())
	g.stats.Digest = hex.EncodeToString(g.digest.Sum(nil))
	g.stats.Elapsed = time.Since(started)
	g.progress.planned.Store(int64(g.stats.Events))
	return g.stats, nil
}

// simulate runs the communities window by window and hands each window to the writer. Windows are a
// month long; near a Target they shrink (a week, a day, two hours, a quarter of an hour) so that the
// history stops soon after the target is reached: within a quarter of an hour of simulated time, a few
// events per community at most.
func (g *gen) simulate(ctx context.Context, comms []*comm, wr *writer) error {
	workers := min(runtime.GOMAXPROCS(0), len(comms))
	steps := []time.Duration{30 * 24 * time.Hour, 7 * 24 * time.Hour, 24 * time.Hour, 2 * time.Hour, 15 * time.Minute}
	level, last := 0, 0
	for from := g.plan.start; from.Before(g.plan.end); {
		if err := ctx.Err(); err != nil {
			return err
		}
		for g.plan.target > 0 && level < len(steps)-1 && g.written+2*last >= g.plan.target {
			level++
			last = int(int64(last) * int64(steps[level]) / int64(steps[level-1]))
		}
		if g.plan.target > 0 && g.plan.target-g.written <= 20*len(comms) { // within about a payday
			level = len(steps) - 1
		}
		to := nextMonth(from)
		if level > 0 {
			to = from.Add(steps[level])
		}
		if to.After(g.plan.end) {
			to = g.plan.end
		}
		w, err := g.window(comms, to, workers)
		if err != nil {
			return err
		}
		if err := g.bulletins(comms, to, w); err != nil {
			return err
		}
		if err := g.assessments(comms, from, to, w); err != nil {
			return err
		}
		before := g.written
		g.account(w)
		last = g.written - before
		if err := wr.submit(ctx, w); err != nil {
			return err
		}
		if g.plan.target > 0 && g.written >= g.plan.target {
			return nil
		}
		from = to
	}
	return nil
}

func nextMonth(t time.Time) time.Time {
	t = t.In(cst)
	return time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, cst)
}

// window runs every community up to end, in parallel, and collects their segments in community order.
func (g *gen) window(comms []*comm, end time.Time, workers int) (*window, error) {
	var wg sync.WaitGroup
	var next atomic.Int64
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < len(comms); i = int(next.Add(1)) - 1 {
				comms[i].run(end)
			}
		}()
	}
	wg.Wait()
	w := &window{}
	for _, c := range comms {
		if c.err != nil {
			return nil, c.err
		}
		w.segs = append(w.segs, c.takeWindow()...)
	}
	return w, nil
}

// digestWindow adds an appended window to the digest, in generation order.
func (g *gen) digestWindow(w *window) {
	var buf [8]byte
	for _, s := range w.segs {
		g.digest.Write([]byte(s.stream))
		binary.BigEndian.PutUint64(buf[:], s.expected.Revision)
		g.digest.Write(buf[:])
		binary.BigEndian.PutUint64(buf[:], uint64(s.n))
		g.digest.Write(buf[:])
		g.digest.Write([]byte(s.tail))
	}
}

// account counts a window's events and new streams as it is generated.
func (g *gen) account(w *window) {
	for _, s := range w.segs {
		g.written += s.n
		if s.expected.Kind == eventlog.ExpectNoStreamKind {
			g.stats.Streams++
			kind, _, _, err := eventlog.SplitStreamName(s.stream)
			if err == nil {
				g.stats.ByStreamKind[kind]++
			}
		}
	}
}

// writer appends segments with up to Concurrency appends in flight. Segments are queued in an order
// where everything a segment depends on (its stream's previous segment, the segments of the streams its
// commands read) comes before it: windows in order, each window's segments by phase. A worker waits for
// those before appending, so a worker only ever waits for segments already taken by other workers and
// the queue cannot deadlock; nothing waits for a whole window to finish.
type writer struct {
	g       *gen
	queue   chan *segment
	windows chan *window // to digest in generation order as they complete
	workers sync.WaitGroup
	digest  sync.WaitGroup
	errOnce sync.Once
	err     error
	cancel  context.CancelFunc
}

func (g *gen) startWriter(ctx context.Context, cancel context.CancelFunc) *writer {
	w := &writer{g: g, queue: make(chan *segment, 4*g.plan.concurrency), windows: make(chan *window, 256), cancel: cancel}
	for range g.plan.concurrency {
		w.workers.Add(1)
		go func() {
			defer w.workers.Done()
			for s := range w.queue {
				w.write(ctx, s)
			}
		}()
	}
	w.digest.Add(1)
	go func() {
		defer w.digest.Done()
		for win := range w.windows {
			for _, s := range win.segs {
				<-s.done
				if s.failed {
					for range w.windows { // drain: the run has failed
					}
					return
				}
			}
			g.digestWindow(win)
		}
	}()
	return w
}

// submit queues a window's segments.
func (w *writer) submit(ctx context.Context, win *window) error {
	ordered := slices.Clone(win.segs)
	slices.SortStableFunc(ordered, func(a, b *segment) int { return a.phase - b.phase })
	w.windows <- win
	for i, s := range ordered {
		select {
		case w.queue <- s:
		case <-ctx.Done():
			for _, rest := range ordered[i:] { // never queued: release whoever waits for them
				rest.failed = true
				close(rest.done)
			}
			return ctx.Err()
		}
	}
	return nil
}

func (w *writer) write(ctx context.Context, s *segment) {
	defer close(s.done)
	for _, d := range s.deps {
		<-d.done
		s.failed = s.failed || d.failed
	}
	if s.prev != nil {
		<-s.prev.done
		s.failed = s.failed || s.prev.failed
		s.expected.TailHash = s.prev.tail
	}
	if s.failed || ctx.Err() != nil {
		s.failed = true
		return
	}
	if _, err := w.g.sink.Append(ctx, s.stream, s.expected, s.events); err != nil {
		s.failed = true
		w.errOnce.Do(func() {
			w.err = fmt.Errorf("workload: append %d events to %s at %s: %w", s.n, s.stream, s.expected, err)
			w.cancel()
		})
		return
	}
	s.tail = s.events[s.n-1].Meta.Hash
	s.events, s.deps, s.prev = nil, nil, nil // written: only the tail hash is still needed
	w.g.appends.Add(1)
	w.g.progress.done.Add(int64(s.n))
}

// fail ends a failed run: it waits for the writer and returns the first append error, else cause, else
// the context's error.
func (w *writer) fail(ctx context.Context, cause error) error {
	err := w.close()
	if err == nil {
		err = cause
	}
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		err = errors.New("workload: the run was abandoned")
	}
	return err
}

// close waits for everything queued to be written (or given up) and returns the first append error.
func (w *writer) close() error {
	close(w.queue)
	w.workers.Wait()
	close(w.windows)
	w.digest.Wait()
	return w.err
}

// communities creates the simulation of every community, each with its own random stream.
func (g *gen) communities() []*comm {
	var out []*comm
	for d := range g.tree {
		dist := &g.tree[d]
		admin := commands.Actor{Subject: "demo-admin-" + dist.Code, Role: commands.RoleAdmin, Scope: string(dist.Path)}
		var members []*comm
		for s := range dist.Streets {
			st := &dist.Streets[s]
			for k := range st.Communities {
				info := &st.Communities[k]
				c := &comm{
					g: g, info: info, district: dist, index: len(out), street: s, inStreet: k,
					rng:        rand.New(rand.NewPCG(g.plan.seed, streamKey(string(info.ID)))),
					params:     g.rulebook.For(info.Path),
					clerk:      commands.Actor{Subject: "demo-clerk-" + string(info.ID), Role: commands.RoleClerk, Scope: string(info.Path)},
					admin:      admin,
					streams:    map[string]*streamState{},
					counts:     newCounts(),
					profile:    &community.Community{},
					budgets:    map[int]*funds.Budget{},
					expSeq:     map[int]int{},
					plants:     map[string]bool{},
					meetingSeq: map[string]int{},
					topicSeq:   map[int]int{},
				}
				c.now = g.plan.start
				c.inDistrict.index = len(members)
				out = append(out, c)
				members = append(members, c)
			}
		}
		for _, c := range members {
			c.inDistrict.count = len(members)
		}
		g.assignPlants(d, members)
	}
	return out
}

func streamKey(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// assignPlants spreads the anomalies every district gets over its communities, one per community as far
// as there are enough, urban-only ones to urban communities.
func (g *gen) assignPlants(d int, cs []*comm) {
	r := rand.New(rand.NewPCG(g.plan.seed, 0x91a+uint64(d)))
	order := r.Perm(len(cs))
	for i, a := range assigned {
		for k := range len(order) {
			c := cs[order[(i+k)%len(order)]]
			if !urbanOnly(a) || c.info.Kind == kernel.Urban {
				c.plants[a] = true
				break
			}
		}
	}
}

// merge adds a community's counts to the stats.
func (g *gen) merge(c *comm) {
	s, k := &g.stats, c.counts
	s.Commands += k.commands
	for t, n := range k.byType {
		s.ByType[t] += n
	}
	for r, n := range k.breaches {
		s.Breaches[r] += n
	}
	for p, n := range k.planted {
		s.Planted[p] += n
	}
	if !k.first.IsZero() && (s.From.IsZero() || k.first.Before(s.From)) {
		s.From = k.first
	}
	if k.last.After(s.To) {
		s.To = k.last
	}
}
