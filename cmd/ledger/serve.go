package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/events"
	"github.com/grassroots-ledger/ledger/infra/audit"
	"github.com/grassroots-ledger/ledger/infra/auth"
	"github.com/grassroots-ledger/ledger/infra/docstore"
	"github.com/grassroots-ledger/ledger/infra/health"
	"github.com/grassroots-ledger/ledger/infra/httpapi"
	"github.com/grassroots-ledger/ledger/infra/keys"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/infra/supervision"
	"github.com/grassroots-ledger/ledger/infra/tlog"
	"github.com/grassroots-ledger/ledger/infra/workload"
	"github.com/grassroots-ledger/ledger/projections/runtime"
	"github.com/grassroots-ledger/ledger/projections/standing"
)

type serveOptions struct {
	data       string
	httpAddr   string
	nodeListen string
	// nodeAllowRemote lets the node listen beyond loopback (esdbnode.Config.AllowRemote).
	nodeAllowRemote bool
	demo            bool
	publicURL       string // the portal's address as the public reaches it (the notices' QR codes)
	logOrigin       string // the transparency log's origin (the first line of its checkpoints)
	// A checkpoint once the log has grown by logEvery events, or logInterval after the last one.
	logEvery    uint64
	logInterval time.Duration
	witnesses   []string // verifier keys of the witnesses whose cosignatures the log accepts
	// Webhook receivers over http, or on private addresses: off unless an administrator allows them.
	webhooksHTTP, webhooksPrivate bool
}

func newServeCmd() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the command API, the public portal and the projections",
		Long: `serve runs the ledger: the command API for clerks, the public disclosure portal, the auditors'
API, the projections that keep the read models current, and the alert engine.

With EVENTSTORE_URL unset it starts the embedded EventStoreDB-protocol node in-process on loopback,
with its data under --data/events, and talks to it through the same client as a real cluster.
DATABASE_URL must point at PostgreSQL ('make run' starts a local cluster under .ledger/pg).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd.Context(), cmd, o) },
	}
	cmd.Flags().StringVar(&o.data, "data", ".ledger", "directory for local data (the embedded node's events)")
	cmd.Flags().StringVar(&o.httpAddr, "http", "127.0.0.1:8080", "address of the HTTP API and portal")
	cmd.Flags().StringVar(&o.logOrigin, "log-origin", tlog.DefaultOrigin, "the transparency log's origin: names this ledger in every signed checkpoint, e.g. ledger.example/龙湾区")
	cmd.Flags().Uint64Var(&o.logEvery, "log-every", 1000, "sign a checkpoint once the log has grown by this many events")
	cmd.Flags().DurationVar(&o.logInterval, "log-interval", 10*time.Second, "sign a checkpoint at most this long after the last while the log grows")
	cmd.Flags().StringArrayVar(&o.witnesses, "witness", nil, "a witness's cosignature/v1 verifier key (ledger witness prints it): its C2SP cosignatures are accepted and served (repeat for several)")
	cmd.Flags().StringVar(&o.publicURL, "public-url", "", "the portal's address as the public reaches it, e.g. https://portal.example (printed in the QR codes of notices; default: the address each request came to)")
	cmd.Flags().BoolVar(&o.demo, "demo", false, "when the store holds no ledger events, write a demo district into it (in the background, while serving)")
	cmd.Flags().StringVar(&o.nodeListen, "node-listen", "127.0.0.1:0", "gRPC address of the embedded node (when EVENTSTORE_URL is unset); loopback only unless --node-allow-remote")
	cmd.Flags().BoolVar(&o.nodeAllowRemote, "node-allow-remote", false, "let --node-listen name an address beyond loopback: the node has no authentication or TLS, so only behind something that authenticates")
	cmd.Flags().BoolVar(&o.webhooksHTTP, "webhooks-allow-http", false, "let supervisors register http:// webhook URLs (default: https only)")
	cmd.Flags().BoolVar(&o.webhooksPrivate, "webhooks-allow-private", false, "let webhook URLs point at loopback and private addresses (default: public addresses only)")
	return cmd
}

func runServe(ctx context.Context, cmd *cobra.Command, o serveOptions) error {
	tuneGC(slog.Default(), "serve")
	ctx, stopServe := context.WithCancelCause(ctx)
	defer stopServe(nil)
	sh, err := openStore(ctx, o.data, nodeAt{o.nodeListen, o.nodeAllowRemote})
	if err != nil {
		return err
	}
	defer sh.Close()
	store, storeURL, storeNote := sh.Store, sh.URL, sh.Note

	pool, err := openServeDB(ctx, "", len(readModels(nil)))
	if err != nil {
		return err
	}
	defer bounded("close the database pool", 5*time.Second, pool.Close)
	// The key store of the personal data: refused without its KEK, and a store holding personal data in
	// clear is refused too (it says how to migrate), before anything is written.
	ks, err := openKeys(ctx, pool, o.data, true)
	if err != nil {
		return err
	}
	if err := ks.CheckStore(ctx, store); err != nil {
		return err
	}
	models := func() []runtime.ReadModel { return readModels(ks) }

	// One registry for everything the operators watch; the Go and process collectors come with it.
	metrics := prometheus.NewRegistry()
	metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// The executor's store is instrumented with append and load latency.
	instrumented, err := instrumentStore(store, metrics)
	if err != nil {
		return err
	}
	rt, err := newRuntime(ctx, pool, store, models(), metrics)
	if err != nil {
		return err
	}
	runCtx, stopRuntime := context.WithCancel(ctx)
	// A known person's key from the process's cache, dropped when destroyed anywhere, and the spare keys
	// of new persons; stopped (the spares never taken deleted) before the pool closes.
	listening := make(chan struct{})
	defer bounded("stop the key cache", 5*time.Second, func() { <-listening })
	defer stopRuntime()
	go func() { defer close(listening); ks.Listen(runCtx) }()

	tokens, err := auth.Open(ctx, pool)
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	api, err := httpapi.New(httpapi.Config{Mux: mux, Tokens: tokens, Logger: slog.Default()})
	if err != nil {
		return err
	}
	executor := commands.NewExecutor(sealedStore{instrumented, ks}, commands.SystemClock{}, events.MustRegistry(), slog.Default())
	sup, err := startSupervision(runCtx, pool, store, executor, mux, api.API(), tokens, metrics, models(),
		supervision.WebhookPolicy{AllowHTTP: o.webhooksHTTP, AllowPrivate: o.webhooksPrivate})
	if err != nil {
		return err
	}
	handlers := commands.NewHandlers(executor, slog.Default()).WithStandings(standing.Reader{Q: pool})
	httpapi.RegisterCatalogue(api, handlers)
	// An erasure first reads what is new in the store (the spare keys taken for the person are named
	// there); reading it every minute keeps that short.
	httpapi.RegisterPrivacy(api, commands.NewPrivacy(executor, keys.Eraser{Store: ks, Records: store}))
	go ks.FollowStore(runCtx, store, time.Minute)
	logKey, publisher, err := startLog(ctx, pool, api, o)
	if err != nil {
		return err
	}
	// The documents the records name by hash (DATA/documents): clerks upload them, the portal serves the
	// ones a public record names.
	docs, err := docstore.Open(filepath.Join(o.data, "documents"), docstore.DefaultMax)
	if err != nil {
		return err
	}
	httpapi.RegisterDocuments(mux, api.API(), tokens, docs, slog.Default())
	// The portal also takes residents' objections and topics, as commands of the public actor.
	closePortal, err := startPortal(runCtx, pool, mux, api, o.publicURL, commands.NewResidents(handlers), docs, store)
	if err != nil {
		return err
	}
	defer closePortal()
	// Auditors' replays keep a set of scratch schemas made ahead: the next replay starts applying at once.
	aud, err := audit.New(audit.Config{Store: store, Pool: pool, Migrate: pg.FreshMigrator(pool), Models: models(), Personal: ks, Logger: slog.Default(),
		Spare: true})
	if err != nil {
		return err
	}
	defer aud.Close()
	if err := httpapi.RegisterAuditor(httpapi.AuditorConfig{Mux: mux, API: api.API(), Tokens: tokens, Auditor: aud, Logger: slog.Default(),
		ConcurrentReplays: serveReplays}); err != nil {
		return err
	}
	// The clerks' look-up of a person's personal data (opened from the key store; logged per look-up).
	httpapi.RegisterPeople(mux, api.API(), tokens, func(ctx context.Context, subject string, covered func(string) bool) ([]keys.Record, int, error) {
		return ks.LookUp(ctx, store, subject, covered)
	}, slog.Default())
	mux.Handle("GET /metrics", promhttp.HandlerFor(metrics, promhttp.HandlerOpts{Registry: metrics}))
	// Not ready while the projections this process runs (it holds the worker lease) start: a load balancer
	// then sends traffic once appends are projected live, not behind the start's catching up.
	var projecting atomic.Bool
	starting := func() bool {
		select {
		case <-rt.Started():
			return false
		default:
			return projecting.Load()
		}
	}
	checks := health.New(health.Config{Store: store, Refusing: sh.refusing, Database: pool, Models: rt.Status, Lag: sup.Lag, Starting: starting})
	// Ratings at every month's and quarter's end, assessment years frozen at the year's end: once the read
	// models have caught up with the store.
	go func() {
		_ = supervision.NewStandingJob(supervision.StandingConfig{Pool: pool, Handlers: handlers, Clock: commands.SystemClock{},
			Ready: func(ctx context.Context) bool { return checks.Check(ctx).Ready }}).Run(runCtx)
	}()
	mux.HandleFunc("GET /healthz", checks.Healthz)
	mux.HandleFunc("GET /readyz", checks.Readyz)
	mux.HandleFunc("GET /livez", health.Livez)
	ln, err := net.Listen("tcp", o.httpAddr)
	if err != nil {
		return fmt.Errorf("listen on --http %s: %w", o.httpAddr, err)
	}
	// Timeouts bound what a slow or idle client holds; event streams and exports lift the write deadline
	// for themselves.
	srv := &http.Server{Handler: httpapi.Edge(sup.Wrap(mux), httpapi.EdgeConfig{Logger: slog.Default()}),
		ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(cmd.OutOrStdout(), `ledger is serving
  portal       %[1]s/
  API          %[1]s/api/v1/ (OpenAPI: %[1]s/api/v1/openapi.json; tokens: ledger token create)
  health       %[1]s/healthz (can it do its job) and %[1]s/readyz (is it also current); %[1]s/livez for a load balancer
  metrics      %[1]s/metrics
  event store  %[2]s (%[3]s)
  database     %[4]s
  log key      %[5]s (the transparency log's verifier key: checkpoints at %[1]s`+tlog.CheckpointPath+`)
Stop with Ctrl-C.
`, base, storeURL, storeNote, pg.Redact(os.Getenv("DATABASE_URL")), logKey.VerifierKey())

	// Every serve answers HTTP; one at a time among those sharing the database projects, runs the alert
	// engine and delivers webhooks: the holder of the worker lease.
	worker, err := newWorkerLease(pool, metrics)
	if err != nil {
		return err
	}
	go func() {
		_ = worker.Run(runCtx, func(ctx context.Context) error {
			projecting.Store(true)
			defer projecting.Store(false)
			return runAll(ctx, rt.Run, sup.Work, publisher.Run,
				func(ctx context.Context) error { return checkSignedLog(ctx, pool, rt.Started()) })
		})
	}()
	if o.demo {
		go seedDemo(runCtx, cmd, sealedWorkload{store, ks}, docs)
	}
	// Migrated by this serve up to here: from now on a newer ledger's migration stops it (watchSchemas).
	go watchSchemas(ctx, pool, schemaWatchEvery, slog.Default(), stopServe)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	slog.Info("serve: shutting down")
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	if cause := context.Cause(ctx); errors.Is(cause, errSchemaUpgraded) {
		return cause
	}
	return nil
}

// bounded runs fn, waiting at most d for it: shutting down must end even when a component still holds
// what fn waits for (a database connection held by a call to a store that is gone).
func bounded(what string, d time.Duration, fn func()) {
	done := make(chan struct{})
	go func() { fn(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		slog.Warn("serve: shutdown step did not finish; leaving it", "step", what, "after", d)
	}
}

// seedDemo writes the default demo district into an empty store while the ledger serves, so the portal
// fills up as the projections catch up. History ends now, so the alert engine's deadlines fall in the
// present. A store that already holds ledger events is left alone.
func seedDemo(ctx context.Context, cmd *cobra.Command, store workload.Store, docs *docstore.Store) {
	wp := &workload.Progress{}
	stop := showProgress(cmd.ErrOrStderr(), wp)
	seeded, stats, err := workload.SeedIfEmpty(ctx, store, workload.Options{Seed: 1, Until: time.Now(), Progress: wp,
		Documents: demoDocuments(docs, 200)})
	stop(err == nil && seeded)
	switch {
	case err != nil && ctx.Err() == nil:
		slog.Error("demo: seeding failed", "err", err)
	case err != nil:
	case seeded:
		fmt.Fprintf(cmd.OutOrStdout(), "demo: wrote %d events for %d communities; browse them on the portal\n", stats.Events, stats.Communities)
	default:
		slog.Info("demo: the store already holds ledger events; nothing written")
	}
}
