package portal_test

import (
	"context"
	"strings"
	"testing"

	"github.com/grassroots-ledger/ledger/infra/portal"
)

// TestWorkersPage: a community's workers (社区工作者) — how many on which post against its posts, each
// year's hires, departures, training and pay by component — never a worker's name; the community planted
// to exceed its posts is marked, and its open alert links the page. The community page links it (so the
// personal-data crawl reads it too).
func TestWorkersPage(t *testing.T) {
	d := sharedDistrict(t)
	var id string
	if err := d.Admin.QueryRow(context.Background(), `SELECT r.community_id FROM rm_directory.worker_rosters r
		WHERE r.posts < (SELECT count(*) FROM rm_directory.workers w WHERE w.community_id = r.community_id AND w.left_at IS NULL)
		ORDER BY 1 LIMIT 1`).Scan(&id); err != nil {
		t.Fatalf("no community over its posts in the demo district: %v", err)
	}
	var wr portal.WorkerRoster
	d.getJSON("/api/v1/public/communities/"+id+"/workers", &wr)
	if !wr.Over || wr.Active != wr.Posts+1 || wr.Source == nil || len(wr.ByPost) == 0 || len(wr.Years) < 2 {
		t.Fatalf("workers %+v", wr)
	}
	n := 0
	for _, p := range wr.ByPost {
		n += p.Count
	}
	if n != wr.Active {
		t.Fatalf("%d on the posts, %d active", n, wr.Active)
	}
	components := map[string]bool{}
	for _, y := range wr.Years {
		var sum int64
		for _, p := range y.Pay {
			components[p.Component] = true
			sum += p.Paid.Fen
		}
		if sum != y.PayTotal.Fen {
			t.Fatalf("year %d: pay %d, total %d", y.Year, sum, y.PayTotal.Fen)
		}
	}
	if !components["basic"] || !components["performance"] || !components["annual-bonus"] {
		t.Fatalf("pay components %v", components)
	}
	if wr.Years[len(wr.Years)-1].TrainingHours == 0 && wr.Years[0].TrainingHours == 0 {
		t.Fatalf("no training: %+v", wr.Years)
	}
	d.registerPage(id, "workers", "社区工作者", "超过核定职数", wr.ByPost[0].PostName, "基本工资", "绩效工资")
	if a := d.openAlert(id, "staffing-limit"); a.Href != "/c/"+id+"/workers" || !strings.Contains(a.Detail, "核定职数") {
		t.Fatalf("the staffing-limit alert: %+v", a)
	}
}
