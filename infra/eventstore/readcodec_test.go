package eventstore

import (
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// readResps are ReadResp messages as servers send them, and some they do not.
func readResps() map[string]*streams.ReadResp {
	event := func(id *shared.UUID, pos *streams.ReadResp_ReadEvent_CommitPosition) *streams.ReadResp {
		return &streams.ReadResp{Content: &streams.ReadResp_Event{Event: &streams.ReadResp_ReadEvent{
			Event: &streams.ReadResp_ReadEvent_RecordedEvent{
				Id:               id,
				StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte("community-330303001001")},
				StreamRevision:   7, PreparePosition: 123456, CommitPosition: 123456,
				Metadata:       map[string]string{"type": "MeetingHeld", "content-type": "application/json", "created": "17649072000000000"},
				CustomMetadata: []byte(`{"actor":"clerk-1"}`),
				Data:           []byte(`{"meeting_id":"m-1","present":31}`),
			},
			Position: pos,
		}}}
	}
	str := &shared.UUID{Value: &shared.UUID_String_{String_: "5b0c4bd4-9bd4-4e11-a5a4-5c6b9b1f0b42"}}
	structured := &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{
		MostSignificantBits: -0x1234567890abcdef, LeastSignificantBits: 0x0fedcba987654321}}}
	pos := &streams.ReadResp_ReadEvent_CommitPosition{CommitPosition: 123456}
	first := event(str, pos)
	bare := &streams.ReadResp{Content: &streams.ReadResp_Event{Event: &streams.ReadResp_ReadEvent{
		Event:    &streams.ReadResp_ReadEvent_RecordedEvent{Id: str, StreamIdentifier: &shared.StreamIdentifier{}},
		Position: &streams.ReadResp_ReadEvent_CommitPosition{}}}}
	linked := event(structured, pos)
	linked.GetEvent().Link = linked.GetEvent().Event
	noPosition := event(str, nil)
	noPosition.GetEvent().Position = &streams.ReadResp_ReadEvent_NoPosition{NoPosition: &shared.Empty{}}
	return map[string]*streams.ReadResp{
		"string id":        first,
		"structured id":    event(structured, pos),
		"zero values":      bare,
		"link":             linked,
		"no position":      noPosition,
		"checkpoint":       {Content: &streams.ReadResp_Checkpoint_{Checkpoint: &streams.ReadResp_Checkpoint{CommitPosition: 9, PreparePosition: 9}}},
		"confirmation":     {Content: &streams.ReadResp_Confirmation{Confirmation: &streams.ReadResp_SubscriptionConfirmation{SubscriptionId: "s"}}},
		"stream not found": {Content: &streams.ReadResp_StreamNotFound_{StreamNotFound: &streams.ReadResp_StreamNotFound{}}},
	}
}

// TestReadCodecDecodesAsProtobufDoes: every message, split over one buffer or several, decodes to what
// proto.Unmarshal makes of it, and the event messages servers send are the ones decoded by hand.
func TestReadCodecDecodesAsProtobufDoes(t *testing.T) {
	c, ok := encoding.GetCodecV2(grpcproto.Name).(readCodec)
	if !ok {
		t.Fatalf("the process's %q codec is %T, not readCodec", grpcproto.Name, encoding.GetCodecV2(grpcproto.Name))
	}
	byHand := map[string]bool{"string id": true, "structured id": true, "zero values": true}
	for name, msg := range readResps() {
		t.Run(name, func(t *testing.T) {
			b, err := proto.Marshal(msg)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := decodeReadEventResp(b); ok != byHand[name] {
				t.Errorf("decoded by hand: %v, want %v", ok, byHand[name])
			}
			for _, parts := range []mem.BufferSlice{{mem.SliceBuffer(b)}, {mem.SliceBuffer(b[:len(b)/2]), mem.SliceBuffer(b[len(b)/2:])}} {
				got := &streams.ReadResp{}
				if err := c.Unmarshal(parts, got); err != nil {
					t.Fatal(err)
				}
				if !proto.Equal(got, msg) {
					t.Errorf("%d buffers: decoded %v, want %v", len(parts), got, msg)
				}
			}
			for i := range b { // the decoded message owns its bytes
				b[i] = 0
			}
		})
	}
}

// FuzzReadCodec: whatever the bytes, the codec accepts what protobuf accepts and decodes it alike.
func FuzzReadCodec(f *testing.F) {
	for _, msg := range readResps() {
		b, err := proto.Marshal(msg)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(protowire.AppendTag(nil, 1, protowire.BytesType))
	f.Fuzz(func(t *testing.T, b []byte) {
		want := &streams.ReadResp{}
		werr := proto.Unmarshal(b, want)
		ev, ok := decodeReadEventResp(b)
		if !ok {
			return
		}
		if werr != nil {
			t.Fatalf("decoded by hand what protobuf refuses (%v)", werr)
		}
		if got := (&streams.ReadResp{Content: ev}); !proto.Equal(got, want) {
			t.Fatalf("decoded %v, protobuf %v", got, want)
		}
	})
}

// BenchmarkReadRespDecode decodes one event message as the client receives it: by protobuf's generic
// decoder, and by the process's codec.
func BenchmarkReadRespDecode(b *testing.B) {
	frame, err := proto.Marshal(readResps()["string id"])
	if err != nil {
		b.Fatal(err)
	}
	data := mem.BufferSlice{mem.SliceBuffer(frame)}
	for _, c := range []struct {
		name  string
		codec encoding.CodecV2
	}{{"protobuf", encoding.GetCodecV2(grpcproto.Name).(readCodec).CodecV2}, {"by-hand", encoding.GetCodecV2(grpcproto.Name)}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.codec.Unmarshal(data, &streams.ReadResp{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
