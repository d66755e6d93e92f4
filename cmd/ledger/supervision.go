package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/infra/auth"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
	"github.com/grassroots-ledger/ledger/infra/metrics"
	"github.com/grassroots-ledger/ledger/infra/supervision"
	"github.com/grassroots-ledger/ledger/projections/runtime"

	"github.com/danielgtaylor/huma/v2"
)

// supervisors is what serve runs for supervisors: the alert engine (outbox appends, deadline sweep,
// calendar checks), webhook deliveries, the supervisors' API on the mux, and the metrics of what
// supervisors and operators watch (HTTP, projection lag, open alerts and ratings).
type supervisors struct {
	http *metrics.HTTP
	// Lag is the last measurement of how far each read model is behind, for the health checks.
	Lag func() metrics.LagReading
	// Work runs the alert engine and the webhook deliveries until ctx ends: in the lease holder only.
	Work func(ctx context.Context) error
}

// Wrap instruments the HTTP handler (normally the mux) with request durations and command results.
func (s *supervisors) Wrap(h http.Handler) http.Handler { return s.http.Wrap(h) }

// startSupervision migrates the alerting schema, mounts the supervisors' API on mux (its actions run on
// executor) and runs the engine, the webhook deliverer, the SSE hub and the lag gauges until ctx ends.
func startSupervision(ctx context.Context, pool *pgxpool.Pool, store *eventstore.Store, executor *commands.Executor, mux *http.ServeMux, doc huma.API, tokens *auth.Store,
	reg prometheus.Registerer, models []runtime.ReadModel, policy supervision.WebhookPolicy) (*supervisors, error) {
	log := slog.Default()
	if err := supervision.Migrate(ctx, pool); err != nil {
		return nil, err
	}
	engine, err := supervision.NewEngine(supervision.EngineConfig{Pool: pool, Store: store, Clock: commands.SystemClock{}, Registerer: reg, Logger: log})
	if err != nil {
		return nil, err
	}
	hooks, err := supervision.NewWebhooks(supervision.WebhookConfig{Pool: pool, Registerer: reg, Logger: log, Policy: policy})
	if err != nil {
		return nil, err
	}
	api, err := supervision.NewAPI(supervision.APIConfig{Mux: mux, API: doc, Pool: pool, Tokens: tokens, Engine: engine, Executor: executor, Webhooks: hooks,
		Store: store, Registerer: reg, Logger: log})
	if err != nil {
		return nil, err
	}
	names := make([]string, len(models))
	for i, m := range models {
		names[i] = m.Name()
	}
	lag, err := metrics.NewLag(pool, store, names, reg)
	if err != nil {
		return nil, err
	}
	if _, err := metrics.NewSupervision(pool, reg); err != nil {
		return nil, err
	}
	httpm, err := metrics.NewHTTP(reg, "GET "+supervision.StreamPath)
	if err != nil {
		return nil, err
	}
	// The engine and the deliverer run in the holder of the worker lease (Work); the stream hub and the
	// lag gauges in every serve.
	for name, run := range map[string]func(context.Context) error{
		"alert stream hub": api.Run,
		"projection lag":   func(ctx context.Context) error { return lag.Run(ctx, 5*time.Second) },
	} {
		go func() {
			if err := run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				log.Error("serve: stopped", "component", name, "err", err)
			}
		}()
	}
	work := func(ctx context.Context) error { return runAll(ctx, engine.Run, hooks.Run) }
	return &supervisors{http: httpm, Lag: lag.Last, Work: work}, nil
}
