package portal_test

import (
	"context"
	"strings"
	"testing"

	"github.com/grassroots-ledger/ledger/infra/portal"
)

// TestWorkListPages: the district's list of community work (duties by list, applications with the
// decision, the funding and a refusal's reason), linked from the district's page; a community's received
// tasks with what allowed each, one nobody admitted marked 未经准入, and its open alert linking the page.
func TestWorkListPages(t *testing.T) {
	d := sharedDistrict(t)
	var id, district string
	if err := d.Admin.QueryRow(context.Background(), `SELECT t.community_id, substring(c.path from '^[^/]+/[^/]+/[^/]+')
		FROM rm_directory.community_tasks t JOIN rm_directory.communities c USING (community_id) WHERE NOT t.allowed
		ORDER BY t.community_id LIMIT 1`).Scan(&id, &district); err != nil {
		t.Fatalf("no task pushed onto a community without admission in the demo district: %v", err)
	}
	var l portal.WorkList
	d.getJSON("/api/v1/public/worklist?district="+district, &l)
	refused := 0
	for _, a := range l.Admissions {
		if a.Status == "refused" {
			refused++
			if a.Reason == "" {
				t.Fatalf("a refusal without its reason: %+v", a)
			}
		}
	}
	if len(l.Duties) != 8 || len(l.Admissions) != 4 || refused != 1 || l.DistrictName == "" {
		t.Fatalf("the list: %d duties, %d admissions (%d refused), %q", len(l.Duties), len(l.Admissions), refused, l.DistrictName)
	}
	page := string(d.getOK("/worklist/" + district))
	for _, want := range []string{"社区工作事项清单与准入", "协助政府工作事项", "不予准入", l.Admissions[0].Department} {
		if !strings.Contains(page, want) {
			t.Fatalf("the list page lacks %q", want)
		}
	}
	if !strings.Contains(string(d.getOK("/")), `href="/worklist/`+district+`"`) {
		t.Fatal("the district's page does not link its list")
	}
	var tasks portal.CommunityTasks
	d.getJSON("/api/v1/public/communities/"+id+"/tasks", &tasks)
	var unadmitted *portal.ReceivedTask
	for i, x := range tasks.Tasks {
		if !x.Allowed {
			unadmitted = &tasks.Tasks[i]
		} else if x.Basis == "" || x.Basis == "未经准入" {
			t.Fatalf("an allowed task without its basis: %+v", x)
		}
	}
	if unadmitted == nil || unadmitted.Basis != "未经准入" || tasks.WorklistHref != "/worklist/"+district {
		t.Fatalf("tasks: %+v", tasks)
	}
	if page := string(d.getOK("/c/" + id + "/tasks")); !strings.Contains(page, "未经准入") || !strings.Contains(page, unadmitted.Title) {
		t.Fatal("the tasks page does not mark the task nobody admitted")
	}
	if a := d.openAlert(id, "work-admission"); a.Href != "/c/"+id+"/tasks" || !strings.Contains(a.Detail, "不得转嫁给社区") {
		t.Fatalf("the work-admission alert: %+v", a)
	}
}
