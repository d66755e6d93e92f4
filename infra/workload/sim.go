package workload

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// The simulation. Each community is simulated on its own: its own random stream (PCG seeded by the seed
// and the community's index), its own virtual clock and a queue of scheduled tasks (a salary run, a
// meeting, the next step of a topic). A task gives commands: it calls the real domain aggregate's command
// method on the aggregate as its history left it (every aggregate is fed its own events with Apply, which
// is what Rehydrate does), and wraps the events in envelopes exactly as the command executor does
// (commands.Envelope). A domain refusal is a bug of the generator and stops the run.
//
// Output is cut into windows of simulated time (a month; shorter near a Target). Within a window each
// stream's events are batched into as few appends as causality allows: a command whose handler would
// read another stream (an approval reads the resolution's meeting, a notice reads the payments it
// discloses) must land after the pending events of that stream, so it starts a new batch of its own
// stream in a later "phase" that depends on them. The writer appends many batches at once, each only
// after the batches it depends on (its stream's previous batch, and those of the streams it read), so
// $all keeps cause before effect, every stream is written exactly as generated, with the exact expected
// revision of its tail, and the store is never idle between windows.

// segment is one append: events of one stream in one phase of a window. The hash chain is sealed by the
// sink as it appends (the adapter does: eventlog.Seal), so the expected tail hash of a segment is read
// from the last event of the stream's previous segment when it is flushed, which is always after that
// one was appended.
type segment struct {
	stream   string
	phase    int
	expected eventlog.Expected
	prev     *segment   // the stream's previous segment, nil for its first
	deps     []*segment // segments of other streams that must be appended first
	events   []eventlog.Event
	n        int // events, kept when they are released after the append

	// Set by the writer.
	done   chan struct{} // closed once appended (or given up)
	failed bool          // not appended: its own append or one it depends on failed
	tail   string        // hash of the last event, once appended
}

// streamState is what the generator knows of a stream it writes: its last revision, its last segment
// and its pending segment in the current window.
type streamState struct {
	rev      int64 // -1: no event yet
	last     *segment
	seg      *segment
	finished bool // forget the stream when the window is taken
}

type task struct {
	at  time.Time
	seq uint64
	fn  func()
}

// counts are a community's contribution to Stats; summed when the run ends.
type counts struct {
	commands    int
	byType      map[string]int
	breaches    map[kernel.RuleID]int
	planted     map[string]int
	first, last time.Time
}

func newCounts() counts {
	return counts{byType: map[string]int{}, breaches: map[kernel.RuleID]int{}, planted: map[string]int{}}
}

// comm is the simulation of one community.
type comm struct {
	g         *gen
	info      *Community
	district  *District
	index     int
	street    int // index of the street in the district
	inStreet  int // index of the community in the street
	rng       *rand.Rand
	params    rulebook.Params
	clerk     commands.Actor
	admin     commands.Actor
	now       time.Time
	seq       uint64 // task sequence
	cmds      int    // command sequence (command ids)
	people    int    // person sequence (person ids)
	tasks     []task
	streams   map[string]*streamState
	segs      []*segment // the current window's appends, in creation order
	finishing []string   // streams marked done, forgotten once written
	counts    counts
	err       error

	// Domain state the community's processes share.
	profile        *community.Community
	households     int
	adults         int
	budgets        map[int]*funds.Budget
	term           *termState
	workers        []*worker
	expSeq         map[int]int // expenditures per fiscal year, for ids
	payQueue       []*expenditure
	quarter        quarterTotals
	plants         map[string]bool // anomalies assigned to this community
	meetingSeq     map[string]int
	topicSeq       map[int]int
	auditAt        time.Time // last audit opened
	voucherSeq     int
	audits         int
	affairsNotices int
	seals          *sealState   // the seal register (nil before the committee is seated)
	assets         *assetState  // collective assets and their contracts
	roster         *rosterState // the workers' roster (nil before the first is hired)
	casework       *caseState   // inspections and rectifications (nil before the first)
	evals          *evalState   // democratic evaluations and surveys (nil before the first)
	// inDistrict is the community's place among its district's (the inspection rounds rotate over them).
	inDistrict struct{ index, count int }
	received   int // tasks pushed onto the community, for record ids
}

func (c *comm) at(t time.Time, fn func()) {
	if t.Before(c.now) {
		t = c.now
	}
	c.seq++
	c.push(task{at: t, seq: c.seq, fn: fn})
}

// after schedules fn d after now.
func (c *comm) after(d time.Duration, fn func()) { c.at(c.now.Add(d), fn) }

func (c *comm) push(t task) {
	c.tasks = append(c.tasks, t)
	i := len(c.tasks) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !c.less(i, p) {
			break
		}
		c.tasks[i], c.tasks[p] = c.tasks[p], c.tasks[i]
		i = p
	}
}

func (c *comm) less(i, j int) bool {
	a, b := &c.tasks[i], &c.tasks[j]
	if !a.at.Equal(b.at) {
		return a.at.Before(b.at)
	}
	return a.seq < b.seq
}

func (c *comm) pop() task {
	t := c.tasks[0]
	n := len(c.tasks) - 1
	c.tasks[0] = c.tasks[n]
	c.tasks[n] = task{}
	c.tasks = c.tasks[:n]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && c.less(l, m) {
			m = l
		}
		if r < n && c.less(r, m) {
			m = r
		}
		if m == i {
			return t
		}
		c.tasks[i], c.tasks[m] = c.tasks[m], c.tasks[i]
		i = m
	}
}

// run runs the tasks scheduled before end. The clock never goes back: a task due while an earlier one
// was still giving commands runs when that one is done.
func (c *comm) run(end time.Time) {
	for len(c.tasks) > 0 && c.tasks[0].at.Before(end) && c.err == nil {
		t := c.pop()
		if t.at.After(c.now) {
			c.now = t.at
		}
		t.fn()
	}
}

// advance moves the clock on by d within a task (the next command of a meeting, say).
func (c *comm) advance(d time.Duration) { c.now = c.now.Add(d) }

// record gives one command: the events a domain command method decided (or its refusal, which stops the
// run) become envelopes on stream, as the executor would append them, at the current time. deps are the
// streams the command's handler reads; the command lands after their pending events.
func (c *comm) record(actor commands.Actor, stream string, deps []string, events []kernel.Event, err error) []kernel.Event {
	if c.err != nil {
		return nil
	}
	if err != nil {
		c.err = fmt.Errorf("community %s at %s: command on %s refused: %w", c.info.ID, c.now.Format(time.RFC3339), stream, err)
		return nil
	}
	if len(events) == 0 {
		return nil
	}
	c.cmds++
	m := commands.Meta{CommandID: fmt.Sprintf("demo-%d-%s-%d", c.g.plan.seed, c.info.ID, c.cmds), Actor: actor}
	t := commands.Target{Stream: stream, CommunityID: c.info.ID, Path: c.info.Path}
	now := c.now.UTC()
	envs, eerr := commands.Envelope(c.g.reg, m, t, events, now)
	if eerr != nil {
		c.err = fmt.Errorf("community %s: envelope for %s: %w", c.info.ID, stream, eerr)
		return nil
	}
	// Every handler reads the community's profile, so every command lands after the profile's pending
	// events — also those of an earlier window still in flight, not only a profile created in this one.
	if stream != c.profileStream() {
		deps = append(deps, c.profileStream())
	}
	c.emit(stream, deps, envs)
	c.counts.commands++
	for _, e := range events {
		c.counts.byType[e.EventName()]++
		if w, ok := e.(kernel.Watched); ok {
			for _, b := range w.Breached() {
				c.counts.breaches[b.Rule]++
			}
		}
	}
	if c.counts.first.IsZero() {
		c.counts.first = now
	}
	c.counts.last = now
	return events
}

// emit adds sealed envelopes to the stream's pending segment of the window, opening a new segment when
// the stream has none or the command must land in a later phase than its dependencies.
func (c *comm) emit(stream string, deps []string, envs []eventlog.Event) {
	st := c.streams[stream]
	if st == nil {
		st = &streamState{rev: -1}
		c.streams[stream] = st
	}
	phase := 0
	if st.seg != nil {
		phase = st.seg.phase
	}
	var after []*segment
	for _, d := range deps {
		switch ds := c.streams[d]; {
		case ds == nil || ds == st:
		case ds.seg != nil: // pending in this window: a later phase
			phase = max(phase, ds.seg.phase+1)
			after = append(after, ds.seg)
		case ds.last != nil: // from an earlier window, perhaps still in flight
			after = append(after, ds.last)
		}
	}
	if st.seg == nil || st.seg.phase != phase {
		exp := eventlog.NoStream()
		if st.rev >= 0 {
			exp = eventlog.At(uint64(st.rev), "")
		}
		st.seg = &segment{stream: stream, phase: phase, expected: exp, prev: st.last, done: make(chan struct{})}
		st.last = st.seg
		c.segs = append(c.segs, st.seg)
	}
	for _, a := range after {
		if !slices.Contains(st.seg.deps, a) {
			st.seg.deps = append(st.seg.deps, a)
		}
	}
	st.rev += int64(len(envs))
	st.seg.events = append(st.seg.events, envs...)
	st.seg.n = len(st.seg.events)
}

// takeWindow hands over the window's segments and starts the next window. Finished streams are
// forgotten once their last segment is written: until then commands that read them must wait for it.
func (c *comm) takeWindow() []*segment {
	segs := c.segs
	c.segs = nil
	for _, s := range segs {
		if st := c.streams[s.stream]; st != nil {
			st.seg = nil
		}
	}
	keep := c.finishing[:0]
	for _, name := range c.finishing {
		if st := c.streams[name]; st != nil && st.last != nil && !written(st.last) {
			keep = append(keep, name)
			continue
		}
		delete(c.streams, name)
	}
	c.finishing = keep
	return segs
}

// written reports whether a segment has been appended (or given up).
func written(s *segment) bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// done marks a stream the community will not write again (an expenditure paid, a meeting closed with
// its minutes), to be forgotten once its last segment is written, keeping memory flat over long
// histories.
func (c *comm) done(stream string) {
	if st := c.streams[stream]; st != nil && !st.finished {
		st.finished = true
		c.finishing = append(c.finishing, stream)
	}
}

func (c *comm) profileStream() string { return community.ProfileStream(c.info.ID) }

// Randomness and time helpers.

func (c *comm) chance(percent float64) bool { return c.rng.Float64()*100 < percent }

func (c *comm) between(lo, hi int) int { return lo + c.rng.IntN(hi-lo+1) }

func (c *comm) pick(n int) int { return c.rng.IntN(n) }

// yuan draws an amount between lo and hi yuan, in fen, with jiao and fen.
func (c *comm) yuan(lo, hi int64) kernel.Fen {
	return kernel.Fen(lo*100 + c.rng.Int64N((hi-lo)*100+1))
}

// roundYuan draws an amount between lo and hi yuan, rounded to 100 yuan (contracts, allocations).
func (c *comm) roundYuan(lo, hi int64) kernel.Fen {
	return kernel.Yuan((lo + c.rng.Int64N(hi-lo+1)) / 100 * 100)
}

var cst = kernel.ChinaTime()

// day returns a moment of a calendar day in China time.
func day(y int, m time.Month, d, hour, minute int) time.Time {
	return time.Date(y, m, d, hour, minute, 0, 0, cst)
}

// office returns a random moment of the working day of t (08:30–17:30 China time).
func (c *comm) office(t time.Time) time.Time {
	t = t.In(cst)
	return time.Date(t.Year(), t.Month(), t.Day(), 8, 30, 0, 0, cst).Add(time.Duration(c.rng.IntN(9*60)) * time.Minute)
}

// days is n days.
func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// hours is n hours.
func hours(n int) time.Duration { return time.Duration(n) * time.Hour }

// minutes is n minutes.
func minutes(n int) time.Duration { return time.Duration(n) * time.Minute }

// document returns the SHA-256 of a document of the history (minutes, a report, a plan, an attachment):
// a one-page PDF describing it, the same for the same history, handed to Options.Documents.
func (c *comm) document(parts ...any) string {
	pdf := demoPDF(fmt.Sprint(append([]any{"seed", c.g.plan.seed, "community", c.info.ID}, parts...)...))
	if c.g.documents != nil {
		c.g.documents(pdf)
	}
	sum := sha256.Sum256(pdf)
	return hex.EncodeToString(sum[:])
}

// plant records that the community's history carries an anomaly for the alert engine.
func (c *comm) plant(what string) {
	c.counts.planted[what]++
	for _, p := range c.info.Planted {
		if p == what {
			return
		}
	}
	c.info.Planted = append(c.info.Planted, what)
}

// planted reports whether anomaly a was assigned to the community, consuming it: each assigned anomaly
// is planted once.
func (c *comm) planted(a string) bool {
	if c.plants[a] {
		delete(c.plants, a)
		return true
	}
	return false
}

func apply[A interface{ Apply(kernel.Event) }](a A, events []kernel.Event) {
	for _, e := range events {
		a.Apply(e)
	}
}
