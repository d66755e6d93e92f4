package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/events"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/infra/httpapi"
	"github.com/grassroots-ledger/ledger/infra/httpapi/apitest"
)

// fuzzRoutes are the command routes FuzzCommandBody posts to: the test command (nested objects, arrays,
// enum, pattern, bounds) and real commands of the catalogue with nested, optional and time fields.
var fuzzRoutes = []string{"note", "request-expenditure", "publish-disclosure", "seat-committee", "register-community"}

// FuzzCommandBody posts arbitrary bytes as the body of a few command routes, as a clerk in scope of
// community A, on a store where no community is registered. Whatever the bytes: never a 5xx, never a
// dropped connection (a panic), every refusal a well-formed problem, and never an append: the test
// command always ends in a rule's refusal, and the real ones find no registered community.
//
// Seeds live in testdata/fuzz/FuzzCommandBody (valid and near-valid bodies). Run:
//
//	go test ./infra/httpapi -run '^$' -fuzz FuzzCommandBody -fuzztime 30s
func FuzzCommandBody(f *testing.F) {
	reg, err := kernel.Build(append(events.Registrars(), func(r *kernel.Registry) error { return kernel.Register[noted](r) })...)
	if err != nil {
		f.Fatal(err)
	}
	srv := apitest.Start(f, apitest.Config{Registry: reg, Register: func(s *apitest.Server) {
		note := noteRun(s.Executor, s.Store, commands.RecordAffairs)
		httpapi.RegisterCommand(s.Commands, "note", "Record a note", func(ctx context.Context, m commands.Meta, c noteCommand) (commands.Result, error) {
			c.Outcome = "rejected"
			return note(ctx, m, c)
		})
		httpapi.RegisterCatalogue(s.Commands, commands.NewHandlers(s.Executor, apitest.Logger()))
	}})
	clerk := srv.Token(f, commands.RoleClerk, pathA)
	empty := srv.Head(f)
	if empty.Count != 0 {
		f.Fatalf("store not empty: %+v", empty)
	}
	f.Add(uint8(0), []byte(`{"community":"330303001001","text":"村务公开"}`))
	f.Add(uint8(1), []byte(`{"community_id":"330303001001","expenditure_id":"2026-0042","fiscal_year":2026,"category":"operating","kind":"other","purpose":"办公用品","amount_fen":120000,"payee":{"kind":"organisation","organisation":"龙湾文具店"}}`))
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		name := fuzzRoutes[int(route)%len(fuzzRoutes)]
		resp := srv.Post(t, name, clerk, fmt.Sprintf("fuzz-%d", n.Add(1)), body)
		if resp.Status >= 500 || resp.Status < 400 {
			t.Fatalf("%s: status %d for %q: %s", name, resp.Status, body, resp.Body)
		}
		p := resp.Problem(t)
		if p.Code == "" || p.Detail == "" {
			t.Fatalf("%s: problem without code or detail: %s", name, resp.Body)
		}
		if resp.Status == http.StatusBadRequest && !json.Valid(body) && p.Code != httpapi.CodeMalformedJSON && p.Code != httpapi.CodeBodyRequired {
			t.Fatalf("%s: invalid JSON %q answered %s", name, body, resp.Body)
		}
		if h := srv.Head(t); h != empty {
			t.Fatalf("%s: %q appended: $all %+v", name, body, h)
		}
	})
}
