package decodetest

import (
	"context"
	"io/fs"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// MigratorFor is infra/pg.Migrator, passed in by the tests (decodetest imports nothing of infra/ but the
// PostgreSQL test kit).
type MigratorFor func(pool *pgxpool.Pool) func(ctx context.Context, schema, versionTable string, migrations fs.FS) error

// Redelivery says whether a model's Apply must also be idempotent: the public models are (an event applied
// twice changes nothing); the audit trail and the alerts rely on the runtime, which applies only the events
// after the checkpoint it moves in the same transaction.
type Redelivery bool

const (
	Idempotent   Redelivery = true
	OnlyOnceEach Redelivery = false
)

// SameRowsUnderAnyBatching is the read models' contract on batching: the runtime may cut batches anywhere.
// evs applied to fresh databases whole, one event per batch and cut in runs of other sizes leave the same
// rows (Checksum of the model's schema) each time; for an Idempotent model, also when applied twice over
// and in overlapping runs.
func SameRowsUnderAnyBatching(t *testing.T, migrator MigratorFor, newModel func() runtime.ReadModel, evs []eventlog.Recorded, again Redelivery) {
	t.Helper()
	type run struct{ from, to, batch int }
	n := len(evs)
	plans := map[string][]run{
		"whole":      {{0, n, 0}},
		"one-by-one": {{0, n, 1}},
		"cut":        {{0, n / 3, 2}, {n / 3, 2 * n / 3, 0}, {2 * n / 3, n, 5}},
	}
	if again {
		plans["twice"] = []run{{0, n, 0}, {0, n, 0}}
		plans["overlapping"] = []run{{0, 2 * n / 3, 0}, {n / 3, n, 3}}
		plans["thirds"] = []run{{0, n / 3, 2}, {n / 4, 3 * n / 4, 0}, {n / 2, n, 5}}
	}
	modes := make([]string, 0, len(plans))
	for mode := range plans {
		modes = append(modes, mode)
	}
	slices.Sort(modes)
	sums := map[string]string{}
	for _, mode := range modes {
		pool := NewPool(t)
		m := newModel()
		Migrate(t, migrator(pool), m)
		for _, r := range plans[mode] {
			MustApply(t, pool, m, evs[r.from:r.to], r.batch)
		}
		sums[mode] = Checksum(t, pool, runtime.SchemaOf(m.Name()))
	}
	for _, mode := range modes {
		if sums[mode] != sums["whole"] {
			t.Errorf("%s: %s\nwhole: %s", mode, sums[mode], sums["whole"])
		}
	}
}
