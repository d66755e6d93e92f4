package esdbnode

import (
	"encoding/binary"
	"strconv"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
)

// The reference encoding: the same message built from the generated types.

// uuidOf renders an event id the way the request asked (structured is what the Go client asks for).
func uuidOf(id *[16]byte, asString bool) *shared.UUID {
	if asString {
		return &shared.UUID{Value: &shared.UUID_String_{String_: uuid.UUID(*id).String()}}
	}
	return &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{
		MostSignificantBits:  int64(binary.BigEndian.Uint64(id[:8])),
		LeastSignificantBits: int64(binary.BigEndian.Uint64(id[8:])),
	}}}
}

// eventResp converts a stored event into a read response, copying everything out of the page.
func eventResp(e *event, uuidString bool) *streams.ReadResp {
	rec := &streams.ReadResp_ReadEvent_RecordedEvent{
		Id:               uuidOf(&e.id, uuidString),
		StreamIdentifier: &shared.StreamIdentifier{StreamName: clone(e.stream)},
		StreamRevision:   e.revision,
		PreparePosition:  e.position,
		CommitPosition:   e.position,
		Metadata: map[string]string{
			metaType:        string(e.eventType),
			metaContentType: string(e.contentType),
			metaCreated:     strconv.FormatInt(e.created, 10),
		},
		CustomMetadata: clone(e.metadata),
		Data:           clone(e.data),
	}
	return &streams.ReadResp{Content: &streams.ReadResp_Event{Event: &streams.ReadResp_ReadEvent{
		Event:    rec,
		Position: &streams.ReadResp_ReadEvent_CommitPosition{CommitPosition: e.position},
	}}}
}

func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

func TestEventFrameMatchesGeneratedEncoding(t *testing.T) {
	base := sampleEvent()
	variants := map[string]func(e *event){
		"typical":          func(*event) {},
		"revision 0":       func(e *event) { e.revision = 0 },
		"no data, no meta": func(e *event) { e.data, e.metadata = nil, nil },
		"high bits in id":  func(e *event) { e.id = [16]byte{0xff, 0xfe, 0, 0, 0, 0, 0, 0, 0x80, 1, 2, 3, 4, 5, 6, 7} },
		"large position":   func(e *event) { e.position = 1 << 62; e.revision = 1<<40 + 3 },
		"negative created": func(e *event) { e.created = -5 },
		"big data":         func(e *event) { e.data = make([]byte, 70000) },
		"unicode stream":   func(e *event) { e.stream = []byte("村务公开-330303001001") },
	}
	for name, mutate := range variants {
		for _, asString := range []bool{false, true} {
			e := base
			mutate(&e)
			var scratch []byte
			frame := appendEventFrame(nil, &e, asString, &scratch)
			var got streams.ReadResp
			if err := proto.Unmarshal(frame, &got); err != nil {
				t.Fatalf("%s: hand encoding does not parse: %v", name, err)
			}
			want := eventResp(&e, asString)
			if !proto.Equal(&got, want) {
				t.Errorf("%s (string id %v):\n got %v\nwant %v", name, asString, &got, want)
			}
			wantBytes, _ := proto.MarshalOptions{Deterministic: true}.Marshal(want)
			if len(wantBytes) != len(frame) {
				t.Errorf("%s: frame is %d bytes, protobuf %d", name, len(frame), len(wantBytes))
			}
		}
	}
}

// sink takes what a frameBuffer sends.
type sink struct{ frames [][]byte }

func (s *sink) SendMsg(m any) error {
	s.frames = append(s.frames, m.(encodedFrame))
	return nil
}

// TestFrameBlocksFitTheRead: a read of one event takes a small block (it took half a megabyte, most of a small
// read's CPU), a long read grows its blocks to frameBlockSize, a chunk after a long one starts large and one
// after a short one small again (a subscription delivering a few live events at a time); every frame sent is
// the event's encoding.
func TestFrameBlocksFitTheRead(t *testing.T) {
	e := sampleEvent()
	var scratch []byte
	want := appendEventFrame(nil, &e, false, &scratch)
	var f frameBuffer
	var s sink
	f.addEvent(&e, false)
	if c := cap(f.block); c > frameBlockMin {
		t.Fatalf("a one-event read took a block of %d bytes, want at most %d", c, frameBlockMin)
	}
	if err := f.send(&s); err != nil {
		t.Fatal(err)
	}
	blocks := map[int]bool{}
	for range 5000 {
		if cap(f.block)-len(f.block) < len(want) {
			blocks[len(blocks)] = true
		}
		f.addEvent(&e, false)
	}
	if c := cap(f.block); c != frameBlockSize {
		t.Fatalf("after 5 000 events the block is %d bytes, want %d", c, frameBlockSize)
	}
	if len(blocks) > 16 {
		t.Fatalf("5 000 events took %d blocks", len(blocks))
	}
	if err := f.send(&s); err != nil {
		t.Fatal(err)
	}
	f.addEvent(&e, false)
	if c := cap(f.block); c != frameBlockSize {
		t.Fatalf("the chunk after a long one starts with %d bytes, want %d", c, frameBlockSize)
	}
	if err := f.send(&s); err != nil {
		t.Fatal(err)
	}
	f.addEvent(&e, false)
	if c := cap(f.block); c > frameBlockMin {
		t.Fatalf("the chunk after a one-event chunk starts with %d bytes, want at most %d", c, frameBlockMin)
	}
	if err := f.send(&s); err != nil {
		t.Fatal(err)
	}
	if len(s.frames) != 5003 {
		t.Fatalf("%d frames sent, want 5003", len(s.frames))
	}
	for i, fr := range s.frames {
		if string(fr) != string(want) {
			t.Fatalf("frame %d differs from the event's encoding", i)
		}
	}
}

func BenchmarkEventFrame(b *testing.B) {
	e := sampleEvent()
	e.data = make([]byte, 200)
	var scratch []byte
	buf := make([]byte, 0, 1<<20)
	for b.Loop() {
		buf = appendEventFrame(buf[:0], &e, false, &scratch)
	}
}

func BenchmarkEventRespProto(b *testing.B) {
	e := sampleEvent()
	e.data = make([]byte, 200)
	for b.Loop() {
		_, _ = proto.Marshal(eventResp(&e, false))
	}
}
