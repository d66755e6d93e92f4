package tlog_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/esdbnode/nodetest"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"
	"github.com/grassroots-ledger/ledger/infra/tlog"
	ptlog "github.com/grassroots-ledger/ledger/projections/tlog"
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

// BenchmarkInclusionEndpoint asks GET /api/v1/public/log/inclusion, over HTTP as the public does, for
// random events of a tree of TLOG_BENCH_LEAVES leaves (default 1 000 000, built straight into rm_tlog with
// the read model's Apply, then analyzed as autovacuum would) at the size of its signed checkpoint, and
// reports the p50 and p99 latency: sequentially ("serial") and from 4 clients at once ("parallel-4").
// Each op is 2 000 requests.
func BenchmarkInclusionEndpoint(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("TLOG_BENCH_LEAVES"); s != "" {
		if v, err := strconv.Atoi(s); err == nil && v > 0 {
			n = v
		}
	}
	ctx := context.Background()
	pool, err := pg.Connect(ctx, pg.Config{URL: pgtest.NewDatabase(b), MaxConns: 8})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	if err := pg.Migrate(ctx, pool, ptlog.Schema, "schema_migrations", ptlog.Model{}.Migrations()); err != nil {
		b.Fatal(err)
	}
	if err := tlog.Migrate(ctx, pool); err != nil {
		b.Fatal(err)
	}
	for from := 0; from < n; from += 10_000 {
		batch := benchLeaves(from, min(from+10_000, n))
		if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT set_config('search_path', $1, true)", pgx.Identifier{ptlog.Schema}.Sanitize()); err != nil {
				return err
			}
			return ptlog.Model{}.Apply(ctx, tx, batch)
		}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	key, err := tlog.LoadOrCreateKey(b.TempDir(), origin)
	if err != nil {
		b.Fatal(err)
	}
	pub, err := tlog.NewPublisher(tlog.Config{Pool: pool, Key: key, Origin: origin, Logger: quiet()})
	if err != nil {
		b.Fatal(err)
	}
	if c, _, err := pub.Publish(ctx); err != nil || c.Size != uint64(n) {
		b.Fatalf("checkpoint %v, %v", c, err)
	}
	mux := http.NewServeMux()
	tlog.RegisterAPI(humago.New(mux, huma.DefaultConfig("log", "bench")), tlog.APIConfig{DB: pool, Key: key, Logger: quiet()})
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	ask := func(i int) time.Duration {
		index := uint64(i*7919) % uint64(n)
		p := 10*index + 5
		start := time.Now()
		resp, err := client.Get(srv.URL + tlog.InclusionPath + "?position=" + strconv.FormatUint(p, 10) + "/" + strconv.FormatUint(p, 10) +
			"&tree_size=" + strconv.Itoa(n))
		if err != nil {
			b.Error(err)
			return 0
		}
		var ip tlog.InclusionProof
		err = json.NewDecoder(resp.Body).Decode(&ip)
		resp.Body.Close()
		d := time.Since(start)
		if err != nil || resp.StatusCode != http.StatusOK || ip.LeafIndex != index {
			b.Errorf("inclusion of %d: %d %+v %v", index, resp.StatusCode, ip, err)
		}
		return d
	}
	for _, clients := range []int{1, 4} {
		name := "serial"
		if clients > 1 {
			name = fmt.Sprintf("parallel-%d", clients)
		}
		b.Run(name, func(b *testing.B) {
			var mu sync.Mutex
			var lat []time.Duration
			for range b.N {
				var g errgroup.Group
				for c := range clients {
					g.Go(func() error {
						for i := c; i < 2000; i += clients {
							d := ask(i)
							mu.Lock()
							lat = append(lat, d)
							mu.Unlock()
						}
						return nil
					})
				}
				_ = g.Wait()
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// benchLeaves are ledger events [from, to) as the tree needs them: $all position 10i+5, a chain hash.
func benchLeaves(from, to int) []eventlog.Recorded {
	out := make([]eventlog.Recorded, 0, to-from)
	for i := from; i < to; i++ {
		sum := sha256.Sum256(fmt.Appendf(nil, "event %d", i))
		p := uint64(10*i + 5)
		out = append(out, eventlog.Recorded{Position: eventlog.Position{Commit: p, Prepare: p},
			Event: eventlog.Event{Meta: eventlog.Metadata{Hash: hex.EncodeToString(sum[:])}}})
	}
	return out
}
