package portal_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

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

// TestAlertsNameWhatTheyAreAbout: across the district, no open alert's sentence refers to an expenditure,
// a meeting, a resolution or an audit by id — each is named (支出“…”, 会议“…”, 审计（离任，2026年2月）) and the
// alert links its page (an audit's: the event that opened it).
func TestAlertsNameWhatTheyAreAbout(t *testing.T) {
	d := sharedDistrict(t)
	rows, err := d.Admin.Query(context.Background(), `SELECT community_id FROM rm_directory.communities`)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	byID := regexp.MustCompile(`(支出|会议|决议|审计|选举|公开事项|委员)[A-Za-z0-9]`)
	auditNamed := regexp.MustCompile(`审计（(任前|定期|离任)，20\d\d年\d{1,2}月）`)
	named, audits := 0, 0
	for _, id := range ids {
		var l portal.AlertList
		d.getJSON("/api/v1/public/communities/"+id+"/alerts", &l)
		for _, a := range l.Alerts {
			if byID.MatchString(a.Detail) {
				t.Errorf("%s: an alert refers to a record by id: %q", id, a.Detail)
			}
			if strings.Contains(a.Detail, "“") {
				named++
				if a.Href == "" {
					t.Errorf("%s: an alert about a record does not link it: %+v", id, a)
				}
			}
			if auditNamed.MatchString(a.Detail) {
				audits++
				if !strings.HasPrefix(a.Href, "/events/") {
					t.Errorf("%s: an alert about an audit does not link the event that opened it: %+v", id, a)
				}
			}
		}
	}
	if named == 0 || audits == 0 {
		t.Fatalf("open alerts naming a record: %d, an audit: %d; the test would prove nothing", named, audits)
	}
}

// TestEventPagesShowThePublicContentInChinese: an event's 来源 page shows what it recorded — the purpose
// and the amount in yuan of an expenditure, in Chinese — but never an individual payee's person id, nor
// a resident's objection text (the crawl of TestNoPersonalDataInPublicResponses checks every event page
// for personal data).
func TestEventPagesShowThePublicContentInChinese(t *testing.T) {
	d := sharedDistrict(t)
	ctx := context.Background()
	var pay, objection int64
	if err := d.Admin.QueryRow(ctx, `SELECT coalesce((SELECT requested_commit_pos FROM rm_finances.expenditures WHERE payee_kind = 'individual'
		LIMIT 1), 0), coalesce((SELECT commit_pos FROM rm_audittrail.audit_events
		WHERE event_type IN ('disclosure.objection-raised', 'election.objection-raised') LIMIT 1), 0)`).Scan(&pay, &objection); err != nil {
		t.Fatal(err)
	}
	if pay == 0 || objection == 0 {
		t.Fatalf("the district has no expenditure to an individual (%d) or no objection (%d)", pay, objection)
	}
	fields := func(pos int64) map[string]string {
		var l portal.EventList
		d.getJSON("/api/v1/public/events/"+strconv.FormatInt(pos, 10), &l)
		out := map[string]string{}
		for _, f := range l.Events[0].Content {
			out[f.Label] = f.Value
		}
		return out
	}
	p := fields(pay)
	if p["用途"] == "" || !strings.HasPrefix(p["金额"], "¥") || p["收款方·类型"] != "个人" {
		t.Fatalf("an expenditure's public content: %v", p)
	}
	for label := range p {
		if strings.Contains(label, "人员编号") || strings.Contains(label, "身份证") {
			t.Fatalf("an individual payee's id or personal data on the event page: %v", p)
		}
	}
	if o := fields(objection); o["内容"] != "" || o["异议编号"] == "" {
		t.Fatalf("an objection's public content must not hold the resident's text: %v", o)
	}
	page := string(d.getOK("/events/" + strconv.FormatInt(pay, 10)))
	if !strings.Contains(page, "公开内容") || !strings.Contains(page, p["用途"]) {
		t.Fatalf("the event page does not show the content:\n%s", page)
	}
}
