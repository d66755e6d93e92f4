package freshness_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/esdbnode/nodetest"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/projections/audittrail"
	"github.com/grassroots-ledger/ledger/projections/freshness"
	"github.com/grassroots-ledger/ledger/projections/internal/decode/decodetest"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// testPool is a database of the test's own on DATABASE_URL's server (shared helper; the test fails
// without DATABASE_URL: `make test` always sets it).
func testPool(t *testing.T) *pgxpool.Pool { return decodetest.NewPool(t) }

// picky halts on events of type "test.bad".
type picky struct{}

func (picky) Name() string                 { return "picky" }
func (picky) Poison() runtime.PoisonPolicy { return runtime.Halt }
func (picky) Migrations() fs.FS {
	return fstest.MapFS{"0001_init.sql": {Data: []byte("CREATE TABLE seen (commit_pos bigint PRIMARY KEY);")}}
}
func (picky) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.Recorded) error {
	for _, e := range batch {
		if e.Type == "test.bad" {
			return runtime.Poison(e, errors.New("unknown schema version"))
		}
		if _, err := tx.Exec(ctx, "INSERT INTO seen VALUES ($1)", int64(e.Position.Commit)); err != nil {
			return err
		}
	}
	return nil
}

func TestReadReportsEachModel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testPool(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	_, store := nodetest.Start(t, logger)

	// Nothing registered yet: the runtime creates rm_meta, then reports both models at the start.
	rt, err := runtime.New(runtime.Config{Pool: pool, Source: store, Migrate: pg.Migrator(pool),
		Models: []runtime.ReadModel{audittrail.Model{}, picky{}}, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := freshness.Read(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "audittrail" || got[1].Name != "picky" || !got[0].Checkpoint.IsZero() || got[0].UpdatedAt.IsZero() {
		t.Fatalf("before any event: %+v", got)
	}

	evs := make([]eventlog.Event, 5)
	for i := range evs {
		typ := "test.good"
		if i == 3 {
			typ = "test.bad"
		}
		evs[i] = eventlog.Event{ID: eventlog.DeriveID("c", i), Type: typ, Data: []byte(`{}`),
			Meta: eventlog.Metadata{SchemaVersion: 1, Jurisdiction: "33", Actor: "clerk:1", CommandID: "c", OccurredAt: time.Now()}}
	}
	res, err := store.Append(ctx, "test-330303001001-1", eventlog.NoStream(), evs)
	if err != nil {
		t.Fatal(err)
	}
	var stored []eventlog.Recorded
	if err := store.ReadAll(ctx, eventlog.Start, 0, func(r eventlog.Recorded) error { stored = append(stored, r); return nil }); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- rt.Run(runCtx) }()
	defer func() { cancel(); <-done }()

	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err = freshness.Read(ctx, pool)
		if err != nil {
			t.Fatal(err)
		}
		if got[0].Checkpoint == res.Position && got[1].State == "halted" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("freshness never showed the audit trail at %s and picky halted: %+v", res.Position, got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	audit, pick := got[0], got[1]
	if audit.EventsApplied != 5 || !audit.LastEventRecordedAt.Equal(stored[4].Created.Truncate(time.Microsecond)) || audit.State != "running" || audit.PoisonEvents != 0 {
		t.Errorf("audit trail: %+v, want 5 events, last recorded at %s", audit, stored[4].Created)
	}
	if pick.Checkpoint != stored[2].Position || pick.EventsApplied != 3 || pick.PoisonEvents != 1 || pick.HaltReason == "" ||
		!pick.LastEventRecordedAt.Equal(stored[2].Created.Truncate(time.Microsecond)) {
		t.Errorf("picky: %+v, want halted after 3 events at %s with 1 poison event", pick, stored[2].Position)
	}

	// Checkpoints (the portal's poll) agrees with Read on what both read, with and without the registry.
	for _, withStates := range []bool{true, false} {
		cps, err := freshness.Checkpoints(ctx, pool, []string{"picky", "audittrail"}, withStates)
		if err != nil {
			t.Fatal(err)
		}
		wantState := map[bool]string{true: "halted", false: "running"}[withStates]
		if len(cps) != 2 || cps[0].Name != "picky" || cps[0].Checkpoint != pick.Checkpoint || cps[0].State != wantState ||
			cps[0].EventsApplied != 3 || cps[1].Name != "audittrail" || cps[1].Checkpoint != audit.Checkpoint ||
			!cps[1].LastEventRecordedAt.Equal(audit.LastEventRecordedAt) || cps[1].State != "running" {
			t.Errorf("checkpoints (registry %v): %+v", withStates, cps)
		}
	}

	// A model whose schema was dropped by hand is still listed, with nothing known.
	if _, err := pool.Exec(ctx, "DROP SCHEMA rm_picky CASCADE"); err != nil {
		t.Fatal(err)
	}
	got, err = freshness.Read(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[1].Checkpoint.IsZero() || !got[1].UpdatedAt.IsZero() {
		t.Fatalf("after dropping rm_picky: %+v", got)
	}
}
