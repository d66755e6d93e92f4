package portal_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/infra/httpapi"
	"github.com/grassroots-ledger/ledger/infra/portal"
)

// TestLiveStreamsAreCapped: a community page's live stream is exempt from the write timeout, so the
// streams are capped per client address and in total: beyond, 429 with Retry-After; a stream closed
// frees its place.
func TestLiveStreamsAreCapped(t *testing.T) {
	d := sharedDistrict(t)
	p, err := portal.New(portal.Config{DB: d.Admin, Logger: quiet(), Streams: &httpapi.StreamLimits{PerKey: 2, Total: 5}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	p.Mount(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	live := srv.URL + "/c/" + string(d.community().ID) + "/live"
	open := func() (*http.Response, context.CancelFunc) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, live, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		return resp, func() { cancel(); resp.Body.Close() }
	}
	r1, close1 := open()
	defer close1()
	r2, close2 := open()
	defer close2()
	if r1.StatusCode != http.StatusOK || r2.StatusCode != http.StatusOK {
		t.Fatalf("two streams from one address: %d, %d", r1.StatusCode, r2.StatusCode)
	}
	r3, close3 := open()
	close3()
	if r3.StatusCode != http.StatusTooManyRequests || r3.Header.Get("Retry-After") == "" {
		t.Fatalf("a third stream from one address: %d, want 429 with Retry-After", r3.StatusCode)
	}
	close1()
	if !waitFor(func() bool {
		r, c := open()
		defer c()
		return r.StatusCode == http.StatusOK
	}, 10*time.Second) {
		t.Fatal("a closed stream did not free its place")
	}
}
