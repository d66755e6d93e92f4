// Package supervision (projections/supervision) is supervision's read model: the rules engine of the
// ledger as a read model (DESIGN.md decision 7), kept under its permanent model name "alerts" (schema
// rm_alerts; importers name the package alerts), and the read
// model supervisors and the portal read: open alerts under a jurisdiction, each community's
// red/yellow/green rating, counts by rule and severity, and the feed of alert events in $all order.
//
// As a projection it folds every event into the engine's state, by the pure policy of
// domain/supervision: the deadlines of things that must happen (a paid expenditure disclosed within 24 h,
// minutes within 48 h, …), the truth of each breach condition (a committee of the wrong size), the
// residents' assemblies held. What the engine decides — raise an alert, clear one — it never appends
// itself: it writes the alert event, fully formed and with an id derived from the alert, into its outbox
// in the batch's transaction. infra/supervision appends outbox events after the commit and runs the
// deadline sweep; when an alert event comes back through the subscription, this model records it and
// drops its outbox row in the same transaction as the checkpoint. So a crash anywhere between "decided"
// and "recorded" leaves either the outbox row (appended again with the same id, or found already
// appended once the projection caught up) or the recorded alert: never a lost or doubled alert.
package supervision

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// Name is the read model's name; its tables live in schema rm_alerts.
const Name = "alerts"

// Schema is the PostgreSQL schema of the model, for queries from outside a batch.
var Schema = runtime.SchemaOf(Name)

// Channels the model notifies (pg_notify) when a batch commits: alert events were recorded (SSE and
// webhooks read the feed), and the outbox has events to append.
const (
	FeedChannel   = "ledger_alert_feed"
	OutboxChannel = "ledger_alert_outbox"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Model is the alerts read model. Create it with New.
type Model struct {
	reg *kernel.Registry
}

// New returns the model decoding events with reg (events.Shared(): it must know the supervision
// events as well as every event the rules watch).
func New(reg *kernel.Registry) *Model { return &Model{reg: reg} }

// Name implements runtime.ReadModel.
func (m *Model) Name() string { return Name }

// Migrations implements runtime.ReadModel.
func (m *Model) Migrations() fs.FS { return runtime.EmbeddedMigrations(migrations) }

// Poison implements runtime.ReadModel: the engine halts rather than skip a fact, because a missed
// disclosure would raise a false alert and a missed breach would hide a true one. A halted model is
// loud (ledger_projection_halted) and resumes once fixed.
func (m *Model) Poison() runtime.PoisonPolicy { return runtime.Halt }

// Apply implements runtime.ReadModel.
func (m *Model) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.Recorded) error {
	b := &batchState{m: m, tx: tx, params: map[kernel.JurisdictionPath]paramsEntry{}}
	decoded := make([]kernel.Event, len(batch))
	for i := range batch {
		r := &batch[i]
		if _, known := m.reg.Latest(r.Type); !known {
			continue
		}
		// The same copy of an event reaches every model: the first to decode it decodes it for all.
		v, err := r.Shared.Payload(m.reg, func() (any, error) { return m.reg.Decode(r.Type, r.Meta.SchemaVersion, r.Data) })
		e, _ := v.(kernel.Event)
		if err != nil {
			return runtime.Poison(*r, fmt.Errorf("%s %s@%d: %w: %w", r.Type, r.Stream, r.Revision, err, runtime.ErrPoison))
		}
		decoded[i] = e
	}
	if err := b.prefetch(ctx, batch, decoded); err != nil {
		return err
	}
	for i := range batch {
		r, e := &batch[i], decoded[i]
		if e == nil {
			continue
		}
		if err := b.apply(ctx, i, r, e); err != nil {
			var pe *runtime.PoisonError
			if errors.As(err, &pe) {
				return err
			}
			return fmt.Errorf("apply %s %s@%d at %s: %w", r.Type, r.Stream, r.Revision, r.Position, err)
		}
	}
	if err := b.notify(ctx); err != nil {
		return err
	}
	return b.flush(ctx)
}
