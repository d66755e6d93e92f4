package runtime

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"
)

// IndexesLast is a ReadModel some of whose indexes its Apply never reads through: indexes for the portal
// and the auditors, not for folding events. A rebuild drops them from the shadow schema once it is
// migrated and creates them again, sorted in one pass each, after the whole history has been applied,
// instead of updating them row by row; the swap happens only once they exist, so the live schema never
// lacks one. Only non-unique indexes can be named: a unique index is a rule the rows must keep while they
// are written. Live projection is not affected.
type IndexesLast interface {
	// IndexesBuiltLast names the indexes (in the model's schema) a rebuild builds after the load.
	IndexesBuiltLast() []string
}

// deferredIndex is an index a rebuild dropped from a shadow schema, with the statement that makes it again.
type deferredIndex struct{ name, def string }

// deferIndexes drops from schema the indexes m builds last and returns how to create them again. An index
// named that does not exist, or that is unique, is an error: a programming error found by the first rebuild.
func (r *Runtime) deferIndexes(ctx context.Context, m ReadModel, schema string) ([]deferredIndex, error) {
	il, ok := m.(IndexesLast)
	if !ok {
		return nil, nil
	}
	names := il.IndexesBuiltLast()
	if len(names) == 0 {
		return nil, nil
	}
	rows, err := r.cfg.Pool.Query(ctx, `SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisunique
		FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relname = ANY($2)`, schema, names)
	if err != nil {
		return nil, fmt.Errorf("find the indexes built last: %w", err)
	}
	var out []deferredIndex
	for rows.Next() {
		var d deferredIndex
		var unique bool
		if err := rows.Scan(&d.name, &d.def, &unique); err != nil {
			rows.Close()
			return nil, fmt.Errorf("find the indexes built last: %w", err)
		}
		if unique {
			rows.Close()
			return nil, fmt.Errorf("index %s is unique: it cannot be built last", d.name)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find the indexes built last: %w", err)
	}
	for _, n := range names {
		if !slices.ContainsFunc(out, func(d deferredIndex) bool { return d.name == n }) {
			return nil, fmt.Errorf("index %s, named to be built last, is not in the schema", n)
		}
	}
	for _, d := range out {
		if _, err := r.cfg.Pool.Exec(ctx, "DROP INDEX "+pgx.Identifier{schema, d.name}.Sanitize()); err != nil {
			return nil, fmt.Errorf("drop index %s until the history is applied: %w", d.name, err)
		}
	}
	return out, nil
}

// buildIndexes creates the indexes deferIndexes dropped (pg_get_indexdef names the schema), side by side,
// each on its own connection with room to sort in memory: a pool smaller than their number takes them in
// turns.
func (r *Runtime) buildIndexes(ctx context.Context, idx []deferredIndex) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, d := range idx {
		g.Go(func() error {
			err := pgx.BeginFunc(gctx, r.cfg.Pool, func(tx pgx.Tx) error {
				if _, err := tx.Exec(gctx, "SET LOCAL maintenance_work_mem = '128MB'"); err != nil {
					return err
				}
				_, err := tx.Exec(gctx, d.def)
				return err
			})
			if err != nil {
				return fmt.Errorf("build index %s: %w", d.name, err)
			}
			return nil
		})
	}
	return g.Wait()
}
