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
	"github.com/grassroots-ledger/ledger/infra/keys"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/infra/supervision"
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

// movingLedger is a ledger served on an embedded node, then stopped, whose store holds $-stream events of
// its own among the ledger's (a copy leaves them out, so its events stand at other positions, as a
// cluster's byte offsets differ from a node's numbers): a webhook had one alert (x-2) delivered, the key
// store knows a person's last record and how far it checked the store.
type movingLedger struct {
	db, dir, admin string
	hooks          []string
	before         heldPositions
	mu             sync.Mutex
	bodies         []string
}

func newMovingLedger(t *testing.T) *movingLedger {
	l := &movingLedger{db: onEmbeddedNode(t), dir: t.TempDir(), hooks: []string{"--webhooks-allow-http", "--webhooks-allow-private"}}
	node := freeAddr(t)
	srv := startServe(t, l.db, append([]string{"--data", l.dir, "--node-listen", node}, l.hooks...)...)
	raw := nodetest.RawAt(t, "esdb://"+node+"?tls=false")
	probe := func(n int) {
		t.Helper()
		for range n {
			if _, err := raw.AppendToStream(context.Background(), "$probe", esdb.AppendToStreamOptions{},
				esdb.EventData{EventID: uuid.New(), EventType: "Probe", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		l.mu.Lock()
		l.bodies = append(l.bodies, string(b))
		l.mu.Unlock()
	}))
	t.Cleanup(recv.Close)

	probe(10)
	l.admin = srv.Token(commands.RoleAdmin, "*")
	registerCommunity(t, srv, l.admin, c)
	if st, _, b, err := srv.request(http.MethodPost, "/api/v1/webhooks", srv.Token(commands.RoleSupervisor, "*"), "wh", `{"url":"`+recv.URL+`"}`); err != nil || st != http.StatusCreated {
		t.Fatalf("register a webhook: %d %v %s", st, err, b)
	}
	probe(10)
	request := paidToPerson(c, "x-1", "p-42")[0] // an individual payee: personal data, sealed
	srv.PostResult(request.name, l.admin, "x-1", request.body)
	l.unapproved(t, srv, "x-2")
	probe(30)
	waitUntil(t, "the alert delivered", 60*time.Second, func() bool { return l.delivered("x-2") == 1 })
	// Started again, serve's key store reads what it has not read of the store: where the person was
	// last recorded, and how far it checked.
	if !srv.Stop(20 * time.Second) {
		t.Fatal("serve did not stop")
	}
	srv = startServe(t, l.db, append([]string{"--data", l.dir, "--node-listen", node}, l.hooks...)...)
	pool := testPool(t, l.db)
	waitUntil(t, "the key store to know the person's last record", 30*time.Second, func() bool {
		h := readHeldPositions(t, pool)
		return h.lastRecord > 0 && h.checked != ""
	})
	if !srv.Stop(20 * time.Second) {
		t.Fatal("serve did not stop")
	}
	l.before = readHeldPositions(t, pool)
	return l
}

// unapproved records a major expenditure paid without a resolution: an alert.
func (l *movingLedger) unapproved(t *testing.T, srv *servedLedger, id string) {
	t.Helper()
	srv.PostResult("request-expenditure", l.admin, "q-"+id, expenditure(c, id))
	srv.PostResult("pay-expenditure", l.admin, "p-"+id, `{"community_id":"`+c+`","expenditure_id":"`+id+`","voucher_no":"v-`+id+`"}`)
}

// delivered counts the webhook's deliveries that name id.
func (l *movingLedger) delivered(id string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, b := range l.bodies {
		if strings.Contains(b, id) {
			n++
		}
	}
	return n
}

// checkMoved checks that each position the database held (l.before) is now where the copy in dir has
// the last event at or before it.
func (l *movingLedger) checkMoved(t *testing.T, dir string, after heldPositions) {
	t.Helper()
	from, to := ledgerPositions(t, l.dir), ledgerPositions(t, dir)
	if len(from) != len(to) || len(from) == 0 {
		t.Fatalf("%d events in the source, %d in the copy", len(from), len(to))
	}
	moved := func(p int64) int64 {
		at := int64(0)
		for i, f := range from {
			if int64(f.Commit) <= p {
				at = int64(to[i].Commit)
			}
		}
		return at
	}
	checkedBefore, _ := eventlog.ParsePosition(l.before.checked)
	checkedAfter, _ := eventlog.ParsePosition(after.checked)
	for _, p := range []struct {
		what    string
		was, is int64
	}{
		{"the webhook's cursor", l.before.cursor, after.cursor},
		{"the webhook's delivery", l.before.delivery, after.delivery},
		{"the person's last record", l.before.lastRecord, after.lastRecord},
		{"how far the key store checked the store", int64(checkedBefore.Commit), int64(checkedAfter.Commit)},
	} {
		if want := moved(p.was); p.is != want || p.is == p.was {
			t.Errorf("%s: %d in the source, %d now; want %d, where the copy has that event", p.what, p.was, p.is, want)
		}
	}
}

// serveMoved serves the copy in dir with the database db (the two key files put beside it) and checks
// that the webhook gets the next alert (next) once and none it had (had) again: with the source's
// positions its cursor stood past the copy's new events, and it got nothing.
func (l *movingLedger) serveMoved(t *testing.T, dir, db, next string, had ...string) *servedLedger {
	t.Helper()
	t.Setenv("DATABASE_URL", db)
	copyKeyFile(t, l.dir, dir, "ledger-kek.key")
	copyKeyFile(t, l.dir, dir, "tlog-signer.key")
	srv := startServe(t, db, append([]string{"--data", dir}, l.hooks...)...)
	waitUntil(t, "the moved ledger to be ready", 60*time.Second, srv.Ready)
	l.unapproved(t, srv, next)
	waitUntil(t, "the moved ledger's alert delivered", 60*time.Second, func() bool { return l.delivered(next) == 1 })
	for _, id := range had {
		if n := l.delivered(id); n != 1 {
			t.Errorf("the alert %s, delivered before the move, was delivered %d times", id, n)
		}
	}
	return srv
}

// ledgerPositions is where each ledger event of the embedded node's store under dir stands, in $all order.
func ledgerPositions(t *testing.T, dir string) []eventlog.Position {
	t.Helper()
	ctx := context.Background()
	n, err := esdbnode.Open(ctx, esdbnode.Config{Dir: filepath.Join(dir, "events"), Logger: slog.New(slog.DiscardHandler)})
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

// TestARestoreMovesThePositionsTheDumpsHold: a backup of a store whose events stand elsewhere in the copy
// keeps the map from one to the other (positions.map), and restore moves every position the dumps hold
// to where the copy has that event: the webhook's cursor and delivery, the key store's last record of a
// person and how far it checked the store. Served again, the webhook gets the next alert and not the one
// it had. A backup whose copy keeps every position writes no map.
func TestARestoreMovesThePositionsTheDumpsHold(t *testing.T) {
	l := newMovingLedger(t)
	copied := filepath.Join(t.TempDir(), "backup")
	if out, err := runLedger(t, "backup", "--from", l.dir, "--to", copied, "--database-url", l.db, "--data", l.dir); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(copied, backupPositions)); err != nil {
		t.Fatalf("a backup whose copy moved its events kept no map of where: %v", err)
	}
	restored := apitest.NewDatabase(t)
	out, err := runLedger(t, "restore", "--from", copied, "--database-url", restored)
	if err != nil || !strings.Contains(out, "moved the $all positions") {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	l.checkMoved(t, copied, readHeldPositions(t, testPool(t, restored)))
	srv := l.serveMoved(t, copied, restored, "x-3", "x-2")

	// A copy of the copy, an embedded node's into another's, keeps every position: no map.
	if !srv.Stop(20 * time.Second) {
		t.Fatal("the restored serve did not stop")
	}
	again := filepath.Join(t.TempDir(), "again")
	if out, err := runLedger(t, "backup", "--from", copied, "--to", again, "--database-url", restored, "--data", copied); err != nil {
		t.Fatalf("backup of the restored ledger: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(again, backupPositions)); err == nil {
		t.Errorf("a backup whose copy keeps every position wrote %s", backupPositions)
	}
}

// TestCopyStoreMovesTheDatabaseWithTheHistory: copy-store --move-database into a store whose positions
// are not the source's moves the database's positions as restore does and drops its read models; served
// with the copy, the read models are built again from it, the webhook gets the next alert once, and
// nothing is logged at error level. Run again, it moves nothing (the database names the copy's positions
// already). A database a serve works on is refused, changing nothing; a copy that keeps every position
// leaves the database as it is.
func TestCopyStoreMovesTheDatabaseWithTheHistory(t *testing.T) {
	l := newMovingLedger(t)
	target := t.TempDir()
	// A serve working on the database holds the worker lease (taken here as serve takes it).
	pool := testPool(t, l.db)
	ctx, stop := context.WithCancel(context.Background())
	lease := &pg.Lease{Pool: pool, Name: workerLease, Grace: time.Millisecond}
	leased := make(chan error, 1)
	go func() { leased <- lease.Run(ctx, func(ctx context.Context) error { <-ctx.Done(); return nil }) }()
	waitUntil(t, "the worker lease to be held", 30*time.Second, lease.Active)
	if out, err := runLedger(t, "copy-store", "--from", l.dir, "--to", target, "--move-database", l.db); err == nil || !strings.Contains(err.Error(), "a serve is working") {
		t.Fatalf("copy-store --move-database with a serve working on the database: %v\n%s", err, out)
	}
	stop()
	<-leased
	if _, err := os.Stat(filepath.Join(target, "events")); err == nil {
		t.Fatal("the refused copy-store wrote a copy")
	}
	out, err := runLedger(t, "copy-store", "--from", l.dir, "--to", target, "--move-database", l.db)
	if err != nil || !strings.Contains(out, "moved the database's $all positions") {
		t.Fatalf("copy-store --move-database: %v\n%s", err, out)
	}
	moved := readHeldPositions(t, pool)
	l.checkMoved(t, target, moved)
	// Run again, the database is not moved twice: it names the copy's positions already.
	if out, err := runLedger(t, "copy-store", "--from", l.dir, "--to", target, "--move-database", l.db); err != nil || !strings.Contains(out, "nothing to move") {
		t.Fatalf("copy-store --move-database again: %v\n%s", err, out)
	}
	if again := readHeldPositions(t, pool); again != moved {
		t.Fatalf("moved twice: %+v, then %+v", moved, again)
	}
	var models int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rm\_%'`).Scan(&models); err != nil || models != 0 {
		t.Fatalf("the moved database keeps %d read models (%v)", models, err)
	}
	srv := l.serveMoved(t, target, l.db, "x-3", "x-2")
	if st, _, b := srv.Get("/c/" + c); st != http.StatusOK || !strings.Contains(string(b), "罗西社区") {
		t.Errorf("the community's page from the rebuilt read models: %d", st)
	}
	if !srv.Stop(20 * time.Second) {
		t.Fatal("serve did not stop")
	}
	if log := srv.Log.String(); strings.Contains(log, "level=ERROR") {
		t.Errorf("the moved ledger's serve logged errors:\n%s", log)
	}

	// Between embedded nodes every event keeps its position: the database is left as it is.
	again := t.TempDir()
	if out, err := runLedger(t, "copy-store", "--from", target, "--to", again, "--move-database", l.db); err != nil || !strings.Contains(out, "serves it as it is") {
		t.Fatalf("copy-store --move-database of a copy that keeps its positions: %v\n%s", err, out)
	}

	// And on, into a store whose positions run ahead of the source's (its own $-stream events first, as
	// a cluster's byte offsets run ahead of a node's numbers): moved again, served, the next alert once.
	ahead := t.TempDir()
	n, err := esdbnode.Open(context.Background(), esdbnode.Config{Dir: filepath.Join(ahead, "events"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for range 25 {
		if _, err := nodetest.Raw(t, n).AppendToStream(context.Background(), "$probe", esdb.AppendToStreamOptions{},
			esdb.EventData{EventID: uuid.New(), EventType: "Probe", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if out, err := runLedger(t, "copy-store", "--from", target, "--to", ahead, "--move-database", l.db); err != nil || !strings.Contains(out, "moved the database's $all positions") {
		t.Fatalf("copy-store --move-database into a store whose positions run ahead: %v\n%s", err, out)
	}
	if !l.serveMoved(t, ahead, l.db, "x-4", "x-2", "x-3").Stop(20 * time.Second) {
		t.Fatal("serve did not stop")
	}
}

// A cluster writes the events of one transaction at one commit position, told apart by their prepare
// positions: the map keeps both, and each position is moved to where the copy has the last event at or
// before it, by commit and prepare where the column keeps both.
func TestPositionsSharingACommitAreMovedByTheirPrepare(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t, apitest.NewDatabase(t))
	if err := keys.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if err := supervision.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	at := func(c, p uint64) eventlog.Position { return eventlog.Position{Commit: c, Prepare: p} }
	pairs := []positionPair{{at(100, 80), at(5, 5)}, {at(100, 90), at(6, 6)}, {at(200, 200), at(7, 7)}}
	for _, q := range []string{
		`INSERT INTO alerting.webhooks (id, url, under, secret, owner, created_at, cursor_commit, cursor_prepare)
			VALUES ('wh', 'https://example.org', '33', 's', 'o', now(), 100, 85)`,
		`INSERT INTO keystore.subjects (subject, community_id, jurisdiction, last_stream, last_revision, last_commit)
			VALUES ('p', 'c', '33', 's', 0, 100)`,
		`INSERT INTO keystore.store_check (checked_to) VALUES ('200/200')`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := movePositions(ctx, pool, pairs, false); err != nil {
		t.Fatal(err)
	}
	var cc, cp, last int64
	var checked string
	if err := pool.QueryRow(ctx, `SELECT (SELECT cursor_commit FROM alerting.webhooks), (SELECT cursor_prepare FROM alerting.webhooks),
		(SELECT last_commit FROM keystore.subjects), (SELECT checked_to FROM keystore.store_check)`).Scan(&cc, &cp, &last, &checked); err != nil {
		t.Fatal(err)
	}
	// The cursor at 100/85 stood after the first event of the transaction and before the second.
	if cc != 5 || cp != 5 || last != 6 || checked != "7/7" {
		t.Fatalf("moved: cursor %d/%d (want 5/5), last record %d (want 6), checked to %s (want 7/7)", cc, cp, last, checked)
	}
}
