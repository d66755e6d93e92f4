package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/infra/httpapi/apitest"
	"github.com/grassroots-ledger/ledger/infra/keys"
	"github.com/grassroots-ledger/ledger/infra/workload"
)

// The personal data of an individual payee, as a clerk records it through the command API.
const (
	payeeName       = "王小明"
	payeeNationalID = "330303198505121237"
	payeePhone      = "13912345671"
	payeeAddress    = "永中街道永宁路18号3单元"
)

var personalValues = []string{payeeName, payeeNationalID, payeePhone, payeeAddress}

func paidToPerson(c, id, person string) []struct{ name, body string } {
	return []struct{ name, body string }{
		{"request-expenditure", `{"community_id":"` + c + `","expenditure_id":"` + id + `","fiscal_year":2026,"category":"operating","kind":"allowance",` +
			`"purpose":"误工补贴","amount_fen":80000,"payee":{"kind":"individual","person":"` + person + `","personal":{"name":"` + payeeName +
			`","national_id":"` + payeeNationalID + `","phone":"` + payeePhone + `","address":"` + payeeAddress + `"}}}`},
		{"approve-expenditure", `{"community_id":"` + c + `","expenditure_id":"` + id + `","by":"p-chair"}`},
		{"pay-expenditure", `{"community_id":"` + c + `","expenditure_id":"` + id + `","voucher_no":"记-` + id + `"}`},
	}
}

// leaks lists the personal values found in b, with where.
func leaks(where string, b []byte) []string {
	var out []string
	for _, v := range personalValues {
		if bytes.Contains(b, []byte(v)) {
			out = append(out, where+" holds "+v)
		}
	}
	return out
}

// TestPersonalDataIsSealedErasableAndNeverLeaks records an individual payee's name, national ID number,
// phone and address through the command API of a real serve (embedded node, real PostgreSQL), and
// checks that none of them is in the node's data files, in a pg_dump of the database outside the key
// store, in any log line or in any public response, while the auditor's export shows them. Then the
// person is erased: the export, an as-of replay of an instant before the erasure and the portal show the
// person as erased, the chains still verify, a second erasure is a no-op answered as such, and a rebuild
// gives the same read models, also after ledger keys rotate-kek. Finally serve refuses to start with the
// KEK missing or another KEK.
func TestPersonalDataIsSealedErasableAndNeverLeaks(t *testing.T) {
	db := onEmbeddedNode(t)
	t.Setenv(keys.KEKFileEnv, "")
	dir := t.TempDir()
	srv := startServe(t, db, "--data", dir, "--log-level", "debug")
	admin := srv.Token(commands.RoleAdmin, "*")
	auditor := srv.Token(commands.RoleAuditor, "*")
	registerCommunity(t, srv, admin, c)
	if st := srv.Post("allocate-budget", admin, "alloc", `{"community_id":"`+c+`","fiscal_year":2026,"allocation_id":"a1","source":"county-finance","category":"operating","amount_fen":5000000}`); st != http.StatusOK {
		t.Fatalf("allocate-budget: %d", st)
	}
	srv.PostResult("seat-committee", admin, "seat", `{"community_id":"`+c+`","term":"2026-2031","members":[`+
		`{"person":"p-chair","role":"chair","full_time":true,"source":"elected"},{"person":"p-2","role":"vice-chair","full_time":true,"source":"elected"},`+
		`{"person":"p-3","role":"member","full_time":true,"source":"elected"},{"person":"p-4","role":"member","full_time":false,"source":"elected"},`+
		`{"person":"p-5","role":"member","full_time":false,"source":"elected"}]}`)
	for _, cmd := range paidToPerson(c, "x-1", "p-42") {
		srv.PostResult(cmd.name, admin, cmd.name+"-x-1", cmd.body)
	}
	payments := "/api/v1/public/communities/" + c + "/payments"
	waitUntil(t, "the payment on the portal", 30*time.Second, func() bool {
		_, _, b := srv.Get(payments)
		return bytes.Contains(b, []byte("王**"))
	})
	beforeErasure := time.Now().UTC()

	var bad []string
	// The auditor sees the personal data, opened.
	export := srv.GetAs(auditor, "/api/v1/audit/export?community="+c+"&format=jsonl")
	for _, v := range personalValues {
		if !bytes.Contains(export, []byte(v)) {
			t.Fatalf("the auditor's export does not show %s:\n%s", v, export)
		}
	}
	// A clerk looks the payee up (the clerk's own look-up): opened, in the clerk's scope only.
	clerk := srv.Token(commands.RoleClerk, "*")
	lookUp := "/api/v1/people/p-42/personal-data"
	found := srv.GetAs(clerk, lookUp)
	for _, v := range personalValues {
		if !bytes.Contains(found, []byte(v)) {
			t.Fatalf("the clerk's look-up does not show %s:\n%s", v, found)
		}
	}
	for who, want := range map[string]int{
		srv.Token(commands.RoleClerk, "33/3303/330304"): http.StatusForbidden, // recorded only outside its scope
		srv.Token(commands.RoleSupervisor, "*"):         http.StatusForbidden,
		auditor:                                         http.StatusForbidden, // auditors read through their own API
		"":                                              http.StatusUnauthorized,
	} {
		if st, _, b, err := srv.request(http.MethodGet, lookUp, who, "", ""); err != nil || st != want || bytes.Contains(b, []byte(payeeNationalID)) {
			t.Fatalf("a look-up by another caller: %d %s %v, want %d and nothing personal", st, b, err, want)
		}
	}
	if st, _, _, _ := srv.request(http.MethodGet, "/api/v1/people/p-nobody/personal-data", clerk, "", ""); st != http.StatusNotFound {
		t.Fatalf("a person of whom nothing is recorded: %d, want 404", st)
	}
	// Public responses: every portal page reachable from the front page, the public API, the log.
	for path, body := range crawl(t, srv, "/", payments, "/api/v1/public/communities/"+c, "/api/v1/public/communities/"+c+"/finances?year=2026", "/metrics") {
		bad = append(bad, leaks("GET "+path, body)...)
	}
	// PostgreSQL, everything but the key store.
	bad = append(bad, leaks("pg_dump", pgDump(t, db, "--exclude-schema=keystore"))...)
	if len(bad) > 0 {
		t.Fatalf("personal data leaked:\n%s", strings.Join(bad, "\n"))
	}

	// Erase the person.
	erase := `{"subject":"p-42","legal_basis":"《个人信息保护法》第四十七条","request_reference":"R-2026-1","reason":"本人申请"}`
	if st := srv.Post("erase-personal-data", clerk, "erase-1", erase); st != http.StatusForbidden {
		t.Fatalf("a clerk erasing: %d, want 403", st)
	}
	outOfScope := srv.Token(commands.RoleAdmin, "33/3303/330304")
	if st := srv.Post("erase-personal-data", outOfScope, "erase-1", erase); st != http.StatusForbidden {
		t.Fatalf("an administrator of another district erasing: %d, want 403", st)
	}
	if st := srv.Post("erase-personal-data", admin, "erase-1", `{"subject":"p-42","legal_basis":"","request_reference":"R","reason":"x"}`); st != http.StatusBadRequest && st != http.StatusUnprocessableEntity {
		t.Fatalf("an erasure without legal basis: %d, want 400/422", st)
	}
	first := srv.PostResult("erase-personal-data", admin, "erase-1", erase)
	if len(first.Events) != 1 || first.Events[0].Type != "privacy.personal-data-erased" || first.Unchanged {
		t.Fatalf("erasure: %+v", first)
	}
	if again := srv.PostResult("erase-personal-data", admin, "erase-1", erase); !again.Replayed {
		t.Fatalf("the same erasure retried: %+v, want replayed", again)
	}
	if second := srv.PostResult("erase-personal-data", admin, "erase-2", erase); !second.Unchanged || len(second.Events) != 0 {
		t.Fatalf("a second erasure: %+v, want unchanged with no event", second)
	}

	export = srv.GetAs(auditor, "/api/v1/audit/export?community="+c+"&format=jsonl")
	if l := leaks("export after erasure", export); len(l) > 0 || !bytes.Contains(export, []byte(`{"subject":"p-42","erased":true}`)) {
		t.Fatalf("the export after erasure: %v\n%s", l, export)
	}
	if found = srv.GetAs(clerk, lookUp); len(leaks("look-up after erasure", found)) > 0 || !bytes.Contains(found, []byte(`"personal":{"subject":"p-42","erased":true}`)) {
		t.Fatalf("the clerk's look-up after erasure: %s", found)
	}
	var last []byte
	defer func() {
		if t.Failed() {
			t.Logf("payments: %s", last)
		}
	}()
	waitUntil(t, "the portal to forget the payee's name", 30*time.Second, func() bool {
		_, _, last = srv.Get(payments)
		return bytes.Contains(last, []byte(kernel.ErasedText)) && !bytes.Contains(last, []byte("王**"))
	})
	asOf := srv.GetAs(auditor, "/api/v1/audit/communities/"+c+"/as-of?tables=true&at="+beforeErasure.Format(time.RFC3339Nano))
	if !bytes.Contains(asOf, []byte(kernel.ErasedText)) || bytes.Contains(asOf, []byte("王**")) {
		t.Fatalf("a replay of an instant before the erasure must show the person erased:\n%s", asOf)
	}
	if v := srv.GetAs(auditor, "/api/v1/audit/verify"); !bytes.Contains(v, []byte(`"intact":true`)) {
		t.Fatalf("the chains after erasure: %s", v)
	}
	// Another person's data, recorded after the erasure, stays readable (and keeps a key live for the KEK
	// checks below).
	srv.PostResult("request-expenditure", admin, "x-2", strings.Replace(paidToPerson(c, "x-2", "p-43")[0].body, `"personal":{`, `"personal":{"subject":"p-43",`, 1))
	if export = srv.GetAs(auditor, "/api/v1/audit/export?community="+c+"&format=jsonl"); !bytes.Contains(export, []byte(payeeNationalID)) {
		t.Fatalf("data recorded after another person's erasure must stay readable:\n%s", export)
	}
	pool := testPool(t, db)
	waitUntil(t, "the finances model to project x-2", 30*time.Second, func() bool {
		var n int
		_ = pool.QueryRow(context.Background(), `SELECT count(*) FROM rm_finances.expenditures`).Scan(&n)
		return n == 2
	})
	if srv.Log.String() == "" {
		t.Fatal("serve's log was not captured: the check below would see nothing")
	}
	if l := leaks("logs", append([]byte(srv.Log.String()), srv.Out.String()...)); len(l) > 0 {
		t.Fatalf("personal data in the logs: %v", l)
	}
	var files []string
	_ = filepath.WalkDir(filepath.Join(dir, "events"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	srv.Stop(20 * time.Second)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if l := leaks(f, b); len(l) > 0 {
			t.Fatalf("personal data in the node's files: %v", l)
		}
	}
	if len(files) == 0 {
		t.Fatal("no node data files to scan")
	}

	// The portal's role cannot read the key store.
	if _, err := pool.Exec(context.Background(), `SET ROLE ledger_portal; SELECT count(*) FROM keystore.data_keys`); err == nil ||
		!strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("the portal's role reading the key store: %v, want permission denied", err)
	}
	if _, err := pool.Exec(context.Background(), `RESET ROLE`); err != nil {
		t.Fatal(err)
	}
	// ledger verify: the chains and the transparency log still hold after the erasure.
	if out, err := runLedger(t, "verify", "--data", dir); err != nil {
		t.Fatalf("verify after erasure: %v\n%s", err, out)
	}

	// A rebuild gives the same read models.
	rows := func() string {
		var s string
		if err := pool.QueryRow(context.Background(), `SELECT string_agg(x::text, E'\n' ORDER BY expenditure_id) FROM rm_finances.expenditures x`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := rows()
	if out, err := runLedger(t, "rebuild", "--data", dir); err != nil {
		t.Fatalf("rebuild: %v\n%s", err, out)
	}
	if after := rows(); after != before || !strings.Contains(after, kernel.ErasedText) {
		t.Fatalf("rebuilt finances differ:\n%s\nwas\n%s", after, before)
	}

	// The KEK rotated (ledger keys rotate-kek): the event store is untouched, every key re-wrapped, and a
	// rebuild still opens the live payee's data.
	kek := filepath.Join(dir, keys.KEKFile)
	oldKEK, _ := os.ReadFile(kek)
	if out, err := runLedger(t, "keys", "rotate-kek", "--data", dir); err != nil || !strings.Contains(out, "re-wrapped 1 data keys") {
		t.Fatalf("rotate-kek: %v\n%s", err, out)
	}
	if newKEK, _ := os.ReadFile(kek); bytes.Equal(newKEK, oldKEK) {
		t.Fatal("rotate-kek left the KEK file as it was")
	}
	if out, err := runLedger(t, "rebuild", "--data", dir, "finances"); err != nil {
		t.Fatalf("rebuild after rotation: %v\n%s", err, out)
	}
	if after := rows(); after != before {
		t.Fatalf("finances rebuilt after the rotation differ:\n%s\nwas\n%s", after, before)
	}

	// The KEK missing, or another one: serve refuses, saying what to do, and writes nothing.
	if err := os.Rename(kek, kek+".away"); err != nil {
		t.Fatal(err)
	}
	if out, err := runLedger(t, "serve", "--data", dir, "--http", "127.0.0.1:0"); !errors.Is(err, keys.ErrNoKEK) || !strings.Contains(err.Error(), keys.KEKFileEnv) {
		t.Fatalf("serve without its KEK: %v\n%s", err, out)
	}
	if _, err := os.Stat(kek); err == nil {
		t.Fatal("serve made a new KEK while the key store holds keys")
	}
	other := filepath.Join(t.TempDir(), "other.key")
	if _, err := keys.CreateKEK(other); err != nil {
		t.Fatal(err)
	}
	t.Setenv(keys.KEKFileEnv, other)
	if out, err := runLedger(t, "serve", "--data", dir, "--http", "127.0.0.1:0"); !errors.Is(err, keys.ErrWrongKEK) {
		t.Fatalf("serve with another KEK: %v\n%s", err, out)
	}
}

// runLedger runs the ledger's command line in-process until it returns (serve is given a short life).
func runLedger(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	root := newRootCmd()
	var out syncBuffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return out.String(), err
}

var href = regexp.MustCompile(`(?:href|src)="(/[^"#?]*)`)

// crawl fetches the given paths and every same-site page linked from them (at most 300), and returns
// each body by path.
func crawl(t *testing.T, srv *servedLedger, start ...string) map[string][]byte {
	t.Helper()
	seen := map[string][]byte{}
	queue := append([]string{}, start...)
	for len(queue) > 0 && len(seen) < 300 {
		p := queue[0]
		queue = queue[1:]
		if _, ok := seen[p]; ok || strings.HasPrefix(p, "/api/v1/audit") || strings.HasPrefix(p, "/api/v1/commands") {
			continue
		}
		_, _, b := srv.Get(p)
		seen[p] = b
		for _, m := range href.FindAllSubmatch(b, -1) {
			queue = append(queue, string(m[1]))
		}
	}
	if len(seen) < 5 {
		t.Fatalf("crawled only %d pages", len(seen))
	}
	return seen
}

// pgDump is the plain-text dump of database url.
func pgDump(t *testing.T, url string, args ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("pg_dump")
	if err != nil {
		found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_dump")
		if len(found) == 0 {
			t.Fatal("pg_dump not found (install PostgreSQL's client binaries)")
		}
		bin = found[len(found)-1]
	}
	out, err := exec.Command(bin, append([]string{"--dbname", url}, args...)...).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	if !bytes.Contains(out, []byte("rm_finances")) {
		t.Fatalf("pg_dump dumped no read models:\n%.2000s", out)
	}
	return out
}

// TestClearStoreIsRefusedAndMigratedByCopyStoreEncrypt: a store written before personal data was sealed
// is refused by serve, with the way out; copy-store --encrypt copies it into a fresh store with the same
// event ids in the same order, every personal object sealed, the hash of every event that holds no
// personal data (and follows none in its stream) kept, the others listed in the mapping, and the
// migration recorded; the copy's read models build (the finances model opens the payees' data).
func TestClearStoreIsRefusedAndMigratedByCopyStoreEncrypt(t *testing.T) {
	ctx := context.Background()
	t.Setenv("EVENTSTORE_URL", "")
	t.Setenv(keys.KEKFileEnv, "")
	old, fresh := t.TempDir(), t.TempDir()
	sh, err := openStore(ctx, old, nodeAt{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := workload.Generate(ctx, workload.Options{Seed: 3, Communities: 2, Years: 1,
		Until: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)}, sh.Store); err != nil {
		t.Fatal(err)
	}
	source := ledgerEvents(t, sh)

	t.Setenv("DATABASE_URL", apitest.NewDatabase(t))
	if _, err := runLedger(t, "serve", "--data", old, "--http", "127.0.0.1:0"); !errors.Is(err, keys.ErrClearPersonalData) ||
		!strings.Contains(err.Error(), "copy-store --encrypt") {
		t.Fatalf("serve on a store with personal data in clear: %v, want a refusal saying how to migrate", err)
	}
	db := apitest.NewDatabase(t)
	t.Setenv("DATABASE_URL", db)
	mapping := filepath.Join(t.TempDir(), "mapping.csv")
	if out, err := runLedger(t, "copy-store", "--encrypt", "--from", old, "--to", fresh, "--mapping", mapping); err != nil {
		t.Fatalf("copy-store --encrypt: %v\n%s", err, out)
	}

	sh, err = openStore(ctx, fresh, nodeAt{})
	if err != nil {
		t.Fatal(err)
	}
	copied := ledgerEvents(t, sh)
	if len(copied) != len(source)+1 || copied[len(copied)-1].Type != "privacy.store-sealed" {
		t.Fatalf("copied %d events for %d, the last %s", len(copied), len(source), copied[len(copied)-1].Type)
	}
	changed := map[string]bool{} // streams where an event got a new hash
	kept, resealed := 0, 0
	for i, s := range source {
		c := copied[i]
		if c.ID != s.ID || c.Stream != s.Stream || c.Revision != s.Revision || c.Type != s.Type {
			t.Fatalf("event %d: %s %s@%d, source %s %s@%d", i, c.ID, c.Stream, c.Revision, s.ID, s.Stream, s.Revision)
		}
		clear, err := keys.HasClearPersonalData(s.Data)
		if err != nil {
			t.Fatal(err)
		}
		if sealedToo, _ := keys.HasClearPersonalData(c.Data); sealedToo {
			t.Fatalf("%s@%d still holds personal data in clear", c.Stream, c.Revision)
		}
		if clear || changed[s.Stream] {
			changed[s.Stream] = true
			resealed++
			if c.Meta.Hash == s.Meta.Hash {
				t.Fatalf("%s@%d: sealed, but its hash did not change", c.Stream, c.Revision)
			}
			continue
		}
		kept++
		if c.Meta.Hash != s.Meta.Hash || !bytes.Equal(c.Data, s.Data) {
			t.Fatalf("%s@%d holds no personal data and follows none, but changed", c.Stream, c.Revision)
		}
	}
	m, err := os.ReadFile(mapping)
	if err != nil {
		t.Fatal(err)
	}
	if lines := bytes.Count(m, []byte("\n")); lines != resealed || kept == 0 || resealed == 0 {
		t.Fatalf("mapping has %d lines for %d resealed events (%d kept)", lines, resealed, kept)
	}
	if out, err := runLedger(t, "rebuild", "--data", fresh, "finances"); err != nil {
		t.Fatalf("rebuild of the copy: %v\n%s", err, out)
	}
	var masked int
	if err := testPool(t, db).QueryRow(ctx, `SELECT count(*) FROM rm_finances.expenditures WHERE payee_kind = 'individual' AND payee_name ~ '^.\*+$'`).Scan(&masked); err != nil || masked == 0 {
		t.Fatalf("masked payee names after the copy: %d (%v)", masked, err)
	}
}

// ledgerEvents reads every ledger event of the store in $all order, then closes it.
func ledgerEvents(t *testing.T, sh *storeHandle) []eventlog.Recorded {
	t.Helper()
	defer sh.Close()
	var evs []eventlog.Recorded
	if err := sh.Store.ReadAll(context.Background(), eventlog.Start, 0, func(r eventlog.Recorded) error {
		if !eventlog.SystemStream(r.Stream) {
			evs = append(evs, r)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return evs
}
