package tlog_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
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
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/esdbnode/nodetest"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"
	"github.com/grassroots-ledger/ledger/infra/tlog"
	"github.com/grassroots-ledger/ledger/projections/runtime"
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

// BenchmarkCheckpointLag measures how far the newest signed checkpoint lags the newest event: a writer
// appends events to a real node at TLOG_LAG_RATE events/s (default 500) for TLOG_LAG_SECONDS (default
// 30 s), in appends of a few events to rotating streams, while the runtime projects the tree live and the
// publisher signs with Interval TLOG_LAG_INTERVAL (default 10 s, serve's --log-interval) and Every
// TLOG_LAG_EVERY (default 1 000, serve's --log-every). For every event it takes the time from its append's
// return to the signing (created_at) of the first checkpoint that covers it, and reports the p50, p99 and
// largest of those lags in milliseconds (the target: at most Interval + 1 s), with the checkpoints signed.
// Figures, not assertions: the machine's load moves them.
func BenchmarkCheckpointLag(b *testing.B) {
	env := func(name string, def time.Duration, unit time.Duration) time.Duration {
		if s := os.Getenv(name); s != "" {
			if d, err := time.ParseDuration(s); err == nil {
				return d
			}
			if v, err := strconv.Atoi(s); err == nil {
				return time.Duration(v) * unit
			}
		}
		return def
	}
	rate := int(env("TLOG_LAG_RATE", 500, 1))
	length := env("TLOG_LAG_SECONDS", 30*time.Second, time.Second)
	interval := env("TLOG_LAG_INTERVAL", 10*time.Second, time.Second)
	every := uint64(env("TLOG_LAG_EVERY", 1000, 1))
	for range b.N {
		_, st := nodetest.Start(b, nil)
		ctx, cancel := context.WithCancel(context.Background())
		pool, err := pg.Connect(ctx, pg.Config{URL: pgtest.NewDatabase(b), MaxConns: 8})
		if err != nil {
			b.Fatal(err)
		}
		if err := tlog.Migrate(ctx, pool); err != nil {
			b.Fatal(err)
		}
		rt, err := runtime.New(runtime.Config{Pool: pool, Source: st, Migrate: pg.Migrator(pool), Models: []runtime.ReadModel{ptlog.Model{}},
			Registerer: prometheus.NewRegistry(), Logger: quiet()})
		if err != nil {
			b.Fatal(err)
		}
		if err := rt.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
		key, err := tlog.LoadOrCreateKey(b.TempDir(), origin)
		if err != nil {
			b.Fatal(err)
		}
		pub, err := tlog.NewPublisher(tlog.Config{Pool: pool, Key: key, Origin: origin, Every: every, Interval: interval, Logger: quiet()})
		if err != nil {
			b.Fatal(err)
		}
		var g errgroup.Group
		g.Go(func() error { return rt.Run(ctx) })
		g.Go(func() error { return pub.Run(ctx) })

		// The writer: every 10 ms, as many events as the rate asks by then, in one append.
		var appended []time.Time
		start := time.Now()
		tick := time.NewTicker(10 * time.Millisecond)
		for round := 0; time.Since(start) < length; round++ {
			<-tick.C
			due := int(time.Since(start).Seconds()*float64(rate)) - len(appended)
			if due <= 0 {
				continue
			}
			evs := make([]eventlog.Event, due)
			for i := range evs {
				evs[i] = stepOf(round%5, len(appended)+i, "lag").event
			}
			if _, err := st.Append(ctx, eventlog.StreamName("expenditure", "330303001001", fmt.Sprint(round%50)), eventlog.Any(), evs); err != nil {
				b.Fatal(err)
			}
			now := time.Now()
			for range evs {
				appended = append(appended, now)
			}
		}
		tick.Stop()
		achieved := float64(len(appended)) / time.Since(start).Seconds()
		// Until a checkpoint covers every event.
		for deadline := time.Now().Add(interval + 30*time.Second); ; time.Sleep(100 * time.Millisecond) {
			if c, err := tlog.Latest(ctx, pool); err == nil && c.Size >= uint64(len(appended)) {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("no checkpoint of %d events within %s", len(appended), interval+30*time.Second)
			}
		}
		type signed struct {
			size uint64
			at   time.Time
		}
		rows, err := pool.Query(ctx, "SELECT size, created_at FROM tlog.checkpoints ORDER BY size")
		if err != nil {
			b.Fatal(err)
		}
		var cps []signed
		for rows.Next() {
			var s signed
			var size int64
			if err := rows.Scan(&size, &s.at); err != nil {
				b.Fatal(err)
			}
			s.size = uint64(size)
			cps = append(cps, s)
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		cancel()
		if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
			b.Fatal(err)
		}
		pool.Close()
		lags := make([]time.Duration, len(appended))
		c := 0
		for i, at := range appended {
			for cps[c].size <= uint64(i) {
				c++
			}
			lags[i] = cps[c].at.Sub(at)
		}
		slices.Sort(lags)
		b.ReportMetric(achieved, "events/s")
		b.ReportMetric(float64(len(cps)), "checkpoints")
		ms := func(d time.Duration) float64 { return float64(d.Milliseconds()) }
		b.ReportMetric(ms(lags[len(lags)/2]), "p50-lag-ms")
		b.ReportMetric(ms(lags[len(lags)*99/100]), "p99-lag-ms")
		b.ReportMetric(ms(lags[len(lags)-1]), "max-lag-ms")
	}
}
