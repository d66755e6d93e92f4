package eventstore

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
)

// encodeMeta renders the metadata document stored beside each event's payload (DESIGN.md decision 3).
func encodeMeta(m eventlog.Metadata) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode metadata: %w", err)
	}
	return b, nil
}

// decodeMeta reads an event's metadata. Metadata that is not ours (a real server's $-streams, events other
// clients wrote, no metadata at all) yields the zero Metadata rather than an error: reading $all must never
// fail on a foreign event, and eventlog.SystemStream or the empty Hash tell callers what they have.
//
// Reading $all is the hot path (projections replay millions of events), so the documents this package writes
// are parsed by a small scanner that allocates only the field strings; anything it is not sure about (escapes,
// unknown or differently-cased keys, null, exotic numbers) goes to encoding/json, whose result is the
// definition the scanner is fuzzed against.
func decodeMeta(b []byte) eventlog.Metadata {
	if len(b) == 0 {
		return eventlog.Metadata{}
	}
	if m, ok := scanMeta(b); ok {
		return m
	}
	var m eventlog.Metadata
	if err := json.Unmarshal(b, &m); err != nil {
		return eventlog.Metadata{}
	}
	return m
}

// scanMeta parses the plain form of a Metadata JSON object; ok is false when the input needs the full decoder.
// The document is copied into one string whose substrings become the fields: one allocation per event
// instead of one per field.
func scanMeta(b []byte) (m eventlog.Metadata, ok bool) {
	var doc string // b as a string, made at the first string field
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return m, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return m, skipSpace(b, i+1) == len(b)
	}
	for {
		var key, s []byte
		if key, i, ok = scanString(b, i); !ok {
			return m, false
		}
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != ':' {
			return m, false
		}
		i = skipSpace(b, i+1)
		switch string(key) {
		case "schema_version":
			var n int
			if n, i, ok = scanInt(b, i); !ok {
				return m, false
			}
			m.SchemaVersion = n
		case "occurred_at":
			if s, i, ok = scanString(b, i); !ok {
				return m, false
			}
			if err := m.OccurredAt.UnmarshalText(s); err != nil {
				return m, false
			}
		default:
			field := stringField(&m, key)
			if field == nil {
				return m, false
			}
			start := i + 1
			if s, i, ok = scanString(b, i); !ok {
				return m, false
			}
			if doc == "" {
				doc = string(b)
			}
			*field = doc[start : start+len(s)]
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return m, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return m, skipSpace(b, i+1) == len(b)
		default:
			return m, false
		}
	}
}

func stringField(m *eventlog.Metadata, key []byte) *string {
	switch string(key) {
	case "community_id":
		return &m.CommunityID
	case "jurisdiction":
		return &m.Jurisdiction
	case "actor":
		return &m.Actor
	case "command_id":
		return &m.CommandID
	case "command":
		return &m.Command
	case "request_hash":
		return &m.RequestHash
	case "correlation_id":
		return &m.CorrelationID
	case "causation_id":
		return &m.CausationID
	case "prev_hash":
		return &m.PrevHash
	case "hash":
		return &m.Hash
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainByte marks the bytes a JSON string holds as themselves: printable ASCII other than '"' and '\\'.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanString reads a JSON string without escapes starting at b[i] == '"' and returns its contents (a
// sub-slice of b) and the index after the closing quote.
func scanString(b []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	ascii := true
	j := i + 1
	for j < len(b) {
		if plainByte[b[j]] {
			j++
			continue
		}
		c := b[j]
		switch {
		case c == '"':
			s = b[i+1 : j]
			if !ascii && !utf8.Valid(s) { // encoding/json would substitute U+FFFD
				return nil, i, false
			}
			return s, j + 1, true
		case c >= utf8.RuneSelf:
			ascii = false
			j++
		default: // an escape or a control character
			return nil, i, false
		}
	}
	return nil, i, false
}

// scanInt reads a JSON integer without fraction or exponent, small enough not to overflow.
func scanInt(b []byte, i int) (n int, next int, ok bool) {
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		n = n*10 + int(b[i]-'0')
		i++
	}
	digits := i - start
	if digits == 0 || digits > 18 || (digits > 1 && b[start] == '0') {
		return 0, i, false
	}
	if i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E') {
		return 0, i, false
	}
	if neg {
		n = -n
	}
	return n, i, true
}
