// Package supervision (infra/supervision) runs the ledger's supervision outside the projection
// transaction: the engine that
// appends the alert events the rules-engine read model (projections/supervision) decided, the deadline sweep
// and calendar checks that raise alerts for things that did not happen, and the ways supervisors hear of
// alerts — a server-sent-event stream resumable with Last-Event-ID, and signed webhooks with retries and
// parking. ALERT-STREAMS.md documents the alerts-<district> streams for supervisors who read them with
// their own EventStoreDB client.
//
// Operational warnings: run one engine per event store (it takes a PostgreSQL advisory lock, so a second
// `ledger serve` on the same database waits as a standby); its clock must be the same as the command
// side's, since deadlines are computed from the times the commands recorded.
package supervision

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	policy "github.com/grassroots-ledger/ledger/domain/supervision"
	"github.com/grassroots-ledger/ledger/infra/outage"
	"github.com/grassroots-ledger/ledger/infra/pg"
	alerts "github.com/grassroots-ledger/ledger/projections/supervision"
)

// SchemaName is the PostgreSQL schema of the package's own tables.
const SchemaName = "alerting"

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrate creates or upgrades the alerting schema (scheduler state, webhooks, deliveries).
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return pg.MigrateEmbedded(ctx, pool, SchemaName, migrationFS)
}

// Store is what the engine needs of the event store: appending alert events, and where $all ends (to
// know when the read model has seen everything appended so far). infra/eventstore.Store satisfies it.
type Store interface {
	Append(ctx context.Context, stream string, expected eventlog.Expected, events []eventlog.Event) (eventlog.AppendResult, error)
	Head(ctx context.Context) (eventlog.Position, error)
	ReadAll(ctx context.Context, from eventlog.Position, max int, fn func(eventlog.Recorded) error) error
}

// EngineConfig configures an Engine.
type EngineConfig struct {
	Pool  *pgxpool.Pool
	Store Store
	// Clock is the engine's time: deadlines are due against it. Tests drive it.
	Clock commands.Clock
	// Registerer receives the engine's metrics (ledger_alert_*). Nil registers nothing.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// SweepEvery is how often the engine looks for due deadlines when nothing wakes it. Default 1s.
	SweepEvery time.Duration
	// CatchUpTimeout bounds how long a cycle waits for the read model to reach the store's head before
	// it gives up (and tries again next cycle). Default 30s.
	CatchUpTimeout time.Duration
	// Page is the most outbox events or due deadlines one cycle handles. Default 500.
	Page int
	// CalendarLookback is how far back the first calendar check of a fresh database looks. Default 366 days.
	CalendarLookback time.Duration
}

func (c *EngineConfig) setDefaults() {
	if c.Clock == nil {
		c.Clock = commands.SystemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.SweepEvery == 0 {
		c.SweepEvery = time.Second
	}
	if c.CatchUpTimeout == 0 {
		c.CatchUpTimeout = 30 * time.Second
	}
	if c.Page == 0 {
		c.Page = 500
	}
	if c.CalendarLookback == 0 {
		c.CalendarLookback = 366 * 24 * time.Hour
	}
}

// Validate reports a configuration the engine cannot use.
func (c EngineConfig) Validate() error {
	var errs []error
	if c.Pool == nil {
		errs = append(errs, errors.New("no Pool: the alerts read model and the scheduler state live in PostgreSQL"))
	}
	if c.Store == nil {
		errs = append(errs, errors.New("no Store: alert events are appended to the event store"))
	}
	if c.SweepEvery < 0 || c.CatchUpTimeout < 0 || c.Page < 0 || c.CalendarLookback < 0 {
		errs = append(errs, errors.New("negative SweepEvery, CatchUpTimeout, Page or CalendarLookback"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("alerting engine config: %w", err)
	}
	return nil
}

// ErrBehind means the alerts read model did not reach the store's head within CatchUpTimeout (it is
// halted, or far behind): the engine appends nothing and sweeps nothing until it has, because it could
// not tell what was already appended or which facts already arrived.
var ErrBehind = errors.New("alerting: the alerts read model is behind the event store")

// Engine appends the alert events of the rules engine and raises the alerts of deadlines and calendar
// checks, through the model's port (alerts.Runner). Its single loop is the only writer of the alert
// events the model decides, which keeps "appended exactly once" simple (a supervisor's resolution is a
// command, commands.Supervisors.ResolveAlert, whose clear has the event id the engine's clear of the
// same alert would have, so an alert is cleared once whoever appends first):
//
//   - The outbox: the engine remembers the events it appended until their outbox rows disappear (the
//     read model deletes a row in the batch that sees its event). When it cannot know — at start, or
//     after an append whose outcome is unknown — it first waits until the read model has applied
//     everything up to the store's head: then every event appended before is recorded, and whatever
//     the outbox still holds was never appended.
//   - The sweep: before each sweep it waits the same way, so a fact appended before the sweep (the
//     disclosure that meets a deadline) is seen before an alert is raised for its absence, and a raise
//     appended by the previous sweep is seen on its deadline.
type Engine struct {
	cfg     EngineConfig
	metrics *engineMetrics
	model   alerts.Runner
	wake    chan struct{}

	// Owned by the loop (Run, or the caller of Cycle).
	inflight map[eventlog.ID]bool // appended, their outbox rows not yet gone
	unsure   bool                 // what was appended is unknown: catch up before the next drain
	// notes, set while Run runs, are the outbox's notifications: a cycle waiting for the read model
	// drains the outbox when one comes (pause); draining is set meanwhile.
	notes    chan struct{}
	draining bool
}

// NewEngine checks the configuration and registers the metrics.
func NewEngine(cfg EngineConfig) (*Engine, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := newEngineMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Engine{cfg: cfg, metrics: m, model: alerts.NewRunner(cfg.Pool), wake: make(chan struct{}, 1), unsure: true}, nil
}

// Wake makes the engine run a cycle soon (after a test moved its clock, say).
func (e *Engine) Wake() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// engineLockKey is the advisory lock one engine per database holds.
const engineLockKey = "ledger.alerting.engine" // permanent: a running engine of an older release holds the same lock

// Run runs the engine until ctx ends: it takes the engine lock (waiting while another process holds it),
// listens for the read model's outbox notifications, and runs a cycle on each and on every SweepEvery.
// Errors of a cycle are logged and retried; Run returns ctx's error.
func (e *Engine) Run(ctx context.Context) error {
	for {
		err := e.runLocked(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		e.cfg.Logger.WarnContext(ctx, "alerting engine: restarting", "err", err)
		if !sleep(ctx, time.Second) {
			return ctx.Err()
		}
	}
}

func (e *Engine) runLocked(ctx context.Context) error {
	conn, err := e.cfg.Pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtextextended($1, 0))", engineLockKey); err != nil {
		return fmt.Errorf("take the engine lock: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(hashtextextended($1, 0))", engineLockKey)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{alerts.OutboxChannel}.Sanitize()); err != nil {
		return fmt.Errorf("listen for the alert outbox: %w", err)
	}
	notes := make(chan struct{}, 1)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	listenErr := make(chan error, 1)
	go func() {
		for {
			if _, err := conn.Conn().WaitForNotification(lctx); err != nil {
				listenErr <- err
				return
			}
			select {
			case notes <- struct{}{}:
			default:
			}
		}
	}()
	defer func() { cancel(); <-listenErr }()
	e.notes = notes
	defer func() { e.notes = nil }()
	e.cfg.Logger.InfoContext(ctx, "alerting engine: running")
	e.unsure = true // whatever a previous holder of the lock appended, the read model tells
	tick := time.NewTicker(e.cfg.SweepEvery)
	defer tick.Stop()
	drain, sweep := true, true
	var failing outage.Log // the store or the database away: logged once a minute, not at every cycle
	for {
		if drain || sweep {
			var res CycleResult
			var err error
			if sweep {
				res, err = e.Cycle(ctx)
			} else {
				res.Appended, res.Full, err = e.drain(ctx)
			}
			switch {
			case err != nil && ctx.Err() == nil:
				e.metrics.cycleErrors.Inc()
				failing.Fail(e.cfg.Logger, time.Now(), "alerting engine: cycle failed", "err", err)
			case err == nil:
				failing.Over(e.cfg.Logger, time.Now(), "alerting engine: cycles succeed again")
			}
			drain = err == nil && res.Full
			sweep = drain && res.Raised > 0
			if drain {
				continue
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-listenErr:
			listenErr <- err
			return fmt.Errorf("alert outbox notifications: %w", err)
		case <-notes:
			drain = true
		case <-e.wake:
			sweep = true
		case <-tick.C:
			sweep = true
		}
	}
}

// CycleResult says what one cycle did.
type CycleResult struct {
	// Appended counts alert events appended from the outbox, Raised those raised by the sweep and the
	// calendar checks.
	Appended, Raised int
	// Full is true when a page was full: there is more to do at once.
	Full bool
}

// Cycle appends the outbox, then waits for the read model to catch up with the store, sweeps the due
// deadlines and runs the calendar checks that came due. Run calls it on every tick; tests call it to
// step the engine. Cycle must not run concurrently with itself or with Run.
func (e *Engine) Cycle(ctx context.Context) (CycleResult, error) {
	var res CycleResult
	start := time.Now()
	var err error
	if res.Appended, res.Full, err = e.drain(ctx); err != nil {
		return res, err
	}
	// The clock is read before the head: every fact recorded before now is then at or below the head,
	// so catching up to the head guarantees the sweep sees it. (Read after the head, a fact appended in
	// between could be missing from the read model while now already lies past its deadline.)
	now := e.cfg.Clock.Now().UTC()
	if err := e.catchUpPausing(ctx, e.pause); err != nil {
		return res, err
	}
	n, full, err := e.sweep(ctx, now)
	res.Raised += n
	res.Full = res.Full || full
	if err != nil {
		return res, err
	}
	n, err = e.calendar(ctx, now)
	res.Raised += n
	e.metrics.cycleSeconds.Observe(time.Since(start).Seconds())
	return res, err
}

// drain appends the outbox's events that this engine has not appended yet. It returns how many, and
// whether the page was full.
func (e *Engine) drain(ctx context.Context) (int, bool, error) {
	if e.unsure {
		if err := e.catchUp(ctx); err != nil {
			return 0, false, err
		}
		e.inflight, e.unsure = map[eventlog.ID]bool{}, false
	}
	limit := e.cfg.Page + len(e.inflight)
	pending, err := e.model.Outbox(ctx, limit)
	if err != nil {
		return 0, false, err
	}
	present := make(map[eventlog.ID]bool, len(pending))
	var batch []alerts.Pending
	for _, p := range pending {
		present[p.Event.ID] = true
		if !e.inflight[p.Event.ID] {
			batch = append(batch, p)
		}
	}
	for id := range e.inflight {
		if !present[id] {
			delete(e.inflight, id) // recorded by the read model (or dropped because the condition ended)
		}
	}
	done, err := e.appendAll(ctx, batch)
	for _, o := range done {
		e.inflight[o.Event.ID] = true
	}
	return len(done), err == nil && len(pending) == limit && len(batch) > 0, err
}

// catchUp waits until the alerts read model has applied every event up to the store's head (system
// events, which no model applies, excepted). Safe beside the loop (ResolutionLookup calls it).
func (e *Engine) catchUp(ctx context.Context) error { return e.catchUpPausing(ctx, sleep) }

// catchUpPausing is catchUp, waiting between looks with pause.
func (e *Engine) catchUpPausing(ctx context.Context, pause func(context.Context, time.Duration) bool) error {
	head, err := e.cfg.Store.Head(ctx)
	if err != nil {
		return fmt.Errorf("read the head of $all: %w", err)
	}
	deadline := time.Now().Add(e.cfg.CatchUpTimeout)
	wait := time.Millisecond
	checkedSystem := false
	for {
		cp, err := e.model.Checkpoint(ctx)
		if err != nil {
			return err
		}
		if !cp.Less(head) {
			return nil
		}
		if !checkedSystem && time.Until(deadline) < e.cfg.CatchUpTimeout-200*time.Millisecond {
			// Still behind after a while: maybe only system events ($…) lie between, which no model applies.
			checkedSystem = true
			onlySystem := true
			err := e.cfg.Store.ReadAll(ctx, cp, 1000, func(r eventlog.Recorded) error {
				if cp.Less(r.Position) && !head.Less(r.Position) && !eventlog.SystemStream(r.Stream) {
					onlySystem = false
				}
				return nil
			})
			if err == nil && onlySystem {
				return nil
			}
		}
		if time.Now().After(deadline) {
			e.metrics.behind.Inc()
			return fmt.Errorf("%w: at %s, the store at %s", ErrBehind, cp, head)
		}
		if !pause(ctx, wait) {
			return ctx.Err()
		}
		wait = min(2*wait, 5*time.Millisecond)
	}
}

// pause waits d, in the loop's cycle. Under Run, an outbox notification meanwhile is drained at once: a
// sweep waiting for the read model to catch up must not hold back the alerts the model has already
// decided (at 2 000 events/s the wait is tens of milliseconds every second).
func (e *Engine) pause(ctx context.Context, d time.Duration) bool {
	var notes <-chan struct{} // nil (never ready) but under Run, and while a drain catches up or runs
	if !e.unsure && !e.draining {
		notes = e.notes
	}
	ok, noted := wait(ctx, d, notes)
	if !noted {
		return ok
	}
	e.draining = true
	defer func() { e.draining = false }()
	for full := true; full && ctx.Err() == nil; {
		var err error
		if _, full, err = e.drain(ctx); err != nil {
			e.metrics.cycleErrors.Inc()
			e.cfg.Logger.WarnContext(ctx, "alerting engine: draining the outbox failed", "err", err)
			break
		}
	}
	return ctx.Err() == nil
}

// sweep raises the alerts of the deadlines due at now: at the rule's severity when due, red once the
// missing fact is older than red-after. One page per cycle: the rows stay due until the read model
// records the raise, which the next cycle's catch-up waits for.
func (e *Engine) sweep(ctx context.Context, now time.Time) (int, bool, error) {
	start := time.Now()
	pending, looked, err := e.model.DueAlerts(ctx, now, e.cfg.Page)
	e.metrics.sweepSeconds.Observe(time.Since(start).Seconds())
	if err != nil {
		return 0, false, err
	}
	done, err := e.appendAll(ctx, pending)
	return len(done), looked == e.cfg.Page, err
}

// maxAppend is the most events one append carries (one fsync for all of them).
const maxAppend = 200

// appendAll appends events, several to a stream at a time, in their order within each stream, and
// returns those appended. After an error, whether the failed append happened is unknown: the next drain
// catches up first.
func (e *Engine) appendAll(ctx context.Context, evs []alerts.Pending) ([]alerts.Pending, error) {
	var streams []string
	by := map[string][]alerts.Pending{}
	for _, o := range evs {
		if _, ok := by[o.Stream]; !ok {
			streams = append(streams, o.Stream)
		}
		by[o.Stream] = append(by[o.Stream], o)
	}
	var done []alerts.Pending
	for _, s := range streams {
		all := by[s]
		for len(all) > 0 {
			chunk := all[:min(len(all), maxAppend)]
			all = all[len(chunk):]
			events := make([]eventlog.Event, len(chunk))
			for i, o := range chunk {
				events[i] = o.Event
			}
			if _, err := e.cfg.Store.Append(ctx, s, eventlog.Any(), events); err != nil {
				e.unsure = true
				return done, fmt.Errorf("append %d alert events to %s: %w", len(chunk), s, err)
			}
			for _, ev := range events {
				e.metrics.appended.WithLabelValues(ev.Type).Inc()
			}
			done = append(done, chunk...)
		}
	}
	return done, nil
}

// residentsCheck names the calendar check's progress in the scheduler table.
const residentsCheck = "residents-meeting-frequency"

// calendar runs the residents'-meeting checkpoints that came due since the last one processed.
func (e *Engine) calendar(ctx context.Context, now time.Time) (int, error) {
	var last time.Time
	err := e.cfg.Pool.QueryRow(ctx, `SELECT value FROM alerting.scheduler WHERE name = $1`, residentsCheck).Scan(&last)
	if errors.Is(err, pgx.ErrNoRows) {
		last = now.Add(-e.cfg.CalendarLookback)
	} else if err != nil {
		return 0, fmt.Errorf("read the calendar progress: %w", err)
	}
	raised := 0
	for _, k := range policy.Checkpoints(last, now) {
		out, err := e.model.CalendarAlerts(ctx, k, now)
		if err != nil {
			return raised, err
		}
		done, err := e.appendAll(ctx, out)
		raised += len(done)
		if err != nil {
			return raised, err
		}
		if _, err := e.cfg.Pool.Exec(ctx, `INSERT INTO alerting.scheduler (name, value) VALUES ($1, $2)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value`, residentsCheck, k.At); err != nil {
			return raised, fmt.Errorf("record the calendar progress: %w", err)
		}
	}
	return raised, nil
}

// ResolutionLookup is the alert look-up of a supervisor's resolution (commands.AlertBook), on the
// engine's view of the model: Alert as the model holds it now (to find whose alert it is), Settled once
// the model caught up with the store (ErrBehind when it does not in time), so that a clear already
// appended, or decided and waiting in the outbox, is seen.
type ResolutionLookup struct{ e *Engine }

// Resolutions returns the look-up the resolve-alert command runs on.
func (e *Engine) Resolutions() ResolutionLookup { return ResolutionLookup{e} }

// Alert implements commands.AlertBook.
func (l ResolutionLookup) Alert(ctx context.Context, alertID string) (policy.AlertState, error) {
	return l.e.model.Alert(ctx, alertID)
}

// Settled implements commands.AlertBook.
func (l ResolutionLookup) Settled(ctx context.Context, alertID string) (policy.AlertState, error) {
	if err := l.e.catchUp(ctx); err != nil {
		return policy.AlertState{}, err
	}
	return l.e.model.Alert(ctx, alertID)
}

func sleep(ctx context.Context, d time.Duration) bool {
	ok, _ := wait(ctx, d, nil)
	return ok
}

// wait waits d, or until wake has a value (a nil channel never has): ok is false when ctx ended first,
// woken true when wake ended the wait.
func wait(ctx context.Context, d time.Duration, wake <-chan struct{}) (ok, woken bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false, false
	case <-t.C:
		return true, false
	case <-wake:
		return true, true
	}
}

type engineMetrics struct {
	appended     *prometheus.CounterVec
	cycleErrors  prometheus.Counter
	behind       prometheus.Counter
	sweepSeconds prometheus.Histogram
	cycleSeconds prometheus.Histogram
}

func newEngineMetrics(reg prometheus.Registerer) (*engineMetrics, error) {
	m := &engineMetrics{
		appended: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ledger_alert_events_appended_total",
			Help: "Alert events the engine appended, by type."}, []string{"type"}),
		cycleErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "ledger_alert_engine_errors_total",
			Help: "Engine cycles that failed (retried)."}),
		behind: prometheus.NewCounter(prometheus.CounterOpts{Name: "ledger_alert_engine_behind_total",
			Help: "Engine cycles skipped because the alerts read model did not reach the store's head in time."}),
		sweepSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ledger_alert_sweep_seconds",
			Help: "Time to find the due deadlines.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		cycleSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ledger_alert_cycle_seconds",
			Help: "Time of one engine cycle: catch-up, outbox, sweep, calendar.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
	}
	for _, t := range []string{"supervision.alert-raised", "supervision.alert-cleared"} {
		m.appended.WithLabelValues(t)
	}
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.appended, m.cycleErrors, m.behind, m.sweepSeconds, m.cycleSeconds} {
		errs = append(errs, reg.Register(c))
	}
	return m, errors.Join(errs...)
}
