package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/esdbnode"
	"github.com/grassroots-ledger/ledger/infra/esdbnode/nodetest"
	"github.com/grassroots-ledger/ledger/infra/httpapi/apitest"
)

// heldPositions are the $all positions a ledger's database holds outside its read models, as the dumps
// of a backup carry them.
type heldPositions struct {
	cursor, delivery, lastRecord int64
	checked                      string
}

func readHeldPositions(t *testing.T, pool *pgxpool.Pool) heldPositions {
	t.Helper()
	var h heldPositions
	if err := pool.QueryRow(context.Background(), `SELECT
		coalesce((SELECT cursor_commit FROM alerting.webhooks), 0),
		coalesce((SELECT max(commit_pos) FROM alerting.deliveries), 0),
		coalesce((SELECT max(last_commit) FROM keystore.subjects), 0),
		coalesce((SELECT checked_to FROM keystore.store_check), '')`).Scan(&h.cursor, &h.delivery, &h.lastRecord, &h.checked); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestARestoreMovesThePositionsTheDumpsHold: a backup of a store whose events stand elsewhere in the copy
// (here the source's own $-stream events, which a copy leaves out, as a cluster's byte offsets differ from
// a node's numbers) keeps the map from one to the other (positions.map), and restore moves every position
// the dumps hold to where the copy has that event: the webhook's cursor and delivery, the key store's last
// record of a person and how far it checked the store. Served again, the webhook gets the next alert and
// not the one it had; with the source's positions its cursor stood past the copy's new events, and it got
// nothing. A backup whose copy keeps every position writes no map.
func TestARestoreMovesThePositionsTheDumpsHold(t *testing.T) {
	db := onEmbeddedNode(t)
	dir, copied := t.TempDir(), filepath.Join(t.TempDir(), "backup")
	node := freeAddr(t)
	hooks := []string{"--webhooks-allow-http", "--webhooks-allow-private"}
	srv := startServe(t, db, append([]string{"--data", dir, "--node-listen", node}, hooks...)...)
	ctx := context.Background()

	raw := nodetest.RawAt(t, "esdb://"+node+"?tls=false")
	probe := func(n int) {
		t.Helper()
		for range n {
			if _, err := raw.AppendToStream(ctx, "$probe", esdb.AppendToStreamOptions{},
				esdb.EventData{EventID: uuid.New(), EventType: "Probe", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var mu sync.Mutex
	var bodies []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
	}))
	defer recv.Close()
	delivered := func(id string) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, b := range bodies {
			if strings.Contains(b, id) {
				n++
			}
		}
		return n
	}
	unapproved := func(srv *servedLedger, admin, id string) { // a major expenditure paid without a resolution: an alert
		t.Helper()
		srv.PostResult("request-expenditure", admin, "q-"+id, expenditure(c, id))
		srv.PostResult("pay-expenditure", admin, "p-"+id, `{"community_id":"`+c+`","expenditure_id":"`+id+`","voucher_no":"v-`+id+`"}`)
	}

	probe(10)
	admin := srv.Token(commands.RoleAdmin, "*")
	registerCommunity(t, srv, admin, c)
	if st, _, b, err := srv.request(http.MethodPost, "/api/v1/webhooks", srv.Token(commands.RoleSupervisor, "*"), "wh", `{"url":"`+recv.URL+`"}`); err != nil || st != http.StatusCreated {
		t.Fatalf("register a webhook: %d %v %s", st, err, b)
	}
	probe(10)
	request := paidToPerson(c, "x-1", "p-42")[0] // an individual payee: personal data, sealed
	srv.PostResult(request.name, admin, "x-1", request.body)
	unapproved(srv, admin, "x-2")
	probe(30)
	waitUntil(t, "the alert delivered", 30*time.Second, func() bool { return delivered("x-2") == 1 })
	// Started again, serve's key store reads what it has not read of the store: where the person was
	// last recorded, and how far it checked.
	if !srv.Stop(20 * time.Second) {
		t.Fatal("serve did not stop")
	}
	srv = startServe(t, db, append([]string{"--data", dir, "--node-listen", node}, hooks...)...)
	pool := testPool(t, db)
	waitUntil(t, "the key store to know the person's last record", 30*time.Second, func() bool {
		h := readHeldPositions(t, pool)
		return h.lastRecord > 0 && h.checked != ""
	})
	if !srv.Stop(20 * time.Second) {
		t.Fatal("serve did not stop")
	}
	before := readHeldPositions(t, pool)

	if out, err := runLedger(t, "backup", "--from", dir, "--to", copied, "--database-url", db, "--data", dir); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(copied, backupPositions)); err != nil {
		t.Fatalf("a backup whose copy moved its events kept no map of where: %v", err)
	}
	// Where each event stands in the source and in the copy, read with the client from both.
	positions := func(sub string) []eventlog.Position {
		n, err := esdbnode.Open(ctx, esdbnode.Config{Dir: filepath.Join(sub, "events"), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		rs, err := nodetest.Raw(t, n).ReadAll(ctx, esdb.ReadAllOptions{From: esdb.Start{}}, 1_000_000)
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		var out []eventlog.Position
		for {
			ev, err := rs.Recv()
			if err != nil {
				return out
			}
			if !eventlog.SystemStream(ev.Event.StreamID) {
				out = append(out, eventlog.Position{Commit: ev.Event.Position.Commit, Prepare: ev.Event.Position.Prepare})
			}
		}
	}
	from, to := positions(dir), positions(copied)
	if len(from) != len(to) || len(from) == 0 {
		t.Fatalf("%d events in the source, %d in the copy", len(from), len(to))
	}
	moved := func(p int64) int64 { // where the last event at or before p stands in the copy
		at := int64(0)
		for i, f := range from {
			if int64(f.Commit) <= p {
				at = int64(to[i].Commit)
			}
		}
		return at
	}

	restored := apitest.NewDatabase(t)
	out, err := runLedger(t, "restore", "--from", copied, "--database-url", restored)
	if err != nil || !strings.Contains(out, "moved the $all positions") {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	after := readHeldPositions(t, testPool(t, restored))
	checkedBefore, _ := eventlog.ParsePosition(before.checked)
	checkedAfter, _ := eventlog.ParsePosition(after.checked)
	for _, p := range []struct {
		what    string
		was, is int64
	}{
		{"the webhook's cursor", before.cursor, after.cursor},
		{"the webhook's delivery", before.delivery, after.delivery},
		{"the person's last record", before.lastRecord, after.lastRecord},
		{"how far the key store checked the store", int64(checkedBefore.Commit), int64(checkedAfter.Commit)},
	} {
		if want := moved(p.was); p.is != want || p.is == p.was {
			t.Errorf("%s: %d in the source, %d restored; want %d, where the copy has that event", p.what, p.was, p.is, want)
		}
	}

	t.Setenv("DATABASE_URL", restored)
	copyKeyFile(t, dir, copied, "ledger-kek.key")
	copyKeyFile(t, dir, copied, "tlog-signer.key")
	srv = startServe(t, restored, append([]string{"--data", copied}, hooks...)...)
	waitUntil(t, "the restored serve to be ready", 60*time.Second, srv.Ready)
	unapproved(srv, admin, "x-3")
	waitUntil(t, "the restored ledger's alert delivered", 30*time.Second, func() bool { return delivered("x-3") == 1 })
	if n := delivered("x-2"); n != 1 {
		t.Errorf("the alert delivered before the backup was delivered %d times", n)
	}

	// A copy of the copy, an embedded node's into another's, keeps every position: no map.
	again := filepath.Join(t.TempDir(), "again")
	if !srv.Stop(20 * time.Second) {
		t.Fatal("the restored serve did not stop")
	}
	if out, err := runLedger(t, "backup", "--from", copied, "--to", again, "--database-url", restored, "--data", copied); err != nil {
		t.Fatalf("backup of the restored ledger: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(again, backupPositions)); err == nil {
		t.Errorf("a backup whose copy keeps every position wrote %s", backupPositions)
	}
}
