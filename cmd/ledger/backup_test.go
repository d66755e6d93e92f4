package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/infra/httpapi/apitest"
)

// TestAServeRestoredFromItsBackupsGoesOn is the README's backup and recovery on the embedded node: while
// serve records, `ledger backup` dumps the log's checkpoints and the alerting state, copies the history
// into another data directory, dumps the key store and the tokens, and copies the documents; then the
// first database and data directory are given up, `ledger restore` loads the dumps into an empty database
// (it refuses an unfinished backup and a database not empty), the two key files are put beside the copy,
// and serve is started on it. The read models are rebuilt from the copy, the tokens
// still work, the auditor still reads the personal data, the document is there, the transparency log goes
// on with a checkpoint that extends the last one signed before the backup (the publisher signs nothing
// else), serve logs no error while the tree is rebuilt, and `ledger verify` passes. A second backup into
// the same directory copies only what is new. Restored from dumps taken in the wrong order (the
// checkpoints after the copy), serve reports that the history is not the one its log signed; restored
// without the key store, serve refuses to start.
func TestAServeRestoredFromItsBackupsGoesOn(t *testing.T) {
	dump, restore := clientProgram(t, "pg_dump"), clientProgram(t, "pg_restore")
	db := onEmbeddedNode(t)
	dir, copied := t.TempDir(), filepath.Join(t.TempDir(), "backup")
	node := freeAddr(t)
	fast := []string{"--log-interval", "100ms", "--log-every", "1"}
	srv := startServe(t, db, append([]string{"--data", dir, "--node-listen", node}, fast...)...)
	admin := srv.Token(commands.RoleAdmin, "*")
	registerCommunity(t, srv, admin, c)
	request := paidToPerson(c, "x-1", "p-42")[0] // an individual payee: personal data, sealed
	srv.PostResult(request.name, admin, "x-1", request.body)
	doc := []byte("%PDF-1.4\n% a voucher\n%%EOF\n")
	if st, b := upload(t, srv, admin, "application/pdf", doc); st != 200 && st != 201 {
		t.Fatalf("upload: %d %s", st, b)
	}
	var before uint64
	waitUntil(t, "a checkpoint of every event", 30*time.Second, func() bool {
		before = checkpointSize(t, srv)
		return before > 0 && before == storeHead(t, srv)
	})

	backup := func(to string) string {
		t.Helper()
		out, err := runLedger(t, "backup", "--from", "esdb://"+node+"?tls=false", "--to", to, "--database-url", db, "--data", dir)
		if err != nil {
			t.Fatalf("backup: %v\n%s", err, out)
		}
		return out
	}
	if out, err := runLedger(t, "backup", "--from", "esdb://"+node+"?tls=false", "--to", dir, "--database-url", db, "--data", dir); err == nil {
		t.Fatalf("a backup into the ledger's own data directory:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "log.dump")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a refused backup wrote into the data directory: %v", err)
	}
	backup(copied)
	if _, err := os.Stat(filepath.Join(copied, "BACKUP-COMPLETE")); err != nil {
		t.Fatalf("the backup is not marked complete: %v", err)
	}
	// The same backup in the wrong order, by hand: the checkpoints dumped after serve recorded and signed
	// more than the copy holds.
	if st := srv.Post("request-expenditure", admin, "x-2", expenditure(c, "x-2")); st != 200 {
		t.Fatalf("request-expenditure after the backup: %d", st)
	}
	waitUntil(t, "a checkpoint beyond the backup", 30*time.Second, func() bool { return checkpointSize(t, srv) > before })
	late := filepath.Join(t.TempDir(), "late.dump")
	if out, err := exec.Command(dump, "--format=custom", "--schema=tlog", "--schema=alerting", "--file="+late, db).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	// Brought up to date (a copy of the backup, which stays as it was for the restore below), a backup
	// copies the new event only, and no document again.
	again := filepath.Join(t.TempDir(), "again")
	if err := os.CopyFS(again, os.DirFS(copied)); err != nil {
		t.Fatal(err)
	}
	if out := backup(again); !strings.Contains(out, "documents: 0 new") || !strings.Contains(out, "copied 1 events") {
		t.Errorf("a second backup into the same directory:\n%s", out)
	}
	// A backup that fails (here: no store at that address) leaves the directory marked unfinished.
	if out, err := runLedger(t, "backup", "--from", "esdb://"+freeAddr(t)+"?tls=false", "--to", again, "--database-url", db, "--data", dir); err == nil {
		t.Fatalf("a backup from no store succeeded:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(again, "BACKUP-COMPLETE")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed backup left its directory marked complete: %v", err)
	}
	if !srv.Stop(20 * time.Second) {
		t.Fatal("serve did not stop")
	}

	restoreInto := func(dumps ...string) string {
		t.Helper()
		url := apitest.NewDatabase(t)
		for _, d := range dumps {
			if out, err := exec.Command(restore, "--no-owner", "--no-privileges", "--exit-on-error", "--dbname="+url, d).CombinedOutput(); err != nil {
				t.Fatalf("pg_restore %s: %v\n%s", filepath.Base(d), err, out)
			}
		}
		t.Setenv("DATABASE_URL", url)
		return url
	}
	// ledger restore refuses a backup that did not finish, and a database that is not empty, changing nothing.
	if out, err := runLedger(t, "restore", "--from", again, "--database-url", apitest.NewDatabase(t)); err == nil || !strings.Contains(err.Error(), "no finished backup") {
		t.Fatalf("restore of an unfinished backup: %v\n%s", err, out)
	}
	restored := apitest.NewDatabase(t)
	if out, err := runLedger(t, "restore", "--from", copied, "--database-url", restored); err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	if out, err := runLedger(t, "restore", "--from", copied, "--database-url", restored); err == nil || !strings.Contains(err.Error(), "already holds the ledger's schemas") {
		t.Fatalf("restore into a database restored already: %v\n%s", err, out)
	}
	t.Setenv("DATABASE_URL", restored)
	// The two key files are kept apart from the backup. Without the log's signing key, serve refuses to
	// start and makes no key of its own (which would sign a second log in the ledger's name).
	copyKeyFile(t, dir, copied, "ledger-kek.key")
	if out, err := runLedger(t, "serve", "--data", copied, "--http", "127.0.0.1:0"); err == nil || !strings.Contains(err.Error(), "no tlog-signer.key") {
		t.Fatalf("serve without the log's signing key: %v\n%.3000s", err, out)
	}
	if _, err := os.Stat(filepath.Join(copied, "tlog-signer.key")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("serve refused, but made a signing key: %v", err)
	}
	copyKeyFile(t, dir, copied, "tlog-signer.key")
	srv = startServe(t, restored, append([]string{"--data", copied}, fast...)...)
	waitUntil(t, "the restored serve to be ready", 60*time.Second, srv.Ready)
	if st := srv.Post("request-expenditure", admin, "after-restore", expenditure(c, "after-restore")); st != 200 {
		t.Fatalf("the admin's token after the restore: %d", st)
	}
	auditor := srv.Token(commands.RoleAuditor, "*")
	if export := srv.GetAs(auditor, "/api/v1/audit/export?community="+c+"&format=jsonl"); !bytes.Contains(export, []byte(payeeNationalID)) {
		t.Fatalf("the auditor's export after the restore does not open the payee's data:\n%.2000s", export)
	}
	sum := sha256.Sum256(doc)
	if got, err := os.ReadFile(filepath.Join(copied, "documents", hex.EncodeToString(sum[:1]), hex.EncodeToString(sum[:]))); err != nil || !bytes.Equal(got, doc) {
		t.Errorf("the document in the backup: %v", err)
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
	wrong := restoreInto(late, filepath.Join(copied, "keys.dump"))
	srv = startServe(t, wrong, append([]string{"--data", copied}, fast...)...)
	waitUntil(t, "serve to say the history is not the signed one", 60*time.Second, func() bool {
		return strings.Contains(srv.Log.String(), `level=ERROR msg="transparency log: a signed checkpoint does not match the tree"`)
	})
	if !srv.Stop(20 * time.Second) {
		t.Fatal("serve did not stop")
	}

	// Without the key store's dump, the personal data in the history could not be opened: serve refuses
	// to start, saying why, rather than projecting what it cannot read.
	restoreInto(filepath.Join(copied, "log.dump"))
	if out, err := runLedger(t, "serve", "--data", copied, "--http", "127.0.0.1:0"); err == nil || !strings.Contains(err.Error(), "never held") {
		t.Fatalf("serve on a database without the history's key store: %v\n%.3000s", err, out)
	}
}

// clientProgram is the path of one of PostgreSQL's client programs, as backup finds it.
func clientProgram(t *testing.T, name string) string {
	t.Helper()
	p, err := pgProgram(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// copyKeyFile copies the key file name from the ledger's data directory into the backup's, as an operator
// does from where the keys are kept apart.
func copyKeyFile(t *testing.T, from, to, name string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(from, name))
	if err == nil {
		err = os.WriteFile(filepath.Join(to, name), b, 0o600)
	}
	if err != nil {
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
