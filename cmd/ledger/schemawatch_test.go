package main

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"
)

// flaky fails its first calls, as a database restarting does.
type flaky struct {
	pg.Querier
	failures atomic.Int32
}

func (f *flaky) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if f.failures.Add(-1) >= 0 {
		return nil, errors.New("connection refused")
	}
	return f.Querier.Query(ctx, sql, args...)
}

func TestServeStopsWhenANewerLedgerMigratesItsDatabase(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool := testPool(t, pgtest.NewDatabase(t))
	files := fstest.MapFS{"0001_init.sql": {Data: []byte("CREATE TABLE things (id int PRIMARY KEY);")}}
	if err := pg.Migrate(ctx, pool, "rm_watched", "schema_migrations", files); err != nil {
		t.Fatal(err)
	}
	q := &flaky{Querier: pool}
	q.failures.Store(3)
	stopped := make(chan error, 1)
	go watchSchemas(ctx, q, 20*time.Millisecond, slog.New(slog.DiscardHandler), func(err error) { stopped <- err })
	// Failed looks and looks at an unchanged schema stop nothing.
	deadline := time.Now().Add(5 * time.Second)
	for q.failures.Load() > -5 {
		if time.Now().After(deadline) {
			t.Fatal("the watch did not look again after failing")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-stopped:
		t.Fatalf("stopped with the schema unchanged: %v", err)
	default:
	}
	// A newer ledger migrates the schema further.
	if _, err := pool.Exec(ctx, `INSERT INTO rm_watched.schema_migrations (version, name, sha256) VALUES (2, '0002_newer.sql', 'x')`); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-stopped:
		if !errors.Is(err, errSchemaUpgraded) || !strings.Contains(err.Error(), "rm_watched.schema_migrations has version 2 (0002_newer.sql)") {
			t.Fatalf("stopped with %v, want errSchemaUpgraded naming rm_watched at version 2", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve was not stopped within 10 s of a newer ledger's migration")
	}
}
