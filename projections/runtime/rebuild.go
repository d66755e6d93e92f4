package runtime

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
)

// ProgressFunc receives a rebuild's progress after each batch and once at the end. done is the $all commit
// position reached and total the head's when the Source can tell it (HeadSource), else 0; on the embedded
// node positions count events, on an EventStoreDB server they are log offsets, so done/total is the
// fraction either way. rate is events applied per second since the start.
type ProgressFunc func(done, total uint64, rate float64)

// HeadSource is a Source that can tell the position of the last event of $all. It is optional: rebuild
// progress reports a total only when the Source implements it.
type HeadSource interface {
	Head(ctx context.Context) (eventlog.Position, error)
}

// ErrRebuildRunning means another rebuild of the same read model holds its rebuild lock (in this process or
// another). Wait for it to finish; two rebuilds would write the same shadow schema.
var ErrRebuildRunning = errors.New("projection: a rebuild of this read model is already running")

// Rebuild replays the whole history into a shadow schema (rm_<name>__rebuild), catches up to the head of
// $all, then swaps it in for the live schema in one transaction: the live schema is renamed away, the
// shadow renamed in, the old one dropped, read access granted again. Readers keep reading the old tables
// until the swap commits, then see the new ones; a live projector of the model (in any process) finds the
// checkpoint moved and continues from the rebuilt one.
//
// Operational warnings: the rebuild needs as much free disk again as the model's tables take. The swap
// waits for running queries on the old tables (at most 30s, then it fails and can be retried); the shadow
// schema of a failed or cancelled rebuild is left for inspection and dropped by the next rebuild. A model
// whose policy is Halt makes the rebuild fail at its first poison event, leaving the live schema alone.
// A model this process has halted stays halted after the swap until the process restarts. The old schema
// is dropped with CASCADE: never create views or foreign keys in other schemas that depend on a model's
// tables, they would go with it.
func (r *Runtime) Rebuild(ctx context.Context, m ReadModel, progress ProgressFunc) error {
	if err := validateModel(m); err != nil {
		return err
	}
	if progress == nil {
		progress = func(uint64, uint64, float64) {}
	}
	name := m.Name()
	log := r.cfg.Logger.With("projection", name)
	if err := r.migrateMeta(ctx); err != nil {
		return err
	}
	conn, err := r.cfg.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("rebuild %s: %w", name, err)
	}
	defer conn.Release()
	var locked bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock(hashtextextended($1, 0))", "ledger.rebuild:"+name).Scan(&locked); err != nil {
		return fmt.Errorf("rebuild %s: take the rebuild lock: %w", name, err)
	}
	if !locked {
		return fmt.Errorf("rebuild %s: %w", name, ErrRebuildRunning)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock(hashtextextended($1, 0))", "ledger.rebuild:"+name); err != nil {
			_ = conn.Conn().Close(ctx) // the session, and with it the lock, ends; the pool discards the connection
		}
	}()

	shadow := shadowSchema(name)
	if _, err := r.cfg.Pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{shadow}.Sanitize()+" CASCADE"); err != nil {
		return fmt.Errorf("rebuild %s: drop the old shadow schema: %w", name, err)
	}
	if err := r.migrateModel(ctx, m, shadow); err != nil {
		return fmt.Errorf("rebuild %s: %w", name, err)
	}
	t := &target{rt: r, model: m, schema: shadow}

	var total uint64
	if hs, ok := r.cfg.Source.(HeadSource); ok {
		if head, err := hs.Head(ctx); err == nil {
			total = head.Commit
		}
	}
	start := time.Now()
	log.InfoContext(ctx, "rebuild started", "shadow", shadow)

	pages := make(chan []eventlog.Recorded, 2)
	readErr := make(chan error, 1)
	readCtx, cancelRead := context.WithCancel(ctx)
	defer cancelRead()
	go func() {
		defer close(pages)
		readErr <- r.readHistory(readCtx, pages)
	}()

	var cp eventlog.Position
	var applied uint64
	var applying, waiting time.Duration // where the time goes: Postgres, or waiting for the store
	mark := time.Now()
	for page := range pages {
		waiting += time.Since(mark)
		mark = time.Now()
		out, err := t.apply(ctx, cp, page)
		applying += time.Since(mark)
		mark = time.Now()
		if err != nil {
			cancelRead()
			return fmt.Errorf("rebuild %s: %w", name, err)
		}
		if e := out.haltedAt; e != nil {
			cancelRead()
			return fmt.Errorf("rebuild %s: poison event at %s (%s %s@%d), policy halt: %s: %w",
				name, e.Position, e.Type, e.Stream, e.Revision, out.reason, ErrPoison)
		}
		cp = out.cp.Position
		applied += uint64(out.applied)
		progress(cp.Commit, max(total, cp.Commit), float64(applied)/time.Since(start).Seconds())
	}
	if err := <-readErr; err != nil {
		return fmt.Errorf("rebuild %s: read $all: %w", name, err)
	}
	if err := r.swap(ctx, m, shadow); err != nil {
		return fmt.Errorf("rebuild %s: %w", name, err)
	}
	rate := float64(applied) / time.Since(start).Seconds()
	progress(cp.Commit, max(total, cp.Commit), rate)
	log.InfoContext(ctx, "rebuild swapped in", "events", applied, "checkpoint", cp.String(),
		"seconds", time.Since(start).Seconds(), "events_per_second", rate,
		"applying_seconds", applying.Seconds(), "waiting_for_store_seconds", waiting.Seconds())
	return nil
}

// readHistory sends $all in pages of up to RebuildBatch events (system streams left out) until a read
// finds nothing new: the head at that moment.
func (r *Runtime) readHistory(ctx context.Context, pages chan<- []eventlog.Recorded) error {
	size := r.cfg.RebuildBatch
	var last eventlog.Position
	seen := false
	for {
		page := make([]eventlog.Recorded, 0, size)
		fresh := 0
		// From is inclusive: after the first page the first event read is the last one already sent.
		n := size
		if seen {
			n = size + 1
		}
		err := r.cfg.Source.ReadAll(ctx, last, n, func(e eventlog.Recorded) error {
			if seen && !last.Less(e.Position) {
				return nil
			}
			last, seen = e.Position, true
			fresh++
			if !eventlog.SystemStream(e.Stream) {
				page = append(page, e)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if fresh == 0 {
			return nil
		}
		if len(page) == 0 {
			continue
		}
		select {
		case pages <- page:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// swap replaces the live schema of m by shadow in one transaction, under the model's projection lock (no
// live batch is in flight) and both schemas' migration locks.
func (r *Runtime) swap(ctx context.Context, m ReadModel, shadow string) error {
	name := m.Name()
	live, retired := SchemaOf(name), retiredSchema(name)
	tx, err := r.cfg.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("swap: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, `SELECT set_config('lock_timeout', '30s', true),
		pg_advisory_xact_lock(hashtextextended($1, 0)), pg_advisory_xact_lock(hashtextextended($2, 0)),
		pg_advisory_xact_lock(hashtextextended($3, 0))`,
		"ledger.migrate:"+live, "ledger.migrate:"+shadow, projectionLockKey(name)); err != nil {
		return fmt.Errorf("swap: take the locks: %w", err)
	}
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", live).Scan(&exists); err != nil {
		return fmt.Errorf("swap: %w", err)
	}
	id := func(s string) string { return pgx.Identifier{s}.Sanitize() }
	sql := "ALTER SCHEMA " + id(shadow) + " RENAME TO " + id(live)
	if exists {
		sql = "ALTER SCHEMA " + id(live) + " RENAME TO " + id(retired) + "; " + sql + "; DROP SCHEMA " + id(retired) + " CASCADE"
	}
	if _, err := tx.Exec(ctx, sql); err != nil {
		return fmt.Errorf("swap %s for %s: %w", shadow, live, err)
	}
	if err := r.grant(ctx, tx, live); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO rm_meta.projections (name, schema_name, poison_policy, rebuilt_at) VALUES ($1, $2, $3, now())
		ON CONFLICT (name) DO UPDATE SET schema_name = excluded.schema_name, poison_policy = excluded.poison_policy,
		rebuilt_at = now(), state = 'running', halted_at = NULL, halt_reason = NULL`,
		name, live, m.Poison().String()); err != nil {
		return fmt.Errorf("swap: record the rebuild: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("swap: commit: %w", err)
	}
	return nil
}
