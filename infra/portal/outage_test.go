package portal_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"
	"github.com/grassroots-ledger/ledger/infra/workload"
)

// TestPostgresOutage crashes the PostgreSQL server under a running ledger (a cluster of the test's own:
// the read models, the tokens and the portal's role all live there) and starts it again. While it is
// down, the portal serves the pages and answers it rendered before, marked stale (Warning header, a
// note on the freshness line), a page it never rendered is a 503 with Retry-After rather than a 500,
// and a clerk whose token was verified a moment ago still records; once it is back, the read models
// catch up with what was recorded meanwhile and the pages are fresh again. The operator is told once that
// the portal cannot read the database and once that it can again, not on every failed poll (twenty a
// second here).
func TestPostgresOutage(t *testing.T) {
	t.Parallel()
	c := pgtest.New(t)
	d, cleanup, err := buildDistrictOn(c.URL(), workload.Options{Seed: 11, Communities: 1, Years: 1, Until: demoUntil, Concurrency: 4}, t.Logf)
	t.Cleanup(cleanup)
	if err != nil {
		t.Fatal(err)
	}
	d.t = t
	cm := d.community()
	id := string(cm.ID)
	year := d.Clock.Now().In(kernel.ChinaTime()).Year()
	clerk := d.API.Token(t, commands.RoleClerk, string(cm.Path))
	request := func(x string) {
		t.Helper()
		d.API.Post(t, "request-expenditure", clerk, x, commands.RequestExpenditure{CommunityID: id, ExpenditureID: x, FiscalYear: year,
			Category: "operating", Kind: "other", Purpose: "社区活动室空调维修", AmountFen: 123456,
			Payee: commands.Payee{Kind: "organisation", Organisation: "温州市龙湾区制冷维修部"}}).Result(t)
	}
	request("outage-1") // verifies the clerk's token
	pages := []string{"/", "/c/" + id, "/c/" + id + "/payments", "/api/v1/public/communities/" + id}
	for _, p := range pages {
		d.getOK(p)
	}

	c.Crash()
	down := time.Now()
	if !waitFor(func() bool {
		_, _, b := d.get("/c/" + id)
		return strings.Contains(string(b), "数据库暂时无法访问")
	}, 15*time.Second) {
		t.Fatal("the community page does not say the database is unreachable")
	}
	for _, p := range pages {
		st, h, b := d.get(p)
		if st != http.StatusOK || !strings.Contains(h.Get("Warning"), "Stale") || h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s with PostgreSQL down: %d, headers %v", p, st, h)
		}
		if !strings.HasPrefix(p, "/api/") && !strings.Contains(string(b), "本页为此前保存的内容") {
			t.Errorf("%s with PostgreSQL down is not marked stale", p)
		}
	}
	if st, h, _ := d.get("/c/" + id + "/meetings"); st != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
		t.Errorf("a page never rendered, with PostgreSQL down: %d, headers %v; want 503 with Retry-After", st, h)
	}
	request("outage-2") // the clerk records meanwhile: the event store is up, the token remembered

	time.Sleep(time.Until(down.Add(time.Second))) // twenty polls at least
	c.Start()
	outage := time.Since(down)
	if err := d.waitCaughtUp(90 * time.Second); err != nil {
		t.Fatal(err)
	}
	const failed, again = "portal: reading the models' checkpoints failed", "portal: reading the models' checkpoints again"
	first, still, back := d.PortalLog.With(failed), d.PortalLog.With(failed+" (still failing)"), d.PortalLog.With(again)
	if len(first) != 1 || len(still) > int(outage/time.Minute) || len(back) != 1 {
		t.Fatalf("logged over an outage of %s: %d lines %q, %d lines %q, %d lines %q; want one, at most one a minute, one",
			outage.Round(time.Second), len(first), failed, len(still), failed+" (still failing)", len(back), again)
	}
	if n, err := strconv.Atoi(back[0]["failures"]); err != nil || n < 10 {
		t.Errorf("the portal's line at the end of the outage counts %q failed polls; want the many it made", back[0]["failures"])
	}
	var n int
	if err := d.Admin.QueryRow(t.Context(), `SELECT count(*) FROM rm_audittrail.audit_events WHERE stream = $1`,
		"expenditure-"+id+"-outage-2").Scan(&n); err != nil || n != 1 {
		t.Fatalf("the expenditure recorded during the outage: %d audit rows, %v", n, err)
	}
	if !waitFor(func() bool {
		st, h, b := d.get("/c/" + id + "/payments")
		return st == http.StatusOK && h.Get("Warning") == "" && !strings.Contains(string(b), "数据库暂时无法访问")
	}, 30*time.Second) {
		t.Fatal("the pages are still stale after PostgreSQL came back")
	}
}
