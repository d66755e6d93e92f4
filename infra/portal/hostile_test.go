package portal_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/grassroots-ledger/ledger/infra/httpapi"
)

// hostileValues are what a crawler, a mistyped link or an attacker puts where an id, a year or a page
// should be.
var hostileValues = []string{
	"", "0", "-1", "99999999999999999999999", "9223372036854775807", "-9223372036854775808", "1e9", "1.5", "0x10",
	"abc", "\x00", "%zz", "%", "..", "../../etc/passwd", "\\", "/", "33//", "' OR 1=1--", "<script>alert(1)</script>",
	"2026-13-45", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "年", strings.Repeat("🙂", 60), strings.Repeat("a", 5000),
	"330303002007\n", "null", "[]", "{}",
}

// hostileParams are the query parameters the portal's pages and API read, and some they do not.
var hostileParams = []string{"after", "year", "limit", "category", "parent", "jurisdiction", "q", "page", "from", "to",
	"position", "tree_size", "under", "at", "as_of"}

// TestHostileRequestsGetAClearAnswer sends every route — each page registered in pages.go and each
// operation of the OpenAPI document — hostile path values, query parameters and headers, and fails on any
// server error, or on an API refusal that is not a problem+json. The routes are read from the source and the
// document, so a new route is covered without editing this test. Resident forms and the public POST
// operations get malformed bodies, none of which may be accepted.
func TestHostileRequestsGetAClearAnswer(t *testing.T) {
	d := sharedDistrict(t)
	community := string(d.community().ID)
	// Served as `ledger serve` serves the mux: behind the edge every request passes first.
	srv := httptest.NewServer(httpapi.Edge(d.API.Mux, httpapi.EdgeConfig{Logger: quiet()}))
	defer srv.Close()

	src, err := os.ReadFile(filepath.Join(moduleRoot(t), "infra", "portal", "pages.go"))
	if err != nil {
		t.Fatal(err)
	}
	type route struct{ method, pattern string }
	var routes []route
	for _, m := range regexp.MustCompile(`mux\.HandleFunc\("(GET|POST) (/[^"]*)"`).FindAllSubmatch(src, -1) {
		routes = append(routes, route{string(m[1]), strings.TrimSuffix(string(m[2]), "{$}")})
	}
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	d.getJSON("/api/v1/openapi.json", &doc)
	for p, ops := range doc.Paths {
		for m := range ops {
			routes = append(routes, route{strings.ToUpper(m), p})
		}
	}
	slices.SortFunc(routes, func(a, b route) int { return strings.Compare(a.method+a.pattern, b.method+b.pattern) })
	if len(routes) < 60 {
		t.Fatalf("read %d routes from pages.go and the OpenAPI document; the patterns no longer match", len(routes))
	}

	rng := rand.New(rand.NewPCG(7, 26))
	pick := func() string { return hostileValues[rng.IntN(len(hostileValues))] }
	param := regexp.MustCompile(`\{[^}]*\}`)
	bodies := []string{"", "{", "[]", "null", `{"community_id":1}`, `{"text":"\u0000"}`, strings.Repeat("x", 2<<20),
		"key=&text=", "text=%zz", "\xff\xfe"}
	requests := 0
	for _, r := range routes {
		if r.method == http.MethodPost && !strings.HasPrefix(r.pattern, "/api/") {
			continue // this district's portal takes no submissions: its forms answer 503 (cmd/ledger's residents tests post them)
		}
		for range 8 {
			path := param.ReplaceAllStringFunc(r.pattern, func(name string) string {
				if name == "{id}" && rng.IntN(2) == 0 {
					return community
				}
				if v := pick(); v != "" {
					return url.PathEscape(v)
				}
				return "x"
			})
			q := url.Values{}
			for range rng.IntN(4) {
				q.Set(hostileParams[rng.IntN(len(hostileParams))], pick())
			}
			if len(q) > 0 {
				path += "?" + q.Encode()
			}
			var body []byte
			if r.method == http.MethodPost {
				body = []byte(bodies[rng.IntN(len(bodies))])
			}
			req, err := http.NewRequest(r.method, srv.URL+path, bytes.NewReader(body))
			if err != nil {
				t.Fatalf("%s %s: %v", r.method, path, err)
			}
			if r.method == http.MethodPost {
				req.Header.Set("Content-Type", []string{"application/json", "application/x-www-form-urlencoded", "text/plain", ""}[rng.IntN(4)])
				if rng.IntN(4) > 0 { // most reach the body's decoding
					req.Header.Set("Idempotency-Key", fmt.Sprintf("hostile-%016d", requests))
				}
			}
			if rng.IntN(4) == 0 {
				req.Header.Set("If-None-Match", strings.Map(func(r rune) rune { return max(r, ' ') }, pick()))
			}
			if rng.IntN(4) == 0 {
				req.Header.Set("Accept-Encoding", []string{"gzip", "br", "zstd, gzip;q=0", "*", "gzip;q=abc"}[rng.IntN(5)])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", r.method, path, err)
			}
			b := new(bytes.Buffer)
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") { // a live stream does not end
				_, _ = b.ReadFrom(resp.Body)
			}
			resp.Body.Close()
			requests++
			where := r.method + " " + r.pattern + " as " + path
			switch {
			case resp.StatusCode >= 500:
				t.Errorf("%.300s: status %d: %.300s", where, resp.StatusCode, b.Bytes())
			case r.method == http.MethodPost && resp.StatusCode < 300:
				t.Errorf("%.300s: a malformed body was accepted (%d): %.300s", where, resp.StatusCode, b.Bytes())
			case resp.StatusCode >= 400 && strings.HasPrefix(r.pattern, "/api/") &&
				!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json"):
				t.Errorf("%.300s: refused (%d) as %q, want application/problem+json", where, resp.StatusCode, resp.Header.Get("Content-Type"))
			case strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json"):
				var p struct{ Status int }
				if err := json.Unmarshal(b.Bytes(), &p); err != nil || p.Status != resp.StatusCode {
					t.Errorf("%.300s: answered %d with a problem saying %d (%v): %.300s", where, resp.StatusCode, p.Status, err, b.Bytes())
				}
			}
		}
	}
	t.Logf("%d hostile requests over %d routes", requests, len(routes))
}
