package portal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
)

const (
	// pageLimit is how many rows a section of the community page shows; the list pages show listLimit.
	pageLimit = 10
	listLimit = 50
	maxLimit  = 200
)

func parseTemplates() (*template.Template, error) {
	funcs := template.FuncMap{
		"tm":   ChinaTime,
		"date": ChinaDate,
		"tmp": func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return ChinaTime(*t)
		},
		"deref": func(p *int) int {
			if p == nil {
				return 0
			}
			return *p
		},
		"sev":           func(s string) string { return label(severityLabels, s) },
		"para":          paragraphs,
		"communityHref": communityHref,
		"yearHref": func(id string, year int) string {
			return communityHref(id) + "?year=" + strconv.Itoa(year) + "#sec-finances"
		},
	}
	t, err := template.New("portal").Funcs(funcs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("portal: parse templates: %w", err)
	}
	return t, nil
}

// paragraphs renders a text's lines as paragraphs, escaped.
func paragraphs(s string) template.HTML {
	var b strings.Builder
	for _, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		b.WriteString("<p>")
		b.WriteString(template.HTMLEscapeString(line))
		b.WriteString("</p>")
	}
	return template.HTML(b.String())
}

func (p *Portal) exec(name string, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return nil, fmt.Errorf("portal: render %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// page is what the layout needs.
type page struct {
	Title     string
	Crumbs    []Crumb
	Freshness string
	Body      template.HTML
	LiveURL   string
	FP        string
	StaticTag string
	Query     string // what the search box holds
}

func (p *Portal) layout(pg page) ([]byte, error) {
	pg.StaticTag = p.staticTag
	return p.exec("layout", pg)
}

func (p *Portal) mountPages(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", p.treePage)
	mux.HandleFunc("GET /j/{path...}", p.treePage)
	mux.HandleFunc("GET /c/{id}", p.communityPage)
	mux.HandleFunc("GET /c/{id}/s/{section}", p.sectionFragment)
	mux.HandleFunc("GET /c/{id}/live", p.live)
	mux.HandleFunc("GET /c/{id}/notices", p.noticesPage)
	mux.HandleFunc("GET /c/{id}/notices/{notice}", p.noticePage)
	mux.HandleFunc("GET /c/{id}/notices/{notice}/print", p.noticePrintPage)
	mux.HandleFunc("GET /c/{id}/payments", p.paymentsPage)
	mux.HandleFunc("GET /c/{id}/meetings", p.meetingsPage)
	mux.HandleFunc("GET /c/{id}/meetings/{meeting}", p.meetingPage)
	mux.HandleFunc("GET /c/{id}/elections/{election}", p.electionPage)
	mux.HandleFunc("GET /c/{id}/seals", p.sealsPage)
	mux.HandleFunc("GET /c/{id}/workers", p.workersPage)
	mux.HandleFunc("GET /c/{id}/inspections", p.caseworkPage)
	mux.HandleFunc("GET /c/{id}/evaluations", p.evaluationsPage)
	mux.HandleFunc("GET /c/{id}/assessment", p.standingPage)
	mux.HandleFunc("GET /ratings/{path...}", p.ratingTablePage)
	mux.HandleFunc("GET /bulletins/{path...}", p.bulletinsPage)
	mux.HandleFunc("GET /c/{id}/assets", p.assetsPage)
	mux.HandleFunc("GET /c/{id}/tasks", p.tasksPage)
	mux.HandleFunc("GET /worklist/{path...}", p.worklistPage)
	mux.HandleFunc("GET /c/{id}/elections/{election}/object", p.showForm(p.electionObjectionTarget))
	mux.HandleFunc("POST /c/{id}/elections/{election}/object", p.submitTo(p.electionObjectionTarget))
	mux.HandleFunc("GET /c/{id}/topics", p.topicsPage)
	mux.HandleFunc("GET /c/{id}/notices/{notice}/object", p.showForm(p.objectionTarget))
	mux.HandleFunc("POST /c/{id}/notices/{notice}/object", p.submitTo(p.objectionTarget))
	mux.HandleFunc("GET /c/{id}/topics/new", p.showForm(p.topicTarget))
	mux.HandleFunc("POST /c/{id}/topics/new", p.submitTo(p.topicTarget))
	mux.HandleFunc("GET /documents/{sha}", p.documentPage)
	mux.HandleFunc("GET /r", p.receiptPage)
	mux.HandleFunc("GET /r/{code}", p.receiptPage)
	mux.HandleFunc("GET /events/{position}", p.eventPage)
	mux.HandleFunc("GET /search", p.searchPage)
	mux.Handle("GET /static/", http.StripPrefix("/static/", p.static))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		p.errorPage(w, r, http.StatusNotFound, "页面不存在", "没有找到这个页面。请从首页按区县、街道、社区逐级查找。")
	})
}

// securityHeaders: the pages load nothing from elsewhere, run only the portal's own script, and cannot
// be framed.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// serveEntry writes a cached entry (gzipped when the client takes it), or 304 when the client has it. A
// stale entry (the database is unreachable) says so: a Warning header, no caching, and the note beside
// the page's freshness line.
func serveEntry(w http.ResponseWriter, r *http.Request, e entry, contentType string) {
	h := w.Header()
	securityHeaders(h)
	body, etag, gz := e.representation(r.Header.Get("Accept-Encoding"))
	if e.stale {
		body, etag, gz = markStale(e.body, contentType), strings.TrimSuffix(e.etag, `"`)+`-stale"`, false
		h.Set("Warning", `110 - "Response is Stale"`)
	}
	h.Set("ETag", etag)
	// Every request revalidates: the data changes at any time, and a 304 costs nothing.
	h.Set("Cache-Control", "no-cache")
	if e.stale {
		h.Set("Cache-Control", "no-store")
	}
	h.Set("Vary", "Accept-Encoding")
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", contentType)
	if gz {
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// freshnessMark is where a page's freshness line starts (templates/layout.html).
var freshnessMark = []byte(`<p class="fresh" id="freshness">`)

// markStale puts the stale note at the start of an HTML page's freshness line.
func markStale(body []byte, contentType string) []byte {
	if contentType != htmlType {
		return body
	}
	i := bytes.Index(body, freshnessMark)
	if i < 0 {
		return body
	}
	i += len(freshnessMark)
	out := make([]byte, 0, len(body)+200)
	out = append(out, body[:i]...)
	out = append(out, `<strong class="stale">`+staleNote+`</strong> `...)
	return append(out, body[i:]...)
}

func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		t = strings.TrimPrefix(t, "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

const htmlType = "text/html; charset=utf-8"

func (p *Portal) errorPage(w http.ResponseWriter, r *http.Request, status int, heading, msg string) {
	p.uncached(w, status, page{Title: heading}, "error", map[string]string{"Heading": heading, "Message": msg})
}

// uncached renders the template name with data into the layout of pg and sends it with status, never
// cached (an error, a form with its one-time key, a receipt).
func (p *Portal) uncached(w http.ResponseWriter, status int, pg page, name string, data any) {
	s := p.w.snapshot()
	body, err := p.exec(name, data)
	if err == nil {
		pg.Freshness, pg.Body = s.FreshnessText(), template.HTML(body)
		body, err = p.layout(pg)
	}
	h := w.Header()
	securityHeaders(h)
	h.Set("Cache-Control", "no-store")
	if err != nil {
		p.log.Error("portal: render", "template", name, "error", err.Error())
		http.Error(w, pg.Title, http.StatusInternalServerError)
		return
	}
	h.Set("Content-Type", htmlType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// fail answers a failed read: 404 for what does not exist, else 500 (the cause goes to the log only).
func (p *Portal) fail(w http.ResponseWriter, r *http.Request, err error) {
	if notFound(err) {
		p.errorPage(w, r, http.StatusNotFound, "没有找到", "没有找到这项记录。它可能尚未登记，或者链接有误。")
		return
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	p.queryFailed(r.Context(), err)
	if unavailable(err) {
		p.log.WarnContext(r.Context(), "portal: database unavailable, page not in memory", "path", r.URL.Path, "error", err.Error())
		w.Header().Set("Retry-After", "30")
		p.errorPage(w, r, http.StatusServiceUnavailable, "暂时无法显示", "数据库暂时无法访问，本页尚无保存的内容，请稍后刷新。")
		return
	}
	p.log.ErrorContext(r.Context(), "portal: page failed", "path", r.URL.Path, "error", err.Error())
	p.errorPage(w, r, http.StatusInternalServerError, "暂时无法显示", "服务器暂时无法读取数据，请稍后刷新。")
}

func (p *Portal) badRequest(w http.ResponseWriter, r *http.Request, msg string) {
	p.errorPage(w, r, http.StatusBadRequest, "请求有误", msg)
}

// ---- jurisdiction tree --------------------------------------------------------------------------------

func (p *Portal) treePage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	path := strings.Trim(r.PathValue("path"), "/")
	after := r.URL.Query().Get("after")
	s := p.snapshot(ctx)
	key := "tree|" + path + "|" + after
	e, err := p.cache.get(key, strconv.FormatUint(s.version, 10)+s.FreshnessText(), func() ([]byte, error) {
		l, err := p.loadChildren(ctx, &s, path, after, 500)
		// A level with one node only (one province, one city) is skipped: the page shows what is under it.
		for hops := 0; err == nil && after == "" && len(l.Nodes) == 1 && !l.Nodes[0].Community && hops < 4; hops++ {
			l, err = p.loadChildren(ctx, &s, l.Nodes[0].Path, "", 500)
		}
		if err != nil {
			return nil, err
		}
		heading := "按地区查找社区和村"
		if n := len(l.Breadcrumbs); n > 0 {
			heading = l.Breadcrumbs[n-1].Name
		}
		hasCommunities := false
		for _, n := range l.Nodes {
			hasCommunities = hasCommunities || n.Community
		}
		next := ""
		if l.Next != "" && len(l.Nodes) > 0 {
			next = withQuery(nodeHref(l.Parent), "after", l.Nodes[len(l.Nodes)-1].Path)
		}
		worklist, bulletins := "", ""
		if d := kernel.JurisdictionPath(l.Parent).Depth(); d == kernel.LevelDistrict {
			worklist, bulletins = "/worklist/"+l.Parent, "/bulletins/"+l.Parent
		} else if d == kernel.LevelStreet {
			bulletins = "/bulletins/" + l.Parent
		}
		body, err := p.exec("tree", map[string]any{"Heading": heading, "List": l, "HasCommunities": hasCommunities, "NextHref": next,
			"WorklistHref": worklist, "BulletinsHref": bulletins})
		if err != nil {
			return nil, err
		}
		crumbs := l.Breadcrumbs
		if l.Parent != "" {
			crumbs = append([]Crumb{{Name: "首页", Href: "/"}}, crumbs...)
		}
		return p.layout(page{Title: heading, Crumbs: crumbs, Freshness: s.FreshnessText(), Body: template.HTML(body)})
	})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	serveEntry(w, r, e, htmlType)
}

// ---- the community page ---------------------------------------------------------------------------------

// yearParam reads ?year=; 0 when absent (the latest year with figures).
func yearParam(r *http.Request) (int, bool) {
	v := r.URL.Query().Get("year")
	if v == "" {
		return 0, true
	}
	y, err := strconv.Atoi(v)
	if err != nil || y < 1949 || y > 9999 {
		return 0, false
	}
	return y, true
}

// sectionValidity is what a section's cached rendering depends on: its fingerprint and, for the board,
// the minute (whether a publicity window is open changes with the clock, not with the data).
func (p *Portal) sectionValidity(fp fingerprint, sec section) string {
	switch sec {
	case secNotices:
		return fp[sec] + "|" + p.cfg.Now().Truncate(time.Minute).Format(time.RFC3339)
	case secOverview: // alerts name expenditures and meetings
		return fp[sec] + "|" + fp[secFinances] + "|" + fp[secMeetings]
	case secFinances: // payments name their resolutions
		return fp[sec] + "|" + fp[secMeetings]
	}
	return fp[sec]
}

// communityState is what every handler of a community needs first: the snapshot and the fingerprint;
// ok is false when the answer was already written (404, 500).
func (p *Portal) communityState(w http.ResponseWriter, r *http.Request) (snapshot, fingerprint, bool) {
	ctx := r.Context()
	s := p.snapshot(ctx)
	fp, exists, err := p.fingerprint(ctx, &s, r.PathValue("id"))
	if err != nil {
		p.fail(w, r, err)
		return s, fp, false
	}
	if !exists {
		p.errorPage(w, r, http.StatusNotFound, "没有这个社区", "没有找到这个社区或村。请从首页按地区查找。")
		return s, fp, false
	}
	return s, fp, true
}

func (p *Portal) communityPage(w http.ResponseWriter, r *http.Request) {
	year, ok := yearParam(r)
	if !ok {
		p.badRequest(w, r, "年度参数不正确，应为四位数字，例如 ?year=2026。")
		return
	}
	s, fp, ok := p.communityState(w, r)
	if !ok {
		return
	}
	ctx, id := r.Context(), r.PathValue("id")
	fresh := s.FreshnessText()
	valid := fp.short() + "|" + fresh + "|" + p.sectionValidity(fp, secNotices)
	e, err := p.cache.get("page|"+id+"|"+strconv.Itoa(year), valid, func() ([]byte, error) {
		c, err := p.loadCommunity(ctx, &s, id)
		if err != nil {
			return nil, err
		}
		var body bytes.Buffer
		for sec := section(0); sec < nSections; sec++ {
			b, err := p.section(ctx, &s, fp, id, sec, year, &c)
			if err != nil {
				return nil, err
			}
			body.Write(b)
			body.WriteByte('\n')
		}
		inner, err := p.exec("community", map[string]any{"C": c, "Sections": template.HTML(body.String())})
		if err != nil {
			return nil, err
		}
		crumbs := append([]Crumb{{Name: "首页", Href: "/"}}, c.Breadcrumbs...)
		live := communityHref(id) + "/live"
		if year != 0 {
			live += "?year=" + strconv.Itoa(year)
		}
		return p.layout(page{Title: c.Name, Crumbs: crumbs, Freshness: fresh, Body: template.HTML(inner), LiveURL: live, FP: fp.short()})
	})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	serveEntry(w, r, e, htmlType)
}

// sectionFragment serves one section's HTML, for the live script to swap in.
func (p *Portal) sectionFragment(w http.ResponseWriter, r *http.Request) {
	sec, ok := sectionByName(r.PathValue("section"))
	year, okYear := yearParam(r)
	if !ok || !okYear {
		p.errorPage(w, r, http.StatusNotFound, "没有找到", "没有这个栏目。")
		return
	}
	s, fp, ok := p.communityState(w, r)
	if !ok {
		return
	}
	b, err := p.section(r.Context(), &s, fp, r.PathValue("id"), sec, year, nil)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	serveEntry(w, r, entry{body: b, etag: `"` + hashString("frag", r.URL.Path, strconv.Itoa(year), p.sectionValidity(fp, sec)) + `"`}, htmlType)
}

// section renders one section of a community's page, from the cache when its fingerprint is unchanged.
// c is the community when the caller has loaded it already.
func (p *Portal) section(ctx context.Context, s *snapshot, fp fingerprint, id string, sec section, year int, c *Community) ([]byte, error) {
	key := "sec|" + id + "|" + sectionNames[sec] + "|" + strconv.Itoa(year)
	valid := p.sectionValidity(fp, sec)
	if sec == secOverview {
		valid += "|" + strconv.FormatBool(s.alerts)
	}
	e, err := p.cache.get(key, valid, func() ([]byte, error) {
		switch sec {
		case secOverview:
			if c == nil {
				cc, err := p.loadCommunity(ctx, s, id)
				if err != nil {
					return nil, err
				}
				c = &cc
			}
			return p.exec("sec-overview", map[string]any{"C": c})
		case secNotices:
			n, err := p.loadNotices(ctx, id, cursor{}, pageLimit, noticeFilter{})
			if err != nil {
				return nil, err
			}
			return p.exec("sec-notices", map[string]any{"N": n, "MoreHref": withQuery(communityHref(id)+"/notices", "after", n.Next)})
		case secFinances:
			f, err := p.loadFinances(ctx, id, year)
			if err != nil {
				return nil, err
			}
			pay, err := p.loadPayments(ctx, id, f.FiscalYear, cursor{}, 20)
			if err != nil {
				return nil, err
			}
			return p.exec("sec-finances", map[string]any{"F": f, "CommunityID": id, "Chart": budgetChart(f),
				"P":            map[string]any{"ID": "pay-caption", "Caption": fmt.Sprintf("%d年度最近的付款（最新的在前）", f.FiscalYear), "Payments": pay.Payments, "Next": pay.Next},
				"PaymentsHref": withQuery(communityHref(id)+"/payments", "year", strconv.Itoa(f.FiscalYear))})
		case secElections:
			el, err := p.loadElections(ctx, id)
			if err != nil {
				return nil, err
			}
			return p.exec("sec-elections", map[string]any{"E": el})
		case secMeetings:
			m, err := p.loadMeetings(ctx, id, cursor{}, pageLimit, true)
			if err != nil {
				return nil, err
			}
			return p.exec("sec-meetings", map[string]any{"M": m,
				"MT":       map[string]any{"ID": "mtg-caption", "Caption": "最近的会议及到会人数", "Meetings": m.Meetings},
				"VT":       map[string]any{"ID": "vote-caption", "Caption": "最近会议的议案表决票数", "Votes": m.Votes},
				"MoreHref": withQuery(communityHref(id)+"/meetings", "after", m.Next)})
		case secTopics:
			t, err := p.loadTopics(ctx, id, cursor{}, pageLimit)
			if err != nil {
				return nil, err
			}
			return p.exec("sec-topics", map[string]any{"T": t,
				"TT":       map[string]any{"ID": "topic-caption", "Caption": "最近征集的议题及所处步骤", "Topics": t.Topics},
				"MoreHref": withQuery(communityHref(id)+"/topics", "after", t.Next)})
		}
		return nil, fmt.Errorf("portal: no section %d", sec)
	})
	return e.body, err
}

// ---- list and detail pages of a community --------------------------------------------------------------

// listPage serves a cached list or detail page of a community whose content depends on section sec.
func (p *Portal) listPage(w http.ResponseWriter, r *http.Request, sec section, build func(ctx context.Context, s *snapshot, name string) (title string, body []byte, err error)) {
	s, fp, ok := p.communityState(w, r)
	if !ok {
		return
	}
	ctx, id := r.Context(), r.PathValue("id")
	fresh := s.FreshnessText()
	valid := p.sectionValidity(fp, sec) + "|" + fresh
	if sec == secNotices {
		valid += "|" + p.logMark(ctx, &s) // a notice's versions say whether a signed checkpoint includes them
	}
	e, err := p.cache.get("list|"+p.publicBase(r)+r.URL.Path+"?"+r.URL.RawQuery, valid, func() ([]byte, error) {
		c, err := p.loadCommunityLite(ctx, id)
		if err != nil {
			return nil, err
		}
		title, body, err := build(ctx, &s, c.Name)
		if err != nil {
			return nil, err
		}
		crumbs := append([]Crumb{{Name: "首页", Href: "/"}}, c.Breadcrumbs...)
		return p.layout(page{Title: title + " · " + c.Name, Crumbs: crumbs, Freshness: fresh, Body: template.HTML(body)})
	})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	serveEntry(w, r, e, htmlType)
}

// loadCommunityLite is a community's name and breadcrumbs, for the pages under it.
func (p *Portal) loadCommunityLite(ctx context.Context, id string) (Community, error) {
	c, err := p.loadCommunity(ctx, &snapshot{}, id)
	return c, err
}

func (p *Portal) afterParam(w http.ResponseWriter, r *http.Request) (cursor, bool) {
	c, err := parseCursor(r.URL.Query().Get("after"))
	if err != nil {
		p.badRequest(w, r, "翻页参数 after 不正确：请使用页面上的“下一页”链接。")
		return cursor{}, false
	}
	return c, true
}

func (p *Portal) listBody(heading, id, name, next string, inner []byte) ([]byte, error) {
	return p.exec("list-page", map[string]any{"Heading": heading, "CommunityID": id, "CommunityName": name,
		"Body": template.HTML(inner), "NextHref": next})
}

func (p *Portal) noticesPage(w http.ResponseWriter, r *http.Request) {
	after, ok := p.afterParam(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	f, pr := noticeFilterOf(q.Get("category"), q.Get("year"))
	if pr != nil {
		p.badRequest(w, r, pr.Detail)
		return
	}
	p.listPage(w, r, secNotices, func(ctx context.Context, s *snapshot, name string) (string, []byte, error) {
		id := r.PathValue("id")
		n, err := p.loadNotices(ctx, id, after, listLimit, f)
		if err != nil {
			return "", nil, err
		}
		inner, err := p.exec("notices-filtered", map[string]any{"L": n, "Categories": noticeCategoryList, "Action": communityHref(id) + "/notices"})
		if err != nil {
			return "", nil, err
		}
		next := ""
		if n.Next != "" {
			next = withQuery(communityHref(id)+"/notices", "after", n.Next, "category", f.Category, "year", yearText(f.Year))
		}
		body, err := p.listBody("全部公开事项", id, name, next, inner)
		return "公开事项", body, err
	})
}

func (p *Portal) noticePage(w http.ResponseWriter, r *http.Request) {
	p.listPage(w, r, secNotices, func(ctx context.Context, s *snapshot, name string) (string, []byte, error) {
		h, err := p.loadNoticeHistory(ctx, s, r.PathValue("id"), r.PathValue("notice"))
		if err != nil {
			return "", nil, err
		}
		body, err := p.exec("notice-page", map[string]any{"H": h})
		return h.Notice.Title, body, err
	})
}

// noticePrintPage is a notice's print view (A4): its current content, the place of its current version
// in the transparency log (leaf index and event hash, for ledger log verify-notice and the browser
// verifier), and a QR code of the notice's page, so the paper on the board and the portal are one (码上见).
func (p *Portal) noticePrintPage(w http.ResponseWriter, r *http.Request) {
	online := p.publicBase(r) + communityHref(r.PathValue("id")) + "/notices/" + url.PathEscape(r.PathValue("notice"))
	p.listPage(w, r, secNotices, func(ctx context.Context, s *snapshot, name string) (string, []byte, error) {
		h, err := p.loadNoticeHistory(ctx, s, r.PathValue("id"), r.PathValue("notice"))
		if err != nil {
			return "", nil, err
		}
		qr, err := qrDataURL(online)
		if err != nil {
			return "", nil, err
		}
		var cur *NoticeVersion
		for i := range h.Versions {
			if h.Versions[i].Version == h.Notice.Version {
				cur = &h.Versions[i]
			}
		}
		body, err := p.exec("notice-print", map[string]any{"H": h, "Current": cur, "QR": qr, "URL": online})
		return h.Notice.Title + "（打印）", body, err
	})
}

// publicBase is the portal's address as the public reaches it: Config.PublicURL, else the request's
// scheme and host.
func (p *Portal) publicBase(r *http.Request) string {
	if p.cfg.PublicURL != "" {
		return strings.TrimRight(p.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (p *Portal) paymentsPage(w http.ResponseWriter, r *http.Request) {
	after, ok := p.afterParam(w, r)
	year, okYear := yearParam(r)
	if !ok {
		return
	}
	if !okYear {
		p.badRequest(w, r, "年度参数不正确，应为四位数字，例如 ?year=2026。")
		return
	}
	p.listPage(w, r, secFinances, func(ctx context.Context, s *snapshot, name string) (string, []byte, error) {
		id := r.PathValue("id")
		pay, err := p.loadPayments(ctx, id, year, after, listLimit)
		if err != nil {
			return "", nil, err
		}
		heading := "全部付款记录"
		if year != 0 {
			heading = fmt.Sprintf("%d年度付款记录", year)
		}
		inner, err := p.exec("payments", map[string]any{"ID": "pay-caption", "Caption": heading + "（最新的在前；个人收款人只显示姓氏）", "Payments": pay.Payments})
		if err != nil {
			return "", nil, err
		}
		next := ""
		if pay.Next != "" {
			y := ""
			if year != 0 {
				y = strconv.Itoa(year)
			}
			next = withQuery(communityHref(id)+"/payments", "year", y, "after", pay.Next)
		}
		body, err := p.listBody(heading, id, name, next, inner)
		return heading, body, err
	})
}

func (p *Portal) meetingsPage(w http.ResponseWriter, r *http.Request) {
	after, ok := p.afterParam(w, r)
	if !ok {
		return
	}
	p.listPage(w, r, secMeetings, func(ctx context.Context, s *snapshot, name string) (string, []byte, error) {
		id := r.PathValue("id")
		m, err := p.loadMeetings(ctx, id, after, listLimit, false)
		if err != nil {
			return "", nil, err
		}
		inner, err := p.exec("meetings-table", map[string]any{"ID": "mtg-caption", "Caption": "会议记录及到会人数", "Meetings": m.Meetings})
		if err != nil {
			return "", nil, err
		}
		next := ""
		if m.Next != "" {
			next = withQuery(communityHref(id)+"/meetings", "after", m.Next)
		}
		body, err := p.listBody("全部会议", id, name, next, inner)
		return "会议", body, err
	})
}

func (p *Portal) meetingPage(w http.ResponseWriter, r *http.Request) {
	p.listPage(w, r, secMeetings, func(ctx context.Context, s *snapshot, name string) (string, []byte, error) {
		d, err := p.loadMeeting(ctx, r.PathValue("id"), r.PathValue("meeting"))
		if err != nil {
			return "", nil, err
		}
		body, err := p.exec("meeting-page", map[string]any{"D": d,
			"VT": map[string]any{"ID": "motion-caption", "Caption": "议案及表决票数", "Votes": d.Motions}})
		return d.Meeting.Title, body, err
	})
}

func (p *Portal) electionPage(w http.ResponseWriter, r *http.Request) {
	p.listPage(w, r, secElections, func(ctx context.Context, s *snapshot, name string) (string, []byte, error) {
		d, err := p.loadElection(ctx, r.PathValue("id"), r.PathValue("election"))
		if err != nil {
			return "", nil, err
		}
		body, err := p.exec("election-page", map[string]any{"D": d})
		return d.Election.Term + "届换届选举", body, err
	})
}

func (p *Portal) topicsPage(w http.ResponseWriter, r *http.Request) {
	after, ok := p.afterParam(w, r)
	if !ok {
		return
	}
	p.listPage(w, r, secTopics, func(ctx context.Context, s *snapshot, name string) (string, []byte, error) {
		id := r.PathValue("id")
		t, err := p.loadTopics(ctx, id, after, listLimit)
		if err != nil {
			return "", nil, err
		}
		inner, err := p.exec("topics-table", map[string]any{"ID": "topic-caption", "Caption": "议题及所处步骤", "Topics": t.Topics})
		if err != nil {
			return "", nil, err
		}
		next := ""
		if t.Next != "" {
			next = withQuery(communityHref(id)+"/topics", "after", t.Next)
		}
		inner = append([]byte(`<p class="object-link"><a href="`+template.HTMLEscapeString(communityHref(id))+`/topics/new">群众说事：提出议题</a>（无需登录；凭回执号查看办理进展）</p>`), inner...)
		body, err := p.listBody("全部议题", id, name, next, inner)
		return "议事协商", body, err
	})
}

// ---- events ---------------------------------------------------------------------------------------------

func parsePosition(s string) (uint64, bool) {
	n, err := strconv.ParseUint(s, 10, 63)
	return n, err == nil && n > 0
}

func (p *Portal) eventPage(w http.ResponseWriter, r *http.Request) {
	pos, ok := parsePosition(r.PathValue("position"))
	if !ok {
		p.errorPage(w, r, http.StatusNotFound, "没有这个事件", "事件位置应为正整数。")
		return
	}
	ctx := r.Context()
	s := p.snapshot(ctx)
	fresh := s.FreshnessText()
	// An event never changes: its page depends only on the freshness line (and the community's name).
	e, err := p.cache.get("event|"+strconv.FormatUint(pos, 10), fresh+"|"+p.logMark(ctx, &s), func() ([]byte, error) {
		l, err := p.loadEvents(ctx, &s, pos)
		if err != nil {
			return nil, err
		}
		body, err := p.exec("event-page", map[string]any{"L": l})
		if err != nil {
			return nil, err
		}
		return p.layout(page{Title: "事件 #" + strconv.FormatUint(pos, 10), Crumbs: []Crumb{{Name: "首页", Href: "/"}},
			Freshness: fresh, Body: template.HTML(body)})
	})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	serveEntry(w, r, e, htmlType)
}

// ---- static files -----------------------------------------------------------------------------------------

func staticTag(fsys fs.FS) string {
	h := sha256.New()
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err == nil {
			h.Write([]byte(p))
			h.Write(b)
		}
		return err
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// staticHandler serves the CSS and script from memory; URLs carry the content's tag, so they may be
// cached for a year.
func staticHandler(fsys fs.FS) http.Handler {
	files := map[string][]byte{}
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files[p], err = fs.ReadFile(fsys, p)
		}
		return err
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", mime.TypeByExtension(path.Ext(r.URL.Path)))
		// Linked with ?v=<tag> by the pages, a file is cached for a year; the verifier page, linked by
		// name, only for minutes, so a new release reaches it.
		if r.URL.Query().Get("v") != "" {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "public, max-age=300")
		}
		h.Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(b)
	})
}
