package keys_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/esdbnode/nodetest"
	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"
)

// BenchmarkAppendPersonal is the append path of a command that records an individual payee (the
// expenditure-requested event of event(), with a name, ID number, phone and address), on the embedded
// node and a real key store: clear (as before personal data was sealed) against sealed, for a payee seen
// before (its key is in the process's cache, kept true by Listen: no round trip) and for a new payee
// each time (the key is made and stored first: one round trip and one commit). Compare the ns/op of the sub-benchmarks of one run (make bench-compare, benchstat).
func BenchmarkAppendPersonal(b *testing.B) {
	ctx := context.Background()
	_, store := nodetest.Start(b, nil)
	pool := pgtest.NewPool(b)
	ks := open(b, pool, filepath.Join(b.TempDir(), "kek"))
	listening(b, ks) // as serve runs it: a known payee's key comes from the process's cache
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
