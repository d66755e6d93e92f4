package eventstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/esdbwire"
)

// ErrDiverged is the answer of Copy and Compare when the target holds events that are not the source's:
// Copy writes into an empty store, or resumes into the one an earlier copy of the same source began.
var ErrDiverged = errors.New("the target store holds a different history")

// copyBatch bounds the events of one run: one stream's consecutive events in $all order, one append.
const copyBatch = 500

// importChunk is about how many events Copy hands CopyOptions.Import at once.
const importChunk = 8192

// CopyProgress is how far a copy has come: events copied by this run, events the target already held
// (an earlier, interrupted copy), and the source position reached.
type CopyProgress struct {
	Copied, Held uint64
	At           eventlog.Position
}

// CopyOptions are Copy's choices; the zero value appends through dst's client and reports nothing.
type CopyOptions struct {
	// Progress, if not nil, is called after every write.
	Progress func(CopyProgress)
	// Import, if not nil, writes into dst instead of an append through its client for each run: the runs
	// in the order given, each at exactly its first revision, never past one it refuses (whose error wraps
	// esdbwire.ErrWrongRevision), returning how many it wrote. dst's embedded node does that, when it runs
	// in this process, with many runs to one commit (esdbnode.Node.Import).
	Import func(ctx context.Context, runs []esdbwire.Run) (int, error)
}

// Copy appends every ledger event of src ($-streams excluded: each store keeps its own) to dst in src's
// $all order, preserving stream names, revisions, event ids, types, content types, data and metadata byte
// for byte. Only the time each store records an event is its own. Each run of one stream's consecutive
// events is written at the exact expected revision, so nothing is written twice and nothing lands out of
// place: a run the target refuses stops the copy with ErrDiverged.
//
// Copy resumes: when dst already holds events, its last ledger event must be an event of src (same stream,
// revision and id), and the copy goes on after it.
func Copy(ctx context.Context, src, dst *Store, o CopyOptions) (CopyProgress, error) {
	var p CopyProgress
	from, err := resumePoint(ctx, src, dst, &p)
	if err != nil {
		return p, err
	}
	var (
		run     esdbwire.Run // the run being gathered
		chunk   []esdbwire.Run
		ends    []eventlog.Position // the source position of each run's last event, in chunk
		events  int                 // in chunk
		last    eventlog.Position
		written = func(runs []esdbwire.Run, at eventlog.Position) {
			for _, r := range runs {
				p.Copied += uint64(len(r.Events))
			}
			p.At = at
			if o.Progress != nil {
				o.Progress(p)
			}
		}
	)
	flushChunk := func() error {
		if len(chunk) == 0 {
			return nil
		}
		n, err := o.Import(ctx, chunk)
		if n > 0 {
			written(chunk[:n], ends[n-1])
		}
		chunk, ends, events = chunk[:0], ends[:0], 0
		if errors.Is(err, esdbwire.ErrWrongRevision) {
			return fmt.Errorf("%w: %v", ErrDiverged, err)
		}
		return err
	}
	flush := func() error {
		if len(run.Events) == 0 {
			return nil
		}
		done := run
		run = esdbwire.Run{Events: make([]esdbwire.RunEvent, 0, len(done.Events))}
		if o.Import != nil {
			chunk, ends, events = append(chunk, done), append(ends, last), events+len(done.Events)
			if events >= importChunk {
				return flushChunk()
			}
			return nil
		}
		if err := dst.appendRun(ctx, done); err != nil {
			return err
		}
		written([]esdbwire.Run{done}, last)
		return nil
	}
	err = src.readAllRaw(ctx, esdb.Forwards, from, "the copy's resume point", 0, func(ev *esdb.ResolvedEvent) error {
		re := ev.Event
		pos := eventlog.Position{Commit: re.Position.Commit, Prepare: re.Position.Prepare}
		if eventlog.SystemStream(re.StreamID) || !p.At.Less(pos) && !p.At.IsZero() {
			return nil // the store's own, or the resume point itself (read from it, included)
		}
		if re.StreamID != run.Stream || re.EventNumber != run.First+uint64(len(run.Events)) || len(run.Events) == copyBatch {
			if err := flush(); err != nil {
				return err
			}
			run.Stream, run.First = re.StreamID, re.EventNumber
		}
		run.Events = append(run.Events, runEvent(re))
		last = pos
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil && o.Import != nil {
		err = flushChunk()
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

// runEvent is what appending re again takes: its id, type, content type, data and metadata as stored. The
// content type is what the client sends for it: JSON, or else binary.
func runEvent(re *esdb.RecordedEvent) esdbwire.RunEvent {
	ct := contentBinary
	if re.ContentType == contentJSON {
		ct = contentJSON
	}
	return esdbwire.RunEvent{ID: re.EventID, Type: re.EventType, ContentType: ct, Data: re.Data, Metadata: re.UserMetadata}
}

const (
	contentJSON   = "application/json"
	contentBinary = "application/octet-stream"
)

// appendRun appends a run's events as given at the exact expected revision; a refusal is ErrDiverged.
func (s *Store) appendRun(ctx context.Context, run esdbwire.Run) error {
	var expected esdb.ExpectedRevision = esdb.NoStream{}
	if run.First > 0 {
		expected = esdb.Revision(run.First - 1)
	}
	events := make([]esdb.EventData, len(run.Events))
	for i, e := range run.Events {
		ct := esdb.ContentTypeBinary
		if e.ContentType == contentJSON {
			ct = esdb.ContentTypeJson
		}
		events[i] = esdb.EventData{EventID: e.ID, EventType: e.Type, ContentType: ct, Data: e.Data, Metadata: e.Metadata}
	}
	what := "append " + run.Stream
	c, callCtx, end, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	_, err = guard(s, callCtx, c, what, func() (*esdb.WriteResult, error) {
		return c.AppendToStream(callCtx, run.Stream, esdb.AppendToStreamOptions{ExpectedRevision: expected}, events...)
	})
	end()
	if err != nil {
		s.check(c, err)
		if code(err) == esdb.ErrorCodeWrongExpectedVersion {
			return fmt.Errorf("%w: stream %s is not where the source's is (%v)", ErrDiverged, run.Stream, err)
		}
		return s.wrap(ctx, what, err)
	}
	return nil
}

// Compare reads the ledger events of a and b ($-streams excluded) side by side and fails, with
// ErrDiverged, at the first pair that differs in stream, revision, id, type, content type, data or
// metadata, or where one store has more. It returns the number of events compared.
func Compare(ctx context.Context, a, b *Store) (uint64, error) { return CompareEach(ctx, a, b, nil) }

// Pair is one event as CompareEach found it in both stores: its stream and revision, and where it stands
// in each.
type Pair struct {
	Stream   string
	Revision uint64
	InA, InB eventlog.Position
}

// CompareEach is Compare, calling each (when not nil) with every pair of equal events, in order.
func CompareEach(ctx context.Context, a, b *Store, each func(Pair)) (uint64, error) {
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
		if each != nil {
			each(Pair{Stream: x.StreamID, Revision: x.EventNumber,
				InA: eventlog.Position{Commit: x.Position.Commit, Prepare: x.Position.Prepare},
				InB: eventlog.Position{Commit: y.Position.Commit, Prepare: y.Position.Prepare}})
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
