package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/audit"
	"github.com/grassroots-ledger/ledger/infra/httpapi"
	"github.com/grassroots-ledger/ledger/infra/httpapi/apitest"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/infra/workload"
	"github.com/grassroots-ledger/ledger/projections/all"
)

// auditServer serves the auditors' API over a year of one community's affairs (the workload generator).
func auditServer(t *testing.T) (*apitest.Server, workload.Community) {
	t.Helper()
	srv := apitest.Start(t, apitest.Config{Register: func(s *apitest.Server) {
		a, err := audit.New(audit.Config{Store: s.Store, Pool: s.Pool, Migrate: pg.Migrator(s.Pool), Logger: apitest.Logger(),
			Models: all.Models(nil)})
		if err != nil {
			t.Fatal(err)
		}
		if err := httpapi.RegisterAuditor(httpapi.AuditorConfig{Mux: s.Mux, Tokens: s.Tokens, Auditor: a, Logger: apitest.Logger()}); err != nil {
			t.Fatal(err)
		}
	}})
	stats, err := workload.Generate(context.Background(), workload.Options{Seed: 9, Communities: 1, Years: 1}, srv.Store)
	if err != nil {
		t.Fatal(err)
	}
	return srv, stats.Districts[0].Streets[0].Communities[0]
}

func get(t *testing.T, srv *apitest.Server, path, token string) apitest.Response {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return srv.Do(t, http.MethodGet, path, h, nil)
}

func TestAuditorAPIAdmitsAuditorsOnly(t *testing.T) {
	t.Parallel()
	srv, c := auditServer(t)
	auditor := srv.Token(t, commands.RoleAuditor, "*")
	clerk := srv.Token(t, commands.RoleClerk, string(c.Path))
	admin := srv.Token(t, commands.RoleAdmin, "*")
	elsewhere := srv.Token(t, commands.RoleAuditor, "33/3399")
	asOf := "/api/v1/audit/communities/" + string(c.ID) + "/as-of?at=" + url.QueryEscape(time.Now().Format(time.RFC3339))
	export := "/api/v1/audit/export?format=csv&community=" + string(c.ID)
	for _, path := range []string{httpapi.AuditVerifyPath, asOf, export} {
		get(t, srv, path, "").WantProblem(t, http.StatusUnauthorized, httpapi.CodeUnauthenticated)
		get(t, srv, path, "lg_not-a-token").WantProblem(t, http.StatusUnauthorized, httpapi.CodeUnauthenticated)
		get(t, srv, path, clerk).WantProblem(t, http.StatusForbidden, httpapi.CodeRoleNotAllowed)
		get(t, srv, path, admin).WantProblem(t, http.StatusForbidden, httpapi.CodeRoleNotAllowed)
		if resp := get(t, srv, path, auditor); resp.Status != http.StatusOK {
			t.Fatalf("%s as auditor: %d %s", path, resp.Status, resp.Body)
		}
	}
	get(t, srv, asOf, elsewhere).WantProblem(t, http.StatusForbidden, httpapi.CodeOutOfScope)
	get(t, srv, export, elsewhere).WantProblem(t, http.StatusForbidden, httpapi.CodeOutOfScope)
}

func TestAuditorAPIVerify(t *testing.T) {
	t.Parallel()
	srv, _ := auditServer(t)
	auditor := srv.Token(t, commands.RoleAuditor, "*")
	head := srv.Head(t)
	var rep audit.VerifyReport
	resp := get(t, srv, httpapi.AuditVerifyPath, auditor)
	if err := json.Unmarshal(resp.Body, &rep); err != nil || !rep.Intact || rep.Events != uint64(head.Count) {
		t.Fatalf("verify: %v %s", err, resp.Body)
	}
	resp = get(t, srv, httpapi.AuditVerifyPath+"?progress=ndjson", auditor)
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Fatalf("content type %q", ct)
	}
	lines := strings.Split(strings.TrimSpace(string(resp.Body)), "\n")
	var last struct{ Report *audit.VerifyReport }
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Report == nil || !last.Report.Intact {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
	get(t, srv, httpapi.AuditVerifyPath+"?progress=sse", auditor).WantProblem(t, http.StatusBadRequest, httpapi.CodeInvalidValue)
}

func TestAuditorAPIAsOf(t *testing.T) {
	t.Parallel()
	srv, c := auditServer(t)
	auditor := srv.Token(t, commands.RoleAuditor, "*")
	base := "/api/v1/audit/communities/" + string(c.ID) + "/as-of"
	at := url.QueryEscape(time.Now().Add(time.Minute).Format(time.RFC3339))

	resp := get(t, srv, base+"?at="+at, auditor)
	var snap struct {
		Community string
		Events    int
		Summary   struct {
			Community   struct{ Name string }
			Disclosures []json.RawMessage
		}
	}
	if err := json.Unmarshal(resp.Body, &snap); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("%d %v: %s", resp.Status, err, resp.Body)
	}
	if snap.Community != string(c.ID) || snap.Events == 0 || snap.Summary.Community.Name != c.Name || len(snap.Summary.Disclosures) == 0 {
		t.Fatalf("snapshot: %+v", snap)
	}
	before := get(t, srv, base+"?at=2000-01-01T00:00:00Z", auditor)
	if !bytes.Contains(before.Body, []byte(`"events":0,`)) {
		t.Fatalf("as of 2000: %s", before.Body)
	}
	text := get(t, srv, base+"?format=text&at="+at, auditor)
	if !strings.HasPrefix(text.Header.Get("Content-Type"), "text/plain") || !bytes.Contains(text.Body, []byte("Public board")) {
		t.Fatalf("text: %s", text.Body)
	}
	get(t, srv, base, auditor).WantProblem(t, http.StatusBadRequest, httpapi.CodeInvalidValue)
	if p := get(t, srv, base+"?at=yesterday", auditor).WantProblem(t, http.StatusBadRequest, httpapi.CodeInvalidValue); p.Field != "at" {
		t.Fatalf("field %q", p.Field)
	}
	if p := get(t, srv, base+"?at="+at+"&by=written", auditor).WantProblem(t, http.StatusBadRequest, httpapi.CodeInvalidValue); p.Field != "by" {
		t.Fatalf("field %q", p.Field)
	}
	get(t, srv, "/api/v1/audit/communities/999999999999/as-of?at="+at, auditor).WantProblem(t, http.StatusNotFound, httpapi.CodeNotFound)
	get(t, srv, "/api/v1/audit/communities/a-b/as-of?at="+at, auditor).WantProblem(t, http.StatusBadRequest, httpapi.CodeInvalidValue)
}

func TestAuditorAPIExport(t *testing.T) {
	t.Parallel()
	srv, c := auditServer(t)
	auditor := srv.Token(t, commands.RoleAuditor, "*")
	base := "/api/v1/audit/export?community=" + string(c.ID)

	resp := get(t, srv, base+"&format=csv&own_only=true", auditor)
	if resp.Status != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "audit-"+string(c.ID)+".csv") {
		t.Fatalf("%d %v", resp.Status, resp.Header)
	}
	recs, err := csv.NewReader(bytes.NewReader(resp.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	own := 0
	for _, r := range srvEvents(t, srv) {
		if r == string(c.ID) {
			own++
		}
	}
	if len(recs)-1 != own || recs[0][len(recs[0])-1] != "payload" {
		t.Fatalf("%d rows, want %d of the community's own events", len(recs)-1, own)
	}

	lines := 0
	sc := bufio.NewScanner(bytes.NewReader(get(t, srv, base+"&format=jsonl", auditor).Body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil || row["hash"] == "" {
			t.Fatalf("line %d: %v", lines, err)
		}
		lines++
	}
	if lines < own {
		t.Fatalf("jsonl: %d lines, want at least %d", lines, own)
	}

	x := get(t, srv, base+"&format=xlsx&from="+url.QueryEscape(time.Now().Add(-time.Hour).Format(time.RFC3339)), auditor)
	f, err := excelize.OpenReader(bytes.NewReader(x.Body))
	if err != nil {
		t.Fatalf("xlsx: %v (%d %s)", err, x.Status, x.Header)
	}
	rows, err := f.GetRows(audit.SheetName)
	if err != nil || len(rows) != lines+1 {
		t.Fatalf("xlsx: %d rows, want %d: %v", len(rows), lines+1, err)
	}

	get(t, srv, base+"&format=pdf", auditor).WantProblem(t, http.StatusBadRequest, httpapi.CodeInvalidValue)
	get(t, srv, base+"&format=csv&from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", auditor).WantProblem(t, http.StatusBadRequest, httpapi.CodeInvalidValue)
	get(t, srv, "/api/v1/audit/export?format=csv", auditor).WantProblem(t, http.StatusBadRequest, httpapi.CodeInvalidValue)
	get(t, srv, "/api/v1/audit/export?format=csv&community=999999999999", auditor).WantProblem(t, http.StatusNotFound, httpapi.CodeNotFound)
}

// srvEvents lists, for every event in the store, the community it belongs to ("" for district-level ones).
func srvEvents(t *testing.T, srv *apitest.Server) []string {
	t.Helper()
	var out []string
	err := srv.Store.ReadAll(context.Background(), eventlog.Start, 0, func(r eventlog.Recorded) error {
		cid := r.Meta.CommunityID
		if _, c, _, err := eventlog.SplitStreamName(r.Stream); err == nil && cid == "" {
			cid = c
		}
		out = append(out, cid)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAuditorAPIAsOfUnderLoad: eight auditors ask for the same community as of now at once. Every request
// is answered — a snapshot, or 503 replay-busy with Retry-After when the replays in progress fill the
// slots — and none hangs; the snapshots agree.
func TestAuditorAPIAsOfUnderLoad(t *testing.T) {
	t.Parallel()
	srv, c := auditServer(t)
	auditor := srv.Token(t, commands.RoleAuditor, "*")
	path := "/api/v1/audit/communities/" + string(c.ID) + "/as-of?at=" + url.QueryEscape(time.Now().Add(time.Minute).Format(time.RFC3339))
	type answer struct {
		status int
		retry  string
		events int
		err    error
	}
	answers := make(chan answer, 8)
	client := &http.Client{Timeout: 3 * time.Minute}
	for range 8 {
		go func() {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+auditor)
			resp, err := client.Do(req)
			if err != nil {
				answers <- answer{err: err}
				return
			}
			defer resp.Body.Close()
			var snap struct{ Events int }
			_ = json.NewDecoder(resp.Body).Decode(&snap)
			answers <- answer{status: resp.StatusCode, retry: resp.Header.Get("Retry-After"), events: snap.Events}
		}()
	}
	ok, busy, events := 0, 0, -1
	for range 8 {
		a := <-answers
		switch {
		case a.err != nil:
			t.Errorf("an as-of request got no answer: %v", a.err)
		case a.status == http.StatusOK:
			ok++
			if events >= 0 && a.events != events {
				t.Errorf("snapshots disagree: %d and %d events", events, a.events)
			}
			events = a.events
		case a.status == http.StatusServiceUnavailable && a.retry != "":
			busy++
		default:
			t.Errorf("as-of answered %d (Retry-After %q)", a.status, a.retry)
		}
	}
	if ok == 0 || events <= 0 {
		t.Fatalf("no snapshot among eight requests (%d busy)", busy)
	}
	t.Logf("eight concurrent as-of requests: %d snapshots of %d events, %d told to retry", ok, events, busy)
}
