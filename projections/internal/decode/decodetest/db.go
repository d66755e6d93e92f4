// Package decodetest helps test the public read models against a real PostgreSQL: a database of each
// test's own on DATABASE_URL's server, applying batches the way the runtime does, checksums of a model's
// tables, recorded histories built from domain events (by hand or generated at scale) and an in-memory
// $all to run the real runtime over. It imports nothing of infra/ but the PostgreSQL test kit (infra/pg/pgtest):
// tests pass infra/pg.Migrator in.
package decodetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// DatabaseURL is the server the tests create their databases on. Tests fail, not skip, without it.
func DatabaseURL(tb testing.TB) string { tb.Helper(); return pgtest.ServerURL(tb) }

// NewPool creates a database of the test's own on DATABASE_URL's server, dropped when the test ends, and
// returns a pool on it.
func NewPool(tb testing.TB) *pgxpool.Pool { tb.Helper(); return pgtest.NewPool(tb) }

// Migrate creates each model's schema (rm_<name>) with its migrations, as the runtime would.
func Migrate(tb testing.TB, migrate runtime.Migrator, models ...runtime.ReadModel) {
	tb.Helper()
	for _, m := range models {
		if err := migrate(context.Background(), runtime.SchemaOf(m.Name()), "schema_migrations", m.Migrations()); err != nil {
			tb.Fatalf("migrate %s: %v", m.Name(), err)
		}
	}
}

// Apply applies batch to m in one transaction with search_path on the model's schema, as the runtime
// does (without the checkpoint), and commits; it returns Apply's error, having rolled back.
func Apply(ctx context.Context, pool *pgxpool.Pool, m runtime.ReadModel, batch []eventlog.Recorded) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT set_config('search_path', $1, true)", pgx.Identifier{runtime.SchemaOf(m.Name())}.Sanitize()+", public"); err != nil {
			return err
		}
		return m.Apply(ctx, tx, batch)
	})
}

// MustApply is Apply in batches of at most size events (all at once when size <= 0), failing the test on
// error.
func MustApply(tb testing.TB, pool *pgxpool.Pool, m runtime.ReadModel, events []eventlog.Recorded, size int) {
	tb.Helper()
	if size <= 0 {
		size = len(events)
	}
	for i := 0; i < len(events); i += size {
		if err := Apply(context.Background(), pool, m, events[i:min(i+size, len(events))]); err != nil {
			tb.Fatalf("apply %s events %d..%d: %v", m.Name(), i, min(i+size, len(events))-1, err)
		}
	}
}

// Tables lists the model tables of schema (the runtime's own checkpoint and migration tables left out).
func Tables(tb testing.TB, pool *pgxpool.Pool, schema string) []string {
	tb.Helper()
	rows, err := pool.Query(context.Background(), `SELECT table_name FROM information_schema.tables
		WHERE table_schema = $1 AND table_type = 'BASE TABLE'
		AND table_name NOT IN ('checkpoint', 'schema_migrations', 'runtime_migrations') ORDER BY table_name`, schema)
	if err != nil {
		tb.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		tb.Fatal(err)
	}
	if len(names) == 0 {
		tb.Fatalf("schema %s has no tables", schema)
	}
	return names
}

// Checksum is the md5 of every row of every model table of schema, each table in a canonical order, with
// its row count: equal checksums mean equal rows.
func Checksum(tb testing.TB, pool *pgxpool.Pool, schema string) string {
	tb.Helper()
	var out []string
	for _, t := range Tables(tb, pool, schema) {
		var sum string
		var n int64
		err := pool.QueryRow(context.Background(), fmt.Sprintf(
			"SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text COLLATE \"C\"), '')), count(*) FROM %s t",
			pgx.Identifier{schema, t}.Sanitize())).Scan(&sum, &n)
		if err != nil {
			tb.Fatalf("checksum %s.%s: %v", schema, t, err)
		}
		out = append(out, fmt.Sprintf("%s=%s/%d", t, sum, n))
	}
	return strings.Join(out, " ")
}

// Count runs a count query.
func Count(tb testing.TB, pool *pgxpool.Pool, sql string, args ...any) int {
	tb.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
	return n
}

// RowText is every row of every model table of the schemas as text (one string per row, prefixed with
// schema.table), for scans such as "no column holds a national ID".
func RowText(tb testing.TB, pool *pgxpool.Pool, schemas ...string) []string {
	tb.Helper()
	var out []string
	for _, s := range schemas {
		for _, t := range Tables(tb, pool, s) {
			id := pgx.Identifier{s, t}.Sanitize()
			rows, err := pool.Query(context.Background(), "SELECT t::text FROM "+id+" t")
			if err != nil {
				tb.Fatal(err)
			}
			texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				tb.Fatal(err)
			}
			for _, r := range texts {
				out = append(out, s+"."+t+" "+r)
			}
		}
	}
	return out
}

// QuietLogger discards logs unless PROJECTION_TEST_LOG is set.
func QuietLogger() *slog.Logger {
	if os.Getenv("PROJECTION_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// NewRuntime builds a runtime over pool and src with a private metrics registry.
func NewRuntime(tb testing.TB, pool *pgxpool.Pool, src runtime.Source, migrate runtime.Migrator, models []runtime.ReadModel, tweak ...func(*runtime.Config)) *runtime.Runtime {
	tb.Helper()
	cfg := runtime.Config{
		Pool: pool, Source: src, Migrate: migrate, Models: models, Registerer: prometheus.NewRegistry(), Logger: QuietLogger(),
		RetryInitial: 20 * time.Millisecond, RetryMax: 500 * time.Millisecond,
	}
	for _, f := range tweak {
		f(&cfg)
	}
	rt, err := runtime.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return rt
}

// Start runs rt until the test ends and fails the test if Run ends with an error other than cancellation.
func Start(tb testing.TB, rt *runtime.Runtime) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				tb.Errorf("runtime: %v", err)
			}
		case <-time.After(60 * time.Second):
			tb.Errorf("runtime did not stop within 60s")
		}
	})
}

// Checkpoint reads the checkpoint of schema.
func Checkpoint(tb testing.TB, pool *pgxpool.Pool, schema string) eventlog.Position {
	tb.Helper()
	var c, p int64
	if err := pool.QueryRow(context.Background(), "SELECT commit_pos, prepare_pos FROM "+pgx.Identifier{schema, "checkpoint"}.Sanitize()).Scan(&c, &p); err != nil {
		tb.Fatalf("checkpoint of %s: %v", schema, err)
	}
	return eventlog.Position{Commit: uint64(c), Prepare: uint64(p)}
}

// WaitFor polls cond every 20ms until it holds, failing the test after timeout with cond's last state.
func WaitFor(tb testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s (%s)", timeout, what, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
