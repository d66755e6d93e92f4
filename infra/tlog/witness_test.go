package tlog_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
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
	own, err := tlog.LoadOrCreateKey(state, "witness.test")
	if err != nil {
		t.Fatal(err)
	}
	st, db := newStore(t), newLogDB(t)
	url := serveLog(t, db, own.Verifier())
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
	n, err := note.Open(served, note.VerifierList(db.key.Verifier(), own.Verifier()))
	if err != nil || len(n.Sigs) != 2 {
		t.Fatalf("the served checkpoint with its cosignature: %v, %d signatures\n%s", err, len(n.Sigs), served)
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
	w.Log = serveLog(t, forkDB, own.Verifier())
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

	// The endpoint refuses a cosignature by a key it does not know, and one over a size never signed.
	stranger, _ := tlog.LoadOrCreateKey(t.TempDir(), "stranger.test")
	c50, _, _ := tlog.Open(served, db.key.Verifier(), origin)
	line, _ := stranger.Cosign(c50)
	if st := post(t, url, c50.Body()+"\n"+string(line)); st != http.StatusForbidden {
		t.Fatalf("a stranger's cosignature: %d, want 403", st)
	}
	c50.Size = 49
	line, _ = own.Cosign(c50)
	if st := post(t, url, c50.Body()+"\n"+string(line)); st != http.StatusNotFound {
		t.Fatalf("a cosignature of a size never signed: %d, want 404", st)
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
