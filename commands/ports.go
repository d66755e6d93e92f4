// Package commands is the ledger's application layer: one handler per command a clerk, committee member
// or administrator can give. A handler authorizes the actor against the community, loads the aggregate's
// stream, lets the pure domain decide, and appends the resulting events with the exact expected revision
// and ids derived from the command id — so a retried command appends nothing new and a concurrent change
// is a conflict the caller can retry. The ports it needs (EventStore, Clock) are declared here and
// satisfied by adapters in infra/.
package commands

import (
	"context"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
)

// EventStore is what the command side needs of the store of record.
type EventStore interface {
	// Load returns every event of a stream in order; a stream that does not exist yet is (nil, nil).
	Load(ctx context.Context, stream string) ([]eventlog.Recorded, error)
	// Append appends events atomically if the stream is in the expected state, sealing them into the
	// stream's hash chain; otherwise it returns an error that errors.Is eventlog.ErrConflict and appends
	// nothing.
	Append(ctx context.Context, stream string, expected eventlog.Expected, events []eventlog.Event) (eventlog.AppendResult, error)
}

// Clock tells the time. Handlers never call time.Now: tests and replays drive time.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock, in UTC.
type SystemClock struct{}

// Now returns the current instant in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }
