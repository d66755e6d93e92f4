package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/portal/browsertest"
	"github.com/grassroots-ledger/ledger/infra/tlog"
)

// TestPublicLogEndpoints: serve signs checkpoints of its transparency log while commands are recorded; the
// public endpoints give the verifier key, the latest checkpoint as a note that verifies with it, and
// inclusion and consistency proofs that the library's verifier accepts against the signed roots. A
// tampered proof does not verify; bad parameters are 400 naming the parameter, sizes beyond the latest
// checkpoint 404.
func TestPublicLogEndpoints(t *testing.T) {
	db := onEmbeddedNode(t)
	srv := startServe(t, db, "--log-every", "3", "--log-interval", "200ms", "--log-origin", "ledger.test/龙湾区")
	get := srv.Get
	if st, _, _ := get(tlog.CheckpointPath); st != http.StatusNotFound {
		t.Fatalf("checkpoint of an empty log: %d, want 404", st)
	}
	st, _, vkey := get(tlog.KeyPath)
	if st != http.StatusOK || !strings.Contains(srv.Out.String(), strings.TrimSpace(string(vkey))) {
		t.Fatalf("key: %d %q (serve printed %q)", st, vkey, srv.Out.String())
	}
	verifier, err := note.NewVerifier(strings.TrimSpace(string(vkey)))
	if err != nil {
		t.Fatal(err)
	}
	checkpoint := func(min uint64) tlog.Checkpoint {
		t.Helper()
		var c tlog.Checkpoint
		waitUntil(t, "a checkpoint of the grown log", 30*time.Second, func() bool {
			st, h, body := get(tlog.CheckpointPath)
			if st != http.StatusOK {
				return false
			}
			if h.Get("Content-Type") != "text/plain; charset=utf-8" {
				t.Fatalf("checkpoint content type %q", h.Get("Content-Type"))
			}
			var err error
			if c, _, err = tlog.Open(body, verifier, "ledger.test/龙湾区"); err != nil {
				t.Fatalf("the checkpoint does not verify: %v\n%s", err, body)
			}
			return c.Size >= min
		})
		return c
	}
	admin := srv.Token(commands.RoleAdmin, "*")
	registerCommunity(t, srv, admin, c)
	first := checkpoint(5)
	for _, id := range []string{"log-1", "log-2", "log-3"} {
		if st := srv.Post("request-expenditure", admin, id, expenditure(c, id)); st != http.StatusOK {
			t.Fatalf("request-expenditure: %d", st)
		}
	}
	second := checkpoint(first.Size + 3)

	// Every event so far: its inclusion in the second checkpoint's tree, proved against its signed root.
	pool := testPool(t, db)
	rows, err := pool.Query(context.Background(), `SELECT commit_pos, prepare_pos, encode(hash, 'hex') FROM rm_audittrail.audit_events ORDER BY commit_pos, prepare_pos`)
	if err != nil {
		t.Fatal(err)
	}
	type ev struct {
		pos  eventlog.Position
		hash string
	}
	var evs []ev
	for rows.Next() {
		var c, p int64
		var h string
		if err := rows.Scan(&c, &p, &h); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev{eventlog.Position{Commit: uint64(c), Prepare: uint64(p)}, h})
	}
	rows.Close()
	// The portal's event page and its JSON say where the event stands in the log, with the proof's link.
	if st, _, page := get("/events/" + u(evs[2].pos.Commit)); st != http.StatusOK ||
		!strings.Contains(string(page), "第 2 号叶子") || !strings.Contains(string(page), "/api/v1/public/log/inclusion?position=") {
		t.Errorf("the event page of leaf 2: %d\n%s", st, page)
	}
	var pub struct {
		Events []struct {
			Log struct {
				LeafIndex uint64 `json:"leaf_index"`
				Included  bool
				ProofURL  string `json:"proof_url"`
			}
		}
	}
	if st, _, body := get("/api/v1/public/events/" + u(evs[2].pos.Commit)); st != http.StatusOK || json.Unmarshal(body, &pub) != nil ||
		len(pub.Events) != 1 || !pub.Events[0].Log.Included || pub.Events[0].Log.LeafIndex != 2 {
		t.Errorf("the public event of leaf 2: %d %s", st, body)
	} else if st, _, _ := get(pub.Events[0].Log.ProofURL); st != http.StatusOK {
		t.Errorf("its proof link %s: %d", pub.Events[0].Log.ProofURL, st)
	}

	proved := 0
	for i, e := range evs {
		st, h, body := get(tlog.InclusionPath + "?position=" + e.pos.String() + "&tree_size=" + u(second.Size))
		if uint64(i) >= second.Size {
			if st != http.StatusNotFound {
				t.Errorf("event %d beyond the checkpoint's tree: %d", i, st)
			}
			continue
		}
		var ip tlog.InclusionProof
		if st != http.StatusOK || json.Unmarshal(body, &ip) != nil || h.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Fatalf("inclusion of %s: %d %s %v", e.pos, st, body, h)
		}
		if ip.LeafIndex != uint64(i) || ip.Leaf != e.hash {
			t.Fatalf("inclusion of event %d: leaf %d %s, want %s", i, ip.LeafIndex, ip.Leaf, e.hash)
		}
		leaf, _ := hex.DecodeString(ip.Leaf)
		path := decode(t, ip.Proof)
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, ip.LeafIndex, ip.TreeSize, rfc6962.DefaultHasher.HashLeaf(leaf), path, second.Root); err != nil {
			t.Fatalf("inclusion of event %d does not verify: %v", i, err)
		}
		if len(path) > 0 {
			path[0][0] ^= 1
			if proof.VerifyInclusion(rfc6962.DefaultHasher, ip.LeafIndex, ip.TreeSize, rfc6962.DefaultHasher.HashLeaf(leaf), path, second.Root) == nil {
				t.Fatalf("a tampered inclusion proof of event %d verifies", i)
			}
		}
		proved++
	}
	if proved < 8 {
		t.Fatalf("only %d inclusion proofs", proved)
	}

	// A notice's event checked from outside, as a villager's auditor would: ledger log verify-notice.
	notice := func(hash string) (string, error) {
		root := newRootCmd()
		var out strings.Builder
		root.SetOut(&out)
		root.SetErr(io.Discard)
		root.SetArgs([]string{"log", "verify-notice", "--log", srv.Base, "--key", strings.TrimSpace(string(vkey)),
			"--position", evs[4].pos.String(), "--event-hash", hash})
		err := root.ExecuteContext(context.Background())
		return out.String(), err
	}
	if out, err := notice(evs[4].hash); err != nil || !strings.Contains(out, "included: leaf 4 ") {
		t.Fatalf("verify-notice of a genuine event: %q, %v", out, err)
	}
	if _, err := notice(evs[5].hash); !errors.Is(err, tlog.ErrNotIncluded) {
		t.Fatalf("verify-notice with another event's hash: %v, want ErrNotIncluded", err)
	}

	st, _, body := get(tlog.ConsistencyPath + "?from=" + u(first.Size) + "&to=" + u(second.Size))
	var cp tlog.ConsistencyProof
	if st != http.StatusOK || json.Unmarshal(body, &cp) != nil {
		t.Fatalf("consistency: %d %s", st, body)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, first.Size, second.Size, decode(t, cp.Proof), first.Root, second.Root); err != nil {
		t.Fatalf("the consistency proof does not verify: %v", err)
	}

	for path, field := range map[string]string{
		tlog.InclusionPath:                   "position",
		tlog.InclusionPath + "?position=abc": "position",
		tlog.InclusionPath + "?position=" + evs[0].pos.String() + "&tree_size=x":  "tree_size",
		tlog.ConsistencyPath + "?from=-1":                                         "from",
		tlog.ConsistencyPath + "?from=" + u(second.Size) + "&to=" + u(first.Size): "from",
	} {
		st, h, body := get(path)
		var p struct{ Field string }
		_ = json.Unmarshal(body, &p)
		if st != http.StatusBadRequest || p.Field != field || !strings.HasPrefix(h.Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s: %d %s, want 400 naming %s", path, st, body, field)
		}
	}
	if st, _, _ := get(tlog.ConsistencyPath + "?from=1&to=1000000"); st != http.StatusNotFound {
		t.Errorf("a size beyond the latest checkpoint: %d, want 404", st)
	}

	// A second serve on the same database with another key (another --data) refuses to start: it would
	// sign a second log in this ledger's name. With no key at all it refuses too, and makes none.
	if !srv.Stop(10 * time.Second) {
		t.Fatal("serve did not stop")
	}
	other := t.TempDir()
	serveOn := func() error {
		root := newRootCmd()
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		root.SetArgs([]string{"serve", "--data", other, "--http", "127.0.0.1:0", "--log-origin", "ledger.test/龙湾区"})
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		return root.ExecuteContext(ctx)
	}
	if err := serveOn(); err == nil || !strings.Contains(err.Error(), "there is no "+tlog.KeyFile) {
		t.Fatalf("serve without the log's key: %v, want a refusal", err)
	}
	if _, err := os.Stat(filepath.Join(other, tlog.KeyFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("serve refused, but made a key: %v", err)
	}
	if _, err := tlog.LoadOrCreateKey(other, "ledger.test/龙湾区"); err != nil {
		t.Fatal(err)
	}
	if err := serveOn(); err == nil || !strings.Contains(err.Error(), "did not sign this ledger's checkpoints") {
		t.Fatalf("serve with another log key: %v, want a refusal", err)
	}
}

func u(n uint64) string { return strconv.FormatUint(n, 10) }

func decode(t *testing.T, b64 []string) [][]byte {
	t.Helper()
	p, err := tlog.DecodeProof(b64)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestVerifyPageInTheBrowser: the portal's verifier page, in Chromium, checks with Web Crypto alone that
// an event is in the log — the checkpoint's Ed25519 signature with the log's key, then the inclusion proof
// to the signed root — and says so; another event's hash, or another key, fails the check.
func TestVerifyPageInTheBrowser(t *testing.T) {
	db := onEmbeddedNode(t)
	srv := startServe(t, db, "--log-every", "3", "--log-interval", "200ms")
	admin := srv.Token(commands.RoleAdmin, "*")
	registerCommunity(t, srv, admin, c)
	pool := testPool(t, db)
	ctx := context.Background()
	waitUntil(t, "a checkpoint including the first five events, and the audit trail holding them", 30*time.Second, func() bool {
		latest, err := tlog.Latest(ctx, pool)
		var n int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM rm_audittrail.audit_events`).Scan(&n)
		return err == nil && latest.Size >= 5 && n >= 5
	})
	var pos [2]string
	var hash [2]string
	for i := range 2 {
		var cp, pp int64
		if err := pool.QueryRow(ctx, `SELECT commit_pos, prepare_pos, encode(hash, 'hex') FROM rm_audittrail.audit_events ORDER BY commit_pos OFFSET $1 LIMIT 1`, 2+i).
			Scan(&cp, &pp, &hash[i]); err != nil {
			t.Fatal(err)
		}
		pos[i] = eventlog.Position{Commit: uint64(cp), Prepare: uint64(pp)}.String()
	}
	browser := browsertest.New(t)
	check := func(position, h, key string) (class, text string) {
		t.Helper()
		u := srv.Base + "/static/verify.html?" + url.Values{"position": {position}, "hash": {h}, "key": {key}}.Encode()
		run, cancel := context.WithTimeout(browser, 30*time.Second)
		defer cancel()
		if err := chromedp.Run(run, chromedp.Navigate(u),
			chromedp.WaitVisible(`#result.verified, #result.failed`, chromedp.ByQuery),
			chromedp.AttributeValue(`#result`, "class", &class, nil, chromedp.ByQuery),
			chromedp.Text(`#result`, &text, chromedp.ByQuery)); err != nil {
			t.Fatalf("verify %s in the browser: %v", position, err)
		}
		return class, text
	}
	if class, text := check(pos[0], hash[0], ""); class != "verified" || !strings.Contains(text, "已核验") {
		t.Fatalf("a genuine event: %s %q", class, text)
	}
	if class, text := check(pos[0], hash[1], ""); class != "failed" {
		t.Fatalf("another event's hash: %s %q", class, text)
	}
	other, err := tlog.LoadOrCreateKey(t.TempDir(), "ledger.local/district")
	if err != nil {
		t.Fatal(err)
	}
	if class, text := check(pos[1], hash[1], other.VerifierKey()); class != "failed" || !strings.Contains(text, "签名") {
		t.Fatalf("another key: %s %q", class, text)
	}
}
