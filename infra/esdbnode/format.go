package esdbnode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// On-disk format, version 1.
//
// The bbolt file holds five buckets:
//
//	meta     "header"          -> crc32c | magic | format version (u32 LE)
//	         "indexed-through" -> position (u64 BE) | crc32c: the indexes below cover the log up to here
//	log      position (u64 BE)              -> event record (below)
//	streams  stream name                    -> crc32c | stream number (u64 LE) | last revision (u64 LE)
//	revs     stream number (u64 BE) | revision (u64 BE) -> position (u64 BE) | crc32c
//	ids      event id (16 bytes)            -> position (u64 BE) | crc32c
//
// The log is the record of truth and is written by every commit; streams, revs and ids are derived from it and
// brought up to date in batches, so they may lag it by a bounded tail that Open rebuilds from the log (index.go).
// Stream numbers stand in for names in revs keys; the streams bucket's sequence is the highest one indexed.
//
// Big-endian keys make bbolt's byte order equal to numeric order, so a cursor walks $all and each stream in
// order. Every value carries a CRC32C (Castagnoli, hardware accelerated) computed over the key and the rest of
// the value: a flipped bit or a value stored under the wrong key is detected on read and reported as
// ErrCorrupt, never served as data.
//
// Positions are the $all sequence number of the event, starting at 1 (0 means "before the first event", the
// start of $all). Commit and prepare positions are equal. They are dense: a multi-event append takes a
// contiguous run.
//
// Event record layout (log bucket value):
//
//	off  0  crc32c (u32 LE) over position key | value[4:]
//	off  4  record kind (recordKindEvent)
//	off  5  stream revision (u64 LE)
//	off 13  created, 100 ns ticks since the Unix epoch (i64 LE)
//	off 21  event id (16 bytes, RFC 4122 byte order)
//	off 37  uvarint length + stream name
//	        uvarint length + event type
//	        uvarint length + content type
//	        uvarint length + custom metadata
//	        data (the rest of the value)
//
// The fixed part comes first so a reader can filter on stream or type without touching the data.

const (
	// formatMagic marks a bbolt file as ours. A bbolt file without it is refused as foreign.
	formatMagic = "grassroots-ledger/esdbnode"
	// formatVersion is bumped on any incompatible change of the layout above; Open refuses versions it does
	// not know rather than guess.
	formatVersion uint32 = 1

	recordKindEvent byte = 1

	eventFixedLen = 37
	indexValueLen = 12 // position + crc
	headValueLen  = 20 // crc + stream number + last revision
)

var (
	bucketMeta    = []byte("meta")
	bucketLog     = []byte("log")
	bucketStreams = []byte("streams")
	bucketRevs    = []byte("revs")
	bucketIDs     = []byte("ids")

	keyHeader = []byte("header")

	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

// errBadRecord is the cause wrapped into ErrCorrupt by the decoders; the store adds the file and the key.
var errBadRecord = errors.New("checksum mismatch or malformed record")

func crcOf(key, rest []byte) uint32 {
	c := crc32.Update(0, castagnoli, key)
	return crc32.Update(c, castagnoli, rest)
}

// event is one recorded event. When returned by decodeEvent its byte slices alias the bbolt page and are valid
// only inside the read transaction.
type event struct {
	position    uint64
	revision    uint64
	created     int64
	id          [16]byte
	stream      []byte
	eventType   []byte
	contentType []byte
	metadata    []byte
	data        []byte
}

func positionKey(pos uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], pos)
	return k[:]
}

func encodedEventLen(e *event) int {
	n := eventFixedLen
	for _, b := range [][]byte{e.stream, e.eventType, e.contentType, e.metadata} {
		n += uvarintLen(uint64(len(b))) + len(b)
	}
	return n + len(e.data)
}

// appendEvent appends the record for e to dst and returns the extended slice.
func appendEvent(dst []byte, e *event) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, recordKindEvent)
	dst = binary.LittleEndian.AppendUint64(dst, e.revision)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(e.created))
	dst = append(dst, e.id[:]...)
	for _, b := range [][]byte{e.stream, e.eventType, e.contentType, e.metadata} {
		dst = binary.AppendUvarint(dst, uint64(len(b)))
		dst = append(dst, b...)
	}
	dst = append(dst, e.data...)
	binary.LittleEndian.PutUint32(dst[start:], crcOf(positionKey(e.position), dst[start+4:]))
	return dst
}

// decodeEvent checks the CRC of the record stored under key and decodes it into e without copying.
func decodeEvent(key, v []byte, e *event) error {
	if len(key) != 8 || len(v) < eventFixedLen || v[4] != recordKindEvent {
		return errBadRecord
	}
	if binary.LittleEndian.Uint32(v) != crcOf(key, v[4:]) {
		return errBadRecord
	}
	e.position = binary.BigEndian.Uint64(key)
	e.revision = binary.LittleEndian.Uint64(v[5:])
	e.created = int64(binary.LittleEndian.Uint64(v[13:]))
	copy(e.id[:], v[21:37])
	rest := v[eventFixedLen:]
	var ok bool
	if e.stream, rest, ok = cutField(rest); !ok {
		return errBadRecord
	}
	if e.eventType, rest, ok = cutField(rest); !ok {
		return errBadRecord
	}
	if e.contentType, rest, ok = cutField(rest); !ok {
		return errBadRecord
	}
	if e.metadata, rest, ok = cutField(rest); !ok {
		return errBadRecord
	}
	e.data = rest
	return nil
}

func cutField(b []byte) (field, rest []byte, ok bool) {
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)-w) {
		return nil, nil, false
	}
	return b[w : w+int(n)], b[w+int(n):], true
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// indexValue encodes a position stored under key in the revs or ids bucket.
func indexValue(key []byte, pos uint64) []byte {
	v := make([]byte, indexValueLen)
	binary.BigEndian.PutUint64(v, pos)
	binary.LittleEndian.PutUint32(v[8:], crcOf(key, v[:8]))
	return v
}

func decodeIndexValue(key, v []byte) (uint64, error) {
	if len(v) != indexValueLen || binary.LittleEndian.Uint32(v[8:]) != crcOf(key, v[:8]) {
		return 0, errBadRecord
	}
	return binary.BigEndian.Uint64(v), nil
}

// revKey is the revs bucket key of a stream's revision.
func revKey(streamNum, rev uint64) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, streamNum)
	binary.BigEndian.PutUint64(k[8:], rev)
	return k
}

// streamHead is a stream's entry in the streams bucket.
type streamHead struct {
	num     uint64 // dense number standing in for the name in revs keys
	lastRev uint64
}

func headValue(name []byte, h streamHead) []byte {
	v := make([]byte, headValueLen)
	binary.LittleEndian.PutUint64(v[4:], h.num)
	binary.LittleEndian.PutUint64(v[12:], h.lastRev)
	binary.LittleEndian.PutUint32(v, crcOf(name, v[4:]))
	return v
}

func decodeHeadValue(name, v []byte) (streamHead, error) {
	if len(v) != headValueLen || binary.LittleEndian.Uint32(v) != crcOf(name, v[4:]) {
		return streamHead{}, errBadRecord
	}
	return streamHead{
		num:     binary.LittleEndian.Uint64(v[4:]),
		lastRev: binary.LittleEndian.Uint64(v[12:]),
	}, nil
}

func headerValue(version uint32) []byte {
	v := make([]byte, 4, 4+len(formatMagic)+4)
	v = append(v, formatMagic...)
	v = binary.LittleEndian.AppendUint32(v, version)
	binary.LittleEndian.PutUint32(v, crcOf(keyHeader, v[4:]))
	return v
}

// errNotOurs reports a meta header without our magic.
var errNotOurs = fmt.Errorf("meta header does not carry the magic %q", formatMagic)

// decodeHeader returns the format version recorded in the meta header, errNotOurs when the header is not ours
// and errBadRecord when it is ours but damaged.
func decodeHeader(v []byte) (uint32, error) {
	if len(v) != 4+len(formatMagic)+4 || string(v[4:4+len(formatMagic)]) != formatMagic {
		return 0, errNotOurs
	}
	if binary.LittleEndian.Uint32(v) != crcOf(keyHeader, v[4:]) {
		return 0, errBadRecord
	}
	return binary.LittleEndian.Uint32(v[4+len(formatMagic):]), nil
}
