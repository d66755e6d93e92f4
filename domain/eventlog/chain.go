package eventlog

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// canonicalPrefix tags the canonical encoding's version. It is hashed first, so a future encoding (v2)
// can never produce a hash equal to a v1 one.
const canonicalPrefix = "grassroots-ledger/event/v1"

// Canonical is the byte string the hash chain covers for one event of a stream: the stream name, the
// event id, type and payload, every metadata field except Hash (PrevHash included, which links the
// chain), each length-prefixed so no two different events encode alike. Payload bytes are taken as
// stored, so no JSON re-encoding can change a hash. Personal data that is later crypto-shredded lives in
// the payload as ciphertext, so deleting a key never breaks the chain.
func Canonical(stream string, e Event) []byte {
	m := e.Meta
	b := make([]byte, 0, 256+len(e.Data))
	field := func(s []byte) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	str := func(s string) { field([]byte(s)) }
	str(canonicalPrefix)
	str(stream)
	field(e.ID[:])
	str(e.Type)
	field(e.Data)
	str(strconv.Itoa(m.SchemaVersion))
	str(m.CommunityID)
	str(m.Jurisdiction)
	str(m.Actor)
	str(m.CommandID)
	str(m.CorrelationID)
	str(m.CausationID)
	str(formatTime(m.OccurredAt))
	str(m.PrevHash)
	if m.Command != "" || m.RequestHash != "" { // later fields: absent from older events, whose hashes stay as they were
		str("command")
		str(m.Command)
		str(m.RequestHash)
	}
	return b
}

// formatTime is the one textual form of an instant in the canonical encoding: UTC, RFC 3339 with
// nanoseconds, so the JSON round trip of Metadata.OccurredAt hashes the same.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// HashOf computes the chain hash of e as an event of stream: hex SHA-256 of Canonical.
func HashOf(stream string, e Event) string {
	sum := sha256.Sum256(Canonical(stream, e))
	return hex.EncodeToString(sum[:])
}

// HashBytes is the 32 bytes of the chain hash HashOf writes as 64 lower-case hex digits; ok is false for
// any other text (upper-case digits included: a hash is compared as text). One pass through a table.
func HashBytes(hash string) (b [sha256.Size]byte, ok bool) {
	if len(hash) != 2*sha256.Size {
		return b, false
	}
	bad := byte(0)
	for i := range b {
		hi, lo := lowerHex[hash[2*i]], lowerHex[hash[2*i+1]]
		bad |= hi | lo
		b[i] = hi<<4 | lo
	}
	return b, bad <= 0xF
}

// lowerHex maps a lower-case hex digit to its value and every other byte to 0xFF.
var lowerHex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xFF
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		t[c] = c - 'a' + 10
	}
	return t
}()

// Seal links events into stream's hash chain after the event whose hash is prevHash ("" for a new
// stream): it sets each event's PrevHash and Hash in order and normalises OccurredAt to UTC.
// It returns the hash of the last event, the new tail.
func Seal(stream, prevHash string, events []Event) string {
	for i := range events {
		events[i].Meta.OccurredAt = events[i].Meta.OccurredAt.UTC()
		events[i].Meta.PrevHash = prevHash
		events[i].Meta.Hash = HashOf(stream, events[i])
		prevHash = events[i].Meta.Hash
	}
	return prevHash
}

// ErrChainBroken means a stream's recorded events do not form an intact hash chain: an event was
// altered, removed or inserted after it was written. Break says where.
var ErrChainBroken = errors.New("eventlog: hash chain broken")

// Break locates the first place a stream's hash chain fails.
type Break struct {
	Stream   string
	Revision uint64
	EventID  ID
	Position Position
	Reason   string
}

func (b *Break) Error() string {
	return fmt.Sprintf("%v: stream %s revision %d event %s at %s: %s", ErrChainBroken, b.Stream, b.Revision, b.EventID, b.Position, b.Reason)
}

// Is makes errors.Is(err, ErrChainBroken) true.
func (b *Break) Is(target error) bool { return target == ErrChainBroken }

// ChainVerifier checks one stream's events in revision order, one at a time, so an auditor can walk a
// history far larger than memory. The zero value is ready for a stream's first event.
type ChainVerifier struct {
	tail    string
	nextRev uint64
}

// Next checks the next event of the stream. It returns a *Break (errors.Is ErrChainBroken) at the first
// event that is out of sequence, does not link to its predecessor, or whose content does not hash to the
// recorded hash.
func (v *ChainVerifier) Next(r Recorded) error {
	brk := func(reason string) error {
		return &Break{Stream: r.Stream, Revision: r.Revision, EventID: r.ID, Position: r.Position, Reason: reason}
	}
	if r.Revision != v.nextRev {
		return brk(fmt.Sprintf("expected revision %d next", v.nextRev))
	}
	if r.Meta.PrevHash != v.tail {
		return brk(fmt.Sprintf("prev_hash %q does not match the previous event's hash %q", r.Meta.PrevHash, v.tail))
	}
	if got := HashOf(r.Stream, r.Event); got != r.Meta.Hash {
		return brk(fmt.Sprintf("content hashes to %s but the recorded hash is %s", got, r.Meta.Hash))
	}
	v.tail = r.Meta.Hash
	v.nextRev++
	return nil
}

// Tail is the hash of the last verified event ("" before the first).
func (v *ChainVerifier) Tail() string { return v.tail }

// VerifyStream checks a whole stream held in memory; nil means intact.
func VerifyStream(events []Recorded) error {
	var v ChainVerifier
	for _, r := range events {
		if err := v.Next(r); err != nil {
			return err
		}
	}
	return nil
}

// idNamespace is the UUIDv5 namespace of event ids derived from command ids. Permanent.
var idNamespace = ID{0x6b, 0x1d, 0x2f, 0x5e, 0x93, 0x4a, 0x4c, 0x1b, 0x8f, 0x0e, 0x2a, 0x77, 0x51, 0xc3, 0xd9, 0x40}

// DeriveID is the id of the index-th event produced by the command commandID: a UUIDv5 (RFC 9562) of
// "commandID/index". A retried command therefore proposes the same ids, and the store recognises the
// retry instead of appending twice.
func DeriveID(commandID string, index int) ID {
	h := sha1.New()
	h.Write(idNamespace[:])
	h.Write([]byte(commandID))
	h.Write([]byte{'/'})
	h.Write([]byte(strconv.Itoa(index)))
	var id ID
	copy(id[:], h.Sum(nil))
	id[6] = (id[6] & 0x0f) | 0x50 // version 5
	id[8] = (id[8] & 0x3f) | 0x80 // RFC variant
	return id
}
