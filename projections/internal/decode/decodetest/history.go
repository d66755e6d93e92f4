package decodetest

import (
	"context"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"
	"unsafe"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// Place is where a community's events belong: its id and full jurisdiction path.
type Place struct {
	ID   string
	Path string
}

// Community returns the place of community id under street (a 4-level path).
func Community(street, id string) Place { return Place{ID: id, Path: street + "/" + id} }

// History is a recorded history built in memory, as the store would record it: per-stream revisions, a
// dense $all (commit = prepare, from 1), ids derived from command ids.
type History struct {
	Events []eventlog.Recorded
	revs   map[string]uint64
	cmds   int
	// Actor is written into every event's metadata; default "clerk:test".
	Actor string
}

// Next is the $all position the next event will get.
func (h *History) Next() eventlog.Position {
	n := uint64(len(h.Events) + 1)
	return eventlog.Position{Commit: n, Prepare: n}
}

// Head is the position of the last event (Start when none).
func (h *History) Head() eventlog.Position {
	if len(h.Events) == 0 {
		return eventlog.Start
	}
	return h.Events[len(h.Events)-1].Position
}

// Record appends the events of one command to stream, at `at`, and returns them as recorded.
func (h *History) Record(stream string, p Place, at time.Time, evs ...kernel.Event) []eventlog.Recorded {
	first := len(h.Events)
	h.cmds++
	cmd := fmt.Sprintf("cmd-%d", h.cmds)
	for i, e := range evs {
		name, version, data, err := kernel.Encode(e)
		if err != nil {
			panic(err)
		}
		h.add(stream, p, at, cmd, i, name, version, data)
	}
	return h.Events[first:]
}

// RecordRaw appends one event with the given type, schema version and payload as they are, for poison
// events the domain would never produce.
func (h *History) RecordRaw(stream string, p Place, at time.Time, typ string, version int, data []byte) eventlog.Recorded {
	h.cmds++
	h.add(stream, p, at, fmt.Sprintf("cmd-%d", h.cmds), 0, typ, version, data)
	return h.Events[len(h.Events)-1]
}

func (h *History) add(stream string, p Place, at time.Time, cmd string, i int, typ string, version int, data []byte) {
	if h.revs == nil {
		h.revs = map[string]uint64{}
	}
	rev, seen := h.revs[stream]
	if seen {
		rev++
	}
	h.revs[stream] = rev
	actor := h.Actor
	if actor == "" {
		actor = "clerk:test"
	}
	pos := h.Next()
	h.Events = append(h.Events, eventlog.Recorded{
		Event: eventlog.Event{ID: eventlog.DeriveID(cmd, i), Type: typ, Data: data, Meta: eventlog.Metadata{
			SchemaVersion: version, CommunityID: p.ID, Jurisdiction: p.Path, Actor: actor, CommandID: cmd,
			CorrelationID: cmd, CausationID: cmd, OccurredAt: at.UTC(),
		}},
		Stream: stream, Revision: rev, Position: pos, Created: at.UTC(),
	})
}

// ---- an in-memory $all --------------------------------------------------------------------------------

// MemSource is $all held in memory, for running the real runtime without an event store: ReadAll and
// SubscribeAll as the adapter serves them, and Append to add events while a subscription follows.
//
// The events are packed into pointer-free memory (one byte arena, one table of fixed-size slots), so a
// history of millions of events costs the garbage collector nothing to hold: like a real store, it is
// outside the heap the read models work in. The events handed out share the arena: never modify Data.
type MemSource struct {
	mu      sync.Mutex
	arena   []byte
	slots   []slot
	changed chan struct{}
}

// field is a string of an event in the arena.
type field struct{ off, n uint32 }

const (
	fType = iota
	fStream
	fData
	fCommunity
	fJurisdiction
	fActor
	fCommand
	fCorrelation
	fCausation
	fPrevHash
	fHash
	nFields
)

type slot struct {
	id                eventlog.ID
	pos               eventlog.Position
	revision          uint64
	created, occurred int64 // UnixNano; occurred math.MinInt64 when zero
	version           int32
	f                 [nFields]field
}

// NewMemSource holds events (in $all order).
func NewMemSource(events []eventlog.Recorded) *MemSource {
	s := &MemSource{changed: make(chan struct{})}
	s.pack(events)
	return s
}

func (s *MemSource) pack(events []eventlog.Recorded) {
	for i := range events {
		e := &events[i]
		sl := slot{id: e.ID, pos: e.Position, revision: e.Revision, created: e.Created.UnixNano(), occurred: math.MinInt64,
			version: int32(e.Meta.SchemaVersion)}
		if !e.Meta.OccurredAt.IsZero() {
			sl.occurred = e.Meta.OccurredAt.UnixNano()
		}
		m := &e.Meta
		for k, v := range [nFields]string{e.Type, e.Stream, string(e.Data), m.CommunityID, m.Jurisdiction, m.Actor, m.CommandID,
			m.CorrelationID, m.CausationID, m.PrevHash, m.Hash} {
			sl.f[k] = field{off: uint32(len(s.arena)), n: uint32(len(v))}
			s.arena = append(s.arena, v...)
		}
		s.slots = append(s.slots, sl)
	}
}

func (s *MemSource) event(arena []byte, sl *slot) eventlog.Recorded {
	str := func(k int) string {
		f := sl.f[k]
		if f.n == 0 {
			return ""
		}
		return unsafe.String(&arena[f.off], int(f.n))
	}
	d := sl.f[fData]
	e := eventlog.Recorded{
		Event: eventlog.Event{ID: sl.id, Type: str(fType), Data: arena[d.off : d.off+d.n : d.off+d.n], Meta: eventlog.Metadata{
			SchemaVersion: int(sl.version), CommunityID: str(fCommunity), Jurisdiction: str(fJurisdiction), Actor: str(fActor),
			CommandID: str(fCommand), CorrelationID: str(fCorrelation), CausationID: str(fCausation),
			PrevHash: str(fPrevHash), Hash: str(fHash)}},
		Stream: str(fStream), Revision: sl.revision, Position: sl.pos, Created: time.Unix(0, sl.created).UTC(),
	}
	if sl.occurred != math.MinInt64 {
		e.Meta.OccurredAt = time.Unix(0, sl.occurred).UTC()
	}
	return e
}

// Len is the number of events held.
func (s *MemSource) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.slots)
}

// Append adds events after the others and wakes the subscriptions.
func (s *MemSource) Append(events ...eventlog.Recorded) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pack(events)
	close(s.changed)
	s.changed = make(chan struct{})
}

// from is the index of the first slot at (inclusive) or after (exclusive) p.
func (s *MemSource) from(p eventlog.Position, inclusive bool) int {
	return sort.Search(len(s.slots), func(i int) bool {
		if inclusive {
			return !s.slots[i].pos.Less(p)
		}
		return p.Less(s.slots[i].pos)
	})
}

// snapshot returns the arena and slots from index i, as they are now (appends never move what was
// handed out: a grown arena is a copy, the old one stays valid).
func (s *MemSource) snapshot(p eventlog.Position, inclusive bool) ([]byte, []slot, chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.arena, s.slots[s.from(p, inclusive):], s.changed
}

// ReadAll calls fn for at most max events (all when max <= 0) from position from, inclusive.
func (s *MemSource) ReadAll(ctx context.Context, from eventlog.Position, max int, fn func(eventlog.Recorded) error) error {
	arena, slots, _ := s.snapshot(from, true)
	if max > 0 && len(slots) > max {
		slots = slots[:max]
	}
	for i := range slots {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := fn(s.event(arena, &slots[i])); err != nil {
			return err
		}
	}
	return nil
}

// SubscribeAll calls fn for every event after from (exclusive), then follows appends until ctx ends.
// The filter is ignored: the runtime subscribes to everything.
func (s *MemSource) SubscribeAll(ctx context.Context, from eventlog.Position, _ eventlog.Filter, fn func(eventlog.Delivery) error) error {
	next := from
	for {
		arena, slots, wait := s.snapshot(next, false)
		for i := range slots {
			e := s.event(arena, &slots[i])
			if err := fn(eventlog.Delivery{Event: &e}); err != nil {
				return err
			}
			next = e.Position
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wait:
		}
	}
}

// Head is the position of the last event.
func (s *MemSource) Head(context.Context) (eventlog.Position, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.slots) == 0 {
		return eventlog.Start, nil
	}
	return s.slots[len(s.slots)-1].pos, nil
}
