package pg

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// migrated is what this process's Migrate calls left each schema at: the newest version this binary
// knows of every version table it brought up to date.
var migrated = &versionTables{newest: map[[2]string]int64{}}

type versionTables struct {
	mu     sync.Mutex
	newest map[[2]string]int64 // {schema, version table} → newest version known here
}

func (v *versionTables) record(schema, table string, files []migration) {
	var newest int64
	for _, f := range files {
		newest = max(newest, f.version)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.newest[[2]string{schema, table}] = newest
}

// list returns every version table recorded, by schema and table, with the newest version known here.
func (v *versionTables) list() []Newer {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]Newer, 0, len(v.newest))
	for k, n := range v.newest {
		out = append(out, Newer{Schema: k[0], Table: k[1], Known: n})
	}
	slices.SortFunc(out, func(a, b Newer) int { return cmp.Or(cmp.Compare(a.Schema, b.Schema), cmp.Compare(a.Table, b.Table)) })
	return out
}

// Newer is a schema migrated, since this process brought it up to date, by a newer binary.
type Newer struct {
	Schema, Table string
	Known         int64  // the newest version this binary knows
	Applied       int64  // the newest version applied in the database
	Name          string // the file of that version
}

func (n Newer) String() string {
	return fmt.Sprintf("%s.%s has version %d (%s), this binary knows up to %d", n.Schema, n.Table, n.Applied, n.Name, n.Known)
}

// Querier is what NewerThanThisBinary reads through: a pool or a connection.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// NewerThanThisBinary returns the schemas this process migrated (Migrate) that hold a version newer than
// it knows: another process of a newer ledger has migrated them since. A process that goes on using them
// works on tables it was not written for (during an upgrade, a serve of the old version beside a new one);
// serve stops when this finds one. A schema or version table gone since (a read model's rebuild renames
// its schema away for an instant) is not newer.
func NewerThanThisBinary(ctx context.Context, q Querier) ([]Newer, error) {
	var out []Newer
	for _, n := range migrated.list() {
		schema, table := n.Schema, n.Table
		rows, err := q.Query(ctx, "SELECT version, name FROM "+pgx.Identifier{schema, table}.Sanitize()+" ORDER BY version DESC LIMIT 1")
		if err == nil {
			_, err = pgx.CollectExactlyOneRow(rows, func(r pgx.CollectableRow) (struct{}, error) {
				return struct{}{}, r.Scan(&n.Applied, &n.Name)
			})
		}
		var pe *pgconn.PgError
		switch {
		case errors.Is(err, pgx.ErrNoRows), errors.As(err, &pe) && (pe.Code == "42P01" || pe.Code == "3F000"):
			continue // emptied or gone (undefined table, undefined schema)
		case err != nil:
			return nil, fmt.Errorf("read %s.%s: %w", schema, table, err)
		}
		if n.Applied > n.Known {
			out = append(out, n)
		}
	}
	return out, nil
}
