package supervision_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/infra/supervision/supervisiontest"
	alerts "github.com/grassroots-ledger/ledger/projections/supervision"
)

// seedDeadlines writes n open deadlines straight into the read model (as n paid expenditures would
// have), due over the year after the clock's now, and `due` more that are due already.
func seedDeadlines(b *testing.B, h *supervisiontest.Harness, n, due int) {
	b.Helper()
	ctx := context.Background()
	now := h.Clock.Now()
	_, err := h.Server.Pool.Exec(ctx, `INSERT INTO rm_alerts.deadlines (rule, subject, community_id, jurisdiction, due_at, next_at, detail)
		SELECT 'payment-disclosed', 'expenditure-' || c || '-x-' || i, c, '33/3303/330303/330303001/' || c,
			$1::timestamptz + make_interval(secs => 60 + (i * 31536000.0 / $2)), $1::timestamptz + make_interval(secs => 60 + (i * 31536000.0 / $2)),
			'支出未公开'
		FROM generate_series(1, $2) i, LATERAL (SELECT '330303001' || lpad((i % 500)::text, 3, '0') AS c) x`, now, n)
	if err != nil {
		b.Fatal(err)
	}
	_, err = h.Server.Pool.Exec(ctx, `INSERT INTO rm_alerts.deadlines (rule, subject, community_id, jurisdiction, due_at, next_at, detail)
		SELECT 'payment-disclosed', 'expenditure-330303001999-due-' || i, '330303001999', '33/3303/330303/330303001/330303001999',
			$1::timestamptz - make_interval(secs => i), $1::timestamptz - make_interval(secs => i), '支出未公开'
		FROM generate_series(1, $2) i`, now, due)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := h.Server.Pool.Exec(ctx, `ANALYZE rm_alerts.deadlines`); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkDeadlineSweepFind: finding one page (500) of due deadlines among 1,000,000 open ones, and
// the alerts they raise — what the sweep asks the model every cycle. Reported per sweep.
func BenchmarkDeadlineSweepFind(b *testing.B) {
	h := supervisiontest.New(b, supervisiontest.Options{NoEngine: true})
	seedDeadlines(b, h, 1_000_000, 2_000)
	ctx := context.Background()
	now := h.Clock.Now()
	model := alerts.NewRunner(h.Server.Pool)
	b.ResetTimer()
	for b.Loop() {
		_, looked, err := model.DueAlerts(ctx, now, 500)
		if err != nil || looked != 500 {
			b.Fatalf("%d due, %v", looked, err)
		}
	}
}

// BenchmarkDeadlineSweepCycle: one engine cycle among 1,000,000 open deadlines, 500 of which are due:
// wait for the read model, find them, raise an alert for each (500 appends to the embedded node), and
// the read model recording them (the next cycle's catch-up). Reported per cycle and per alert.
func BenchmarkDeadlineSweepCycle(b *testing.B) {
	h := supervisiontest.New(b, supervisiontest.Options{NoEngine: true})
	seedDeadlines(b, h, 1_000_000, 0)
	ctx := context.Background()
	h.Quiesce()
	raised := 0
	var cycles time.Duration
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		// 500 more deadlines come due: move the clock over the next 500 of the seeded ones.
		var next time.Time
		if err := h.Server.Pool.QueryRow(ctx, `SELECT next_at FROM rm_alerts.deadlines WHERE next_at IS NOT NULL AND severity IS NULL
			ORDER BY next_at OFFSET 499 LIMIT 1`).Scan(&next); err != nil {
			b.Fatal(err)
		}
		h.Clock.Set(next)
		b.StartTimer()
		start := time.Now()
		res, err := h.Engine.Cycle(ctx)
		if err != nil || res.Raised != 500 {
			b.Fatalf("raised %d: %v", res.Raised, err)
		}
		raised += res.Raised
		cycles += time.Since(start)
		h.Quiesce() // the read model records the raises before the next cycle
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(raised), "µs/alert")
	b.ReportMetric(float64(cycles.Milliseconds())/float64(b.N), "cycle-ms")
}

// BenchmarkAlertLatency: from the append of an event that breaks a rule to its alert reaching an SSE
// subscriber, while a generator appends 500 and 2 000 events/s (one in ten breaking a rule; events/s
// reports the rate it achieved). Reports p50, p99 and max in milliseconds, measured from the start of the breaking
// append, and the p99 of its parts: the append itself, from its acknowledgement to the alert's append
// (projection, outbox, engine), and from there to the subscriber (projection, feed, SSE).
// The harness's events break rules on purpose, without the history the public models would need (they
// would halt on them): cmd/ledger BenchmarkLiveLatency runs every model on a valid history.
func BenchmarkAlertLatency(b *testing.B) {
	for _, rate := range []int{500, 2000} {
		b.Run(fmt.Sprintf("rate=%d", rate), func(b *testing.B) { alertLatency(b, rate) })
	}
}

func alertLatency(b *testing.B, rate int) {
	h := supervisiontest.New(b, supervisiontest.Options{})
	sup := h.Token(commands.RoleSupervisor, "33")
	stream := openStream(b, h.Server.URL, sup, "", "")
	const perBreach = 10
	communities := make([]supervisiontest.Community, 50)
	for i := range communities {
		communities[i] = supervisiontest.NewCommunity(supervisiontest.DistrictX, i+1)
	}

	var mu sync.Mutex
	sent := map[string]time.Time{}                             // subject → start of its append
	acked := map[string]time.Time{}                            // subject → end of its append
	var latencies, appends, decided, delivered []time.Duration // total; the append; to the alert's append; to the subscriber
	received := make(chan struct{}, 1<<16)
	go func() {
		for ev := range stream.events {
			mu.Lock()
			start, ok := sent[fmt.Sprint(ev.Alert["subject"])]
			mu.Unlock()
			if ok {
				now := time.Now()
				mu.Lock()
				latencies = append(latencies, now.Sub(start))
				ack := acked[fmt.Sprint(ev.Alert["subject"])]
				appends = append(appends, ack.Sub(start))
				decided = append(decided, ev.Item.RecordedAt.Sub(ack))
				delivered = append(delivered, now.Sub(ev.Item.RecordedAt))
				mu.Unlock()
				received <- struct{}{}
			}
		}
	}()

	total := b.N * perBreach
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	var seq atomic.Int64
	b.ResetTimer()
	genStart := time.Now()
	for i := range total {
		<-tick.C
		c := communities[i%len(communities)]
		n := seq.Add(1)
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if n%perBreach == 0 {
				id := fmt.Sprintf("b-%d", n)
				subject := c.Stream("expenditure", id)
				mu.Lock()
				sent[subject] = time.Now()
				mu.Unlock()
				h.RecordExpecting(c, subject, eventlog.NoStream(), funds.ExpenditurePaid{ExpenditureID: id, VoucherNo: "v", Amount: kernel.Yuan(90000), PaidAt: h.Clock.Now(),
					Watch: breach(rulebook.MajorMatterResolution, "未经决议")})
				mu.Lock()
				acked[subject] = time.Now()
				mu.Unlock()
				return
			}
			id := fmt.Sprintf("m-%d", n)
			h.RecordExpecting(c, c.Stream("meeting", id), eventlog.NoStream(), meeting.MotionTabled{MeetingID: id, MotionID: "1", Title: "t", Text: "t", TabledAt: h.Clock.Now()})
		}()
	}
	wg.Wait()
	generated := time.Since(genStart)
	timeout := time.After(60 * time.Second)
	for range b.N {
		select {
		case <-received:
		case <-timeout:
			b.Fatalf("only %d of %d alerts reached the subscriber", len(latencies), b.N)
		}
	}
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	q := func(ds []time.Duration, p float64) float64 {
		slices.Sort(ds)
		return float64(ds[min(len(ds)-1, int(p*float64(len(ds))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(latencies, 0.50), "p50-ms")
	b.ReportMetric(q(latencies, 0.99), "p99-ms")
	b.ReportMetric(q(latencies, 1), "max-ms")
	b.ReportMetric(q(appends, 0.99), "append-p99-ms")
	b.ReportMetric(q(decided, 0.99), "to-alert-append-p99-ms")
	b.ReportMetric(q(delivered, 0.99), "to-subscriber-p99-ms")
	b.ReportMetric(float64(total)/generated.Seconds(), "events/s")
	b.Logf("%d alerts, %d events, GOMAXPROCS %d", len(latencies), total, runtime.GOMAXPROCS(0))
}
