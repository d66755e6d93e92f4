package eventstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
)

// ErrDiverged is the answer of Copy and Compare when the target holds events that are not the source's:
// Copy writes into an empty store, or resumes into the one an earlier copy of the same source began.
var ErrDiverged = errors.New("the target store holds a different history")

// copyBatch bounds the events of one append: a run of one stream's consecutive events in $all order.
const copyBatch = 500

// CopyProgress is how far a copy has come: events copied by this run, events the target already held
// (an earlier, interrupted copy), and the source position reached.
type CopyProgress struct {
	Copied, Held uint64
	At           eventlog.Position
}

// Copy appends every ledger event of src ($-streams excluded: each store keeps its own) to dst in src's
// $all order, preserving stream names, revisions, event ids, types, content types, data and metadata byte
// for byte. Only the time each store records an event is its own. Each run of one stream's consecutive
// events is one append at the exact expected revision, so nothing is written twice and nothing lands out
// of place: an append the target refuses stops the copy with ErrDiverged.
//
// Copy resumes: when dst already holds events, its last ledger event must be an event of src (same stream,
// revision and id), and the copy goes on after it. progress, if not nil, is called after every append.
func Copy(ctx context.Context, src, dst *Store, progress func(CopyProgress)) (CopyProgress, error) {
	var p CopyProgress
	from, err := resumePoint(ctx, src, dst, &p)
	if err != nil {
		return p, err
	}
	var (
		stream  string
		first   uint64 // revision of the first pending event
		pending []esdb.EventData
		last    eventlog.Position
	)
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		var expected esdb.ExpectedRevision = esdb.NoStream{}
		if first > 0 {
			expected = esdb.Revision(first - 1)
		}
		if err := dst.appendRaw(ctx, stream, expected, pending); err != nil {
			return err
		}
		p.Copied += uint64(len(pending))
		p.At = last
		pending = pending[:0]
		if progress != nil {
			progress(p)
		}
		return nil
	}
	err = src.readAllRaw(ctx, esdb.Forwards, from, "the copy's resume point", 0, func(ev *esdb.ResolvedEvent) error {
		re := ev.Event
		pos := eventlog.Position{Commit: re.Position.Commit, Prepare: re.Position.Prepare}
		if eventlog.SystemStream(re.StreamID) || !p.At.Less(pos) && !p.At.IsZero() {
			return nil // the store's own, or the resume point itself (read from it, included)
		}
		if re.StreamID != stream || re.EventNumber != first+uint64(len(pending)) || len(pending) == copyBatch {
			if err := flush(); err != nil {
				return err
			}
			stream, first = re.StreamID, re.EventNumber
		}
		pending = append(pending, eventData(re))
		last = pos
		return nil
	})
	if err == nil {
		err = flush()
	}
	return p, err
}

// resumePoint finds where a copy into dst starts in src: the start when dst holds no ledger event, else
// the position in src of dst's last ledger event, which must be src's.
func resumePoint(ctx context.Context, src, dst *Store, p *CopyProgress) (esdb.AllPosition, error) {
	tail, ok, err := dst.lastLedgerEvent(ctx)
	if err != nil || !ok {
		return esdb.Start{}, err
	}
	same, err := src.read(ctx, tail.StreamID, esdb.Revision(tail.EventNumber), 1, false, nil)
	if errors.Is(err, eventlog.ErrStreamNotFound) || err == nil && (len(same) == 0 || same[0].ID != eventlog.ID(tail.EventID)) {
		return nil, fmt.Errorf("%w: its last event (%s of stream %s, revision %d) is not the source's; copy into an empty store, or resume into the one a copy of this source began",
			ErrDiverged, tail.EventID, tail.StreamID, tail.EventNumber)
	}
	if err != nil {
		return nil, fmt.Errorf("find the target's last event in the source: %w", err)
	}
	p.At = same[0].Position
	if err := src.readAllRaw(ctx, esdb.Forwards, esdb.Start{}, "the start", 0, func(ev *esdb.ResolvedEvent) error {
		pos := eventlog.Position{Commit: ev.Event.Position.Commit, Prepare: ev.Event.Position.Prepare}
		if p.At.Less(pos) {
			return errStop
		}
		if !eventlog.SystemStream(ev.Event.StreamID) {
			p.Held++
		}
		return nil
	}); err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	return esdb.Position{Commit: p.At.Commit, Prepare: p.At.Prepare}, nil
}

var errStop = errors.New("stop reading")

// lastLedgerEvent is the newest event of $all outside the $-streams.
func (s *Store) lastLedgerEvent(ctx context.Context) (*esdb.RecordedEvent, bool, error) {
	var found *esdb.RecordedEvent
	err := s.readAllRaw(ctx, esdb.Backwards, esdb.End{}, "the end", 0, func(ev *esdb.ResolvedEvent) error {
		if eventlog.SystemStream(ev.Event.StreamID) {
			return nil
		}
		found = ev.Event
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, false, err
	}
	return found, found != nil, nil
}

// eventData is what appending re again takes: its id, type, content type, data and metadata as stored.
func eventData(re *esdb.RecordedEvent) esdb.EventData {
	ct := esdb.ContentTypeBinary
	if re.ContentType == "application/json" {
		ct = esdb.ContentTypeJson
	}
	return esdb.EventData{EventID: re.EventID, EventType: re.EventType, ContentType: ct, Data: re.Data, Metadata: re.UserMetadata}
}

// appendRaw appends events as given at the exact expected revision; a refusal is ErrDiverged.
func (s *Store) appendRaw(ctx context.Context, stream string, expected esdb.ExpectedRevision, events []esdb.EventData) error {
	what := "append " + stream
	c, callCtx, end, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	_, err = guard(s, callCtx, c, what, func() (*esdb.WriteResult, error) {
		return c.AppendToStream(callCtx, stream, esdb.AppendToStreamOptions{ExpectedRevision: expected}, events...)
	})
	end()
	if err != nil {
		s.check(c, err)
		if code(err) == esdb.ErrorCodeWrongExpectedVersion {
			return fmt.Errorf("%w: stream %s is not where the source's is (%v)", ErrDiverged, stream, err)
		}
		return s.wrap(ctx, what, err)
	}
	return nil
}

// Compare reads the ledger events of a and b ($-streams excluded) side by side and fails, with
// ErrDiverged, at the first pair that differs in stream, revision, id, type, content type, data or
// metadata, or where one store has more. It returns the number of events compared.
func Compare(ctx context.Context, a, b *Store) (uint64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fromB := make(chan *esdb.RecordedEvent, 256)
	errB := make(chan error, 1)
	go func() {
		defer close(fromB)
		errB <- b.readAllRaw(ctx, esdb.Forwards, esdb.Start{}, "the start", 0, func(ev *esdb.ResolvedEvent) error {
			if eventlog.SystemStream(ev.Event.StreamID) {
				return nil
			}
			select {
			case fromB <- ev.Event:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	var n uint64
	err := a.readAllRaw(ctx, esdb.Forwards, esdb.Start{}, "the start", 0, func(ev *esdb.ResolvedEvent) error {
		x := ev.Event
		if eventlog.SystemStream(x.StreamID) {
			return nil
		}
		y, ok := <-fromB
		if !ok {
			if err := <-errB; err != nil {
				return fmt.Errorf("read the second store: %w", err)
			}
			return fmt.Errorf("%w: the first holds more: event %d (%s of stream %s) is missing from the second", ErrDiverged, n, x.EventID, x.StreamID)
		}
		if what := differ(x, y); what != "" {
			return fmt.Errorf("%w: event %d (%s of stream %s, revision %d) differs in its %s", ErrDiverged, n, x.EventID, x.StreamID, x.EventNumber, what)
		}
		n++
		return nil
	})
	if err != nil {
		return n, err
	}
	if y, ok := <-fromB; ok {
		return n, fmt.Errorf("%w: the second holds more, from event %d (%s of stream %s)", ErrDiverged, n, y.EventID, y.StreamID)
	}
	if err := <-errB; err != nil {
		return n, err
	}
	return n, nil
}

// differ names the first field in which x and y differ, or "".
func differ(x, y *esdb.RecordedEvent) string {
	switch {
	case x.StreamID != y.StreamID:
		return "stream"
	case x.EventNumber != y.EventNumber:
		return "revision"
	case x.EventID != y.EventID:
		return "id"
	case x.EventType != y.EventType:
		return "type"
	case x.ContentType != y.ContentType:
		return "content type"
	case !bytes.Equal(x.Data, y.Data):
		return "data"
	case !bytes.Equal(x.UserMetadata, y.UserMetadata):
		return "metadata"
	}
	return ""
}
