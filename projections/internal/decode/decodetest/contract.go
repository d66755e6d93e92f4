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

// SameRowsUnderAnyBatching is the read models' contract on batching: the runtime may cut batches anywhere
// and, after a crash, deliver events again. evs applied to fresh databases whole, one event per batch,
// twice over, and in overlapping runs of other batch sizes leave the same rows (Checksum of the model's
// schema) each time.
func SameRowsUnderAnyBatching(t *testing.T, migrator MigratorFor, newModel func() runtime.ReadModel, evs []eventlog.Recorded) {
	t.Helper()
	type run struct{ from, to, batch int }
	n := len(evs)
	plans := map[string][]run{
		"whole":       {{0, n, 0}},
		"one-by-one":  {{0, n, 1}},
		"twice":       {{0, n, 0}, {0, n, 0}},
		"overlapping": {{0, 2 * n / 3, 0}, {n / 3, n, 3}},
		"thirds":      {{0, n / 3, 2}, {n / 4, 3 * n / 4, 0}, {n / 2, n, 5}},
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
