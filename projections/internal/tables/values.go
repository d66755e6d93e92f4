package tables

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
)

// Querier is what the read models' query functions need: a pool, a connection or a transaction (the
// portal passes its read-only pool).
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Time is t as a timestamptz in UTC, NULL when t is zero.
func Time(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: t.UTC(), Valid: true}
}

// Text is s as text, NULL when s is empty.
func Text(s string) pgtype.Text { return pgtype.Text{String: s, Valid: s != ""} }

// Int is n as an integer; NULL when valid is false.
func Int(n int, valid bool) pgtype.Int4 { return pgtype.Int4{Int32: int32(n), Valid: valid} }

// Bool is b as a boolean; NULL when valid is false.
func Bool(b, valid bool) pgtype.Bool { return pgtype.Bool{Bool: b, Valid: valid} }

// At reads a timestamptz as a UTC time (zero when NULL).
func At(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// Position reads a provenance commit position (0 when NULL).
func Position(p pgtype.Int8) uint64 {
	if !p.Valid || p.Int64 < 0 {
		return 0
	}
	return uint64(p.Int64)
}

// EventID reads a provenance uuid (the zero id when NULL).
func EventID(u pgtype.UUID) eventlog.ID {
	if !u.Valid {
		return eventlog.ID{}
	}
	return u.Bytes
}

// Limit clamps a page size: def when n <= 0, at most max.
func Limit(n, def, max int) int {
	switch {
	case n <= 0:
		return def
	case n > max:
		return max
	}
	return n
}

// UnderClause is the SQL condition "column lies at or under path" for a column of jurisdiction paths
// in C collation: an index range over the subtree, then the exact test (a sibling may share the prefix,
// "33/3303" is not under "33/330"). p is the placeholder of the path without a trailing slash.
func UnderClause(column, p string) string {
	return fmt.Sprintf("(%[1]s >= %[2]s AND %[1]s < %[2]s || '0' AND (%[1]s = %[2]s OR starts_with(%[1]s, %[2]s || '/')))", column, p)
}

// ChangeMark is a text expression that changes whenever the rows of community $1 in table (of schema)
// change: their number and the sum of their streams' last revisions (every event applied to a row raises
// its stream's revision, and rows are never deleted). The portal keys its caches on such marks.
func ChangeMark(schema, table string) string {
	return fmt.Sprintf("(SELECT count(*) || '.' || coalesce(sum(last_revision), 0) FROM %s WHERE community_id = $1)",
		pgx.Identifier{schema, table}.Sanitize())
}

// Step is when something happened and the event that recorded it, with its $all commit position: what
// the models' query functions return for each dated fact.
type Step struct {
	At      time.Time
	EventID eventlog.ID
	Commit  uint64
}

// StepOf reads a step from its nullable columns: nil when at is NULL (it has not happened).
func StepOf(at pgtype.Timestamptz, ev pgtype.UUID, pos pgtype.Int8) *Step {
	if !at.Valid {
		return nil
	}
	return &Step{At: at.Time.UTC(), EventID: EventID(ev), Commit: Position(pos)}
}

// Collect runs a query and reads every row with scan. An error says what was read (what), prefixed with
// the model's name.
func Collect[T any](ctx context.Context, q Querier, model, what, sql string, scan func(pgx.Rows) (T, error), args ...any) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", model, what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", model, what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", model, what, err)
	}
	return out, nil
}

// CollectMap runs a query and scans each row into a key and its value, with errors named as Collect's; a
// key that comes again keeps the last row's value.
func CollectMap[V any](ctx context.Context, q Querier, model, what, sql string, scan func(pgx.Rows) (string, V, error), args ...any) (map[string]V, error) {
	type kv struct {
		k string
		v V
	}
	rows, err := Collect(ctx, q, model, what, sql, func(rs pgx.Rows) (kv, error) {
		k, v, err := scan(rs)
		return kv{k, v}, err
	}, args...)
	out := make(map[string]V, len(rows))
	for _, r := range rows {
		out[r.k] = r.v
	}
	return out, err
}

// Tagged reads a query of three text columns (tag, key, value) into a map per tag: what looks up several
// kinds of record by id in one statement (UNION ALL of SELECT 'e', id, name …).
func Tagged(ctx context.Context, q Querier, model, what, sql string, args ...any) (map[string]map[string]string, error) {
	rows, err := Collect(ctx, q, model, what, sql, func(rs pgx.Rows) ([3]string, error) {
		var r [3]string
		err := rs.Scan(&r[0], &r[1], &r[2])
		return r, err
	}, args...)
	out := map[string]map[string]string{}
	for _, r := range rows {
		if out[r[0]] == nil {
			out[r[0]] = map[string]string{}
		}
		out[r[0]][r[1]] = r[2]
	}
	return out, err
}

// One reads a row of one column (for Collect).
func One[T any](row pgx.Rows) (T, error) {
	var v T
	err := row.Scan(&v)
	return v, err
}

// Contains is the LIKE pattern of the values that contain text as written (its %, _ and \ escaped).
func Contains(text string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(text) + "%"
}
