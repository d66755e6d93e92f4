package eventstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
)

// Last, as ReadStream's from, means the stream's last event: ReadStream(ctx, s, Last, 1, true) reads the tail.
const Last uint64 = math.MaxUint64

// unlimited is the count sent for "no limit". EventStoreDB servers treat counts as signed 64-bit numbers.
const unlimited = math.MaxInt64

// Load returns every event of stream in revision order. A stream with no events is (nil, nil): to the
// command side it is a new aggregate. The whole stream is held in memory; streams are per aggregate, small.
func (s *Store) Load(ctx context.Context, stream string) ([]eventlog.Recorded, error) {
	evs, err := s.read(ctx, stream, esdb.Start{}, unlimited, false, nil)
	if errors.Is(err, eventlog.ErrStreamNotFound) {
		return nil, nil
	}
	return evs, err
}

// ReadStream reads up to count events of stream (count <= 0: no limit) starting at revision from, which is
// included, forwards or backwards (from = Last: backwards from the end). A stream with no events is
// eventlog.ErrStreamNotFound; reading past the end of an existing stream is an empty result.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, count int, backwards bool) ([]eventlog.Recorded, error) {
	var pos esdb.StreamPosition = esdb.Revision(from)
	if from == Last {
		pos = esdb.End{}
	}
	n := uint64(unlimited)
	if count > 0 {
		n = uint64(count)
	}
	var dst []eventlog.Recorded
	if count > 0 && count <= 1024 {
		dst = make([]eventlog.Recorded, 0, count)
	}
	return s.read(ctx, stream, pos, n, backwards, dst)
}

// read appends the events of one stream read to dst.
func (s *Store) read(ctx context.Context, stream string, from esdb.StreamPosition, count uint64, backwards bool, dst []eventlog.Recorded) ([]eventlog.Recorded, error) {
	c, callCtx, end, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, err)
	}
	defer end()
	dir := esdb.Forwards
	if backwards {
		dir = esdb.Backwards
	}
	rs, err := guard(s, callCtx, c, "read "+stream, func() (*esdb.ReadStream, error) {
		return c.ReadStream(callCtx, stream, esdb.ReadStreamOptions{Direction: dir, From: from}, count)
	})
	if err != nil {
		s.check(c, err)
		return nil, s.readErr(ctx, stream, err)
	}
	defer rs.Close()
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return dst, nil
		}
		if err != nil {
			s.check(c, err)
			return nil, s.readErr(ctx, stream, err)
		}
		dst = append(dst, recorded(ev))
	}
}

func (s *Store) readErr(ctx context.Context, stream string, err error) error {
	if code(err) == esdb.ErrorCodeResourceNotFound {
		return fmt.Errorf("read %s: %w", stream, eventlog.ErrStreamNotFound)
	}
	return s.wrap(ctx, "read "+stream, err)
}

// ReadAll calls fn for each event of $all from position from (included; eventlog.Start: from the first
// event), forwards, at most max events (max <= 0: to the end). Events stream through one at a time; none
// is retained. An error of fn stops the read and is returned as is. The event passed to fn, including its
// Data, is the caller's to keep.
//
// $all holds every stream: on a real server also its $-streams, whose events come with zero Meta
// (eventlog.SystemStream tells them apart).
func (s *Store) ReadAll(ctx context.Context, from eventlog.Position, max int, fn func(eventlog.Recorded) error) error {
	return s.readAllRaw(ctx, esdb.Forwards, allPosition(from), from.String(), max, func(ev *esdb.ResolvedEvent) error { return fn(recorded(ev)) })
}

// readAllRaw reads $all in direction from from (described as at, for errors), at most max events
// (max <= 0: to the end), handing fn each event as the client read it.
func (s *Store) readAllRaw(ctx context.Context, dir esdb.Direction, from esdb.AllPosition, at string, max int, fn func(*esdb.ResolvedEvent) error) error {
	c, callCtx, end, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("read $all from %s: %w", at, err)
	}
	defer end()
	n := uint64(unlimited)
	if max > 0 {
		n = uint64(max)
	}
	rs, err := guard(s, callCtx, c, "read $all", func() (*esdb.ReadStream, error) {
		return c.ReadAll(callCtx, esdb.ReadAllOptions{Direction: dir, From: from}, n)
	})
	if err != nil {
		s.check(c, err)
		return s.wrap(ctx, "read $all from "+at, err)
	}
	defer rs.Close()
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			s.check(c, err)
			return s.wrap(ctx, "read $all from "+at, err)
		}
		if err := fn(ev); err != nil {
			return err
		}
	}
}

// Subscription filter windows: the server scans at most searchWindow events for a match before it sends a
// checkpoint (times checkpointMultiplier), so a filtered subscriber whose events are rare still advances
// its checkpoint. These are the EventStoreDB clients' usual defaults.
const (
	searchWindow         = 32
	checkpointMultiplier = 1
)

// SubscribeAll delivers the events of $all after position from (excluded; eventlog.Start: from the first
// event, included) that pass filter, first catching up on history, then live as they are appended, in $all
// order. With a filter, checkpoint deliveries report how far the server has scanned, so the caller can
// advance its own checkpoint while few events match.
//
// It blocks until ctx is done (returning ctx.Err()), fn returns an error (returned as is), or the
// subscription drops (server gone, connection lost: a wrapped error). The caller resubscribes from its own
// checkpoint: the store keeps no subscription state.
func (s *Store) SubscribeAll(ctx context.Context, from eventlog.Position, filter eventlog.Filter, fn func(eventlog.Delivery) error) error {
	what := "subscribe to $all after " + from.String()
	if from.IsZero() {
		what = "subscribe to $all from the start"
	}
	if err := filter.Validate(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	c, callCtx, end, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer end()
	sub, err := s.subscribeAll(ctx, callCtx, c, what, from, filter)
	if err != nil {
		return err
	}
	// The client's Recv does not watch the context, and on a connection that died under it (the server
	// stopped) it can block for good. Receiving on a goroutine of its own lets cancellation end this call
	// at once; closing the subscription then releases the receiver when the client can.
	msgs := make(chan *esdb.SubscriptionEvent, 256)
	quit := make(chan struct{})
	defer func() {
		close(quit)
		go sub.Close()
	}()
	go func() {
		for {
			msg := sub.Recv()
			select {
			case msgs <- msg:
			case <-quit:
				return
			}
			if msg.SubscriptionDropped != nil {
				return
			}
		}
	}()
	for {
		var msg *esdb.SubscriptionEvent
		select {
		case <-ctx.Done():
			return ctx.Err()
		case msg = <-msgs:
		}
		switch {
		case msg.EventAppeared != nil:
			r := recorded(msg.EventAppeared)
			if err := fn(eventlog.Delivery{Event: &r}); err != nil {
				return err
			}
		case msg.CheckPointReached != nil:
			p := eventlog.Position{Commit: msg.CheckPointReached.Commit, Prepare: msg.CheckPointReached.Prepare}
			if err := fn(eventlog.Delivery{Checkpoint: p}); err != nil {
				return err
			}
		case msg.SubscriptionDropped != nil:
			return s.dropped(ctx, c, what, msg.SubscriptionDropped.Error)
		}
		// CaughtUp and FellBehind carry nothing the caller needs.
	}
}

func allPosition(p eventlog.Position) esdb.AllPosition {
	if p.IsZero() {
		return esdb.Start{}
	}
	return esdb.Position{Commit: p.Commit, Prepare: p.Prepare}
}

// subscriptionFilter translates the envelope's filter; nil selects everything. A regex replaces the
// prefixes of its kind.
func subscriptionFilter(f eventlog.Filter) *esdb.SubscriptionFilter {
	switch {
	case f.StreamRegex != "":
		return &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Regex: f.StreamRegex}
	case len(f.StreamPrefixes) > 0:
		return &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: f.StreamPrefixes}
	case f.TypeRegex != "":
		return &esdb.SubscriptionFilter{Type: esdb.EventFilterType, Regex: f.TypeRegex}
	case len(f.TypePrefixes) > 0:
		return &esdb.SubscriptionFilter{Type: esdb.EventFilterType, Prefixes: f.TypePrefixes}
	}
	return nil
}

// recorded converts a read or delivered event. Links are not resolved, so the event is the one stored; a
// metadata document that is not ours gives zero Meta (see decodeMeta).
func recorded(ev *esdb.ResolvedEvent) eventlog.Recorded {
	re := ev.Event
	if re == nil {
		re = ev.Link
	}
	return eventlog.Recorded{
		Event: eventlog.Event{
			ID:   eventlog.ID(re.EventID),
			Type: re.EventType,
			Data: re.Data,
			Meta: decodeMeta(re.UserMetadata),
		},
		Stream:   re.StreamID,
		Revision: re.EventNumber,
		Position: eventlog.Position{Commit: re.Position.Commit, Prepare: re.Position.Prepare},
		Created:  re.CreatedDate,
	}
}

// Head returns the $all position of the newest event, or eventlog.Start when the store is empty. Rebuilds
// use it as the total of their progress bars; it is a moment's snapshot, the store may grow right after.
func (s *Store) Head(ctx context.Context) (eventlog.Position, error) {
	head := eventlog.Start
	err := s.readAllRaw(ctx, esdb.Backwards, esdb.End{}, "the end", 1, func(ev *esdb.ResolvedEvent) error {
		head = recorded(ev).Position
		return nil
	})
	if err != nil {
		return eventlog.Position{}, fmt.Errorf("read the head of $all: %w", err)
	}
	return head, nil
}
