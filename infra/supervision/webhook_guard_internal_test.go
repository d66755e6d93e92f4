package supervision

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestPublicAddr(t *testing.T) {
	for s, want := range map[string]bool{
		"8.8.8.8": true, "1.1.1.1": true, "2606:4700:4700::1111": true, "114.114.114.114": true,
		"127.0.0.1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false, "169.254.169.254": false,
		"100.64.0.1": false, "0.0.0.0": false, "224.0.0.1": false, "255.255.255.255": false, "::1": false, "::": false,
		"fe80::1": false, "fd00::1": false, "::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false, "64:ff9b::a00:1": false,
		"198.18.0.1": false, "240.0.0.1": false,
	} {
		if got := publicAddr(netip.MustParseAddr(s)); got != want {
			t.Errorf("publicAddr(%s) = %v, want %v", s, got, want)
		}
	}
}

// TestDeliveryRefusesNonPublicAddressesWhenDialling: whatever a name resolved to at registration, the
// delivery client checks the address it connects to (DNS rebinding): a loopback receiver is refused
// unless the policy allows private addresses.
func TestDeliveryRefusesNonPublicAddressesWhenDialling(t *testing.T) {
	reached := false
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))
	defer srv.Close()
	_, err := WebhookPolicy{AllowHTTP: true}.client().Post(srv.URL, "application/json", nil)
	if err == nil || !errors.Is(err, errDialRefused) || reached {
		t.Fatalf("a delivery to %s: %v (reached %v), want refused at dial", srv.URL, err, reached)
	}
	resp, err := WebhookPolicy{AllowHTTP: true, AllowPrivate: true}.client().Post(srv.URL, "application/json", nil)
	if err != nil || !reached {
		t.Fatalf("with private addresses allowed: %v", err)
	}
	resp.Body.Close()
}
