package portal_test

import (
	"context"
	"strings"
	"testing"

	"github.com/grassroots-ledger/ledger/infra/portal"
)

// TestCaseworkPages: a community's inspections with their findings and what became of each (the one
// planted never reported shows overdue, and its open alert links the page), the rectification of an audit
// finding without its text; the district's bulletins with the inspections they cite and the year's
// coverage, linked from the district's page. The community page links its casework (so the personal-data
// crawl reads it too).
func TestCaseworkPages(t *testing.T) {
	d := sharedDistrict(t)
	var id string
	if err := d.Admin.QueryRow(context.Background(), `SELECT r.community_id FROM rm_directory.rectifications r
		LEFT JOIN rm_directory.rectification_reports p USING (community_id, rectification_id)
		WHERE p.rectification_id IS NULL AND r.due < (SELECT max(ordered_at) FROM rm_directory.rectifications) - interval '20 days'
		ORDER BY 1 LIMIT 1`).Scan(&id); err != nil {
		t.Fatalf("no rectification left unreported in the demo district: %v", err)
	}
	var cw portal.Casework
	d.getJSON("/api/v1/public/communities/"+id+"/inspections", &cw)
	if len(cw.Inspections) == 0 || len(cw.Bulletins) == 0 {
		t.Fatalf("casework %+v", cw)
	}
	overdue, reported := false, false
	for _, i := range cw.Inspections {
		if i.Inspectors == "" || i.Methods == "" || i.Source == nil {
			t.Fatalf("inspection %+v", i)
		}
		for _, f := range i.Findings {
			if f.Rectification == nil || f.Text == "" || f.SeverityName == "" {
				t.Fatalf("finding %+v", f)
			}
			overdue = overdue || f.Rectification.Status == "overdue"
			reported = reported || strings.HasPrefix(f.Rectification.Status, "reported") && f.Rectification.Response != ""
		}
	}
	for _, a := range cw.Audit {
		overdue = overdue || a.Status == "overdue"
	}
	if !overdue || !reported {
		t.Fatalf("overdue %v, reported %v: %+v", overdue, reported, cw.Inspections)
	}
	for _, a := range cw.Audit {
		if a.Finding != "审计发现的一项问题" {
			t.Fatalf("an audit finding's text shown: %+v", a)
		}
	}
	d.registerPage(id, "inspections", "督查与整改", "逾期未整改", "整改要求", cw.Inspections[0].Inspectors, cw.Bulletins[0].Title)
	if a := d.openAlert(id, "rectification-due"); a.Href != "/c/"+id+"/inspections" || !strings.Contains(a.Detail, "整改") {
		t.Fatalf("the rectification-due alert: %+v", a)
	}
	district := cw.Bulletins[0].Jurisdiction
	var bs portal.Bulletins
	d.getJSON("/api/v1/public/bulletins?jurisdiction="+district, &bs)
	if len(bs.Bulletins) == 0 || bs.Coverage.Communities == 0 || bs.Coverage.Inspected > bs.Coverage.Communities || len(bs.Bulletins[0].Cites) == 0 ||
		bs.Bulletins[0].Cites[0].CommunityName == "" {
		t.Fatalf("bulletins %+v", bs)
	}
	bp := string(d.getOK("/bulletins/" + district))
	for _, want := range []string{"督查通报", "督查覆盖", bs.Bulletins[0].Title, bs.Bulletins[0].Cites[0].CommunityName} {
		if !strings.Contains(bp, want) {
			t.Fatalf("the bulletins page lacks %q", want)
		}
	}
	if !strings.Contains(string(d.getOK("/")), `href="/bulletins/`+district+`"`) {
		t.Fatal("the district's page does not link its bulletins")
	}
}
