package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/esdbnode"
	"github.com/grassroots-ledger/ledger/infra/esdbnode/nodetest"
	"github.com/grassroots-ledger/ledger/infra/esdbwire"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
)

// rawClient dials n with the EventStoreDB client itself, past the adapter.
func rawClient(t *testing.T, n *esdbnode.Node) *esdb.Client {
	t.Helper()
	cfg, err := esdb.ParseConnectionString(n.URL())
	if err != nil {
		t.Fatal(err)
	}
	c, err := esdb.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// copySource fills a store with ledger events of 12 streams appended interleaved (runs of one to three
// events), plus events another client wrote: binary content, metadata that is not the ledger's.
func copySource(t *testing.T) (*esdbnode.Node, *eventstore.Store, int) {
	t.Helper()
	ctx := context.Background()
	node, st := nodetest.Start(t, nil)
	tails := map[string]eventlog.AppendResult{}
	hashes := map[string]string{}
	n := 0
	for i := range 60 {
		stream := fmt.Sprintf("expenditure-330303001%03d-%d", i%4, i%12)
		run := 1 + i%3
		evs := make([]eventlog.Event, run)
		for k := range evs {
			evs[k] = eventlog.Event{ID: eventlog.DeriveID(fmt.Sprintf("copy-%d", i), k), Type: "funds.expenditure-requested",
				Data: fmt.Appendf(nil, `{"n":%d,"purpose":"村道%d"}`, i, k)}
		}
		exp := eventlog.NoStream()
		if r, ok := tails[stream]; ok {
			exp = eventlog.At(r.Revision, hashes[stream])
		}
		res, err := st.Append(ctx, stream, exp, evs)
		if err != nil {
			t.Fatal(err)
		}
		tails[stream], hashes[stream] = res, evs[len(evs)-1].Meta.Hash
		n += run
	}
	c := rawClient(t, node)
	for i := range 3 {
		_, err := c.AppendToStream(ctx, "foreign-stream", esdb.AppendToStreamOptions{},
			esdb.EventData{EventID: uuid.New(), EventType: "Foreign", ContentType: esdb.ContentTypeBinary,
				Data: []byte{0, 1, 2, byte(i)}, Metadata: []byte(`{"$correlationId":"x","who":"another client"}`)})
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	return node, st, n
}

// A copy interrupted after a few appends resumes where the target stands and ends with a store whose
// events are the source's byte for byte, in the same $all order, read back with the client itself;
// copying again copies nothing; the copy's hash chains verify. The same through the target node's Import
// (what copy-store and backup use for a node in their own process), cut off after a few runs.
func TestCopyIsExactAndResumes(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"appends", "import"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			copyIsExactAndResumes(t, how == "import")
		})
	}
}

func copyIsExactAndResumes(t *testing.T, viaImport bool) {
	_, src, total := copySource(t)
	dstNode, dst := nodetest.Start(t, nil)

	ctx, cancel := context.WithCancel(context.Background())
	var opts, rest eventstore.CopyOptions
	if viaImport {
		rest.Import = dstNode.Import
		opts.Import = func(ctx context.Context, runs []esdbwire.Run) (int, error) {
			n, err := dstNode.Import(ctx, runs[:5])
			cancel() // the copy is cut off here, as by a crash
			if err == nil {
				err = ctx.Err()
			}
			return n, err
		}
	} else {
		appends := 0
		opts.Progress = func(eventstore.CopyProgress) {
			if appends++; appends == 5 {
				cancel() // the copy is cut off here, as by a crash
			}
		}
	}
	first, err := eventstore.Copy(ctx, src, dst, opts)
	cancel()
	if !errors.Is(err, context.Canceled) || first.Copied == 0 || first.Copied >= uint64(total) {
		t.Fatalf("interrupted copy: %+v, %v", first, err)
	}
	second, err := eventstore.Copy(context.Background(), src, dst, rest)
	if err != nil {
		t.Fatal(err)
	}
	if second.Held != first.Copied || second.Held+second.Copied != uint64(total) {
		t.Fatalf("resumed copy %+v after %+v, want the rest of %d", second, first, total)
	}
	n, err := eventstore.Compare(context.Background(), src, dst)
	if err != nil || n != uint64(total) {
		t.Fatalf("compare: %d of %d, %v", n, total, err)
	}
	again, err := eventstore.Copy(context.Background(), src, dst, rest)
	if err != nil || again.Copied != 0 || again.Held != uint64(total) {
		t.Fatalf("copy of a complete copy: %+v, %v", again, err)
	}

	// Read back past the adapter: the same events, stream by stream, and every chain verifies.
	c := rawClient(t, dstNode)
	streams := map[string][]eventlog.Recorded{}
	err = src.ReadAll(context.Background(), eventlog.Start, 0, func(r eventlog.Recorded) error {
		if !eventlog.SystemStream(r.Stream) {
			streams[r.Stream] = append(streams[r.Stream], r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range streams {
		rs, err := c.ReadStream(context.Background(), name, esdb.ReadStreamOptions{From: esdb.Start{}}, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; ; i++ {
			ev, err := rs.Recv()
			if err != nil {
				if i != len(want) {
					t.Errorf("%s: %d events read back, want %d (%v)", name, i, len(want), err)
				}
				break
			}
			if ev.Event.EventID != uuid.UUID(want[i].ID) || ev.Event.EventNumber != want[i].Revision || string(ev.Event.Data) != string(want[i].Data) {
				t.Errorf("%s[%d]: %s rev %d, want %s rev %d", name, i, ev.Event.EventID, ev.Event.EventNumber, want[i].ID, want[i].Revision)
			}
		}
		rs.Close()
		if name == "foreign-stream" {
			continue
		}
		got, err := dst.Load(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		if err := eventlog.VerifyStream(got); err != nil {
			t.Errorf("%s: chain of the copy: %v", name, err)
		}
	}
}

// A target that holds another history is refused, and nothing is written to it; Compare names the first
// event that differs.
func TestCopyRefusesATargetWithAnotherHistory(t *testing.T) {
	t.Parallel()
	_, src, _ := copySource(t)
	_, dst := nodetest.Start(t, nil)
	ctx := context.Background()
	other := []eventlog.Event{{ID: eventlog.DeriveID("another-history", 0), Type: "funds.expenditure-requested", Data: []byte(`{"n":1}`)}}
	if _, err := dst.Append(ctx, "expenditure-330303001000-0", eventlog.NoStream(), other); err != nil {
		t.Fatal(err)
	}
	before, err := dst.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eventstore.Copy(ctx, src, dst, eventstore.CopyOptions{}); !errors.Is(err, eventstore.ErrDiverged) {
		t.Fatalf("copy into another history: %v, want ErrDiverged", err)
	}
	if after, _ := dst.Head(ctx); after != before {
		t.Fatalf("the refused copy wrote: head %s, was %s", after, before)
	}
	if n, err := eventstore.Compare(ctx, src, dst); !errors.Is(err, eventstore.ErrDiverged) || n != 0 {
		t.Fatalf("compare: %d, %v", n, err)
	}
}

// A target that holds the source's first event after one of its own in a stream the source writes
// later resumes after that run, and the source's first run of that stream is refused: the copy stops with
// ErrDiverged there, through appends and through the node's Import alike, and writes nothing after it.
func TestCopyStopsWhereTheTargetDiverges(t *testing.T) {
	t.Parallel()
	for _, viaImport := range []bool{false, true} {
		t.Run(fmt.Sprint("import=", viaImport), func(t *testing.T) {
			t.Parallel()
			srcNode, src, _ := copySource(t)
			dstNode, dst := nodetest.Start(t, nil)
			ctx := context.Background()
			late := "expenditure-330303001003-11" // first written by the source's twelfth run
			own := []eventlog.Event{{ID: eventlog.DeriveID("the target's own", 0), Type: "funds.expenditure-requested", Data: []byte(`{"n":0}`)}}
			if _, err := dst.Append(ctx, late, eventlog.NoStream(), own); err != nil {
				t.Fatal(err)
			}
			// Then the source's first event, as it stands, so that the copy resumes after it.
			e := nodetest.FirstEvent(t, rawClient(t, srcNode))
			if _, err := rawClient(t, dstNode).AppendToStream(ctx, e.StreamID, esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}},
				esdb.EventData{EventID: e.EventID, EventType: e.EventType, ContentType: esdb.ContentTypeJson, Data: e.Data, Metadata: e.UserMetadata}); err != nil {
				t.Fatal(err)
			}
			var opts eventstore.CopyOptions
			if viaImport {
				opts.Import = dstNode.Import
			}
			res, err := eventstore.Copy(ctx, src, dst, opts)
			if !errors.Is(err, eventstore.ErrDiverged) || !strings.Contains(err.Error(), late) {
				t.Fatalf("copy past the target's own event: %+v, %v; want ErrDiverged naming %s", res, err, late)
			}
			held := 0
			if err := dst.ReadAll(ctx, eventlog.Start, 0, func(r eventlog.Recorded) error {
				if !eventlog.SystemStream(r.Stream) {
					held++
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if want := 1 + 1 + int(res.Copied); held != want || res.Copied == 0 {
				t.Fatalf("the target holds %d events after copying %d; want its own, the source's first and the %d copied before the refusal, nothing after it",
					held, res.Copied, res.Copied)
			}
		})
	}
}
