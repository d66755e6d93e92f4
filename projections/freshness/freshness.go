// Package freshness tells how up to date each read model is, so the portal can say "as of …" and keep
// serving while the event store or the projector is down (DESIGN.md decision 6). It reads what the
// projection runtime writes in the same transaction as each batch: the checkpoint row in every model's
// schema (rm_<name>.checkpoint) and the runtime's registry (rm_meta). There is no copy to drift: a rebuild
// swap replaces a model's checkpoint together with its rows.
package freshness

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
)

// Projection is the freshness of one read model.
type Projection struct {
	Name   string
	Schema string
	// State is "running" or "halted" (stopped on a poison event: HaltReason says which).
	State      string
	HaltReason string
	// Checkpoint is the $all position of the last event applied; Start when none yet.
	Checkpoint eventlog.Position
	// LastEventRecordedAt is when the store recorded that event; zero when none. The model reflects every
	// event recorded up to this instant.
	LastEventRecordedAt time.Time
	// EventsApplied counts the events the model has applied (since its last rebuild, which replays all).
	EventsApplied int64
	// UpdatedAt is when the checkpoint last moved; zero when the model's schema is missing.
	UpdatedAt time.Time
	// PoisonEvents counts the events recorded as poison for the model.
	PoisonEvents int64
	// RebuiltAt is when the model was last swapped in by a rebuild; zero when never.
	RebuiltAt time.Time
}

// Querier is a pool, connection or transaction; the portal's read-only role suffices.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Read returns every registered read model by name. A model whose schema is missing (registered, then
// dropped by hand) is reported with a zero checkpoint and zero UpdatedAt.
func Read(ctx context.Context, q Querier) ([]Projection, error) {
	rows, err := q.Query(ctx, `SELECT p.name, p.schema_name, p.state, coalesce(p.halt_reason, ''), p.rebuilt_at,
		(SELECT count(*) FROM rm_meta.poison_events e WHERE e.projection = p.name),
		to_regclass(quote_ident(p.schema_name) || '.checkpoint') IS NOT NULL
		FROM rm_meta.projections p ORDER BY p.name`)
	if err != nil {
		return nil, fmt.Errorf("read projection registry: %w", err)
	}
	var out []Projection
	var present []string
	for rows.Next() {
		var p Projection
		var rebuilt *time.Time
		var exists bool
		if err := rows.Scan(&p.Name, &p.Schema, &p.State, &p.HaltReason, &rebuilt, &p.PoisonEvents, &exists); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read projection registry: %w", err)
		}
		if rebuilt != nil {
			p.RebuiltAt = rebuilt.UTC()
		}
		if exists {
			present = append(present, p.Schema)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read projection registry: %w", err)
	}
	if len(present) == 0 {
		return out, nil
	}
	parts := make([]string, len(present))
	for i, s := range present {
		parts[i] = fmt.Sprintf("SELECT %s::text, commit_pos, prepare_pos, last_recorded_at, events_applied, updated_at FROM %s",
			quoteLiteral(s), pgx.Identifier{s, "checkpoint"}.Sanitize())
	}
	rows, err = q.Query(ctx, strings.Join(parts, " UNION ALL "))
	if err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	bySchema := map[string]int{}
	for i, p := range out {
		bySchema[p.Schema] = i
	}
	for rows.Next() {
		var schema string
		var c, pr, n int64
		var last *time.Time
		var updated time.Time
		if err := rows.Scan(&schema, &c, &pr, &last, &n, &updated); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read checkpoints: %w", err)
		}
		p := &out[bySchema[schema]]
		p.Checkpoint = eventlog.Position{Commit: uint64(c), Prepare: uint64(pr)}
		p.EventsApplied, p.UpdatedAt = n, updated.UTC()
		if last != nil {
			p.LastEventRecordedAt = last.UTC()
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	return out, nil
}

// quoteLiteral quotes a schema name (already a plain identifier) as an SQL string literal.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Checkpoints reads the checkpoints of the named models (their schemas rm_<name>) in one round trip,
// with no more than a read-only role granted each model's checkpoint (and, when withStates,
// rm_meta.projections(name, state)) may read: the portal's poll. It returns the models that have a
// checkpoint, in the order of names, "running" unless the registry (withStates) says otherwise; the
// counts the registry alone has (poison events, rebuilds) stay zero.
func Checkpoints(ctx context.Context, q Querier, names []string, withStates bool) ([]Projection, error) {
	if len(names) == 0 {
		return nil, nil
	}
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("SELECT %s::text, commit_pos, prepare_pos, last_recorded_at, events_applied, updated_at, ''::text FROM %s",
			quoteLiteral(n), pgx.Identifier{"rm_" + n, "checkpoint"}.Sanitize())
	}
	sql := strings.Join(parts, " UNION ALL ")
	if withStates {
		sql += " UNION ALL SELECT name, 0, 0, NULL, 0, now(), state FROM rm_meta.projections WHERE name = ANY($1)"
	} else {
		sql += " UNION ALL SELECT NULL, 0, 0, NULL, 0, now(), '' WHERE $1::text[] IS NULL"
	}
	rows, err := q.Query(ctx, sql, names)
	if err != nil {
		return nil, fmt.Errorf("read the models' checkpoints: %w", err)
	}
	defer rows.Close()
	byName := map[string]*Projection{}
	states := map[string]string{}
	for rows.Next() {
		var name, state *string
		var c, p, n int64
		var last *time.Time
		var updated time.Time
		if err := rows.Scan(&name, &c, &p, &last, &n, &updated, &state); err != nil {
			return nil, fmt.Errorf("read the models' checkpoints: %w", err)
		}
		if name == nil {
			continue
		}
		if state != nil && *state != "" {
			states[*name] = *state
			continue
		}
		fp := &Projection{Name: *name, Schema: "rm_" + *name, State: "running", EventsApplied: n, UpdatedAt: updated.UTC()}
		fp.Checkpoint.Commit, fp.Checkpoint.Prepare = uint64(c), uint64(p)
		if last != nil {
			fp.LastEventRecordedAt = last.UTC()
		}
		byName[*name] = fp
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the models' checkpoints: %w", err)
	}
	var out []Projection
	for _, n := range names {
		if fp := byName[n]; fp != nil {
			if st := states[n]; st != "" {
				fp.State = st
			}
			out = append(out, *fp)
		}
	}
	return out, nil
}
