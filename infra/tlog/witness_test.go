package tlog_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/grassroots-ledger/ledger/infra/tlog"
)

// serveLog serves db's public log endpoints, accepting the witnesses' cosignatures.
func serveLog(t *testing.T, db *logDB, witnesses ...note.Verifier) string {
	t.Helper()
	mux := http.NewServeMux()
	api := humago.New(mux, huma.DefaultConfig("log", "test"))
	tlog.RegisterAPI(api, tlog.APIConfig{DB: db.pool, Key: db.key, Logger: quiet(), Witnesses: witnesses, Pool: db.pool})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// A witness cosigns the first checkpoint it sees, then each newer one the log proves consistent with it;
// the log serves its cosignature beside its own. Shown a forked log — another history signed with the same
// key — it cosigns nothing, keeps both checkpoints as evidence and answers ErrFork.
func TestWitnessCosignsTheOneHistoryAndRefusesAFork(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	state := t.TempDir()
	start := time.Now().Truncate(time.Second)
	own, err := tlog.LoadOrCreateKey(state, "witness.test")
	if err != nil {
		t.Fatal(err)
	}
	st, db := newStore(t), newLogDB(t)
	ownV, err := tlog.CosignatureVerifier(own.CosignerKey())
	if err != nil {
		t.Fatal(err)
	}
	url := serveLog(t, db, ownV)
	w := &tlog.Witness{Log: url, Verifier: db.key.Verifier(), Origin: origin, Key: own, State: state}
	steps := script("genuine")
	st.write(t, steps[:30])
	db.project(t, st)
	db.publish(t)
	if res, err := w.Step(ctx); err != nil || !res.Cosigned || res.Latest != 30 {
		t.Fatalf("first round: %+v, %v", res, err)
	}
	st.write(t, steps[30:])
	db.project(t, st)
	db.publish(t)
	if res, err := w.Step(ctx); err != nil || !res.Cosigned || res.Previous != 30 || res.Latest != 50 {
		t.Fatalf("second round: %+v, %v", res, err)
	}
	if res, err := w.Step(ctx); err != nil || res.Cosigned {
		t.Fatalf("a round with nothing new: %+v, %v", res, err)
	}
	served, err := tlog.LatestNote(ctx, db.pool)
	if err != nil {
		t.Fatal(err)
	}
	// The cosignature verifies with the library's cosignature/v1 verifier (key type 0x04), its timestamp
	// the time it was made.
	cosigV, err := fnote.NewVerifierForCosignatureV1(own.CosignerKey())
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(served, note.VerifierList(db.key.Verifier(), cosigV))
	if err != nil || len(n.Sigs) != 2 {
		t.Fatalf("the served checkpoint with its cosignature: %v, %+v\n%s", err, n, served)
	}
	var cosig note.Signature
	for _, sig := range n.Sigs {
		if sig.Hash == cosigV.KeyHash() {
			cosig = sig
		}
	}
	if at, err := fnote.CoSigV1Timestamp(cosig); err != nil || at.Before(start) || at.After(time.Now()) {
		t.Fatalf("the cosignature's timestamp %v (%v), want between %v and now", at, err, start)
	}

	// Another history of 60 events, signed with the log's own key: a fork.
	forkStore, forkDB := newStore(t), newLogDB(t)
	forkDB.key = db.key
	forkDB.pub, err = tlog.NewPublisher(tlog.Config{Pool: forkDB.pool, Key: db.key, Origin: origin, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	forkStore.write(t, append(script("forked"), script("forked-more")[:10]...))
	forkDB.project(t, forkStore)
	forkDB.publish(t)
	w.Log = serveLog(t, forkDB, ownV)
	if _, err := w.Step(ctx); !errors.Is(err, tlog.ErrFork) {
		t.Fatalf("a forked log: %v, want ErrFork", err)
	}
	evidence, _ := filepath.Glob(filepath.Join(state, "fork-*"))
	if len(evidence) != 2 {
		t.Fatalf("evidence kept: %v", evidence)
	}
	last, err := os.ReadFile(filepath.Join(state, tlog.StateFile))
	if err != nil {
		t.Fatal(err)
	}
	if c, _, err := tlog.Open(last, db.key.Verifier(), origin); err != nil || c.Size != 50 {
		t.Fatalf("the witness's last cosigned checkpoint after the fork: %v, %v", c, err)
	}
	forked, _ := tlog.LatestNote(ctx, forkDB.pool)
	if strings.Contains(string(forked), "witness.test") {
		t.Fatalf("the forked log got a cosignature:\n%s", forked)
	}

	// The endpoint refuses a cosignature by a key it does not know, a tampered one, the witness's plain
	// (untimestamped) note signature, and one over a size never signed.
	stranger, _ := tlog.LoadOrCreateKey(t.TempDir(), "stranger.test")
	c50, _, _ := tlog.Open(served, db.key.Verifier(), origin)
	line, _ := stranger.Cosign(c50)
	if st := post(t, url, c50.Body()+"\n"+string(line)); st != http.StatusForbidden {
		t.Fatalf("a stranger's cosignature: %d, want 403", st)
	}
	line, err = own.Cosign(c50)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []int{4, 4 + 7, 4 + 8, 4 + 8 + 63} { // the timestamp's first and last byte, the signature's
		if st := post(t, url, c50.Body()+"\n"+string(tamper(t, line, at))); st != http.StatusBadRequest {
			t.Fatalf("a cosignature tampered at byte %d: %d, want 400", at, st)
		}
	}
	plain, _ := tlog.Sign(c50, own)
	if st := post(t, url, string(plain)); st != http.StatusForbidden {
		t.Fatalf("a plain note signature by the witness's key: %d, want 403", st)
	}
	if st := post(t, url, c50.Body()+"\n"+string(line)); st != http.StatusOK {
		t.Fatalf("the witness's cosignature again: %d, want 200", st)
	}
	c50.Size = 49
	line, _ = own.Cosign(c50)
	if st := post(t, url, c50.Body()+"\n"+string(line)); st != http.StatusNotFound {
		t.Fatalf("a cosignature of a size never signed: %d, want 404", st)
	}
}

// tamper flips one bit of byte at of the signature (key hash, timestamp, signature) in a note signature
// line.
func tamper(t *testing.T, line []byte, at int) []byte {
	t.Helper()
	prefix, b64, ok := bytes.Cut(bytes.TrimSuffix(line, []byte("\n")), []byte(" "))
	name, b64, ok2 := bytes.Cut(b64, []byte(" "))
	sig, err := base64.StdEncoding.DecodeString(string(b64))
	if !ok || !ok2 || err != nil || len(sig) != 4+8+64 {
		t.Fatalf("not a cosignature/v1 line: %q (%v)", line, err)
	}
	sig[at] ^= 1
	return []byte(string(prefix) + " " + string(name) + " " + base64.StdEncoding.EncodeToString(sig) + "\n")
}

// A cosignature is C2SP tlog-cosignature's cosignature/v1, checked here without the library: the line
// "— <name> <base64>" holds the key hash SHA-256(name || "\n" || 0x04 || public key)[:4], the 8-byte
// big-endian Unix time and the Ed25519 signature over "cosignature/v1\ntime <T>\n" || the checkpoint.
func TestCosignatureIsC2SPCosignatureV1(t *testing.T) {
	t.Parallel()
	k, err := tlog.LoadOrCreateKey(t.TempDir(), "witness.example/民政局")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(k.CosignerKey(), "+", 3)
	pub, err := base64.StdEncoding.DecodeString(parts[len(parts)-1])
	if err != nil || len(parts) != 3 || parts[0] != k.Name() || len(pub) != 1+ed25519.PublicKeySize || pub[0] != 0x04 {
		t.Fatalf("cosigner key %q (%v): want name+hash+base64(0x04 || Ed25519 public key)", k.CosignerKey(), err)
	}
	sum := sha256.Sum256(append([]byte(k.Name()+"\n"), pub...))
	if fmt.Sprintf("%08x", binary.BigEndian.Uint32(sum[:])) != parts[1] {
		t.Fatalf("cosigner key %q: key hash, want %x", k.CosignerKey(), sum[:4])
	}
	c := tlog.Checkpoint{Origin: origin, Size: 12345, Root: bytes.Repeat([]byte{7}, 32)}
	before := time.Now().Unix()
	line, err := k.Cosign(c)
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now().Unix()
	rest, ok := strings.CutPrefix(string(line), "\u2014 "+k.Name()+" ")
	if !ok || !strings.HasSuffix(rest, "\n") {
		t.Fatalf("cosignature line %q", line)
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(rest, "\n"))
	if err != nil || len(sig) != 4+8+ed25519.SignatureSize || !bytes.Equal(sig[:4], sum[:4]) {
		t.Fatalf("cosignature %x (%v): want key hash %x, timestamp, signature", sig, err, sum[:4])
	}
	ts := int64(binary.BigEndian.Uint64(sig[4:12]))
	if ts < before || ts > after {
		t.Fatalf("timestamp %d, want between %d and %d", ts, before, after)
	}
	msg := fmt.Sprintf("cosignature/v1\ntime %d\n%s", ts, c.Body())
	if !ed25519.Verify(pub[1:], []byte(msg), sig[12:]) {
		t.Fatalf("the signature does not verify over %q", msg)
	}
}

func post(t *testing.T, url, body string) int {
	t.Helper()
	resp, err := http.Post(url+tlog.CosignaturesPath, "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
