package esdbnode_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"

	"github.com/grassroots-ledger/ledger/infra/esdbnode"
)

// Benchmarks go through the real client over real gRPC on loopback, as the ledger does. Report the machine
// with the figures (go test -bench prints goos/goarch/cpu).

// BenchmarkAppend measures durable single-event appends from concurrent writers, each on its own stream with
// exact expected revisions, as command handlers do. It reports events/s and the p99 latency of an append.
func BenchmarkAppend(b *testing.B) {
	for _, writers := range []int{1, 32} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			n := startNode(b, "")
			c := newClient(b, n.URL())
			ctx := context.Background()
			var next atomic.Int64
			lat := make([][]time.Duration, writers)
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					stream := fmt.Sprintf("bench-%d-%s", w, uuid.NewString())
					var rev esdb.ExpectedRevision = esdb.NoStream{}
					for next.Add(1) <= int64(b.N) {
						t0 := time.Now()
						res, err := c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: rev}, ev("Benchmarked", `{"amount":12345,"currency":"CNY"}`))
						if err != nil {
							b.Error(err)
							return
						}
						lat[w] = append(lat[w], time.Since(t0))
						rev = esdb.Revision(res.NextExpectedVersion)
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			all := slices.Concat(lat...)
			slices.Sort(all)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
			if len(all) > 0 {
				b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
			}
		})
	}
}

// BenchmarkReadStreamOfOneEvent measures the smallest read, a stream of one event read whole, as a command
// loads its aggregate: what a read costs beside the events it carries.
func BenchmarkReadStreamOfOneEvent(b *testing.B) {
	n := startNode(b, "")
	c := newClient(b, n.URL())
	ctx := context.Background()
	if _, err := c.AppendToStream(ctx, "one", esdb.AppendToStreamOptions{}, ev("Recorded", `{"amount":12345}`)); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		s, err := c.ReadStream(ctx, "one", esdb.ReadStreamOptions{}, 100)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Recv(); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Recv(); !errors.Is(err, io.EOF) {
			b.Fatalf("after the one event: %v", err)
		}
		s.Close()
	}
}

// BenchmarkAppendBatch1000 measures appends of 1000 events each (an import, a rebuild's re-append).
func BenchmarkAppendBatch1000(b *testing.B) {
	n := startNode(b, "")
	c := newClient(b, n.URL())
	ctx := context.Background()
	batches := make([][]esdb.EventData, b.N)
	for i := range batches {
		batches[i] = evs(1000, "Imported")
	}
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if _, err := c.AppendToStream(ctx, fmt.Sprintf("import-%d", i%10), esdb.AppendToStreamOptions{}, batches[i]...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/time.Since(start).Seconds(), "events/s")
}

// The 1M-event benchmarks share one store, filled once per test binary run (or reused across runs when
// ESDBNODE_BENCH_DIR names a directory: it is filled if empty and kept).
const millionEvents = 1_000_000

var (
	millionOnce sync.Once
	millionDir  string
	millionErr  error
	cleanupDirs []string
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range cleanupDirs {
		_ = os.RemoveAll(d)
	}
	os.Exit(code)
}

// filledStore returns the directory of a closed store holding millionEvents events.
func filledStore(b *testing.B) string {
	b.Helper()
	millionOnce.Do(func() {
		dir := os.Getenv("ESDBNODE_BENCH_DIR")
		if dir == "" {
			if dir, millionErr = os.MkdirTemp("", "esdbnode-1m-"); millionErr != nil {
				return
			}
			cleanupDirs = append(cleanupDirs, dir)
		}
		millionDir = dir
		millionErr = fillMillion(dir)
	})
	if millionErr != nil {
		b.Fatalf("fill 1M store: %v", millionErr)
	}
	return millionDir
}

// fillMillion appends events in batches of 5000 through the client, 1000 streams of 1000 events, with a payload
// shaped like a ledger event (≈200 bytes of JSON data, ≈150 bytes of metadata).
func fillMillion(dir string) error {
	ctx := context.Background()
	n, err := esdbnode.Open(ctx, esdbnode.Config{Dir: dir, Logger: quietLogger()})
	if err != nil {
		return err
	}
	defer n.Close()
	cfg, err := esdb.ParseConnectionString(n.URL())
	if err != nil {
		return err
	}
	cfg.Logger = esdb.NoopLogging()
	c, err := esdb.NewClient(cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	have := 0
	if rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1); err == nil {
		if e, err := rs.Recv(); err == nil {
			have = int(e.OriginalEvent().Position.Commit)
		}
		rs.Close()
	}
	start := time.Now()
	const batch = 5000
	data := []byte(`{"community":"330303001001","amount":{"value":125000,"currency":"CNY"},"payee":"村道硬化工程施工队","purpose":"村道硬化二期工程进度款","resolution":"2026-07"}`)
	meta := []byte(`{"schema":1,"actor":"clerk-0042","command":"6f1c2d3e-0000-4000-8000-000000000000","correlation":"c0ffee00-0000-4000-8000-000000000000","prev_hash":"3a7bd3e2360a3d29eea436fcfb7e44c735d117c4"}`)
	for have < millionEvents {
		k := min(batch, millionEvents-have)
		events := make([]esdb.EventData, k)
		for i := range events {
			events[i] = esdb.EventData{EventID: uuid.New(), EventType: "funds.disbursement-requested",
				ContentType: esdb.ContentTypeJson, Data: data, Metadata: meta}
		}
		stream := fmt.Sprintf("disbursement-330303001001-%04d", (have/batch)%1000)
		if _, err := c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{}, events...); err != nil {
			return fmt.Errorf("fill at %d: %w", have, err)
		}
		have += k
	}
	fmt.Fprintf(os.Stderr, "filled %s with %d events in %v\n", dir, have, time.Since(start).Round(time.Millisecond))
	return nil
}

// BenchmarkReadAll1M reads all 1 000 000 events of $all forwards through the client.
func BenchmarkReadAll1M(b *testing.B) {
	dir := filledStore(b)
	n := startNode(b, dir)
	c := newClient(b, n.URL())
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{}, millionEvents)
		if err != nil {
			b.Fatal(err)
		}
		got := 0
		for {
			_, err := rs.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			got++
		}
		rs.Close()
		if got != millionEvents {
			b.Fatalf("read %d events", got)
		}
	}
	b.ReportMetric(float64(b.N*millionEvents)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkCatchUpSubscription1M subscribes to $all from the start and receives the 1 000 000 events of
// history (a projection rebuild).
func BenchmarkCatchUpSubscription1M(b *testing.B) {
	dir := filledStore(b)
	n := startNode(b, dir)
	c := newClient(b, n.URL())
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		sub, err := c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: esdb.Start{}})
		if err != nil {
			b.Fatal(err)
		}
		got := 0
		for got < millionEvents {
			e := sub.Recv()
			switch {
			case e.SubscriptionDropped != nil:
				b.Fatalf("dropped after %d: %v", got, e.SubscriptionDropped.Error)
			case e.EventAppeared != nil:
				got++
			}
		}
		_ = sub.Close()
	}
	b.ReportMetric(float64(b.N*millionEvents)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkOpen1M measures Open (and Close) of the node holding 1 000 000 events.
func BenchmarkOpen1M(b *testing.B) {
	dir := filledStore(b)
	var opening time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		n, err := esdbnode.Open(context.Background(), esdbnode.Config{Dir: dir, Logger: quietLogger()})
		if err != nil {
			b.Fatal(err)
		}
		opening += time.Since(t0)
		if err := n.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(opening.Milliseconds())/float64(b.N), "open-ms")
}

// rawCodec counts response bytes instead of decoding them, to measure the node without the client's decoding.
type rawCodec struct{ proto encoding.CodecV2 }

func (c rawCodec) Marshal(v any) (mem.BufferSlice, error) { return c.proto.Marshal(v) }
func (c rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*(v.(*int)) += data.Len()
	return nil
}
func (c rawCodec) Name() string { return "proto" }

// BenchmarkReadAll1MRawFrames is a diagnostic companion of BenchmarkReadAll1M: the same read over gRPC, but
// the responses are counted, not decoded, so it shows what the node and the transport deliver; the difference
// to BenchmarkReadAll1M is the official client's decoding.
func BenchmarkReadAll1MRawFrames(b *testing.B) {
	dir := filledStore(b)
	n := startNode(b, dir)
	conn := rawConn(b, n)
	codec := rawCodec{proto: encoding.GetCodecV2("proto")}
	req := &streams.ReadReq{Options: &streams.ReadReq_Options{
		StreamOption: &streams.ReadReq_Options_All{All: &streams.ReadReq_Options_AllOptions{
			AllOption: &streams.ReadReq_Options_AllOptions_Start{Start: &shared.Empty{}}}},
		CountOption:  &streams.ReadReq_Options_Count{Count: millionEvents},
		FilterOption: &streams.ReadReq_Options_NoFilter{NoFilter: &shared.Empty{}},
		UuidOption: &streams.ReadReq_Options_UUIDOption{Content: &streams.ReadReq_Options_UUIDOption_Structured{
			Structured: &shared.Empty{}}},
	}}
	b.ResetTimer()
	start := time.Now()
	bytes := 0
	for range b.N {
		st, err := conn.NewStream(context.Background(), &grpc.StreamDesc{ServerStreams: true},
			"/event_store.client.streams.Streams/Read", grpc.ForceCodecV2(codec))
		if err != nil {
			b.Fatal(err)
		}
		if err := st.SendMsg(req); err != nil {
			b.Fatal(err)
		}
		_ = st.CloseSend()
		got := 0
		for {
			if err := st.RecvMsg(&bytes); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				b.Fatal(err)
			}
			got++
		}
		if got != millionEvents {
			b.Fatalf("read %d events", got)
		}
	}
	elapsed := time.Since(start).Seconds()
	b.ReportMetric(float64(b.N*millionEvents)/elapsed, "events/s")
	b.ReportMetric(float64(bytes)/elapsed/1e6, "MB/s")
}

// BenchmarkBboltBaseline is the floor a single writer's durable append is compared with: an event store
// inside the process on bbolt, with no network and no protocol, as the peer hallgren/eventsourcing's bbolt
// store is (each save one bbolt transaction, fsynced). One op puts one 600-byte event under its global
// sequence number and its stream's index entry in one Update transaction, with the node's own bbolt
// options. BenchmarkAppend/writers=1 over the same sizes shows what the gRPC node adds on top.
func BenchmarkBboltBaseline(b *testing.B) {
	db, err := bolt.Open(b.TempDir()+"/baseline.db", 0o600, &bolt.Options{Timeout: time.Second,
		FreelistType: bolt.FreelistMapType, InitialMmapSize: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	data := make([]byte, 600)
	var seq uint64
	b.ResetTimer()
	for range b.N {
		err := db.Update(func(tx *bolt.Tx) error {
			evs, err := tx.CreateBucketIfNotExists([]byte("events"))
			if err != nil {
				return err
			}
			idx, err := tx.CreateBucketIfNotExists([]byte("streams"))
			if err != nil {
				return err
			}
			seq++
			var k [8]byte
			binary.BigEndian.PutUint64(k[:], seq)
			if err := evs.Put(k[:], data); err != nil {
				return err
			}
			return idx.Put(append([]byte("bench-stream/"), k[:]...), k[:])
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
