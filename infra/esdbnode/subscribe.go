package esdbnode

import (
	"context"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// subscribe serves a catch-up subscription to a stream or to $all.
//
// One loop serves both catch-up and live: it remembers the last position (or revision) it sent, reads the next
// chunk up to the published head, sends it, and when nothing is left waits for the head to move. Because the
// loop always continues from exactly what it sent and never reads past the published head, there is no seam
// between history and live: no gap, no duplicate, whatever the writers do meanwhile. Each subscription reads
// at its own pace in its own goroutine, so a slow subscriber slows only itself; the writer never waits for it.
//
// Messages: a confirmation first (the client requires it), then events; for filtered $all subscriptions a
// checkpoint after every checkpointEvery scanned events (so a subscriber whose filter rarely matches can still
// advance its resume position); and one caught_up the first time the subscription reaches the head.
func (n *Node) subscribe(ctx context.Context, opts *streams.ReadReq_Options, srv streams.Streams_ReadServer) error {
	if opts.GetReadDirection() != streams.ReadReq_Options_Forwards {
		return status.Error(codes.InvalidArgument, "subscriptions read forwards only")
	}
	filt, err := newFilter(opts)
	if err != nil {
		return err
	}
	uuidString := opts.GetUuidOption().GetString_() != nil

	var src subscriptionSource
	switch so := opts.GetStreamOption().(type) {
	case *streams.ReadReq_Options_Stream:
		name, err := streamName(so.Stream.GetStreamIdentifier())
		if err != nil {
			return err
		}
		src, err = n.newStreamSource(name, so.Stream)
		if err != nil {
			return err
		}
	case *streams.ReadReq_Options_All:
		src = n.newAllSource(so.All, filt)
	default:
		return status.Error(codes.InvalidArgument, "subscribe: a stream or $all is required")
	}

	if err := srv.Send(&streams.ReadResp{Content: &streams.ReadResp_Confirmation{
		Confirmation: &streams.ReadResp_SubscriptionConfirmation{SubscriptionId: uuid.NewString()}}}); err != nil {
		return err
	}

	var out frameBuffer
	caughtUp := false
	for {
		h := n.heads.load()
		visited, err := src.next(h.pos, func(e *event) {
			if filt.match(e) {
				out.addEvent(e, uuidString)
			}
		}, func(pos uint64) {
			out.addMessage(&streams.ReadResp{Content: &streams.ReadResp_Checkpoint_{
				Checkpoint: &streams.ReadResp_Checkpoint{CommitPosition: pos, PreparePosition: pos}}})
		})
		if err != nil {
			return err
		}
		if err := out.send(srv); err != nil {
			return err
		}
		if visited > 0 {
			continue
		}
		if !caughtUp {
			caughtUp = true
			if err := srv.Send(&streams.ReadResp{Content: &streams.ReadResp_CaughtUp_{
				CaughtUp: &streams.ReadResp_CaughtUp{}}}); err != nil {
				return err
			}
		}
		select {
		case <-h.changed:
		case <-ctx.Done():
			return ctx.Err()
		case <-n.closing:
			return ErrClosed
		}
	}
}

// subscriptionSource yields the next chunk of a subscription up to limit, calling emit for each event and
// checkpoint for each checkpoint due, and returns how many events it scanned (0 means caught up).
type subscriptionSource interface {
	next(limit uint64, emit func(*event), checkpoint func(pos uint64)) (int, error)
}

// allSource follows $all; after is the last position handled (sent or filtered out).
type allSource struct {
	st              *store
	after           uint64
	checkpointEvery uint64
	sinceCheckpoint uint64
	// A filter on stream names (byName) catches up through the indexes first (filtered.go), once
	// (tried): pending are the positions it has still to send, up to indexedThrough.
	byName         *filter
	tried          bool
	pending        []uint64
	pendingStreams map[string]struct{} // the streams of pending
	indexedThrough uint64
}

func (n *Node) newAllSource(o *streams.ReadReq_Options_AllOptions, f *filter) *allSource {
	s := &allSource{st: n.store, checkpointEvery: f.checkpointEvery}
	if f.active() && !f.onType {
		s.byName = f
	}
	switch p := o.GetAllOption().(type) {
	case *streams.ReadReq_Options_AllOptions_Position:
		s.after = p.Position.GetCommitPosition() // exclusive: the subscriber has seen this one
	case *streams.ReadReq_Options_AllOptions_End:
		s.after = n.heads.load().pos
	}
	return s
}

func (s *allSource) next(limit uint64, emit func(*event), checkpoint func(uint64)) (int, error) {
	if s.after >= limit {
		return 0, nil
	}
	if f := s.byName; f != nil && (!s.tried || len(s.pending) > 0 || s.indexedThrough > s.after) {
		if !s.tried {
			s.tried = true
			positions, names, through, ok, err := s.st.indexedPositions(f, s.after, limit)
			if err != nil {
				return 0, err
			}
			if ok {
				s.pending, s.pendingStreams, s.indexedThrough = positions, names, through
				s.st.warm.ahead(s.st.path, uint64(len(positions)))
			}
		}
		if len(s.pending) > 0 {
			n, err := s.st.readPositions(s.pendingStreams, s.pending, readChunkEvents, func(e *event) {
				s.pass(e.position-1, checkpoint)
				emit(e)
				s.pass(e.position, checkpoint)
			})
			if err != nil {
				return 0, err
			}
			s.pending = s.pending[n:]
			return n, nil
		}
		if s.indexedThrough > s.after {
			// Every selected event up to the indexes' watermark has been sent: the scan goes on from there.
			s.pass(s.indexedThrough, checkpoint)
			return 1, nil
		}
	}
	s.st.warm.ahead(s.st.path, limit-s.after) // a catch-up of most of $all: read the file ahead
	visited, last, err := s.st.scanAll(s.after+1, true, limit, readChunkEvents, func(e *event) bool {
		emit(e)
		if s.checkpointEvery > 0 {
			s.sinceCheckpoint++
			if s.sinceCheckpoint >= s.checkpointEvery {
				s.sinceCheckpoint = 0
				checkpoint(e.position)
			}
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	if visited > 0 {
		s.after = last
		s.st.warm.progress(s.st.path, last, limit)
	}
	return visited, nil
}

// pass moves the source past the events up to position to that it skips unread (the indexed catch-up's
// gaps), sending the checkpoints a scan of them would have sent.
func (s *allSource) pass(to uint64, checkpoint func(uint64)) {
	if s.checkpointEvery == 0 {
		s.after = max(s.after, to)
		return
	}
	for s.after < to {
		step := min(to-s.after, s.checkpointEvery-s.sinceCheckpoint)
		s.after += step
		if s.sinceCheckpoint += step; s.sinceCheckpoint == s.checkpointEvery {
			s.sinceCheckpoint = 0
			checkpoint(s.after)
		}
	}
}

// streamSource follows one stream; nextRev is the next revision to send. The stream need not exist yet.
type streamSource struct {
	st      *store
	name    []byte
	nextRev uint64
}

func (n *Node) newStreamSource(name []byte, o *streams.ReadReq_Options_StreamOptions) (*streamSource, error) {
	s := &streamSource{st: n.store, name: name}
	switch r := o.GetRevisionOption().(type) {
	case *streams.ReadReq_Options_StreamOptions_Revision:
		s.nextRev = r.Revision + 1 // exclusive
	case *streams.ReadReq_Options_StreamOptions_End:
		limit := n.heads.load().pos
		var h streamHead
		var found bool
		if err := n.store.viewIndexed(func(tx *boltTx) error {
			var err error
			h, found, err = n.store.lookupStream(tx, name, limit)
			return err
		}); err != nil {
			return nil, err
		}
		if found {
			s.nextRev = h.lastRev + 1
		}
	}
	return s, nil
}

func (s *streamSource) next(limit uint64, emit func(*event), _ func(uint64)) (int, error) {
	_, visited, last, err := s.st.scanStream(s.name, s.nextRev, true, limit, readChunkEvents, func(e *event) bool {
		emit(e)
		return true
	})
	if err != nil {
		return 0, err
	}
	if visited > 0 {
		s.nextRev = last + 1
	}
	return visited, nil
}
