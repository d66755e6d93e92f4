package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/audit"

	"github.com/danielgtaylor/huma/v2"
)

// Paths of the auditors' API.
const (
	AuditVerifyPath = "/api/v1/audit/verify"
	AuditAsOfPath   = "/api/v1/audit/communities/{id}/as-of"
	AuditExportPath = "/api/v1/audit/export"
)

// AuditorRoutes are the auditors' routes, as the OpenAPI document describes them.
var AuditorRoutes = []Route{
	{Method: http.MethodGet, Path: AuditVerifyPath, ID: "audit-verify", Tag: "audit", Summary: "Verify every stream's hash chain",
		Description: "Recomputes every stream's hash chain: the report's intact is false and break names the first break when the " +
			"history does not verify. One runs at a time (429 with Retry-After otherwise).",
		Query: map[string]string{"progress": "ndjson: progress lines while it runs, then the report (application/x-ndjson)"}},
	{Method: http.MethodGet, Path: AuditAsOfPath, ID: "audit-as-of", Tag: "audit", Summary: "A community as it stood at an instant",
		Description: "Replays the community's history up to the instant into scratch read models. Bounded: a replay waits at most " +
			"a few seconds for a free slot and runs at most two minutes (503 with Retry-After).",
		Query: map[string]string{"at": "the instant (RFC 3339)", "by": "recorded (default) or occurred", "until": "an $all position commit/prepare",
			"tables": "true: the read models' rows too", "format": "json (default) or text"}},
	{Method: http.MethodGet, Path: AuditExportPath, ID: "audit-export", Tag: "audit", Summary: "A community's trail with hashes and payloads",
		Description: "An attachment in CSV, JSON Lines or XLSX; a failure after the first bytes aborts the connection.",
		Query: map[string]string{"community": "the community", "from": "RFC 3339", "to": "RFC 3339", "by": "recorded or occurred",
			"own_only": "true: the community's own streams only", "format": "csv, jsonl or xlsx"},
		Produces: "application/octet-stream"},
}

// AuditorConfig is what the auditors' API needs.
type AuditorConfig struct {
	// Mux receives the routes (GET only).
	Mux *http.ServeMux
	// API, when set, is the huma API whose OpenAPI document describes the routes (the command API's).
	API huma.API
	// Tokens authenticates callers; only tokens of role auditor are served.
	Tokens TokenVerifier
	// Auditor runs verify, replay and export.
	Auditor *audit.Auditor
	// Logger receives server errors with their request id. Default slog.Default().
	Logger *slog.Logger
	// ConcurrentVerifies bounds how many verifications run at once (each reads the whole history);
	// more are refused with 429 and Retry-After. Default 1.
	ConcurrentVerifies int
	// ConcurrentReplays bounds how many as-of replays run at once (each builds scratch schemas of every
	// read model); a request that finds none free within ReplayQueueWait is refused with 503 and
	// Retry-After. Default 2.
	ConcurrentReplays int
	// ReplayQueueWait is how long a replay may wait for a free slot. Default 2 s.
	ReplayQueueWait time.Duration
	// ReplayTimeout bounds one replay; past it the request is answered 503 with Retry-After and the
	// replay is cancelled (its scratch schemas dropped). Default 2 minutes.
	ReplayTimeout time.Duration
}

// Validate reports a configuration RegisterAuditor cannot use.
func (c AuditorConfig) Validate() error {
	var errs []error
	if c.Mux == nil {
		errs = append(errs, errors.New("a Mux is required"))
	}
	if c.Tokens == nil {
		errs = append(errs, errors.New("a TokenVerifier (Tokens) is required: the auditors' API serves auditor tokens only"))
	}
	if c.Auditor == nil {
		errs = append(errs, errors.New("an Auditor is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("httpapi auditor config: %w", err)
	}
	return nil
}

// auditorAPI serves the auditors' routes.
type auditorAPI struct {
	cfg      AuditorConfig
	log      *slog.Logger
	verifies chan struct{}
	replays  chan struct{}
}

// RegisterAuditor mounts the auditors' read-only API (审计) on cfg.Mux. Every route needs a bearer token
// of role auditor (401 without a valid token, 403 for any other role); an auditor token scoped to a
// jurisdiction reads only the communities under it (403 out-of-scope), one scoped "*" reads everything.
//
//	GET /api/v1/audit/verify[?progress=ndjson]
//	    Recomputes every stream's hash chain (audit.Auditor.Verify): 200 with the report, whose "intact"
//	    is false and "break" names the first break when the history does not verify. It reads the whole
//	    history: with progress=ndjson the answer is application/x-ndjson, {"progress":…} lines while it
//	    runs, then {"report":…}. One runs at a time (429 with Retry-After otherwise).
//	GET /api/v1/audit/communities/{id}/as-of?at=RFC3339[&by=recorded|occurred][&until=commit/prepare][&tables=true][&format=json|text]
//	    The community's state as it stood at the instant (audit.Auditor.Replay), as JSON (or a text
//	    summary). 404 for an unknown community.
//	GET /api/v1/audit/export?community=ID[&from=RFC3339][&to=RFC3339][&by=…][&own_only=true]&format=csv|jsonl|xlsx
//	    The community's trail with hashes and payloads (audit.Auditor.Export) as an attachment; CSV and
//	    JSON Lines stream. A failure after the first bytes aborts the connection, so a client never takes
//	    a cut file for a whole one.
//
// Errors are application/problem+json, as on the command API: 400 names the parameter at fault.
func RegisterAuditor(cfg AuditorConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ConcurrentVerifies <= 0 {
		cfg.ConcurrentVerifies = 1
	}
	if cfg.ConcurrentReplays <= 0 {
		cfg.ConcurrentReplays = 2
	}
	if cfg.ReplayQueueWait <= 0 {
		cfg.ReplayQueueWait = 2 * time.Second
	}
	if cfg.ReplayTimeout <= 0 {
		cfg.ReplayTimeout = 2 * time.Minute
	}
	a := &auditorAPI{cfg: cfg, log: cfg.Logger, verifies: make(chan struct{}, cfg.ConcurrentVerifies),
		replays: make(chan struct{}, cfg.ConcurrentReplays)}
	// The one gate of the plain handlers: bearer token → actor, and the role the one table allows (Audit).
	gate := Gate{Tokens: cfg.Tokens, Logger: cfg.Logger}
	for i, h := range []ActorHandler{a.verify, a.asOf, a.export} {
		Mount(cfg.Mux, cfg.API, AuditorRoutes[i], gate.Require(commands.Audit, h))
	}
	return nil
}

func (a *auditorAPI) problem(w http.ResponseWriter, r *http.Request, p *Problem) {
	WriteProblem(w, r, p)
}

// param is a 400 naming a query parameter.
func param(name, detail string) *Problem {
	p := newProblem(http.StatusBadRequest, CodeInvalidValue, detail)
	p.Field = name
	return p
}

// auditProblem maps an error of the audit package.
func (a *auditorAPI) auditProblem(r *http.Request, field string, err error) *Problem {
	switch {
	case errors.Is(err, audit.ErrInvalid):
		return param(field, strings.TrimPrefix(err.Error(), audit.ErrInvalid.Error()+": "))
	case errors.Is(err, audit.ErrCommunityNotFound):
		return newProblem(http.StatusNotFound, CodeNotFound, "账本中没有这个社区/村: "+r.PathValue("id")+r.URL.Query().Get("community"))
	case errors.Is(err, audit.ErrReplayUnavailable):
		return newProblem(http.StatusServiceUnavailable, "replay-unavailable", "此服务未配置回放所需的数据库")
	}
	return internalError(r.Context(), a.log, err)
}

// community checks the community exists and lies in the actor's scope, and returns its path.
func (a *auditorAPI) community(w http.ResponseWriter, r *http.Request, actor commands.Actor, field, id string) (string, bool) {
	if id == "" {
		a.problem(w, r, param(field, "缺少社区编号 "+field))
		return "", false
	}
	path, err := a.cfg.Auditor.CommunityPath(r.Context(), id)
	if err != nil {
		a.problem(w, r, a.auditProblem(r, field, err))
		return "", false
	}
	if !actor.Covers(path) {
		a.problem(w, r, newProblem(http.StatusForbidden, CodeOutOfScope, fmt.Sprintf("此令牌的权限范围是 %s,不包括 %s", actor.Scope, path)))
		return "", false
	}
	return path, true
}

// timeParam reads an optional RFC 3339 instant.
func timeParam(r *http.Request, name string) (time.Time, *Problem) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, param(name, fmt.Sprintf("%s=%q 不是 RFC 3339 时间(例如 2025-12-31T16:00:00Z 或 2026-01-01T00:00:00+08:00)", name, v))
	}
	return t, nil
}

func boolParam(r *http.Request, name string) (bool, *Problem) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, param(name, fmt.Sprintf("%s=%q: 应为 true 或 false", name, v))
	}
	return b, nil
}

func (a *auditorAPI) verify(w http.ResponseWriter, r *http.Request, _ commands.Actor) {
	stream := false
	switch v := r.URL.Query().Get("progress"); v {
	case "":
	case "ndjson":
		stream = true
	default:
		a.problem(w, r, param("progress", fmt.Sprintf("progress=%q: 只支持 ndjson", v)))
		return
	}
	select {
	case a.verifies <- struct{}{}:
		defer func() { <-a.verifies }()
	default:
		p := newProblem(http.StatusTooManyRequests, "verify-running", "已有一次全量校验在进行,请稍后再试")
		p.headers = http.Header{"Retry-After": {"60"}}
		a.problem(w, r, p)
		return
	}
	opts := audit.VerifyOptions{}
	var enc *json.Encoder
	flusher, _ := w.(http.Flusher)
	if stream {
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		enc = json.NewEncoder(w)
		opts.ProgressEvery = 50_000
		opts.Progress = func(p audit.VerifyProgress) {
			_ = enc.Encode(map[string]any{"progress": map[string]any{"events": p.Events, "position": p.Position, "head": p.Head}})
			if flusher != nil {
				flusher.Flush()
			}
		}
	}
	rep, err := a.cfg.Auditor.Verify(r.Context(), opts)
	if err != nil {
		if stream { // the status is sent: the error goes to the log and the stream ends without a report
			p := internalError(r.Context(), a.log, err)
			_ = enc.Encode(map[string]any{"error": p})
			return
		}
		a.problem(w, r, internalError(r.Context(), a.log, err))
		return
	}
	if stream {
		_ = enc.Encode(map[string]any{"report": rep})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(rep)
}

func (a *auditorAPI) asOf(w http.ResponseWriter, r *http.Request, actor commands.Actor) {
	q := r.URL.Query()
	at, p := timeParam(r, "at")
	if p == nil && at.IsZero() {
		p = param("at", "缺少时间参数 at(RFC 3339,例如 2025-12-31T16:00:00Z)")
	}
	by, err := audit.ParseTimeBasis(q.Get("by"))
	if p == nil && err != nil {
		p = param("by", "by 应为 recorded 或 occurred")
	}
	var until eventlog.Position
	if v := q.Get("until"); p == nil && v != "" {
		if until, err = eventlog.ParsePosition(v); err != nil {
			p = param("until", fmt.Sprintf("until=%q 应为 $all 位置 commit/prepare", v))
		}
	}
	tables, bp := boolParam(r, "tables")
	if p == nil {
		p = bp
	}
	format := q.Get("format")
	if p == nil && format != "" && format != "json" && format != "text" {
		p = param("format", "format 应为 json 或 text")
	}
	if p != nil {
		a.problem(w, r, p)
		return
	}
	id := r.PathValue("id")
	if _, ok := a.community(w, r, actor, "id", id); !ok {
		return
	}
	wait := time.NewTimer(a.cfg.ReplayQueueWait)
	defer wait.Stop()
	select {
	case a.replays <- struct{}{}:
		defer func() { <-a.replays }()
	case <-wait.C:
		p := newProblem(http.StatusServiceUnavailable, "replay-busy",
			fmt.Sprintf("已有 %d 个回放在进行，请稍后再试", a.cfg.ConcurrentReplays))
		p.headers = http.Header{"Retry-After": {"10"}}
		a.problem(w, r, p)
		return
	case <-r.Context().Done():
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), a.cfg.ReplayTimeout)
	defer cancel()
	snap, err := a.cfg.Auditor.Replay(ctx, audit.ReplayRequest{Community: id, AsOf: at, By: by, Until: until, Tables: tables})
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		p := newProblem(http.StatusServiceUnavailable, "replay-timeout",
			fmt.Sprintf("回放超过 %s 未完成，已取消；请稍后再试，或用 ledger replay 在命令行回放", a.cfg.ReplayTimeout))
		p.headers = http.Header{"Retry-After": {"30"}}
		a.problem(w, r, p)
		return
	}
	if err != nil {
		a.problem(w, r, a.auditProblem(r, "id", err))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if format == "text" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_ = snap.WriteText(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(snap)
}

func (a *auditorAPI) export(w http.ResponseWriter, r *http.Request, actor commands.Actor) {
	// An export streams a community's whole trail: it may take longer than the server's write timeout.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Hour))
	q := r.URL.Query()
	format, err := audit.ParseExportFormat(q.Get("format"))
	if err != nil {
		a.problem(w, r, param("format", "format 应为 csv、jsonl 或 xlsx"))
		return
	}
	by, err := audit.ParseTimeBasis(q.Get("by"))
	if err != nil {
		a.problem(w, r, param("by", "by 应为 recorded 或 occurred"))
		return
	}
	from, p := timeParam(r, "from")
	if p != nil {
		a.problem(w, r, p)
		return
	}
	to, p := timeParam(r, "to")
	if p != nil {
		a.problem(w, r, p)
		return
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		a.problem(w, r, param("to", "时间范围的结束(to)须晚于开始(from)"))
		return
	}
	own, p := boolParam(r, "own_only")
	if p != nil {
		a.problem(w, r, p)
		return
	}
	id := q.Get("community")
	if _, ok := a.community(w, r, actor, "community", id); !ok {
		return
	}
	name := "audit-" + id
	if !from.IsZero() {
		name += "-from-" + from.UTC().Format("20060102T150405Z")
	}
	if !to.IsZero() {
		name += "-to-" + to.UTC().Format("20060102T150405Z")
	}
	w.Header().Set("Content-Type", format.ContentType())
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.%s"`, name, format))
	w.Header().Set("Cache-Control", "no-store")
	fw := &flushWriter{w: w}
	fw.flusher, _ = w.(http.Flusher)
	if _, err := a.cfg.Auditor.Export(r.Context(), audit.ExportRequest{Community: id, From: from, To: to, By: by, OwnOnly: own, Format: format}, fw); err != nil {
		if !fw.wrote {
			w.Header().Del("Content-Disposition")
			a.problem(w, r, a.auditProblem(r, "community", err))
			return
		}
		_ = internalError(r.Context(), a.log, fmt.Errorf("export %s cut short: %w", id, err))
		panic(http.ErrAbortHandler) // the client must not take a cut file for a whole one
	}
}

// flushWriter sends each write at once (the export buffers itself) and remembers whether anything was sent.
type flushWriter struct {
	w       http.ResponseWriter
	flusher http.Flusher
	wrote   bool
}

func (f *flushWriter) Write(p []byte) (int, error) {
	f.wrote = true
	n, err := f.w.Write(p)
	if f.flusher != nil {
		f.flusher.Flush()
	}
	return n, err
}
