package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
)

// BenchmarkBatchHandoff measures how a batch of 1000 decoded events reaches a model's handler through a
// Watermill message: carried by reference in the message context (what the runtime does) or encoded into
// the payload as JSON and decoded again (what a broker-backed pub/sub would need).
func BenchmarkBatchHandoff(b *testing.B) {
	events := make([]eventlog.Recorded, 1000)
	for i := range events {
		events[i] = eventlog.Recorded{
			Event: eventlog.Event{ID: eventlog.DeriveID("cmd", i), Type: "funds.expenditure-requested",
				Data: []byte(fmt.Sprintf(`{"amount_fen":%d,"purpose":"道路硬化工程第%d期","payee":"某某建筑有限公司"}`, i*100, i)),
				Meta: eventlog.Metadata{SchemaVersion: 2, CommunityID: "330303001001", Jurisdiction: "33/3303/330303/330303001/330303001001",
					Actor: "clerk:1", CommandID: fmt.Sprint("cmd-", i), CorrelationID: "corr", OccurredAt: time.Now(),
					PrevHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Hash: "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"}},
			Stream: "disbursement-330303001001-2026-0042", Revision: uint64(i), Position: eventlog.Position{Commit: uint64(i + 1), Prepare: uint64(i + 1)},
			Created: time.Now(),
		}
	}
	b.Run("context", func(b *testing.B) {
		bt := &batch{events: events, last: events[len(events)-1].Position}
		for i := 0; i < b.N; i++ {
			msg := message.NewMessage("tally@1000/1000", []byte(bt.from.String()+" "+bt.last.String()+" 1000"))
			msg.SetContext(context.WithValue(context.Background(), batchKey{}, bt))
			got, ok := batchOf(msg)
			if !ok || len(got.events) != 1000 {
				b.Fatal("lost the batch")
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/event")
	})
	b.Run("json", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			payload, err := json.Marshal(events)
			if err != nil {
				b.Fatal(err)
			}
			msg := message.NewMessage("tally@1000/1000", payload)
			var got []eventlog.Recorded
			if err := json.Unmarshal(msg.Payload, &got); err != nil || len(got) != 1000 {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/event")
	})
}
