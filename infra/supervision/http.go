package supervision

import (
	"context"
	"errors"
	"fmt"
	"github.com/grassroots-ledger/ledger/domain/assessment"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/projections/meetings"
	"github.com/grassroots-ledger/ledger/projections/standing"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/infra/httpapi"
	"github.com/grassroots-ledger/ledger/projections/directory"
	alerts "github.com/grassroots-ledger/ledger/projections/supervision"

	"github.com/danielgtaylor/huma/v2"
)

// Routes of the supervisors' API.
const (
	StreamPath    = "/api/v1/alerts/stream"
	AlertsPath    = "/api/v1/alerts"
	RatingsPath   = "/api/v1/ratings"
	WebhooksPath  = "/api/v1/webhooks"
	CaseworkPath  = "/api/v1/casework"
	StandingsPath = "/api/v1/standings"
	// AssessmentsPath is the annual assessment and the rating history of the communities under a path.
	AssessmentsPath = "/api/v1/assessments"
)

// Routes are the supervisors' routes, as the OpenAPI document describes them (NewAPI mounts them in this
// order; resolve needs an Engine, the webhook routes Webhooks).
var Routes = []httpapi.Route{
	{Method: http.MethodGet, Path: StreamPath, ID: "alerts-stream", Tag: "supervision", Summary: "Alerts as they are raised and cleared (server-sent events)",
		Description: "Alerts under the token's scope, from Last-Event-ID (or last_event_id) on, or from now; keep-alive comments. " +
			"Capped per token and in total (429 too-many-streams).",
		Query:    map[string]string{"under": "a jurisdiction path within the token's scope", "last_event_id": "resume after this position"},
		Produces: "text/event-stream"},
	{Method: http.MethodGet, Path: AlertsPath, ID: "alerts-open", Tag: "supervision", Summary: "Open alerts",
		Query: map[string]string{"under": "a jurisdiction path within the token's scope", "limit": "at most this many, 1–1000 (default 1000)"}},
	{Method: http.MethodGet, Path: AlertsPath + "/counts", ID: "alerts-counts", Tag: "supervision", Summary: "Open alerts counted by jurisdiction and severity",
		Query: map[string]string{"under": "a jurisdiction path within the token's scope"}},
	{Method: http.MethodGet, Path: RatingsPath, ID: "ratings", Tag: "supervision", Summary: "Communities' ratings (红黄绿)",
		Query: map[string]string{"under": "a jurisdiction path within the token's scope"}},
	{Method: http.MethodPost, Path: AlertsPath + "/{id}/resolve", ID: "alert-resolve", Tag: "supervision", Summary: "Resolve an alert (supervisors)"},
	{Method: http.MethodPost, Path: WebhooksPath, ID: "webhook-register", Tag: "supervision", Summary: "Register a webhook (supervisors)"},
	{Method: http.MethodGet, Path: WebhooksPath, ID: "webhooks", Tag: "supervision", Summary: "Webhooks in the token's scope"},
	{Method: http.MethodDelete, Path: WebhooksPath + "/{id}", ID: "webhook-delete", Tag: "supervision", Summary: "Delete a webhook (supervisors)"},
	{Method: http.MethodGet, Path: WebhooksPath + "/{id}/deliveries", ID: "webhook-deliveries", Tag: "supervision", Summary: "A webhook's deliveries",
		Query: map[string]string{"state": "only deliveries in this state"}},
	{Method: http.MethodPost, Path: WebhooksPath + "/{id}/replay", ID: "webhook-replay", Tag: "supervision", Summary: "Deliver a webhook's alerts again (supervisors)"},
	{Method: http.MethodGet, Path: CaseworkPath, ID: "casework", Tag: "supervision", Summary: "Supervision coverage and overdue rectifications (督查)",
		Description: "This year's coverage under the jurisdiction — communities, those inspected, inspections, findings, rectifications " +
			"ordered, reported, reported late and overdue —, its deliberation (communities with a topic deliberated by the five-step " +
			"procedure, topics closed, and closed within annual-assessment's topic-within of their collection), and the rectifications " +
			"unreported past their deadline, the longest overdue first.",
		Query: map[string]string{"under": "a jurisdiction path within the token's scope", "limit": "at most this many overdue rectifications (default 100)"}},
	{Method: http.MethodGet, Path: StandingsPath, ID: "standings", Tag: "supervision", Summary: "Communities' satisfaction and democratic evaluation (满意度与民主评议)",
		Description: "Every community under the jurisdiction with its latest closed satisfaction survey (the share 满意 or 基本满意 of the answers to " +
			"its satisfaction questions, per mille) and its latest democratic evaluation (the lowest 称职 share and the highest 不称职 share of a member).",
		Query: map[string]string{"under": "a jurisdiction path within the token's scope"}},
	{Method: http.MethodGet, Path: AssessmentsPath, ID: "assessments", Tag: "supervision", Summary: "Annual assessment scores and rating history (年度考核, 评级)",
		Description: "Every community under the jurisdiction (at most 1000) with its assessment score of the year — frozen once the year ended, " +
			"else as it stands, with its band (green, yellow below the pass score, red below red-below) — and every rating recorded at the end " +
			"of a month or a quarter, with what made it.",
		Query: map[string]string{"under": "a jurisdiction path within the token's scope", "year": "the year (default this year, China time)"}},
}

// APIConfig configures the supervisors' HTTP API.
type APIConfig struct {
	Mux *http.ServeMux
	// API, when set, is the huma API whose OpenAPI document describes the routes (the command API's).
	API    huma.API
	Pool   *pgxpool.Pool
	Tokens httpapi.TokenVerifier
	// Now is the clock the casework route counts overdue rectifications by; default time.Now.
	Now func() time.Time
	// Engine and Executor resolve alerts (POST /api/v1/alerts/{id}/resolve), the command
	// commands.Supervisors.ResolveAlert on the engine's view of the read model; nil leaves the route out.
	Engine   *Engine
	Executor *commands.Executor
	// Webhooks manages webhooks (/api/v1/webhooks…); nil leaves the routes out.
	Webhooks *Webhooks
	// Store is what the alert streams read (required).
	Store      AlertSource
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// Heartbeat is the interval of SSE keep-alive comments (default 15s).
	Heartbeat time.Duration
	// Streams caps the open alert streams per token and in total (defaults 8 and 1000); beyond, 429.
	Streams *httpapi.StreamLimits
}

// API is the supervisors' HTTP API: the SSE alert stream, open alerts, ratings and counts, resolving
// an alert, and webhooks. Every route takes a bearer token whose role may commands.Watch (supervisor,
// auditor, admin; writes: commands.Supervise, supervisor or admin), and answers only about the
// jurisdictions in the token's scope. The writes are commands (commands.Supervisors): a handler decodes,
// calls the command and writes its result.
type API struct {
	cfg     APIConfig
	gate    httpapi.Gate
	cmds    *commands.Supervisors
	metrics *apiMetrics
	stop    chan struct{} // closed when Run returns: open streams end, so a server can shut down
}

type apiMetrics struct {
	streams   prometheus.Gauge
	sseEvents prometheus.Counter
}

// NewAPI mounts the routes on cfg.Mux.
func NewAPI(cfg APIConfig) (*API, error) {
	if cfg.Mux == nil || cfg.Pool == nil || cfg.Tokens == nil || cfg.Store == nil {
		return nil, errors.New("alerting API config: Mux, Pool, Tokens and Store are required")
	}
	if cfg.Engine != nil && cfg.Executor == nil {
		return nil, errors.New("alerting API config: an Engine resolves alerts through an Executor, which is missing")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = 15 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Streams == nil {
		cfg.Streams = &httpapi.StreamLimits{}
	}
	var resolutions commands.AlertBook
	if cfg.Engine != nil {
		resolutions = cfg.Engine.Resolutions()
	}
	var hooks commands.WebhookRegistry
	if cfg.Webhooks != nil {
		hooks = cfg.Webhooks
	}
	a := &API{cfg: cfg, gate: httpapi.Gate{Tokens: cfg.Tokens, Logger: cfg.Logger}, cmds: commands.NewSupervisors(cfg.Executor, resolutions, hooks),
		stop: make(chan struct{}), metrics: &apiMetrics{
			streams:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "ledger_alert_streams_open", Help: "Open SSE alert streams."}),
			sseEvents: prometheus.NewCounter(prometheus.CounterOpts{Name: "ledger_alert_stream_events_total", Help: "Alert events sent to SSE subscribers."}),
		}}
	if cfg.Registerer != nil {
		if err := errors.Join(cfg.Registerer.Register(a.metrics.streams), cfg.Registerer.Register(a.metrics.sseEvents)); err != nil {
			return nil, err
		}
	}
	mount := func(rt httpapi.Route, h http.Handler) { httpapi.Mount(cfg.Mux, cfg.API, rt, h) }
	mount(Routes[0], a.reader(a.handleStream))
	mount(Routes[1], a.reader(a.handleOpenAlerts))
	mount(Routes[2], a.reader(a.handleCounts))
	mount(Routes[3], a.reader(a.handleRatings))
	mount(Routes[10], a.reader(a.handleCasework))
	mount(Routes[11], a.reader(a.handleStandings))
	mount(Routes[12], a.reader(a.handleAssessments))
	if cfg.Engine != nil {
		mount(Routes[4], a.writer(a.handleResolve))
	}
	if cfg.Webhooks != nil {
		// Auditors read; only supervisors and admins register, delete or replay webhooks.
		mount(Routes[5], a.writer(a.handleRegister))
		mount(Routes[6], a.reader(a.handleListWebhooks))
		mount(Routes[7], a.writer(a.handleDeleteWebhook))
		mount(Routes[8], a.reader(a.handleDeliveries))
		mount(Routes[9], a.writer(a.handleReplay))
	}
	return a, nil
}

// Run waits until ctx ends; then it ends the open SSE streams (their clients reconnect with
// Last-Event-ID), so that an http.Server's Shutdown is not held up by them.
func (a *API) Run(ctx context.Context) error {
	defer close(a.stop)
	<-ctx.Done()
	return ctx.Err()
}

// reader serves callers that may read alerts, writer those that may act on them, by the one
// authorization table (commands.Watch, commands.Supervise).
func (a *API) reader(h httpapi.ActorHandler) http.Handler { return a.gate.Require(commands.Watch, h) }

func (a *API) writer(h httpapi.ActorHandler) http.Handler {
	return a.gate.Require(commands.Supervise, h)
}

// fail answers err: the engine being behind is a 503 to retry; the rest as the command API answers it.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, ErrBehind) {
		httpapi.WriteProblem(w, r, httpapi.NewProblem(http.StatusServiceUnavailable, "alerts-behind", "预警引擎正在追赶事件记录,请稍后重试", ""))
		return
	}
	a.gate.Fail(w, r, err)
}

// underParam reads ?under= and checks it against the token's scope: empty means the token's scope.
func (a *API) underParam(w http.ResponseWriter, r *http.Request, actor commands.Actor) (kernel.JurisdictionPath, bool) {
	p, err := commands.ScopedPath(actor, kernel.JurisdictionPath(r.URL.Query().Get("under")), "under")
	if err == nil {
		err = commands.Authorize(actor, commands.Watch, string(p))
	}
	if err != nil {
		a.fail(w, r, err)
		return "", false
	}
	return p, true
}

func (a *API) handleStream(w http.ResponseWriter, r *http.Request, actor commands.Actor) {
	under, ok := a.underParam(w, r, actor)
	if !ok {
		return
	}
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = r.URL.Query().Get("last_event_id")
	}
	var after eventlog.Position
	if last != "" {
		p, err := eventlog.ParsePosition(last)
		if err != nil {
			httpapi.WriteProblem(w, r, httpapi.NewProblem(http.StatusBadRequest, httpapi.CodeInvalidValue,
				"Last-Event-ID 须为上次收到的事件编号(commit/prepare)", "Last-Event-ID"))
			return
		}
		after = p
	} else {
		head, err := a.cfg.Store.Head(r.Context())
		if err != nil {
			a.fail(w, r, err)
			return
		}
		after = head
	}
	release, ok := a.cfg.Streams.Acquire(httpapi.TokenKey(r))
	if !ok {
		w.Header().Set("Retry-After", "30")
		httpapi.WriteProblem(w, r, httpapi.NewProblem(http.StatusTooManyRequests, httpapi.CodeTooManyStreams, "打开的提醒推送连接过多：请先关闭不用的连接，稍后再试", ""))
		return
	}
	defer release()
	a.metrics.streams.Inc()
	defer a.metrics.streams.Dec()
	a.stream(w, r, under, after)
}

// intParam reads the integer query parameter name, def when it is absent; one that is not an integer from
// lo to hi is answered 400 invalid-<name>, and ok is false.
func intParam(w http.ResponseWriter, r *http.Request, name string, def, lo, hi int) (n int, ok bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		httpapi.WriteProblem(w, r, httpapi.NewProblem(http.StatusBadRequest, "invalid-"+name, fmt.Sprintf("%s 须为%d—%d", name, lo, hi), name))
		return 0, false
	}
	return n, true
}

func (a *API) handleOpenAlerts(w http.ResponseWriter, r *http.Request, actor commands.Actor) {
	under, ok := a.underParam(w, r, actor)
	if !ok {
		return
	}
	limit, ok := intParam(w, r, "limit", 1000, 1, 1000)
	if !ok {
		return
	}
	out, err := alerts.OpenAlerts(r.Context(), a.cfg.Pool, under, limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"under": under, "alerts": out})
}

func (a *API) handleCounts(w http.ResponseWriter, r *http.Request, actor commands.Actor) {
	under, ok := a.underParam(w, r, actor)
	if !ok {
		return
	}
	counts, err := alerts.Counts(r.Context(), a.cfg.Pool, under)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	ratings, err := alerts.RatingCounts(r.Context(), a.cfg.Pool, under)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"under": under, "open": counts, "communities_by_rating": ratings})
}

func (a *API) handleRatings(w http.ResponseWriter, r *http.Request, actor commands.Actor) {
	under, ok := a.underParam(w, r, actor)
	if !ok {
		return
	}
	out, err := alerts.Ratings(r.Context(), a.cfg.Pool, under)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"under": under, "ratings": out})
}

func (a *API) handleCasework(w http.ResponseWriter, r *http.Request, actor commands.Actor) {
	under, ok := a.underParam(w, r, actor)
	if !ok {
		return
	}
	limit, ok := intParam(w, r, "limit", 100, 1, 1000)
	if !ok {
		return
	}
	now := a.cfg.Now()
	cov, err := directory.CoverageOf(r.Context(), a.cfg.Pool, string(under), now.In(kernel.ChinaTime()).Year(), now)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	overdue, err := directory.OverdueRectifications(r.Context(), a.cfg.Pool, string(under), now, limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	p, err := alerts.ParamsAt(r.Context(), a.cfg.Pool, under)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	year := now.In(kernel.ChinaTime()).Year()
	delib, err := meetings.DeliberationUnder(r.Context(), a.cfg.Pool, string(under), assessment.YearStart(year), assessment.YearEnd(year),
		p.Span(rulebook.AnnualAssessment, rulebook.ParamTopicWithin))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"under": under, "coverage": cov, "deliberation": delib, "overdue": overdue})
}

func (a *API) handleStandings(w http.ResponseWriter, r *http.Request, actor commands.Actor) {
	under, ok := a.underParam(w, r, actor)
	if !ok {
		return
	}
	out, err := directory.Standings(r.Context(), a.cfg.Pool, string(under))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"under": under, "standings": out})
}

// CommunityScore is a community's assessment score of a year, as the supervisors' API reports it.
type CommunityScore struct {
	CommunityID string `json:"community_id"`
	Name        string `json:"name"`
	Assessed    bool   `json:"assessed" doc:"A street or district defined the year"`
	Frozen      bool   `json:"frozen"`
	Total       int    `json:"total,omitempty"`
	Band        string `json:"band,omitempty"`
}

func (a *API) handleAssessments(w http.ResponseWriter, r *http.Request, actor commands.Actor) {
	under, ok := a.underParam(w, r, actor)
	if !ok {
		return
	}
	year, ok := intParam(w, r, "year", a.cfg.Now().In(kernel.ChinaTime()).Year(), 2000, 2100)
	if !ok {
		return
	}
	ctx := r.Context()
	cs, err := directory.CommunitiesUnder(ctx, a.cfg.Pool, string(under), "", 1000)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	scores := make([]CommunityScore, 0, len(cs))
	for _, c := range cs {
		s, err := scoreOf(ctx, a.cfg.Pool, c, year)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		scores = append(scores, s)
	}
	ratings, err := directory.RatingsUnder(ctx, a.cfg.Pool, string(under))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"under": under, "year": year, "scores": scores, "ratings": ratings})
}

// scoreOf is community c's score of year: frozen when it is, else as it stands.
func scoreOf(ctx context.Context, pool *pgxpool.Pool, c directory.Community, year int) (CommunityScore, error) {
	out := CommunityScore{CommunityID: c.ID, Name: c.Name}
	frozen, err := directory.FrozenYears(ctx, pool, c.ID)
	if err != nil {
		return out, err
	}
	a, ok, err := standing.Assess(ctx, pool, kernel.CommunityID(c.ID), kernel.JurisdictionPath(c.Path), year)
	if err != nil || !ok {
		return out, err
	}
	out.Assessed, out.Total, out.Band = true, a.Result.Total, string(a.Band)
	for _, f := range frozen {
		if f.Year == year {
			out.Frozen, out.Total, out.Band = true, f.Total, string(a.BandOf(f.Total))
		}
	}
	return out, nil
}

// decode decodes the request's JSON body strictly into v, or answers the 400 naming the field.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if p := httpapi.DecodeJSON(r, v); p != nil {
		httpapi.WriteProblem(w, r, p)
		return false
	}
	return true
}

func (a *API) handleResolve(w http.ResponseWriter, r *http.Request, actor commands.Actor) {
	c := commands.ResolveAlert{AlertID: r.PathValue("id")}
	if !decode(w, r, &c) {
		return
	}
	if _, err := a.cmds.ResolveAlert(r.Context(), commands.Meta{Actor: actor}, c); err != nil {
		a.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"alert_id": c.AlertID, "resolved": true})
}

func (a *API) handleRegister(w http.ResponseWriter, r *http.Request, actor commands.Actor) {
	var c commands.RegisterWebhook
	if !decode(w, r, &c) {
		return
	}
	hook, secret, err := a.cmds.RegisterWebhook(r.Context(), commands.Meta{Actor: actor}, c)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusCreated, struct {
		Webhook
		Secret string `json:"secret"`
		Note   string `json:"note"`
	}{hook, secret, "the secret is shown only now: deliveries carry X-Ledger-Signature: sha256=HMAC-SHA256(secret, body) in hex"})
}

func (a *API) handleListWebhooks(w http.ResponseWriter, r *http.Request, actor commands.Actor) {
	out, err := a.cfg.Webhooks.List(r.Context(), actor)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"webhooks": out})
}

func (a *API) handleDeleteWebhook(w http.ResponseWriter, r *http.Request, actor commands.Actor) {
	if err := a.cmds.DeleteWebhook(r.Context(), commands.Meta{Actor: actor}, r.PathValue("id")); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) handleDeliveries(w http.ResponseWriter, r *http.Request, actor commands.Actor) {
	out, err := a.cfg.Webhooks.Deliveries(r.Context(), actor, r.PathValue("id"), r.URL.Query().Get("state"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"deliveries": out})
}

func (a *API) handleReplay(w http.ResponseWriter, r *http.Request, actor commands.Actor) {
	n, err := a.cmds.ReplayWebhook(r.Context(), commands.Meta{Actor: actor}, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"webhook_id": r.PathValue("id"), "replayed": n})
}
