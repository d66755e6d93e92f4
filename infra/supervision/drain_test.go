package supervision_test

import (
	"context"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/infra/supervision/supervisiontest"
	alerts "github.com/grassroots-ledger/ledger/projections/supervision"
)

// TestDrainsWhileACycleWaitsForTheReadModel: an alert the model has decided is appended when its outbox
// notification comes, even while the engine's cycle waits for the read model to catch up with the store
// (the projections stopped here, so the wait lasts until the cycle gives up as behind).
func TestDrainsWhileACycleWaitsForTheReadModel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := supervisiontest.New(t, supervisiontest.Options{})
	cx := supervisiontest.NewCommunity(supervisiontest.DistrictX, 1)
	pool := h.Server.Pool
	raised := func() int { return h.AlertEvents()["supervision.alert-raised"] }

	// The model decides an alert while the engine is stopped; its outbox row is put aside.
	h.StopEngine()
	raise(h, cx, "x1")
	h.Wait("the breach in the outbox", 15*time.Second, func() (bool, string) {
		var n int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM rm_alerts.outbox`).Scan(&n)
		return err == nil && n == 1, "outbox rows"
	})
	if _, err := pool.Exec(ctx, `CREATE TABLE held AS SELECT * FROM rm_alerts.outbox; DELETE FROM rm_alerts.outbox`); err != nil {
		t.Fatal(err)
	}
	// The engine starts unsure of what a previous run appended: its first drain waits, without draining,
	// for the read model to reach the store's head. Let a whole cycle end first, or the store could move on
	// below (with the projections stopped) while it still waits that way.
	cycles := func() float64 { return counter(t, h, "ledger_alert_cycle_seconds") }
	began := cycles()
	h.StartEngine()
	h.Wait("a cycle of the restarted engine", 15*time.Second, func() (bool, string) { return cycles() > began, "cycles" })
	h.Quiesce()
	if n := raised(); n != 0 {
		t.Fatalf("%d alerts raised before the outbox row is back", n)
	}

	// The projections stop and the store moves on: every cycle now waits for the read model.
	h.StopRuntime()
	other := supervisiontest.NewCommunity(supervisiontest.DistrictY, 1)
	h.Register(other, kernel.Urban, 10, 20)
	behind := func() float64 { return counter(t, h, "ledger_alert_engine_behind_total") }
	before := behind()
	time.Sleep(500 * time.Millisecond) // a cycle (every 25 ms) has begun to wait: it can only stop waiting as behind, after 10 s
	if _, err := pool.Exec(ctx, `INSERT INTO rm_alerts.outbox SELECT * FROM held; SELECT pg_notify('`+alerts.OutboxChannel+`', '')`); err != nil {
		t.Fatal(err)
	}
	h.Wait("the held alert appended, or the cycle given up as behind", 30*time.Second, func() (bool, string) {
		return raised() == 1 || behind() > before, "waiting"
	})
	if raised() != 1 || behind() > before {
		t.Fatalf("the alert was appended only after the cycle gave up waiting for the read model (raised %d, behind %v → %v)",
			raised(), before, behind())
	}
	h.StartRuntime()
}
