package pg_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"
	"github.com/grassroots-ledger/ledger/projections/all"
)

// migrateDB is a database of the test's own on DATABASE_URL's server (the tests fail without one: `make
// test` always provides it).
func migrateDB(t *testing.T) *pgxpool.Pool {
	t.Helper()
	return poolOn(t, pgtest.NewDatabase(t))
}

// poolOn is a pool on url, closed when the test ends.
func poolOn(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func TestMigrateAppliesEachFileOnceInOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := migrateDB(t)
	v1 := fstest.MapFS{
		"0002_more.sql": {Data: []byte("ALTER TABLE things ADD COLUMN colour text; INSERT INTO things VALUES (2, 'red');")},
		"0001_init.sql": {Data: []byte("CREATE TABLE things (id int PRIMARY KEY); INSERT INTO things VALUES (1);")},
		"README.md":     {Data: []byte("not a migration")},
	}
	// Two processes starting at once: the advisory lock makes one of them wait, and each file runs once.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = pg.Migrate(ctx, pool, "rm_things", "schema_migrations", v1) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM rm_things.things").Scan(&n); err != nil || n != 2 {
		t.Fatalf("things: %d rows (%v), want 2: a migration ran twice or not at all", n, err)
	}
	// A second component keeps its own version table in the same schema.
	other := fstest.MapFS{"0001_other.sql": {Data: []byte("CREATE TABLE others (id int);")}}
	if err := pg.Migrate(ctx, pool, "rm_things", "other_migrations", other); err != nil {
		t.Fatal(err)
	}
	// A later release adds a file: only it runs.
	v2 := fstest.MapFS{"0003_third.sql": {Data: []byte("INSERT INTO things VALUES (3, 'blue');")}}
	for k, v := range v1 {
		v2[k] = v
	}
	if err := pg.Migrate(ctx, pool, "rm_things", "schema_migrations", v2); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM rm_things.things").Scan(&n); err != nil || n != 3 {
		t.Fatalf("things: %d rows (%v), want 3", n, err)
	}

	// The old binary meets the newer schema: refused.
	if err := pg.Migrate(ctx, pool, "rm_things", "schema_migrations", v1); !errors.Is(err, pg.ErrSchemaTooNew) {
		t.Fatalf("old migrations on a newer schema: %v, want ErrSchemaTooNew", err)
	}
	// An applied file edited: refused, nothing runs.
	edited := fstest.MapFS{}
	for k, v := range v2 {
		edited[k] = v
	}
	edited["0002_more.sql"] = &fstest.MapFile{Data: []byte("ALTER TABLE things ADD COLUMN colour text;")}
	edited["0004_fourth.sql"] = &fstest.MapFile{Data: []byte("INSERT INTO things VALUES (4, 'green');")}
	if err := pg.Migrate(ctx, pool, "rm_things", "schema_migrations", edited); !errors.Is(err, pg.ErrMigrationChanged) {
		t.Fatalf("edited migration: %v, want ErrMigrationChanged", err)
	}
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM rm_things.things").Scan(&n); err != nil || n != 3 {
		t.Fatalf("things: %d rows (%v) after a refused migration, want 3", n, err)
	}
}

func TestMigrateRollsBackAFailingFileAndRejectsBadNames(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := migrateDB(t)
	bad := fstest.MapFS{
		"0001_init.sql":   {Data: []byte("CREATE TABLE a (id int);")},
		"0002_broken.sql": {Data: []byte("CREATE TABLE b (id int); SELECT no_such_function();")},
	}
	err := pg.Migrate(ctx, pool, "rm_bad", "schema_migrations", bad)
	if err == nil || !strings.Contains(err.Error(), "0002_broken.sql") {
		t.Fatalf("failing migration: %v, want an error naming 0002_broken.sql", err)
	}
	var b, v *string
	if err := pool.QueryRow(ctx, "SELECT to_regclass('rm_bad.b')::text, (SELECT max(name) FROM rm_bad.schema_migrations)").Scan(&b, &v); err != nil {
		t.Fatal(err)
	}
	if b != nil || v == nil || *v != "0001_init.sql" {
		t.Fatalf("after the failure: table b %v, last applied %v; want no b and 0001 applied", b, v)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"unnumbered": {"init.sql": {Data: []byte("SELECT 1")}},
		"duplicate":  {"0001_a.sql": {Data: []byte("SELECT 1")}, "01_b.sql": {Data: []byte("SELECT 1")}},
		"empty":      {"0001_a.sql": {Data: []byte("  \n")}},
	} {
		if err := pg.Migrate(ctx, pool, "rm_names", "schema_migrations", fsys); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := pg.Migrate(ctx, pool, "rm-bad; DROP", "schema_migrations", fstest.MapFS{}); err == nil {
		t.Error("a schema name that is not an identifier was accepted")
	}
}

// TestMigrateFreshMakesWhatMigrateMakes: for every read model's migrations, a schema made in one
// transaction by MigrateFresh has the same tables, columns, defaults, constraints, indexes and version
// rows as one made file by file by Migrate; MigrateFresh refuses a schema that exists.
func TestMigrateFreshMakesWhatMigrateMakes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := migrateDB(t)
	describe := func(schema string) string {
		t.Helper()
		var out strings.Builder
		for _, q := range []string{
			`SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') || ' ' || ordinal_position
				FROM information_schema.columns WHERE table_schema = $1 ORDER BY 1`,
			`SELECT tablename || ' ' || replace(indexdef, $1 || '.', 'S.') FROM pg_indexes WHERE schemaname = $1 ORDER BY 1`,
			`SELECT conrelid::regclass::text || ' ' || contype::text || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
				WHERE connamespace = $1::regnamespace ORDER BY 1`,
			`SELECT version || ' ' || name || ' ' || sha256 FROM ` + schema + `.schema_migrations WHERE $1 <> '' ORDER BY version`,
		} {
			rows, err := pool.Query(ctx, q, schema)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				out.WriteString(strings.ReplaceAll(line, schema+".", "S.") + "\n")
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
		}
		return out.String()
	}
	for _, m := range all.Models(nil) {
		fileByFile, fresh := "a_"+m.Name(), "b_"+m.Name()
		if err := pg.Migrate(ctx, pool, fileByFile, "schema_migrations", m.Migrations()); err != nil {
			t.Fatal(err)
		}
		if err := pg.MigrateFresh(ctx, pool, fresh, "schema_migrations", m.Migrations()); err != nil {
			t.Fatal(err)
		}
		a, b := describe(fileByFile), describe(fresh)
		if a != b || strings.Count(a, "\n") < 5 {
			t.Errorf("%s: file by file\n%s\nfresh\n%s", m.Name(), a, b)
		}
		if err := pg.MigrateFresh(ctx, pool, fresh, "schema_migrations", m.Migrations()); err == nil {
			t.Errorf("%s: MigrateFresh over an existing schema succeeded", m.Name())
		}
	}
}

func TestNewerThanThisBinaryFindsASchemaANewerLedgerMigrated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := migrateDB(t)
	files := fstest.MapFS{
		"0001_init.sql": {Data: []byte("CREATE TABLE things (id int PRIMARY KEY);")},
		"0002_more.sql": {Data: []byte("ALTER TABLE things ADD COLUMN colour text;")},
	}
	if err := pg.Migrate(ctx, pool, "rm_upgraded", "schema_migrations", files); err != nil {
		t.Fatal(err)
	}
	if err := pg.Migrate(ctx, pool, "rm_gone", "schema_migrations", files); err != nil {
		t.Fatal(err)
	}
	if newer, err := pg.NewerThanThisBinary(ctx, pool); err != nil || len(newer) != 0 {
		t.Fatalf("just migrated: %v (%v), want none newer", newer, err)
	}
	// A newer ledger adds its version 3 (as its Migrate would), and a rebuild has the other schema gone.
	if _, err := pool.Exec(ctx, `INSERT INTO rm_upgraded.schema_migrations (version, name, sha256) VALUES (3, '0003_newer.sql', 'x');
		DROP SCHEMA rm_gone CASCADE`); err != nil {
		t.Fatal(err)
	}
	newer, err := pg.NewerThanThisBinary(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if len(newer) != 1 || newer[0].Schema != "rm_upgraded" || newer[0].Known != 2 || newer[0].Applied != 3 || newer[0].Name != "0003_newer.sql" {
		t.Fatalf("after a newer ledger migrated: %v, want rm_upgraded at 3 (0003_newer.sql) where this binary knows 2", newer)
	}
	if s := newer[0].String(); !strings.Contains(s, "rm_upgraded.schema_migrations") || !strings.Contains(s, "knows up to 2") {
		t.Fatalf("said as %q", s)
	}
}
