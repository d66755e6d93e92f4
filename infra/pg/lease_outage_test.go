package pg_test

import (
	"bytes"
	"context"
	"encoding/json"
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
