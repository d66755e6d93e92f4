package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/docstore"
	"github.com/grassroots-ledger/ledger/infra/esdbnode"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
	"github.com/grassroots-ledger/ledger/infra/keys"
	"github.com/grassroots-ledger/ledger/infra/metrics"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/infra/workload"
	"github.com/grassroots-ledger/ledger/projections/all"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// storeHandle is the store of record as a command sees it: the adapter, and the embedded node behind it
// when EVENTSTORE_URL is unset.
type storeHandle struct {
	Store *eventstore.Store
	URL   string
	Note  string // where the events live, for banners
	node  *esdbnode.Node
}

// Close closes the adapter, then the embedded node.
func (h *storeHandle) Close() {
	h.Store.Close()
	if h.node != nil {
		h.node.Close()
	}
}

// refusing says why the embedded node refuses every append (esdbnode.Node.Failed), or nil: always nil for
// a store reached at EVENTSTORE_URL, whose own health is its operators'.
func (h *storeHandle) refusing() error {
	if h.node == nil {
		return nil
	}
	return h.node.Failed()
}

// eventsDir is where the embedded node keeps its file under the ledger's data directory: every command
// that takes --data (node, serve, rebuild, verify, replay, export, demo) agrees on it.
func eventsDir(dataDir string) string { return filepath.Join(dataDir, "events") }

// openStore connects to EVENTSTORE_URL, or starts the embedded node on dataDir/events (listening on
// listen, loopback by default) and connects to it through the same client.
func openStore(ctx context.Context, dataDir string, at nodeAt) (*storeHandle, error) {
	return openStoreAt(ctx, os.Getenv("EVENTSTORE_URL"), "EVENTSTORE_URL", dataDir, at)
}

// nodeAt is where the embedded node listens: listen (loopback, a free port, when empty), beyond loopback
// only with allowRemote (esdbnode.Config.AllowRemote).
type nodeAt struct {
	listen      string
	allowRemote bool
}

// openStoreAt connects to url (described by note), or when url is empty starts the embedded node on
// dataDir/events.
func openStoreAt(ctx context.Context, url, note, dataDir string, at nodeAt) (*storeHandle, error) {
	h := &storeHandle{URL: url, Note: note}
	if h.URL == "" {
		dir := eventsDir(dataDir)
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create %s: %w", dir, err)
		}
		if at.listen == "" {
			at.listen = "127.0.0.1:0"
		}
		node, err := esdbnode.Open(ctx, esdbnode.Config{Dir: dir, Listen: at.listen, AllowRemote: at.allowRemote, Logger: slog.Default()})
		if errors.Is(err, esdbnode.ErrLocked) {
			return nil, fmt.Errorf("%w\nIf 'ledger serve' is running on %s, reach its node instead: EVENTSTORE_URL='esdb://127.0.0.1:2113?tls=false' (the address serve printed)", err, dataDir)
		}
		if err != nil {
			return nil, err
		}
		h.node, h.URL, h.Note = node, node.URL(), "embedded node, data in "+dir
	}
	store, err := eventstore.Dial(ctx, eventstore.Config{URL: h.URL, Logger: slog.Default()})
	if err != nil {
		if h.node != nil {
			h.node.Close()
		}
		return nil, err
	}
	h.Store = store
	return h, nil
}

// instrumentStore wraps the store of record with its append and load latencies (ledger_store_*) on reg,
// for the command side.
func instrumentStore(store *eventstore.Store, reg prometheus.Registerer) (commands.EventStore, error) {
	return metrics.InstrumentStore(store, reg)
}

// openDB connects to DATABASE_URL (or the --database-url flag's value when set).
func openDB(ctx context.Context, url string) (*pgxpool.Pool, error) {
	return openDBSized(ctx, url, 0)
}

// openDBSized is openDB with a pool of at most maxConns connections (0: pgxpool's default, max(4, cores)).
func openDBSized(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	if url == "" {
		url = os.Getenv("DATABASE_URL")
	}
	return pg.Connect(ctx, pg.Config{URL: url, MaxConns: maxConns})
}

// Serve's pool is sized from its work, not from the cores: connections held for as long as serve runs
// (the alert engine's and the alert stream hub's LISTEN), one per concurrent auditor replay (its scratch
// lock, held while its models take others), one per read model applying a batch, and room for the
// command API, tokens, the lag gauges and webhooks. Four (the default on two cores) starved everything
// once two replays held their locks.
// The portal has a pool of its own, under its read-only role.
const (
	serveListeners = 4 // the alert engine's, the stream hub's and the key cache's LISTEN, the worker lease
	serveReplays   = 2
	serveHeadroom  = 6
)

func servePoolSize(models int) int32 {
	return int32(serveListeners + serveReplays + models + serveHeadroom)
}

// openServeDB opens serve's pool, sized for models read models, with the connections in constant use (the
// listeners', one per model and two more) opened at start and kept open: a connection opened when a burst
// of batches needs it costs its model a new backend, whose first statements are parsed, planned and
// prepared cold (BenchmarkLiveLatency at 500 events/s, three runs each, 2026-12-05: p99 231/224/87 ms
// opened on demand, 71/79/79 ms with every connection opened at start — the tail was the first half
// second; 144/56/45 ms against 77/135/115 ms for these against all, on a busier machine).
func openServeDB(ctx context.Context, url string, models int) (*pgxpool.Pool, error) {
	if url == "" {
		url = os.Getenv("DATABASE_URL")
	}
	size := servePoolSize(models)
	return pg.Connect(ctx, pg.Config{URL: url, MaxConns: size, MinConns: int32(serveListeners + models + 2)})
}

// readModels is every read model the ledger keeps, in the order they are listed to operators; ks opens
// the personal data the finances model masks (nil: none can be opened).
func readModels(ks *keys.Store) []runtime.ReadModel { return all.Models(personalOf(ks)) }

// personalOf is ks as the read models' port (a nil interface for a nil store).
func personalOf(ks *keys.Store) runtime.Personal {
	if ks == nil {
		return nil
	}
	return ks
}

// readModelsNamed picks read models by name; no names means all of them.
func readModelsNamed(names []string, ks *keys.Store) ([]runtime.ReadModel, error) {
	all := readModels(ks)
	if len(names) == 0 {
		return all, nil
	}
	byName := map[string]runtime.ReadModel{}
	for _, m := range all {
		byName[m.Name()] = m
	}
	var out []runtime.ReadModel
	for _, n := range names {
		m, ok := byName[n]
		if !ok {
			return nil, usageError{cmd: "rebuild", err: fmt.Errorf("no read model named %q (have %s)", n, modelNames(all))}
		}
		out = append(out, m)
	}
	return out, nil
}

func modelNames(ms []runtime.ReadModel) string {
	s := ""
	for i, m := range ms {
		if i > 0 {
			s += ", "
		}
		s += m.Name()
	}
	return s
}

// openKeys opens the key store of the personal data, with its key-encryption key from
// keys.KEKPath(dataDir) ($LEDGER_KEK_FILE, or dataDir/ledger-kek.key). create makes the KEK on first use
// (serve, demo); the other commands only read with it.
func openKeys(ctx context.Context, pool *pgxpool.Pool, dataDir string, create bool) (*keys.Store, error) {
	return keys.Open(ctx, pool, keys.KEKPath(dataDir), create)
}

// openSealer opens the key store that seals what a command records (the KEK made on first use) and
// keeps its key cache listening; done stops it and closes its database pool.
func openSealer(ctx context.Context, dbURL, dataDir string) (ks *keys.Store, done func(), err error) {
	pool, err := openDB(ctx, dbURL)
	if err != nil {
		return nil, nil, fmt.Errorf("the key store of the personal data (PostgreSQL): %w", err)
	}
	if ks, err = openKeys(ctx, pool, dataDir, true); err != nil {
		pool.Close()
		return nil, nil, err
	}
	listenCtx, stop := context.WithCancel(ctx)
	listening := make(chan struct{})
	go func() { defer close(listening); ks.Listen(listenCtx) }()
	return ks, func() { stop(); <-listening; pool.Close() }, nil
}

// demoDocuments is the demo's hand-over of the documents its history names (Options.Documents): the first
// max of them are stored in docs, for the portal to serve; the others stay named only, as documents a
// clerk has not uploaded yet.
func demoDocuments(docs *docstore.Store, max int64) func([]byte) {
	var n atomic.Int64
	var warned sync.Once
	return func(pdf []byte) {
		if n.Add(1) > max {
			return
		}
		if _, err := docs.Put(bytes.NewReader(pdf)); err != nil {
			warned.Do(func() { slog.Warn("demo: cannot store its documents", "err", err) })
		}
	}
}

// sealedStore is the command side's store with every append's personal data sealed first (infra/keys).
type sealedStore struct {
	commands.EventStore
	keys *keys.Store
}

func (s sealedStore) Append(ctx context.Context, stream string, expected eventlog.Expected, events []eventlog.Event) (eventlog.AppendResult, error) {
	return s.keys.Append(ctx, s.EventStore, stream, expected, events)
}

// sealedWorkload is the demo generator's store with every append's personal data sealed first.
type sealedWorkload struct {
	workload.Store
	keys *keys.Store
}

func (s sealedWorkload) Append(ctx context.Context, stream string, expected eventlog.Expected, events []eventlog.Event) (eventlog.AppendResult, error) {
	return s.keys.Append(ctx, s.Store, stream, expected, events)
}

// newRuntime builds the projection runtime over the store for the given models and migrates them.
func newRuntime(ctx context.Context, pool *pgxpool.Pool, store *eventstore.Store, models []runtime.ReadModel, reg prometheus.Registerer) (*runtime.Runtime, error) {
	rt, err := runtime.New(runtime.Config{
		Pool:       pool,
		Source:     store,
		Migrate:    pg.Migrator(pool),
		Models:     models,
		Registerer: reg,
		Logger:     slog.Default(),
		// Rebuild pages of 20 000 events: an aggregate's events then span fewer pages, so its row is
		// loaded and rewritten fewer times (measured 64k vs 47k events/s for all models, 1M events,
		// ~20 MB held per page).
		RebuildBatch: 20000,
	})
	if err != nil {
		return nil, err
	}
	if err := rt.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("migrate read models: %w", err)
	}
	return rt, nil
}
