package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
)

// benchStore is a store on a fresh embedded node.
func benchStore(b *testing.B) *eventstore.Store {
	b.Helper()
	node := openNodeB(b, b.TempDir())
	b.Cleanup(func() { node.Close() })
	st, err := eventstore.Dial(context.Background(), eventstore.Config{URL: node.URL(), Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

func benchEvents(cmd string, n int) []eventlog.Event {
	evs := make([]eventlog.Event, n)
	for i := range evs {
		evs[i] = eventlog.Event{
			ID:   eventlog.DeriveID(cmd, i),
			Type: "funds.disbursement-approved",
			Data: []byte(`{"disbursement_id":"2026-0042","amount_fen":1250000,"approved_by":"person-17","resolution":"2026-03"}`),
			Meta: eventlog.Metadata{SchemaVersion: 1, CommunityID: "330303001001", Jurisdiction: "33/3303/330303/330303001/330303001001",
				Actor: "clerk:17", CommandID: cmd, CorrelationID: "req-" + cmd, OccurredAt: time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)},
		}
	}
	return evs
}

// fill appends n events in batches of 100 to 10 streams.
func fill(b *testing.B, st *eventstore.Store, n int) {
	b.Helper()
	ctx := context.Background()
	for i := 0; i < n; i += 100 {
		stream := fmt.Sprintf("disbursement-330303001001-%d", i/100%10)
		if _, err := st.Append(ctx, stream, eventlog.Any(), benchEvents(fmt.Sprintf("fill-%d", i), min(100, n-i))); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendSequential(b *testing.B) {
	st := benchStore(b)
	ctx := context.Background()
	exp := eventlog.NoStream()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		evs := benchEvents(fmt.Sprintf("seq-%d", i), 1)
		res, err := st.Append(ctx, "bench-seq", exp, evs)
		if err != nil {
			b.Fatal(err)
		}
		exp = eventlog.At(res.Revision, evs[0].Meta.Hash)
	}
}

func BenchmarkAppendParallel(b *testing.B) {
	st := benchStore(b)
	var n atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := n.Add(1)
		stream := fmt.Sprintf("bench-par-%d", w)
		exp := eventlog.NoStream()
		for i := 0; pb.Next(); i++ {
			evs := benchEvents(fmt.Sprintf("par-%d-%d", w, i), 1)
			res, err := st.Append(context.Background(), stream, exp, evs)
			if err != nil {
				b.Error(err)
				return
			}
			exp = eventlog.At(res.Revision, evs[0].Meta.Hash)
		}
	})
}

func BenchmarkReadAll(b *testing.B) {
	st := benchStore(b)
	const n = 100_000
	fill(b, st, n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		count := 0
		if err := st.ReadAll(context.Background(), eventlog.Start, 0, func(eventlog.Recorded) error { count++; return nil }); err != nil {
			b.Fatal(err)
		}
		if count != n {
			b.Fatalf("read %d events, want %d", count, n)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkSubscribeAllCatchUp(b *testing.B) {
	st := benchStore(b)
	const n = 100_000
	fill(b, st, n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		count := 0
		errDone := errors.New("done")
		err := st.SubscribeAll(context.Background(), eventlog.Start, eventlog.Filter{}, func(d eventlog.Delivery) error {
			if d.Event != nil {
				count++
				if count == n {
					return errDone
				}
			}
			return nil
		})
		if err != errDone {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
}
