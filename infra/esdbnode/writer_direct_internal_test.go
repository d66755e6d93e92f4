package esdbnode

import (
	"context"
	"encoding/binary"
	"testing"
)

// BenchmarkWriterDirect is a single writer's durable append straight into the node's writer, without gRPC
// or the client: with BenchmarkBboltBaseline (the floor) and BenchmarkAppend/writers=1 (the whole path) it
// says where a single append's time goes — the store, or the protocol.
func BenchmarkWriterDirect(b *testing.B) {
	n, err := Open(context.Background(), Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	data := make([]byte, 600)
	ctx := context.Background()
	var rev uint64
	b.ResetTimer()
	for i := range b.N {
		p := proposed{eventType: []byte("Benchmarked"), contentType: []byte("application/json"), data: data}
		binary.BigEndian.PutUint64(p.id[:8], uint64(i)+1)
		exp := expectation{kind: expectNoStream}
		if i > 0 {
			exp = expectation{kind: expectExact, rev: rev}
		}
		res := n.writer.submit(ctx, &appendRequest{stream: []byte("bench-direct"), expected: exp, events: []proposed{p}})
		if res.err != nil || res.wrongVersion {
			b.Fatalf("append %d: %+v", i, res)
		}
		rev = res.lastRev
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
