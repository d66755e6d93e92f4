package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/infra/httpapi"
	"github.com/grassroots-ledger/ledger/infra/httpapi/apitest"
)

// TestEdgeRefusesControlCharactersInURLs: a NUL or invalid UTF-8 in a path or a query — raw or
// %-encoded — is a 400 problem for every route, before any handler (and its database) sees it.
func TestEdgeRefusesControlCharactersInURLs(t *testing.T) {
	t.Parallel()
	reached := 0
	h := httpapi.Edge(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached++ }), httpapi.EdgeConfig{Logger: apitest.Logger()})
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, path := range []string{"/c/%00", "/c/a%00b/notices", "/events/1?x=%00", "/c/%FF%FE", "/api/v1/audit/communities/1/as-of?at=%C0%80", "/c/%1b[31m"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Type") != httpapi.ProblemContentType {
			t.Errorf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	if reached != 0 {
		t.Fatalf("%d bad URLs reached the handler", reached)
	}
	if resp, err := http.Get(srv.URL + "/c/330303001001?year=2026&q=%E6%9D%91"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("a sane URL: %v %v", resp, err)
	}
}

// TestEdgeSlowsDownFailedTokenChecks: past the limit of 401s from one address within the window, its
// requests with credentials get 429 with Retry-After (requests without credentials, such as the public
// portal's, still pass); after the window they pass again.
func TestEdgeSlowsDownFailedTokenChecks(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	h := httpapi.Edge(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer good" || r.Header.Get("Authorization") == "" {
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	}), httpapi.EdgeConfig{FailedAuthLimit: 5, FailedAuthWindow: time.Minute, Logger: apitest.Logger(), Now: func() time.Time { return now }})
	srv := httptest.NewServer(h)
	defer srv.Close()
	get := func(token string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/audit/verify", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for i := range 5 {
		if st := get(fmt.Sprint("guess-", i)).StatusCode; st != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, st)
		}
	}
	resp := get("guess-6")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("the sixth failed guess within a minute: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if st := get("good").StatusCode; st != http.StatusTooManyRequests {
		t.Fatalf("while slowed down, even a good token waits: %d", st)
	}
	if st := get("").StatusCode; st != http.StatusOK {
		t.Fatalf("a request without credentials: %d", st)
	}
	now = now.Add(61 * time.Second)
	if st := get("good").StatusCode; st != http.StatusOK {
		t.Fatalf("after the window: %d", st)
	}
}
