package portal_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/infra/portal"
)

// TestDashboardsCountEveryCommunityByRating: the tree's JSON gives every node that is not a community
// its communities by rating and its open alerts, equal to what the read models hold; the home page skips
// the levels with one node only (one province, one city) and shows the first level with a choice, its
// dashboard, and one link to each community rated red or yellow.
func TestDashboardsCountEveryCommunityByRating(t *testing.T) {
	d := sharedDistrict(t)
	if err := d.waitCaughtUp(time.Minute); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var communities, red, yellow, open int
	if err := d.Admin.QueryRow(ctx, `SELECT (SELECT count(*) FROM rm_directory.communities),
		(SELECT count(*) FROM rm_alerts.ratings WHERE rating = 'red'), (SELECT count(*) FROM rm_alerts.ratings WHERE rating = 'yellow'),
		(SELECT coalesce(sum(open_red + open_yellow), 0) FROM rm_alerts.ratings)`).Scan(&communities, &red, &yellow, &open); err != nil {
		t.Fatal(err)
	}
	if red+yellow == 0 {
		t.Fatal("the demo district has no community rated red or yellow: the test would prove nothing")
	}
	var top portal.NodeList
	d.getJSON("/api/v1/public/jurisdictions", &top)
	if len(top.Nodes) != 1 || top.Nodes[0].Dashboard == nil {
		t.Fatalf("the top level: %+v", top.Nodes)
	}
	got := *top.Nodes[0].Dashboard
	want := portal.Dashboard{Communities: communities, Red: red, Yellow: yellow, Green: communities - red - yellow, OpenAlerts: open}
	if got != want {
		t.Fatalf("the province's dashboard %+v, want %+v", got, want)
	}
	if len(top.Flagged) != red+yellow || top.Flagged[0].Rating.Rating != "red" && red > 0 {
		t.Fatalf("flagged communities: %+v, want %d red first then %d yellow", top.Flagged, red, yellow)
	}
	home := string(d.getOK("/"))
	// The demo district is one province, one city and one district over three streets: the home page is
	// the district's, its streets with their dashboards.
	if !strings.Contains(home, "<h1>龙湾区</h1>") || !strings.Contains(home, `class="dashboard"`) || strings.Count(home, `<th scope="row"><a href="/j/`) != 3 {
		t.Fatalf("the home page must skip the levels with one node and show the district's streets with their dashboards:\n%s", home)
	}
	for _, f := range top.Flagged {
		if !strings.Contains(home, `href="`+f.Href+`"`) {
			t.Fatalf("the home page has no link to %s (%s), rated %s", f.Name, f.Href, f.Rating.Rating)
		}
	}
	// A flagged community's page links its rating to the alerts that set it.
	if page := string(d.getOK(top.Flagged[0].Href)); !strings.Contains(page, `<a href="#open-alerts">评级依据`) || !strings.Contains(page, `id="open-alerts"`) {
		t.Fatalf("the rating of %s does not link its alerts:\n%s", top.Flagged[0].Name, page)
	}
}

// TestNoticesFilterByCategoryAndYear: the notices of a community filter by category and by the year
// they were published, in JSON and on the page (a form that works without JavaScript); the counts equal
// the board's; a category that is not one is a 400 naming the parameter.
func TestNoticesFilterByCategoryAndYear(t *testing.T) {
	d := sharedDistrict(t)
	id := string(d.community().ID)
	ctx := context.Background()
	var finance, year int
	var y int
	if err := d.Admin.QueryRow(ctx, `SELECT count(*) FILTER (WHERE category = 'finance'),
		max(extract(year FROM published_at AT TIME ZONE 'Asia/Shanghai'))::int FROM rm_board.notices WHERE community_id = $1`, id).Scan(&finance, &y); err != nil {
		t.Fatal(err)
	}
	if err := d.Admin.QueryRow(ctx, `SELECT count(*) FROM rm_board.notices WHERE community_id = $1
		AND extract(year FROM published_at AT TIME ZONE 'Asia/Shanghai') = $2`, id, y).Scan(&year); err != nil {
		t.Fatal(err)
	}
	if finance == 0 || year == 0 {
		t.Fatalf("the community has %d finance notices, %d in %d: nothing to filter", finance, year, y)
	}
	count := func(query string, check func(portal.Notice) bool) int {
		var l portal.NoticeList
		d.getJSON("/api/v1/public/communities/"+id+"/notices?limit=200&"+query, &l)
		for _, n := range l.Notices {
			if !check(n) {
				t.Fatalf("?%s returned %+v", query, n)
			}
		}
		return len(l.Notices)
	}
	if n := count("category=finance", func(n portal.Notice) bool { return n.Category == "finance" }); n != finance {
		t.Fatalf("?category=finance: %d notices, the board has %d", n, finance)
	}
	if n := count("year="+strconv.Itoa(y), func(n portal.Notice) bool { return n.PublishedAt.Year() == y }); n != year {
		t.Fatalf("?year=%d: %d notices, the board has %d", y, n, year)
	}
	if st, _, b := d.get("/api/v1/public/communities/" + id + "/notices?category=gossip"); st != http.StatusBadRequest || !strings.Contains(string(b), `"field":"category"`) {
		t.Fatalf("an unknown category: %d %s", st, b)
	}
	page := string(d.getOK("/c/" + id + "/notices?category=finance"))
	if !strings.Contains(page, `<option value="finance" selected>`) || strings.Count(page, `<li class="notice`) > finance && finance < 50 {
		t.Fatalf("the filtered page:\n%s", page)
	}
}
