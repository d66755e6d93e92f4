package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"
)

var rebuiltEvents = regexp.MustCompile(`: done, (\d+) events in`)

// BenchmarkRebuildAll is `ledger rebuild` of every read model as an operator runs it: the command line,
// the embedded node read through the EventStoreDB client over gRPC, every model (audit trail, directory,
// board, finances, elections, meetings, alerts, transparency log) into its shadow schema, and the swaps.
// The history is the demo's (`ledger demo --events LEDGER_BENCH_EVENTS`, default 200 000; made once,
// outside the timing). events/s counts the history's events once per rebuild, as the command's own line
// does. For the figures in the README, time the command itself on a million events (`make bench` keeps
// this one to minutes).
func BenchmarkRebuildAll(b *testing.B) {
	n := 200_000
	if s := os.Getenv("LEDGER_BENCH_EVENTS"); s != "" {
		if v, err := strconv.Atoi(s); err == nil && v > 0 {
			n = v
		}
	}
	dir, db := b.TempDir(), pgtest.NewDatabase(b)
	b.Setenv("EVENTSTORE_URL", "")
	run := func(args ...string) string {
		b.Helper()
		root := newRootCmd()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs(args)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		if err := root.ExecuteContext(ctx); err != nil {
			b.Fatalf("ledger %v: %v\n%s", args, err, out.String())
		}
		return out.String()
	}
	run("demo", "--events", strconv.Itoa(n), "--data", dir, "--until", "2026-12-01", "--database-url", db)
	b.ResetTimer()
	var events int
	start := time.Now()
	for range b.N {
		out := run("rebuild", "--data", dir, "--database-url", db)
		m := rebuiltEvents.FindStringSubmatch(out)
		if m == nil {
			b.Fatalf("rebuild printed no final count:\n%s", out)
		}
		k, _ := strconv.Atoi(m[1])
		events += k
	}
	b.ReportMetric(float64(events)/time.Since(start).Seconds(), "events/s")
}
