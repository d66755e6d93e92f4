package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"
)

// TestPortalServesFromAReadReplica: serve writes to a primary and the portal reads from a hot standby of
// it (PORTAL_DATABASE_URL, as the portal's read-only role): a community recorded through the API shows on
// the portal once it has reached the standby, and the portal keeps serving it, fresh from the standby and
// not from a saved copy, after the primary stops.
func TestPortalServesFromAReadReplica(t *testing.T) {
	primary := pgtest.New(t)
	standby := primary.Standby()
	replica, err := url.Parse(standby.URL())
	if err != nil {
		t.Fatal(err)
	}
	replica.User = url.User("ledger_portal")
	t.Setenv("PORTAL_DATABASE_URL", replica.String())
	t.Setenv("DATABASE_URL", primary.URL())
	t.Setenv("EVENTSTORE_URL", "")
	srv := startServe(t, primary.URL())
	admin := srv.Token(commands.RoleAdmin, "*")
	registerCommunity(t, srv, admin, c)

	get := func(path string) (int, http.Header, string) {
		st, h, b := srv.Get(path)
		return st, h, string(b)
	}
	page := "/c/" + c
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, _, body := get(page)
		if st == http.StatusOK && strings.Contains(body, "罗西社区") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the community never showed on the portal reading the standby: %d", st)
		}
		time.Sleep(100 * time.Millisecond)
	}

	primary.Stop()
	for p, want := range map[string]string{"/": "居务村务公开", page: "罗西社区", "/api/v1/public/communities/" + c: "罗西社区"} {
		st, h, body := get(p)
		if st != http.StatusOK || h.Get("Warning") != "" || !strings.Contains(body, want) {
			t.Errorf("%s with the primary stopped: %d, Warning %q", p, st, h.Get("Warning"))
		}
	}
}
