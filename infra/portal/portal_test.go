package portal_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/infra/portal"
	"github.com/grassroots-ledger/ledger/infra/workload"
)

// TestPages walks the portal as a resident would: from the root down the jurisdiction tree to a
// community, whose page shows every record kind with its sources, the freshness line and live updates.
func TestPages(t *testing.T) {
	d := sharedDistrict(t)
	c := d.community()

	root := d.getOK("/")
	mustContain(t, "the root page", root, `<html lang="zh-CN">`, "数据更新至", "（北京时间）", `href="/j/33"`)
	// Walk down: province → city → district → street → community.
	path := string(c.Path)
	segs := strings.Split(path, "/")
	for i := 1; i < len(segs); i++ {
		page := d.getOK("/j/" + strings.Join(segs[:i], "/"))
		next := "/j/" + strings.Join(segs[:i+1], "/")
		if i == len(segs)-1 {
			next = "/c/" + string(c.ID)
			mustContain(t, "the street page", page, "<caption", "评级")
		}
		mustContain(t, "the tree page "+strings.Join(segs[:i], "/"), page, `href="`+next+`"`)
	}

	page := d.getOK("/c/" + string(c.ID))
	mustContain(t, "the community page", page,
		`<html lang="zh-CN">`, "<h1>"+c.Name, "数据更新至", "（北京时间）",
		`id="sec-overview"`, `id="sec-notices"`, `id="sec-finances"`, `id="sec-elections"`, `id="sec-meetings"`, `id="sec-topics"`,
		"<caption", `role="img"`, "<title id=", "<desc id=", "公示期", "/static/live.js", `data-live="/c/`+string(c.ID)+`/live"`)
	if !regexp.MustCompile(`¥\d{1,3}(,\d{3})*\.\d{2}`).Match(page) {
		t.Error("the community page shows no amount as ¥1,234.56")
	}
	links := regexp.MustCompile(`href="/events/(\d+)"`).FindAllSubmatch(page, -1)
	if len(links) < 20 {
		t.Fatalf("the community page links only %d figures to their events", len(links))
	}
	ev := d.getOK("/events/" + string(links[0][1]))
	mustContain(t, "an event page", ev, "哈希值", "记录时间", "所属社区", "透明日志")
	if contains(ev, "actor") || contains(ev, "command_id") {
		t.Error("the event page shows who recorded the event")
	}
	// Sub-pages linked from the community page answer.
	for _, re := range []string{`href="(/c/[^"]+/notices/[^"]+)"`, `href="(/c/[^"]+/meetings/[^"]+)"`, `href="(/c/[^"]+/elections/[^"]+)"`} {
		m := regexp.MustCompile(re).FindSubmatch(page)
		if m == nil {
			t.Errorf("the community page has no link like %s", re)
			continue
		}
		sub := d.getOK(htmlUnescape(string(m[1])))
		if strings.Contains(re, "notices") {
			// Each version carries its leaf, position and event hash: what a printed notice needs to be
			// checked against the log (no checkpoint is signed in this fixture).
			mustContain(t, "a notice page", sub, "透明日志第 ", "事件哈希 <code class=\"hash\">")
		}
	}
	// Corrections keep every version, withdrawals their reason: somewhere in the district there is one of each.
	var corrected, withdrawn string
	for _, di := range d.Stats.Districts {
		for _, st := range di.Streets {
			for _, cc := range st.Communities {
				var l portal.NoticeList
				d.getJSON("/api/v1/public/communities/"+string(cc.ID)+"/notices?limit=200", &l)
				for _, n := range l.Notices {
					if n.Status == "withdrawn" && withdrawn == "" {
						withdrawn = n.Href
						if n.Withdrawal == "" || n.WithdrawnSrc == nil {
							t.Errorf("withdrawn notice without reason or source: %+v", n)
						}
					}
					if n.Version > 1 && corrected == "" {
						corrected = n.Href
					}
				}
			}
		}
	}
	if corrected == "" || withdrawn == "" {
		t.Fatalf("the demo district has no corrected (%q) or no withdrawn (%q) notice", corrected, withdrawn)
	}
	mustContain(t, "a corrected notice's page", d.getOK(corrected), "第2版", "更正原因")
	mustContain(t, "a withdrawn notice's page", d.getOK(withdrawn), "撤回，原因")
	// Unknown things are 404 pages, bad parameters 400.
	if st, _, _ := d.get("/c/nope"); st != http.StatusNotFound {
		t.Errorf("unknown community: %d", st)
	}
	if st, _, _ := d.get("/c/" + string(c.ID) + "?year=abc"); st != http.StatusBadRequest {
		t.Errorf("bad year: %d", st)
	}
	if st, _, _ := d.get("/events/999999999"); st != http.StatusNotFound {
		t.Errorf("unknown event: %d", st)
	}
	// HTML ETags: a revalidation is a 304.
	_, h, _ := d.get("/c/" + string(c.ID))
	if st, _, b := d.get("/c/"+string(c.ID), "If-None-Match", h.Get("ETag")); st != http.StatusNotModified || len(b) != 0 {
		t.Errorf("If-None-Match on the community page: %d with %d bytes", st, len(b))
	}
}

func htmlUnescape(s string) string { return strings.ReplaceAll(s, "&amp;", "&") }

// TestJSONAPI reads the same data as JSON: documented in the OpenAPI document, paged by keyset with next
// links, and revalidated with strong ETags.
func TestJSONAPI(t *testing.T) {
	d := sharedDistrict(t)
	c := d.community()
	id := string(c.ID)

	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	d.getJSON("/api/v1/openapi.json", &doc)
	for _, p := range []string{"/api/v1/public/jurisdictions", "/api/v1/public/communities/{id}", "/api/v1/public/communities/{id}/notices",
		"/api/v1/public/communities/{id}/finances", "/api/v1/public/communities/{id}/payments", "/api/v1/public/communities/{id}/elections",
		"/api/v1/public/communities/{id}/meetings", "/api/v1/public/communities/{id}/topics", "/api/v1/public/events/{position}"} {
		if doc.Paths[p]["get"] == nil {
			t.Errorf("the OpenAPI document lacks GET %s", p)
		}
	}

	var sum portal.Community
	h := d.getJSON("/api/v1/public/communities/"+id, &sum)
	if sum.ID != id || sum.Name != c.Name || sum.Freshness == nil || !strings.HasPrefix(sum.Freshness.Text, "数据更新至") {
		t.Fatalf("summary: %+v", sum)
	}
	etag := h.Get("ETag")
	if !strings.HasPrefix(etag, `"`) {
		t.Fatalf("ETag %q is not a strong tag", etag)
	}
	if st, h2, b := d.get("/api/v1/public/communities/"+id, "If-None-Match", etag); st != http.StatusNotModified || len(b) != 0 || h2.Get("ETag") != etag {
		t.Fatalf("If-None-Match: status %d, %d bytes, ETag %q", st, len(b), h2.Get("ETag"))
	}

	// Keyset paging: pages of 7 payments follow each other without overlap until there is no next.
	seen := map[string]bool{}
	next := "/api/v1/public/communities/" + id + "/payments?limit=7"
	pages := 0
	for next != "" {
		var l portal.PaymentList
		h := d.getJSON(next, &l)
		pages++
		for _, p := range l.Payments {
			if seen[p.ExpenditureID] {
				t.Fatalf("payment %s on two pages", p.ExpenditureID)
			}
			seen[p.ExpenditureID] = true
			if p.Source == nil || p.Source.Href == "" || !strings.HasPrefix(p.Amount.Text, "¥") {
				t.Fatalf("payment without source or amount: %+v", p)
			}
		}
		if l.Next != "" && h.Get("Link") != "<"+l.Next+`>; rel="next"` {
			t.Fatalf("Link header %q, next %q", h.Get("Link"), l.Next)
		}
		next = l.Next
	}
	if pages < 3 {
		t.Fatalf("only %d pages of payments (%d payments)", pages, len(seen))
	}
	var fin portal.Finances
	d.getJSON("/api/v1/public/communities/"+id+"/finances", &fin)
	if len(fin.Categories) == 0 || fin.Paid.Fen <= 0 {
		t.Fatalf("finances: %+v", fin)
	}
	for _, p := range []string{"/notices?limit=3", "/meetings?limit=3", "/topics?limit=3", "/elections", "/alerts"} {
		var v map[string]any
		d.getJSON("/api/v1/public/communities/"+id+p, &v)
	}
	// Errors are problems.
	for path, want := range map[string]int{
		"/api/v1/public/communities/nope":                            http.StatusNotFound,
		"/api/v1/public/communities/" + id + "/payments?limit=0":     http.StatusBadRequest,
		"/api/v1/public/communities/" + id + "/payments?after=zz!":   http.StatusBadRequest,
		"/api/v1/public/communities/" + id + "/finances?year=twenty": http.StatusBadRequest,
		"/api/v1/public/events/0":                                    http.StatusBadRequest,
		"/api/v1/public/events/99999999":                             http.StatusNotFound,
	} {
		st, h, b := d.get(path)
		if st != want || h.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET %s: %d %s: %s", path, st, h.Get("Content-Type"), b)
		}
	}
}

// TestPortalRole: the portal's role reads the public models and nothing else, and cannot write.
func TestPortalRole(t *testing.T) {
	d := sharedDistrict(t)
	ctx := context.Background()
	pp, err := portal.OpenPool(ctx, portal.PoolConfig{URL: d.DBURL, Role: portal.DefaultRole})
	if err != nil {
		t.Fatal(err)
	}
	defer pp.Close()
	var n int
	if err := pp.QueryRow(ctx, `SELECT count(*) FROM rm_finances.expenditures`).Scan(&n); err != nil {
		t.Fatalf("the portal role cannot read a public model: %v", err)
	}
	if err := pp.QueryRow(ctx, `SELECT count(hash) FROM rm_audittrail.audit_events`).Scan(&n); err != nil {
		t.Fatalf("the portal role cannot read the events' envelopes: %v", err)
	}
	for _, q := range []string{
		`SELECT actor FROM rm_audittrail.audit_events LIMIT 1`,
		`SELECT command_id FROM rm_audittrail.audit_events LIMIT 1`,
		`SELECT * FROM rm_audittrail.audit_events LIMIT 1`,
		`SELECT count(*) FROM auth.tokens`,
		`SELECT count(*) FROM rm_alerts.outbox`,
		`SELECT count(*) FROM rm_alerts.alert_events`,
		`SELECT count(*) FROM rm_meta.poison_events`,
		`SELECT halt_reason FROM rm_meta.projections`,
	} {
		_, err := pp.Exec(ctx, q)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || (pe.Code != "42501" && pe.Code != "42P01") {
			t.Errorf("%s: want permission denied, got %v", q, err)
		}
	}
	for _, q := range []string{`DELETE FROM rm_finances.expenditures`, `CREATE TABLE public.x (a int)`, `SET ROLE postgres`} {
		if _, err := pp.Exec(ctx, q); err == nil {
			t.Errorf("%s: the portal role may do it", q)
		}
	}
	if _, err := pp.Exec(ctx, `SET default_transaction_read_only = off`); err == nil {
		// Turning it off for a session is allowed to the role itself; what matters is that it cannot write.
		if _, err := pp.Exec(ctx, `INSERT INTO rm_finances.expenditures SELECT * FROM rm_finances.expenditures LIMIT 1`); err == nil {
			t.Error("the portal role could write a read model")
		}
	}
	var user string
	_ = pp.QueryRow(ctx, `SELECT current_user`).Scan(&user)
	if user != portal.DefaultRole {
		t.Errorf("the portal pool runs as %q", user)
	}
	_ = json.Valid
}

// TestServesWithStoreDown stops the event store: the portal reads only PostgreSQL, so every page and
// JSON answer is still served — also those no one asked for before (nothing cached) — and still says
// how fresh the data is.
func TestServesWithStoreDown(t *testing.T) {
	d := newDistrict(t, workload.Options{Seed: 5, Communities: 2, Years: 1, Until: demoUntil, Concurrency: 4})
	c := d.community()
	id := string(c.ID)
	before := d.getOK("/c/" + id)
	if err := d.Node.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Store.Head(context.Background()); err == nil {
		t.Fatal("the event store still answers after the node was closed")
	}
	page := d.getOK("/c/" + id)
	if !bytes.Equal(before, page) {
		t.Error("the community page changed while nothing happened")
	}
	mustContain(t, "the community page with the store down", page, "数据更新至")
	for _, p := range []string{"/", "/j/" + string(c.Path), "/c/" + id + "/payments", "/c/" + id + "/notices", "/c/" + id + "/meetings",
		"/c/" + id + "/topics", "/c/" + id + "/s/finances", "/api/v1/public/communities/" + id, "/api/v1/public/communities/" + id + "/payments?limit=5",
		"/api/v1/public/communities/" + id + "/elections", "/api/v1/public/jurisdictions?parent=" + string(c.Path[:2])} {
		d.getOK(p)
	}
	events := regexp.MustCompile(`href="(/events/\d+)"`).FindAllSubmatch(page, 3)
	for _, m := range events {
		mustContain(t, "an event page with the store down", d.getOK(string(m[1])), "哈希值")
	}
}

// TestLiveStream reads a community page's event stream as a browser's EventSource would: a page loaded
// before a change learns at once which sections to fetch again, and a page that is current hears of the
// next change as it is projected.
func TestLiveStream(t *testing.T) {
	d := sharedDistrict(t)
	c := d.community()
	id := string(c.ID)
	page := d.getOK("/c/" + id)
	m := regexp.MustCompile(`data-fp="([0-9a-f.]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatal("the community page carries no data-fp")
	}
	fp := string(m[1])

	// A stale page: every section differs.
	stale := strings.Repeat("00000000.", 5) + "00000000"
	ev := readEvent(t, d.URL+"/c/"+id+"/live?since="+stale, nil)
	if len(ev.Sections) != 6 || !strings.HasPrefix(ev.Freshness, "数据更新至") {
		t.Fatalf("stale page: %+v", ev)
	}

	// A current page hears of an allocation recorded now, in the finances section only.
	clerk := d.API.Token(t, "clerk", string(c.Path))
	year := d.Clock.Now().In(kernel.ChinaTime()).Year()
	got := make(chan liveEvent, 1)
	ready := make(chan struct{})
	go func() { got <- readEvent(t, d.URL+"/c/"+id+"/live?since="+fp, ready) }()
	<-ready
	d.API.Post(t, "allocate-budget", clerk, "live-alloc-"+strconv.FormatInt(time.Now().UnixNano(), 36), map[string]any{
		"community_id": id, "fiscal_year": year, "allocation_id": "live-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		"source": "street-finance", "category": "startup", "amount_fen": 500000, "note": "实时更新测试",
	}).Result(t)
	// The models commit their batches separately, so the first update may come from another model's
	// checkpoint moving before finances committed, or only say that the data is fresher (the freshness
	// line changed, no section did: the same id); the page then resumes from that update's id, as the
	// script does, until finances is named.
	deadline := time.After(15 * time.Second)
	for {
		select {
		case ev := <-got:
			if ev.ID == "" || ev.ID == fp && len(ev.Sections) > 0 {
				t.Fatalf("an update naming sections carries no new id: %+v", ev)
			}
			if slices.Contains(ev.Sections, "finances") {
				return
			}
			since := ev.ID
			go func() { got <- readEvent(t, d.URL+"/c/"+id+"/live?since="+since, nil) }()
		case <-deadline:
			t.Fatal("no update naming finances within 15 s of an allocation")
		}
	}
}

type liveEvent struct {
	ID        string
	Sections  []string `json:"sections"`
	Freshness string   `json:"freshness"`
}

// readEvent opens an event stream and returns its first "update" event; ready, when set, is closed once
// the stream is open.
func readEvent(t *testing.T, url string, ready chan struct{}) liveEvent {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if ready != nil {
		close(ready)
	}
	if err != nil {
		t.Errorf("open %s: %v", url, err)
		return liveEvent{}
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Errorf("%s: Content-Type %q", url, ct)
		return liveEvent{}
	}
	sc := bufio.NewScanner(resp.Body)
	var ev liveEvent
	var name string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			ev.ID = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: ") && name == "update":
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev); err != nil {
				t.Errorf("%s: %v", url, err)
			}
			return ev
		}
	}
	t.Errorf("%s: the stream ended without an update: %v", url, sc.Err())
	return liveEvent{}
}
