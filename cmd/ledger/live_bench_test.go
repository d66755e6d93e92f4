package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/time/rate"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"
	"github.com/grassroots-ledger/ledger/infra/workload"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// BenchmarkLiveLatency runs every read model as serve runs them (the same runtime, models and pool) while
// the demo's generator records a valid district history into the embedded node at 500 and at 2 000
// events/s (ten seconds each). For every append it reports the time from its acknowledgement to the
// first poll (every 2 ms) that finds every model's checkpoint at or past it: its rows committed in all of
// them. The traffic starts once the projections have started, as a load balancer waits for serve's
// /readyz (LIVE_BENCH_COLD=1: at once, while they start). events/s is the rate the generator achieved;
// steady-… leaves out the appends of the first second, when every model's first batches run cold. Run
// with -benchtime 1x.
func BenchmarkLiveLatency(b *testing.B) { atLiveRates(b, liveLatency) }

// atLiveRates runs a live benchmark at 500 and at 2 000 events/s, ten seconds each.
func atLiveRates(b *testing.B, run func(b *testing.B, perSecond int, span time.Duration)) {
	for _, r := range []int{500, 2000} {
		b.Run(fmt.Sprintf("rate=%d", r), func(b *testing.B) { run(b, r, 10*time.Second) })
	}
}

// liveRig is what serve runs for the live benchmarks: the embedded node, serve's pool, every read model.
type liveRig struct {
	ctx    context.Context
	s      *session
	pool   *pgxpool.Pool
	models []runtime.ReadModel
}

// newLiveRig opens the node and a fresh database; start runs the projections.
func newLiveRig(b *testing.B) *liveRig {
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	b.Setenv("EVENTSTORE_URL", "")
	dbURL := pgtest.NewDatabase(b)
	s, err := openSession(ctx, b.TempDir(), dbURL, true)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	models, err := readModelsNamed(nil, s.Keys)
	if err != nil {
		b.Fatal(err)
	}
	// The projections get serve's pool (openServeDB), not the session's default (four on two cores). Opened
	// on demand, its connections made the tail: a burst of batches opened new backends whose first
	// statements ran cold (LIVE_BENCH_TRACE showed every append over 60 ms in the first half second).
	pool, err := openServeDB(ctx, dbURL, len(models))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	return &liveRig{ctx: ctx, s: s, pool: pool, models: models}
}

// start runs the projections and more (the alert engine) until the benchmark ends, and returns once they
// have started (runtime.Runtime.Started: what serve's /readyz waits for before a load balancer sends it
// traffic). With LIVE_BENCH_COLD set it returns at once: the first appends then meet the start-up.
func (r *liveRig) start(b *testing.B, more ...func(context.Context) error) *runtime.Runtime {
	rt, err := newRuntime(r.ctx, r.pool, r.s.Store, r.models, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(r.ctx)
	ran := make(chan struct{})
	go func() { defer close(ran); _ = runAll(ctx, append([]func(context.Context) error{rt.Run}, more...)...) }()
	b.Cleanup(func() { cancel(); <-ran })
	if os.Getenv("LIVE_BENCH_COLD") == "" {
		select {
		case <-rt.Started():
		case <-ran:
			b.Fatal("the projections stopped before they started")
		case <-time.After(time.Minute):
			b.Fatal("the projections did not start within a minute")
		}
	}
	return rt
}

// History is which district history a live benchmark records.
type history int

const (
	// pastHistory is the demo's history up to 1 December 2026, replayed in compressed time: its years of
	// deadlines have all passed, so the alert engine raises them as fast as it can.
	pastHistory history = iota
	// presentHistory is the same district's history dated from today on, recorded as it happens: no
	// deadline falls due during the run; alerts come from what the events themselves break.
	presentHistory
)

func (h history) String() string { return [...]string{"past", "present"}[h] }

// options are the generator's options for perSecond events a second during span.
func (h history) options(perSecond int, span time.Duration) workload.Options {
	o := workload.Options{Seed: 7, Communities: 13, Target: perSecond * int(span/time.Second), Concurrency: 16,
		Until: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	if h == presentHistory {
		// Years long enough to reach Target, ending that long after today: the history starts today
		// (Until is truncated to midnight China time, so it starts at most a day before now).
		o.Years = 10
		o.Until = time.Now().AddDate(o.Years, 0, 1)
	}
	return o
}

// generate records a district history for span at perSecond through a paced sink that calls acked with
// each acknowledged append, and reports the rate achieved.
func (r *liveRig) generate(b *testing.B, h history, perSecond int, span time.Duration, acked func(eventlog.AppendResult, []eventlog.Event, time.Time)) {
	sink := &pacedSink{store: r.s.Store, limit: rate.NewLimiter(rate.Limit(perSecond), max(1, perSecond/50)), acked: acked}
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		stats, err := workload.Generate(r.ctx, h.options(perSecond, span), sink)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(stats.Events)/time.Since(start).Seconds(), "events/s")
	}
}

func liveLatency(b *testing.B, perSecond int, span time.Duration) {
	r := newLiveRig(b)
	rt := r.start(b)
	w := watchModels(r.ctx, b, r.s.Pool, r.models, rt)
	r.generate(b, pastHistory, perSecond, span, func(res eventlog.AppendResult, _ []eventlog.Event, at time.Time) { w.acked(res.Position.Commit, at) })
	lat := w.wait(b)
	b.StopTimer()
	w.mu.Lock()
	steady := slices.Clone(w.steady)
	w.mu.Unlock()
	if os.Getenv("LIVE_BENCH_PER_MODEL") != "" {
		w.mu.Lock()
		for name, ls := range w.perModel {
			slices.Sort(ls)
			if len(ls) > 0 {
				b.Logf("%-10s p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms", name, float64(ls[len(ls)/2].Microseconds())/1000,
					float64(ls[len(ls)*99/100].Microseconds())/1000, float64(ls[len(ls)-1].Microseconds())/1000)
			}
		}
		w.mu.Unlock()
	}
	reportLatencies(b, lat, "")
	reportLatencies(b, steady, "steady-")
}

// reportLatencies reports the median, p99 and maximum of lat (sorted here) as <prefix>p50-ms and so on.
func reportLatencies(b *testing.B, lat []time.Duration, prefix string) {
	if len(lat) == 0 {
		b.Fatal("nothing was timed")
	}
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), prefix+"p50-ms")
	b.ReportMetric(q(0.99), prefix+"p99-ms")
	b.ReportMetric(q(1), prefix+"max-ms")
}

// pacedSink appends through the store at most at its limiter's rate and says when each append was
// acknowledged.
type pacedSink struct {
	store workload.Sink
	limit *rate.Limiter
	acked func(eventlog.AppendResult, []eventlog.Event, time.Time)
}

func (p *pacedSink) Append(ctx context.Context, stream string, expected eventlog.Expected, events []eventlog.Event) (eventlog.AppendResult, error) {
	if err := p.limit.WaitN(ctx, min(len(events), p.limit.Burst())); err != nil {
		return eventlog.AppendResult{}, err
	}
	res, err := p.store.Append(ctx, stream, expected, events)
	if err == nil {
		p.acked(res, events, time.Now())
	}
	return res, err
}

// modelWatch times each acknowledged append until every model's checkpoint has passed it.
type modelWatch struct {
	mu      sync.Mutex
	min     uint64
	pending []ackedAppend
	lat     []time.Duration
	// steady is lat without the appends of the run's first second, when every model's first batches run
	// cold: the latency of a ledger that has been serving for a while.
	first  time.Time
	steady []time.Duration
	// perModel, with LIVE_BENCH_PER_MODEL set, times each model on its own: which one makes the tail.
	perModel map[string][]time.Duration
	seen     map[string]int // per model, how many of all acknowledged appends it has passed
	all      []ackedAppend
	// trace, with LIVE_BENCH_TRACE=FILE, gets a line per append: its acknowledgement (Unix µs) and latency
	// (µs), to see when in the run the tail happens.
	trace io.Writer
}

// ackedAppend is an append acknowledged at at, whose last event is at $all position pos.
type ackedAppend struct {
	pos uint64
	at  time.Time
}

func (w *modelWatch) acked(pos uint64, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.first.IsZero() {
		w.first = at
	}
	if pos <= w.min {
		w.seenAfter(ackedAppend{pos, at}, 0)
		return
	}
	w.pending = append(w.pending, ackedAppend{pos, at})
	if w.perModel != nil {
		w.all = append(w.all, ackedAppend{pos, at})
	}
}

// seenAfter notes that append a became visible in every model lat after its acknowledgement.
func (w *modelWatch) seenAfter(a ackedAppend, lat time.Duration) {
	w.lat = append(w.lat, lat)
	if a.at.Sub(w.first) >= time.Second {
		w.steady = append(w.steady, lat)
	}
}

// wait returns the latencies, sorted, once every acknowledged append is visible (at most a minute).
func (w *modelWatch) wait(b *testing.B) []time.Duration {
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		w.mu.Lock()
		if len(w.pending) == 0 {
			out := slices.Clone(w.lat)
			w.mu.Unlock()
			slices.Sort(out)
			return out
		}
		w.mu.Unlock()
		if time.Now().After(deadline) {
			b.Fatal("some appends never reached every read model")
		}
	}
}

// watchModels times the appends until every model has committed them: it reads, every 2 ms, the
// checkpoints the runtime rt publishes once a batch's transaction has committed (in memory: the watch costs
// the two cores nothing). LIVE_BENCH_POLL=db reads the checkpoint tables instead, as a reader of the
// database sees them: 500 queries a second of its own on the same cores, which raised the p99 at 2 000
// events/s by about a fifth (three runs each, 2026-12-06: 153 / 188 / 193 ms against 130 / 121 / 157 ms).
func watchModels(ctx context.Context, b *testing.B, pool *pgxpool.Pool, models []runtime.ReadModel, rt *runtime.Runtime) *modelWatch {
	if os.Getenv("LIVE_BENCH_POLL") == "db" {
		rt = nil
	}
	ctx, cancel := context.WithCancel(ctx)
	var parts []string
	for _, m := range models {
		parts = append(parts, "SELECT commit_pos FROM "+pgx.Identifier{runtime.SchemaOf(m.Name()), "checkpoint"}.Sanitize())
	}
	sql := "SELECT coalesce(min(commit_pos), 0) FROM (" + strings.Join(parts, " UNION ALL ") + ") c"
	w := &modelWatch{}
	if name := os.Getenv("LIVE_BENCH_TRACE"); name != "" {
		f, err := os.Create(name)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = f.Close() })
		w.trace = f
	}
	var each string
	if os.Getenv("LIVE_BENCH_PER_MODEL") != "" {
		w.perModel, w.seen = map[string][]time.Duration{}, map[string]int{}
		var named []string
		for _, m := range models {
			named = append(named, "SELECT '"+m.Name()+"', commit_pos FROM "+pgx.Identifier{runtime.SchemaOf(m.Name()), "checkpoint"}.Sanitize())
		}
		each = strings.Join(named, " UNION ALL ")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			var m int64
			if rt != nil {
				for i, s := range rt.Status() {
					if c := int64(s.Checkpoint.Commit); i == 0 || c < m {
						m = c
					}
				}
			} else if err := pool.QueryRow(ctx, sql).Scan(&m); err != nil {
				continue
			}
			now := time.Now()
			cps := map[string]uint64{}
			if each != "" {
				if rows, err := pool.Query(ctx, each); err == nil {
					for rows.Next() {
						var name string
						var cp int64
						if rows.Scan(&name, &cp) == nil {
							cps[name] = uint64(cp)
						}
					}
					rows.Close()
				}
			}
			w.mu.Lock()
			for name, cp := range cps {
				for w.seen[name] < len(w.all) && w.all[w.seen[name]].pos <= cp {
					w.perModel[name] = append(w.perModel[name], now.Sub(w.all[w.seen[name]].at))
					w.seen[name]++
				}
			}
			w.min = uint64(m)
			w.pending = slices.DeleteFunc(w.pending, func(p ackedAppend) bool {
				if p.pos <= w.min {
					w.seenAfter(p, now.Sub(p.at))
					if w.trace != nil {
						fmt.Fprintf(w.trace, "%d %d\n", p.at.UnixMicro(), now.Sub(p.at).Microseconds())
					}
					return true
				}
				return false
			})
			w.mu.Unlock()
		}
	}()
	b.Cleanup(func() { cancel(); <-done })
	return w
}
