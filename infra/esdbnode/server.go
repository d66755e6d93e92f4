package esdbnode

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/grassroots-ledger/ledger/infra/esdbwire"
)

// Limits checked before an append reaches the writer, so the writer never meets a value bbolt would refuse.
const (
	maxStreamNameLen = 4096     // bbolt keys are limited to 32 KiB; real stream names are short
	maxAppendBytes   = 16 << 20 // one append (all its events); the client receives at most 17 MiB per message
	maxRecvMsgBytes  = maxAppendBytes + 1<<20
)

// Metadata keys of the EventStoreDB protocol.
const (
	metaType        = esdbwire.MetaType
	metaContentType = esdbwire.MetaContentType
	metaCreated     = esdbwire.MetaCreated
)

// emulatedServerVersion is reported by ServerFeatures. Clients use it (and the method list) only to gate
// optional features; the node implements the EventStoreDB 23.10 client protocol subset listed below.
const emulatedServerVersion = "23.10.0"

// streamsService implements the EventStoreDB Streams gRPC service on the node. Delete, Tombstone and
// BatchAppend (never used by the Go client) answer Unimplemented through the embedded stub.
type streamsService struct {
	streams.UnimplementedStreamsServer
	n *Node
}

// Append is client-streaming: the options first, then one message per event; the reply comes after the
// client closes its side and the batch holding the append is fsynced.
func (s *streamsService) Append(srv streams.Streams_AppendServer) error {
	ctx := srv.Context()
	first, err := srv.Recv()
	if err != nil && !errors.Is(err, io.EOF) {
		return recvError(err)
	}
	opts := first.GetOptions()
	if opts == nil { // an empty call as much as one that starts with an event
		return status.Error(codes.InvalidArgument, "append: the first message must carry the options")
	}
	req := &appendRequest{}
	if req.stream, err = streamName(opts.GetStreamIdentifier()); err != nil {
		return err
	}
	switch e := opts.GetExpectedStreamRevision().(type) {
	case *streams.AppendReq_Options_Revision:
		req.expected = expectation{kind: expectExact, rev: e.Revision}
	case *streams.AppendReq_Options_NoStream:
		req.expected = expectation{kind: expectNoStream}
	case *streams.AppendReq_Options_StreamExists:
		req.expected = expectation{kind: expectStreamExists}
	case *streams.AppendReq_Options_Any, nil:
		req.expected = expectation{kind: expectAny}
	default:
		return status.Errorf(codes.InvalidArgument, "append: unknown expected revision %T", e)
	}
	total := 0
	for {
		msg, err := srv.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return recvError(err)
		}
		pm := msg.GetProposedMessage()
		if pm == nil {
			return status.Error(codes.InvalidArgument, "append: expected a proposed message after the options")
		}
		p, err := toProposed(pm)
		if err != nil {
			return err
		}
		total += appendedLen(req.stream, &p)
		if total > maxAppendBytes {
			return status.Errorf(codes.InvalidArgument, "append to %q: larger than %d bytes", req.stream, maxAppendBytes)
		}
		req.events = append(req.events, p)
	}
	res := s.n.writer.submit(ctx, req)
	if res.err != nil {
		return toStatus(ctx, res.err)
	}
	return srv.SendAndClose(appendResponse(req, res))
}

func recvError(err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Errorf(codes.Unknown, "append: receive: %v", err)
}

func streamName(id *shared.StreamIdentifier) ([]byte, error) {
	name := id.GetStreamName()
	if err := checkStreamName(name); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return name, nil
}

// checkStreamName refuses a name no stream can have.
func checkStreamName(name []byte) error {
	switch {
	case len(name) == 0:
		return errors.New("a stream name is required")
	case len(name) > maxStreamNameLen:
		return fmt.Errorf("stream name longer than %d bytes", maxStreamNameLen)
	case string(name) == "$all":
		return errors.New("$all is not a stream that can be written or read by name")
	}
	return nil
}

// appendedLen is what an event counts toward the size limit of one append (maxAppendBytes).
func appendedLen(stream []byte, p *proposed) int {
	return len(p.data) + len(p.metadata) + len(p.eventType) + len(p.contentType) + len(stream) + eventFixedLen
}

func toProposed(pm *streams.AppendReq_ProposedMessage) (proposed, error) {
	var p proposed
	switch v := pm.GetId().GetValue().(type) {
	case *shared.UUID_Structured_:
		binary.BigEndian.PutUint64(p.id[:8], uint64(v.Structured.GetMostSignificantBits()))
		binary.BigEndian.PutUint64(p.id[8:], uint64(v.Structured.GetLeastSignificantBits()))
	case *shared.UUID_String_:
		u, err := uuid.Parse(v.String_)
		if err != nil {
			return p, status.Errorf(codes.InvalidArgument, "append: event id %q is not a UUID", v.String_)
		}
		p.id = u
	default:
		return p, status.Error(codes.InvalidArgument, "append: every event needs an id")
	}
	md := pm.GetMetadata()
	t, ok := md[metaType]
	if !ok || t == "" {
		return p, status.Errorf(codes.InvalidArgument, "append: event %s has no %q metadata", uuid.UUID(p.id), metaType)
	}
	ct, ok := md[metaContentType]
	if !ok {
		return p, status.Errorf(codes.InvalidArgument, "append: event %s has no %q metadata", uuid.UUID(p.id), metaContentType)
	}
	p.eventType = []byte(t)
	p.contentType = []byte(ct)
	p.metadata = pm.GetCustomMetadata()
	p.data = pm.GetData()
	return p, nil
}

func appendResponse(req *appendRequest, res appendResult) *streams.AppendResp {
	if res.wrongVersion {
		w := &streams.AppendResp_WrongExpectedVersion{}
		if res.currentExists {
			w.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: res.current}
			w.CurrentRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_CurrentRevision_20_6_0{CurrentRevision_20_6_0: res.current}
		} else {
			w.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
			w.CurrentRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_NoStream_20_6_0{NoStream_20_6_0: &shared.Empty{}}
		}
		switch req.expected.kind {
		case expectExact:
			w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: req.expected.rev}
			w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision_20_6_0{ExpectedRevision_20_6_0: req.expected.rev}
		case expectNoStream:
			w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
		case expectStreamExists:
			w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
			w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_StreamExists_20_6_0{StreamExists_20_6_0: &shared.Empty{}}
		case expectAny:
			w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
			w.ExpectedRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_Any_20_6_0{Any_20_6_0: &shared.Empty{}}
		}
		return &streams.AppendResp{Result: &streams.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: w}}
	}
	ok := &streams.AppendResp_Success{}
	if res.noStream {
		ok.CurrentRevisionOption = &streams.AppendResp_Success_NoStream{NoStream: &shared.Empty{}}
	} else {
		ok.CurrentRevisionOption = &streams.AppendResp_Success_CurrentRevision{CurrentRevision: res.lastRev}
	}
	if res.position == 0 {
		ok.PositionOption = &streams.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}}
	} else {
		ok.PositionOption = &streams.AppendResp_Success_Position{Position: &streams.AppendResp_Position{
			CommitPosition: res.position, PreparePosition: res.position}}
	}
	return &streams.AppendResp{Result: &streams.AppendResp_Success_{Success: ok}}
}

// toStatus maps node errors onto gRPC codes the EventStoreDB client understands.
func toStatus(ctx context.Context, err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, ErrClosed):
		// Unavailable makes the client reconnect, which is right when the node is restarting.
		return status.Error(codes.Unavailable, err.Error())
	case errors.Is(err, ErrCorrupt):
		return status.Error(codes.DataLoss, err.Error())
	default:
		if ctx.Err() != nil {
			return status.FromContextError(ctx.Err()).Err()
		}
		return status.Error(codes.Internal, err.Error())
	}
}

// Read serves reads and subscriptions.
func (s *streamsService) Read(req *streams.ReadReq, srv streams.Streams_ReadServer) error {
	opts := req.GetOptions()
	if opts == nil {
		return status.Error(codes.InvalidArgument, "read: options are required")
	}
	var err error
	if opts.GetSubscription() != nil {
		err = s.n.subscribe(srv.Context(), opts, srv)
	} else {
		err = s.n.read(srv.Context(), opts, srv)
	}
	if err != nil {
		return toStatus(srv.Context(), err)
	}
	return nil
}

// featuresService answers ServerFeatures so the client learns the node's version and that it offers no
// optional features (no batch append, no persistent subscriptions).
type featuresService struct {
	serverfeatures.UnimplementedServerFeaturesServer
}

func (featuresService) GetSupportedMethods(context.Context, *shared.Empty) (*serverfeatures.SupportedMethods, error) {
	const svc = "event_store.client.streams.streams"
	return &serverfeatures.SupportedMethods{
		EventStoreServerVersion: emulatedServerVersion,
		Methods: []*serverfeatures.SupportedMethod{
			{MethodName: "read", ServiceName: svc},
			{MethodName: "append", ServiceName: svc},
		},
	}, nil
}
