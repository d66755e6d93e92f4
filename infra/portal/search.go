package portal

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/grassroots-ledger/ledger/infra/httpapi"
	"github.com/grassroots-ledger/ledger/projections/board"
	"github.com/grassroots-ledger/ledger/projections/directory"
)

// Finding a place — a province, city, district, street or community — by a part of its name, and the
// notices on the boards by words of their title, from the
// search box on every page (a plain GET form: it works without JavaScript) or GET /api/v1/public/search.

// SearchHit is a place whose name holds the words searched for.
type SearchHit struct {
	Name      string `json:"name"`
	LevelName string `json:"level_name"`
	Where     string `json:"where" doc:"The places above it, from the top (浙江省 温州市 龙湾区 永中街道)"`
	Community bool   `json:"community"`
	Path      string `json:"path"`
	Href      string `json:"href" doc:"The HTML page"`
	APIHref   string `json:"api_href" doc:"The JSON of the place"`
}

// NoticeHit is a notice on a board now whose title holds the words searched for.
type NoticeHit struct {
	Title        string    `json:"title"`
	Community    string    `json:"community" doc:"The community's name"`
	CategoryName string    `json:"category_name"`
	PublishedAt  time.Time `json:"published_at"`
	Href         string    `json:"href" doc:"The HTML page"`
	APIHref      string    `json:"api_href" doc:"The JSON of the notice"`
}

// SearchResults are the places found for Query, best first (exact names, then the higher levels), and
// the notices whose title holds it, newest first.
type SearchResults struct {
	Query   string      `json:"query"`
	Hits    []SearchHit `json:"hits"`
	Notices []NoticeHit `json:"notices"`
}

// searchLimit is the most places a search shows.
const searchLimit = 50

// maxQueryRunes bounds what is searched for.
const maxQueryRunes = 32

type searchIn struct {
	ConditionalParams
	Q string `query:"q" doc:"A part of the place's name, e.g. 两个汉字 (1–32 characters)"`
}

// searchText checks q: 1–32 characters once trimmed.
func searchText(q string) (string, error) {
	q = strings.TrimSpace(q)
	if q == "" || utf8.RuneCountInString(q) > maxQueryRunes || !utf8.ValidString(q) || strings.ContainsRune(q, 0) {
		return "", httpapi.NewProblem(http.StatusBadRequest, httpapi.CodeInvalidValue,
			"请输入要查找的地名的一部分（1至"+strconv.Itoa(maxQueryRunes)+"个字）", "q")
	}
	return q, nil
}

// loadSearch finds the places named like q, each with the names of the places above it.
func (p *Portal) loadSearch(ctx context.Context, q string) (SearchResults, error) {
	ns, err := directory.Search(ctx, p.db, q, searchLimit)
	if err != nil {
		return SearchResults{}, err
	}
	var above []string
	for _, n := range ns {
		segs := strings.Split(n.Path, "/")
		for i := 1; i < len(segs); i++ {
			above = append(above, strings.Join(segs[:i], "/"))
		}
	}
	notices, err := board.SearchNotices(ctx, p.db, q, searchLimit)
	if err != nil {
		return SearchResults{}, err
	}
	for _, n := range notices {
		above = append(above, n.Jurisdiction)
	}
	names, err := directory.Names(ctx, p.db, above)
	if err != nil {
		return SearchResults{}, err
	}
	out := SearchResults{Query: q, Hits: make([]SearchHit, 0, len(ns)), Notices: make([]NoticeHit, 0, len(notices))}
	for _, n := range notices {
		out.Notices = append(out.Notices, NoticeHit{Title: n.Current.Title, Community: names[n.Jurisdiction],
			CategoryName: label(noticeCategories, string(n.Category)), PublishedAt: local(n.PublishedAt),
			Href:    communityHref(n.CommunityID) + "/notices/" + url.PathEscape(n.NoticeID),
			APIHref: communityAPIHref(n.CommunityID) + "/notices/" + url.PathEscape(n.NoticeID)})
	}
	for _, n := range ns {
		var where []string
		segs := strings.Split(n.Path, "/")
		for i := 1; i < len(segs); i++ {
			if name, ok := names[strings.Join(segs[:i], "/")]; ok {
				where = append(where, name)
			}
		}
		h := SearchHit{Name: n.Name, LevelName: levelNames[n.Level], Where: strings.Join(where, " "), Community: n.Community,
			Path: n.Path, Href: nodeHref(n.Path), APIHref: withQuery(apiPrefix+"/jurisdictions", "parent", n.Path)}
		if n.Community { // a community's id is the last segment of its path
			h.Href, h.APIHref = communityHref(n.Code), communityAPIHref(n.Code)
		}
		out.Hits = append(out.Hits, h)
	}
	return out, nil
}

// searchPage answers GET /search?q=: the places found, or the empty form.
func (p *Portal) searchPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s := p.snapshot(ctx)
	raw := r.URL.Query().Get("q")
	q := ""
	if strings.TrimSpace(raw) != "" {
		var err error
		if q, err = searchText(raw); err != nil {
			p.badRequest(w, r, "请输入要查找的地名的一部分（1至"+strconv.Itoa(maxQueryRunes)+"个字）。")
			return
		}
	}
	e, err := p.cache.get("search|"+q, strconv.FormatUint(s.version, 10)+s.FreshnessText(), func() ([]byte, error) {
		res := SearchResults{Query: q}
		if q != "" {
			var err error
			if res, err = p.loadSearch(ctx, q); err != nil {
				return nil, err
			}
		}
		body, err := p.exec("search", res)
		if err != nil {
			return nil, err
		}
		title := "查找社区和村"
		if q != "" {
			title = "查找“" + q + "”"
		}
		return p.layout(page{Title: title, Crumbs: []Crumb{{Name: "首页", Href: "/"}}, Freshness: s.FreshnessText(), Body: template.HTML(body), Query: q})
	})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	serveEntry(w, r, e, htmlType)
}
