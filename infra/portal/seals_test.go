package portal_test

import (
	"context"
	"strings"
	"testing"

	"github.com/grassroots-ledger/ledger/infra/portal"
)

// TestSealRegisterPage: a community's seal register shows its seal with the custodian by name and every
// use with the document, counterparty and approvers, the latest first; a use recorded without approval is
// marked on the page and in the JSON, and the community's open alert about it names the document and links
// the register. The community page links the register (so the personal-data crawl reads it too).
func TestSealRegisterPage(t *testing.T) {
	d := sharedDistrict(t)
	var id string
	if err := d.Admin.QueryRow(context.Background(), `SELECT community_id FROM rm_directory.seal_uses WHERE approved = false
		ORDER BY community_id LIMIT 1`).Scan(&id); err != nil {
		t.Fatalf("no use of a seal without approval in the demo district: %v", err)
	}
	var reg portal.SealRegister
	d.getJSON("/api/v1/public/communities/"+id+"/seals", &reg)
	if len(reg.Seals) != 1 || reg.Seals[0].CustodianName == "" || reg.Seals[0].Unapproved == 0 || reg.Seals[0].KindName != "村(居)民委员会印章" {
		t.Fatalf("seals: %+v", reg.Seals)
	}
	var unapproved *portal.SealUseRow
	for i, u := range reg.Uses {
		if i > 0 && u.DocumentDate.After(reg.Uses[i-1].DocumentDate) {
			t.Fatalf("uses not latest first: %v after %v", u.DocumentDate, reg.Uses[i-1].DocumentDate)
		}
		if u.Title == "" || u.Counterparty == "" || u.Source == nil {
			t.Fatalf("a use without its document, counterparty or source: %+v", u)
		}
		switch u.Status {
		case "unapproved":
			unapproved = &reg.Uses[i]
		case "approved":
			if !strings.Contains(u.Approvers, "（村(居)委会主任）") || !strings.Contains(u.Approvers, "（监督委员会）") {
				t.Fatalf("an approved use without the chair and the supervision committee: %+v", u)
			}
		}
	}
	if unapproved == nil {
		t.Fatalf("the unapproved use is not among the %d shown", len(reg.Uses))
	}
	d.registerPage(id, "seals", "印章使用登记", reg.Seals[0].CustodianName, "已用印（未经审批）", unapproved.Title, unapproved.Counterparty)
	if a := d.openAlert(id, "seal-use"); !strings.Contains(a.Detail, "《") || a.Href != "/c/"+id+"/seals" || a.Severity != "red" {
		t.Fatalf("the seal-use alert: %+v", a)
	}
}
