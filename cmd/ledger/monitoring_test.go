package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/infra/health"
	"github.com/grassroots-ledger/ledger/infra/monitoring"
)

// syncBuffer is a buffer serve writes its banner to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var metricsLine = regexp.MustCompile(`metrics\s+(http://\S+)/metrics`)

// TestMonitoringRulesReferenceServedMetrics runs `ledger serve` on a database of its own, records one
// command so that every component has worked once, and checks that every metric the Prometheus rules and
// the Grafana dashboard read is on /metrics.
func TestMonitoringRulesReferenceServedMetrics(t *testing.T) {
	db := onEmbeddedNode(t)
	srv := startServe(t, db)
	base := srv.Base

	// One command through the API: the executor, the store, the projections and the HTTP metrics work.
	secret := srv.Token(commands.RoleAdmin, "*")
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/commands/register-jurisdiction", strings.NewReader(`{"path":"33","name":"浙江省"}`))
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Idempotency-Key", "monitoring-1")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("command: %d", resp.StatusCode)
	}

	// serve's health checks report the store, the database and every read model.
	for _, p := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		var rep health.Report
		err = json.NewDecoder(resp.Body).Decode(&rep)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || !rep.Store.Reachable || !rep.Database.Reachable || len(rep.Models) != len(readModels(nil)) {
			t.Fatalf("%s: %d %+v (%v)", p, resp.StatusCode, rep, err)
		}
	}

	// A NUL or invalid UTF-8 in a URL is a 400 problem on every part of serve's surface, not a 500.
	for _, p := range []string{"/c/%00", "/c/330303001001/notices?year=%00", "/api/v1/audit/communities/%FF/as-of?at=x", "/j/33%00"} {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", p, resp.StatusCode)
		}
	}

	rules, dashboard, err := monitoring.ReferencedMetrics()
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for deadline := time.Now().Add(20 * time.Second); ; {
		families := scrape(t, base)
		missing = missing[:0]
		for _, name := range append(rules, dashboard...) {
			if !families[monitoring.Family(name, families)] {
				missing = append(missing, name)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the rules or the dashboard read metrics serve does not expose: %v", missing)
}

// scrape returns the metric families /metrics exposes.
func scrape(t *testing.T, base string) map[string]bool {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 3 && f[0] == "#" && f[1] == "TYPE" {
			out[f[2]] = true
		}
	}
	return out
}
