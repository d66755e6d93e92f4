package tlog_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/projections/audittrail"
	"github.com/grassroots-ledger/ledger/projections/internal/decode/decodetest"
	"github.com/grassroots-ledger/ledger/projections/runtime"
	"github.com/grassroots-ledger/ledger/projections/tlog"
)

// BenchmarkTree builds the tree over a large history (TLOG_BENCH_EVENTS events, default 1 000 000, held in
// memory so the store's own cost is left out) with the runtime's rebuild, and the audit trail, the
// simplest of the other models, over the same history for the ratio; then asks inclusion and consistency
// proofs of the tree of that size, reporting their p50 and p99 latency.
func BenchmarkTree(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("TLOG_BENCH_EVENTS"); s != "" {
		if v, err := strconv.Atoi(s); err == nil && v > 0 {
			n = v
		}
	}
	src := decodetest.NewMemSource(nil)
	for from := 0; from < n; from += 100_000 {
		src.Append(eventsFrom(from, min(from+100_000, n))...)
	}
	pool := decodetest.NewPool(b)
	models := []runtime.ReadModel{tlog.Model{}, audittrail.Model{}}
	rt := decodetest.NewRuntime(b, pool, src, pg.Migrator(pool), models)
	ctx := context.Background()
	if err := rt.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	for _, m := range models {
		b.Run("rebuild-"+m.Name(), func(b *testing.B) {
			for range b.N {
				if err := rt.Rebuild(ctx, m, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
	tree := tlog.NewTree(pool)
	size := uint64(n)
	if got, err := tree.Size(ctx); err != nil || got != size {
		b.Fatalf("tree size %d, %v", got, err)
	}
	// Each op is 1000 queries: one run gives a p99 without rebuilding the tree b.N times.
	b.Run("inclusion", func(b *testing.B) {
		var lat []time.Duration
		for i := range 1000 * b.N {
			index := uint64(i*7919) % size
			p := uint64(10*index + 5) // as events places them
			start := time.Now()
			inc, err := tree.InclusionOf(ctx, eventlog.Position{Commit: p, Prepare: p}, size)
			lat = append(lat, time.Since(start))
			if err != nil || inc.Leaf.Index != index {
				b.Fatalf("inclusion of %d: %+v, %v", index, inc, err)
			}
		}
		reportLatency(b, lat)
	})
	b.Run("consistency", func(b *testing.B) {
		var lat []time.Duration
		for i := range 1000 * b.N {
			from := 1 + uint64(i*104729)%(size-1)
			start := time.Now()
			_, err := tree.Consistency(ctx, from, size)
			lat = append(lat, time.Since(start))
			if err != nil {
				b.Fatal(err)
			}
		}
		reportLatency(b, lat)
	})
}

func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
