package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/infra/supervision"
	"github.com/grassroots-ledger/ledger/infra/supervision/supervisiontest"
)

// TestWebhooksReplayCLI: `ledger webhooks replay` puts a parked delivery back in line.
func TestWebhooksReplayCLI(t *testing.T) {
	h := supervisiontest.New(t, supervisiontest.Options{Webhooks: func(c *supervision.WebhookConfig) { c.MaxAttempts = 1 }})
	var up atomic.Bool
	var delivered atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		delivered.Add(1)
	}))
	defer recv.Close()
	hook, _, err := h.Webhooks.Register(context.Background(), commands.Actor{Subject: "s", Role: commands.RoleSupervisor, Scope: "*"}, recv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	c := supervisiontest.NewCommunity(supervisiontest.DistrictX, 1)
	h.Record(c, c.Stream("expenditure", "x"), funds.ExpenditurePaid{ExpenditureID: "x", VoucherNo: "v", Amount: kernel.Yuan(90000), PaidAt: h.Clock.Now(),
		Watch: kernel.Watch{Breaches: []kernel.Breach{{Rule: rulebook.MajorMatterResolution, Detail: "未经决议"}}}})
	h.Wait("a parked delivery", 15*time.Second, func() (bool, string) {
		out, _, err := runCLI(t, "", "webhooks", "list", "--database-url", h.Server.DatabaseURL)
		return err == nil && strings.Contains(out, hook.ID) && strings.HasSuffix(strings.TrimSpace(out), " 1"), out
	})
	up.Store(true)
	out, errOut, err := runCLI(t, "", "webhooks", "replay", hook.ID, "--database-url", h.Server.DatabaseURL)
	if err != nil || !strings.Contains(out, "1 parked deliveries") {
		t.Fatalf("replay: %v %q %q", err, out, errOut)
	}
	h.Wait("the replayed delivery", 15*time.Second, func() (bool, string) { return delivered.Load() == 1, "" })
	if _, _, err := runCLI(t, "", "webhooks", "replay", "wh_nope", "--database-url", h.Server.DatabaseURL); err == nil {
		t.Fatal("an unknown webhook must be an error")
	}
}
