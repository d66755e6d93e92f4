// Package runtime projects the ledger's event stream into PostgreSQL read models, effectively once.
//
// One catch-up subscription to $all (from the lowest checkpoint of the running models) is cut into batches
// and fanned out through a Watermill router, one topic and one handler per read model. A handler applies a
// whole batch in one pgx transaction together with the model's checkpoint, which lives in the model's own
// schema (rm_<name>.checkpoint). The checkpoint, not a broker's ack, is the resume point: every transaction
// locks it and checks it is where this projector left it, so a batch delivered twice, a second process
// projecting the same model, a lost commit acknowledgement or a rebuild swapping the schema can never make
// an event count twice or be skipped. Events the model cannot apply are handled by its PoisonPolicy.
//
// A read model can be rebuilt from the whole history into a shadow schema while the live one keeps serving,
// then swapped in atomically (Runtime.Rebuild).
//
// Operational notes: the runtime needs a role that may CREATE schemas in the database; every model schema is
// rm_<name>, the runtime's own is rm_meta. Never write to a model's tables by hand while a projector runs:
// the checkpoint would not describe them.
package runtime

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/sync/errgroup"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
)

//go:embed sql
var sqlFS embed.FS

const (
	metaSchema          = "rm_meta"
	runtimeVersionTable = "runtime_migrations"
	modelVersionTable   = "schema_migrations"
)

func subFS(dir string) fs.FS {
	f, err := fs.Sub(sqlFS, dir)
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return f
}

// Runtime projects a set of read models. Create it with New; Run projects until the context ends; Rebuild
// rebuilds one model. A Runtime's Run may be called once.
type Runtime struct {
	cfg        Config
	metrics    *metrics
	projectors map[string]*projector
	order      []string
	// ownConns: the pool has a connection for every model and two more (the runtime's own queries, a
	// rebuild's lock), so each live model keeps one of its own (target.beginTx). Set by Run, before any
	// batch (New does not touch the pool).
	ownConns bool

	mu       sync.Mutex
	migrated bool

	// started is closed once Run is projecting live (Started).
	started     chan struct{}
	startedOnce sync.Once

	duplicateDeliveries bool // set by tests (export_test.go)
}

// New checks the configuration and registers the metrics. It does not touch the database.
func New(cfg Config) (*Runtime, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("projection runtime: register metrics: %w", err)
	}
	r := &Runtime{cfg: cfg, metrics: m, projectors: map[string]*projector{}, started: make(chan struct{})}
	for _, model := range cfg.Models {
		r.projectors[model.Name()] = &projector{rt: r, t: target{rt: r, model: model, schema: SchemaOf(model.Name()), live: true}}
		r.order = append(r.order, model.Name())
	}
	return r, nil
}

// Migrate creates or upgrades rm_meta and every model's schema, and registers the models in
// rm_meta.projections. Run calls it; call it alone to prepare a database (the portal needs the tables to
// exist before the first event is projected).
func (r *Runtime) Migrate(ctx context.Context) error {
	if err := r.migrateMeta(ctx); err != nil {
		return err
	}
	// Each model's schema has a migration lock of its own: they are migrated side by side (one after
	// another, nothing to do, they took 60 ms of every start, while the first appends waited), each on
	// one connection at a time, never more at once than half the pool.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, min(4, int(r.cfg.Pool.Config().MaxConns)/2)))
	names, schemas, policies := make([]string, len(r.order)), make([]string, len(r.order)), make([]string, len(r.order))
	for i, name := range r.order {
		p := r.projectors[name]
		names[i], schemas[i], policies[i] = name, p.t.schema, p.t.model.Poison().String()
		g.Go(func() error { return r.migrateModel(gctx, p.t.model, p.t.schema) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if _, err := r.cfg.Pool.Exec(ctx, `INSERT INTO rm_meta.projections (name, schema_name, poison_policy)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
		ON CONFLICT (name) DO UPDATE SET schema_name = excluded.schema_name, poison_policy = excluded.poison_policy,
		state = 'running', halted_at = NULL, halt_reason = NULL, started_at = now()`, names, schemas, policies); err != nil {
		return fmt.Errorf("register read models %s: %w", strings.Join(names, ", "), err)
	}
	return nil
}

func (r *Runtime) migrateMeta(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.migrated {
		return nil
	}
	if err := r.cfg.Migrate(ctx, metaSchema, runtimeVersionTable, subFS("sql/meta")); err != nil {
		return fmt.Errorf("migrate %s: %w", metaSchema, err)
	}
	if err := r.grant(ctx, r.cfg.Pool, metaSchema); err != nil {
		return err
	}
	r.migrated = true
	return nil
}

// migrateModel brings schema (the live one or a rebuild's shadow) to the model's latest migration: the
// runtime's checkpoint table first, then the model's own files.
func (r *Runtime) migrateModel(ctx context.Context, m ReadModel, schema string) error {
	if err := r.cfg.Migrate(ctx, schema, runtimeVersionTable, subFS("sql/model")); err != nil {
		return fmt.Errorf("migrate %s (runtime tables): %w", schema, err)
	}
	if err := r.cfg.Migrate(ctx, schema, modelVersionTable, m.Migrations()); err != nil {
		return fmt.Errorf("migrate %s: %w", schema, err)
	}
	return r.grant(ctx, r.cfg.Pool, schema)
}

// execer is a pool, connection or transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// grant gives the read-only role SELECT on everything in schema.
func (r *Runtime) grant(ctx context.Context, db execer, schema string) error {
	if r.cfg.ReadOnlyRole == "" {
		return nil
	}
	s, role := pgx.Identifier{schema}.Sanitize(), pgx.Identifier{r.cfg.ReadOnlyRole}.Sanitize()
	if _, err := db.Exec(ctx, "GRANT USAGE ON SCHEMA "+s+" TO "+role+"; GRANT SELECT ON ALL TABLES IN SCHEMA "+s+" TO "+role); err != nil {
		return fmt.Errorf("grant %s read access to %s: %w", r.cfg.ReadOnlyRole, schema, err)
	}
	return nil
}

// Run migrates, then projects every model until ctx ends (returning ctx's error). A model that halts on a
// poison event stops; the others go on. Database and event-store outages are retried with backoff for as
// long as they last; Run returns early only if the database cannot be migrated at start. Call Run once.
func (r *Runtime) Run(ctx context.Context) error {
	if err := r.Migrate(ctx); err != nil {
		return err
	}
	r.ownConns = int(r.cfg.Pool.Config().MaxConns) >= len(r.order)+2
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	fan := newFanout(&r.cfg, r.order, r.minStart)
	for _, name := range r.order {
		r.metrics.passedOver.WithLabelValues(name) // at 0 from the start, so that the first one shows in increase()
	}
	fan.passedOver = func(name string) { r.metrics.passedOver.WithLabelValues(name).Inc() }
	fan.duplicate = r.duplicateDeliveries
	logger := watermill.NewSlogLoggerWithLevelMapping(r.cfg.Logger.With("component", "projections"),
		map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 30 * time.Second}, logger)
	if err != nil {
		return fmt.Errorf("projection runtime: %w", err)
	}
	router.AddMiddleware(
		middleware.Recoverer,
		middleware.Retry{
			MaxRetries:          5,
			InitialInterval:     r.cfg.RetryInitial,
			MaxInterval:         r.cfg.RetryMax,
			Multiplier:          2,
			RandomizationFactor: 0.5,
			ShouldRetry:         func(middleware.RetryParams) bool { return runCtx.Err() == nil },
			Logger:              logger,
		}.Middleware,
	)
	for _, name := range r.order {
		p := r.projectors[name]
		p.fan = fan
		router.AddConsumerHandler(name, name, fan, p.handle)
	}

	var wg sync.WaitGroup
	wg.Go(func() { r.signalStarted(runCtx, fan, router.Running()) })
	wg.Go(func() { _ = fan.runUpstream(runCtx) })
	wg.Go(func() { _ = fan.runBatcher(runCtx) })
	wg.Go(func() { r.watchResumes(runCtx, fan) })
	runErr := router.Run(runCtx)
	cancel()
	wg.Wait()
	_ = fan.Close()
	for _, name := range r.order {
		r.projectors[name].t.releaseConn()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if runErr == nil {
		runErr = errors.New("the router stopped")
	}
	return fmt.Errorf("projection runtime: %w", runErr)
}

// Started is closed once Run projects live: its models' schemas are migrated, their handlers run, and
// every model not halted has applied the store's history up to the head $all had when they started (with
// a Source that cannot tell its head, once the handlers run). An append after that is projected as it
// comes, not behind a start-up: serve's readiness waits for it before a load balancer sends traffic. It is
// never closed when Run fails first.
func (r *Runtime) Started() <-chan struct{} { return r.started }

// signalStarted closes started once the router runs (running), the subscription has delivered the head
// $all had then, and every model not halted has applied the last event it passed on up to there (the
// head itself may be a system event, which no model applies). It looks every few milliseconds.
func (r *Runtime) signalStarted(ctx context.Context, fan *fanout, running <-chan struct{}) {
	select {
	case <-running:
	case <-ctx.Done():
		return
	}
	done := func() { r.startedOnce.Do(func() { close(r.started) }) }
	hs, ok := r.cfg.Source.(HeadSource)
	if !ok {
		done()
		return
	}
	var head eventlog.Position
	for {
		h, err := hs.Head(ctx)
		if err == nil {
			head = h
			break
		}
		if !sleep(ctx, 50*time.Millisecond) {
			return
		}
	}
	var target *eventlog.Position // the last event passed on once the head was delivered
	for {
		if target == nil {
			if received, forwarded := fan.progress(); !received.Less(head) {
				target = &forwarded
			}
		}
		if target != nil && r.caughtUp(ctx, *target) {
			done()
			return
		}
		if !sleep(ctx, 10*time.Millisecond) {
			return
		}
	}
}

// caughtUp reports whether every model not halted has its checkpoint at or past p: the one it published
// after its last batch, or, before its first, the one in the database (a model with nothing to apply gets
// no batch). A long catch-up therefore costs no query once every model has had a batch.
func (r *Runtime) caughtUp(ctx context.Context, p eventlog.Position) bool {
	for _, st := range r.Status() {
		if st.Halted {
			continue
		}
		cp := st.Checkpoint
		if cp.IsZero() {
			row, err := r.projectors[st.Name].t.readCheckpoint(ctx)
			if err != nil {
				return false
			}
			cp = row.Position
		}
		if cp.Less(p) {
			return false
		}
	}
	return true
}

// minStart is where the shared subscription starts: the lowest checkpoint of the models still running.
func (r *Runtime) minStart(ctx context.Context) (eventlog.Position, bool, error) {
	var lowest eventlog.Position
	found := false
	for _, name := range r.order {
		p := r.projectors[name]
		if p.isHalted() {
			continue
		}
		cp, err := p.t.readCheckpoint(ctx)
		if err != nil {
			return eventlog.Position{}, false, err
		}
		if !found || cp.Position.Less(lowest) {
			lowest = cp.Position
		}
		found = true
	}
	return lowest, found, nil
}

// Status is what a running projector knows about its model.
type Status struct {
	Name string
	// Checkpoint is the position this process last applied (or read from the database); Start before the
	// first batch.
	Checkpoint eventlog.Position
	Halted     bool
	HaltReason string
}

// Status reports every model, in configuration order.
func (r *Runtime) Status() []Status {
	out := make([]Status, 0, len(r.order))
	for _, name := range r.order {
		p := r.projectors[name]
		p.mu.Lock()
		st := p.status
		p.mu.Unlock()
		st.Name = name
		out = append(out, st)
	}
	return out
}

// projector is the Watermill handler of one read model.
type projector struct {
	rt  *Runtime
	t   target
	fan *fanout

	// Owned by handle, which the feed calls for one batch at a time.
	applied eventlog.Position
	loaded  bool
	halted  bool

	// resume is set by the watcher when an operator moved a halted model past its poison event
	// (SkipPoison); handle then reads the checkpoint again and goes on.
	resume atomic.Bool

	mu     sync.Mutex // guards status, the copy other goroutines read
	status Status
}

func (p *projector) isHalted() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status.Halted
}

func (p *projector) publish(reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status.Checkpoint, p.status.Halted = p.applied, p.halted
	if reason != "" {
		p.status.HaltReason = reason
	}
}

// handle applies one batch message. Returning an error makes the Retry middleware try again, then the
// message is nacked and offered again: a batch is never dropped because the database is unavailable.
func (p *projector) handle(msg *message.Message) error {
	b, ok := batchOf(msg)
	if !ok {
		return fmt.Errorf("%s: message %s carries no batch", p.t.name(), msg.UUID)
	}
	ctx := msg.Context()
	name := p.t.name()
	defer p.publish("")
	for moves := 0; ; moves++ {
		if p.halted && p.resume.CompareAndSwap(true, false) {
			p.halted, p.loaded = false, false
			p.mu.Lock()
			p.status.HaltReason = ""
			p.mu.Unlock()
			p.rt.metrics.halted.WithLabelValues(name).Set(0)
			p.rt.cfg.Logger.WarnContext(ctx, "projection resumed after an operator skipped its poison event", "projection", name)
		}
		if p.halted {
			return nil
		}
		if !p.loaded {
			cp, err := p.t.readCheckpoint(ctx)
			if err != nil {
				p.rt.metrics.failures.WithLabelValues(name).Inc()
				return err
			}
			p.applied, p.loaded = cp.Position, true
		}
		if !p.applied.Less(b.last) {
			return nil // everything in the batch is at or below the checkpoint
		}
		if p.applied.Less(b.from) {
			// The batch does not continue from our checkpoint: never apply over a gap.
			p.rt.cfg.Logger.InfoContext(ctx, "projection behind its feed, resubscribing from its checkpoint",
				"projection", name, "checkpoint", p.applied.String(), "batch_from", b.from.String())
			p.fan.requestResync(b.epoch)
			return nil
		}
		start := time.Now()
		out, err := p.t.apply(ctx, p.applied, after(b.events, p.applied))
		var moved *movedError
		if errors.As(err, &moved) && moves < 10 {
			p.rt.metrics.resyncs.WithLabelValues(name).Inc()
			p.rt.cfg.Logger.InfoContext(ctx, "projection checkpoint moved by someone else, resuming from it",
				"projection", name, "expected", p.applied.String(), "found", moved.db.String())
			p.applied = moved.db
			continue
		}
		if err != nil {
			p.loaded = false // the outcome of a failed commit is unknown: re-read the checkpoint first
			p.rt.metrics.failures.WithLabelValues(name).Inc()
			return err
		}
		p.applied = out.cp.Position
		m := p.rt.metrics
		m.batchSeconds.WithLabelValues(name).Observe(time.Since(start).Seconds())
		m.batches.WithLabelValues(name).Inc()
		m.applied.WithLabelValues(name).Add(float64(out.applied))
		m.poison.WithLabelValues(name).Add(float64(out.poisoned))
		m.checkpoint.WithLabelValues(name).Set(float64(out.cp.Position.Commit))
		if !out.cp.LastRecorded.IsZero() {
			m.lastRecorded.WithLabelValues(name).Set(float64(out.cp.LastRecorded.UnixNano()) / 1e9)
		}
		if out.poisoned > 0 && out.haltedAt == nil {
			p.rt.cfg.Logger.WarnContext(ctx, "projection skipped poison events (recorded in rm_meta.poison_events)",
				"projection", name, "count", out.poisoned)
		}
		if e := out.haltedAt; e != nil {
			p.halted = true
			p.publish(fmt.Sprintf("poison event at %s (%s %s@%d): %s", e.Position, e.Type, e.Stream, e.Revision, out.reason))
			p.fan.halt(name)
			m.halted.WithLabelValues(name).Set(1)
			p.rt.cfg.Logger.ErrorContext(ctx, "projection HALTED on a poison event; fix the read model and restart",
				"projection", name, "position", e.Position.String(), "type", e.Type, "stream", e.Stream,
				"revision", e.Revision, "reason", out.reason)
		}
		return nil
	}
}

// watchResumes looks, every ResumeEvery, whether an operator marked a halted model running again
// (SkipPoison moved its checkpoint past the poison event), and resumes it without a restart: the model
// reads its checkpoint again and the feed, which finds it behind, resubscribes from there.
func (r *Runtime) watchResumes(ctx context.Context, fan *fanout) {
	t := time.NewTicker(r.cfg.ResumeEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, name := range r.order {
			p := r.projectors[name]
			if !p.isHalted() || p.resume.Load() {
				continue
			}
			var state string
			if err := r.cfg.Pool.QueryRow(ctx, "SELECT state FROM rm_meta.projections WHERE name = $1", name).Scan(&state); err != nil || state != "running" {
				continue
			}
			p.resume.Store(true)
			// Counted as running from now on, so that the resubscription starts at its checkpoint; handle
			// clears its own flag at its next batch.
			p.mu.Lock()
			p.status.Halted = false
			p.mu.Unlock()
			fan.unhalt(name)
		}
	}
}
