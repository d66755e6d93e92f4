package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/infra/tlog"
)

// TestWitnessCommandCosignsAndRefusesAFork: `ledger witness --once` against a serve that knows its key
// (serve --witness, the key the witness prints) posts a C2SP cosignature/v1 of the latest checkpoint,
// which serve then serves and the library's cosignature verifier accepts; a tampered copy of it is
// refused. Shown a checkpoint that does not extend the one it last cosigned, the witness exits with
// ErrFork and keeps both checkpoints.
func TestWitnessCommandCosignsAndRefusesAFork(t *testing.T) {
	db := onEmbeddedNode(t)
	const origin = "ledger.test/龙湾区"
	state, data := t.TempDir(), t.TempDir()
	// The witness's key, as `ledger witness` creates it on first run; its operator gives the printed key
	// to the ledger.
	own, err := tlog.LoadOrCreateKey(state, "witness.test/民政局")
	if err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, db, "--data", data, "--log-every", "3", "--log-interval", "200ms", "--log-origin", origin,
		"--witness", own.CosignerKey())
	logKey, err := tlog.LoadKey(data)
	if err != nil {
		t.Fatal(err)
	}
	registerCommunity(t, srv, srv.Token(commands.RoleAdmin, "*"), c)
	var latest tlog.Checkpoint
	waitUntil(t, "a checkpoint", 30*time.Second, func() bool {
		st, _, body := srv.Get(tlog.CheckpointPath)
		if st != http.StatusOK {
			return false
		}
		latest, _, err = tlog.Open(body, logKey.Verifier(), origin)
		return err == nil && latest.Size >= 5
	})
	witness := func() (string, error) {
		root := newRootCmd()
		var out strings.Builder
		root.SetOut(&out)
		root.SetErr(io.Discard)
		root.SetArgs([]string{"witness", "--log", srv.Base, "--key", logKey.VerifierKey(), "--state", state,
			"--origin", origin, "--once"})
		err := root.ExecuteContext(context.Background())
		return out.String(), err
	}
	// What serve serves carries the witness's cosignature, which the library's cosignature/v1 verifier
	// checks over the checkpoint the witness saw (a round again if serve signed a newer one meanwhile).
	cosigV, err := fnote.NewVerifierForCosignatureV1(own.CosignerKey())
	if err != nil {
		t.Fatal(err)
	}
	var cosigned []byte
	var c0 tlog.Checkpoint
	var line string
	waitUntil(t, "the witness's cosignature served", 30*time.Second, func() bool {
		out, err := witness()
		if err != nil || !strings.Contains(out, own.CosignerKey()) {
			t.Fatalf("witness: %v\n%s", err, out)
		}
		var ok bool
		cosigned, c0, line, ok = servedCosigned(t, srv, logKey, cosigV)
		return ok
	})
	if n, err := note.Open(cosigned, note.VerifierList(cosigV)); err != nil || len(n.Sigs) != 1 {
		t.Fatalf("the cosignature alone: %v\n%s", err, cosigned)
	}
	// A tampered cosignature is refused, and refused by the library's verifier too.
	tampered := tamperLine(t, line)
	if _, err := note.Open([]byte(c0.Body()+"\n"+tampered), note.VerifierList(cosigV)); err == nil {
		t.Fatal("the library verifies a tampered cosignature")
	}
	resp, err := http.Post(srv.Base+tlog.CosignaturesPath, "text/plain", strings.NewReader(c0.Body()+"\n"+tampered))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a tampered cosignature: %d, want 400", resp.StatusCode)
	}

	// The log shows the witness another history: a checkpoint of a larger tree signed with the log's key
	// that does not extend the one it cosigned (here the witness's state holds it, as if the log had
	// shown it before).
	forged, err := tlog.Sign(tlog.Checkpoint{Origin: origin, Size: c0.Size + 1000, Root: bytes.Repeat([]byte{1}, 32)}, logKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(state, tlog.StateFile), forged, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := witness(); !errors.Is(err, tlog.ErrFork) {
		t.Fatalf("witness shown a fork: %v, want ErrFork", err)
	}
	evidence, _ := filepath.Glob(filepath.Join(state, "fork-*"))
	if len(evidence) != 2 {
		t.Fatalf("evidence kept: %v", evidence)
	}
}

// servedCosigned reads serve's checkpoint and, when it carries a cosignature cosigV verifies, returns the
// checkpoint with that signature alone, the checkpoint, and the signature line.
func servedCosigned(t *testing.T, srv *servedLedger, logKey *tlog.Key, cosigV note.Verifier) ([]byte, tlog.Checkpoint, string, bool) {
	t.Helper()
	_, _, body := srv.Get(tlog.CheckpointPath)
	n, err := note.Open(body, note.VerifierList(logKey.Verifier(), cosigV))
	if err != nil {
		t.Fatalf("the served checkpoint: %v\n%s", err, body)
	}
	c, err := tlog.ParseBody(n.Text)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range n.Sigs {
		if s.Hash == cosigV.KeyHash() {
			line := "\u2014 " + s.Name + " " + s.Base64 + "\n"
			return []byte(n.Text + "\n" + line), c, line, true
		}
	}
	return nil, c, "", false
}

// tamperLine flips a bit of the Ed25519 signature in a cosignature/v1 line (after the key hash and the
// timestamp).
func tamperLine(t *testing.T, line string) string {
	t.Helper()
	i := strings.LastIndexByte(strings.TrimSuffix(line, "\n"), ' ')
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(line[i+1:], "\n"))
	if err != nil || len(sig) != 4+8+64 {
		t.Fatalf("not a cosignature/v1 line %q: %v", line, err)
	}
	sig[4+8+10] ^= 0x80
	return line[:i+1] + base64.StdEncoding.EncodeToString(sig) + "\n"
}
