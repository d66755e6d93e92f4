package supervision

import (
	"fmt"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/supervision"
)

// Actor is the actor recorded on alert events the engine decides.
const Actor = "system:alerts"

// Cause is the event that led the engine to an alert event, for its correlation and causation ids.
type Cause struct {
	EventID       string
	CorrelationID string
}

// Envelope wraps an alert event (supervision.AlertRaised or AlertCleared) for appending to its
// district's stream: its id derived from the alert (supervision.RaisedEventID, ClearedEventID), the
// command id it is derived from, the community's jurisdiction path, and occurred-at the raise or clear
// time. The community id stays empty in the metadata, as for every district-level stream; it is in the
// payload. actor is Actor for the engine's own decisions, the supervisor for a resolution.
func Envelope(e kernel.Event, actor string, cause Cause) (stream string, ev eventlog.Event, err error) {
	var (
		cmd  string
		path kernel.JurisdictionPath
		at   time.Time
	)
	switch a := e.(type) {
	case supervision.AlertRaised:
		cmd, path, at = supervision.RaiseCommand(a.AlertID, a.Severity), a.Jurisdiction, a.RaisedAt
	case supervision.AlertCleared:
		cmd, path, at = supervision.ClearCommand(a.AlertID), a.Jurisdiction, a.ClearedAt
	default:
		return "", eventlog.Event{}, fmt.Errorf("alerts: %s is not an alert event", e.EventName())
	}
	name, version, data, err := kernel.Encode(e)
	if err != nil {
		return "", eventlog.Event{}, err
	}
	corr := cause.CorrelationID
	if corr == "" {
		corr = cmd
	}
	causation := cause.EventID
	if causation == "" {
		causation = cmd
	}
	return supervision.Stream(path), eventlog.Event{
		ID:   eventlog.DeriveID(cmd, 0),
		Type: name,
		Data: data,
		Meta: eventlog.Metadata{
			SchemaVersion: version,
			Jurisdiction:  string(path),
			Actor:         actor,
			CommandID:     cmd,
			CorrelationID: corr,
			CausationID:   causation,
			OccurredAt:    at.UTC(),
		},
	}, nil
}
