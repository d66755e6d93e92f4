// Package alerting runs the ledger's supervision outside the projection transaction: the engine that
// appends the alert events the rules-engine read model (projections/alerts) decided, the deadline sweep
// and calendar checks that raise alerts for things that did not happen, and the ways supervisors hear of
// alerts — a server-sent-event stream resumable with Last-Event-ID, and signed webhooks with retries and
// parking. ALERT-STREAMS.md documents the alerts-<district> streams for supervisors who read them with
// their own EventStoreDB client.
//
// Operational warnings: run one engine per event store (it takes a PostgreSQL advisory lock, so a second
// `ledger serve` on the same database waits as a standby); its clock must be the same as the command
// side's, since deadlines are computed from the times the commands recorded.
package alerting

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/supervision"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/projections/alerts"
)

// SchemaName is the PostgreSQL schema of the package's own tables.
const SchemaName = "alerting"

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrate creates or upgrades the alerting schema (scheduler state, webhooks, deliveries).
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	sub, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		return err
	}
	return pg.Migrate(ctx, pool, SchemaName, "schema_migrations", sub)
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
// checks. Its single loop is the only writer of alert events in the process, which keeps "appended
// exactly once" simple:
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
	wake    chan struct{}
	reqs    chan resolveReq

	// Owned by the loop (Run, or the caller of Cycle).
	inflight map[eventlog.ID]bool // appended, their outbox rows not yet gone
	unsure   bool                 // what was appended is unknown: catch up before the next drain
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
	return &Engine{cfg: cfg, metrics: m, wake: make(chan struct{}, 1), reqs: make(chan resolveReq), unsure: true}, nil
}

// Wake makes the engine run a cycle soon (after a test moved its clock, say).
func (e *Engine) Wake() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// engineLockKey is the advisory lock one engine per database holds.
const engineLockKey = "ledger.alerting.engine"

// Run runs the engine until ctx ends: it takes the engine lock (waiting while another process holds it),
// listens for the read model's outbox notifications, and runs a cycle on each, on every SweepEvery, and
// when asked to resolve an alert. Errors of a cycle are logged and retried; Run returns ctx's error.
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
	e.cfg.Logger.InfoContext(ctx, "alerting engine: running")
	e.unsure = true // whatever a previous holder of the lock appended, the read model tells
	tick := time.NewTicker(e.cfg.SweepEvery)
	defer tick.Stop()
	drain, sweep := true, true
	for {
		if drain || sweep {
			var res CycleResult
			var err error
			if sweep {
				res, err = e.Cycle(ctx)
			} else {
				res.Appended, res.Full, err = e.drain(ctx)
			}
			if err != nil && ctx.Err() == nil {
				e.metrics.cycleErrors.Inc()
				e.cfg.Logger.WarnContext(ctx, "alerting engine: cycle failed", "err", err)
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
		case req := <-e.reqs:
			req.done <- e.resolve(ctx, req)
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
	if err := e.catchUp(ctx); err != nil {
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
	pending, err := alerts.Outbox(ctx, e.cfg.Pool, limit)
	if err != nil {
		return 0, false, err
	}
	present := make(map[eventlog.ID]bool, len(pending))
	var batch []outgoing
	for _, p := range pending {
		present[p.Event.ID] = true
		if !e.inflight[p.Event.ID] {
			batch = append(batch, outgoing{stream: p.Stream, event: p.Event})
		}
	}
	for id := range e.inflight {
		if !present[id] {
			delete(e.inflight, id) // recorded by the read model (or dropped because the condition ended)
		}
	}
	done, err := e.appendAll(ctx, batch)
	for _, o := range done {
		e.inflight[o.event.ID] = true
	}
	return len(done), err == nil && len(pending) == limit && len(batch) > 0, err
}

// catchUp waits until the alerts read model has applied every event up to the store's head (system
// events, which no model applies, excepted).
func (e *Engine) catchUp(ctx context.Context) error {
	head, err := e.cfg.Store.Head(ctx)
	if err != nil {
		return fmt.Errorf("read the head of $all: %w", err)
	}
	deadline := time.Now().Add(e.cfg.CatchUpTimeout)
	wait := time.Millisecond
	checkedSystem := false
	for {
		cp, err := alerts.Checkpoint(ctx, e.cfg.Pool)
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
		if !sleep(ctx, wait) {
			return ctx.Err()
		}
		wait = min(2*wait, 5*time.Millisecond)
	}
}

// sweep raises the alerts of the deadlines due at now: at the rule's severity when due, red once the
// missing fact is older than red-after. One page per cycle: the rows stay due until the read model
// records the raise, which the next cycle's catch-up waits for.
func (e *Engine) sweep(ctx context.Context, now time.Time) (int, bool, error) {
	start := time.Now()
	dues, err := alerts.DueDeadlines(ctx, e.cfg.Pool, now, e.cfg.Page)
	e.metrics.sweepSeconds.Observe(time.Since(start).Seconds())
	if err != nil {
		return 0, false, err
	}
	params := paramsCache{pool: e.cfg.Pool, m: map[kernel.JurisdictionPath]rulebook.Params{}}
	ids := make([]string, len(dues))
	for i, d := range dues {
		ids[i] = supervision.AlertID(d.Rule, d.Subject, supervision.DeadlineAnchor(d.DueAt, d.Epoch))
	}
	known, err := alerts.KnownAll(ctx, e.cfg.Pool, ids)
	if err != nil {
		return 0, false, err
	}
	var out []outgoing
	for _, d := range dues {
		p, err := params.get(ctx, d.Jurisdiction)
		if err != nil {
			return 0, false, err
		}
		sev := p.SeverityAt(d.Rule, d.DueAt, now)
		if d.Severity != "" && !supervision.Worse(sev, d.Severity) {
			continue
		}
		due := d.DueAt.UTC()
		id := supervision.AlertID(d.Rule, d.Subject, supervision.DeadlineAnchor(due, d.Epoch))
		if k, found := known[id]; found && (k.Cleared || !supervision.Worse(sev, k.Severity)) {
			continue
		}
		detail := d.Detail
		if sev == rulebook.Red && p.Severity(d.Rule) != rulebook.Red {
			detail += fmt.Sprintf("；逾期已超过%s", p.Span(d.Rule, rulebook.ParamRedAfter).Chinese())
		}
		a := supervision.AlertRaised{AlertID: id, Rule: d.Rule, Severity: sev, Community: d.Community, Jurisdiction: d.Jurisdiction,
			Subject: d.Subject, Trigger: supervision.ByDeadline, Detail: detail, DueAt: &due, Source: d.Source, RaisedAt: now}
		cause := alerts.Cause{}
		if d.Source != nil {
			cause.EventID = d.Source.EventID
		}
		stream, ev, err := alerts.Envelope(a, alerts.Actor, cause)
		if err != nil {
			return 0, false, err
		}
		out = append(out, outgoing{stream: stream, event: ev})
	}
	done, err := e.appendAll(ctx, out)
	return len(done), len(dues) == e.cfg.Page, err
}

// outgoing is an alert event to append.
type outgoing struct {
	stream string
	event  eventlog.Event
}

// maxAppend is the most events one append carries (one fsync for all of them).
const maxAppend = 200

// appendAll appends events, several to a stream at a time, in their order within each stream, and
// returns those appended. After an error, whether the failed append happened is unknown: the next drain
// catches up first.
func (e *Engine) appendAll(ctx context.Context, evs []outgoing) ([]outgoing, error) {
	var streams []string
	by := map[string][]outgoing{}
	for _, o := range evs {
		if _, ok := by[o.stream]; !ok {
			streams = append(streams, o.stream)
		}
		by[o.stream] = append(by[o.stream], o)
	}
	var done []outgoing
	for _, s := range streams {
		all := by[s]
		for len(all) > 0 {
			chunk := all[:min(len(all), maxAppend)]
			all = all[len(chunk):]
			events := make([]eventlog.Event, len(chunk))
			for i, o := range chunk {
				events[i] = o.event
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
	params := paramsCache{pool: e.cfg.Pool, m: map[kernel.JurisdictionPath]rulebook.Params{}}
	for _, k := range supervision.Checkpoints(last, now) {
		checks, err := alerts.AssemblyChecks(ctx, e.cfg.Pool, k)
		if err != nil {
			return raised, err
		}
		var candidates []supervision.AlertRaised
		if !k.FirstHalf { // the year k.Year ended: its operating funds too
			fundsChecks, err := alerts.OperatingFundsChecks(ctx, e.cfg.Pool, k.Year)
			if err != nil {
				return raised, err
			}
			for _, f := range fundsChecks {
				p, err := params.get(ctx, f.Jurisdiction)
				if err != nil {
					return raised, err
				}
				b := supervision.CheckOperatingFunds(k.Year, f.Households, f.Allocated, p)
				if b == nil {
					continue
				}
				candidates = append(candidates, calendarAlert(*b, k, f.Community, f.Jurisdiction,
					supervision.OperatingFundsSubject(f.Community, k.Year), p, now))
			}
		}
		for _, c := range checks {
			p, err := params.get(ctx, c.Jurisdiction)
			if err != nil {
				return raised, err
			}
			b := supervision.CheckAssemblies(k, c.Kind, c.Held, p)
			if b == nil {
				continue
			}
			candidates = append(candidates, calendarAlert(*b, k, c.Community, c.Jurisdiction, k.Subject(c.Community), p, now))
		}
		var out []outgoing
		for len(candidates) > 0 {
			page := candidates[:min(len(candidates), 1000)]
			candidates = candidates[len(page):]
			ids := make([]string, len(page))
			for i, a := range page {
				ids[i] = a.AlertID
			}
			known, err := alerts.KnownAll(ctx, e.cfg.Pool, ids)
			if err != nil {
				return raised, err
			}
			for _, a := range page {
				if _, found := known[a.AlertID]; found {
					continue
				}
				stream, ev, err := alerts.Envelope(a, alerts.Actor, alerts.Cause{})
				if err != nil {
					return raised, err
				}
				out = append(out, outgoing{stream: stream, event: ev})
			}
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

// calendarAlert is the alert a calendar checkpoint raises for a breach found about subject.
func calendarAlert(b kernel.Breach, k supervision.Checkpoint, c kernel.CommunityID, path kernel.JurisdictionPath, subject string,
	p rulebook.Params, now time.Time) supervision.AlertRaised {
	due := k.At
	return supervision.AlertRaised{AlertID: supervision.AlertID(b.Rule, subject, supervision.Anchor(k.At)),
		Rule: b.Rule, Severity: p.Severity(b.Rule), Community: c, Jurisdiction: path, Subject: subject,
		Trigger: supervision.ByCalendar, Detail: b.Detail, DueAt: &due, RaisedAt: now}
}

// appendAlert appends one alert event the engine decided outside the outbox (a supervisor's resolution).
func (e *Engine) appendAlert(ctx context.Context, ev kernel.Event, actor string, cause alerts.Cause) error {
	stream, rec, err := alerts.Envelope(ev, actor, cause)
	if err != nil {
		return err
	}
	_, err = e.appendAll(ctx, []outgoing{{stream: stream, event: rec}})
	return err
}

type paramsCache struct {
	pool *pgxpool.Pool
	m    map[kernel.JurisdictionPath]rulebook.Params
}

func (c *paramsCache) get(ctx context.Context, path kernel.JurisdictionPath) (rulebook.Params, error) {
	if p, ok := c.m[path]; ok {
		return p, nil
	}
	p, err := alerts.ParamsFor(ctx, c.pool, alerts.Overrides(), path)
	if err != nil {
		return rulebook.Params{}, err
	}
	c.m[path] = p
	return p, nil
}

// Errors of resolving an alert.
var (
	ErrAlreadyCleared = kernel.Conflict("alert-already-cleared", "这条预警已经解除")
	ErrReasonRequired = kernel.Invalid("required", "reason", "解除预警须写明理由")
)

type resolveReq struct {
	alertID string
	actor   commands.Actor
	reason  string
	done    chan error
}

// Resolve closes an open alert on a supervisor's word (supervision.ResolvedBySupervisor), for breaches
// no later fact can undo. The actor must cover the alert's jurisdiction. It runs in the engine's loop,
// so it never races the engine's own clearing of the same alert; it returns once the event is appended.
func (e *Engine) Resolve(ctx context.Context, alertID string, actor commands.Actor, reason string) error {
	req := resolveReq{alertID: alertID, actor: actor, reason: reason, done: make(chan error, 1)}
	select {
	case e.reqs <- req:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (e *Engine) resolve(ctx context.Context, req resolveReq) error {
	if req.reason == "" {
		return ErrReasonRequired
	}
	a, err := alerts.AlertByID(ctx, e.cfg.Pool, req.alertID)
	if err != nil {
		return err
	}
	if !req.actor.Covers(string(a.Jurisdiction)) {
		return &commands.Forbidden{Actor: req.actor, Path: string(a.Jurisdiction), Reason: "token is scoped to " + req.actor.Scope}
	}
	if err := e.catchUp(ctx); err != nil {
		return err
	}
	// After the catch-up: cleared by an event, or about to be by one the engine decided.
	if a, err = alerts.AlertByID(ctx, e.cfg.Pool, req.alertID); err != nil {
		return err
	}
	var pendingClear bool
	if err := e.cfg.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+pgx.Identifier{alerts.Schema, "outbox"}.Sanitize()+`
		WHERE event_id = $1)`, supervision.ClearedEventID(a.ID)).Scan(&pendingClear); err != nil {
		return err
	}
	if !a.Open() || pendingClear {
		return ErrAlreadyCleared
	}
	ev := supervision.AlertCleared{AlertID: a.ID, Rule: a.Rule, Community: a.Community, Jurisdiction: a.Jurisdiction, Subject: a.Subject,
		Reason: supervision.ResolvedBySupervisor, Detail: req.reason, By: req.actor.String(), ClearedAt: e.cfg.Clock.Now().UTC()}
	return e.appendAlert(ctx, ev, req.actor.String(), alerts.Cause{})
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
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
