package portal_test

import (
	"strings"
	"testing"

	"github.com/grassroots-ledger/ledger/infra/portal"
)

// TestPeopleAreShownByTheirPublicNames: the community page names the sitting committee's members with
// their roles, and a certified election's results name the winners with their votes — by the public
// display name recorded on the seat and the nomination, not by person id; the personal data recorded
// beside them (ID numbers, phones) stays off (TestNoPersonalDataInAnyPublicResponse crawls for it).
func TestPeopleAreShownByTheirPublicNames(t *testing.T) {
	d := sharedDistrict(t)
	c := d.community()
	id := string(c.ID)
	var sum portal.Community
	d.getJSON("/api/v1/public/communities/"+id, &sum)
	if len(sum.Committee.Roster) == 0 || len(sum.Committee.Roster) != sum.Committee.Members {
		t.Fatalf("the roster: %+v, want the %d sitting members", sum.Committee.Roster, sum.Committee.Members)
	}
	page := string(d.getOK("/c/" + id))
	for _, m := range sum.Committee.Roster {
		if m.Name == m.PersonID || m.Name == "" || m.RoleName == "" {
			t.Fatalf("a member shown by id or without a role: %+v", m)
		}
		if !strings.Contains(page, m.Name) {
			t.Fatalf("the community page does not name %s (%s)", m.Name, m.RoleName)
		}
	}
	if sum.Committee.Roster[0].Role != "chair" {
		t.Fatalf("the roster starts with %s, want the chair", sum.Committee.Roster[0].Role)
	}
	var l portal.ElectionList
	d.getJSON("/api/v1/public/communities/"+id+"/elections", &l)
	named := 0
	for _, e := range l.Elections {
		for _, w := range e.Results {
			if w.Name == w.PersonID || w.Votes == nil {
				t.Fatalf("a winner shown by id or without votes: %+v", w)
			}
			named++
		}
	}
	if named == 0 {
		t.Fatalf("no certified election with results in %+v", l.Elections)
	}
}
