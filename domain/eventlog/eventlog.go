// Package eventlog is the ledger's event envelope: what every stored event carries besides its payload
// (identity, stream, position, metadata, the per-stream hash chain) and the value types the command side,
// the projections and the store adapters exchange. It is pure: no I/O, no clock, no randomness.
//
// The canonical encoding defined here (see Canonical) is what the hash chain covers. It is part of the
// ledger's permanent record: changing it breaks verification of every stored event, so a change must be a
// new encoding version (a new prefix), never an edit.
package eventlog

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ID is an event id: a UUID, stored as 16 bytes.
type ID [16]byte

// String renders the id in the canonical 8-4-4-4-12 form.
func (id ID) String() string {
	var b [36]byte
	hex.Encode(b[0:8], id[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], id[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], id[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], id[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], id[10:16])
	return string(b[:])
}

// IsZero reports whether the id is unset.
func (id ID) IsZero() bool { return id == ID{} }

// ParseID parses the canonical 36-character form (hyphens required).
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return id, fmt.Errorf("eventlog: %q is not a UUID in 8-4-4-4-12 form", s)
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	if _, err := hex.Decode(id[:], []byte(h)); err != nil {
		return ID{}, fmt.Errorf("eventlog: %q is not a UUID: %w", s, err)
	}
	return id, nil
}

// Position is a place in the global ($all) order of the store. Commit and prepare positions are the
// EventStoreDB transaction-log positions; on the embedded node they are equal. Positions only ever grow.
type Position struct {
	Commit  uint64 `json:"commit"`
	Prepare uint64 `json:"prepare"`
}

// Start is the position before every event: reading or subscribing "from Start" includes the first event.
var Start = Position{}

// IsZero reports whether p is Start.
func (p Position) IsZero() bool { return p == Position{} }

// Less orders positions by commit, then prepare.
func (p Position) Less(q Position) bool {
	if p.Commit != q.Commit {
		return p.Commit < q.Commit
	}
	return p.Prepare < q.Prepare
}

// String renders "commit/prepare", the form ParsePosition reads.
func (p Position) String() string {
	return strconv.FormatUint(p.Commit, 10) + "/" + strconv.FormatUint(p.Prepare, 10)
}

// ParsePosition reads the "commit/prepare" form.
func ParsePosition(s string) (Position, error) {
	c, pr, ok := strings.Cut(s, "/")
	if !ok {
		return Position{}, fmt.Errorf("eventlog: position %q is not commit/prepare", s)
	}
	commit, err := strconv.ParseUint(c, 10, 64)
	if err != nil {
		return Position{}, fmt.Errorf("eventlog: position %q: commit: %w", s, err)
	}
	prepare, err := strconv.ParseUint(pr, 10, 64)
	if err != nil {
		return Position{}, fmt.Errorf("eventlog: position %q: prepare: %w", s, err)
	}
	return Position{Commit: commit, Prepare: prepare}, nil
}

// Metadata is the JSON document every event carries beside its payload (DESIGN.md decision 3).
// Field names are permanent: they are part of the stored record and of the hash.
type Metadata struct {
	// SchemaVersion is the version of the payload's shape for this event type; old versions are upcast on read.
	SchemaVersion int `json:"schema_version"`
	// CommunityID is the community (社区/村) the event belongs to; empty for district-level streams (alerts).
	CommunityID string `json:"community_id,omitempty"`
	// Jurisdiction is the full jurisdiction path, e.g. "33/3303/330303/330303001/330303001001".
	Jurisdiction string `json:"jurisdiction"`
	// Actor is who caused the event: a token subject ("clerk:…"), or "system:<component>".
	Actor string `json:"actor"`
	// CommandID is the idempotency key of the command that produced the event.
	CommandID string `json:"command_id"`
	// Command is the name of that command (e.g. "approve-expenditure") and RequestHash the SHA-256 of
	// its name and canonical JSON body, so that a key given again with another command or body is told
	// apart from a retry. Empty for events recorded before they existed and for system producers.
	Command     string `json:"command,omitempty"`
	RequestHash string `json:"request_hash,omitempty"`
	// CorrelationID ties together everything one request caused; CausationID is the direct cause.
	CorrelationID string `json:"correlation_id,omitempty"`
	CausationID   string `json:"causation_id,omitempty"`
	// OccurredAt is when the fact happened as the command said, in UTC.
	OccurredAt time.Time `json:"occurred_at"`
	// PrevHash is the Hash of the previous event of the same stream ("" for the first); Hash covers
	// Canonical(stream, event). Together they make each stream a hash chain an auditor can verify.
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

// Event is an event to append, or the envelope of a recorded one.
type Event struct {
	ID   ID
	Type string // permanent wire name, e.g. "funds.disbursement-approved"
	Data []byte // JSON payload, stored and hashed byte for byte
	Meta Metadata
}

// Recorded is an event as read back from the store.
type Recorded struct {
	Event
	Stream   string
	Revision uint64    // 0-based position in its stream
	Position Position  // place in $all
	Created  time.Time // when the store wrote it (UTC)
	// Shared, when not nil, is what the readers of this one copy of the event work out once for all of
	// them: its decoded payload. Whoever hands the same copy to several readers (the projection runtime,
	// to every read model) sets it; it is nil otherwise, and never part of the record.
	Shared *Shared
}

// Shared holds the payload of a recorded event decoded once for every reader of the same copy. The
// decoded value is read-only for all of them.
type Shared struct {
	mu      sync.Mutex
	done    bool
	by      any // who decoded it (a registry): a reader with another decoder decodes on its own
	payload any
	err     error
}

// Payload returns the payload decode returns, calling decode only for the first reader that asks with
// the same by; a reader with another by gets decode's own result, not shared.
func (s *Shared) Payload(by any, decode func() (any, error)) (any, error) {
	if s == nil {
		return decode()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.done {
		s.payload, s.err = decode()
		s.by, s.done = by, true
		return s.payload, s.err
	}
	if s.by != by {
		return decode()
	}
	return s.payload, s.err
}

// ExpectedKind says what an append expects of the stream.
type ExpectedKind uint8

const (
	// ExpectAnyKind appends whatever the stream's state.
	ExpectAnyKind ExpectedKind = iota
	// ExpectNoStreamKind requires that the stream does not exist yet.
	ExpectNoStreamKind
	// ExpectStreamExistsKind requires that the stream exists.
	ExpectStreamExistsKind
	// ExpectRevisionKind requires that the stream's last event is at exactly Revision.
	ExpectRevisionKind
)

// Expected is the optimistic-concurrency condition of an append. For ExpectRevisionKind it also carries
// the hash of the event at that revision, so the appender can continue the stream's hash chain without
// reading it again.
type Expected struct {
	Kind     ExpectedKind
	Revision uint64
	TailHash string
}

// Any expects nothing of the stream.
func Any() Expected { return Expected{Kind: ExpectAnyKind} }

// NoStream expects the stream not to exist.
func NoStream() Expected { return Expected{Kind: ExpectNoStreamKind} }

// StreamExists expects the stream to exist.
func StreamExists() Expected { return Expected{Kind: ExpectStreamExistsKind} }

// At expects the stream's last event to be at revision rev, whose hash is tailHash.
func At(rev uint64, tailHash string) Expected {
	return Expected{Kind: ExpectRevisionKind, Revision: rev, TailHash: tailHash}
}

// After returns the condition for appending after the loaded events of a stream: NoStream when there
// were none, else At the last one.
func After(loaded []Recorded) Expected {
	if len(loaded) == 0 {
		return NoStream()
	}
	last := loaded[len(loaded)-1]
	return At(last.Revision, last.Meta.Hash)
}

func (e Expected) String() string {
	switch e.Kind {
	case ExpectNoStreamKind:
		return "no stream"
	case ExpectStreamExistsKind:
		return "stream exists"
	case ExpectRevisionKind:
		return "revision " + strconv.FormatUint(e.Revision, 10)
	default:
		return "any"
	}
}

// AppendResult is what a successful append returns: the stream's revision after it (the revision of the
// last appended event) and the $all position of that event.
type AppendResult struct {
	Revision uint64
	Position Position
}

// ErrConflict means the stream was not in the expected state: someone else appended first. The caller
// must reload the stream, decide again and retry; the append changed nothing.
var ErrConflict = errors.New("eventlog: stream changed concurrently: reload and retry")

// ErrStreamNotFound means the stream has no events. Loading a missing stream is not an error for the
// command side (a new aggregate); this sentinel is for callers that require the stream.
var ErrStreamNotFound = errors.New("eventlog: stream not found")

// ConflictError is the detail behind ErrConflict. Actual is the stream's current revision, or -1 when
// the stream does not exist.
type ConflictError struct {
	Stream   string
	Expected Expected
	Actual   int64
}

func (e *ConflictError) Error() string {
	actual := "no stream"
	if e.Actual >= 0 {
		actual = "revision " + strconv.FormatInt(e.Actual, 10)
	}
	return fmt.Sprintf("append to %s: expected %s, stream is at %s: %v", e.Stream, e.Expected, actual, ErrConflict)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Filter selects events of $all by stream name or event type. Empty means everything. Prefixes are
// OR-ed; a regex, when set, is used instead of prefixes of the same kind. Only one of the stream and
// event-type filters may be set (an EventStoreDB server limitation).
type Filter struct {
	StreamPrefixes []string
	StreamRegex    string
	TypePrefixes   []string
	TypeRegex      string
}

// IsZero reports whether the filter selects everything.
func (f Filter) IsZero() bool {
	return len(f.StreamPrefixes) == 0 && f.StreamRegex == "" && len(f.TypePrefixes) == 0 && f.TypeRegex == ""
}

// Validate reports a filter the store cannot serve.
func (f Filter) Validate() error {
	byStream := len(f.StreamPrefixes) > 0 || f.StreamRegex != ""
	byType := len(f.TypePrefixes) > 0 || f.TypeRegex != ""
	if byStream && byType {
		return errors.New("eventlog: filter by stream name or by event type, not both")
	}
	return nil
}

// Delivery is one message of a subscription to $all: either an event, or a checkpoint saying the
// subscription has scanned up to Checkpoint without finding a matching event (so a filtered subscriber
// can advance its own checkpoint).
type Delivery struct {
	Event      *Recorded
	Checkpoint Position
}

// SystemStream reports whether a stream is the store's own ($-prefixed), which the ledger never writes
// and projections skip.
func SystemStream(stream string) bool { return strings.HasPrefix(stream, "$") }
