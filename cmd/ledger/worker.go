package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/grassroots-ledger/ledger/infra/pg"
)

// workerLease names the lease of the serve that works (newWorkerLease).
const workerLease = "ledger worker"

// newWorkerLease is the lease that makes one serve among those sharing a database the worker: the one
// that projects, runs the alert engine and delivers webhooks. ledger_worker_active says which.
func newWorkerLease(pool *pgxpool.Pool, reg prometheus.Registerer) (*pg.Lease, error) {
	active := prometheus.NewGauge(prometheus.GaugeOpts{Name: "ledger_worker_active",
		Help: "1 while this serve holds the worker lease (projects, runs the alert engine, delivers webhooks); 0 on a standby."})
	if err := reg.Register(active); err != nil {
		return nil, err
	}
	return &pg.Lease{Pool: pool, Name: workerLease, Logger: slog.Default(), OnChange: func(on bool) {
		if on {
			active.Set(1)
		} else {
			active.Set(0)
		}
	}}, nil
}

// runAll runs every fn until ctx ends or one of them returns; then it stops the others and returns the
// first error (nil when ctx ended).
func runAll(parent context.Context, fns ...func(context.Context) error) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	errs := make(chan error, len(fns))
	var wg sync.WaitGroup
	for _, fn := range fns {
		wg.Go(func() { errs <- fn(ctx) })
	}
	first := <-errs
	cancel()
	wg.Wait()
	if parent.Err() != nil {
		return nil
	}
	if first == nil {
		first = errors.New("stopped")
	}
	return first
}
