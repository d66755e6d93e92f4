package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/infra/httpapi/apitest"
)

// BenchmarkServeAsOf is an auditor's as-of replay as the auditor gets it: `ledger serve` (in this process,
// with serve's own settings) on the demo's two-community district of 20 000 events, and GET
// /api/v1/audit/communities/330303001001/as-of (about 11 000 events of the community replayed into
// scratch read models, the report of about 800 KB written). The requests come a second apart, as an
// auditor's do (serve readies its next set of scratch schemas meanwhile); the pause is not timed.
// s/replay is the median request; events/replay what each replayed.
func BenchmarkServeAsOf(b *testing.B) {
	db := apitest.NewDatabase(b)
	b.Setenv("DATABASE_URL", db)
	b.Setenv("EVENTSTORE_URL", "")
	dir := b.TempDir()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"demo", "--communities", "2", "--events", "20000", "--until", "2026-12-01", "--data", dir, "--database-url", db})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := root.ExecuteContext(ctx); err != nil {
		b.Fatalf("ledger demo: %v\n%s", err, out.String())
	}
	s := startServe(b, db, "--data", dir)
	token := s.Token(commands.RoleAuditor, "33")
	// Timed once the read models have caught up with the demo (serve's /readyz), as a serve that has run.
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(s.Base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			b.Fatal("serve not ready within 2 minutes")
		}
	}
	// at is to the second: wait for the next whole second, so that it comes after every event of the demo
	// (the last of them recorded less than a second ago would otherwise be after a time truncated to it).
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	path := "/api/v1/audit/communities/330303001001/as-of?at=" + time.Now().UTC().Format(time.RFC3339)
	var took []time.Duration
	var report struct{ Events int }
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		time.Sleep(time.Second)
		b.StartTimer()
		t0 := time.Now()
		status, _, body, err := s.request(http.MethodGet, path, token, "", "")
		took = append(took, time.Since(t0))
		if err != nil || status != http.StatusOK {
			b.Fatalf("as-of: %d %v\n%.500s", status, err, body)
		}
		if err := json.Unmarshal(body, &report); err != nil || report.Events < 10_000 {
			b.Fatalf("as-of replayed %d events (%v), want the community's ~11 000", report.Events, err)
		}
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(took[len(took)/2].Seconds(), "s/replay")
	b.ReportMetric(float64(report.Events), "events/replay")
}
