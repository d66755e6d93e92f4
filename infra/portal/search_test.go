package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chromedp/chromedp"

	"github.com/grassroots-ledger/ledger/infra/httpapi"
	"github.com/grassroots-ledger/ledger/infra/portal"
	"github.com/grassroots-ledger/ledger/projections/directory"
)

// TestSearchFindsAPlaceByPartOfItsName: two characters of a community's name find it, on the search page
// (linked to the community's page, with the places above it) and in the JSON API; its whole name puts it
// first; a name nobody has finds nothing; an empty or over-long query is a 400 naming q; a LIKE pattern is
// taken as written.
func TestSearchFindsAPlaceByPartOfItsName(t *testing.T) {
	d := sharedDistrict(t)
	c := d.community()
	two := string([]rune(c.Name)[:2])

	var res portal.SearchResults
	d.getJSON("/api/v1/public/search?q="+url.QueryEscape(two), &res)
	found := false
	for _, h := range res.Hits {
		if !strings.Contains(h.Name, two) {
			t.Fatalf("hit %q does not contain %q", h.Name, two)
		}
		if h.Href == "/c/"+string(c.ID) && h.Community {
			found = true
			if !strings.Contains(h.Where, "龙湾") && h.Where == "" {
				t.Fatalf("hit without the places above it: %+v", h)
			}
		}
	}
	if !found {
		t.Fatalf("searching %q did not find %s (%s): %+v", two, c.Name, c.ID, res.Hits)
	}
	d.getJSON("/api/v1/public/search?q="+url.QueryEscape(c.Name), &res)
	if len(res.Hits) == 0 || res.Hits[0].Name != c.Name {
		t.Fatalf("the exact name is not first: %+v", res.Hits)
	}
	// The pinyin initials of the name, in capitals as a phone's keyboard may type them, find it too.
	initials := strings.ToUpper(directory.Initials(c.Name))
	d.getJSON("/api/v1/public/search?q="+url.QueryEscape(initials), &res)
	if !slices.ContainsFunc(res.Hits, func(h portal.SearchHit) bool { return h.Href == "/c/"+string(c.ID) }) {
		t.Fatalf("searching the initials %q did not find %s: %+v", initials, c.Name, res.Hits)
	}
	page := d.getOK("/search?q=" + url.QueryEscape(two))
	mustContain(t, "the search page", page, `href="/c/`+string(c.ID)+`"`, c.Name, `name="q"`, `value="`+two+`"`)
	for _, none := range []string{"不存在的地名", "%", "_"} {
		d.getJSON("/api/v1/public/search?q="+url.QueryEscape(none), &res)
		if len(res.Hits) != 0 {
			t.Fatalf("searching %q found %+v", none, res.Hits)
		}
	}
	for _, bad := range []string{"", "%20%20", url.QueryEscape(strings.Repeat("村", 33))} {
		st, _, body := d.get("/api/v1/public/search?q=" + bad)
		if st != http.StatusBadRequest || !strings.Contains(string(body), `"field":"q"`) || !strings.Contains(string(body), httpapi.CodeInvalidValue) {
			t.Fatalf("q=%q: %d %s", bad, st, body)
		}
	}
	if st, _, _ := d.get("/search?q=" + url.QueryEscape(strings.Repeat("村", 33))); st != http.StatusBadRequest {
		t.Fatalf("an over-long search on the page: %d", st)
	}
	if n := utf8.RuneCountInString(two); n != 2 {
		t.Fatal(n)
	}

	// Notices by words of their title: a notice on a board is found by its title; a withdrawn one is not.
	var cid, nid, title string
	if err := d.Admin.QueryRow(context.Background(), `SELECT n.community_id, n.notice_id, v.title FROM rm_board.notices n
		JOIN rm_board.notice_versions v USING (community_id, notice_id) WHERE v.version = n.version AND n.status <> 'withdrawn'
		ORDER BY n.published_at DESC LIMIT 1`).Scan(&cid, &nid, &title); err != nil {
		t.Fatal(err)
	}
	d.getJSON("/api/v1/public/search?q="+url.QueryEscape(title), &res)
	found = false
	for _, n := range res.Notices {
		if !strings.Contains(n.Title, title) || n.Community == "" {
			t.Fatalf("notice hit %+v for %q", n, title)
		}
		found = found || n.Href == "/c/"+cid+"/notices/"+url.PathEscape(nid)
	}
	if !found {
		t.Fatalf("searching the title %q did not find notice %s/%s: %+v", title, cid, nid, res.Notices)
	}
	mustContain(t, "the search page", d.getOK("/search?q="+url.QueryEscape(title)), "/c/"+cid+"/notices/")
	var withdrawn string
	if err := d.Admin.QueryRow(context.Background(), `SELECT coalesce((SELECT v.title FROM rm_board.notices n JOIN rm_board.notice_versions v
		USING (community_id, notice_id) WHERE v.version = n.version AND n.status = 'withdrawn' LIMIT 1), '')`).Scan(&withdrawn); err != nil {
		t.Fatal(err)
	}
	if withdrawn != "" {
		d.getJSON("/api/v1/public/search?q="+url.QueryEscape(withdrawn), &res)
		for _, n := range res.Notices {
			if n.Title == withdrawn {
				var st string
				_ = d.Admin.QueryRow(context.Background(), `SELECT string_agg(n.status, ',') FROM rm_board.notices n JOIN rm_board.notice_versions v
					USING (community_id, notice_id) WHERE v.version = n.version AND v.title = $1`, withdrawn).Scan(&st)
				if !strings.Contains(st, "published") && !strings.Contains(st, "corrected") {
					t.Fatalf("a withdrawn notice was found: %+v", n)
				}
			}
		}
	}
}

// TestBrowserSearchAndOpenACommunity: in Chromium, a resident types two characters of a village's name into
// the search box of the home page, submits, and opens the community from the results.
func TestBrowserSearchAndOpenACommunity(t *testing.T) {
	d := sharedDistrict(t)
	c := d.community()
	two := string([]rune(c.Name)[:2])
	ctx, cancel := context.WithTimeout(newBrowser(t), 60*time.Second)
	defer cancel()
	var heading string
	err := chromedp.Run(ctx,
		chromedp.Navigate(d.URL+"/"),
		chromedp.WaitVisible(`#q`, chromedp.ByQuery),
		chromedp.SendKeys(`#q`, two, chromedp.ByQuery),
		chromedp.Submit(`#q`, chromedp.ByQuery),
		chromedp.WaitVisible(`ul.hits a[href="/c/`+string(c.ID)+`"]`, chromedp.ByQuery),
		chromedp.Click(`ul.hits a[href="/c/`+string(c.ID)+`"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#sec-finances`, chromedp.ByQuery),
		chromedp.Text(`h1`, &heading, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("search and open %s: %v", c.Name, err)
	}
	if !strings.Contains(heading, c.Name) {
		t.Fatalf("opened %q, want %s", heading, c.Name)
	}
}
