package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
	"github.com/grassroots-ledger/ledger/infra/httpapi/apitest"
)

const serveChildEnv = "LEDGER_TEST_SERVE_CHILD" // "ADDR|DIR": run `ledger serve --http ADDR --data DIR` on the environment's store and database

// TestHelperServeProcess is `ledger serve` in a child process, for the tests that kill it.
func TestHelperServeProcess(t *testing.T) {
	addr, dir, _ := strings.Cut(os.Getenv(serveChildEnv), "|")
	if addr == "" {
		t.Skip("helper process for the several-serves tests")
	}
	root := newRootCmd()
	root.SetOut(os.Stdout)
	root.SetErr(os.Stderr)
	root.SetArgs([]string{"serve", "--http", addr, "--data", dir})
	_ = root.ExecuteContext(context.Background()) // until killed
}

// serveProcess is `ledger serve` in a child process of its own.
type serveProcess struct {
	*servedLedger
	cmd *exec.Cmd
}

// startServeProcess starts serve on the environment's DATABASE_URL and EVENTSTORE_URL, with data (the
// transparency log's key) in dir, and waits until it answers HTTP. Its log goes to the test's stderr.
func startServeProcess(t *testing.T, db, dir string) *serveProcess {
	t.Helper()
	addr := freeAddr(t)
	p := &serveProcess{servedLedger: &servedLedger{t: t, Base: "http://" + addr, db: db},
		cmd: startHelperProcess(t, "TestHelperServeProcess", serveChildEnv+"="+addr+"|"+dir, "ledger is serving", 60*time.Second)}
	t.Cleanup(p.kill)
	return p
}

// kill kills serve with SIGKILL: no shutdown, its lease connection dropped by the kernel.
func (p *serveProcess) kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
		p.cmd = nil
	}
}

// working reports whether this serve holds the worker lease (its ledger_worker_active gauge).
func (p *serveProcess) working() bool {
	resp, err := http.Get(p.Base + "/metrics")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.Contains(string(b), "\nledger_worker_active 1\n")
}

// TestServeStandbyTakesOver: two serve processes share one store and one database. Both answer commands;
// exactly one is the worker (projects, runs the alert engine). The worker is killed with SIGKILL: the other
// takes over, and what either acknowledged — before and after the kill — is projected exactly once, and
// the alert a payment calls for is raised exactly once, the one raised before the kill not again.
func TestServeStandbyTakesOver(t *testing.T) {
	db := apitest.NewDatabase(t)
	node := startNodeProcess(t, t.TempDir(), freeAddr(t))
	t.Setenv("DATABASE_URL", db)
	t.Setenv("EVENTSTORE_URL", node.URL())
	// The serves share one data directory, as every serve of a deployment shares the log's signing key.
	data := t.TempDir()
	serves := []*serveProcess{startServeProcess(t, db, data), startServeProcess(t, db, data)}
	var worker, standby *serveProcess
	waitUntil(t, "one serve to hold the worker lease", 60*time.Second, func() bool {
		a, b := serves[0].working(), serves[1].working()
		switch {
		case a && b:
			t.Fatal("both serves are workers")
		case a:
			worker, standby = serves[0], serves[1]
		case b:
			worker, standby = serves[1], serves[0]
		}
		return a || b
	})
	admin := worker.Token(commands.RoleAdmin, "*")
	registerCommunity(t, worker.servedLedger, admin, c)
	var ids []string
	request := func(via *serveProcess, n int) {
		t.Helper()
		for range n {
			id := fmt.Sprintf("ha-%02d", len(ids))
			if st := via.Post("request-expenditure", admin, id, expenditure(c, id)); st != http.StatusOK {
				t.Fatalf("request-expenditure %s: %d", id, st)
			}
			ids = append(ids, id)
		}
	}
	pay := func(via *serveProcess, id string) {
		t.Helper()
		if st := via.Post("pay-expenditure", admin, id+"-pay", `{"community_id":"`+c+`","expenditure_id":"`+id+`","voucher_no":"记-`+id+`"}`); st != http.StatusOK {
			t.Fatalf("pay-expenditure %s: %d", id, st)
		}
	}
	pool := testPool(t, db)
	ctx := context.Background()
	redAlerts := func() int {
		var n int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM rm_alerts.alerts WHERE rule = 'major-matter-resolution' AND severity = 'red'`).Scan(&n)
		return n
	}
	request(worker, 5)
	request(standby, 5)
	pay(standby, ids[0])
	waitUntil(t, "the red alert of the first payment", 60*time.Second, func() bool { return redAlerts() == 1 })

	worker.kill()
	killed := time.Now()
	request(standby, 5) // the survivor answers commands at once, worker or not
	waitUntil(t, "the survivor to take the worker lease", 60*time.Second, standby.working)
	t.Logf("the standby took over %s after the worker was killed", time.Since(killed).Round(10*time.Millisecond))
	request(standby, 5)
	pay(standby, ids[15])

	var finance, audit int
	tally := func() error {
		return pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM rm_finances.expenditures WHERE community_id = $1 AND expenditure_id = ANY($2)),
			(SELECT count(*) FROM rm_audittrail.audit_events WHERE stream LIKE 'expenditure-' || $1 || '-ha-%')`, c, ids).Scan(&finance, &audit)
	}
	waitUntil(t, "every acknowledged command in the read models, and the second alert", 60*time.Second, func() bool {
		return tally() == nil && finance >= len(ids) && audit >= len(ids)+2 && redAlerts() >= 2
	})
	if finance != len(ids) || audit != len(ids)+2 || redAlerts() != 2 {
		t.Fatalf("%d expenditures and %d audit rows for %d requests and 2 payments, %d red alerts", finance, audit, len(ids), redAlerts())
	}
	// In the store: each payment's alert raised once, by whichever worker saw it.
	store, err := eventstore.Dial(ctx, eventstore.Config{URL: node.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	alerts, err := store.Load(ctx, eventlog.AlertsStream("330303"))
	if err != nil {
		t.Fatal(err)
	}
	raised := map[string]int{}
	for _, e := range alerts {
		var a struct{ Rule, Subject string }
		if e.Type == "supervision.alert-raised" && json.Unmarshal(e.Data, &a) == nil && a.Rule == "major-matter-resolution" {
			raised[a.Subject]++
		}
	}
	for _, id := range []string{ids[0], ids[15]} {
		if n := raised["expenditure-"+c+"-"+id]; n != 1 {
			t.Errorf("the alert of the payment of %s was raised %d times in the store: %v", id, n, raised)
		}
	}
}
