package decode_test

import (
	"context"

	"fmt"
	"os"
	goruntime "runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/projections/board"
	"github.com/grassroots-ledger/ledger/projections/directory"
	"github.com/grassroots-ledger/ledger/projections/elections"
	"github.com/grassroots-ledger/ledger/projections/finances"
	"github.com/grassroots-ledger/ledger/projections/internal/decode/decodetest"
	"github.com/grassroots-ledger/ledger/projections/meetings"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// models are the five public read models, fresh.
func models() []runtime.ReadModel {
	return []runtime.ReadModel{directory.New(), board.New(), finances.New(nil), elections.New(), meetings.New()}
}

func schemas() []string {
	var out []string
	for _, m := range models() {
		out = append(out, runtime.SchemaOf(m.Name()))
	}
	return out
}

// cpuTime is the CPU time this process has used (user and system), to tell the Go side's share of a
// rebuild from PostgreSQL's.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRebuildModelsInMemory rebuilds the five models from a generated history of LEDGER_BENCH_EVENTS events
// (default 1 000 000; ~1 000 communities acting interleaved, so an aggregate's events are thousands of
// positions apart, as in a real district) held in memory outside the scanned heap, through the real
// runtime: Runtime.Rebuild reads $all in pages of RebuildBatch, applies each page in one transaction,
// writes a shadow schema and swaps it in. "all/sequential" rebuilds the models one after the other,
// "all/concurrent" all five at once; both for the runtime's default page (5000) and a larger one (20000),
// since an aggregate whose events fall into fewer pages is loaded and rewritten fewer times. The per-model
// runs show where the time goes.
//
// events/s counts the history's events once per rebuild of all models. go-cpu-s/op is this process's CPU
// time (decoding, encoding, the runtime): PostgreSQL's is the rest, which matters on a shared machine.
// Reading the event store is left out (projections/runtime BenchmarkRebuild measures the embedded node);
// what an operator runs, every model from the store through the command, is cmd/ledger BenchmarkRebuildAll.
// LEDGER_BENCH_CPUPROFILE=file profiles the timed part of each sub-benchmark into file.<name>.
func BenchmarkRebuildModelsInMemory(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("LEDGER_BENCH_EVENTS"); s != "" {
		if v, err := strconv.Atoi(s); err == nil && v > 0 {
			n = v
		}
	}
	began := time.Now()
	h := decodetest.Generate(decodetest.GenConfig{Events: n, Seed: 1})
	src := decodetest.NewMemSource(h.Events)
	counts := map[string]int{}
	for _, e := range h.Events {
		counts[strings.SplitN(e.Type, ".", 2)[0]]++
	}
	events, head := len(h.Events), h.Head()
	h = nil // the source holds the history outside the scanned heap, as a store would
	goruntime.GC()
	b.Logf("history: %d events generated in %s, by kind %v", events, time.Since(began).Round(time.Millisecond), counts)
	rebuild := func(b *testing.B, ms []runtime.ReadModel, concurrent bool, batch int) {
		pool := decodetest.NewPool(b)
		rt := decodetest.NewRuntime(b, pool, src, pg.Migrator(pool), models(), func(c *runtime.Config) { c.RebuildBatch = batch })
		var total time.Duration
		if f := os.Getenv("LEDGER_BENCH_CPUPROFILE"); f != "" { // the timed part only, one file per sub-benchmark
			out, err := os.Create(f + "." + strings.NewReplacer("/", "_", "=", "").Replace(b.Name()))
			if err != nil {
				b.Fatal(err)
			}
			if err := pprof.StartCPUProfile(out); err != nil {
				b.Fatal(err)
			}
			defer func() { pprof.StopCPUProfile(); _ = out.Close() }()
		}
		cpu0 := cpuTime()
		for i := 0; i < b.N; i++ {
			start := time.Now()
			errs := make(chan error, len(ms))
			for _, m := range ms {
				if concurrent {
					go func() { errs <- rt.Rebuild(context.Background(), m, nil) }()
				} else {
					errs <- rt.Rebuild(context.Background(), m, nil)
				}
			}
			for range ms {
				if err := <-errs; err != nil {
					b.Fatal(err)
				}
			}
			total += time.Since(start)
		}
		b.ReportMetric(float64(events)*float64(b.N)/total.Seconds(), "events/s")
		b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "go-cpu-s/op")
		for _, m := range ms {
			if cp := decodetest.Checkpoint(b, pool, runtime.SchemaOf(m.Name())); cp != head {
				b.Fatalf("%s rebuilt up to %s, want %s", m.Name(), cp, head)
			}
		}
		var sizes []string
		for _, m := range ms {
			var size string
			if err := pool.QueryRow(context.Background(), `SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid)))
				FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`,
				runtime.SchemaOf(m.Name())).Scan(&size); err == nil {
				sizes = append(sizes, m.Name()+"="+size)
			}
		}
		sort.Strings(sizes)
		b.Logf("table sizes: %s", strings.Join(sizes, " "))
	}
	for _, batch := range []int{5000, 20000} {
		b.Run(fmt.Sprintf("all/sequential/batch=%d", batch), func(b *testing.B) { rebuild(b, models(), false, batch) })
		b.Run(fmt.Sprintf("all/concurrent/batch=%d", batch), func(b *testing.B) { rebuild(b, models(), true, batch) })
	}
	for _, m := range models() {
		b.Run("model/"+m.Name(), func(b *testing.B) { rebuild(b, []runtime.ReadModel{m}, false, 5000) })
	}
}
