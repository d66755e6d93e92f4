package audit

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"golang.org/x/sync/errgroup"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
)

// history appends a small valid history through the adapter: three streams of community A, one of B.
func history(t *testing.T, st *eventstore.Store) {
	t.Helper()
	mustAppend(t, st, "expenditure-"+commA+"-1", eventlog.NoStream(), synth("a1", "funds.expenditure-requested", commA, pathA, 3))
	mustAppend(t, st, "expenditure-"+commA+"-2", eventlog.NoStream(), synth("a2", "funds.expenditure-requested", commA, pathA, 2))
	mustAppend(t, st, "expenditure-"+commB+"-1", eventlog.NoStream(), synth("b1", "funds.expenditure-requested", commB, pathB, 4))
	mustAppend(t, st, "expenditure-"+commA+"-1", eventlog.Any(), synth("a1b", "funds.expenditure-approved", commA, pathA, 2))
}

func verify(t *testing.T, st Store, opts VerifyOptions) VerifyReport {
	t.Helper()
	rep, err := newAuditor(t, st, nil).Verify(context.Background(), opts)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return rep
}

func TestVerifyIntactHistory(t *testing.T) {
	t.Parallel()
	n := openNode(t, t.TempDir())
	history(t, n.store)
	var calls atomic.Int32
	rep := verify(t, n.store, VerifyOptions{ProgressEvery: 2, Progress: func(VerifyProgress) { calls.Add(1) }})
	if !rep.Intact || rep.Break != nil {
		t.Fatalf("intact history reported broken: %+v", rep)
	}
	if rep.Events != 11 || rep.Streams != 3 {
		t.Fatalf("verified %d events in %d streams, want 11 in 3", rep.Events, rep.Streams)
	}
	if want := "verified 11 events in 3 streams, all chains intact"; rep.Message != want {
		t.Fatalf("message %q, want %q", rep.Message, want)
	}
	if rep.Last != rep.Head || rep.Head.IsZero() {
		t.Fatalf("read to %s, head %s", rep.Last, rep.Head)
	}
	if calls.Load() < 5 {
		t.Fatalf("progress called %d times", calls.Load())
	}
}

func TestVerifyEmptyStore(t *testing.T) {
	t.Parallel()
	n := openNode(t, t.TempDir())
	rep := verify(t, n.store, VerifyOptions{})
	if !rep.Intact || rep.Events != 0 || rep.Message != "verified 0 events in 0 streams, all chains intact" {
		t.Fatalf("%+v", rep)
	}
}

// wantBreak checks that the report names exactly this event as the first break, for the reason given.
func wantBreak(t *testing.T, rep VerifyReport, want eventlog.Recorded, reason string) {
	t.Helper()
	if rep.Intact || rep.Break == nil {
		t.Fatalf("want a break at %s@%d, report says intact: %+v", want.Stream, want.Revision, rep)
	}
	b := rep.Break
	if b.Stream != want.Stream || b.Revision != want.Revision || b.EventID != want.ID.String() || b.Position != want.Position || b.EventType != want.Type {
		t.Fatalf("break reported at %s@%d %s %s (%s), want %s@%d %s %s (%s)", b.Stream, b.Revision, b.EventID, b.Position, b.EventType,
			want.Stream, want.Revision, want.ID, want.Position, want.Type)
	}
	if !strings.Contains(b.Reason, reason) {
		t.Fatalf("reason %q does not say %q", b.Reason, reason)
	}
	if !strings.HasPrefix(rep.Message, "hash chain broken at stream "+want.Stream+" revision "+fmt.Sprint(want.Revision)+", event "+want.ID.String()) {
		t.Fatalf("message %q", rep.Message)
	}
}

// find returns the recorded event of stream at revision.
func find(t *testing.T, all []eventlog.Recorded, stream string, rev uint64) eventlog.Recorded {
	t.Helper()
	for _, r := range all {
		if r.Stream == stream && r.Revision == rev {
			return r
		}
	}
	t.Fatalf("no %s@%d in $all", stream, rev)
	return eventlog.Recorded{}
}

// An event whose content was altered after its hash was computed, written with self-consistent bytes
// (the node's record checksums are fine: the attacker wrote through the protocol), is found by its hash.
func TestVerifyFindsAlteredEvent(t *testing.T) {
	t.Parallel()
	n := openNode(t, t.TempDir())
	history(t, n.store)
	stream := "expenditure-" + commA + "-2"
	loaded, err := n.store.Load(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	evs := synth("a2-pay", "funds.expenditure-paid", commA, pathA, 1)
	eventlog.Seal(stream, loaded[len(loaded)-1].Meta.Hash, evs) // the genuine hash of the genuine event
	evs[0].Data = []byte(`{"n":0,"amount_fen":9900000,"purpose":"村道硬化工程进度款","payee":"李四"}`)
	appendRaw(t, n.raw(t), stream, esdb.Revision(1), evs...)
	mustAppend(t, n.store, "expenditure-"+commB+"-2", eventlog.NoStream(), synth("b2", "funds.expenditure-requested", commB, pathB, 2))

	rep := verify(t, n.store, VerifyOptions{Workers: 3})
	wantBreak(t, rep, find(t, readAll(t, n.store), stream, 2), "content hashes to")
}

// An event carrying the metadata (and so the hash links) of an event of another stream: the hash covers
// the stream name, so a copy never verifies where it was put.
func TestVerifyFindsMetadataCopiedFromAnotherStream(t *testing.T) {
	t.Parallel()
	n := openNode(t, t.TempDir())
	history(t, n.store)
	all := readAll(t, n.store)
	donor := find(t, all, "expenditure-"+commB+"-1", 0)
	// expenditure-A-3 is a new stream: the copied first event of B's stream has prev_hash "" as a first
	// event must, and a hash that is valid for B's stream.
	copied := donor.Event
	copied.ID = eventlog.DeriveID("forged", 0)
	appendRaw(t, n.raw(t), "expenditure-"+commA+"-3", esdb.NoStream{}, copied)

	rep := verify(t, n.store, VerifyOptions{})
	wantBreak(t, rep, find(t, readAll(t, n.store), "expenditure-"+commA+"-3", 0), "content hashes to")
}

// An event removed from a stream: the chain appended skips one event, so the next event's prev_hash
// names a hash that is not its predecessor's.
func TestVerifyFindsRemovedEvent(t *testing.T) {
	t.Parallel()
	n := openNode(t, t.TempDir())
	history(t, n.store)
	stream := "expenditure-" + commA + "-2"
	loaded, err := n.store.Load(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	// The genuine continuation is paid (revision 2) then closed (revision 3); paid is "removed": closed is
	// appended at revision 2, linked to the hash paid had.
	paid := synth("a2-pay", "funds.expenditure-paid", commA, pathA, 1)
	paidHash := eventlog.Seal(stream, loaded[1].Meta.Hash, paid)
	closed := synth("a2-close", "funds.expenditure-closed", commA, pathA, 1)
	mustAppend(t, n.store, stream, eventlog.At(1, paidHash), closed)

	rep := verify(t, n.store, VerifyOptions{})
	wantBreak(t, rep, find(t, readAll(t, n.store), stream, 2), "does not match the previous event's hash")
}

// A gap in revisions (what a removed event leaves on a server that keeps revision numbers): the event
// after it is reported.
func TestVerifyFindsRevisionGap(t *testing.T) {
	t.Parallel()
	all := []eventlog.Recorded{}
	evs := synth("g", "funds.expenditure-requested", commA, pathA, 4)
	eventlog.Seal("expenditure-"+commA+"-9", "", evs)
	for i, e := range evs {
		if i == 2 {
			continue
		}
		all = append(all, eventlog.Recorded{Event: e, Stream: "expenditure-" + commA + "-9", Revision: uint64(i),
			Position: eventlog.Position{Commit: uint64(10 + i), Prepare: uint64(10 + i)}})
	}
	rep := verify(t, sliceStore(all), VerifyOptions{})
	wantBreak(t, rep, all[2], "expected revision 2 next")
}

// $all positions must strictly increase.
func TestVerifyFindsPositionOutOfOrder(t *testing.T) {
	t.Parallel()
	a := synth("p", "funds.expenditure-requested", commA, pathA, 1)
	b := synth("q", "funds.expenditure-requested", commA, pathA, 1)
	eventlog.Seal("expenditure-"+commA+"-1", "", a)
	eventlog.Seal("expenditure-"+commA+"-2", "", b)
	all := []eventlog.Recorded{
		{Event: a[0], Stream: "expenditure-" + commA + "-1", Position: eventlog.Position{Commit: 20, Prepare: 20}},
		{Event: b[0], Stream: "expenditure-" + commA + "-2", Position: eventlog.Position{Commit: 20, Prepare: 20}},
	}
	rep := verify(t, sliceStore(all), VerifyOptions{})
	wantBreak(t, rep, all[1], "does not come after")
}

// With several breaks in streams checked by different workers, the first in $all order is reported.
func TestVerifyReportsTheFirstBreak(t *testing.T) {
	t.Parallel()
	var all []eventlog.Recorded
	pos := uint64(0)
	for s := range 40 {
		stream := fmt.Sprintf("expenditure-%s-%d", commA, s)
		evs := synth(stream, "funds.expenditure-requested", commA, pathA, 30)
		eventlog.Seal(stream, "", evs)
		for i, e := range evs {
			pos++
			all = append(all, eventlog.Recorded{Event: e, Stream: stream, Revision: uint64(i), Position: eventlog.Position{Commit: pos, Prepare: pos}})
		}
	}
	// Interleave streams in $all as writers would, then alter three events.
	inter := make([]eventlog.Recorded, 0, len(all))
	for i := range 30 {
		for s := range 40 {
			inter = append(inter, all[s*30+i])
		}
	}
	for i := range inter {
		inter[i].Position = eventlog.Position{Commit: uint64(i + 1), Prepare: uint64(i + 1)}
	}
	for _, i := range []int{900, 613, 1100} {
		inter[i].Data = []byte(`{"altered":true}`)
	}
	for range 20 { // the race between workers differs from run to run
		rep := verify(t, sliceStore(inter), VerifyOptions{Workers: 4})
		wantBreak(t, rep, inter[613], "content hashes to")
	}
}

// sliceStore serves $all from memory, for histories no real store would accept.
type sliceStore []eventlog.Recorded

func (s sliceStore) ReadAll(ctx context.Context, from eventlog.Position, max int, fn func(eventlog.Recorded) error) error {
	for _, r := range s {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (s sliceStore) ReadAllFiltered(context.Context, eventlog.Position, eventlog.Filter, func(eventlog.Recorded) error) error {
	panic("not used")
}

func (s sliceStore) ReadStream(context.Context, string, uint64, int, bool) ([]eventlog.Recorded, error) {
	panic("not used")
}

func (s sliceStore) Head(context.Context) (eventlog.Position, error) {
	if len(s) == 0 {
		return eventlog.Start, nil
	}
	return s[len(s)-1].Position, nil
}

// The verification benchmark shares one node filled with a million events of valid chains: 20 000
// streams of 50 events, appended in batches of 50 through the adapter by 16 writers, with payloads and
// metadata shaped like the ledger's.
const (
	benchEvents        = 1_000_000
	benchStreamEvents  = 50
	benchWriters       = 16
	benchStreamsPerCom = 100
)

var (
	millionOnce sync.Once
	millionDir  string
	millionErr  error
)

func millionStore(b *testing.B) string {
	b.Helper()
	millionOnce.Do(func() {
		dir := os.Getenv("AUDIT_BENCH_DIR") // kept between runs: filled when empty
		if dir == "" {
			var err error
			if dir, err = os.MkdirTemp("", "audit-verify-1m-"); err != nil {
				millionErr = err
				return
			}
			benchDirs = append(benchDirs, dir)
		}
		millionDir = dir
		if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
			return
		}
		millionErr = fillMillion(b, dir)
	})
	if millionErr != nil {
		b.Fatalf("fill: %v", millionErr)
	}
	return millionDir
}

func fillMillion(b *testing.B, dir string) error {
	started := time.Now()
	n := openNode(b, dir)
	ctx := context.Background()
	streams := benchEvents / benchStreamEvents
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(benchWriters)
	for s := range streams {
		cid := fmt.Sprintf("330303%06d", s/benchStreamsPerCom)
		stream := fmt.Sprintf("expenditure-%s-%d", cid, s)
		g.Go(func() error {
			_, err := n.store.Append(ctx, stream, eventlog.NoStream(), synth(stream, "funds.expenditure-requested", cid, "33/3303/330303/"+cid, benchStreamEvents))
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	n.store.Close()
	if err := n.node.Close(); err != nil {
		return err
	}
	b.Logf("filled %d events in %d streams in %s", benchEvents, streams, time.Since(started).Round(time.Millisecond))
	return nil
}

// BenchmarkReadAll1M reads the million events without verifying them: the floor of BenchmarkVerify1M.
func BenchmarkReadAll1M(b *testing.B) {
	dir := millionStore(b)
	n := openNode(b, dir)
	b.ResetTimer()
	for range b.N {
		count := 0
		if err := n.store.ReadAll(context.Background(), eventlog.Start, 0, func(eventlog.Recorded) error { count++; return nil }); err != nil {
			b.Fatal(err)
		}
		if count != benchEvents {
			b.Fatalf("read %d", count)
		}
	}
	b.ReportMetric(float64(benchEvents*b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkReadCommunity1M reads one community's 5 000 events out of the million with the server-side
// stream filter Replay and Export use: the cost of finding a community in a large store.
func BenchmarkReadCommunity1M(b *testing.B) {
	dir := millionStore(b)
	n := openNode(b, dir)
	sc := scope{community: "330303000123", path: "33/3303/330303/330303000123", codes: []string{"33", "3303", "330303", "330303000123"}}
	b.ResetTimer()
	for range b.N {
		count := 0
		if err := n.store.ReadAllFiltered(context.Background(), eventlog.Start, sc.filter(), func(r eventlog.Recorded) error {
			if sc.includes(&r) {
				count++
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		if count != benchStreamsPerCom*benchStreamEvents {
			b.Fatalf("read %d", count)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/read")
}

// BenchmarkVerify1M verifies the hash chains of a million events (target: at most 20 s), with the
// collector set as ledger verify sets it.
func BenchmarkVerify1M(b *testing.B) {
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	dir := millionStore(b)
	n := openNode(b, dir)
	a := newAuditor(b, n.store, nil)
	b.ResetTimer()
	cpu := cpuTime()
	for range b.N {
		rep, err := a.Verify(context.Background(), VerifyOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if !rep.Intact || rep.Events != benchEvents {
			b.Fatalf("%+v", rep)
		}
	}
	b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/verify")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/verify")
	b.ReportMetric(float64(benchEvents*b.N)/b.Elapsed().Seconds(), "events/s")
}

// cpuTime is the CPU time (user and system) this process has used: the node serves in-process, so it
// counts the store's work too. On a shared machine it says more than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
