package esdbnode

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/grassroots-ledger/ledger/infra/esdbwire"
)

// Reads are dominated by encoding events: building a ReadResp message tree per event (a dozen allocations,
// a metadata map) and marshalling it through protobuf reflection cost several times more than reading the
// record from bbolt. So event messages are encoded by hand, straight from the stored record into protobuf wire
// bytes, and handed to gRPC pre-encoded through wireCodec. Everything else (append requests and replies,
// confirmations, checkpoints) goes through the ordinary protobuf codec. wire_test.go checks the hand encoding
// against the generated types field for field.

// encodedFrame is a ReadResp already in protobuf wire format.
type encodedFrame []byte

// wireCodec is the gRPC codec of the node: pre-encoded frames pass through, everything else is protobuf.
// It keeps the name "proto" so the content type on the wire is unchanged.
type wireCodec struct {
	proto encoding.CodecV2
}

func newWireCodec() (*wireCodec, error) {
	c := encoding.GetCodecV2(grpcproto.Name)
	if c == nil {
		return nil, fmt.Errorf("esdbnode: gRPC proto codec is not registered")
	}
	return &wireCodec{proto: c}, nil
}

func (c *wireCodec) Marshal(v any) (mem.BufferSlice, error) {
	if f, ok := v.(encodedFrame); ok {
		return mem.BufferSlice{mem.SliceBuffer(f)}, nil
	}
	return c.proto.Marshal(v)
}

func (c *wireCodec) Unmarshal(data mem.BufferSlice, v any) error { return c.proto.Unmarshal(data, v) }

func (c *wireCodec) Name() string { return grpcproto.Name }

func sizeBytesField(num protowire.Number, n int) int {
	return protowire.SizeTag(num) + protowire.SizeBytes(n)
}

func sizeVarintField(num protowire.Number, v uint64) int {
	if v == 0 {
		return 0 // proto3 omits zero scalars
	}
	return protowire.SizeTag(num) + protowire.SizeVarint(v)
}

func appendVarintField(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func appendBytesField(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func mapEntrySize(k, v int) int {
	return sizeBytesField(esdbwire.MapKey, k) + sizeBytesField(esdbwire.MapValue, v)
}

// appendEventFrame appends the wire encoding of ReadResp{event: ReadEvent{event: RecordedEvent{…},
// commit_position}} for e to dst. created is the decimal "created" metadata value (scratch, reused).
func appendEventFrame(dst []byte, e *event, uuidString bool, scratch *[]byte) []byte {
	created := strconv.AppendInt((*scratch)[:0], e.created, 10)
	*scratch = created

	var idSize int
	var most, least uint64
	var idString string
	if uuidString {
		idString = uuid.UUID(e.id).String()
		idSize = sizeBytesField(esdbwire.UUIDString, len(idString))
	} else {
		most = binary.BigEndian.Uint64(e.id[:8])
		least = binary.BigEndian.Uint64(e.id[8:])
		idSize = sizeBytesField(esdbwire.UUIDStructured, sizeVarintField(esdbwire.StructuredMost, most)+sizeVarintField(esdbwire.StructuredLeast, least))
	}
	streamIDSize := sizeBytesField(esdbwire.StreamIdentifierName, len(e.stream))
	md1 := mapEntrySize(len(metaType), len(e.eventType))
	md2 := mapEntrySize(len(metaContentType), len(e.contentType))
	md3 := mapEntrySize(len(metaCreated), len(created))

	rec := sizeBytesField(esdbwire.RecordedID, idSize) +
		sizeBytesField(esdbwire.RecordedStream, streamIDSize) +
		sizeVarintField(esdbwire.RecordedRevision, e.revision) +
		sizeVarintField(esdbwire.RecordedPrepare, e.position) +
		sizeVarintField(esdbwire.RecordedCommit, e.position) +
		sizeBytesField(esdbwire.RecordedMetadata, md1) + sizeBytesField(esdbwire.RecordedMetadata, md2) + sizeBytesField(esdbwire.RecordedMetadata, md3)
	if len(e.metadata) > 0 {
		rec += sizeBytesField(esdbwire.RecordedCustomMetadata, len(e.metadata))
	}
	if len(e.data) > 0 {
		rec += sizeBytesField(esdbwire.RecordedData, len(e.data))
	}
	readEvent := sizeBytesField(esdbwire.ReadEventEvent, rec) + protowire.SizeTag(esdbwire.ReadEventCommit) + protowire.SizeVarint(e.position)

	b := protowire.AppendTag(dst, esdbwire.ReadRespEvent, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(readEvent))
	b = protowire.AppendTag(b, esdbwire.ReadEventEvent, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(rec))

	b = protowire.AppendTag(b, esdbwire.RecordedID, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(idSize))
	if uuidString {
		b = appendBytesField(b, esdbwire.UUIDString, []byte(idString))
	} else {
		b = protowire.AppendTag(b, esdbwire.UUIDStructured, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(sizeVarintField(esdbwire.StructuredMost, most)+sizeVarintField(esdbwire.StructuredLeast, least)))
		b = appendVarintField(b, esdbwire.StructuredMost, most)
		b = appendVarintField(b, esdbwire.StructuredLeast, least)
	}

	b = protowire.AppendTag(b, esdbwire.RecordedStream, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(streamIDSize))
	b = appendBytesField(b, esdbwire.StreamIdentifierName, e.stream)

	b = appendVarintField(b, esdbwire.RecordedRevision, e.revision)
	b = appendVarintField(b, esdbwire.RecordedPrepare, e.position)
	b = appendVarintField(b, esdbwire.RecordedCommit, e.position)

	for _, kv := range [3]struct {
		k    string
		v    []byte
		size int
	}{{metaType, e.eventType, md1}, {metaContentType, e.contentType, md2}, {metaCreated, created, md3}} {
		b = protowire.AppendTag(b, esdbwire.RecordedMetadata, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(kv.size))
		b = protowire.AppendTag(b, esdbwire.MapKey, protowire.BytesType)
		b = protowire.AppendString(b, kv.k)
		b = appendBytesField(b, esdbwire.MapValue, kv.v)
	}
	if len(e.metadata) > 0 {
		b = appendBytesField(b, esdbwire.RecordedCustomMetadata, e.metadata)
	}
	if len(e.data) > 0 {
		b = appendBytesField(b, esdbwire.RecordedData, e.data)
	}
	b = protowire.AppendTag(b, esdbwire.ReadEventCommit, protowire.VarintType)
	return protowire.AppendVarint(b, e.position)
}

// frameBuffer collects the messages of one read chunk: events encoded into blocks (never regrown, so no frame
// is copied twice), and the odd protobuf message (a checkpoint) in between. The frames are handed to gRPC,
// which may still hold them after SendMsg returns, so blocks are never reused: each chunk gets new ones.
type frameBuffer struct {
	block   []byte
	items   []any // encodedFrame or a protobuf message
	scratch []byte
	// size is half the size of the next block: each block is twice the last (from frameBlockMin up to
	// frameBlockSize), and a chunk's first block is about the size of the chunk before.
	size int
}

// A read's first block is frameBlockMin bytes, enough for a command's stream of a few events, and its blocks
// grow to frameBlockSize, enough for hundreds of events an allocation; a subscription that goes on with a
// few live events a chunk goes back to small blocks. Every read used to start with a block of
// frameBlockSize: zeroing half a megabyte (and collecting it) for a read of one event was most of the CPU
// of a small read (2026-12-06: a one-event ReadStream 560–740 µs, memclr 22 % of the profile).
const (
	frameBlockMin  = 4 << 10
	frameBlockSize = 512 << 10
)

// frameOverhead bounds the bytes appendEventFrame adds around the variable fields of an event.
const frameOverhead = 192

func (f *frameBuffer) addEvent(e *event, uuidString bool) {
	need := len(e.stream) + len(e.eventType) + len(e.contentType) + len(e.metadata) + len(e.data) + frameOverhead
	if cap(f.block)-len(f.block) < need {
		f.size = min(frameBlockSize, max(frameBlockMin, 2*f.size))
		f.block = make([]byte, 0, max(f.size, need))
	}
	start := len(f.block)
	f.block = appendEventFrame(f.block, e, uuidString, &f.scratch)
	f.items = append(f.items, encodedFrame(f.block[start:len(f.block):len(f.block)]))
}

func (f *frameBuffer) addMessage(m any) {
	f.items = append(f.items, m)
}

// send sends the collected messages in order and resets the buffer for the next chunk.
func (f *frameBuffer) send(srv interface{ SendMsg(any) error }) error {
	used := 0
	for i, m := range f.items {
		if fr, ok := m.(encodedFrame); ok {
			used += len(fr)
		}
		if err := srv.SendMsg(m); err != nil {
			return err
		}
		f.items[i] = nil
	}
	f.block, f.items, f.size = nil, f.items[:0], used/2
	return nil
}
