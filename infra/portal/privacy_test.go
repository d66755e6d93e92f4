package portal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/workload"
)

// personalData is what the demo district's events carry in their "personal" objects — names, identity
// numbers, phones and home addresses of fictitious residents — and the public strings of the same events
// (place and organisation names, purposes…), against which a short name that is also part of a public
// word (the name 金海 in 金海社区) is not counted as a leak.
type personalData struct {
	names, ids, phones, addresses map[string]bool
	public                        []string
}

func collectPersonalData(t *testing.T, d *district) personalData {
	t.Helper()
	pd := personalData{names: map[string]bool{}, ids: map[string]bool{}, phones: map[string]bool{}, addresses: map[string]bool{}}
	publicSet := map[string]bool{}
	var walk func(v any, personal bool)
	walk = func(v any, personal bool) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				inner := personal || k == "personal"
				if inner {
					if m, ok := e.(map[string]any); ok {
						pd.take(m)
					}
					if l, ok := e.([]any); ok {
						for _, it := range l {
							if m, ok := it.(map[string]any); ok {
								pd.take(m)
							}
						}
					}
				}
				walk(e, inner)
			}
		case []any:
			for _, e := range x {
				walk(e, personal)
			}
		case string:
			if !personal && utf8.RuneCountInString(x) >= 2 {
				publicSet[x] = true
			}
		}
	}
	err := d.Store.ReadAll(context.Background(), eventlog.Start, 0, func(r eventlog.Recorded) error {
		var v any
		if err := json.Unmarshal(r.Data, &v); err != nil {
			return fmt.Errorf("%s: %w", r.Type, err)
		}
		walk(v, false)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for s := range publicSet {
		pd.public = append(pd.public, s)
	}
	if len(pd.names) < 50 || len(pd.ids) < 50 || len(pd.phones) < 50 || len(pd.addresses) < 20 {
		t.Fatalf("the demo district carries too little personal data to test with: %d names, %d ids, %d phones, %d addresses",
			len(pd.names), len(pd.ids), len(pd.phones), len(pd.addresses))
	}
	return pd
}

func (pd *personalData) take(m map[string]any) {
	add := func(set map[string]bool, k string) {
		if s, ok := m[k].(string); ok && s != "" {
			set[s] = true
		}
	}
	add(pd.names, "name")
	add(pd.ids, "national_id")
	add(pd.phones, "phone")
	add(pd.addresses, "address")
}

var (
	// Hex tokens (event ids, SHA-256 hashes) are stripped before scanning: derived from content, they
	// cannot carry a phone number, yet a run of their digits can look like one.
	hexToken   = regexp.MustCompile(`(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b|\b[0-9a-f]{32,}\b`)
	idPattern  = regexp.MustCompile(`(?:^|\D)(\d{17}[\dXx])(?:\D|$)`)
	phoneShape = regexp.MustCompile(`(?:^|\D)(1[3-9]\d{9})(?:\D|$)`)
)

// leaks lists what of the personal data, or anything shaped like an identity or mobile number, body
// contains.
func (pd *personalData) leaks(body []byte) []string {
	s := hexToken.ReplaceAllString(string(body), "~")
	var out []string
	for _, m := range idPattern.FindAllStringSubmatch(s, -1) {
		if workload.ValidNationalID(strings.ToUpper(m[1])) {
			out = append(out, "identity number "+m[1])
		}
	}
	for _, m := range phoneShape.FindAllStringSubmatch(s, -1) {
		out = append(out, "mobile number "+m[1])
	}
	for set, what := range map[*map[string]bool]string{&pd.ids: "identity number", &pd.phones: "phone", &pd.addresses: "address"} {
		for v := range *set {
			if strings.Contains(s, v) {
				out = append(out, what+" "+v)
			}
		}
	}
	for n := range pd.names {
		i := strings.Index(s, n)
		if i < 0 {
			continue
		}
		// A name that is part of a public word of the events (a place, an organisation) is that word.
		public := false
		for _, p := range pd.public {
			if strings.Contains(p, n) && strings.Contains(s, p) {
				public = true
				break
			}
		}
		if !public {
			lo, hi := max(0, i-40), min(len(s), i+len(n)+40)
			out = append(out, fmt.Sprintf("name %s in …%s…", n, s[lo:hi]))
		}
	}
	return out
}

// TestNoPersonalDataInPublicResponses crawls every page and every JSON answer reachable from the root
// of a demo district — the jurisdiction tree, every community page and section, every notice, meeting,
// election, list page and event page, and the JSON API from its root — and scans each for the names,
// identity numbers, phones and addresses the generator put into the events' personal objects, and for
// anything shaped like an identity number (with a valid check character) or a mobile number.
func TestNoPersonalDataInPublicResponses(t *testing.T) {
	d := sharedDistrict(t)
	pd := collectPersonalData(t, d)
	// The scanner finds what it looks for: one of each kind planted in a page. A name is planted only if no
	// public word contains it (a candidate's public name is the same name, and public by design).
	for _, set := range []map[string]bool{pd.names, pd.ids, pd.phones, pd.addresses} {
		planted := false
		for v := range set {
			if slices.ContainsFunc(pd.public, func(p string) bool { return strings.Contains(p, v) }) {
				continue
			}
			if len(pd.leaks([]byte("<p>"+v+"</p>"))) == 0 && utf8.RuneCountInString(v) > 2 {
				t.Fatalf("the scanner misses %q", v)
			}
			planted = true
			break
		}
		if !planted && len(set) > 0 {
			t.Fatal("every value of a kind of personal data is also a public word: the scanner cannot be checked")
		}
	}

	seeds := []string{"/", "/api/v1/public/jurisdictions", "/api/v1/public/freshness"}
	for _, di := range d.Stats.Districts {
		for _, st := range di.Streets {
			for _, c := range st.Communities {
				for _, s := range []string{"overview", "notices", "finances", "elections", "meetings", "topics"} {
					seeds = append(seeds, "/c/"+string(c.ID)+"/s/"+s)
				}
				seeds = append(seeds, "/c/"+string(c.ID)+"/seals", "/api/v1/public/communities/"+string(c.ID)+"/seals",
					"/c/"+string(c.ID)+"/assets", "/api/v1/public/communities/"+string(c.ID)+"/assets",
					"/c/"+string(c.ID)+"/tasks", "/api/v1/public/communities/"+string(c.ID)+"/tasks",
					"/c/"+string(c.ID)+"/assessment", "/api/v1/public/communities/"+string(c.ID)+"/assessment")
			}
			seeds = append(seeds, "/ratings/"+string(st.Path), "/api/v1/public/ratings?jurisdiction="+string(st.Path))
		}
	}
	c := &crawler{d: d, seen: map[string]bool{}}
	var a11y []string
	pages := c.crawl(seeds, func(path string, body []byte) {
		if ls := pd.leaks(body); len(ls) > 0 {
			c.mu.Lock()
			c.leaks = append(c.leaks, fmt.Sprintf("%s: %s", path, strings.Join(ls, "; ")))
			c.mu.Unlock()
		}
		if problems := accessibility(path, body); len(problems) > 0 {
			c.mu.Lock()
			a11y = append(a11y, path+": "+strings.Join(problems, "; "))
			c.mu.Unlock()
		}
	})
	sort.Strings(a11y)
	for i, p := range a11y {
		if i == 10 {
			t.Errorf("… and %d more pages with accessibility problems", len(a11y)-10)
			break
		}
		t.Errorf("accessibility: %s", p)
	}
	sort.Strings(c.leaks)
	for i, l := range c.leaks {
		if i == 20 {
			t.Errorf("… and %d more", len(c.leaks)-20)
			break
		}
		t.Errorf("personal data in a public response: %s", l)
	}
	if len(c.errors) > 0 {
		t.Errorf("%d responses were not 200, e.g. %s", len(c.errors), c.errors[0])
	}
	kinds := map[string]int{}
	for p := range c.seen {
		kinds[kindOf(p)]++
	}
	t.Logf("scanned %d responses (%v) for %d names, %d identity numbers, %d phones, %d addresses", pages, kinds,
		len(pd.names), len(pd.ids), len(pd.phones), len(pd.addresses))
	for _, k := range []string{"community", "notice", "meeting", "election", "event", "api", "payments"} {
		if kinds[k] == 0 {
			t.Errorf("the crawl reached no %s page", k)
		}
	}
}

func kindOf(p string) string {
	switch {
	case strings.HasPrefix(p, "/api/"):
		return "api"
	case strings.HasPrefix(p, "/events/"):
		return "event"
	case strings.Contains(p, "/notices/"):
		return "notice"
	case strings.Contains(p, "/meetings/"):
		return "meeting"
	case strings.Contains(p, "/elections/"):
		return "election"
	case strings.Contains(p, "/payments"):
		return "payments"
	case strings.HasPrefix(p, "/c/") && strings.Count(p, "/") == 2:
		return "community"
	case strings.HasPrefix(p, "/j/") || p == "/":
		return "tree"
	}
	return "other"
}

// crawler follows every same-site link of HTML (href, src) and JSON (any string that is a path).
type crawler struct {
	d      *district
	mu     sync.Mutex
	seen   map[string]bool
	leaks  []string
	errors []string
}

var hrefAttr = regexp.MustCompile(`(?:href|src)="([^"]+)"`)

func (c *crawler) crawl(seeds []string, check func(path string, body []byte)) int {
	queue := make(chan string, 1<<20)
	var pending sync.WaitGroup
	add := func(p string) {
		u, err := url.Parse(p)
		if err != nil || u.IsAbs() || !strings.HasPrefix(u.Path, "/") || strings.HasSuffix(u.Path, "/live") {
			return
		}
		u.Fragment = ""
		p = u.String()
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.seen[p] {
			return
		}
		c.seen[p] = true
		pending.Add(1)
		queue <- p
	}
	for _, s := range seeds {
		add(s)
	}
	n := 0
	var workers sync.WaitGroup
	for range 8 {
		workers.Go(func() {
			for p := range queue {
				status, h, body := c.fetch(p)
				c.mu.Lock()
				n++
				// A document the demo names but never uploaded answers 404 by design (its page says so).
				if status != http.StatusOK && (status != http.StatusNotFound || !strings.HasPrefix(p, "/documents/")) {
					c.errors = append(c.errors, fmt.Sprintf("%s: %d", p, status))
				}
				c.mu.Unlock()
				check(p, body)
				ct := h.Get("Content-Type")
				switch {
				case strings.HasPrefix(ct, "text/html"):
					for _, m := range hrefAttr.FindAllSubmatch(body, -1) {
						add(strings.ReplaceAll(string(m[1]), "&amp;", "&"))
					}
				case strings.HasPrefix(ct, "application/json") && !strings.HasSuffix(p, "openapi.json"):
					var v any
					if json.Unmarshal(body, &v) == nil {
						forStrings(v, func(s string) {
							if strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//") {
								add(s)
							}
						})
					}
				}
				pending.Done()
			}
		})
	}
	pending.Wait()
	close(queue)
	workers.Wait()
	return n
}

func (c *crawler) fetch(p string) (int, http.Header, []byte) {
	resp, err := http.Get(c.d.URL + p)
	if err != nil {
		return 0, http.Header{}, nil
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, resp.Header, b.Bytes()
}

func forStrings(v any, fn func(string)) {
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			forStrings(e, fn)
		}
	case []any:
		for _, e := range x {
			forStrings(e, fn)
		}
	case string:
		fn(x)
	}
}

var (
	tableRe   = regexp.MustCompile(`(?s)<table[^>]*>\s*(<caption)?`)
	h1Re      = regexp.MustCompile(`<h1[\s>]`)
	svgImgRe  = regexp.MustCompile(`(?s)<svg[^>]*role="img"[^>]*>\s*<title`)
	svgRe     = regexp.MustCompile(`<svg`)
	thScopeRe = regexp.MustCompile(`<th(\s[^>]*)?>`)
)

// accessibility checks what every full page must have: the language, one h1, a caption for every table,
// a scope on every header cell, a title first in every chart; sections (fragments) are checked for
// tables and charts only.
func accessibility(path string, body []byte) []string {
	s := string(body)
	if !strings.Contains(s, "<table") && !strings.Contains(s, "<html") && !strings.Contains(s, "<svg") {
		return nil
	}
	var out []string
	if strings.Contains(s, "<html") {
		if !strings.Contains(s, `<html lang="zh-CN">`) {
			out = append(out, `no <html lang="zh-CN">`)
		}
		if n := len(h1Re.FindAllString(s, -1)); n != 1 {
			out = append(out, fmt.Sprintf("%d h1 headings", n))
		}
		if !strings.Contains(s, "数据更新至") && !strings.Contains(s, "暂无数据") {
			out = append(out, "no freshness line")
		}
	}
	for _, m := range tableRe.FindAllStringSubmatch(s, -1) {
		if m[1] == "" {
			out = append(out, "a table without a caption")
			break
		}
	}
	for _, m := range thScopeRe.FindAllStringSubmatch(s, -1) {
		if !strings.Contains(m[1], "scope=") {
			out = append(out, "a header cell without scope")
			break
		}
	}
	if len(svgRe.FindAllString(s, -1)) != len(svgImgRe.FindAllString(s, -1)) {
		out = append(out, "an svg without role=img and a title")
	}
	return out
}
