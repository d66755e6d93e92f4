// Package metrics holds the ledger's Prometheus instrumentation that is not owned by one component: the
// event store decorator that times appends and loads, the HTTP middleware that times requests by route
// and counts command results, the projection-lag gauges, and the supervision gauges (open alerts by rule
// and severity, communities by rating) read from the alerts read model at scrape time. Everything is
// registered on the Registerer the caller passes (serve's registry); nothing uses the global one.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"github.com/grassroots-ledger/ledger/domain/assessment"
	"github.com/grassroots-ledger/ledger/projections/meetings"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/supervision"
	"github.com/grassroots-ledger/ledger/projections/directory"
	"github.com/grassroots-ledger/ledger/projections/runtime"
	alerts "github.com/grassroots-ledger/ledger/projections/supervision"
)

func register(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	if reg == nil {
		return nil
	}
	var errs []error
	for _, c := range cs {
		errs = append(errs, reg.Register(c))
	}
	return errors.Join(errs...)
}

// Store is a commands.EventStore that times every load and append (ledger_store_append_seconds,
// ledger_store_load_seconds, by outcome: ok, conflict, error).
type Store struct {
	next   commands.EventStore
	append *prometheus.HistogramVec
	load   *prometheus.HistogramVec
}

// InstrumentStore wraps next.
func InstrumentStore(next commands.EventStore, reg prometheus.Registerer) (*Store, error) {
	buckets := prometheus.ExponentialBuckets(0.0002, 2, 16)
	s := &Store{
		next: next,
		append: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ledger_store_append_seconds",
			Help: "Time to append to the event store (acknowledged means fsynced), by outcome.", Buckets: buckets}, []string{"outcome"}),
		load: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ledger_store_load_seconds",
			Help: "Time to load a stream from the event store, by outcome.", Buckets: buckets}, []string{"outcome"}),
	}
	for _, o := range []string{"ok", "conflict", "error"} {
		s.append.WithLabelValues(o)
		s.load.WithLabelValues(o)
	}
	return s, register(reg, s.append, s.load)
}

func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, eventlog.ErrConflict):
		return "conflict"
	}
	return "error"
}

// Load implements commands.EventStore.
func (s *Store) Load(ctx context.Context, stream string) ([]eventlog.Recorded, error) {
	start := time.Now()
	recs, err := s.next.Load(ctx, stream)
	s.load.WithLabelValues(outcome(err)).Observe(time.Since(start).Seconds())
	return recs, err
}

// Append implements commands.EventStore.
func (s *Store) Append(ctx context.Context, stream string, expected eventlog.Expected, events []eventlog.Event) (eventlog.AppendResult, error) {
	start := time.Now()
	res, err := s.next.Append(ctx, stream, expected, events)
	s.append.WithLabelValues(outcome(err)).Observe(time.Since(start).Seconds())
	return res, err
}

// HTTP times requests by route (the ServeMux pattern that served them) and counts the results of
// commands (POST /api/v1/commands/<name>) by command and outcome. Streaming routes (SSE) are counted
// but not timed: their duration is the subscriber's patience.
type HTTP struct {
	duration  *prometheus.HistogramVec
	commands  *prometheus.CounterVec
	streaming map[string]bool
}

// NewHTTP registers the HTTP metrics; streaming lists route patterns not to time.
func NewHTTP(reg prometheus.Registerer, streaming ...string) (*HTTP, error) {
	h := &HTTP{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ledger_http_request_duration_seconds",
			Help: "HTTP request durations by route, method and status code.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)},
			[]string{"route", "method", "code"}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ledger_command_results_total",
			Help: "Commands by name and outcome: ok, invalid, unauthenticated, forbidden, not-found, conflict, rejected, too-large, error."},
			[]string{"command", "outcome"}),
		streaming: map[string]bool{},
	}
	for _, s := range streaming {
		h.streaming[s] = true
	}
	return h, register(reg, h.duration, h.commands)
}

// Wrap returns next with the instrumentation; next is normally the ServeMux.
func (h *HTTP) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rw, r)
		route := r.Pattern // set by the ServeMux on this request
		if route == "" {
			route = "unmatched"
		}
		code := fmt.Sprint(rw.status)
		if !h.streaming[route] {
			h.duration.WithLabelValues(route, r.Method, code).Observe(time.Since(start).Seconds())
		}
		if name, ok := strings.CutPrefix(r.URL.Path, "/api/v1/commands/"); ok && r.Method == http.MethodPost && strings.Contains(route, "/api/v1/commands/") {
			h.commands.WithLabelValues(name, commandOutcome(rw.status)).Inc()
		}
	})
}

func commandOutcome(status int) string {
	switch {
	case status >= 200 && status < 300:
		return "ok"
	case status == 400:
		return "invalid"
	case status == 401:
		return "unauthenticated"
	case status == 403:
		return "forbidden"
	case status == 404:
		return "not-found"
	case status == 409:
		return "conflict"
	case status == 413:
		return "too-large"
	case status == 422:
		return "rejected"
	}
	return "error"
}

// statusWriter remembers the status; Unwrap lets http.ResponseController reach Flush and deadlines.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	w.wrote = true
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Head is what the lag gauges need of the event store.
type Head interface {
	Head(ctx context.Context) (eventlog.Position, error)
	ReadAll(ctx context.Context, from eventlog.Position, max int, fn func(eventlog.Recorded) error) error
}

// Lag measures how far each read model is behind the store: ledger_projection_lag_events (events in
// $all after its checkpoint, counted up to MaxCount) and ledger_projection_lag_seconds (age of the oldest
// event it has not applied; 0 when caught up).
type Lag struct {
	pool     *pgxpool.Pool
	store    Head
	models   []string
	maxCount int
	events   *prometheus.GaugeVec
	seconds  *prometheus.GaugeVec

	mu   sync.Mutex
	last LagReading
}

// LagReading is the last measurement of Update: when it was taken, whether the store answered, and how
// far behind each read model was.
type LagReading struct {
	At       time.Time
	StoreErr error
	Models   map[string]ModelLag
}

// ModelLag is how far one read model is behind the store.
type ModelLag struct {
	Checkpoint eventlog.Position
	Events     int     // events not applied yet, up to 10000
	Seconds    float64 // age of the oldest of them; 0 when caught up
}

// storeFailed records that the store did not answer (the models' figures stay as last measured).
func (l *Lag) storeFailed(err error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last.At, l.last.StoreErr = time.Now(), err
	return err
}

// Last returns the last measurement (zero before the first).
func (l *Lag) Last() LagReading {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// NewLag registers the lag gauges of the named read models.
func NewLag(pool *pgxpool.Pool, store Head, models []string, reg prometheus.Registerer) (*Lag, error) {
	l := &Lag{pool: pool, store: store, models: models, maxCount: 10000,
		events: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ledger_projection_lag_events",
			Help: "Events in $all a read model has not applied yet (counted up to 10000)."}, []string{"projection"}),
		seconds: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ledger_projection_lag_seconds",
			Help: "Age of the oldest event a read model has not applied yet; 0 when caught up."}, []string{"projection"}),
	}
	for _, m := range models {
		l.events.WithLabelValues(m)
		l.seconds.WithLabelValues(m)
	}
	return l, register(reg, l.events, l.seconds)
}

// Run updates the gauges every interval until ctx ends.
func (l *Lag) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		_ = l.Update(ctx)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Update measures once.
func (l *Lag) Update(ctx context.Context) error {
	head, err := l.store.Head(ctx)
	if err != nil {
		return l.storeFailed(err)
	}
	cps := map[string]eventlog.Position{}
	var lowest *eventlog.Position
	for _, m := range l.models {
		var c, p int64
		err := l.pool.QueryRow(ctx, `SELECT commit_pos, prepare_pos FROM `+pgx.Identifier{runtime.SchemaOf(m), "checkpoint"}.Sanitize()).Scan(&c, &p)
		if err != nil {
			continue // not migrated yet
		}
		cp := eventlog.Position{Commit: uint64(c), Prepare: uint64(p)}
		cps[m] = cp
		if lowest == nil || cp.Less(*lowest) {
			lowest = &cp
		}
	}
	if lowest == nil {
		return nil
	}
	var behind []eventlog.Recorded // the events after the lowest checkpoint, up to the head (ids and times only)
	if lowest.Less(head) {
		err := l.store.ReadAll(ctx, *lowest, l.maxCount+1, func(r eventlog.Recorded) error {
			if lowest.Less(r.Position) && !head.Less(r.Position) && !eventlog.SystemStream(r.Stream) {
				behind = append(behind, eventlog.Recorded{Position: r.Position, Created: r.Created})
			}
			return nil
		})
		if err != nil {
			return l.storeFailed(err)
		}
	}
	now := time.Now()
	reading := LagReading{At: now, Models: map[string]ModelLag{}}
	defer func() {
		l.mu.Lock()
		l.last = reading
		l.mu.Unlock()
	}()
	for m, cp := range cps {
		n, oldest := 0, time.Time{}
		for _, r := range behind {
			if cp.Less(r.Position) {
				if n == 0 {
					oldest = r.Created
				}
				n++
			}
		}
		l.events.WithLabelValues(m).Set(float64(n))
		secs := 0.0
		if n > 0 && !oldest.IsZero() {
			secs = max(now.Sub(oldest).Seconds(), 0)
		}
		l.seconds.WithLabelValues(m).Set(secs)
		reading.Models[m] = ModelLag{Checkpoint: cp, Events: n, Seconds: secs}
	}
	return nil
}

// districtOf is the district of a street's path (its first three segments).
func districtOf(street string) string {
	if p, ok := kernel.JurisdictionPath(street).Parent(); ok {
		return string(p)
	}
	return street
}

// Supervision reports, at scrape time, the open alerts by rule and severity (ledger_alerts_open) and the
// communities by rating (ledger_communities_by_rating), from the alerts read model, and this year's
// casework by street (ledger_casework: communities, inspected, inspections, findings, rectifications
// ordered, reported, reported late and overdue) and the ratings recorded for the latest month by street
// (ledger_recorded_ratings), from the directory; both labelled with the district too. By street, not by
// community: 40 000 streets make a few hundred thousand series, 600 000 communities millions.
type Supervision struct {
	pool     *pgxpool.Pool
	open     *prometheus.Desc
	ratings  *prometheus.Desc
	casework *prometheus.Desc
	recorded *prometheus.Desc
	now      func() time.Time
}

// NewSupervision registers the supervision gauges.
func NewSupervision(pool *pgxpool.Pool, reg prometheus.Registerer) (*Supervision, error) {
	s := &Supervision{pool: pool,
		open:    prometheus.NewDesc("ledger_alerts_open", "Open supervision alerts by rule and severity.", []string{"rule", "severity"}, nil),
		ratings: prometheus.NewDesc("ledger_communities_by_rating", "Communities by red/yellow/green rating.", []string{"rating"}, nil),
		casework: prometheus.NewDesc("ledger_casework", "This year's supervision casework by street (督查): communities, inspected, inspections, "+
			"findings, rectifications ordered, reported, reported late, overdue; communities deliberating (a topic taken to 组织协商), topics "+
			"closed, closed in time (within annual-assessment's topic-within, the country's).", []string{"district", "street", "measure"}, nil),
		recorded: prometheus.NewDesc("ledger_recorded_ratings", "Communities by the red/yellow/green rating recorded for the latest month that ended "+
			"(the rating history: open alerts, satisfaction and assessment score), by street.", []string{"district", "street", "rating"}, nil),
		now: time.Now,
	}
	return s, register(reg, s)
}

// Describe implements prometheus.Collector.
func (s *Supervision) Describe(ch chan<- *prometheus.Desc) {
	ch <- s.open
	ch <- s.ratings
	ch <- s.casework
	ch <- s.recorded
}

// Collect implements prometheus.Collector. Every watch rule reports both severities, zero included, so
// that dashboards and alert rules see the series before the first alert.
func (s *Supervision) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	type key struct{ rule, sev string }
	open := map[key]float64{}
	for _, r := range rulebook.Rules() {
		if r.Kind == rulebook.Watch || r.ID == rulebook.MajorMatterResolution {
			open[key{string(r.ID), string(rulebook.Yellow)}] = 0
			open[key{string(r.ID), string(rulebook.Red)}] = 0
		}
	}
	if counts, err := alerts.Counts(ctx, s.pool, ""); err == nil {
		for _, c := range counts {
			open[key{string(c.Rule), string(c.Severity)}] = float64(c.Open)
		}
	}
	for k, n := range open {
		ch <- prometheus.MustNewConstMetric(s.open, prometheus.GaugeValue, n, k.rule, k.sev)
	}
	ratings := map[supervision.Rating]int{supervision.Green: 0, supervision.Yellow: 0, supervision.Red: 0}
	if got, err := alerts.RatingCounts(ctx, s.pool, ""); err == nil {
		ratings = got
	}
	for r, n := range ratings {
		ch <- prometheus.MustNewConstMetric(s.ratings, prometheus.GaugeValue, float64(n), string(r))
	}
	now := s.now()
	byStreet, err := directory.CoverageByStreet(ctx, s.pool, now.In(kernel.ChinaTime()).Year(), now)
	if err != nil || len(byStreet) == 0 {
		byStreet = map[string]directory.Coverage{"": {}} // the series exist before the first street
	}
	year := now.In(kernel.ChinaTime()).Year()
	within := rulebook.Defaults().Span(rulebook.AnnualAssessment, rulebook.ParamTopicWithin)
	if p, err := alerts.ParamsAt(ctx, s.pool, ""); err == nil {
		within = p.Span(rulebook.AnnualAssessment, rulebook.ParamTopicWithin)
	}
	delib, err := meetings.DeliberationByStreet(ctx, s.pool, assessment.YearStart(year), assessment.YearEnd(year), within)
	if err != nil {
		delib = nil
	}
	for st, c := range byStreet {
		d := delib[st]
		for measure, n := range map[string]int{"communities": c.Communities, "inspected": c.Inspected, "inspections": c.Inspections, "findings": c.Findings,
			"rectifications_ordered": c.Ordered, "rectifications_reported": c.Reported, "rectifications_reported_late": c.ReportedLate,
			"rectifications_overdue": c.Unmet, "deliberating": d.Deliberating, "topics_closed": d.TopicsClosed, "topics_closed_in_time": d.ClosedInTime} {
			ch <- prometheus.MustNewConstMetric(s.casework, prometheus.GaugeValue, float64(n), districtOf(st), st, measure)
		}
	}
	_, recorded, err := directory.RecordedRatingsByStreet(ctx, s.pool)
	if err != nil || len(recorded) == 0 {
		recorded = map[string]map[supervision.Rating]int{"": {}} // the series exist before the first rating
	}
	for st, byRating := range recorded {
		for _, r := range []supervision.Rating{supervision.Green, supervision.Yellow, supervision.Red} {
			ch <- prometheus.MustNewConstMetric(s.recorded, prometheus.GaugeValue, float64(byRating[r]), districtOf(st), st, string(r))
		}
	}
}
