package pg

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A migration is one *.sql file of a component: NNNN_description.sql, applied once, in the order of NNNN.
type migration struct {
	version int64
	name    string
	sql     string
	sum     string
}

var (
	migrationName = regexp.MustCompile(`^([0-9]+)_[A-Za-z0-9_\-]+\.sql$`)
	identifier    = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
)

// ErrMigrationChanged means a migration file differs from the one applied to the database. Applied
// migrations are history: restore the file and add a new migration that makes the change.
var ErrMigrationChanged = errors.New("pg: an applied migration was changed")

// ErrSchemaTooNew means the database has migrations this binary does not know: it was migrated by a newer
// version of the ledger. Run that version, or restore a backup taken before it ran.
var ErrSchemaTooNew = errors.New("pg: database schema is newer than this binary")

// Migrator returns a function that applies a component's migrations with Migrate (the projection runtime
// takes it as a dependency, so projections never import this package).
func Migrator(pool *pgxpool.Pool) func(ctx context.Context, schema, versionTable string, migrations fs.FS) error {
	return func(ctx context.Context, schema, versionTable string, migrations fs.FS) error {
		return Migrate(ctx, pool, schema, versionTable, migrations)
	}
}

// FreshMigrator is Migrator for schemas made to be thrown away (an auditor's scratch schemas): it creates
// schema, which must not exist yet, with every migration in one transaction and one round trip — the same
// tables and version rows Migrate makes, without its file-by-file transactions and their locks, which a
// schema nobody else knows never needs.
func FreshMigrator(pool *pgxpool.Pool) func(ctx context.Context, schema, versionTable string, migrations fs.FS) error {
	return func(ctx context.Context, schema, versionTable string, migrations fs.FS) error {
		return MigrateFresh(ctx, pool, schema, versionTable, migrations)
	}
}

// migrationsFor checks the names and reads the migration files, and returns the version table's quoted name.
func migrationsFor(schema, versionTable string, migrations fs.FS) ([]migration, string, error) {
	if !identifier.MatchString(schema) || !identifier.MatchString(versionTable) {
		return nil, "", fmt.Errorf("migrate: schema %q and version table %q must be lower-case identifiers", schema, versionTable)
	}
	files, err := loadMigrations(migrations)
	if err != nil {
		return nil, "", fmt.Errorf("migrate %s: %w", schema, err)
	}
	return files, pgx.Identifier{schema, versionTable}.Sanitize(), nil
}

// MigrateFresh creates schema (an error if it exists) with every migration of migrations applied and
// recorded in schema.versionTable, in one transaction.
func MigrateFresh(ctx context.Context, pool *pgxpool.Pool, schema, versionTable string, migrations fs.FS) error {
	files, table, err := migrationsFor(schema, versionTable, migrations)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("CREATE SCHEMA " + pgx.Identifier{schema}.Sanitize() + ";\nCREATE TABLE " + table +
		" (version bigint PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());\n")
	b.WriteString("SELECT set_config('search_path', " + quoteLiteral(pgx.Identifier{schema}.Sanitize()+", public") + ", true);\n")
	for _, f := range files {
		b.WriteString(f.sql)
		b.WriteString("\n;\nINSERT INTO " + table + " (version, name, sha256) VALUES (" + strconv.FormatInt(f.version, 10) + ", " +
			quoteLiteral(f.name) + ", " + quoteLiteral(f.sum) + ");\n")
	}
	// One simple-protocol round trip: the statements run in order in the transaction BeginFunc opened.
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Conn().PgConn().Exec(ctx, b.String()).ReadAll()
		return err
	})
	if err != nil {
		return fmt.Errorf("migrate %s from scratch: %w", schema, err)
	}
	return nil
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// MigrateEmbedded is Migrate for a component's own schema whose files are the migrations/ directory of
// fsys (its embed.FS), with the version table schema_migrations.
func MigrateEmbedded(ctx context.Context, pool *pgxpool.Pool, schema string, fsys fs.FS) error {
	sub, err := fs.Sub(fsys, "migrations")
	if err != nil {
		return err
	}
	return Migrate(ctx, pool, schema, "schema_migrations", sub)
}

// Migrate applies the *.sql files at the root of migrations to schema, creating the schema if missing. Each
// file runs once, in version order, in its own transaction with search_path set to "schema, public", so
// migrations use unqualified names; the version, name and SHA-256 of each applied file are recorded in
// schema.versionTable. Several components may keep separate version tables in one schema.
//
// Concurrent calls for the same schema, from any process, serialise on a transaction-level advisory lock,
// so two starting instances never race. A file that cannot run inside a transaction (CREATE INDEX
// CONCURRENTLY, ALTER TYPE ... ADD VALUE before PostgreSQL 12) is not supported.
//
// Migrate refuses (without changing anything) when an applied file was edited (ErrMigrationChanged) or the
// database holds versions this binary does not know (ErrSchemaTooNew).
func Migrate(ctx context.Context, pool *pgxpool.Pool, schema, versionTable string, migrations fs.FS) error {
	files, table, err := migrationsFor(schema, versionTable, migrations)
	if err != nil {
		return err
	}
	for {
		done, err := migrateNext(ctx, pool, schema, table, files)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", schema, err)
		}
		if done {
			migrated.record(schema, versionTable, files)
			return nil
		}
	}
}

// migrateNext applies the first missing migration in one transaction under the schema's lock, and reports
// whether none was missing.
func migrateNext(ctx context.Context, pool *pgxpool.Pool, schema, table string, files []migration) (done bool, err error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", "ledger.migrate:"+schema); err != nil {
		return false, fmt.Errorf("lock: %w", err)
	}
	if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()+
		"; CREATE TABLE IF NOT EXISTS "+table+
		" (version bigint PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"); err != nil {
		return false, fmt.Errorf("create version table %s: %w", table, err)
	}
	rows, err := tx.Query(ctx, "SELECT version, name, sha256 FROM "+table+" ORDER BY version")
	if err != nil {
		return false, fmt.Errorf("read %s: %w", table, err)
	}
	applied := map[int64]migration{}
	var newest int64
	for rows.Next() {
		var m migration
		if err := rows.Scan(&m.version, &m.name, &m.sum); err != nil {
			rows.Close()
			return false, err
		}
		applied[m.version] = m
		newest = max(newest, m.version)
	}
	if err := rows.Err(); err != nil {
		return false, err
	}
	known := map[int64]bool{}
	for _, f := range files {
		known[f.version] = true
		if a, ok := applied[f.version]; ok && a.sum != f.sum {
			return false, fmt.Errorf("%w: %s (version %d) was applied with sha256 %s but the file now hashes to %s",
				ErrMigrationChanged, f.name, f.version, a.sum, f.sum)
		}
	}
	for v, a := range applied {
		if !known[v] {
			return false, fmt.Errorf("%w: version %d (%s) is applied but unknown here (newest applied: %d)", ErrSchemaTooNew, v, a.name, newest)
		}
	}
	for _, f := range files {
		if _, ok := applied[f.version]; ok {
			continue
		}
		if _, err := tx.Exec(ctx, "SELECT set_config('search_path', $1, true)", pgx.Identifier{schema}.Sanitize()+", public"); err != nil {
			return false, err
		}
		if _, err := tx.Exec(ctx, f.sql); err != nil {
			return false, fmt.Errorf("apply %s: %w", f.name, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO "+table+" (version, name, sha256) VALUES ($1, $2, $3)", f.version, f.name, f.sum); err != nil {
			return false, fmt.Errorf("record %s: %w", f.name, err)
		}
		return false, tx.Commit(ctx)
	}
	return true, tx.Commit(ctx)
}

func loadMigrations(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var out []migration
	seen := map[int64]string{}
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %q: name it NNNN_description.sql", e.Name())
		}
		v, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migration file %q: version must be a positive number", e.Name())
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("migration files %q and %q have the same version %d", other, e.Name(), v)
		}
		seen[v] = e.Name()
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(string(b)) == "" {
			return nil, fmt.Errorf("migration file %q is empty", e.Name())
		}
		sum := sha256.Sum256(b)
		out = append(out, migration{version: v, name: e.Name(), sql: string(b), sum: hex.EncodeToString(sum[:])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}
