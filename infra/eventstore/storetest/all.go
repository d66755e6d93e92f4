package storetest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
)

// subscribe runs SubscribeAll until done returns true for a delivery, and checks that the error fn returned
// to stop it came back as is.
func (s *suite) subscribe(t *testing.T, st *eventstore.Store, from eventlog.Position, f eventlog.Filter, done func(eventlog.Delivery) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	errDone := errors.New("storetest: seen enough")
	err := st.SubscribeAll(ctx, from, f, func(d eventlog.Delivery) error {
		if done(d) {
			return errDone
		}
		return nil
	})
	if err != errDone {
		t.Fatalf("subscription from %s ended with %v before delivering what the test waits for", from, err)
	}
}

// chained tracks where one writer's stream ends.
type chained struct {
	exp eventlog.Expected
}

func (c *chained) appended(evs []eventlog.Event, res eventlog.AppendResult) {
	c.exp = eventlog.At(res.Revision, evs[len(evs)-1].Meta.Hash)
}

func (s *suite) testAllOrder(t *testing.T) {
	st := s.h.Open(t)
	from := s.marker(t, st, "allm")
	prefix := s.stream("all-")
	streams := []string{prefix + "a", prefix + "b", prefix + "c"}
	ends := map[string]*chained{}
	for _, name := range streams {
		ends[name] = &chained{exp: eventlog.NoStream()}
	}
	var want []eventlog.ID
	var results []eventlog.AppendResult
	for i := 0; i < 15; i++ {
		stream := streams[(i*7)%3]
		evs := s.batch(s.cmd(), 1+i%3, "")
		res := mustAppend(t, st, stream, ends[stream].exp, evs)
		ends[stream].appended(evs, res)
		want = append(want, eventIDs(evs)...)
		results = append(results, res)
	}
	got := s.readRun(t, st, from, streamHasPrefix(prefix), 0)
	if !sameIDs(ids(got), want) {
		t.Fatalf("$all order of the run's events differs from append order:\n got %v\nwant %v", ids(got), want)
	}
	at := map[eventlog.Position]bool{}
	for i, r := range got {
		at[r.Position] = true
		if i > 0 && !got[i-1].Position.Less(r.Position) {
			t.Fatalf("$all positions not increasing: %s then %s", got[i-1].Position, r.Position)
		}
		if !from.Less(r.Position) {
			t.Fatalf("event at %s read from %s", r.Position, from)
		}
	}
	for _, res := range results {
		if !at[res.Position] {
			t.Fatalf("append result position %s is no event's position in $all", res.Position)
		}
	}
	// Head is the newest event of the whole store: at least our last append (others may write after us on
	// a shared server, never before).
	head, err := st.Head(context.Background())
	if err != nil {
		t.Fatalf("Head: %v", err)
	}
	if last := results[len(results)-1].Position; head.Less(last) {
		t.Fatalf("Head %s is before the last acknowledged append %s", head, last)
	}
}

func (s *suite) testConcurrent(t *testing.T) {
	const (
		writers  = 8
		total    = 10000
		quota    = total / writers
		catchUp  = 2000 // events acknowledged before the subscriber starts, so it catches up, then goes live
		maxBatch = 8
	)
	st := s.h.Open(t)
	subStore := s.h.Open(t)
	prefix := s.stream("cw-")
	from := s.marker(t, st, "cwm")

	type ack struct {
		stream string
		ids    []eventlog.ID
		res    eventlog.AppendResult
	}
	var (
		mu        sync.Mutex
		acks      []ack
		acked     atomic.Int64
		conflicts atomic.Int64
		started   = make(chan struct{})
		once      sync.Once
	)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Second)
	defer cancel()

	began := time.Now()
	// Writers 0-3 own a stream each and append at the exact revision; 4-7 share one stream, 4 and 5
	// with exact revisions (reloading the tail on conflict), 6 and 7 with Any.
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			stream := fmt.Sprintf("%sown-%d", prefix, w)
			if w >= 4 {
				stream = prefix + "shared"
			}
			end := chained{exp: eventlog.NoStream()}
			if w >= 6 {
				end.exp = eventlog.Any()
			}
			for written, k := 0, 0; written < quota; k++ {
				n := min(1+(w+k)%maxBatch, quota-written)
				evs := s.batch(s.cmd(), n, "")
				var res eventlog.AppendResult
				for attempt := 0; ; attempt++ {
					var err error
					res, err = st.Append(ctx, stream, end.exp, evs)
					if err == nil {
						break
					}
					conflicts.Add(1)
					if !errors.Is(err, eventlog.ErrConflict) || w < 4 || attempt > 1000 {
						t.Errorf("writer %d: append %d events to %s at %s: %v", w, n, stream, end.exp, err)
						cancel()
						return
					}
					tl, err := st.ReadStream(ctx, stream, eventstore.Last, 1, true)
					switch {
					case errors.Is(err, eventlog.ErrStreamNotFound):
						end.exp = eventlog.NoStream()
					case err != nil:
						t.Errorf("writer %d: read tail of %s: %v", w, stream, err)
						cancel()
						return
					default:
						end.exp = eventlog.At(tl[0].Revision, tl[0].Meta.Hash)
					}
				}
				if w < 6 {
					end.appended(evs, res)
				} else {
					end.exp = eventlog.Any()
				}
				mu.Lock()
				acks = append(acks, ack{stream: stream, ids: eventIDs(evs), res: res})
				mu.Unlock()
				written += n
				if acked.Add(int64(n)) >= catchUp {
					once.Do(func() { close(started) })
				}
			}
		}(w)
	}

	var delivered []eventlog.Recorded
	subErr := make(chan error, 1)
	go func() {
		select {
		case <-started:
		case <-ctx.Done():
			subErr <- ctx.Err()
			return
		}
		errDone := errors.New("all seen")
		err := subStore.SubscribeAll(ctx, from, eventlog.Filter{StreamPrefixes: []string{prefix}}, func(d eventlog.Delivery) error {
			if d.Event != nil {
				delivered = append(delivered, *d.Event)
				if len(delivered) == total {
					return errDone
				}
			}
			return nil
		})
		if errors.Is(err, errDone) {
			err = nil
		}
		subErr <- err
	}()
	wg.Wait()
	wrote := time.Since(began)
	if err := <-subErr; err != nil {
		t.Fatalf("subscriber ended after %d of %d events: %v", len(delivered), total, err)
	}
	if t.Failed() {
		return
	}
	t.Logf("%d events in %d appends by %d writers in %s (%d conflicts retried); subscriber done after %s",
		total, len(acks), writers, wrote.Round(time.Millisecond), conflicts.Load(), time.Since(began).Round(time.Millisecond))

	// Exactly once, in $all order, each stream in revision order.
	acked2 := map[eventlog.ID]bool{}
	lastOf := map[eventlog.ID]eventlog.AppendResult{}
	for _, a := range acks {
		for _, id := range a.ids {
			acked2[id] = true
		}
		lastOf[a.ids[len(a.ids)-1]] = a.res
	}
	seen := map[eventlog.ID]bool{}
	nextRev := map[string]uint64{}
	for i, r := range delivered {
		if seen[r.ID] {
			t.Fatalf("event %s delivered twice", r.ID)
		}
		seen[r.ID] = true
		if !acked2[r.ID] {
			t.Fatalf("event %s of %s delivered but never acknowledged", r.ID, r.Stream)
		}
		if i > 0 && !delivered[i-1].Position.Less(r.Position) {
			t.Fatalf("delivery %d at %s after %s: not in $all order", i, r.Position, delivered[i-1].Position)
		}
		if r.Revision != nextRev[r.Stream] {
			t.Fatalf("%s: revision %d delivered where %d was due", r.Stream, r.Revision, nextRev[r.Stream])
		}
		nextRev[r.Stream]++
		if res, ok := lastOf[r.ID]; ok && (res.Position != r.Position || res.Revision != r.Revision) {
			t.Fatalf("append acknowledged %+v, its last event delivered at revision %d position %s", res, r.Revision, r.Position)
		}
	}
	if len(seen) != len(acked2) {
		t.Fatalf("%d events acknowledged, %d delivered", len(acked2), len(seen))
	}
	for stream := range nextRev {
		if err := eventlog.VerifyStream(mustLoad(t, st, stream)); err != nil {
			t.Fatalf("chain of %s: %v", stream, err)
		}
	}
	all := s.readRun(t, st, from, streamHasPrefix(prefix), 0)
	if !sameIDs(ids(all), ids(delivered)) {
		t.Fatalf("$all read (%d events) and subscription (%d) disagree on order", len(all), len(delivered))
	}
}

func (s *suite) testFilters(t *testing.T) {
	st := s.h.Open(t)
	// run appends three rounds of 100 events the filter must skip followed by one it must deliver, then
	// subscribes from before them and checks what arrives.
	run := func(t *testing.T, name string, f eventlog.Filter, skip, take func(round int) (stream, typ string)) {
		t.Helper()
		from := s.marker(t, st, name+"m")
		ends := map[string]*chained{}
		appendTo := func(stream, typ string, n int) []eventlog.Event {
			if ends[stream] == nil {
				ends[stream] = &chained{exp: eventlog.NoStream()}
			}
			evs := s.batch(s.cmd(), n, typ)
			ends[stream].appended(evs, mustAppend(t, st, stream, ends[stream].exp, evs))
			return evs
		}
		var want []eventlog.ID
		for round := 0; round < 3; round++ {
			stream, typ := skip(round)
			appendTo(stream, typ, 50)
			appendTo(stream, typ, 50)
			stream, typ = take(round)
			want = append(want, eventIDs(appendTo(stream, typ, 1))...)
		}
		var events []eventlog.ID
		var checkpoints int
		last := from
		s.subscribe(t, st, from, f, func(d eventlog.Delivery) bool {
			p := d.Checkpoint
			if d.Event != nil {
				p = d.Event.Position
				events = append(events, d.Event.ID)
				if !last.Less(p) {
					t.Fatalf("event at %s delivered after %s", p, last)
				}
			} else {
				checkpoints++
				if p.Less(last) {
					t.Fatalf("checkpoint %s after %s: not monotonic", p, last)
				}
			}
			last = p
			return len(events) == len(want)
		})
		if !sameIDs(events, want) {
			t.Fatalf("filter delivered %v, want %v", events, want)
		}
		if checkpoints == 0 {
			t.Fatalf("no checkpoint delivered while 300 events did not match")
		}
		t.Logf("%d checkpoints", checkpoints)
	}

	t.Run("StreamPrefix", func(t *testing.T) {
		base := s.stream("fp-")
		run(t, "fp", eventlog.Filter{StreamPrefixes: []string{base + "yes-"}},
			func(r int) (string, string) { return fmt.Sprintf("%sno-%d", base, r), "" },
			func(r int) (string, string) { return fmt.Sprintf("%syes-%d", base, r), "" })
	})
	t.Run("StreamRegex", func(t *testing.T) {
		base := s.stream("fr-")
		run(t, "fr", eventlog.Filter{StreamRegex: "^" + regexp.QuoteMeta(base) + "(a|c)-"},
			func(r int) (string, string) { return fmt.Sprintf("%sb-%d", base, r), "" },
			func(r int) (string, string) { return fmt.Sprintf("%s%c-%d", base, "ac"[r%2], r), "" })
	})
	t.Run("TypePrefix", func(t *testing.T) {
		base := s.stream("ft-")
		run(t, "ft", eventlog.Filter{TypePrefixes: []string{s.typ("ft-match.")}},
			func(r int) (string, string) { return fmt.Sprintf("%s%d", base, r), s.typ("ft-other") },
			func(r int) (string, string) { return fmt.Sprintf("%s%d", base, r), s.typ("ft-match.recorded") })
	})
	t.Run("CheckpointsWhileLive", func(t *testing.T) {
		base := s.stream("fl-")
		from := s.marker(t, st, "flm")
		f := eventlog.Filter{StreamPrefixes: []string{base + "yes"}}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		deliveries := make(chan eventlog.Delivery, 1024)
		done := make(chan error, 1)
		go func() {
			done <- st.SubscribeAll(ctx, from, f, func(d eventlog.Delivery) error {
				deliveries <- d
				return nil
			})
		}()
		// next waits for the next event delivery, counting the checkpoints before it.
		next := func() (*eventlog.Recorded, []eventlog.Position) {
			var cps []eventlog.Position
			for {
				select {
				case d := <-deliveries:
					if d.Event != nil {
						return d.Event, cps
					}
					cps = append(cps, d.Checkpoint)
				case err := <-done:
					t.Fatalf("subscription ended: %v", err)
				case <-time.After(30 * time.Second):
					t.Fatal("nothing delivered in 30 s")
				}
			}
		}
		first := s.batch(s.cmd(), 1, "")
		yes := mustAppend(t, st, base+"yes", eventlog.NoStream(), first)
		if ev, _ := next(); ev.Position != yes.Position {
			t.Fatalf("first delivery at %s, want %s", ev.Position, yes.Position)
		}
		// Live now: 200 events the filter skips, then one it takes.
		no := &chained{exp: eventlog.NoStream()}
		var lastNo eventlog.Position
		for i := 0; i < 4; i++ {
			evs := s.batch(s.cmd(), 50, "")
			res := mustAppend(t, st, base+"no", no.exp, evs)
			no.appended(evs, res)
			lastNo = res.Position
		}
		evs := s.batch(s.cmd(), 1, "")
		mustAppend(t, st, base+"yes", eventlog.At(yes.Revision, first[0].Meta.Hash), evs)
		ev, cps := next()
		if ev.ID != evs[0].ID {
			t.Fatalf("delivered %s, want %s", ev.ID, evs[0].ID)
		}
		if len(cps) == 0 {
			t.Fatalf("no checkpoint while 200 live events did not match")
		}
		prev := yes.Position
		for _, cp := range cps {
			if cp.Less(prev) || ev.Position.Less(cp) {
				t.Fatalf("checkpoints %v not within [%s, %s]", cps, yes.Position, ev.Position)
			}
			prev = cp
		}
		t.Logf("%d live checkpoints, the last at %s (last skipped event at %s)", len(cps), cps[len(cps)-1], lastNo)
		cancel()
		<-done
	})
	t.Run("BothKindsRefused", func(t *testing.T) {
		err := st.SubscribeAll(ctxFor(t, 10*time.Second), eventlog.Start,
			eventlog.Filter{StreamPrefixes: []string{"a"}, TypePrefixes: []string{"b"}},
			func(eventlog.Delivery) error { return errors.New("delivered") })
		if err == nil || err.Error() == "delivered" {
			t.Fatalf("a filter on both stream and type: got %v, want a validation error", err)
		}
	})
}

func (s *suite) testSubscribe(t *testing.T) {
	st := s.h.Open(t)
	t.Run("FromPositionExclusive", func(t *testing.T) {
		stream := s.stream("sub-excl")
		mustAppend(t, st, stream, eventlog.NoStream(), s.batch(s.cmd(), 3, ""))
		loaded := mustLoad(t, st, stream)
		var got []eventlog.ID
		s.subscribe(t, st, loaded[0].Position, eventlog.Filter{StreamPrefixes: []string{stream}}, func(d eventlog.Delivery) bool {
			if d.Event != nil {
				got = append(got, d.Event.ID)
			}
			return len(got) == 2
		})
		if !sameIDs(got, ids(loaded[1:])) {
			t.Fatalf("subscribing after revision 0 delivered %v, want revisions 1 and 2 %v", got, ids(loaded[1:]))
		}
	})
	t.Run("FromStartInclusive", func(t *testing.T) {
		s.marker(t, st, "sub-start") // $all is not empty
		var first *eventlog.Recorded
		errStop := errors.New("first")
		err := st.ReadAll(ctxFor(t, 30*time.Second), eventlog.Start, 1, func(r eventlog.Recorded) error {
			first = &r
			return errStop
		})
		if err != errStop || first == nil {
			t.Fatalf("read the first event of $all: %v", err)
		}
		s.subscribe(t, st, eventlog.Start, eventlog.Filter{}, func(d eventlog.Delivery) bool {
			if d.Event == nil {
				return false
			}
			if d.Event.ID != first.ID || d.Event.Position != first.Position {
				t.Fatalf("subscription from the start began with %s at %s, $all begins with %s at %s",
					d.Event.ID, d.Event.Position, first.ID, first.Position)
			}
			return true
		})
	})
	t.Run("LiveAfterCatchUp", func(t *testing.T) {
		stream := s.stream("sub-live")
		from := s.marker(t, st, "sub-livem")
		evs := s.batch(s.cmd(), 2, "")
		mustAppend(t, st, stream, eventlog.NoStream(), evs)
		want := eventIDs(evs)
		tl := eventlog.At(1, evs[1].Meta.Hash)

		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		deliveries := make(chan eventlog.Recorded, 16)
		done := make(chan error, 1)
		go func() {
			done <- st.SubscribeAll(ctx, from, eventlog.Filter{StreamPrefixes: []string{stream}}, func(d eventlog.Delivery) error {
				if d.Event != nil {
					deliveries <- *d.Event
				}
				return nil
			})
		}()
		var got []eventlog.Recorded
		receive := func(n int) {
			for len(got) < n {
				select {
				case r := <-deliveries:
					got = append(got, r)
				case err := <-done:
					t.Fatalf("subscription ended after %d events: %v", len(got), err)
				case <-time.After(30 * time.Second):
					t.Fatalf("only %d of %d events delivered", len(got), n)
				}
			}
		}
		receive(2)
		for round := 0; round < 3; round++ {
			more := s.batch(s.cmd(), 1+round, "")
			mustAppend(t, st, stream, tl, more)
			tl = eventlog.At(tl.Revision+uint64(len(more)), more[len(more)-1].Meta.Hash)
			want = append(want, eventIDs(more)...)
			receive(len(want))
		}
		if !sameIDs(ids(got), want) {
			t.Fatalf("delivered %v, want %v", ids(got), want)
		}
		for i, r := range got {
			if r.Revision != uint64(i) {
				t.Fatalf("delivery %d is revision %d", i, r.Revision)
			}
		}
		select {
		case r := <-deliveries:
			t.Fatalf("extra delivery %s revision %d", r.ID, r.Revision)
		case <-time.After(200 * time.Millisecond):
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled subscription returned %v, want context.Canceled", err)
		}
	})
}
