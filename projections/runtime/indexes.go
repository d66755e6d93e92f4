package runtime

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5"
)

// IndexesLast is a ReadModel some of whose indexes its Apply never reads through: indexes for the portal
// and the auditors, not for folding events. A rebuild drops them from the shadow schema once it is
// migrated and creates them again, sorted in one pass each, after the whole history has been applied,
// instead of updating them row by row; the swap happens only once they exist, so the live schema never
// lacks one. A unique index, or the index of a primary key or unique constraint, can be named only by a
// WriteOnly model: elsewhere it is a rule the rows must keep while they are written, and the target of
// upserts; a model that only inserts breaks no rule by writing without it, and a duplicate fails the
// index's build, and with it the rebuild, before any swap (the audit trail's primary key: inserting a
// million rows into the table with it 2.48 s, without it and building it after 1.60 + 0.36 s). Live
// projection is not affected.
type IndexesLast interface {
	// IndexesBuiltLast names the indexes (in the model's schema) a rebuild builds after the load.
	IndexesBuiltLast() []string
}

// WriteOnly is a ReadModel whose Apply reads nothing of its tables through an index or by a plan that
// depends on their statistics: it writes rows (the audit trail appends one row an event; the transparency
// log appends leaves and nodes and reads and rewrites one row, its tree's edge). A rebuild does not
// refresh the planner's statistics of its shadow schema as it grows (see rebuildJob.analyze), since no
// statement of the rebuild is planned on them: for the audit trail, six ANALYZE runs of up to 640 000
// rows, 0.7–1.4 s of PostgreSQL's time in a million-event rebuild.
// The tables' sizes are known to the planner once the rebuild has built their indexes. Such a model may
// also have its primary key and unique indexes built last (IndexesLast).
type WriteOnly interface {
	// AppliesWithoutReading marks the model.
	AppliesWithoutReading()
}

// deferredIndex is an index a rebuild dropped from a shadow schema, with the statement that makes it again
// and, for the index of a constraint, the statement that makes the constraint of it once it is built.
type deferredIndex struct{ name, def, attach string }

// deferIndexes drops from schema the indexes m builds last and returns how to create them again. An index
// named that does not exist, or that is unique when m is not WriteOnly, is an error: a programming error
// found by the first rebuild.
func (r *Runtime) deferIndexes(ctx context.Context, m ReadModel, schema string) ([]deferredIndex, error) {
	il, ok := m.(IndexesLast)
	if !ok {
		return nil, nil
	}
	names := il.IndexesBuiltLast()
	if len(names) == 0 {
		return nil, nil
	}
	_, writeOnly := m.(WriteOnly)
	rows, err := r.cfg.Pool.Query(ctx, `SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisunique, t.relname,
			coalesce(k.contype::text, ''), coalesce(k.conname, '')
		FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_class t ON t.oid = i.indrelid
		LEFT JOIN pg_constraint k ON k.conindid = i.indexrelid AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u')
		WHERE n.nspname = $1 AND c.relname = ANY($2)`, schema, names)
	if err != nil {
		return nil, fmt.Errorf("find the indexes built last: %w", err)
	}
	var out []deferredIndex
	var drops []string
	for rows.Next() {
		var d deferredIndex
		var unique bool
		var table, kind, constraint string
		if err := rows.Scan(&d.name, &d.def, &unique, &table, &kind, &constraint); err != nil {
			rows.Close()
			return nil, fmt.Errorf("find the indexes built last: %w", err)
		}
		if unique && !writeOnly {
			rows.Close()
			return nil, fmt.Errorf("index %s is unique: it cannot be built last (but by a WriteOnly model)", d.name)
		}
		drop := "DROP INDEX " + pgx.Identifier{schema, d.name}.Sanitize()
		if kind != "" {
			t, c := pgx.Identifier{schema, table}.Sanitize(), pgx.Identifier{constraint}.Sanitize()
			drop = "ALTER TABLE " + t + " DROP CONSTRAINT " + c
			what := "PRIMARY KEY"
			if kind == "u" {
				what = "UNIQUE"
			}
			d.attach = "ALTER TABLE " + t + " ADD CONSTRAINT " + c + " " + what + " USING INDEX " + pgx.Identifier{d.name}.Sanitize()
		}
		out = append(out, d)
		drops = append(drops, drop)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find the indexes built last: %w", err)
	}
	for _, n := range names {
		if !slices.ContainsFunc(out, func(d deferredIndex) bool { return d.name == n }) {
			return nil, fmt.Errorf("index %s, named to be built last, is not in the schema", n)
		}
	}
	for i, d := range out {
		if _, err := r.cfg.Pool.Exec(ctx, drops[i]); err != nil {
			return nil, fmt.Errorf("drop index %s until the history is applied: %w", d.name, err)
		}
	}
	return out, nil
}

// indexBuilds creates the indexes a rebuild deferred (deferIndexes). A model that has applied the whole
// history has its indexes built at once, while the slower models still apply theirs (the audit trail keeps
// up with the reader and used to wait for the last model before sorting its five indexes, the tail of a
// rebuild), one index at a time on each of at most early connections: the pool's size less two, which the
// models still applying take turns on. Once every model has applied, the indexes left are built side by
// side, each on its own connection (a pool smaller than their number takes them in turns).
type indexBuilds struct {
	r       *Runtime
	ctx     context.Context
	cancel  context.CancelCauseFunc
	fail    func(error) // stops the rebuild
	jobs    []*rebuildJob
	mu      sync.Mutex
	errs    []error           // one per job, guarded by mu
	ready   chan pendingIndex // the indexes of the jobs that have applied the history, not yet taken
	done    chan struct{}     // every job has applied
	workers sync.WaitGroup
}

// pendingIndex is an index of jobs[job].
type pendingIndex struct {
	job int
	def deferredIndex
}

func (r *Runtime) newIndexBuilds(ctx context.Context, jobs []*rebuildJob, fail func(error)) *indexBuilds {
	n := 0
	for _, j := range jobs {
		n += len(j.later)
	}
	b := &indexBuilds{r: r, fail: fail, jobs: jobs, errs: make([]error, len(jobs)), ready: make(chan pendingIndex, n),
		done: make(chan struct{})}
	b.ctx, b.cancel = context.WithCancelCause(ctx)
	early := max(1, int(r.cfg.Pool.Config().MaxConns)-2)
	for range early {
		b.workers.Go(func() {
			for {
				select {
				case p := <-b.ready:
					b.build(p)
				case <-b.done:
					return
				case <-b.ctx.Done():
					return
				}
			}
		})
	}
	return b
}

// applied says that jobs[i] has applied the whole history: its indexes can be built.
func (b *indexBuilds) applied(i int) {
	for _, d := range b.jobs[i].later {
		b.ready <- pendingIndex{job: i, def: d}
	}
}

// stop cancels the builds under way (a model failed, or the rebuild returns) and waits for them to end.
func (b *indexBuilds) stop() {
	b.cancel(errors.New("rebuild stopped"))
	b.workers.Wait()
}

// finish builds the indexes not yet taken, side by side, waits for those under way and returns the
// builds' errors.
func (b *indexBuilds) finish() error {
	close(b.done)
	var g sync.WaitGroup
	for more := true; more; {
		select {
		case p := <-b.ready:
			g.Go(func() { b.build(p) })
		default:
			more = false
		}
	}
	g.Wait()
	b.workers.Wait()
	if err := b.err(); err != nil {
		return err
	}
	if err := b.ctx.Err(); err != nil { // cancelled: some indexes may not have been built
		return fmt.Errorf("rebuild: build the indexes: %w", err)
	}
	return nil
}

// err is the builds' errors so far, each naming its model and index.
func (b *indexBuilds) err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return errors.Join(b.errs...)
}

// build creates one index, in a transaction with room to sort in memory and without PostgreSQL's parallel
// workers (pg_get_indexdef names the schema): the builds already run side by side with the models still
// applying on a machine's every core, and workers only added their own sorting and merging to it (a
// million-event rebuild, eight pairs alternated: PostgreSQL's CPU 20.75 → 20.2 s, medians 19.24 → 18.98 s,
// faster in six). Then, for a constraint's index, the constraint of it in a transaction of its own: it locks
// the table, so it waits for the other builds on the table (which share it), and they do not wait for it
// while they sort. A failure is its job's error and stops the rebuild.
func (b *indexBuilds) build(p pendingIndex) {
	i, d := p.job, p.def
	if b.ctx.Err() != nil {
		return
	}
	err := pgx.BeginFunc(b.ctx, b.r.cfg.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(b.ctx, "SET LOCAL maintenance_work_mem = '128MB'; SET LOCAL max_parallel_maintenance_workers = 0"); err != nil {
			return err
		}
		_, err := tx.Exec(b.ctx, d.def)
		return err
	})
	if err == nil && d.attach != "" {
		_, err = b.r.cfg.Pool.Exec(b.ctx, d.attach)
	}
	if err != nil {
		b.mu.Lock()
		if b.errs[i] == nil {
			b.errs[i] = fmt.Errorf("rebuild %s: build index %s: %w", b.jobs[i].t.name(), d.name, err)
		}
		b.mu.Unlock()
		b.cancel(err)
		b.fail(err)
	}
}
