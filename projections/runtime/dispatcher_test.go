package runtime_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// handler applies one event inside the batch's transaction.
type handler func(ctx context.Context, tx pgx.Tx, e eventlog.Recorded) error

// dispatcher routes each event of a batch to the handler registered for its type and ignores the others:
// the tests' read models written event by event, whose handlers report poison without a position.
type dispatcher struct {
	handlers map[string]handler
}

// On registers fn for events of type eventType. Registering a type twice panics.
func (d *dispatcher) On(eventType string, fn handler) {
	if d.handlers == nil {
		d.handlers = make(map[string]handler)
	}
	if _, dup := d.handlers[eventType]; dup {
		panic("projection dispatcher: two handlers for " + eventType)
	}
	d.handlers[eventType] = fn
}

// Apply calls the registered handler of each event in order; a poison error from a handler is returned
// as a *runtime.PoisonError naming the event.
func (d *dispatcher) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.Recorded) error {
	for _, e := range batch {
		fn, ok := d.handlers[e.Type]
		if !ok {
			continue
		}
		if err := fn(ctx, tx, e); err != nil {
			if errors.Is(err, runtime.ErrPoison) {
				var pe *runtime.PoisonError
				if errors.As(err, &pe) {
					return err
				}
				return runtime.Poison(e, err)
			}
			return fmt.Errorf("apply %s at %s: %w", e.Type, e.Position, err)
		}
	}
	return nil
}
