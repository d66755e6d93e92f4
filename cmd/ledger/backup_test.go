package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/infra/httpapi/apitest"
)

// TestAServeRestoredFromItsBackupsGoesOn is the README's backup and recovery, step by step, on the
// embedded node: while serve runs, pg_dump of the log's checkpoints and the alerting state, a copy-store
// of the history into another data directory, pg_dump of the key store and the tokens; then the first
// database and data directory are given up, the dumps restored into an empty database, the two key files
// and the documents put beside the copy, and serve started on it. The read models are rebuilt from the
// copy, the tokens still work, the auditor still reads the personal data, the transparency log goes on
// with a checkpoint that extends the last one signed before the backup (the publisher signs nothing
// else), serve raises no false alarm while the tree is rebuilt, and `ledger verify` passes. Restored
// from dumps taken in the wrong order (the checkpoints after the copy), serve reports that the history
// is not the one its log signed.
func TestAServeRestoredFromItsBackupsGoesOn(t *testing.T) {
	dump, restore := pgTool(t, "pg_dump"), pgTool(t, "pg_restore")
	db := onEmbeddedNode(t)
	dir, copied := t.TempDir(), filepath.Join(t.TempDir(), "restored")
	node := freeAddr(t)
	fast := []string{"--log-interval", "100ms", "--log-every", "1"}
	srv := startServe(t, db, append([]string{"--data", dir, "--node-listen", node}, fast...)...)
	admin := srv.Token(commands.RoleAdmin, "*")
	registerCommunity(t, srv, admin, c)
	request := paidToPerson(c, "x-1", "p-42")[0] // an individual payee: personal data, sealed
	srv.PostResult(request.name, admin, "x-1", request.body)
	var before uint64
	waitUntil(t, "a checkpoint of every event", 30*time.Second, func() bool {
		before = checkpointSize(t, srv)
		return before > 0 && before == storeHead(t, srv)
	})

	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", filepath.Base(name), args, err, out)
		}
	}
	// 1. The checkpoints (and the alerting state) first: every checkpoint the backup holds then covers
	// only events the copy will hold.
	first, second := filepath.Join(t.TempDir(), "log.dump"), filepath.Join(t.TempDir(), "keys.dump")
	run(dump, "--format=custom", "--schema=tlog", "--schema=alerting", "--file="+first, db)
	// 2. The history, while serve goes on recording.
	if out, err := runLedger(t, "copy-store", "--from", "esdb://"+node+"?tls=false", "--to", copied); err != nil {
		t.Fatalf("copy-store: %v\n%s", err, out)
	}
	// 3. The key store and the tokens last: every data key the copied events were sealed with exists.
	run(dump, "--format=custom", "--schema=keystore", "--schema=auth", "--file="+second, db)
	// (The same backup in the wrong order: the checkpoints dumped after serve recorded and signed more than
	// the copy holds.)
	if st := srv.Post("request-expenditure", admin, "x-2", expenditure(c, "x-2")); st != 200 {
		t.Fatalf("request-expenditure after the copy: %d", st)
	}
	waitUntil(t, "a checkpoint beyond the copy", 30*time.Second, func() bool { return checkpointSize(t, srv) > before })
	late := filepath.Join(t.TempDir(), "late.dump")
	run(dump, "--format=custom", "--schema=tlog", "--schema=alerting", "--file="+late, db)
	for _, f := range []string{"ledger-kek.key", "tlog-signer.key"} { // kept apart from the dumps, in practice
		copyFile(t, filepath.Join(dir, f), filepath.Join(copied, f))
	}
	if !srv.Stop(20 * time.Second) {
		t.Fatal("serve did not stop")
	}

	restored := apitest.NewDatabase(t)
	for _, d := range []string{first, second} {
		run(restore, "--no-owner", "--no-privileges", "--exit-on-error", "--dbname="+restored, d)
	}
	t.Setenv("DATABASE_URL", restored)
	srv = startServe(t, restored, append([]string{"--data", copied}, fast...)...)
	waitUntil(t, "the restored serve to be ready", 60*time.Second, srv.Ready)
	if st := srv.Post("request-expenditure", admin, "after-restore", expenditure(c, "after-restore")); st != 200 {
		t.Fatalf("the admin's token after the restore: %d", st)
	}
	auditor := srv.Token(commands.RoleAuditor, "*")
	if export := srv.GetAs(auditor, "/api/v1/audit/export?community="+c+"&format=jsonl"); !bytes.Contains(export, []byte(payeeNationalID)) {
		t.Fatalf("the auditor's export after the restore does not open the payee's data:\n%.2000s", export)
	}
	waitUntil(t, "a checkpoint after the restore", 30*time.Second, func() bool { return checkpointSize(t, srv) > before })
	if !srv.Stop(20 * time.Second) {
		t.Fatal("the restored serve did not stop")
	}
	if log := srv.Log.String(); strings.Contains(log, "level=ERROR") {
		t.Errorf("the restored serve logged errors:\n%s", log)
	}
	if out, err := runLedger(t, "verify", "--data", copied, "--database-url", restored); err != nil {
		t.Fatalf("verify of the restored ledger: %v\n%s", err, out)
	}

	// Restored from the backup taken in the wrong order, the ledger's history is not the one its log
	// signed: once the projections have caught up, serve says so.
	wrong := apitest.NewDatabase(t)
	for _, d := range []string{late, second} {
		run(restore, "--no-owner", "--no-privileges", "--exit-on-error", "--dbname="+wrong, d)
	}
	t.Setenv("DATABASE_URL", wrong)
	srv = startServe(t, wrong, append([]string{"--data", copied}, fast...)...)
	waitUntil(t, "serve to say the history is not the signed one", 60*time.Second, func() bool {
		return strings.Contains(srv.Log.String(), `level=ERROR msg="transparency log: a signed checkpoint does not match the tree"`)
	})
}

// pgTool is the path of one of PostgreSQL's client programs of the newest installed version (the one
// the test's server runs).
func pgTool(t *testing.T, name string) string {
	t.Helper()
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	if len(found) == 0 {
		p, err := exec.LookPath(name)
		if err != nil {
			t.Fatalf("no %s: install PostgreSQL's client programs (make postgres)", name)
		}
		return p
	}
	slices.Sort(found) // one version on Debian; the newest last where there are several
	return found[len(found)-1]
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// checkpointSize is the size of the log's latest signed checkpoint (0 before the first).
func checkpointSize(t *testing.T, srv *servedLedger) uint64 {
	t.Helper()
	st, _, b := srv.Get("/api/v1/public/log/checkpoint")
	if st != 200 {
		return 0
	}
	lines := strings.Split(string(b), "\n")
	var n uint64
	if len(lines) > 1 {
		_ = json.Unmarshal([]byte(lines[1]), &n)
	}
	return n
}

// storeHead is the store's head position as /healthz reports it: on the embedded node, which writes no
// events of its own, the number of events (the log's size once it has every one).
func storeHead(t *testing.T, srv *servedLedger) uint64 {
	t.Helper()
	_, _, b := srv.Get("/healthz")
	var r struct {
		Store struct{ Head string } `json:"store"`
	}
	var n uint64
	if json.Unmarshal(b, &r) == nil {
		commit, _, _ := strings.Cut(r.Store.Head, "/")
		n, _ = strconv.ParseUint(commit, 10, 64)
	}
	return n
}
