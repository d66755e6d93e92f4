package audit

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/esdbnode"
	"github.com/grassroots-ledger/ledger/infra/esdbnode/nodetest"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"
	"github.com/grassroots-ledger/ledger/projections/all"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// benchDirs are removed when the test binary ends.
var benchDirs []string

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range benchDirs {
		_ = os.RemoveAll(d)
	}
	os.Exit(code)
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// testNode is a real embedded node reached through the real adapter.
type testNode struct {
	node  *esdbnode.Node
	store *eventstore.Store
}

func openNode(tb testing.TB, dir string) *testNode {
	tb.Helper()
	ctx := context.Background()
	node, err := esdbnode.Open(ctx, esdbnode.Config{Dir: dir, Listen: "127.0.0.1:0", Logger: quiet()})
	if err != nil {
		tb.Fatalf("open embedded node: %v", err)
	}
	tb.Cleanup(func() { node.Close() })
	st, err := eventstore.Dial(ctx, eventstore.Config{URL: node.URL(), Logger: quiet()})
	if err != nil {
		tb.Fatalf("dial embedded node: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return &testNode{node: node, store: st}
}

// raw is the official client on the node, writing bytes of its own choosing (nodetest.Raw).
func (n *testNode) raw(tb testing.TB) *esdb.Client { return nodetest.Raw(tb, n.node) }

// appendRaw writes events exactly as given (nodetest.AppendRaw).
func appendRaw(tb testing.TB, c *esdb.Client, stream string, expected esdb.ExpectedRevision, evs ...eventlog.Event) {
	tb.Helper()
	nodetest.AppendRaw(tb, c, stream, expected, evs...)
}

// Paths of the synthetic fixtures: two communities of one street.
const (
	streetPath = "33/3303/330303/330303001"
	commA      = "330303001001"
	commB      = "330303001002"
	pathA      = streetPath + "/" + commA
	pathB      = streetPath + "/" + commB
)

var baseTime = time.Date(2025, 12, 1, 1, 0, 0, 0, time.UTC)

// synth returns n events of one command with a payload naming i, for community cid at path.
func synth(cmd, typ, cid, path string, n int) []eventlog.Event {
	evs := make([]eventlog.Event, n)
	for i := range evs {
		evs[i] = eventlog.Event{
			ID:   eventlog.DeriveID(cmd, i),
			Type: typ,
			Data: fmt.Appendf(nil, `{"n":%d,"amount_fen":%d,"purpose":"村道硬化工程进度款","payee":"张三"}`, i, 100000+i),
			Meta: eventlog.Metadata{SchemaVersion: 1, CommunityID: cid, Jurisdiction: path, Actor: "clerk:test",
				CommandID: cmd, CorrelationID: "corr-" + cmd, CausationID: cmd, OccurredAt: baseTime.Add(time.Duration(i) * time.Hour)},
		}
	}
	return evs
}

// mustAppend appends through the adapter, which seals the events into the stream's chain.
func mustAppend(tb testing.TB, st *eventstore.Store, stream string, exp eventlog.Expected, evs []eventlog.Event) eventlog.AppendResult {
	tb.Helper()
	res, err := st.Append(context.Background(), stream, exp, evs)
	if err != nil {
		tb.Fatalf("append to %s: %v", stream, err)
	}
	return res
}

// readAll returns every event of $all.
func readAll(tb testing.TB, st *eventstore.Store) []eventlog.Recorded {
	tb.Helper()
	var out []eventlog.Recorded
	if err := st.ReadAll(context.Background(), eventlog.Start, 0, func(r eventlog.Recorded) error {
		out = append(out, r)
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	return out
}

// testPool is a database of the test's own on DATABASE_URL's server, dropped when the test ends. Without
// DATABASE_URL the test fails: `bash scripts/with-pg.sh go test ./infra/audit/...` starts a throwaway
// cluster.
func testPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	ctx := context.Background()
	dbURL := pgtest.NewDatabase(tb)
	pool, err := pg.Connect(ctx, pg.Config{URL: dbURL, MaxConns: 12})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// models are the read models the ledger projects.
func models() []runtime.ReadModel { return all.Models(nil) }

func newAuditor(tb testing.TB, st Store, pool *pgxpool.Pool) *Auditor {
	tb.Helper()
	cfg := Config{Store: st, Logger: quiet()}
	if pool != nil {
		cfg.Pool, cfg.Migrate, cfg.Models = pool, pg.FreshMigrator(pool), models()
	}
	a, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// summarize runs every model's part of the summary through q, side by side (at most three at once), as a
// replay does once each model has applied the history: the summary of the tables q points at.
func summarize(ctx context.Context, q schemaQuerier, models []runtime.ReadModel, community, path string) (summary, error) {
	var s summary
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(3)
	for _, m := range models {
		if part := summaryPart(q, m.Name(), community, path, &s); part != nil {
			g.Go(func() error { return part(ctx) })
		}
	}
	if err := g.Wait(); err != nil {
		return summary{}, err
	}
	return s, nil
}
