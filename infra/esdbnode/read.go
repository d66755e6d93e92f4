package esdbnode

import (
	"bytes"
	"context"
	"math"
	"regexp"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// read serves a plain (non-subscription) read: events only, then the end of the call. The client panics on
// first/last stream position and caught-up messages in plain reads, so none are sent. A read sees the head as
// published when it starts, read in bounded chunks each in its own short transaction.
func (n *Node) read(ctx context.Context, opts *streams.ReadReq_Options, srv streams.Streams_ReadServer) error {
	limit := n.heads.load().pos
	forward := opts.GetReadDirection() == streams.ReadReq_Options_Forwards
	remaining := opts.GetCount()
	uuidString := opts.GetUuidOption().GetString_() != nil
	filt, err := newFilter(opts)
	if err != nil {
		return err
	}
	var out frameBuffer
	collect := func(e *event) bool {
		if filt.match(e) {
			out.addEvent(e, uuidString)
			remaining--
		}
		return remaining > 0
	}
	flush := func() error {
		if err := out.send(srv); err != nil {
			return err
		}
		return ctx.Err()
	}
	// next is where the following chunk starts after one that ended at last.
	next := func(last uint64) uint64 {
		if forward {
			return last + 1
		}
		return last - 1
	}

	switch so := opts.GetStreamOption().(type) {
	case *streams.ReadReq_Options_Stream:
		name, err := streamName(so.Stream.GetStreamIdentifier())
		if err != nil {
			return err
		}
		var from uint64
		switch r := so.Stream.GetRevisionOption().(type) {
		case *streams.ReadReq_Options_StreamOptions_Revision:
			from = r.Revision
		case *streams.ReadReq_Options_StreamOptions_End:
			from = maxRevision
		}
		first := true
		for remaining > 0 {
			found, visited, last, err := n.store.scanStream(name, from, forward, limit, readChunkEvents, collect)
			if err != nil {
				return err
			}
			if first && !found {
				return srv.Send(&streams.ReadResp{Content: &streams.ReadResp_StreamNotFound_{
					StreamNotFound: &streams.ReadResp_StreamNotFound{StreamIdentifier: &shared.StreamIdentifier{StreamName: name}}}})
			}
			first = false
			if err := flush(); err != nil {
				return err
			}
			if visited == 0 || (!forward && last == 0) || (forward && last == maxRevision) {
				return nil
			}
			from = next(last)
		}
		return nil

	case *streams.ReadReq_Options_All:
		var from uint64
		switch p := so.All.GetAllOption().(type) {
		case *streams.ReadReq_Options_AllOptions_Position:
			from = p.Position.GetCommitPosition()
		case *streams.ReadReq_Options_AllOptions_End:
			from = math.MaxUint64
		}
		if forward && from <= limit && (filt.active() || remaining >= readChunkEvents) {
			// A page of a thousand events or more from far behind the head is a bulk reader's (a rebuild, a
			// verify, a copy), which reads on to the head in pages like it.
			n.store.warm.ahead(n.store.path, limit-from+1)
		}
		for remaining > 0 {
			visited, last, err := n.store.scanAll(from, forward, limit, readChunkEvents, collect)
			if err != nil {
				return err
			}
			if forward && visited > 0 {
				n.store.warm.progress(n.store.path, last, limit)
			}
			if err := flush(); err != nil {
				return err
			}
			if visited == 0 {
				return nil
			}
			from = next(last)
		}
		return nil

	default:
		return status.Error(codes.InvalidArgument, "read: a stream or $all is required")
	}
}

// filter selects $all events by stream name or event type, by prefixes (any of them) or a regular expression.
// The zero filter matches everything.
type filter struct {
	onType   bool
	prefixes [][]byte
	re       *regexp.Regexp
	// checkpointEvery is the number of scanned events between checkpoints in a filtered subscription:
	// the search window (max, or 32 when the client asked for "count") times the checkpoint multiplier.
	checkpointEvery uint64
}

// defaultSearchWindow stands in for the server's read batch size when the client asks for a count window.
const defaultSearchWindow = 32

func newFilter(opts *streams.ReadReq_Options) (*filter, error) {
	fo := opts.GetFilter()
	if fo == nil {
		return &filter{}, nil
	}
	if opts.GetStream() != nil {
		return nil, status.Error(codes.InvalidArgument, "filters apply to $all only")
	}
	f := &filter{}
	var expr *streams.ReadReq_Options_FilterOptions_Expression
	switch x := fo.GetFilter().(type) {
	case *streams.ReadReq_Options_FilterOptions_StreamIdentifier:
		expr = x.StreamIdentifier
	case *streams.ReadReq_Options_FilterOptions_EventType:
		expr, f.onType = x.EventType, true
	default:
		return nil, status.Error(codes.InvalidArgument, "filter: a stream or event type expression is required")
	}
	if expr.GetRegex() != "" {
		re, err := regexp.Compile(expr.GetRegex())
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "filter: bad regular expression %q: %v", expr.GetRegex(), err)
		}
		f.re = re
	}
	for _, p := range expr.GetPrefix() {
		f.prefixes = append(f.prefixes, []byte(p))
	}
	if f.re == nil && len(f.prefixes) == 0 {
		return nil, status.Error(codes.InvalidArgument, "filter: prefixes or a regular expression are required")
	}
	window := uint64(defaultSearchWindow)
	if m, ok := fo.GetWindow().(*streams.ReadReq_Options_FilterOptions_Max); ok && m.Max > 0 {
		window = uint64(m.Max)
	}
	mult := uint64(fo.GetCheckpointIntervalMultiplier())
	if mult == 0 {
		mult = 1
	}
	f.checkpointEvery = window * mult
	return f, nil
}

func (f *filter) active() bool { return f.re != nil || len(f.prefixes) > 0 }

func (f *filter) match(e *event) bool {
	if !f.active() {
		return true
	}
	if f.onType {
		return f.matches(e.eventType)
	}
	return f.matches(e.stream)
}

// matches reports whether a stream name (or, for a filter on types, an event type) passes the filter's
// prefixes or regular expression.
func (f *filter) matches(subject []byte) bool {
	for _, p := range f.prefixes {
		if bytes.HasPrefix(subject, p) {
			return true
		}
	}
	return f.re != nil && f.re.Match(subject)
}
