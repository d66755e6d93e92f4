package eventstore

import (
	"unicode/utf8"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
)

// Reading is dominated by decoding: every event arrives as one ReadResp message, which protobuf's generic
// decoder unpacks through its reflection tables, a map entry at a time (26 % of a directory-only rebuild's
// CPU, 2026-12-06, about 4 µs an event). readCodec decodes the event messages by hand into the same
// generated types, and leaves every other message (and any event message with a field it does not expect)
// to the protobuf codec it wraps. It is registered as the process's "proto" codec, the one the client's
// connections use (the client takes no gRPC options of its own); readcodec_test.go checks it against
// proto.Unmarshal, message for message, and fuzzes it.
type readCodec struct {
	encoding.CodecV2
}

func init() {
	if c := encoding.GetCodecV2(grpcproto.Name); c != nil {
		if _, ok := c.(readCodec); !ok {
			encoding.RegisterCodecV2(readCodec{c})
		}
	}
}

func (c readCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if m, ok := v.(*streams.ReadResp); ok {
		var b []byte
		if len(data) == 1 {
			b = data[0].ReadOnlyData()
		} else {
			buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
			defer buf.Free()
			b = buf.ReadOnlyData()
		}
		if ev, ok := decodeReadEventResp(b); ok {
			m.Content = ev
			return nil
		}
	}
	return c.CodecV2.Unmarshal(data, v)
}

// Field numbers of streams.proto and shared.proto.
const (
	fReadRespEvent      = 1 // ReadResp.event
	fReadEventEvent     = 1 // ReadEvent.event
	fReadEventCommit    = 3 // ReadEvent.commit_position
	fRecID              = 1
	fRecStream          = 2
	fRecRevision        = 3
	fRecPrepare         = 4
	fRecCommit          = 5
	fRecMetadata        = 6
	fRecCustomMetadata  = 7
	fRecData            = 8
	fUUIDStructured     = 1
	fUUIDString         = 2
	fStructuredMost     = 1
	fStructuredLeast    = 2
	fStreamIdentifierID = 3
)

// decodeReadEventResp decodes b when it is a ReadResp holding one event with a commit position and no link,
// each field at most once and none unknown (what servers send for a read of events); ok is false for
// anything else, which the caller hands to the protobuf decoder. Bytes are copied: b is gRPC's buffer.
func decodeReadEventResp(b []byte) (_ *streams.ReadResp_Event, ok bool) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 || num != fReadRespEvent || typ != protowire.BytesType {
		return nil, false
	}
	body, m := protowire.ConsumeBytes(b[n:])
	if m < 0 || n+m != len(b) {
		return nil, false
	}
	re := &streams.ReadResp_ReadEvent{}
	var seen uint8
	for len(body) > 0 {
		num, typ, n := protowire.ConsumeTag(body)
		if n < 0 {
			return nil, false
		}
		body = body[n:]
		switch {
		case num == fReadEventEvent && typ == protowire.BytesType && seen&1 == 0:
			v, n := protowire.ConsumeBytes(body)
			if n < 0 {
				return nil, false
			}
			body = body[n:]
			if re.Event, ok = decodeRecorded(v); !ok {
				return nil, false
			}
			seen |= 1
		case num == fReadEventCommit && typ == protowire.VarintType && seen&2 == 0:
			v, n := protowire.ConsumeVarint(body)
			if n < 0 {
				return nil, false
			}
			body = body[n:]
			re.Position = &streams.ReadResp_ReadEvent_CommitPosition{CommitPosition: v}
			seen |= 2
		default:
			return nil, false
		}
	}
	if seen != 3 {
		return nil, false
	}
	return &streams.ReadResp_Event{Event: re}, true
}

func decodeRecorded(b []byte) (*streams.ReadResp_ReadEvent_RecordedEvent, bool) {
	r := &streams.ReadResp_ReadEvent_RecordedEvent{}
	var seen uint16
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num < fRecID || num > fRecData {
			return nil, false
		}
		b = b[n:]
		bit := uint16(1) << num
		if num != fRecMetadata && seen&bit != 0 {
			return nil, false
		}
		seen |= bit
		switch num {
		case fRecRevision, fRecPrepare, fRecCommit:
			if typ != protowire.VarintType {
				return nil, false
			}
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, false
			}
			b = b[n:]
			switch num {
			case fRecRevision:
				r.StreamRevision = v
			case fRecPrepare:
				r.PreparePosition = v
			default:
				r.CommitPosition = v
			}
			continue
		}
		if typ != protowire.BytesType {
			return nil, false
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil, false
		}
		b = b[n:]
		var ok bool
		switch num {
		case fRecID:
			r.Id, ok = decodeUUID(v)
		case fRecStream:
			r.StreamIdentifier, ok = decodeStreamIdentifier(v)
		case fRecMetadata:
			if r.Metadata == nil {
				r.Metadata = make(map[string]string, 3)
			}
			ok = decodeMapEntry(v, r.Metadata)
		case fRecCustomMetadata:
			r.CustomMetadata, ok = append([]byte{}, v...), true
		case fRecData:
			r.Data, ok = append([]byte{}, v...), true
		}
		if !ok {
			return nil, false
		}
	}
	return r, true
}

func decodeUUID(b []byte) (*shared.UUID, bool) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 || typ != protowire.BytesType {
		return nil, false
	}
	v, m := protowire.ConsumeBytes(b[n:])
	if m < 0 || n+m != len(b) {
		return nil, false
	}
	switch num {
	case fUUIDString:
		if !utf8.Valid(v) {
			return nil, false // protobuf's decoder refuses it: leave it the error
		}
		return &shared.UUID{Value: &shared.UUID_String_{String_: string(v)}}, true
	case fUUIDStructured:
		s := &shared.UUID_Structured{}
		var seen uint8
		for len(v) > 0 {
			num, typ, n := protowire.ConsumeTag(v)
			if n < 0 || typ != protowire.VarintType || (num != fStructuredMost && num != fStructuredLeast) || seen&(1<<num) != 0 {
				return nil, false
			}
			seen |= 1 << num
			x, m := protowire.ConsumeVarint(v[n:])
			if m < 0 {
				return nil, false
			}
			v = v[n+m:]
			if num == fStructuredMost {
				s.MostSignificantBits = int64(x)
			} else {
				s.LeastSignificantBits = int64(x)
			}
		}
		return &shared.UUID{Value: &shared.UUID_Structured_{Structured: s}}, true
	}
	return nil, false
}

func decodeStreamIdentifier(b []byte) (*shared.StreamIdentifier, bool) {
	id := &shared.StreamIdentifier{}
	if len(b) == 0 {
		return id, true
	}
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 || num != fStreamIdentifierID || typ != protowire.BytesType {
		return nil, false
	}
	v, m := protowire.ConsumeBytes(b[n:])
	if m < 0 || n+m != len(b) {
		return nil, false
	}
	id.StreamName = append([]byte{}, v...)
	return id, true
}

// decodeMapEntry adds one map<string,string> entry to m; a key or value left out is "" (a later entry
// with the same key replaces an earlier one, as in protobuf).
func decodeMapEntry(b []byte, m map[string]string) bool {
	var k, v string
	var seen uint8
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || typ != protowire.BytesType || (num != 1 && num != 2) || seen&(1<<num) != 0 {
			return false
		}
		seen |= 1 << num
		s, l := protowire.ConsumeBytes(b[n:])
		if l < 0 {
			return false
		}
		b = b[n+l:]
		if !utf8.Valid(s) {
			return false
		}
		if num == 1 {
			k = metadataKey(s)
		} else {
			v = string(s)
		}
	}
	m[k] = v
	return true
}

// metadataKey returns the key of a metadata entry: the keys servers send with every event ("type",
// "content-type", "created") without allocating them again for each.
func metadataKey(b []byte) string {
	switch string(b) {
	case "type":
		return "type"
	case "content-type":
		return "content-type"
	case "created":
		return "created"
	}
	return string(b)
}
