package eventstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
)

// tailAttempts bounds how often Append with Any or StreamExists re-reads the tail and tries again after
// losing a race to another writer.
const tailAttempts = 10

// errShortRead means the server returned fewer events than a read that must find one asked for.
var errShortRead = errors.New("eventstore: server returned no event where one must be")

// orShort returns err, or errShortRead when a read that must find an event succeeded empty.
func orShort(err error) error {
	if err != nil {
		return err
	}
	return errShortRead
}

// Append seals events into stream's hash chain and appends them atomically, if the stream is in the
// expected state:
//
//   - At(rev, tailHash): the stream's last event must be at rev; the chain continues from tailHash.
//   - NoStream: the stream must not exist; the chain starts at "".
//   - Any, StreamExists: Append reads the stream's last event for its revision and hash and appends at exactly
//     that revision, so the chain stays intact even with concurrent writers; losing a race re-reads and
//     retries a bounded number of times before returning a conflict. StreamExists on a missing stream is a
//     conflict (Actual -1).
//
// A stream in another state is a *eventlog.ConflictError (errors.Is eventlog.ErrConflict) carrying the
// stream's actual revision; nothing was written. Appending the same event ids with the same expectation
// again returns the first append's result and writes nothing (idempotent retry). With Any and
// StreamExists that holds while the retried events are still the stream's last ones; use At where
// retries must be exact.
//
// Append writes into the caller's events: it fills each event's Meta.PrevHash and Meta.Hash and normalises
// Meta.OccurredAt to UTC (eventlog.Seal), so after a successful append events[len(events)-1].Meta.Hash is the
// stream's new tail hash, ready for the next At. Nothing else the caller passed is changed, and nothing is
// retained. After an error those fields hold whatever the last attempt sealed. Do not share one events slice
// between concurrent appends.
func (s *Store) Append(ctx context.Context, stream string, expected eventlog.Expected, events []eventlog.Event) (eventlog.AppendResult, error) {
	if err := checkAppend(stream, events); err != nil {
		return eventlog.AppendResult{}, err
	}
	switch expected.Kind {
	case eventlog.ExpectRevisionKind:
		if _, ok := eventlog.HashBytes(expected.TailHash); !ok {
			// The new events' prev_hash is this hash: without the tail's, the chain would restart.
			return eventlog.AppendResult{}, fmt.Errorf("append %s at revision %d: the expectation carries no tail hash (%q), so the stream's hash chain could not be continued: load the stream's tail (eventlog.After)",
				stream, expected.Revision, expected.TailHash)
		}
		return s.appendOnce(ctx, stream, expected, esdb.Revision(expected.Revision), expected.TailHash, events)
	case eventlog.ExpectNoStreamKind:
		return s.appendOnce(ctx, stream, expected, esdb.NoStream{}, "", events)
	case eventlog.ExpectAnyKind, eventlog.ExpectStreamExistsKind:
		return s.appendAtTail(ctx, stream, expected, events)
	}
	return eventlog.AppendResult{}, fmt.Errorf("append %s: unknown expected kind %d", stream, expected.Kind)
}

func checkAppend(stream string, events []eventlog.Event) error {
	if stream == "" {
		return errors.New("append: empty stream name")
	}
	if len(events) == 0 {
		return fmt.Errorf("append %s: no events", stream)
	}
	for i, e := range events {
		if e.ID.IsZero() {
			return fmt.Errorf("append %s: event %d has no id (ids make retries idempotent: derive them with eventlog.DeriveID)", stream, i)
		}
		if e.Type == "" {
			return fmt.Errorf("append %s: event %d (%s) has no type", stream, i, e.ID)
		}
	}
	return nil
}

// appendAtTail serves Any and StreamExists by appending at the exact revision of the stream's tail.
func (s *Store) appendAtTail(ctx context.Context, stream string, expected eventlog.Expected, events []eventlog.Event) (eventlog.AppendResult, error) {
	var conflict *eventlog.ConflictError
	for attempt := 0; attempt < tailAttempts; attempt++ {
		wire, prev, err := s.tailCondition(ctx, stream, expected, events)
		if err != nil {
			return eventlog.AppendResult{}, err
		}
		res, err := s.appendOnce(ctx, stream, expected, wire, prev, events)
		if !errors.As(err, &conflict) {
			return res, err
		}
	}
	return eventlog.AppendResult{}, conflict
}

// tailCondition reads the end of stream and returns the exact condition and chain predecessor an append of
// events must use to land right after it.
func (s *Store) tailCondition(ctx context.Context, stream string, expected eventlog.Expected, events []eventlog.Event) (esdb.ExpectedRevision, string, error) {
	tail, err := s.read(ctx, stream, esdb.End{}, 1, true, nil)
	if errors.Is(err, eventlog.ErrStreamNotFound) {
		if expected.Kind == eventlog.ExpectStreamExistsKind {
			return nil, "", &eventlog.ConflictError{Stream: stream, Expected: expected, Actual: -1}
		}
		return esdb.NoStream{}, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("append %s at %s: read tail: %w", stream, expected, err)
	}
	if len(tail) == 0 { // a server may answer a deleted stream with no events
		if expected.Kind == eventlog.ExpectStreamExistsKind {
			return nil, "", &eventlog.ConflictError{Stream: stream, Expected: expected, Actual: -1}
		}
		return esdb.NoStream{}, "", nil
	}
	last := tail[0]
	n := uint64(len(events))
	if last.ID != events[len(events)-1].ID || n > last.Revision+1 {
		return esdb.Revision(last.Revision), last.Meta.Hash, nil
	}
	// The stream already ends with our last event: most likely this is a retry of an append that
	// succeeded. Ask at the revision that append was made at, so the server recognises the ids and
	// answers with the first result instead of storing the events twice.
	first := last.Revision + 1 - n
	prev := last.Meta.PrevHash
	if n > 1 {
		ours, err := s.read(ctx, stream, esdb.Revision(first), 1, false, nil)
		if err != nil || len(ours) == 0 {
			return nil, "", fmt.Errorf("append %s at %s: read revision %d: %w", stream, expected, first, orShort(err))
		}
		if ours[0].ID != events[0].ID { // only the last id repeats: not a retry of this append
			return esdb.Revision(last.Revision), last.Meta.Hash, nil
		}
		prev = ours[0].Meta.PrevHash
	}
	if first == 0 {
		return esdb.NoStream{}, prev, nil
	}
	return esdb.Revision(first - 1), prev, nil
}

// appendOnce seals events after prev and makes one append with the wire condition. expected is what the
// caller asked for, for errors.
func (s *Store) appendOnce(ctx context.Context, stream string, expected eventlog.Expected, wire esdb.ExpectedRevision, prev string, events []eventlog.Event) (eventlog.AppendResult, error) {
	eventlog.Seal(stream, prev, events)
	data := make([]esdb.EventData, len(events))
	for i := range events {
		e := &events[i]
		meta, err := encodeMeta(e.Meta)
		if err != nil {
			return eventlog.AppendResult{}, fmt.Errorf("append %s: event %d (%s): %w", stream, i, e.ID, err)
		}
		data[i] = esdb.EventData{
			EventID:     uuid.UUID(e.ID),
			EventType:   e.Type,
			ContentType: esdb.ContentTypeJson,
			Data:        e.Data,
			Metadata:    meta,
		}
	}
	c, callCtx, end, err := s.begin(ctx)
	if err != nil {
		return eventlog.AppendResult{}, fmt.Errorf("append %s at %s: %w", stream, expected, err)
	}
	wr, err := guard(s, callCtx, c, "append "+stream, func() (*esdb.WriteResult, error) {
		return c.AppendToStream(callCtx, stream, esdb.AppendToStreamOptions{ExpectedRevision: wire}, data...)
	})
	end()
	if err != nil {
		s.check(c, err)
		if code(err) == esdb.ErrorCodeWrongExpectedVersion {
			return eventlog.AppendResult{}, s.conflict(ctx, stream, expected, err)
		}
		return eventlog.AppendResult{}, s.wrap(ctx, fmt.Sprintf("append %s at %s", stream, expected), err)
	}
	res := eventlog.AppendResult{
		Revision: wr.NextExpectedVersion,
		Position: eventlog.Position{Commit: wr.CommitPosition, Prepare: wr.PreparePosition},
	}
	if res.Position.IsZero() {
		// EventStoreDB answers a recognised retry without a position; report the one the events have.
		got, err := s.read(ctx, stream, esdb.Revision(res.Revision), 1, false, nil)
		if err != nil || len(got) == 0 {
			return res, fmt.Errorf("append %s at %s: appended, but reading its position back: %w", stream, expected, orShort(err))
		}
		res.Position = got[0].Position
	}
	return res, nil
}

// conflict builds the ConflictError for a wrong-expected-version answer.
func (s *Store) conflict(ctx context.Context, stream string, expected eventlog.Expected, err error) error {
	actual, ok := actualRevision(err)
	if !ok { // another client version's wording: ask the stream itself
		actual = -1
		tail, rerr := s.read(ctx, stream, esdb.End{}, 1, true, nil)
		switch {
		case rerr == nil:
			if len(tail) > 0 {
				actual = int64(tail[0].Revision)
			}
		case !errors.Is(rerr, eventlog.ErrStreamNotFound):
			return fmt.Errorf("append %s at %s: %w (reading the actual revision: %v)", stream, expected, eventlog.ErrConflict, rerr)
		}
	}
	return &eventlog.ConflictError{Stream: stream, Expected: expected, Actual: actual}
}
