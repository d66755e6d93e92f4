package main

import (
	"context"
	"strings"
	"testing"

	"github.com/grassroots-ledger/ledger/commands"
	sup "github.com/grassroots-ledger/ledger/domain/supervision"
	"github.com/grassroots-ledger/ledger/infra/auth"
	"github.com/grassroots-ledger/ledger/infra/pg"
)

// TestProjectionsListAndSkip: `ledger projections` shows a model halted at its poison event; a clerk's
// token may not skip it; an administrator's may, with a reason: the model is running again from the
// event's position, and the decision is an event in the store.
func TestProjectionsListAndSkip(t *testing.T) {
	db := onEmbeddedNode(t)
	data := t.TempDir()
	ctx := context.Background()
	pool, err := pg.Connect(ctx, pg.Config{URL: db, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	sh, err := openStore(ctx, data, nodeAt{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newRuntime(ctx, pool, sh.Store, readModels(nil), nil); err != nil {
		t.Fatal(err)
	}
	sh.Close()
	// finances halted at 40/40 (as the runtime leaves a Halt model), its checkpoint before it.
	for _, q := range []string{
		`INSERT INTO rm_meta.poison_events (projection, commit_pos, prepare_pos, stream, revision, event_id, event_type, reason, policy)
			VALUES ('finances', 40, 40, 'expenditure-330303001001-x', 0, '9b1c7d0e-5a4f-5b7e-8c2d-1f3e4a5b6c7d', 'funds.expenditure-requested', 'bigint out of range', 'halt')`,
		`UPDATE rm_meta.projections SET state = 'halted', halt_reason = 'poison event at 40/40' WHERE name = 'finances'`,
		`UPDATE rm_finances.checkpoint SET commit_pos = 39, prepare_pos = 39`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	tokens, err := auth.Open(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	admin, _, _ := tokens.Create(ctx, auth.NewToken{Subject: "ops", Role: commands.RoleAdmin, Scope: "*", CreatedBy: "test"})
	clerk, _, _ := tokens.Create(ctx, auth.NewToken{Subject: "c", Role: commands.RoleClerk, Scope: "33", CreatedBy: "test"})

	out, _, err := runCLI(t, "", "projections")
	if err != nil || !strings.Contains(out, "finances") || !strings.Contains(out, "halted") || !strings.Contains(out, "40/40") {
		t.Fatalf("projections: %v\n%s", err, out)
	}
	if _, _, err := runCLI(t, "", "projections", "skip", "finances", "40/40", "--reason", "r", "--token", clerk, "--data", data); err == nil {
		t.Fatal("a clerk skipped an event")
	}
	if _, _, err := runCLI(t, "", "projections", "skip", "finances", "40/40", "--token", admin, "--data", data); err == nil {
		t.Fatal("a skip without a reason")
	}
	out, errOut, err := runCLI(t, "", "projections", "skip", "finances", "40/40", "--reason", "录入错误，已更正", "--token", admin, "--data", data)
	if err != nil || !strings.Contains(out, "moved past 40/40") {
		t.Fatalf("skip: %v\n%s%s", err, out, errOut)
	}
	var state string
	if err := pool.QueryRow(ctx, "SELECT state FROM rm_meta.projections WHERE name = 'finances'").Scan(&state); err != nil || state != "running" {
		t.Fatalf("finances is %s (%v) after the skip", state, err)
	}
	decisions := func() []string {
		t.Helper()
		sh, err := openStore(ctx, data, nodeAt{})
		if err != nil {
			t.Fatal(err)
		}
		defer sh.Close()
		recs, err := sh.Store.Load(ctx, sup.OperationsStream("finances"))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range recs {
			out = append(out, r.Type+" by "+r.Meta.Actor)
		}
		return out
	}
	if d := decisions(); len(d) != 1 || !strings.HasPrefix(d[0], "supervision.poison-event-skipped by ") || !strings.Contains(d[0], "ops") {
		t.Fatalf("the decision in the store: %v", d)
	}
	// Repeated (say its recording had failed): the decision is recorded once.
	if out, errOut, err := runCLI(t, "", "projections", "skip", "finances", "40/40", "--reason", "again", "--token", admin, "--data", data); err != nil {
		t.Fatalf("the same skip again: %v\n%s%s", err, out, errOut)
	}
	if d := decisions(); len(d) != 1 {
		t.Fatalf("after the repeat, decisions %v", d)
	}
	// Another position, where the model never halted: refused.
	if _, _, err := runCLI(t, "", "projections", "skip", "finances", "41/41", "--reason", "r", "--token", admin, "--data", data); err == nil {
		t.Fatal("skipped an event the model never halted at")
	}
}
