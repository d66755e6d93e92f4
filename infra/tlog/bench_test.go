package tlog_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"strconv"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/esdbnode/nodetest"
	"github.com/grassroots-ledger/ledger/infra/tlog"
)

// BenchmarkVerify recomputes the tree of a real node's history (TLOG_BENCH_EVENTS events, default
// 200 000, in streams of 50 written by 8 writers) and compares it with a checkpoint, as `ledger verify`
// will: reading $all, hashing every event's content and every leaf.
func BenchmarkVerify(b *testing.B) {
	n := 200_000
	if s := os.Getenv("TLOG_BENCH_EVENTS"); s != "" {
		if v, err := strconv.Atoi(s); err == nil && v > 0 {
			n = v
		}
	}
	_, st := nodetest.Start(b, nil)
	ctx := context.Background()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for s := range n / 50 {
		g.Go(func() error {
			evs := make([]eventlog.Event, 50)
			for round := range evs {
				evs[round] = stepOf(s, round, fmt.Sprint("bench-", s)).event
			}
			_, err := st.Append(gctx, eventlog.StreamName("expenditure", "330303001001", fmt.Sprint(s)), eventlog.NoStream(), evs)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	key, err := tlog.LoadOrCreateKey(b.TempDir(), origin)
	if err != nil {
		b.Fatal(err)
	}
	// The checkpoint is the one Verify itself finds: sign what the first run recomputes.
	rep, err := tlog.Verify(ctx, tlog.VerifyConfig{Store: st, Verifier: key.Verifier()})
	if err != nil {
		b.Fatal(err)
	}
	root, err := base64.StdEncoding.DecodeString(rep.Root)
	if err != nil {
		b.Fatal(err)
	}
	cp, err := tlog.Sign(tlog.Checkpoint{Origin: origin, Size: rep.Size, Root: root}, key)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		rep, err := tlog.Verify(ctx, tlog.VerifyConfig{Store: st, Verifier: key.Verifier(), Checkpoints: [][]byte{cp}})
		if err != nil || !rep.Intact || rep.Size != uint64(n/50*50) {
			b.Fatalf("%+v, %v", rep, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
}
