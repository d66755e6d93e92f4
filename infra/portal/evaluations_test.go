package portal_test

import (
	"context"
	"strings"
	"testing"

	"github.com/grassroots-ledger/ledger/infra/portal"
)

// TestEvaluationsPage: a community's satisfaction surveys with a chart per question and the share
// satisfied, and its democratic evaluations with each member's tallies by public name; the community
// planted to find a member 不称职 has its red alert linking the page. The community page links it (so the
// personal-data crawl reads it too).
func TestEvaluationsPage(t *testing.T) {
	d := sharedDistrict(t)
	var id string
	if err := d.Admin.QueryRow(context.Background(), `SELECT community_id FROM rm_directory.evaluation_results
		WHERE incompetent * 3 >= competent + basically + incompetent ORDER BY 1 LIMIT 1`).Scan(&id); err != nil {
		t.Fatalf("no member found 不称职 in the demo district: %v", err)
	}
	var ev portal.Evaluations
	d.getJSON("/api/v1/public/communities/"+id+"/evaluations", &ev)
	if len(ev.Surveys) == 0 || len(ev.Evaluations) < 2 {
		t.Fatalf("evaluations %+v", ev)
	}
	s := ev.Surveys[0]
	if s.ClosedAt == nil || s.Respondents == 0 || len(s.Questions) != 4 || s.Questions[0].Satisfied == "" || len(s.Questions[3].Answers) != 5 {
		t.Fatalf("survey %+v", s)
	}
	for _, e := range ev.Evaluations {
		for _, m := range e.Members {
			if m.Name == "" || m.RoleName == "" || m.Competent+m.Basically+m.Incompetent > e.Evaluators {
				t.Fatalf("member %+v of %+v", m, e)
			}
		}
	}
	d.registerPage(id, "evaluations", "民主评议与满意度测评", "<svg", s.Title, "称职率", ev.Evaluations[0].Members[0].Name)
	if a := d.openAlert(id, "cadre-incompetent"); !strings.HasPrefix(a.Href, "/c/"+id+"/evaluations") || a.Severity != "red" {
		t.Fatalf("the cadre-incompetent alert: %+v", a)
	}
}
