package main

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/infra/esdbnode"
	"github.com/grassroots-ledger/ledger/infra/httpapi/apitest"
)

// TestServeStopsWithTheStoreGone: serve runs on an external node (EVENTSTORE_URL); the node is killed
// while commands, projections and the alert engine use it; serve still stops within 10 s of the signal.
// (A call blocked inside the client on a dead connection used to hold a database connection for ever,
// and with it the pool's Close and serve's exit.)
func TestServeStopsWithTheStoreGone(t *testing.T) {
	db := apitest.NewDatabase(t)
	node, err := esdbnode.Open(context.Background(), esdbnode.Config{Dir: t.TempDir(), Listen: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	t.Setenv("DATABASE_URL", db)
	t.Setenv("EVENTSTORE_URL", node.URL())
	srv := startServe(t, db)
	secret := srv.Token(commands.RoleAdmin, "*")
	post := func(key string) int {
		return srv.Post("register-jurisdiction", secret, key, `{"path":"33","name":"浙江省"}`)
	}
	if st := post("before"); st != http.StatusOK {
		t.Fatalf("a command with the store up: %d", st)
	}
	if err := node.Close(); err != nil {
		t.Fatal(err)
	}
	// Commands now fail (and must not hang for ever); the engine and the projections meet the dead store.
	for i := range 3 {
		if st := post("after-" + string(rune('a'+i))); st == http.StatusOK {
			t.Fatalf("a command was acknowledged with the store gone")
		}
	}
	time.Sleep(time.Second)
	signalled := time.Now()
	if !srv.Stop(10 * time.Second) {
		var b strings.Builder
		_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
		t.Fatalf("serve did not stop within 10 s of the signal with the store gone; goroutines:\n%s", b.String())
	}
	t.Logf("serve stopped %s after the signal", time.Since(signalled).Round(10*time.Millisecond))
}

// TestServeAnswersConcurrentAsOf: eight auditors ask serve (its own pool, sized from its work, on this
// machine's cores) for a community as of now at once, while the projections and the alert engine run:
// every request is answered — a snapshot, or 503 with Retry-After — and none hangs.
func TestServeAnswersConcurrentAsOf(t *testing.T) {
	db := onEmbeddedNode(t)
	srv := startServe(t, db)
	base := srv.Base
	admin, auditor := srv.Token(commands.RoleAdmin, "*"), srv.Token(commands.RoleAuditor, "*")
	post := func(name, key, body string) {
		t.Helper()
		if st := srv.Post(name, admin, key, body); st != http.StatusOK {
			t.Fatalf("%s: %d", name, st)
		}
	}
	for i, p := range []string{"33", "33/3303", "33/3303/330303", "33/3303/330303/330303001"} {
		post("register-jurisdiction", "j"+string(rune('a'+i)), `{"path":"`+p+`","name":"辖区"}`)
	}
	post("register-community", "c", `{"community_id":"330303001001","name":"罗西社区","kind":"urban","jurisdiction":"33/3303/330303/330303001/330303001001","households":1200,"adults":3000}`)
	at := time.Now().Add(time.Minute).UTC().Format(time.RFC3339)
	statuses := make(chan int, 8)
	client := &http.Client{Timeout: 3 * time.Minute}
	for range 8 {
		go func() {
			req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/audit/communities/330303001001/as-of?at="+at, nil)
			req.Header.Set("Authorization", "Bearer "+auditor)
			resp, err := client.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
				statuses <- -1
				return
			}
			statuses <- resp.StatusCode
		}()
	}
	ok := 0
	for range 8 {
		switch st := <-statuses; st {
		case http.StatusOK:
			ok++
		case http.StatusServiceUnavailable:
		default:
			t.Errorf("an as-of request was answered %d (0: no answer, -1: 503 without Retry-After)", st)
		}
	}
	if ok == 0 {
		t.Fatal("no as-of request got a snapshot")
	}
}
