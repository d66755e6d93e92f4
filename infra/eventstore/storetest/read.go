package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
)

func revisions(rs []eventlog.Recorded) []uint64 {
	out := make([]uint64, len(rs))
	for i, r := range rs {
		out[i] = r.Revision
	}
	return out
}

func (s *suite) testReadStream(t *testing.T) {
	st := s.h.Open(t)
	stream := s.stream("read")
	mustAppend(t, st, stream, eventlog.NoStream(), s.batch(s.cmd(), 4, ""))
	mustAppend(t, st, stream, tail(t, st, stream), s.batch(s.cmd(), 6, ""))

	cases := []struct {
		name      string
		from      uint64
		count     int
		backwards bool
		want      []uint64
	}{
		{"ForwardsAll", 0, 0, false, []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"ForwardsCount", 0, 3, false, []uint64{0, 1, 2}},
		{"ForwardsFromRevision", 4, 3, false, []uint64{4, 5, 6}},
		{"ForwardsPastEnd", 8, 5, false, []uint64{8, 9}},
		{"ForwardsFromEnd", 10, 5, false, []uint64{}},
		{"BackwardsTail", eventstore.Last, 1, true, []uint64{9}},
		{"BackwardsAll", eventstore.Last, 0, true, []uint64{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
		{"BackwardsFromRevision", 5, 3, true, []uint64{5, 4, 3}},
		{"BackwardsPastStart", 1, 5, true, []uint64{1, 0}},
		{"BackwardsFromPastEnd", 100, 2, true, []uint64{9, 8}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := st.ReadStream(ctxFor(t, 30*time.Second), stream, c.from, c.count, c.backwards)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			revs := revisions(got)
			if len(revs) != len(c.want) {
				t.Fatalf("revisions %v, want %v", revs, c.want)
			}
			for i := range revs {
				if revs[i] != c.want[i] || got[i].Stream != stream {
					t.Fatalf("revisions %v, want %v", revs, c.want)
				}
			}
		})
	}
	t.Run("Missing", func(t *testing.T) {
		missing := s.stream("read-missing")
		_, err := st.ReadStream(ctxFor(t, 30*time.Second), missing, 0, 10, false)
		if !errors.Is(err, eventlog.ErrStreamNotFound) {
			t.Fatalf("read of a missing stream: want ErrStreamNotFound, got %v", err)
		}
		_, err = st.ReadStream(ctxFor(t, 30*time.Second), missing, eventstore.Last, 1, true)
		if !errors.Is(err, eventlog.ErrStreamNotFound) {
			t.Fatalf("backwards read of a missing stream: want ErrStreamNotFound, got %v", err)
		}
		evs, err := st.Load(ctxFor(t, 30*time.Second), missing)
		if err != nil || evs != nil {
			t.Fatalf("load of a missing stream = (%v, %v), want (nil, nil)", evs, err)
		}
	})
}

// sameEnvelope reports how a read event differs from the event appended, or "".
func sameEnvelope(got eventlog.Recorded, want eventlog.Event, stream string) string {
	switch {
	case got.ID != want.ID:
		return "id " + got.ID.String() + " != " + want.ID.String()
	case got.Type != want.Type:
		return "type " + got.Type + " != " + want.Type
	case !bytes.Equal(got.Data, want.Data):
		return "data " + string(got.Data) + " != " + string(want.Data)
	case got.Stream != stream:
		return "stream " + got.Stream + " != " + stream
	case !got.Meta.OccurredAt.Equal(want.Meta.OccurredAt) || got.Meta.OccurredAt.Location() != time.UTC:
		return "occurred_at " + got.Meta.OccurredAt.String() + " != " + want.Meta.OccurredAt.String()
	}
	g, w := got.Meta, want.Meta
	g.OccurredAt, w.OccurredAt = time.Time{}, time.Time{}
	if g != w {
		return "metadata differs"
	}
	return ""
}

func (s *suite) testEnvelope(t *testing.T) {
	st := s.h.Open(t)
	stream := s.stream("envelope")
	evs := s.batch(s.cmd(), 3, s.typ("envelope"))
	evs[1].Meta.CommunityID = ""
	evs[1].Meta.CorrelationID = ""
	evs[2].Data = []byte(`{"amount_fen": 120000, "payee": "张三", "nested": {"a": [1, 2, 3]}}`)
	before := s.marker(t, st, "envelope")
	started := time.Now()
	res := mustAppend(t, st, stream, eventlog.NoStream(), evs)

	// Append sealed the caller's events: every one carries its hash, linked to the previous.
	for i, e := range evs {
		if e.Meta.Hash == "" || e.Meta.Hash != eventlog.HashOf(stream, e) {
			t.Fatalf("event %d not sealed by Append: hash %q", i, e.Meta.Hash)
		}
		if i > 0 && e.Meta.PrevHash != evs[i-1].Meta.Hash {
			t.Fatalf("event %d prev_hash does not link to event %d", i, i-1)
		}
	}

	check := func(t *testing.T, how string, got []eventlog.Recorded) {
		t.Helper()
		if len(got) != len(evs) {
			t.Fatalf("%s: %d events, want %d", how, len(got), len(evs))
		}
		for i, r := range got {
			if d := sameEnvelope(r, evs[i], stream); d != "" {
				t.Fatalf("%s: event %d: %s", how, i, d)
			}
			if r.Revision != uint64(i) || r.Position.IsZero() {
				t.Fatalf("%s: event %d at revision %d position %s", how, i, r.Revision, r.Position)
			}
			if r.Created.Before(started.Add(-time.Minute)) || r.Created.After(time.Now().Add(time.Minute)) || r.Created.Location() != time.UTC {
				t.Fatalf("%s: event %d created %s, appended at %s", how, i, r.Created, started)
			}
		}
		if got[len(got)-1].Position != res.Position {
			t.Fatalf("%s: last event at %s, append said %s", how, got[len(got)-1].Position, res.Position)
		}
	}
	loaded := mustLoad(t, st, stream)
	check(t, "Load", loaded)
	check(t, "ReadAll", s.readRun(t, st, loaded[0].Position, streamIs(stream), 0))
	var sub []eventlog.Recorded
	s.subscribe(t, st, before, eventlog.Filter{StreamPrefixes: []string{stream}}, func(d eventlog.Delivery) bool {
		if d.Event != nil && d.Event.Stream == stream {
			sub = append(sub, *d.Event)
		}
		return len(sub) == len(evs)
	})
	check(t, "SubscribeAll", sub)
}

func (s *suite) testHashChain(t *testing.T) {
	st := s.h.Open(t)
	stream := s.stream("chain")
	var tailHash string
	var rev uint64
	step := func(t *testing.T, exp eventlog.Expected, evs []eventlog.Event) {
		t.Helper()
		res := mustAppend(t, st, stream, exp, evs)
		if evs[0].Meta.PrevHash != tailHash {
			t.Fatalf("append at %s chained after %q, the tail is %q", exp, evs[0].Meta.PrevHash, tailHash)
		}
		tailHash, rev = evs[len(evs)-1].Meta.Hash, res.Revision
	}
	step(t, eventlog.NoStream(), s.batch(s.cmd(), 2, ""))
	step(t, eventlog.At(rev, tailHash), s.batch(s.cmd(), 3, ""))
	step(t, eventlog.Any(), s.batch(s.cmd(), 1, ""))
	step(t, eventlog.StreamExists(), s.batch(s.cmd(), 2, ""))
	cmd := s.cmd()
	step(t, eventlog.Any(), s.batch(cmd, 2, ""))
	// A retried Any append must not relink (or duplicate) the events already stored.
	again := s.batch(cmd, 2, "")
	mustAppend(t, st, stream, eventlog.Any(), again)
	if again[1].Meta.Hash != tailHash {
		t.Fatalf("retried Any append sealed to %s, the stored tail is %s", again[1].Meta.Hash, tailHash)
	}
	step(t, eventlog.At(rev, tailHash), s.batch(s.cmd(), 1, ""))

	loaded := mustLoad(t, st, stream)
	if len(loaded) != 11 {
		t.Fatalf("stream holds %d events, want 11", len(loaded))
	}
	if err := eventlog.VerifyStream(loaded); err != nil {
		t.Fatalf("chain of %s: %v", stream, err)
	}
	if loaded[len(loaded)-1].Meta.Hash != tailHash {
		t.Fatalf("stored tail %s, Append reported %s", loaded[len(loaded)-1].Meta.Hash, tailHash)
	}
}
