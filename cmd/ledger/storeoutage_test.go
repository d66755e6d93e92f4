package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/infra/httpapi/apitest"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"

	"github.com/jackc/pgx/v5/pgxpool"
)

const nodeChildEnv = "LEDGER_TEST_NODE_CHILD" // "DIR|ADDR": run `ledger node --data DIR --listen ADDR`

// TestHelperNodeProcess is not a test: the store-outage tests run the test binary again with it to get
// `ledger node` in a process of its own that they can kill -9.
func TestHelperNodeProcess(t *testing.T) {
	spec := os.Getenv(nodeChildEnv)
	if spec == "" {
		t.Skip("helper process for the store-outage tests")
	}
	dir, addr, _ := strings.Cut(spec, "|")
	root := newRootCmd()
	root.SetOut(os.Stdout)
	root.SetErr(os.Stderr)
	root.SetArgs([]string{"node", "--data", dir, "--listen", addr})
	_ = root.ExecuteContext(context.Background()) // until killed
}

// nodeProcess is `ledger node` in a child process.
type nodeProcess struct {
	t         *testing.T
	dir, addr string
	cmd       *exec.Cmd
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startNodeProcess starts the node on dir and addr and waits until it listens.
func startNodeProcess(t *testing.T, dir, addr string) *nodeProcess {
	t.Helper()
	n := &nodeProcess{t: t, dir: dir, addr: addr}
	n.start()
	t.Cleanup(func() { n.kill() })
	return n
}

func (n *nodeProcess) URL() string { return "esdb://" + n.addr + "?tls=false" }

func (n *nodeProcess) start() {
	n.t.Helper()
	n.cmd = startHelperProcess(n.t, "TestHelperNodeProcess", nodeChildEnv+"="+n.dir+"|"+n.addr, "listening on", 30*time.Second)
}

// startHelperProcess runs this test binary's helper test (a `ledger` command in a process of its own)
// with env added to the environment, its stderr on the test's, and waits until its standard output
// says ready.
func startHelperProcess(t *testing.T, helper, env, ready string, within time.Duration) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+helper+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), ready) {
				close(started)
				break
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case <-started:
	case <-time.After(within):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("%s did not say %q within %s", helper, ready, within)
	}
	return cmd
}

// kill kills the node with SIGKILL: no shutdown, no flush beyond what it acknowledged.
func (n *nodeProcess) kill() {
	if n.cmd != nil && n.cmd.Process != nil {
		_ = n.cmd.Process.Kill()
		_ = n.cmd.Wait()
		n.cmd = nil
	}
}

// TestServeRecoversFromANodeKilled: serve runs on an external node (EVENTSTORE_URL) in a process of its
// own, which is killed with SIGKILL and started again on the same data and address. Without a restart of
// serve: while the node is down a command is refused (not acknowledged, and it does not hang); once it
// is back, the command path acknowledges again, the subscription projects what is recorded after the
// restart, the alert engine raises the alert that fact calls for (a major payment without a resolution:
// red) and the read models take it in; /readyz is ready again; and serve still stops on SIGINT.
func TestServeRecoversFromANodeKilled(t *testing.T) {
	db := apitest.NewDatabase(t)
	srv, node, admin := serveOnNodeProcess(t, db)
	waitUntil(t, "serve to be ready", 60*time.Second, srv.Ready)

	node.kill()
	if st := srv.Post("request-expenditure", admin, "x-down", expenditure(c, "x-down")); st == http.StatusOK || st == 0 {
		t.Fatalf("a command with the node killed: %d (0: no answer within 30 s); want a refusal", st)
	}
	time.Sleep(2 * time.Second) // the subscription, the engine and the client meet the dead node
	node.start()

	// The command path: acknowledged again (each attempt answers; the first ones may still be refused
	// while the client reconnects).
	waitUntil(t, "a command to be acknowledged after the node's restart", 60*time.Second, func() bool {
		st := srv.Post("request-expenditure", admin, "x-after", expenditure(c, "x-after"))
		if st == 0 {
			t.Fatal("a command got no answer within 30 s after the node's restart")
		}
		return st == http.StatusOK
	})
	if st := srv.Post("pay-expenditure", admin, "x-after-pay", `{"community_id":"`+c+`","expenditure_id":"x-after","voucher_no":"记-1"}`); st != http.StatusOK {
		t.Fatalf("pay-expenditure after the restart: %d", st)
	}
	// The subscription and the alert engine: the payment reaches the read models, and the engine's red
	// alert for it is appended and projected.
	ctx := context.Background()
	pool := testPool(t, db)
	waitUntil(t, "the red alert for the payment after the restart", 60*time.Second, func() bool {
		var n int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM rm_alerts.alerts WHERE rule = 'major-matter-resolution' AND subject = $1 AND severity = 'red'`,
			"expenditure-"+c+"-x-after").Scan(&n)
		return err == nil && n == 1
	})
	waitUntil(t, "serve to be ready again", 60*time.Second, srv.Ready)
	if !srv.Stop(10 * time.Second) {
		t.Fatal("serve did not stop within 10 s of the signal after the node's restart")
	}
	// The operator is told of the outage once by each part that met it, and that the store answers again:
	// not a line at every retry.
	log := srv.Log.String()
	for _, m := range []string{"eventstore: the client is replaced", "alerting engine: cycle failed", "projection runtime: $all subscription dropped"} {
		if n := strings.Count(log, `msg="`+m); n > 1 {
			t.Errorf("serve logged %q %d times over an outage of seconds; want once", m, n)
		}
	}
	if n := strings.Count(log, `msg="eventstore: the event store answers again"`); n != 1 {
		t.Errorf("serve said the store answers again %d times; want once", n)
	}
}

// c is the community the store-outage tests record for.
const c = "330303001001"

// serveOnNodeProcess runs serve on db and on `ledger node` in a process of its own, with an admin token
// and community c registered.
func serveOnNodeProcess(t *testing.T, db string) (*servedLedger, *nodeProcess, string) {
	t.Helper()
	node := startNodeProcess(t, t.TempDir(), freeAddr(t))
	t.Setenv("DATABASE_URL", db)
	t.Setenv("EVENTSTORE_URL", node.URL())
	srv := startServe(t, db)
	admin := srv.Token(commands.RoleAdmin, "*")
	registerCommunity(t, srv, admin, c)
	return srv, node, admin
}

// registerCommunity registers community c of 永中街道 and the jurisdictions above it.
func registerCommunity(t *testing.T, srv *servedLedger, admin, c string) {
	t.Helper()
	for i, body := range []string{
		`{"path":"33","name":"浙江省"}`, `{"path":"33/3303","name":"温州市"}`, `{"path":"33/3303/330303","name":"龙湾区"}`,
		`{"path":"33/3303/330303/330303001","name":"永中街道"}`,
	} {
		if st := srv.Post("register-jurisdiction", admin, "j-"+string(rune('a'+i)), body); st != http.StatusOK {
			t.Fatalf("register-jurisdiction %s: %d", body, st)
		}
	}
	if st := srv.Post("register-community", admin, "c", `{"community_id":"`+c+`","name":"罗西社区","kind":"urban",`+
		`"jurisdiction":"33/3303/330303/330303001/`+c+`","households":1800,"adults":3600}`); st != http.StatusOK {
		t.Fatalf("register-community: %d", st)
	}
}

func expenditure(c, id string) string {
	return `{"community_id":"` + c + `","expenditure_id":"` + id + `","fiscal_year":2026,"category":"project","kind":"other",` +
		`"purpose":"道路硬化","amount_fen":8000000,"payee":{"kind":"organisation","organisation":"某工程公司"}}`
}

// Ready reports whether serve's /readyz answers 200.
func (s *servedLedger) Ready() bool {
	resp, err := http.Get(s.Base + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// testPool is a one-connection pool on db, closed when the test ends.
func testPool(t *testing.T, db string) *pgxpool.Pool {
	t.Helper()
	pool, err := pg.Connect(context.Background(), pg.Config{URL: db, MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// waitUntil polls cond until it holds, or fails the test after timeout.
func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestChaos: under a steady stream of commands, the external node is killed with SIGKILL and started
// again, then PostgreSQL (a cluster of the test's own, holding the read models and the tokens) is crashed
// and started again, all under one `ledger serve` that is never restarted. Afterwards every command that
// was acknowledged is in the read models, exactly once; no model halted or recorded a poison event; serve
// is ready and stops on SIGINT.
func TestChaos(t *testing.T) {
	pgc := pgtest.New(t)
	db := pgc.URL()
	srv, node, admin := serveOnNodeProcess(t, db)

	// The steady stream: one command every 20 ms, each a new expenditure; a refused one is retried with
	// the same idempotency key until it is acknowledged or the stream stops.
	var mu sync.Mutex
	acked := map[string]bool{}
	refusals := 0
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			id := fmt.Sprintf("chaos-%04d", i)
			for {
				select {
				case <-stop:
					return
				default:
				}
				st := srv.Post("request-expenditure", admin, id, expenditure(c, id))
				if st == http.StatusOK {
					mu.Lock()
					acked[id] = true
					mu.Unlock()
					break
				}
				mu.Lock()
				refusals++
				mu.Unlock()
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acked)
	}
	progress := func(what string) {
		t.Helper()
		n := count()
		waitUntil(t, "commands to be acknowledged "+what, 90*time.Second, func() bool { return count() >= n+5 })
	}
	progress("at the start")
	node.kill()
	time.Sleep(time.Second)
	node.start()
	progress("after the node's restart")
	pgc.Crash()
	progress("while PostgreSQL is down") // the event store is up, the token remembered
	// It still records and serves, so a load balancer's check says to keep sending it traffic, while
	// /healthz says what is wrong.
	if st, _, _ := srv.Get("/livez"); st != http.StatusOK {
		t.Errorf("/livez while PostgreSQL is down: %d, want 200: the serve still records commands", st)
	}
	if st, _, b := srv.Get("/healthz"); st != http.StatusServiceUnavailable || !bytes.Contains(b, []byte(`"database":{"reachable":false`)) {
		t.Errorf("/healthz while PostgreSQL is down: %d %s", st, b)
	}
	pgc.Start()
	progress("after PostgreSQL's restart")
	close(stop)
	<-done
	mu.Lock()
	ids := make([]string, 0, len(acked))
	for id := range acked {
		ids = append(ids, id)
	}
	t.Logf("%d commands acknowledged, %d attempts refused during the outages", len(ids), refusals)
	mu.Unlock()

	ctx := context.Background()
	pool := testPool(t, db)
	// Every model catches up on its own time (each retries its batches with backoff after the outage):
	// wait until both the finances and the audit trail hold every acknowledged command, then count.
	var finance, audit, halted, poison int
	tally := func() error {
		return pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM rm_finances.expenditures WHERE community_id = $1 AND expenditure_id = ANY($2)),
			(SELECT count(*) FROM rm_audittrail.audit_events WHERE stream LIKE 'expenditure-' || $1 || '-chaos-%'),
			(SELECT count(*) FROM rm_meta.projections WHERE state <> 'running'),
			(SELECT count(*) FROM rm_meta.poison_events)`, c, ids).Scan(&finance, &audit, &halted, &poison)
	}
	waitUntil(t, "every acknowledged command in the read models", 120*time.Second, func() bool {
		return tally() == nil && finance >= len(ids) && audit >= len(ids)
	})
	if err := tally(); err != nil {
		t.Fatal(err)
	}
	if finance != len(ids) || audit != len(ids) || halted != 0 || poison != 0 {
		t.Fatalf("after the chaos: %d expenditures and %d audit rows for %d acknowledged commands, %d models not running, %d poison events",
			finance, audit, len(ids), halted, poison)
	}
	waitUntil(t, "serve to be ready", 60*time.Second, srv.Ready)
	if !srv.Stop(10 * time.Second) {
		t.Fatal("serve did not stop within 10 s of the signal after the chaos")
	}
}
