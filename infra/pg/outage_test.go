package pg_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"
)

// logBuffer is a JSON log that goroutines may write to while a test reads its lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewJSONHandler(b, nil)) }

// lines returns the records logged, each as its fields.
func (b *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for l := range strings.Lines(b.buf.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// A poller failing four times a second for two minutes logs three lines, not 481: the first failure, and
// one a minute saying how many failed and for how long; then one when the database answers again. The
// next failure starts a new outage and is logged at once.
func TestOutageIsLoggedOnceAMinute(t *testing.T) {
	var b logBuffer
	log := b.logger()
	var o pg.Outage
	t0 := time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)
	refused := errors.New("connect: connection refused")
	for i := range 481 {
		o.Fail(log, t0.Add(time.Duration(i)*250*time.Millisecond), "portal: polling failed", refused)
	}
	o.Over(log, t0.Add(121*time.Second), "portal: polling again")
	o.Fail(log, t0.Add(122*time.Second), "portal: polling failed", refused)
	type line struct{ level, msg, failures, dur string }
	var got []line
	for _, m := range b.lines(t) {
		l := line{level: m["level"].(string), msg: m["msg"].(string)}
		if f, ok := m["failures"]; ok {
			l.failures, l.dur = fmt.Sprint(f), fmt.Sprint(m["for"])
		}
		if m["msg"] != "portal: polling again" && m["error"] != refused.Error() {
			t.Errorf("line %v does not carry the error", m)
		}
		got = append(got, l)
	}
	want := []line{
		{"WARN", "portal: polling failed", "", ""},
		{"WARN", "portal: polling failed (still failing)", "241", "1m0s"},
		{"WARN", "portal: polling failed (still failing)", "481", "2m0s"},
		{"INFO", "portal: polling again", "481", "2m1s"},
		{"WARN", "portal: polling failed", "", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("logged %d lines, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// A standby whose database is down tries the lease every Retry (here every 20 ms, for a second) and says
// so once, not fifty times; once the database is back it says so, takes the lease and works.
func TestLeaseLogsAnOutageOnce(t *testing.T) {
	t.Parallel()
	c := pgtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pool, err := pgxpool.New(ctx, c.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	c.Crash()
	var b logBuffer
	worked := make(chan struct{})
	l := &pg.Lease{Pool: pool, Name: "test worker", Logger: b.logger(), Retry: 20 * time.Millisecond, Check: 20 * time.Millisecond}
	done := make(chan error, 1)
	go func() {
		done <- l.Run(ctx, func(wctx context.Context) error {
			close(worked)
			<-wctx.Done()
			return nil
		})
	}()
	time.Sleep(time.Second)
	c.Start()
	select {
	case <-worked:
	case <-time.After(30 * time.Second):
		t.Fatal("the lease was not taken within 30 s of the database's return")
	}
	cancel()
	<-done
	count := map[string]int{}
	var failures string
	for _, m := range b.lines(t) {
		count[m["msg"].(string)]++
		if m["msg"] == "lease: can try test worker again" {
			failures = fmt.Sprint(m["failures"])
		}
	}
	if count["lease: cannot try test worker"] != 1 || count["lease: cannot try test worker (still failing)"] != 0 ||
		count["lease: can try test worker again"] != 1 {
		t.Fatalf("logged %v; want one line as the database went away and one as it came back", count)
	}
	if n, err := strconv.Atoi(failures); err != nil || n < 10 {
		t.Errorf("the line at the end of the outage counts %q failed tries; want the many made", failures)
	}
}
