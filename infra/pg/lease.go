package pg

import (
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/infra/outage"
)

// Lease runs work in one process at a time among all those sharing a database: several `ledger serve`
// behind a load balancer answer HTTP alike, but only the holder of the lease projects, runs the alert
// engine and delivers webhooks. The lease is a session-level advisory lock held on a connection of its
// own: when the holder dies (kill -9, a lost machine once TCP gives up) PostgreSQL drops the connection
// and the lock with it, and a standby, trying every Retry, takes over.
//
// The holder checks its lock connection every Check; if the connection is lost it stops work at once.
// A new holder waits Grace (more than Check) before it starts, so that a holder that lost its connection
// has stopped before the next one begins. The work itself must still be safe to run twice (the ledger's
// is: projections checkpoint in their transactions, alerts are appended under derived ids), because no
// lease can rule out a holder paused past its Grace.
type Lease struct {
	Pool   *pgxpool.Pool
	Name   string // what is leased: "ledger worker"
	Logger *slog.Logger
	// Retry is how often a standby tries to take the lease (default 2 s); Check how often the holder
	// checks its lock connection (default 250 ms); Grace how long a new holder waits before working
	// (default 3 × Check).
	Retry, Check, Grace time.Duration
	// OnChange, if set, is told when this process becomes the holder (true) or stops being it (false).
	OnChange func(active bool)

	active atomic.Bool
	outage outage.Log // a standby that cannot reach the database says so once a minute, not every Retry
}

// Active reports whether this process holds the lease and works.
func (l *Lease) Active() bool { return l.active.Load() }

// Held reports whether a process holds the lease now (on a database shared by serves: one is working). It
// takes the lock for an instant when it is free, on a connection of Pool.
func (l *Lease) Held(ctx context.Context) (bool, error) {
	conn, err := l.Pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Release()
	var free bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", l.key()).Scan(&free); err != nil {
		return false, err
	}
	if free {
		_, err = conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", l.key())
	}
	return !free, err
}

// key is the advisory-lock key of a lease name.
func (l *Lease) key() int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("ledger lease: " + l.Name))
	return int64(h.Sum64())
}

// Run takes the lease whenever it can and runs work while it holds it, until ctx ends. work's context
// ends when the lease is lost; when work returns (an error, or nil) the lease is given up and taken
// again after Retry, so another process may take over. Run returns ctx's error.
func (l *Lease) Run(ctx context.Context, work func(context.Context) error) error {
	if l.Retry <= 0 {
		l.Retry = 2 * time.Second
	}
	if l.Check <= 0 {
		l.Check = 250 * time.Millisecond
	}
	if l.Grace <= 0 {
		l.Grace = 3 * l.Check
	}
	if l.Logger == nil {
		l.Logger = slog.Default()
	}
	for {
		held, err := l.hold(ctx, work)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch {
		case held && err != nil:
			l.Logger.Warn("lease: "+l.Name, "held", held, "err", err)
		case err != nil:
			l.outage.Fail(l.Logger, time.Now(), "lease: cannot try "+l.Name, "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(l.Retry):
		}
	}
}

// hold tries the lock once and, if it is taken, works until the lock connection fails, work returns or
// ctx ends. held says whether it held the lease.
func (l *Lease) hold(ctx context.Context, work func(context.Context) error) (held bool, err error) {
	conn, err := l.Pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	l.outage.Over(l.Logger, time.Now(), "lease: can try "+l.Name+" again")
	defer func() {
		if held {
			// Unlock on a healthy connection; a broken one has lost the lock already, and is destroyed.
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			if _, uerr := conn.Exec(uctx, "SELECT pg_advisory_unlock($1)", l.key()); uerr != nil {
				_ = conn.Conn().Close(uctx)
			}
		}
		conn.Release()
	}()
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", l.key()).Scan(&held); err != nil || !held {
		return false, err
	}
	l.Logger.Info("lease: this process holds "+l.Name+"; starting after the grace period", "grace", l.Grace)
	select {
	case <-ctx.Done():
		return true, nil
	case <-time.After(l.Grace):
	}
	if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
		return true, errors.New("lost the lease's connection before working: " + err.Error())
	}
	wctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	done := make(chan error, 1)
	l.setActive(true)
	defer l.setActive(false)
	go func() { done <- work(wctx) }()
	tick := time.NewTicker(l.Check)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return true, err
		case <-tick.C:
			cctx, cancel := context.WithTimeout(ctx, l.Check)
			_, perr := conn.Exec(cctx, "SELECT 1")
			cancel()
			if perr != nil && ctx.Err() == nil {
				lost := errors.New("lost the lease's connection: " + perr.Error())
				stop(lost)
				<-done
				return true, lost
			}
		case <-ctx.Done():
			stop(ctx.Err())
			<-done
			return true, nil
		}
	}
}

func (l *Lease) setActive(on bool) {
	l.active.Store(on)
	if on {
		l.Logger.Info("lease: working: this process holds " + l.Name)
	} else {
		l.Logger.Info("lease: stopped working: this process gave up " + l.Name)
	}
	if l.OnChange != nil {
		l.OnChange(on)
	}
}
