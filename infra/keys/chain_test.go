package keys_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/esdbnode/nodetest"
	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"
	"github.com/grassroots-ledger/ledger/infra/workload"
)

// The sealed store keeps the store's Append contract: the caller's events come back holding the chain's
// hashes, so a caller that continues a stream from its own last event continues the chain. The demo
// generator does (it appends a stream in segments while others are in flight); generated through the
// sealed store, as `ledger demo` and `serve --demo` do, every stream of its history verifies. From
// 2026-12-05 to this test it did not: each stream's second segment was chained to an empty hash.
func TestTheSealedStoreKeepsTheChain(t *testing.T) {
	ctx := context.Background()
	_, store := nodetest.Start(t, nil)
	ks := open(t, pgtest.NewPool(t), filepath.Join(t.TempDir(), "kek"))
	listening(t, ks)

	evs := []eventlog.Event{event("chain-1", "p1"), event("chain-2", "p2")}
	if _, err := ks.Append(ctx, store, "expenditure-c1-chain", eventlog.NoStream(), evs); err != nil {
		t.Fatal(err)
	}
	recs, err := store.Load(ctx, "expenditure-c1-chain")
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		if evs[i].Meta.Hash != recs[i].Meta.Hash || evs[i].Meta.PrevHash != recs[i].Meta.PrevHash {
			t.Fatalf("event %d came back with hash %q after %q; the store holds %q after %q", i,
				evs[i].Meta.Hash, evs[i].Meta.PrevHash, recs[i].Meta.Hash, recs[i].Meta.PrevHash)
		}
	}
	if string(evs[0].Data) == string(recs[0].Data) {
		t.Fatal("the personal data was not sealed")
	}

	stats, err := workload.Generate(ctx, workload.Options{Seed: 5, Communities: 2, Years: 1,
		Until: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), Concurrency: 4}, sealedSink{ks, store})
	if err != nil {
		t.Fatal(err)
	}
	chains := map[string]*eventlog.ChainVerifier{}
	continued := 0 // streams written in more than one append
	n := 0
	err = store.ReadAll(ctx, eventlog.Start, 0, func(r eventlog.Recorded) error {
		if eventlog.SystemStream(r.Stream) {
			return nil
		}
		v := chains[r.Stream]
		if v == nil {
			v = &eventlog.ChainVerifier{}
			chains[r.Stream] = v
		}
		if r.Revision > 0 && r.Meta.PrevHash != "" && v.Tail() != "" {
			continued++
		}
		n++
		return v.Next(r)
	})
	if err != nil {
		t.Fatalf("the demo's history, appended through the sealed store: %v", err)
	}
	if n != stats.Events+len(evs) || continued == 0 {
		t.Fatalf("read %d events (%d continuing a stream), generated %d", n, continued, stats.Events+len(evs))
	}
}
