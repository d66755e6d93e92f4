package runtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/esdbnode"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
	"github.com/grassroots-ledger/ledger/projections/audittrail"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// The history BenchmarkRebuild replays is filled once per test binary, whatever b.N: LEDGER_BENCH_EVENTS
// events (default 1 000 000) in appends of 1000 through the adapter, in a temporary directory removed at exit.
var shared struct {
	once  sync.Once
	dir   string
	node  *esdbnode.Node
	store *eventstore.Store
	head  eventlog.Position
	n     int
	fill  time.Duration
	err   error
}

func sharedHistory(b *testing.B) (*eventstore.Store, eventlog.Position, int) {
	shared.once.Do(func() {
		n := 1_000_000
		if s := os.Getenv("LEDGER_BENCH_EVENTS"); s != "" {
			if v, err := strconv.Atoi(s); err == nil && v > 0 {
				n = v
			}
		}
		shared.n = n
		dir, err := os.MkdirTemp("", "projbench-")
		if err != nil {
			shared.err = err
			return
		}
		shared.dir = dir
		ctx := context.Background()
		shared.node, err = esdbnode.Open(ctx, esdbnode.Config{Dir: dir, Logger: quietLogger()})
		if err != nil {
			shared.err = err
			return
		}
		shared.store, err = eventstore.Dial(ctx, eventstore.Config{URL: shared.node.URL(), Logger: quietLogger()})
		if err != nil {
			shared.err = err
			return
		}
		began := time.Now()
		shared.head = newFiller(shared.store, 200).append(b, n, 1000, nil)
		shared.fill = time.Since(began)
	})
	if shared.err != nil {
		b.Fatal(shared.err)
	}
	return shared.store, shared.head, shared.n
}

func closeSharedHistory() {
	if shared.store != nil {
		_ = shared.store.Close()
	}
	if shared.node != nil {
		_ = shared.node.Close()
	}
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
	}
}

// BenchmarkRebuild replays the shared history into the audit trail: ReadAll through the adapter, COPY in
// batches of RebuildBatch, then the swap. One op is one full rebuild; events/s is the figure to watch.
func BenchmarkRebuild(b *testing.B) {
	store, head, n := sharedHistory(b)
	b.Logf("history: %d events up to %s (filled in %s)", n, head, shared.fill.Round(time.Millisecond))
	for _, size := range []int{1000, 5000} {
		b.Run(fmt.Sprintf("audittrail/batch=%d", size), func(b *testing.B) {
			pool := testPool(b)
			rt, _ := newRuntime(b, pool, store, []runtime.ReadModel{audittrail.Model{}}, func(c *runtime.Config) { c.RebuildBatch = size })
			var total time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				began := time.Now()
				if err := rt.Rebuild(context.Background(), audittrail.Model{}, nil); err != nil {
					b.Fatal(err)
				}
				total += time.Since(began)
			}
			b.ReportMetric(float64(n)*float64(b.N)/total.Seconds(), "events/s")
			if got := checkpointOf(b, pool, "rm_audittrail"); got != head {
				b.Fatalf("rebuilt up to %s, want %s", got, head)
			}
		})
	}
}

// visibility records when each $all position became visible in Postgres: a statement trigger on the audit
// table notifies the highest position at commit, and a listener notes the time it arrives.
type visibility struct {
	mu   sync.Mutex
	seen []time.Time // index: commit position (dense on the embedded node)
	max  uint64
}

func (v *visibility) at(p uint64) (time.Time, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if p > v.max || int(p) >= len(v.seen) {
		return time.Time{}, false
	}
	return v.seen[p], true
}

func watchVisibility(b *testing.B, url string, pool *pgxpool.Pool) *visibility {
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := pool.Exec(ctx, `
CREATE FUNCTION public.bench_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_notify('visible', (SELECT max(commit_pos)::text FROM new_rows)); RETURN NULL; END $$;
CREATE TRIGGER bench_notify AFTER INSERT ON rm_audittrail.audit_events REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION public.bench_notify();`); err != nil {
		b.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "LISTEN visible"); err != nil {
		b.Fatal(err)
	}
	v := &visibility{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			n, err := conn.WaitForNotification(ctx)
			if err != nil {
				return
			}
			now := time.Now()
			p, _ := strconv.ParseUint(n.Payload, 10, 64)
			v.mu.Lock()
			for uint64(len(v.seen)) <= p {
				v.seen = append(v.seen, time.Time{})
			}
			for q := v.max + 1; q <= p; q++ {
				v.seen[q] = now
			}
			v.max = max(v.max, p)
			v.mu.Unlock()
		}
	}()
	b.Cleanup(func() { cancel(); <-done; conn.Close(context.Background()) })
	return v
}

// BenchmarkLiveLatency appends one event every 2 ms (500 events/s) and measures, for each, the time from
// the append's acknowledgement to its audit-trail row being committed (p50, p99, max), for the batched
// runtime and for a plain Watermill handler that applies each event in its own transaction. One op is one
// event; -benchtime=5000x gives ten seconds of traffic.
func BenchmarkLiveLatency(b *testing.B) {
	variants := []struct {
		name    string
		durable bool
		batched bool
	}{
		{"batched", false, true},
		{"batched-durable-commit", true, true},
		{"per-event-tx", true, false},
		{"per-event-tx-async-commit", false, false},
	}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			url := newDatabase(b, databaseURL(b))
			pool := connect(b, url)
			store, _ := testStore(b)
			rt, _ := newRuntime(b, pool, store, []runtime.ReadModel{audittrail.Model{}}, func(c *runtime.Config) { c.DurableCommit = v.durable })
			if err := rt.Migrate(context.Background()); err != nil {
				b.Fatal(err)
			}
			vis := watchVisibility(b, url, pool)
			if v.batched {
				start(b, rt)
			} else {
				startPerEventBaseline(b, pool, store, v.durable)
			}
			// Each tick appends one event to a stream of its own, without waiting for earlier appends: the
			// offered load stays at 500 events/s however long one append takes.
			appendOne := func(i int) eventlog.Position {
				stream := eventlog.StreamName("latency", "330303001001", strconv.Itoa(i))
				res, err := store.Append(context.Background(), stream, eventlog.NoStream(), testEvents(stream, 0, 1, nil))
				if err != nil {
					b.Error(err)
				}
				return res.Position
			}
			for i := 0; i < 100; i++ { // warm up: connections, statement caches, the subscription
				appendOne(-1 - i)
				time.Sleep(2 * time.Millisecond)
			}
			acks := make([]struct {
				pos uint64
				at  time.Time
			}, b.N)
			tick := time.NewTicker(2 * time.Millisecond)
			defer tick.Stop()
			var appends sync.WaitGroup
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				<-tick.C
				appends.Go(func() {
					p := appendOne(i)
					acks[i].pos, acks[i].at = p.Commit, time.Now()
				})
			}
			appends.Wait()
			b.StopTimer()
			lat := make([]time.Duration, 0, b.N)
			deadline := time.Now().Add(60 * time.Second)
			for _, a := range acks {
				for {
					at, ok := vis.at(a.pos)
					if ok {
						lat = append(lat, max(0, at.Sub(a.at)))
						break
					}
					if time.Now().After(deadline) {
						b.Fatalf("position %d never became visible", a.pos)
					}
					time.Sleep(time.Millisecond)
				}
			}
			slices.Sort(lat)
			q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))].Microseconds()) / 1000 }
			b.ReportMetric(q(0.5), "p50-ms")
			b.ReportMetric(q(0.99), "p99-ms")
			b.ReportMetric(q(1), "max-ms")
		})
	}
}

// startPerEventBaseline is the plain approach the runtime is measured against: every event of the
// subscription becomes one JSON Watermill message on a Go-channel pub/sub, and the handler applies it in a
// transaction of its own together with the checkpoint.
func startPerEventBaseline(b *testing.B, pool *pgxpool.Pool, store *eventstore.Store, durable bool) {
	ctx, cancel := context.WithCancel(context.Background())
	logger := watermill.NopLogger{}
	pubsub := gochannel.NewGoChannel(gochannel.Config{BlockPublishUntilSubscriberAck: true}, logger)
	router, err := message.NewRouter(message.RouterConfig{}, logger)
	if err != nil {
		b.Fatal(err)
	}
	commitMode := "on"
	if !durable {
		commitMode = "off"
	}
	router.AddConsumerHandler("audittrail-per-event", "events", pubsub, func(msg *message.Message) error {
		var e eventlog.Recorded
		if err := json.Unmarshal(msg.Payload, &e); err != nil {
			return err
		}
		return pgx.BeginFunc(msg.Context(), pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT set_config('synchronous_commit', $1, true)", commitMode); err != nil {
				return err
			}
			m := e.Meta
			if _, err := tx.Exec(ctx, `INSERT INTO rm_audittrail.audit_events (commit_pos, prepare_pos, stream, revision, event_id, event_type,
				community_id, jurisdiction, actor, command_id, correlation_id, causation_id, occurred_at, recorded_at, prev_hash, hash, schema_version)
				VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)`,
				int64(e.Position.Commit), int64(e.Position.Prepare), e.Stream, int64(e.Revision), pgtype.UUID{Bytes: e.ID, Valid: true}, e.Type,
				m.CommunityID, m.Jurisdiction, m.Actor, m.CommandID, m.CorrelationID, m.CausationID, m.OccurredAt, e.Created, m.PrevHash, m.Hash, m.SchemaVersion); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "UPDATE rm_audittrail.checkpoint SET commit_pos = $1, prepare_pos = $2, last_recorded_at = $3, events_applied = events_applied + 1, updated_at = now()",
				int64(e.Position.Commit), int64(e.Position.Prepare), e.Created)
			return err
		})
	})
	var wg sync.WaitGroup
	wg.Go(func() { _ = router.Run(ctx) })
	<-router.Running()
	wg.Go(func() {
		_ = store.SubscribeAll(ctx, eventlog.Start, eventlog.Filter{}, func(d eventlog.Delivery) error {
			if d.Event == nil || eventlog.SystemStream(d.Event.Stream) {
				return nil
			}
			payload, err := json.Marshal(d.Event)
			if err != nil {
				return err
			}
			return pubsub.Publish("events", message.NewMessage(watermill.NewUUID(), payload))
		})
	})
	b.Cleanup(func() { cancel(); _ = pubsub.Close(); wg.Wait() })
}
