package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
)

func (s *suite) testRestart(t *testing.T) {
	if s.h.Restart == nil {
		t.Skip(skipNeedsNode)
	}
	st := s.h.Open(t)
	prefix := s.stream("restart-")
	streams := []string{prefix + "a", prefix + "b"}
	ends := map[string]*chained{}
	for _, name := range streams {
		ends[name] = &chained{exp: eventlog.NoStream()}
	}
	var want []eventlog.ID
	var last eventlog.Position
	appendRound := func(st *eventstore.Store, i int) {
		stream := streams[i%2]
		evs := s.batch(s.cmd(), 1+i%3, "")
		res := mustAppend(t, st, stream, ends[stream].exp, evs)
		if !last.Less(res.Position) {
			t.Fatalf("append %d at %s, not after the previous one at %s", i, res.Position, last)
		}
		last = res.Position
		ends[stream].appended(evs, res)
		want = append(want, eventIDs(evs)...)
	}
	for i := 0; i < 6; i++ {
		appendRound(st, i)
	}
	before := map[string][]eventlog.Recorded{}
	for _, name := range streams {
		before[name] = mustLoad(t, st, name)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("close store: %v", err)
	}

	s.h.Restart(t)
	st = s.h.Open(t)
	for _, name := range streams {
		after := mustLoad(t, st, name)
		if len(after) != len(before[name]) {
			t.Fatalf("%s: %d events after restart, %d acknowledged before", name, len(after), len(before[name]))
		}
		for i := range after {
			a, b := after[i], before[name][i]
			if a.ID != b.ID || a.Revision != b.Revision || a.Position != b.Position || a.Meta != b.Meta || !a.Created.Equal(b.Created) {
				t.Fatalf("%s event %d changed across restart:\n before %+v\n  after %+v", name, i, b, a)
			}
		}
	}
	for i := 6; i < 12; i++ {
		appendRound(st, i)
	}
	for _, name := range streams {
		if err := eventlog.VerifyStream(mustLoad(t, st, name)); err != nil {
			t.Fatalf("chain of %s after restart: %v", name, err)
		}
	}
	first := before[streams[0]][0].Position
	got := s.readRun(t, st, first, streamHasPrefix(prefix), 0)
	if !sameIDs(ids(got), want) {
		t.Fatalf("$all after restart holds %d of the run's events, want %d in append order", len(got), len(want))
	}
}

// crashWriter is one writer of the crash test: its stream, the commands it has seen acknowledged (each a
// batch of crashBatch events) and the one in flight when the node died, if any.
type crashWriter struct {
	stream   string
	acked    []string
	inflight string
	end      chained
}

const crashBatch = 3

func (s *suite) testCrash(t *testing.T) {
	if s.h.Crash == nil {
		t.Skip(skipNeedsNode)
	}
	const (
		writers = 8
		rounds  = 2
		killAt  = 80 // batches acknowledged in a round before the kill
	)
	p := s.h.Crash(t)
	prefix := s.stream("crash-")
	ws := make([]*crashWriter, writers)
	for w := range ws {
		ws[w] = &crashWriter{stream: fmt.Sprintf("%sw%d", prefix, w), end: chained{exp: eventlog.NoStream()}}
	}
	var lastPos eventlog.Position
	for round := 0; round < rounds; round++ {
		// Each writer has its own connection: a client whose server vanished must not hold up the others.
		stores := make([]*eventstore.Store, writers)
		for w := range stores {
			stores[w] = p.Open(t)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		var acked atomic.Int64
		var wg sync.WaitGroup
		for w, cw := range ws {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					cmd := s.cmd()
					evs := s.batch(cmd, crashBatch, "")
					res, err := stores[w].Append(ctx, cw.stream, cw.end.exp, evs)
					if err != nil {
						cw.inflight = cmd // stored or not: the node may have died before or after the fsync
						return
					}
					cw.acked = append(cw.acked, cmd)
					cw.end.appended(evs, res)
					acked.Add(1)
				}
			}()
		}
		deadline := time.Now().Add(45 * time.Second)
		for acked.Load() < killAt && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
		}
		if acked.Load() < killAt {
			cancel()
			t.Fatalf("round %d: only %d batches acknowledged in 45 s", round, acked.Load())
		}
		p.Kill(t)
		stopped := make(chan struct{})
		go func() { wg.Wait(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(30 * time.Second):
			cancel()
			t.Fatalf("round %d: writers still blocked 30 s after the node was killed", round)
		}
		cancel()
		for _, st := range stores {
			st.Close()
		}
		t.Logf("round %d: killed after %d acknowledged batches", round, acked.Load())

		p.Start(t)
		st := p.Open(t)
		total := 0
		for _, cw := range ws {
			got := mustLoad(t, st, cw.stream)
			s.checkCrashStream(t, cw, got)
			total += len(got)
			if n := len(got); n > 0 && lastPos.Less(got[n-1].Position) {
				lastPos = got[n-1].Position
			}
		}
		// In $all too, every batch is whole and contiguous, and nothing else of the run's writers is there.
		all := s.readRun(t, st, eventlog.Start, streamHasPrefix(prefix), 0)
		if len(all) != total {
			t.Fatalf("round %d: $all holds %d events of the writers' streams, the streams %d", round, len(all), total)
		}
		for i := 0; i < len(all); i += crashBatch {
			for j := 1; j < crashBatch; j++ {
				if all[i+j].Meta.CommandID != all[i].Meta.CommandID || !all[i+j-1].Position.Less(all[i+j].Position) {
					t.Fatalf("round %d: batch %s is not contiguous in $all", round, all[i].Meta.CommandID)
				}
			}
		}
	}

	// Appends continue after the last restart, at the right revisions and later positions.
	st := p.Open(t)
	for _, cw := range ws {
		evs := s.batch(s.cmd(), crashBatch, "")
		res := mustAppend(t, st, cw.stream, cw.end.exp, evs)
		if want := uint64(len(cw.acked)*crashBatch + crashBatch - 1); res.Revision != want {
			t.Fatalf("%s: append after the crash landed at revision %d, want %d", cw.stream, res.Revision, want)
		}
		if !lastPos.Less(res.Position) {
			t.Fatalf("%s: append after the crash at %s, not after the last event before it (%s)", cw.stream, res.Position, lastPos)
		}
		if err := eventlog.VerifyStream(mustLoad(t, st, cw.stream)); err != nil {
			t.Fatalf("chain of %s: %v", cw.stream, err)
		}
	}
}

// checkCrashStream checks a writer's stream after a crash: every acknowledged batch there, whole and in
// order, then at most the batch that was in flight, whole; an intact chain. It then takes the in-flight batch
// as acknowledged when it was stored, and sets the writer to continue after the stream's tail.
func (s *suite) checkCrashStream(t *testing.T, cw *crashWriter, got []eventlog.Recorded) {
	t.Helper()
	if len(got)%crashBatch != 0 {
		t.Fatalf("%s holds %d events: a %d-event batch is partly stored", cw.stream, len(got), crashBatch)
	}
	batches := len(got) / crashBatch
	if batches < len(cw.acked) {
		t.Fatalf("%s holds %d batches, %d were acknowledged: acknowledged events lost", cw.stream, batches, len(cw.acked))
	}
	cmds := cw.acked
	if batches == len(cmds)+1 && cw.inflight != "" {
		cmds = append(cmds, cw.inflight)
	}
	if batches != len(cmds) {
		t.Fatalf("%s holds %d batches, %d acknowledged and %q in flight", cw.stream, batches, len(cw.acked), cw.inflight)
	}
	for k, cmd := range cmds {
		for i := 0; i < crashBatch; i++ {
			if r := got[k*crashBatch+i]; r.ID != eventlog.DeriveID(cmd, i) || r.Revision != uint64(k*crashBatch+i) {
				t.Fatalf("%s revision %d holds %s, want event %d of batch %s", cw.stream, r.Revision, r.ID, i, cmd)
			}
		}
	}
	if err := eventlog.VerifyStream(got); err != nil {
		t.Fatalf("chain of %s after the crash: %v", cw.stream, err)
	}
	cw.acked, cw.inflight = cmds, ""
	cw.end.exp = eventlog.After(got)
}
