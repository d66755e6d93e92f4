package workload

import (
	"context"
	"fmt"
	"sync"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
)

// Recorded generates the history of opts in memory, as a store would record it: each stream's
// revisions and hash chain, a dense $all (commit = prepare, from 1) in the order of the appends, and the
// store's write time taken from each event's occurred_at. Concurrency is forced to 1, so the same options
// give the same events in the same $all order on every run. It is the read models' test history
// (projections/internal/decode/decodetest): a realistic district through the domain's decisions, at any
// size (Options.Target).
func Recorded(ctx context.Context, opts Options) ([]eventlog.Recorded, Stats, error) {
	opts.Concurrency = 1
	var s recordingSink
	stats, err := Generate(ctx, opts, &s)
	if err != nil {
		return nil, Stats{}, err
	}
	return s.events, stats, nil
}

// recordingSink is the in-memory store behind Recorded.
type recordingSink struct {
	mu     sync.Mutex
	next   map[string]uint64 // the next revision of each stream
	events []eventlog.Recorded
}

func (s *recordingSink) Append(_ context.Context, stream string, exp eventlog.Expected, evs []eventlog.Event) (eventlog.AppendResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.next == nil {
		s.next = map[string]uint64{}
	}
	rev, exists := s.next[stream]
	if exists != (exp.Kind == eventlog.ExpectRevisionKind) || (exists && exp.Revision != rev-1) {
		return eventlog.AppendResult{}, fmt.Errorf("%s: expected %s at revision %d: %w", stream, exp, rev, eventlog.ErrConflict)
	}
	eventlog.Seal(stream, exp.TailHash, evs)
	var res eventlog.AppendResult
	for _, e := range evs {
		n := uint64(len(s.events) + 1)
		res = eventlog.AppendResult{Revision: rev, Position: eventlog.Position{Commit: n, Prepare: n}}
		s.events = append(s.events, eventlog.Recorded{Event: e, Stream: stream, Revision: rev, Position: res.Position, Created: e.Meta.OccurredAt})
		rev++
	}
	s.next[stream] = rev
	return res, nil
}
