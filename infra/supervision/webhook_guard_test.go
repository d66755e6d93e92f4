package supervision_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/infra/supervision"
	"github.com/grassroots-ledger/ledger/infra/supervision/supervisiontest"
)

// TestWebhookURLsMustBePublicHTTPS: with the default policy a supervisor may register only https URLs
// whose addresses are public: http, loopback, private, link-local and metadata addresses, names that
// resolve to them and URLs with credentials are refused (400 naming url) and nothing is registered.
// Auditors may neither register nor delete webhooks.
func TestWebhookURLsMustBePublicHTTPS(t *testing.T) {
	t.Parallel()
	h := supervisiontest.New(t, supervisiontest.Options{Webhooks: func(c *supervision.WebhookConfig) { c.Policy = supervision.WebhookPolicy{} }})
	sup := commands.Actor{Subject: "s", Role: commands.RoleSupervisor, Scope: "*"}
	for _, u := range []string{
		"http://example.com/hook", "https://127.0.0.1/hook", "https://10.0.0.8/hook", "https://192.168.1.20:8443/",
		"https://169.254.169.254/latest/meta-data", "https://[::1]/hook", "https://[fd00::5]/", "https://0.0.0.0/",
		"https://localhost/hook", "https://user:pw@example.com/hook", "ftp://example.com/", "https://100.100.100.200/",
	} {
		_, _, err := h.Webhooks.Register(context.Background(), sup, u, "")
		var ke kernel.Error
		if !errors.As(err, &ke) || ke.Field != "url" {
			t.Errorf("%s: %v, want refused naming url", u, err)
		}
	}
	if hooks, err := h.Webhooks.List(context.Background(), sup); err != nil || len(hooks) != 0 {
		t.Fatalf("registered %d webhooks (%v)", len(hooks), err)
	}

	auditor := h.Token(commands.RoleAuditor, "*")
	for _, req := range []struct{ method, path string }{{http.MethodPost, supervision.WebhooksPath}, {http.MethodDelete, supervision.WebhooksPath + "/wh_x"},
		{http.MethodPost, supervision.WebhooksPath + "/wh_x/replay"}} {
		body := any(nil)
		if req.path == supervision.WebhooksPath {
			body = map[string]string{"url": "https://example.com/hook"}
		}
		if resp := h.Server.Do(t, req.method, req.path, bearer(auditor), body); resp.Status != http.StatusForbidden {
			t.Errorf("an auditor's %s %s: %d, want 403", req.method, req.path, resp.Status)
		}
	}
}

// TestWebhookSignatureCoversTheTimestamp: a delivery's signature is over its timestamp and its body: the
// same body with another timestamp does not verify.
func TestWebhookSignatureCoversTheTimestamp(t *testing.T) {
	body := []byte(`{"alert":"x"}`)
	sig := supervision.Sign("whsec_k", supervision.SignedContent("1764800000", body))
	if !supervision.Verify("whsec_k", supervision.SignedContent("1764800000", body), sig) {
		t.Fatal("the signature does not verify")
	}
	if supervision.Verify("whsec_k", supervision.SignedContent("1764803600", body), sig) {
		t.Fatal("a replay with a fresh timestamp verifies")
	}
}
