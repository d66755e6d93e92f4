package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/events"
	"github.com/grassroots-ledger/ledger/infra/httpapi/apitest"
)

// TestAnIdempotencyKeyBelongsToOneRequest: the same key with the same command and body (however
// formatted) replays the first result; with another body, another command on the same record, or a
// command on another record, it is a 422 idempotency-key-reused that names the first command and appends
// nothing — also for an executor started afresh on the same store (the requests' hashes are in the events).
func TestAnIdempotencyKeyBelongsToOneRequest(t *testing.T) {
	t.Parallel()
	srv := startCatalogue(t)
	registerCommunities(t, srv)
	clerk := srv.Token(t, commands.RoleClerk, pathA)
	body := `{"community_id":"` + communityA + `","expenditure_id":"k1","fiscal_year":2026,"category":"operating","kind":"other","purpose":"办公用品","amount_fen":12000,"payee":{"kind":"organisation","organisation":"文具店"}}`
	first := srv.Post(t, "request-expenditure", clerk, "key-1", body).Result(t)

	// The same request, keys in another order and spaced differently: a retry.
	same := `{ "payee": {"organisation":"文具店", "kind":"organisation"}, "amount_fen": 12000, "purpose":"办公用品", "kind":"other", "category":"operating", "fiscal_year":2026, "expenditure_id":"k1", "community_id":"` + communityA + `" }`
	again := srv.Post(t, "request-expenditure", clerk, "key-1", same).Result(t)
	if !again.Replayed || again.Position != first.Position {
		t.Fatalf("a retry of the same request: %+v, want the first result replayed (%+v)", again, first)
	}

	for _, c := range []struct{ name, command, body string }{
		{"another body", "request-expenditure", `{"community_id":"` + communityA + `","expenditure_id":"k1","fiscal_year":2026,"category":"operating","kind":"other","purpose":"办公用品","amount_fen":99000,"payee":{"kind":"organisation","organisation":"文具店"}}`},
		{"another command on the same record", "approve-expenditure", `{"community_id":"` + communityA + `","expenditure_id":"k1","by":"p-1"}`},
		{"a command on another record", "request-expenditure", `{"community_id":"` + communityA + `","expenditure_id":"k2","fiscal_year":2026,"category":"operating","kind":"other","purpose":"办公用品","amount_fen":12000,"payee":{"kind":"organisation","organisation":"文具店"}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := srv.Head(t)
			resp := srv.Post(t, c.command, clerk, "key-1", c.body)
			p := resp.WantProblem(t, http.StatusUnprocessableEntity, "idempotency-key-reused")
			if p.Field != "Idempotency-Key" {
				t.Errorf("field %q: %s", p.Field, resp.Body)
			}
			srv.WantNothingAppended(t, before)
		})
	}

	// Across a restart: a fresh executor on the same store still tells the requests apart.
	x := commands.NewExecutor(srv.Store, commands.SystemClock{}, events.MustRegistry(), apitest.Logger())
	h := commands.NewHandlers(x, apitest.Logger())
	m := commands.Meta{CommandID: "key-1", Actor: commands.Actor{Subject: "clerk", Role: commands.RoleClerk, Scope: pathA},
		Command: "request-expenditure", RequestHash: "another-request"}
	before := srv.Head(t)
	_, err := h.RequestExpenditure(context.Background(), m, commands.RequestExpenditure{CommunityID: communityA, ExpenditureID: "k1",
		FiscalYear: 2026, Category: "operating", Kind: "other", Purpose: "办公用品", AmountFen: 1,
		Payee: commands.Payee{Kind: "organisation", Organisation: "文具店"}})
	if !errors.Is(err, commands.ErrIdempotencyKeyReused) {
		t.Fatalf("a fresh executor given the key with another request: %v", err)
	}
	srv.WantNothingAppended(t, before)
}
