package esdbnode_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/grassroots-ledger/ledger/infra/esdbnode"
)

// pump moves a subscription's messages onto a channel so tests can wait with a timeout.
func pump(t testing.TB, sub *esdb.Subscription) <-chan *esdb.SubscriptionEvent {
	ch := make(chan *esdb.SubscriptionEvent, 1024)
	go func() {
		defer close(ch)
		for {
			e := sub.Recv()
			ch <- e
			if e.SubscriptionDropped != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { _ = sub.Close() })
	return ch
}

// nextEvents waits for want events (skipping checkpoints and caught-up markers) and returns them.
func nextEvents(t testing.TB, ch <-chan *esdb.SubscriptionEvent, want int) []*esdb.RecordedEvent {
	t.Helper()
	var out []*esdb.RecordedEvent
	timeout := time.After(2 * time.Minute) // a hang detector, not a speed check
	for len(out) < want {
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatalf("subscription ended after %d of %d events", len(out), want)
			}
			if e.SubscriptionDropped != nil {
				t.Fatalf("subscription dropped after %d of %d events: %v", len(out), want, e.SubscriptionDropped.Error)
			}
			if e.EventAppeared != nil {
				out = append(out, e.EventAppeared.OriginalEvent())
			}
		case <-timeout:
			t.Fatalf("timed out after %d of %d events", len(out), want)
		}
	}
	return out
}

// expectQuiet checks that no further event arrives for a short while.
func expectQuiet(t testing.TB, ch <-chan *esdb.SubscriptionEvent) {
	t.Helper()
	deadline := time.After(200 * time.Millisecond)
	for {
		select {
		case e := <-ch:
			if e.EventAppeared != nil {
				t.Fatalf("unexpected event %s rev %d", e.EventAppeared.OriginalEvent().StreamID, e.EventAppeared.OriginalEvent().EventNumber)
			}
		case <-deadline:
			return
		}
	}
}

func ids(es []*esdb.RecordedEvent) []uuid.UUID {
	out := make([]uuid.UUID, len(es))
	for i, e := range es {
		out[i] = e.EventID
	}
	return out
}

func dataIDs(es []esdb.EventData) []uuid.UUID {
	out := make([]uuid.UUID, len(es))
	for i, e := range es {
		out[i] = e.EventID
	}
	return out
}

func equalIDs(t testing.TB, what string, got, want []uuid.UUID) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d events, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: event %d is %s, want %s", what, i, got[i], want[i])
		}
	}
}

func TestSubscribeToStream(t *testing.T) {
	n := startNode(t, "")
	c := newClient(t, n.URL())
	ctx := ctxT(t)
	history := evs(5, "Old")
	if _, err := c.AppendToStream(ctx, "watched", esdb.AppendToStreamOptions{}, history...); err != nil {
		t.Fatal(err)
	}
	subStart, err := c.SubscribeToStream(ctx, "watched", esdb.SubscribeToStreamOptions{From: esdb.Start{}})
	if err != nil {
		t.Fatal(err)
	}
	subRev, err := c.SubscribeToStream(ctx, "watched", esdb.SubscribeToStreamOptions{From: esdb.Revision(2)})
	if err != nil {
		t.Fatal(err)
	}
	subEnd, err := c.SubscribeToStream(ctx, "watched", esdb.SubscribeToStreamOptions{From: esdb.End{}})
	if err != nil {
		t.Fatal(err)
	}
	subNew, err := c.SubscribeToStream(ctx, "not-yet", esdb.SubscribeToStreamOptions{From: esdb.Start{}})
	if err != nil {
		t.Fatal(err)
	}
	chStart, chRev, chEnd, chNew := pump(t, subStart), pump(t, subRev), pump(t, subEnd), pump(t, subNew)

	equalIDs(t, "from start, history", ids(nextEvents(t, chStart, 5)), dataIDs(history))
	equalIDs(t, "from revision 2 (exclusive), history", ids(nextEvents(t, chRev, 2)), dataIDs(history[3:]))
	expectQuiet(t, chEnd)

	live := evs(3, "New")
	if _, err := c.AppendToStream(ctx, "watched", esdb.AppendToStreamOptions{}, live...); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AppendToStream(ctx, "elsewhere", esdb.AppendToStreamOptions{}, evs(2, "Other")...); err != nil {
		t.Fatal(err)
	}
	created := evs(2, "Created")
	if _, err := c.AppendToStream(ctx, "not-yet", esdb.AppendToStreamOptions{}, created...); err != nil {
		t.Fatal(err)
	}
	equalIDs(t, "from start, live", ids(nextEvents(t, chStart, 3)), dataIDs(live))
	equalIDs(t, "from revision, live", ids(nextEvents(t, chRev, 3)), dataIDs(live))
	equalIDs(t, "from end, live", ids(nextEvents(t, chEnd, 3)), dataIDs(live))
	equalIDs(t, "stream created later", ids(nextEvents(t, chNew, 2)), dataIDs(created))
	for _, ch := range []<-chan *esdb.SubscriptionEvent{chStart, chRev, chEnd, chNew} {
		expectQuiet(t, ch)
	}
}

func TestSubscribeToAll(t *testing.T) {
	n := startNode(t, "")
	c := newClient(t, n.URL())
	ctx := ctxT(t)
	history := evs(6, "Old")
	if _, err := c.AppendToStream(ctx, "a", esdb.AppendToStreamOptions{}, history[:3]...); err != nil {
		t.Fatal(err)
	}
	res, err := c.AppendToStream(ctx, "b", esdb.AppendToStreamOptions{}, history[3:4]...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AppendToStream(ctx, "a", esdb.AppendToStreamOptions{}, history[4:]...); err != nil {
		t.Fatal(err)
	}
	mid := esdb.Position{Commit: res.CommitPosition, Prepare: res.PreparePosition}

	chStart := subscribeAll(t, c, esdb.SubscribeToAllOptions{From: esdb.Start{}})
	chPos := subscribeAll(t, c, esdb.SubscribeToAllOptions{From: mid})
	chEnd := subscribeAll(t, c, esdb.SubscribeToAllOptions{From: esdb.End{}})

	equalIDs(t, "from start, history", ids(nextEvents(t, chStart, 6)), dataIDs(history))
	equalIDs(t, "from position (exclusive), history", ids(nextEvents(t, chPos, 2)), dataIDs(history[4:]))
	expectQuiet(t, chEnd)

	live := evs(4, "New")
	for i, e := range live {
		if _, err := c.AppendToStream(ctx, fmt.Sprintf("live-%d", i%2), esdb.AppendToStreamOptions{}, e); err != nil {
			t.Fatal(err)
		}
	}
	for name, ch := range map[string]<-chan *esdb.SubscriptionEvent{"start": chStart, "position": chPos, "end": chEnd} {
		equalIDs(t, "from "+name+", live", ids(nextEvents(t, ch, 4)), dataIDs(live))
		expectQuiet(t, ch)
	}
}

func subscribeAll(t testing.TB, c *esdb.Client, opts esdb.SubscribeToAllOptions) <-chan *esdb.SubscriptionEvent {
	t.Helper()
	sub, err := c.SubscribeToAll(ctxT(t), opts)
	if err != nil {
		t.Fatalf("subscribe to $all: %v", err)
	}
	return pump(t, sub)
}

// TestSubscribeCatchUpToLiveUnderConcurrentWrites is the seam test: a subscriber from the start catches up and
// goes live while 8 writers append 10 000 events; it must see each event exactly once, in $all order, and each
// writer's events in the order that writer appended them.
func TestSubscribeCatchUpToLiveUnderConcurrentWrites(t *testing.T) {
	n := startNode(t, "")
	c := newClient(t, n.URL())
	ctx := ctxT(t)
	const writers, perWriter = 8, 1250
	// Some history first, so the subscriber has something to catch up on while writers go.
	if _, err := c.AppendToStream(ctx, "history", esdb.AppendToStreamOptions{}, evs(500, "Old")...); err != nil {
		t.Fatal(err)
	}
	ch := subscribeAll(t, c, esdb.SubscribeToAllOptions{From: esdb.Start{}})

	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := fmt.Sprintf("writer-%d", w)
			for i := 0; i < perWriter; {
				k := 1 + i%3
				if i+k > perWriter {
					k = perWriter - i
				}
				batch := make([]esdb.EventData, k)
				for j := range batch {
					batch[j] = ev("Seq", fmt.Sprintf(`{"w":%d,"i":%d}`, w, i+j))
				}
				if _, err := c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: revOrNoStream(i)}, batch...); err != nil {
					errs <- fmt.Errorf("writer %d at %d: %w", w, i, err)
					return
				}
				i += k
			}
		}()
	}
	total := 500 + writers*perWriter
	got := nextEvents(t, ch, total)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := make(map[uuid.UUID]bool, total)
	next := map[string]uint64{}
	for i, e := range got {
		if seen[e.EventID] {
			t.Fatalf("event %s delivered twice", e.EventID)
		}
		seen[e.EventID] = true
		if i > 0 && e.Position.Commit != got[i-1].Position.Commit+1 {
			t.Fatalf("gap or disorder at %d: position %d after %d", i, e.Position.Commit, got[i-1].Position.Commit)
		}
		if e.EventNumber != next[e.StreamID] {
			t.Fatalf("stream %s: revision %d, want %d", e.StreamID, e.EventNumber, next[e.StreamID])
		}
		next[e.StreamID]++
	}
	expectQuiet(t, ch)
}

func revOrNoStream(appended int) esdb.ExpectedRevision {
	if appended == 0 {
		return esdb.NoStream{}
	}
	return esdb.Revision(uint64(appended - 1))
}

func TestSubscribeFiltered(t *testing.T) {
	n := startNode(t, "")
	c := newClient(t, n.URL())
	ctx := ctxT(t)
	// 200 events; one in ten goes to an "invoice-" stream with type InvoiceIssued.
	var invoices []esdb.EventData
	appendMix := func(k int) {
		for i := range k {
			stream, e := fmt.Sprintf("noise-%d", i%7), ev("Noise", `{}`)
			if i%10 == 0 {
				stream, e = fmt.Sprintf("invoice-%d", i), ev("InvoiceIssued", `{}`)
				invoices = append(invoices, e)
			}
			if _, err := c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{}, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	appendMix(200)
	filters := map[string]*esdb.SubscriptionFilter{
		"stream prefix": {Type: esdb.StreamFilterType, Prefixes: []string{"invoice-", "nothing-"}},
		"stream regex":  {Type: esdb.StreamFilterType, Regex: "^inv[a-z]+-[0-9]+$"},
		"type prefix":   {Type: esdb.EventFilterType, Prefixes: []string{"Invoice"}},
		"type regex":    {Type: esdb.EventFilterType, Regex: "Issued$"},
	}
	for name, f := range filters {
		t.Run(name, func(t *testing.T) {
			got, checkpoints := filtered(t, c, esdb.SubscribeToAllOptions{From: esdb.Start{}, Filter: f, MaxSearchWindow: 10, CheckpointInterval: 2},
				len(invoices), 10)
			equalIDs(t, "filtered", ids(got), dataIDs(invoices))
			// A checkpoint every 10×2 scanned events: at positions 20, 40, …, 200.
			wantCheckpoints(t, checkpoints, 0, 20)
		})
	}
}

// filtered subscribes to $all with opts and returns the first events and checkpoints it delivers, once it
// has delivered at least that many of each.
func filtered(t *testing.T, c *esdb.Client, opts esdb.SubscribeToAllOptions, events, checkpoints int) ([]*esdb.RecordedEvent, []esdb.Position) {
	t.Helper()
	sub, err := c.SubscribeToAll(ctxT(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ch := pump(t, sub)
	var got []*esdb.RecordedEvent
	var cps []esdb.Position
	deadline := time.After(2 * time.Minute)
	for len(got) < events || len(cps) < checkpoints {
		select {
		case e := <-ch:
			switch {
			case e == nil:
				t.Fatal("the subscription ended")
			case e.SubscriptionDropped != nil:
				t.Fatalf("dropped: %v", e.SubscriptionDropped.Error)
			case e.EventAppeared != nil:
				got = append(got, e.EventAppeared.OriginalEvent())
			case e.CheckPointReached != nil:
				cps = append(cps, *e.CheckPointReached)
			}
		case <-deadline:
			t.Fatalf("got %d events and %d checkpoints", len(got), len(cps))
		}
	}
	return got, cps
}

// wantCheckpoints checks that checkpoints stand every `every` positions after from.
func wantCheckpoints(t *testing.T, checkpoints []esdb.Position, from, every uint64) {
	t.Helper()
	for i, cp := range checkpoints {
		if want := from + every*uint64(i+1); cp.Commit != want {
			t.Errorf("checkpoint %d at %d, want %d", i, cp.Commit, want)
		}
	}
}

// TestSubscribeFilteredCatchesUpThroughTheIndexes: a subscription filtered by stream name over a history
// the indexes cover (the node was closed, which indexes everything) and an unindexed tail after it
// delivers what a scan would — the same events and the same checkpoints — from the start and from a
// position, and then goes live.
func TestSubscribeFilteredCatchesUpThroughTheIndexes(t *testing.T) {
	dir := t.TempDir()
	first, err := esdbnode.Open(context.Background(), esdbnode.Config{Dir: dir, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	var invoices []esdb.EventData
	var positions []uint64
	appendMix := func(c *esdb.Client, k int) {
		for i := range k {
			stream, e := fmt.Sprintf("noise-%d", i%7), ev("Invoice", `{}`) // the type matches; the stream does not
			if i%9 == 0 {
				stream, e = fmt.Sprintf("invoice-%d", i%4), ev("InvoiceIssued", `{}`)
			}
			res, err := c.AppendToStream(ctxT(t), stream, esdb.AppendToStreamOptions{}, e)
			if err != nil {
				t.Fatal(err)
			}
			if i%9 == 0 {
				invoices, positions = append(invoices, e), append(positions, res.CommitPosition)
			}
		}
	}
	appendMix(newClient(t, first.URL()), 400)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, dir)
	c := newClient(t, n.URL())
	appendMix(c, 100) // the unindexed tail
	for name, f := range map[string]*esdb.SubscriptionFilter{
		"stream prefix": {Type: esdb.StreamFilterType, Prefixes: []string{"invoice-", "nothing-"}},
		"stream regex":  {Type: esdb.StreamFilterType, Regex: "^inv[a-z]+-[0-9]+$"},
	} {
		t.Run(name, func(t *testing.T) {
			got, checkpoints := filtered(t, c, esdb.SubscribeToAllOptions{From: esdb.Start{}, Filter: f, MaxSearchWindow: 10, CheckpointInterval: 3},
				len(invoices), 500/30)
			equalIDs(t, "from the start", ids(got), dataIDs(invoices))
			wantCheckpoints(t, checkpoints, 0, 30)

			from := positions[len(positions)/3] // after it, exclusive
			got, checkpoints = filtered(t, c, esdb.SubscribeToAllOptions{From: esdb.Position{Commit: from, Prepare: from}, Filter: f,
				MaxSearchWindow: 10, CheckpointInterval: 3}, len(invoices)-len(invoices)/3-1, int(500-from)/30)
			equalIDs(t, "after a position", ids(got), dataIDs(invoices[len(invoices)/3+1:]))
			wantCheckpoints(t, checkpoints, from, 30)
		})
	}
	// Live after the indexed catch-up.
	sub, err := c.SubscribeToAll(ctxT(t), esdb.SubscribeToAllOptions{From: esdb.Start{},
		Filter: &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{"invoice-"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ch := pump(t, sub)
	live := ev("InvoiceIssued", `{}`)
	seen := 0
	for appended := false; ; {
		e := <-ch
		if e == nil || e.SubscriptionDropped != nil {
			t.Fatal("the subscription ended")
		}
		if e.EventAppeared == nil {
			continue
		}
		if seen++; seen == len(invoices) && !appended {
			appended = true
			if _, err := c.AppendToStream(ctxT(t), "invoice-live", esdb.AppendToStreamOptions{}, live); err != nil {
				t.Fatal(err)
			}
		}
		if e.EventAppeared.OriginalEvent().EventID == live.EventID {
			return
		}
	}
}

func TestSlowSubscriberDoesNotBlockWriters(t *testing.T) {
	n := startNode(t, "")
	c := newClient(t, n.URL())
	ctx := ctxT(t)
	// A subscriber that never reads: its flow-control window fills up.
	sub, err := c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: esdb.Start{}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	payload := make([]byte, 8<<10)
	// ≈3 MB, far past the gRPC flow-control windows: if the writer waited for the subscriber, these appends
	// would hang (ctxT's deadline is the hang detector).
	for i := range 400 {
		e := ev("Big", "")
		e.Data = payload
		e.ContentType = esdb.ContentTypeBinary
		if _, err := c.AppendToStream(ctx, fmt.Sprintf("big-%d", i%5), esdb.AppendToStreamOptions{}, e); err != nil {
			t.Fatal(err)
		}
	}
	// Close must not hang on the stalled subscriber either.
	done := make(chan struct{})
	go func() { _ = n.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Close hung on a stalled subscriber")
	}
}

func TestCloseEndsSubscriptions(t *testing.T) {
	n := startNode(t, "")
	c := newClient(t, n.URL())
	ch := subscribeAll(t, c, esdb.SubscribeToAllOptions{From: esdb.Start{}})
	expectQuiet(t, ch)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case e, ok := <-ch:
			if !ok || e.SubscriptionDropped != nil {
				return
			}
		case <-ctx.Done():
			t.Fatal("subscription not dropped by Close")
		}
	}
}
