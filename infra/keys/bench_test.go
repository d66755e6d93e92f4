package keys_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/esdbnode/nodetest"
	"github.com/grassroots-ledger/ledger/infra/keys"
	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"
	"github.com/grassroots-ledger/ledger/infra/workload"
)

// BenchmarkAppendPersonal is the append path of a command that records an individual payee (the
// expenditure-requested event of event(), with a name, ID number, phone and address), on the embedded
// node and a real key store: clear (as before personal data was sealed) against sealed, for a payee seen
// before (its key is in the process's cache, kept true by Listen: no round trip) and for a new payee
// each time (a spare key made ahead, in batches: no round trip on the append's path). Compare the ns/op of the sub-benchmarks of one run (make bench-compare, benchstat).
func BenchmarkAppendPersonal(b *testing.B) {
	ctx := context.Background()
	_, store := nodetest.Start(b, nil)
	pool := pgtest.NewPool(b)
	ks := open(b, pool, filepath.Join(b.TempDir(), "kek"))
	listening(b, ks)   // as serve runs it: a known payee's key comes from the process's cache,
	sparesReady(b, ks) // and a new payee's is a spare made ahead (a batch of 128 per commit, made while it runs)
	var seq atomic.Int64
	run := func(name string, appendOne func(i int, stream string, evs []eventlog.Event) error) {
		b.Run(name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				stream := fmt.Sprintf("expenditure-c1-%s-%d", name, seq.Add(1))
				if err := appendOne(i, stream, []eventlog.Event{event(stream, "p-same")}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	run("clear", func(_ int, stream string, evs []eventlog.Event) error {
		_, err := store.Append(ctx, stream, eventlog.NoStream(), evs)
		return err
	})
	run("sealed-known-payee", func(_ int, stream string, evs []eventlog.Event) error {
		_, err := ks.Append(ctx, store, stream, eventlog.NoStream(), evs)
		return err
	})
	run("sealed-new-payee", func(_ int, stream string, _ []eventlog.Event) error {
		// stream is new for every op of every run: so is the payee named after it
		_, err := ks.Append(ctx, store, stream, eventlog.NoStream(), []eventlog.Event{event(stream, "p-"+stream)})
		return err
	})
}

// sealedSink seals what the workload generator appends, as serve's store does.
type sealedSink struct {
	ks    *keys.Store
	inner keys.Appender
}

func (s sealedSink) Append(ctx context.Context, stream string, expected eventlog.Expected, events []eventlog.Event) (eventlog.AppendResult, error) {
	return s.ks.Append(ctx, s.inner, stream, expected, events)
}

// BenchmarkDemoAppends writes the demo's history of two communities over a year (every append the
// clerks of a real district make, a third of them with personal data, most about people recorded before)
// into a fresh embedded node, clear and sealed with a fresh key store: the cost of sealing on a realistic
// mix of appends, each person's first record (which takes a spare key) included.
func BenchmarkDemoAppends(b *testing.B) {
	ctx := context.Background()
	opts := workload.Options{Seed: 5, Communities: 2, Years: 1, Until: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), Concurrency: 4}
	for _, sealed := range []bool{false, true} {
		name := map[bool]string{false: "clear", true: "sealed"}[sealed]
		b.Run(name, func(b *testing.B) {
			var events int
			for b.Loop() {
				b.StopTimer()
				_, store := nodetest.Start(b, nil)
				var sink workload.Sink = store
				if sealed { // a fresh key store: every person's first record takes a spare key
					pool := pgtest.NewPool(b)
					ks := open(b, pool, filepath.Join(b.TempDir(), "kek"))
					listening(b, ks)
					sparesReady(b, ks) // made while the process starts; refills are timed
					sink = sealedSink{ks, store}
				}
				b.StartTimer()
				stats, err := workload.Generate(ctx, opts, sink)
				if err != nil {
					b.Fatal(err)
				}
				events = stats.Events
			}
			b.ReportMetric(float64(events), "events/op")
		})
	}
}
