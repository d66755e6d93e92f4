package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/sync/errgroup"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
)

// ProgressFunc receives a rebuild's progress after each batch and once at the end.
type ProgressFunc func(RebuildProgress)

// RebuildProgress is how far a rebuild is, in events of the history (each counted once, whatever the
// number of models).
type RebuildProgress struct {
	// Done is how many events of the history every model has applied: the slowest model's count.
	Done uint64
	// Total is how many events the history holds, estimated from the $all positions of the slowest model
	// and of the head when the Source can tell the head (HeadSource), else 0. On the embedded node a
	// position counts events; on an EventStoreDB server it is a log offset, and the estimate assumes
	// events of even size.
	Total uint64
	// Read is how many events the one reader has handed to the models.
	Read uint64
	// Models is each model's count of events applied (Done is the least), in the order given.
	Models []ModelProgress
}

// ModelProgress is one model's part of a rebuild.
type ModelProgress struct {
	Name string
	Done uint64 // events of the history the model has gone through (applied, or skipped as poison)
}

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
// is dropped with CASCADE once every model is swapped in: never create views or foreign keys in other
// schemas that depend on a model's tables, they would go with it.
func (r *Runtime) Rebuild(ctx context.Context, m ReadModel, progress ProgressFunc) error {
	return r.RebuildAll(ctx, []ReadModel{m}, progress)
}

// RebuildAll rebuilds several read models (see Rebuild) from one read of the history: each page of $all
// is decoded once and handed, read-only, to every model, which applies it into its own shadow schema on
// its own connection, concurrently with the others. The slowest model sets the pace (the reader waits
// when a model's queue is full, so memory stays bounded). Every event of a page carries one
// eventlog.Shared, so its payload is decoded once for all the models; each shadow schema's statistics are
// refreshed as it grows (after pages 1, 2, 4, 8, …; not a WriteOnly model's). The indexes a model builds
// last (IndexesLast) are created as soon as it has caught up with the head, while slower models still
// apply (indexBuilds); when every model has caught up and every index is built, each shadow schema is
// swapped in (one transaction per model). If any model or index fails, none is swapped: the live schemas
// stay as they were and the error names the model. progress reports the position and the
// rate of the slowest model, which is the rate of the whole rebuild.
func (r *Runtime) RebuildAll(ctx context.Context, models []ReadModel, progress ProgressFunc) error {
	if len(models) == 0 {
		return errors.New("rebuild: no read model named")
	}
	seen := map[string]bool{}
	for _, m := range models {
		if err := validateModel(m); err != nil {
			return err
		}
		if seen[m.Name()] {
			return fmt.Errorf("rebuild: read model %s named twice", m.Name())
		}
		seen[m.Name()] = true
	}
	if progress == nil {
		progress = func(RebuildProgress) {}
	}
	if err := r.migrateMeta(ctx); err != nil {
		return err
	}
	// One connection holds every model's rebuild lock for the whole rebuild, and holds nothing else: the
	// appliers take connections from the pool page by page, so a pool smaller than the number of models
	// makes them take turns, never wait on each other (one connection per model held while waiting for
	// another deadlocked seven models on a pool of four).
	unlock, err := r.lockRebuilds(ctx, models)
	if err != nil {
		return err
	}
	defer unlock()
	// The shadow schemas are made side by side (each model's migrations in order, on one connection at a
	// time): from the start to the last model's "rebuild started", 0.33 / 0.37 / 0.32 s one after the other,
	// 0.25 / 0.22 / 0.28 s side by side.
	jobs := make([]*rebuildJob, len(models))
	prep, pctx := errgroup.WithContext(ctx)
	for i, m := range models {
		prep.Go(func() (err error) {
			jobs[i], err = r.prepareRebuild(pctx, m)
			return err
		})
	}
	if err := prep.Wait(); err != nil {
		return err
	}

	var total uint64
	if hs, ok := r.cfg.Source.(HeadSource); ok {
		if head, err := hs.Head(ctx); err == nil {
			total = head.Commit
		}
	}
	start := time.Now()
	var read atomic.Uint64
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	// One reader, one queue per model, one applier per model.
	pages := make(chan []eventlog.Recorded, 2)
	readErr := make(chan error, 1)
	go func() {
		defer close(pages)
		readErr <- r.readHistory(runCtx, pages)
	}()
	var mu sync.Mutex
	report := func() {
		mu.Lock()
		defer mu.Unlock()
		p := RebuildProgress{Read: read.Load(), Models: make([]ModelProgress, len(jobs))}
		slow := jobs[0]
		for i, j := range jobs {
			p.Models[i] = ModelProgress{Name: j.t.name(), Done: j.done}
			if j.done < slow.done {
				slow = j
			}
		}
		p.Done = slow.done
		if total > 0 && slow.cp.Commit > 0 {
			p.Total = max(p.Done, uint64(float64(p.Done)*float64(total)/float64(slow.cp.Commit)))
		}
		progress(p)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(jobs))
	idx := r.newIndexBuilds(ctx, jobs, cancel)
	defer idx.stop()
	for i, j := range jobs {
		j.queue = make(chan []eventlog.Recorded, 4)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := j.run(runCtx, &mu, report); err != nil {
				errs[i] = err
				cancel(err)
				for range j.queue { // let the fan-out go on to the end, or to the cancellation
				}
				return
			}
			if runCtx.Err() == nil {
				idx.applied(i)
			}
		}()
	}
	mark := time.Now()
	var waiting time.Duration
fan:
	for page := range pages {
		waiting += time.Since(mark)
		for _, j := range jobs {
			select {
			case j.queue <- page:
			case <-runCtx.Done():
				break fan
			}
		}
		read.Add(uint64(len(page)))
		mark = time.Now()
	}
	for _, j := range jobs {
		close(j.queue)
	}
	wg.Wait()
	cancel(nil)
	rerr := <-readErr
	for range pages { // the reader has stopped; drain what it left
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := idx.err(); err != nil {
		return err
	}
	if rerr != nil {
		return fmt.Errorf("rebuild %s: read $all: %w", modelList(models), rerr)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("rebuild %s: %w", modelList(models), err)
	}
	if err := idx.finish(); err != nil {
		return err
	}
	for _, j := range jobs {
		if err := r.swap(ctx, j.t.model, j.t.schema); err != nil {
			return fmt.Errorf("rebuild %s: %w", j.t.name(), err)
		}
	}
	r.dropRetired(ctx, models)
	report()
	for _, j := range jobs {
		secs := time.Since(start).Seconds()
		j.log.InfoContext(ctx, "rebuild swapped in", "events", j.applied, "checkpoint", j.cp.String(),
			"seconds", secs, "events_per_second", float64(j.applied)/secs,
			"applying_seconds", j.applying.Seconds(), "reader_waiting_for_store_seconds", waiting.Seconds())
	}
	return nil
}

func modelList(models []ReadModel) string {
	names := make([]string, len(models))
	for i, m := range models {
		names[i] = m.Name()
	}
	return strings.Join(names, ",")
}

// rebuildJob is one model's part of a rebuild: its rebuild lock, its shadow schema and its progress.
type rebuildJob struct {
	t         *target
	log       *slog.Logger
	queue     chan []eventlog.Recorded
	later     []deferredIndex   // built once the history is applied, before the swap
	writeOnly bool              // the model is WriteOnly: its statistics are not refreshed
	cp        eventlog.Position // guarded by the RebuildAll mutex
	applied   uint64            // guarded by the RebuildAll mutex
	done      uint64            // events gone through, applied or poison; guarded by the RebuildAll mutex
	pages     uint64            // pages applied
	applying  time.Duration
}

// lockRebuilds takes the rebuild lock of every model (session advisory locks) on one connection and
// returns how to release them. A model whose rebuild is already running is ErrRebuildRunning, and no lock
// is kept.
func (r *Runtime) lockRebuilds(ctx context.Context, models []ReadModel) (func(), error) {
	conn, err := r.cfg.Pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("rebuild: %w", err)
	}
	var held []string
	release := func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		for _, name := range held {
			if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock(hashtextextended($1, 0))", "ledger.rebuild:"+name); err != nil {
				_ = conn.Conn().Close(ctx) // the session, and with it every lock, ends; the pool discards the connection
				break
			}
		}
		conn.Release()
	}
	for _, m := range models {
		name := m.Name()
		var locked bool
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock(hashtextextended($1, 0))", "ledger.rebuild:"+name).Scan(&locked); err != nil {
			release()
			return nil, fmt.Errorf("rebuild %s: take the rebuild lock: %w", name, err)
		}
		if !locked {
			release()
			return nil, fmt.Errorf("rebuild %s: %w", name, ErrRebuildRunning)
		}
		held = append(held, name)
	}
	return release, nil
}

// prepareRebuild creates m's shadow schema afresh (its rebuild lock is held).
func (r *Runtime) prepareRebuild(ctx context.Context, m ReadModel) (*rebuildJob, error) {
	name := m.Name()
	shadow := shadowSchema(name)
	// A shadow schema is left by a failed rebuild, a retired one by a rebuild stopped between its swap and
	// the drop of the tables it replaced (the swap renames the live schema to it).
	if _, err := r.cfg.Pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{shadow}.Sanitize()+", "+
		pgx.Identifier{retiredSchema(name)}.Sanitize()+" CASCADE"); err != nil {
		return nil, fmt.Errorf("rebuild %s: drop the old shadow schema: %w", name, err)
	}
	if err := r.migrateModel(ctx, m, shadow); err != nil {
		return nil, fmt.Errorf("rebuild %s: %w", name, err)
	}
	later, err := r.deferIndexes(ctx, m, shadow)
	if err != nil {
		return nil, fmt.Errorf("rebuild %s: %w", name, err)
	}
	if err := setAutovacuum(ctx, r.cfg.Pool, shadow, false); err != nil {
		return nil, fmt.Errorf("rebuild %s: %w", name, err)
	}
	log := r.cfg.Logger.With("projection", name)
	log.InfoContext(ctx, "rebuild started", "shadow", shadow)
	_, writeOnly := m.(WriteOnly)
	return &rebuildJob{t: &target{rt: r, model: m, schema: shadow}, log: log, later: later, writeOnly: writeOnly}, nil
}

// run applies the pages of its queue, each in one transaction, until the queue closes.
func (j *rebuildJob) run(ctx context.Context, mu *sync.Mutex, report func()) error {
	var cp eventlog.Position
	for page := range j.queue {
		if err := ctx.Err(); err != nil {
			return nil // another model failed, or the caller cancelled: RebuildAll reports why
		}
		mark := time.Now()
		out, err := j.t.apply(ctx, cp, page)
		j.applying += time.Since(mark)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("rebuild %s: %w", j.t.name(), err)
		}
		if e := out.haltedAt; e != nil {
			return fmt.Errorf("rebuild %s: poison event at %s (%s %s@%d), policy halt: %s: %w",
				j.t.name(), e.Position, e.Type, e.Stream, e.Revision, out.reason, ErrPoison)
		}
		cp = out.cp.Position
		mu.Lock()
		j.cp, j.applied, j.done = cp, j.applied+uint64(out.applied), j.done+uint64(len(page))
		mu.Unlock()
		report()
		if j.pages++; j.pages&(j.pages-1) == 0 && !j.writeOnly { // after pages 1, 2, 4, 8, …
			if err := j.analyze(ctx); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("rebuild %s: %w", j.t.name(), err)
			}
		}
	}
	return nil
}

// analyze refreshes the planner's statistics of the shadow schema's tables. They start empty and grow by
// a page at a time, faster than autovacuum looks at them: without fresh statistics a model's look-ups
// by key are planned for empty tables (a scan of the whole table per statement, later in the rebuild).
// Doubling intervals keep it to a few runs for the whole history.
func (j *rebuildJob) analyze(ctx context.Context) error {
	rows, err := j.t.rt.cfg.Pool.Query(ctx, "SELECT tablename FROM pg_tables WHERE schemaname = $1", j.t.schema)
	if err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	for i, n := range names {
		names[i] = j.t.ident(n)
	}
	if len(names) == 0 {
		return nil
	}
	// A sample of 3 000 rows a table instead of the default 30 000: the planner needs the tables' sizes and
	// a rough idea of their keys to look rows up by index; the full statistics come with autovacuum once the
	// schema is live.
	err = pgx.BeginFunc(ctx, j.t.rt.cfg.Pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "SET LOCAL default_statistics_target = 10; ANALYZE "+strings.Join(names, ", "))
		return err
	})
	if err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}

// setAutovacuum turns autovacuum off for the tables of a shadow schema (on: back to the server's
// settings). A rebuild loads its shadow tables faster than autovacuum's thresholds, and the workers it
// sends vacuum and analyse them while they grow — 1.7 s of PostgreSQL's CPU in a million-event rebuild of
// every model, on the two cores the rebuild keeps busy — for statistics the rebuild keeps itself where a
// model needs them (rebuildJob.analyze). The swap turns it back on in its own transaction, so a live table
// never has it off; autovacuum then finds the tables' inserts counted and looks at them once.
func setAutovacuum(ctx context.Context, q interface {
	execer
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, schema string, on bool) error {
	rows, err := q.Query(ctx, `SELECT c.relname, EXISTS (SELECT 1 FROM unnest(c.reloptions || t.reloptions) o WHERE o LIKE 'autovacuum\_enabled=%')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
		WHERE n.nspname = $1 AND c.relkind = 'r'`, schema)
	if err != nil {
		return fmt.Errorf("autovacuum of schema %s: %w", schema, err)
	}
	var names []string
	for rows.Next() {
		var name string
		var set bool
		if err := rows.Scan(&name, &set); err != nil {
			rows.Close()
			return fmt.Errorf("autovacuum of schema %s: %w", schema, err)
		}
		if set && !on {
			rows.Close()
			return fmt.Errorf("table %s sets autovacuum_enabled: a read model's migrations leave it to the rebuild, which turns it off while loading", name)
		}
		names = append(names, name)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("autovacuum of schema %s: %w", schema, err)
	}
	opts := " SET (autovacuum_enabled = off, toast.autovacuum_enabled = off)"
	if on {
		opts = " RESET (autovacuum_enabled, toast.autovacuum_enabled)"
	}
	var sql strings.Builder
	for _, n := range names {
		sql.WriteString("ALTER TABLE " + pgx.Identifier{schema, n}.Sanitize() + opts + ";")
	}
	if sql.Len() == 0 {
		return nil
	}
	if _, err := q.Exec(ctx, sql.String()); err != nil {
		return fmt.Errorf("autovacuum of schema %s: %w", schema, err)
	}
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
				e.Shared = new(eventlog.Shared) // every model gets this copy: its payload is decoded once
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
// live batch is in flight) and both schemas' migration locks: the live schema is renamed to the retired
// one and the shadow to the live one. The retired schema's tables are dropped after the commit
// (dropRetired), so the swap takes no lock on a table and does not wait for the autovacuum worker or a
// reader busy with one.
func (r *Runtime) swap(ctx context.Context, m ReadModel, shadow string) error {
	return r.retryDeadlock(ctx, "the swap", m.Name(), func() error { return r.swapOnce(ctx, m, shadow) })
}

// retryDeadlock runs fn, and again a few times while PostgreSQL picks it as a deadlock's victim (40P01):
// nothing of its transaction was committed then.
func (r *Runtime) retryDeadlock(ctx context.Context, what, model string, fn func() error) error {
	var err error
	for try := range 5 {
		if err = fn(); !isDeadlock(err) {
			return err
		}
		r.cfg.Logger.Warn("runtime: "+what+" was a deadlock's victim; trying again", "model", model, "try", try+1)
		select {
		case <-time.After(time.Duration(50*(try+1)) * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return err
}

// dropRetired drops the schemas the swaps retired, side by side: each waits for the readers still on its
// tables (the portal, an auditor's query; at most 30 s) and for PostgreSQL to cancel an autovacuum of them
// (deadlock_timeout, a second by default), and readers taking their locks table by table may make a drop
// a deadlock's victim (tried again). The models are swapped in already: a drop that fails is logged, and
// the model's next rebuild drops what is left.
func (r *Runtime) dropRetired(ctx context.Context, models []ReadModel) {
	var wg sync.WaitGroup
	for _, m := range models {
		wg.Go(func() {
			retired := retiredSchema(m.Name())
			err := r.retryDeadlock(ctx, "dropping the retired schema", m.Name(), func() error {
				return pgx.BeginFunc(ctx, r.cfg.Pool, func(tx pgx.Tx) error {
					_, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '30s'; DROP SCHEMA IF EXISTS "+pgx.Identifier{retired}.Sanitize()+" CASCADE")
					return err
				})
			})
			if err != nil {
				r.cfg.Logger.Warn("runtime: the rebuilt model is swapped in, but the tables it replaced are still there; its next rebuild drops them",
					"model", m.Name(), "schema", retired, "err", err)
			}
		})
	}
	wg.Wait()
}

// isDeadlock reports whether err is PostgreSQL's deadlock_detected.
func isDeadlock(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "40P01"
}

func (r *Runtime) swapOnce(ctx context.Context, m ReadModel, shadow string) error {
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
	if err := setAutovacuum(ctx, tx, shadow, true); err != nil {
		return fmt.Errorf("swap: %w", err)
	}
	id := func(s string) string { return pgx.Identifier{s}.Sanitize() }
	sql := "ALTER SCHEMA " + id(shadow) + " RENAME TO " + id(live)
	if exists {
		sql = "ALTER SCHEMA " + id(live) + " RENAME TO " + id(retired) + "; " + sql
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
