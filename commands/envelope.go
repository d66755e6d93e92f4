package commands

import (
	"bytes"
	"fmt"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// Envelope wraps the events one command decided into the envelopes that are appended to the command's
// stream, exactly as Executor.Execute does: each event encoded with its wire name and schema version,
// its id derived from the command id and its index (eventlog.DeriveID), and metadata naming the
// community, its jurisdiction path, the actor, the command, correlation and causation ids (both default
// to the command id) and when it occurred (now, normalised to UTC by sealing). Prev_hash and hash are left
// empty: the store adapter seals them when it appends.
//
// It is exported for producers of events that do not go through the executor but must be
// indistinguishable from its output, such as the demo and benchmark workload generator. An event the
// registry does not know is an error: register it before recording it.
func Envelope(reg *kernel.Registry, m Meta, t Target, events []kernel.Event, now time.Time) ([]eventlog.Event, error) {
	corr, cause := m.CorrelationID, m.CausationID
	if corr == "" {
		corr = m.CommandID
	}
	if cause == "" {
		cause = m.CommandID
	}
	out := make([]eventlog.Event, len(events))
	for i, e := range events {
		if !reg.Knows(e) {
			return nil, fmt.Errorf("command produced %s, which the registry does not know: register it before recording it", e.EventName())
		}
		name, version, data, err := kernel.Encode(e)
		if err != nil {
			return nil, err
		}
		if encodesNUL(data) { // PostgreSQL can hold no NUL in a text: the read models could never project it
			return nil, kernel.Invalid("invalid-text", "", "内容含有空字符(U+0000)，无法记录")
		}
		out[i] = eventlog.Event{
			ID:   eventlog.DeriveID(m.CommandID, i),
			Type: name,
			Data: data,
			Meta: eventlog.Metadata{
				SchemaVersion: version,
				CommunityID:   string(t.CommunityID),
				Jurisdiction:  string(t.Path),
				Actor:         m.Actor.String(),
				CommandID:     m.CommandID,
				Command:       m.Command,
				RequestHash:   m.RequestHash,
				CorrelationID: corr,
				CausationID:   cause,
				OccurredAt:    now,
			},
		}
	}
	return out, nil
}

// encodesNUL reports whether JSON data holds the escape of U+0000 (an escape, not an escaped backslash
// followed by "u0000").
func encodesNUL(data []byte) bool {
	for i := bytes.Index(data, []byte(`\u0000`)); i >= 0; {
		slashes := 0
		for j := i; j >= 0 && data[j] == '\\'; j-- {
			slashes++
		}
		if slashes%2 == 1 {
			return true
		}
		next := bytes.Index(data[i+1:], []byte(`\u0000`))
		if next < 0 {
			return false
		}
		i += 1 + next
	}
	return false
}
