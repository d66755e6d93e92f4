package workload

import (
	"context"
	"errors"
	"fmt"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
)

// Store is a Sink that can also read $all: what SeedIfEmpty needs. The store adapter satisfies it.
type Store interface {
	Sink
	ReadAll(ctx context.Context, from eventlog.Position, max int, fn func(eventlog.Recorded) error) error
}

// scanLimit bounds how many events of $all HoldsLedgerEvents reads looking for one of the ledger's. The
// embedded node holds nothing but the ledger's events; a fresh EventStoreDB server starts $all with a
// few system events ($-streams).
const scanLimit = 4096

var errFound = errors.New("found")

// HoldsLedgerEvents reports whether the store holds any event of the ledger (any stream that is not the
// store's own $-stream) among the first events of $all, and if so the stream of the first one.
func HoldsLedgerEvents(ctx context.Context, st Store) (bool, string, error) {
	var stream string
	err := st.ReadAll(ctx, eventlog.Start, scanLimit, func(r eventlog.Recorded) error {
		if eventlog.SystemStream(r.Stream) {
			return nil
		}
		stream = r.Stream
		return errFound
	})
	switch {
	case errors.Is(err, errFound):
		return true, stream, nil
	case err != nil:
		return false, "", fmt.Errorf("workload: look for ledger events: %w", err)
	}
	return false, "", nil
}

// SeedIfEmpty writes the history of opts into the store if it holds no ledger events yet (for
// `serve --demo`), and reports whether it did. A store that holds events is left untouched. Pass
// Options.Until = time.Now() for a demo whose deadlines fall in the present.
func SeedIfEmpty(ctx context.Context, st Store, opts Options) (bool, Stats, error) {
	holds, _, err := HoldsLedgerEvents(ctx, st)
	if err != nil || holds {
		return false, Stats{}, err
	}
	stats, err := Generate(ctx, opts, st)
	if err != nil {
		return false, Stats{}, err
	}
	return true, stats, nil
}
