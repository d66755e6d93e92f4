package storetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
)

// wantConflict checks err is the conflict the contract promises: a *ConflictError for stream with the
// stream's actual revision and the caller's expectation, matching ErrConflict.
func wantConflict(t *testing.T, err error, stream string, exp eventlog.Expected, actual int64) {
	t.Helper()
	var ce *eventlog.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, eventlog.ErrConflict) {
		t.Fatalf("append to %s at %s: want a *eventlog.ConflictError (errors.Is ErrConflict), got %v", stream, exp, err)
	}
	if ce.Stream != stream || ce.Actual != actual || ce.Expected != exp {
		t.Fatalf("conflict = {Stream %q, Expected %s, Actual %d}, want {%q, %s, %d}", ce.Stream, ce.Expected, ce.Actual, stream, exp, actual)
	}
}

// wantUnchanged checks stream holds exactly before (nothing written by a refused append).
func wantUnchanged(t *testing.T, st *eventstore.Store, stream string, before []eventlog.Recorded) {
	t.Helper()
	after := mustLoad(t, st, stream)
	if !sameIDs(ids(after), ids(before)) {
		t.Fatalf("stream %s changed by a refused append: %d events before, %d after", stream, len(before), len(after))
	}
}

// wantRevisions checks the stream's events are at revisions 0..n-1 and returns them.
func wantStream(t *testing.T, st *eventstore.Store, stream string, want []eventlog.ID) []eventlog.Recorded {
	t.Helper()
	got := mustLoad(t, st, stream)
	if !sameIDs(ids(got), want) {
		t.Fatalf("stream %s holds %d events %v, want %d %v", stream, len(got), ids(got), len(want), want)
	}
	for i, r := range got {
		if r.Revision != uint64(i) || r.Stream != stream {
			t.Fatalf("event %d of %s recorded as %s revision %d", i, stream, r.Stream, r.Revision)
		}
	}
	return got
}

func (s *suite) testExpected(t *testing.T) {
	st := s.h.Open(t)
	// existing makes a stream of two events and returns its name and events.
	existing := func(t *testing.T, name string) (string, []eventlog.Recorded) {
		stream := s.stream("exp-" + name)
		mustAppend(t, st, stream, eventlog.NoStream(), s.batch(s.cmd(), 2, ""))
		return stream, mustLoad(t, st, stream)
	}

	t.Run("NoStreamOnNew", func(t *testing.T) {
		stream := s.stream("exp-nostream-new")
		evs := s.batch(s.cmd(), 2, "")
		res := mustAppend(t, st, stream, eventlog.NoStream(), evs)
		got := wantStream(t, st, stream, eventIDs(evs))
		if res.Revision != 1 || res.Position != got[1].Position {
			t.Fatalf("result %+v, want revision 1 at %s", res, got[1].Position)
		}
	})
	t.Run("NoStreamOnExisting", func(t *testing.T) {
		stream, before := existing(t, "nostream-existing")
		_, err := st.Append(ctxFor(t, 30*time.Second), stream, eventlog.NoStream(), s.batch(s.cmd(), 1, ""))
		wantConflict(t, err, stream, eventlog.NoStream(), 1)
		wantUnchanged(t, st, stream, before)
	})
	t.Run("AtRight", func(t *testing.T) {
		stream, before := existing(t, "at-right")
		evs := s.batch(s.cmd(), 2, "")
		res := mustAppend(t, st, stream, eventlog.After(before), evs)
		got := wantStream(t, st, stream, append(ids(before), eventIDs(evs)...))
		if res.Revision != 3 || res.Position != got[3].Position {
			t.Fatalf("result %+v, want revision 3 at %s", res, got[3].Position)
		}
	})
	t.Run("AtBehind", func(t *testing.T) {
		stream, before := existing(t, "at-behind")
		exp := eventlog.At(0, before[0].Meta.Hash)
		_, err := st.Append(ctxFor(t, 30*time.Second), stream, exp, s.batch(s.cmd(), 1, ""))
		wantConflict(t, err, stream, exp, 1)
		wantUnchanged(t, st, stream, before)
	})
	t.Run("AtAhead", func(t *testing.T) {
		stream, before := existing(t, "at-ahead")
		exp := eventlog.At(5, before[1].Meta.Hash)
		_, err := st.Append(ctxFor(t, 30*time.Second), stream, exp, s.batch(s.cmd(), 1, ""))
		wantConflict(t, err, stream, exp, 1)
		wantUnchanged(t, st, stream, before)
	})
	t.Run("AtWithoutTailHash", func(t *testing.T) {
		// The tail hash continues the chain: an expectation without one is refused before anything is sent.
		stream, before := existing(t, "at-no-hash")
		for _, h := range []string{"", "not-a-hash", before[1].Meta.Hash[:10]} {
			_, err := st.Append(ctxFor(t, 30*time.Second), stream, eventlog.At(1, h), s.batch(s.cmd(), 1, ""))
			if err == nil || !strings.Contains(err.Error(), "no tail hash") || errors.Is(err, eventlog.ErrConflict) {
				t.Fatalf("append at revision 1 with tail hash %q: %v; want a refusal naming the missing tail hash", h, err)
			}
		}
		wantUnchanged(t, st, stream, before)
	})
	t.Run("AtOnMissing", func(t *testing.T) {
		stream := s.stream("exp-at-missing")
		exp := eventlog.At(0, strings.Repeat("ab", 32))
		_, err := st.Append(ctxFor(t, 30*time.Second), stream, exp, s.batch(s.cmd(), 1, ""))
		wantConflict(t, err, stream, exp, -1)
		wantUnchanged(t, st, stream, nil)
	})
	t.Run("AnyOnNew", func(t *testing.T) {
		stream := s.stream("exp-any-new")
		evs := s.batch(s.cmd(), 3, "")
		res := mustAppend(t, st, stream, eventlog.Any(), evs)
		got := wantStream(t, st, stream, eventIDs(evs))
		if res.Revision != 2 || res.Position != got[2].Position {
			t.Fatalf("result %+v, want revision 2 at %s", res, got[2].Position)
		}
	})
	t.Run("AnyOnExisting", func(t *testing.T) {
		stream, before := existing(t, "any-existing")
		evs := s.batch(s.cmd(), 1, "")
		res := mustAppend(t, st, stream, eventlog.Any(), evs)
		got := wantStream(t, st, stream, append(ids(before), eventIDs(evs)...))
		if res.Revision != 2 || res.Position != got[2].Position {
			t.Fatalf("result %+v, want revision 2 at %s", res, got[2].Position)
		}
	})
	t.Run("StreamExistsOnNew", func(t *testing.T) {
		stream := s.stream("exp-exists-new")
		_, err := st.Append(ctxFor(t, 30*time.Second), stream, eventlog.StreamExists(), s.batch(s.cmd(), 1, ""))
		wantConflict(t, err, stream, eventlog.StreamExists(), -1)
		wantUnchanged(t, st, stream, nil)
	})
	t.Run("StreamExistsOnExisting", func(t *testing.T) {
		stream, before := existing(t, "exists-existing")
		evs := s.batch(s.cmd(), 2, "")
		res := mustAppend(t, st, stream, eventlog.StreamExists(), evs)
		got := wantStream(t, st, stream, append(ids(before), eventIDs(evs)...))
		if res.Revision != 3 || res.Position != got[3].Position {
			t.Fatalf("result %+v, want revision 3 at %s", res, got[3].Position)
		}
	})
	t.Run("BadInput", func(t *testing.T) {
		stream := s.stream("exp-bad")
		ctx := ctxFor(t, 30*time.Second)
		if _, err := st.Append(ctx, stream, eventlog.Any(), nil); err == nil {
			t.Fatal("append of no events succeeded")
		}
		noID := s.batch(s.cmd(), 1, "")
		noID[0].ID = eventlog.ID{}
		if _, err := st.Append(ctx, stream, eventlog.Any(), noID); err == nil {
			t.Fatal("append of an event without id succeeded")
		}
		if _, err := st.Append(ctx, "", eventlog.Any(), s.batch(s.cmd(), 1, "")); err == nil {
			t.Fatal("append to an unnamed stream succeeded")
		}
		wantUnchanged(t, st, stream, nil)
	})
}

func (s *suite) testIdempotentRetry(t *testing.T) {
	st := s.h.Open(t)
	// retry appends the same command twice with the same expectation and checks one copy is stored, in the
	// stream and in $all, and both calls report the same result.
	retry := func(t *testing.T, stream string, exp eventlog.Expected, before []eventlog.Recorded, n int) {
		cmd := s.cmd()
		first := mustAppend(t, st, stream, exp, s.batch(cmd, n, ""))
		again := mustAppend(t, st, stream, exp, s.batch(cmd, n, ""))
		if again != first {
			t.Fatalf("retried append answered %+v, the first %+v", again, first)
		}
		got := wantStream(t, st, stream, append(ids(before), eventIDs(s.batch(cmd, n, ""))...))
		if got[len(got)-1].Position != first.Position {
			t.Fatalf("result position %s, last event at %s", first.Position, got[len(got)-1].Position)
		}
		inAll := s.readRun(t, st, got[0].Position, streamIs(stream), 0)
		if !sameIDs(ids(inAll), ids(got)) {
			t.Fatalf("$all holds %d events of %s, the stream %d: %v", len(inAll), stream, len(got), ids(inAll))
		}
	}
	t.Run("NoStream", func(t *testing.T) {
		retry(t, s.stream("idem-nostream"), eventlog.NoStream(), nil, 3)
	})
	t.Run("At", func(t *testing.T) {
		stream := s.stream("idem-at")
		mustAppend(t, st, stream, eventlog.NoStream(), s.batch(s.cmd(), 1, ""))
		before := mustLoad(t, st, stream)
		retry(t, stream, eventlog.After(before), before, 3)
	})
	t.Run("Any", func(t *testing.T) {
		stream := s.stream("idem-any")
		mustAppend(t, st, stream, eventlog.NoStream(), s.batch(s.cmd(), 2, ""))
		before := mustLoad(t, st, stream)
		retry(t, stream, eventlog.Any(), before, 2)
	})
	t.Run("AnyOnNew", func(t *testing.T) {
		retry(t, s.stream("idem-any-new"), eventlog.Any(), nil, 1)
	})
	t.Run("OtherIdsConflict", func(t *testing.T) {
		stream := s.stream("idem-other")
		mustAppend(t, st, stream, eventlog.NoStream(), s.batch(s.cmd(), 2, ""))
		before := mustLoad(t, st, stream)
		_, err := st.Append(ctxFor(t, 30*time.Second), stream, eventlog.NoStream(), s.batch(s.cmd(), 2, ""))
		wantConflict(t, err, stream, eventlog.NoStream(), 1)
		wantUnchanged(t, st, stream, before)
	})
}

func (s *suite) testAtomicMultiEvent(t *testing.T) {
	st := s.h.Open(t)
	stream := s.stream("atomic")
	evs := s.batch(s.cmd(), 5, "")
	res := mustAppend(t, st, stream, eventlog.NoStream(), evs)
	got := wantStream(t, st, stream, eventIDs(evs))
	if res.Revision != 4 || res.Position != got[4].Position {
		t.Fatalf("result %+v, want revision 4 at %s", res, got[4].Position)
	}
	// Contiguous in $all: the five events follow one another with nothing between them.
	var all []eventlog.Recorded
	err := st.ReadAll(ctxFor(t, 30*time.Second), got[0].Position, 5, func(r eventlog.Recorded) error {
		all = append(all, r)
		return nil
	})
	if err != nil {
		t.Fatalf("read $all: %v", err)
	}
	if !sameIDs(ids(all), ids(got)) {
		t.Fatalf("$all from the first event holds %v, want the append's events %v", ids(all), ids(got))
	}
	for i := 1; i < len(all); i++ {
		if !all[i-1].Position.Less(all[i].Position) {
			t.Fatalf("positions not increasing: %s then %s", all[i-1].Position, all[i].Position)
		}
	}

	exp := eventlog.At(2, got[2].Meta.Hash)
	refused := s.batch(s.cmd(), 4, "")
	_, err = st.Append(ctxFor(t, 30*time.Second), stream, exp, refused)
	wantConflict(t, err, stream, exp, 4)
	wantUnchanged(t, st, stream, got)
	inAll := s.readRun(t, st, got[0].Position, streamIs(stream), 0)
	if !sameIDs(ids(inAll), ids(got)) {
		t.Fatalf("$all holds %d events of %s after a refused append, want %d", len(inAll), stream, len(got))
	}
}
