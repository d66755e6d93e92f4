// Package httpapi is the ledger's HTTP API under /api/v1/. The command API takes every command a clerk,
// committee member or administrator can give as POST /api/v1/commands/<name> with a JSON body, an
// Idempotency-Key header (the command id: a retry with the same key returns the first result and appends
// nothing) and a bearer token; it answers the command's Result, or an application/problem+json error
// (RFC 9457) that says what to fix. The OpenAPI 3.1 document at /api/v1/openapi.json is derived from the
// Go types of the commands by huma, so clients and the CLI (ledger record --list) never drift from the
// server.
//
// Status codes: 400 bad input (the field is named), 401 missing or invalid token, 403 not allowed (role
// or jurisdiction scope), 404 unknown subject, 409 already done or changed concurrently (retry), 413 body
// over 1 MiB, 422 refused by a rule of the rulebook (the rule's stable code and a Chinese sentence), 500
// anything else (a request id; the cause is only in the log). Nothing is appended for any of them.
package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/events"
	"github.com/grassroots-ledger/ledger/infra/auth"
)

const (
	// OpenAPIPath is where the OpenAPI 3.1 document is served (also as .yaml).
	OpenAPIPath = "/api/v1/openapi.json"
	// CommandPathPrefix is followed by the command's name.
	CommandPathPrefix = "/api/v1/commands/"

	headerIdempotencyKey = "Idempotency-Key"
	headerCorrelationID  = "X-Correlation-ID"

	// maxBodyBytes bounds a command's body; a larger one is a 413 and is not read further.
	maxBodyBytes = 1 << 20
	// bodyReadTimeout bounds the reading of a body, against slow clients holding connections.
	bodyReadTimeout = 15 * time.Second
	// securityScheme is the OpenAPI name of the bearer token scheme.
	securityScheme = "bearer"
)

// TokenVerifier turns a presented bearer token into the token it is (auth.Store satisfies it). A
// malformed, unknown or revoked token is an error that errors.Is auth.ErrUnauthenticated; any other error
// means it could not tell (a 500).
type TokenVerifier interface {
	Authenticate(ctx context.Context, secret string) (auth.Token, error)
}

// Config is what the command API needs.
type Config struct {
	// Mux receives the routes: the command operations, the OpenAPI document and a problem+json 404 for
	// anything else under /api/v1/.
	Mux *http.ServeMux
	// Tokens authenticates callers.
	Tokens TokenVerifier
	// Logger receives refusals (debug) and server errors with their request id (error). Default slog.Default().
	Logger *slog.Logger
	// Version is the API version shown in the OpenAPI document. Default "1".
	Version string
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Version == "" {
		c.Version = "1"
	}
}

// Validate reports a configuration New cannot use.
func (c Config) Validate() error {
	var errs []error
	if c.Mux == nil {
		errs = append(errs, errors.New("a Mux is required"))
	}
	if c.Tokens == nil {
		errs = append(errs, errors.New("a TokenVerifier (Tokens) is required: the command API authenticates every call"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("httpapi config: %w", err)
	}
	return nil
}

// Commands is the command API: the huma API on the mux, the token verifier, and the commands registered
// with RegisterCommand. Register every command before serving.
type Commands struct {
	api    huma.API
	tokens TokenVerifier
	log    *slog.Logger

	// enums are the values of the domain types command fields take (events.Enums).
	enums map[reflect.Type][]string

	mu        sync.Mutex
	summaries map[string]string
}

// New mounts the command API on cfg.Mux: the OpenAPI document at OpenAPIPath and a problem+json 404 for
// unknown paths under /api/v1/. Commands are added with RegisterCommand.
func New(cfg Config) (*Commands, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Commands{tokens: cfg.Tokens, log: cfg.Logger, enums: events.Enums(), summaries: map[string]string{}}

	hc := huma.DefaultConfig("Grassroots ledger command API", cfg.Version)
	hc.Info.Description = "Record the affairs of villages and urban communities as immutable events. " +
		"Every command is POST /api/v1/commands/{name} with a JSON body, an Idempotency-Key header and a " +
		"bearer token (ledger token create). Errors are application/problem+json (RFC 9457) with a stable code."
	hc.OpenAPIPath = strings.TrimSuffix(OpenAPIPath, ".json")
	hc.DocsPath = "" // the docs page loads scripts from a CDN; the document is enough
	hc.SchemasPath = "/api/v1/schemas"
	hc.CreateHooks = nil // no $schema links in bodies: a Result is exactly commands.Result
	hc.Formats = map[string]huma.Format{"application/json": huma.DefaultJSONFormat, "json": huma.DefaultJSONFormat}
	hc.Transformers = []huma.Transformer{r.transform}
	hc.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		securityScheme: {
			Type:         "http",
			Scheme:       "bearer",
			BearerFormat: "lg_<base64url>",
			Description:  "An API token from `ledger token create`; its role and jurisdiction scope decide what it may do.",
		},
	}
	r.api = humago.New(cfg.Mux, hc)
	cfg.Mux.HandleFunc("/api/v1/", r.notFound)
	return r, nil
}

// API is the huma API the commands are registered on, for other operations under /api/v1/.
func (r *Commands) API() huma.API { return r.api }

// commandName is kebab-case words, optionally grouped with dots: "approve-expenditure", "funds.approve".
var commandName = regexp.MustCompile(`^[a-z][a-z0-9]*([.-][a-z0-9]+)*$`)

// commandInput is what huma reads of a command request: the headers, and the body raw so that
// decodeCommand can report input errors as 400s (see decode.go).
type commandInput struct {
	IdempotencyKey string `header:"Idempotency-Key" doc:"The command id: 1–128 characters of A–Z a–z 0–9 . _ : -. Resending the same key returns the first result and appends nothing, so retry with it after a timeout. Required."`
	CorrelationID  string `header:"X-Correlation-ID" doc:"Ties together everything one request caused; defaults to the Idempotency-Key. Same characters as the key."`
	RawBody        []byte `contentType:"application/json"`
}

type commandOutput struct {
	Body commands.Result
}

// RegisterCommand adds the command name as POST /api/v1/commands/<name> (operationId name, summary as
// given, tag: the part of name before its first '.', else "commands"). A request is authenticated by its
// bearer token (401 otherwise), its body decoded strictly into C (400 naming the field: unknown, missing
// and mistyped fields, malformed JSON; a field of C is required unless its json tag has omitempty or
// omitzero, or it has the tag required:"false"; huma's validation tags such as enum, pattern, minimum
// apply), and run is called with the Meta (command id from Idempotency-Key, correlation id from
// X-Correlation-ID, the token's actor). run's error becomes a problem response (see the package doc).
//
// It panics if name is not kebab-case, is already registered, or C is not a struct: registration happens
// at start-up, and such a mistake must stop it.
func RegisterCommand[C any](r *Commands, name, summary string, run func(ctx context.Context, m commands.Meta, c C) (commands.Result, error)) {
	registerCommand(r, name, summary, run)
}

// RegisterCasework adds a command of supervision casework: as RegisterCommand, but the edge lets through
// the roles that may Inspect (supervisors, admins) rather than those that record affairs.
func RegisterCasework[C any](r *Commands, name, summary string, run func(ctx context.Context, m commands.Meta, c C) (commands.Result, error)) {
	registerCommand(r, name, summary, run, commands.Inspect)
}

func registerCommand[C any](r *Commands, name, summary string, run func(ctx context.Context, m commands.Meta, c C) (commands.Result, error),
	actions ...commands.Action) {
	if !commandName.MatchString(name) || len(name) > 64 {
		panic(fmt.Sprintf("httpapi: command name %q: want kebab-case like approve-expenditure", name))
	}
	ct := reflect.TypeFor[C]()
	if ct.Kind() != reflect.Struct {
		panic(fmt.Sprintf("httpapi: command %s: the body type %s must be a struct", name, ct))
	}
	r.mu.Lock()
	_, dup := r.summaries[name]
	r.summaries[name] = summary
	r.mu.Unlock()
	if dup {
		panic(fmt.Sprintf("httpapi: command %s registered twice", name))
	}

	oapi := r.api.OpenAPI()
	reg := oapi.Components.Schemas
	schema := reg.Schema(ct, true, ct.Name())
	documentEnums(reg, ct, schema, r.enums, map[reflect.Type]bool{})
	tag := "commands"
	if group, _, ok := strings.Cut(name, "."); ok {
		tag = group
	}
	path := CommandPathPrefix + name
	huma.Register(r.api, huma.Operation{
		OperationID:      name,
		Method:           http.MethodPost,
		Path:             path,
		Summary:          summary,
		Tags:             []string{tag},
		Security:         []map[string][]string{{securityScheme: {}}},
		MaxBodyBytes:     maxBodyBytes + 1, // huma refuses a body that reaches the limit; allow exactly 1 MiB
		BodyReadTimeout:  bodyReadTimeout,
		SkipValidateBody: true, // decodeCommand validates, so that input errors are 400s
		Responses:        r.problemResponses(reg),
		Middlewares:      huma.Middlewares{r.authenticateFor(actions)},
	}, func(ctx context.Context, in *commandInput) (*commandOutput, error) {
		return runCommand(ctx, r, name, reg, schema, in, run)
	})
	documentCommand(oapi.Paths[path].Post, schema)
}

func runCommand[C any](ctx context.Context, r *Commands, name string, reg huma.Registry, schema *huma.Schema, in *commandInput,
	run func(ctx context.Context, m commands.Meta, c C) (commands.Result, error)) (*commandOutput, error) {
	actor, ok := auth.ActorFrom(ctx)
	if !ok { // the operation's middleware authenticates; this is a guard against a miswired route
		return nil, unauthenticated("需要 API 令牌:Authorization: Bearer lg_…", false)
	}
	// The metadata (Idempotency-Key, X-Correlation-ID) are validated with the command, once, by the
	// executor's gate: a bad key is a 400 naming the header, nothing read or appended.
	m := commands.Meta{CommandID: in.IdempotencyKey, CorrelationID: in.CorrelationID, Actor: actor}
	c, errs := decodeCommand[C](reg, schema, in.RawBody)
	if errs != nil {
		return nil, r.refuse(ctx, name, badInput(errs))
	}
	m.Command, m.RequestHash = name, requestHash(name, in.RawBody)
	res, err := safeRun(ctx, name, run, m, c)
	if err != nil {
		return nil, r.refuse(ctx, name, err)
	}
	if res.Events == nil {
		res.Events = []commands.EventRef{}
	}
	return &commandOutput{Body: res}, nil
}

// safeRun calls run, turning a panic into an error so that the client gets a 500 problem (and the log
// the stack) rather than a dropped connection.
func safeRun[C any](ctx context.Context, name string, run func(context.Context, commands.Meta, C) (commands.Result, error), m commands.Meta, c C) (res commands.Result, err error) {
	defer func() {
		if rec := recover(); rec != nil {
			err = fmt.Errorf("command %s panicked: %v\n%s", name, rec, debug.Stack())
		}
	}()
	return run(ctx, m, c)
}

// refuse maps err to its problem and logs the refusal (no personal data: the name, status and code).
func (r *Commands) refuse(ctx context.Context, name string, err error) *Problem {
	p := problemFor(ctx, r.log, err)
	if p.Status < 500 {
		r.log.LogAttrs(ctx, slog.LevelDebug, "command refused", slog.String("command", name),
			slog.Int("status", p.Status), slog.String("code", p.Code), slog.String("field", p.Field))
	}
	return p
}

// authenticateFor is the middleware of every command operation (for the route's actions): it runs before the body is read, so an
// unauthenticated client cannot make the server read a megabyte, and puts the token's actor into the
// request context.
func (r *Commands) authenticateFor(actions []commands.Action) func(ctx huma.Context, next func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		actor, p := actorOf(ctx.Context(), ctx.Header("Authorization"), r.tokens, r.log)
		if p != nil {
			r.writeProblem(ctx, p)
			return
		}
		// A role that may do none of the route's actions (an auditor anywhere, a supervisor but on
		// casework) is refused here, before the body is read, so that the route answers such a token 403
		// whatever it sends. The command itself is authorized once, on its target, by the executor.
		if err := commands.Writer(actor, actions...); err != nil {
			r.writeProblem(ctx, problemFor(ctx.Context(), r.log, err))
			return
		}
		next(huma.WithContext(ctx, auth.WithActor(ctx.Context(), actor)))
	}
}

// writeProblem sends p from a middleware, where huma's error path is not available.
func (r *Commands) writeProblem(ctx huma.Context, p *Problem) {
	if p.Instance == "" {
		u := ctx.URL()
		p.Instance = u.Path
	}
	for k, vs := range p.headers {
		for _, v := range vs {
			ctx.AppendHeader(k, v)
		}
	}
	ctx.SetHeader("Content-Type", ProblemContentType)
	ctx.SetStatus(p.Status)
	if err := r.api.Marshal(ctx.BodyWriter(), "application/json", p); err != nil {
		r.log.LogAttrs(ctx.Context(), slog.LevelWarn, "write problem", slog.String("error", err.Error()))
	}
}

// transform gives every error response the Problem shape: huma's own (body too large, body unreadable)
// are converted, and every problem gets its instance.
func (r *Commands) transform(ctx huma.Context, _ string, v any) (any, error) {
	var p *Problem
	switch b := v.(type) {
	case *Problem:
		p = b
	case *huma.ErrorModel:
		p = fromHuma(ctx, r.log, b)
	default:
		return v, nil
	}
	if p.Instance == "" {
		u := ctx.URL()
		p.Instance = u.Path
	}
	return p, nil
}

// notFound answers unknown paths under /api/v1/ (an unknown command name, a typo) with a problem.
func (r *Commands) notFound(w http.ResponseWriter, req *http.Request) {
	p := newProblem(http.StatusNotFound, CodeNotFound, "没有这个接口: "+req.Method+" "+req.URL.Path+
		"(命令列表见 "+OpenAPIPath+" 或 ledger record --list)")
	if name, ok := strings.CutPrefix(req.URL.Path, CommandPathPrefix); ok && r.registered(name) {
		p = newProblem(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "命令只接受 POST 请求")
		w.Header().Set("Allow", http.MethodPost)
	}
	p.Instance = req.URL.Path
	w.Header().Set("Content-Type", ProblemContentType)
	w.WriteHeader(p.Status)
	_ = r.api.Marshal(w, "application/json", p)
}

func (r *Commands) registered(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.summaries[name]
	return ok
}

// CommandNames returns the names of the registered commands, sorted.
func CommandNames(r *Commands) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.summaries))
	for n := range r.summaries {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// problemResponses documents the error responses of a command operation.
func (r *Commands) problemResponses(reg huma.Registry) map[string]*huma.Response {
	schema := reg.Schema(reflect.TypeFor[Problem](), true, "Problem")
	out := map[string]*huma.Response{}
	for status, what := range map[int]string{
		http.StatusBadRequest:            "Bad input: malformed JSON, an unknown, missing or mistyped field (named in `field`), a bad Idempotency-Key, or a value the domain finds invalid.",
		http.StatusUnauthorized:          "No token, or an unknown or revoked one.",
		http.StatusForbidden:             "The token's role may not give this command, or the target lies outside the token's jurisdiction scope.",
		http.StatusNotFound:              "The command is about something that does not exist (e.g. an unregistered community).",
		http.StatusConflict:              "Already done, or the record changed concurrently (code concurrent-change-retry): retry with the same Idempotency-Key.",
		http.StatusRequestEntityTooLarge: "The body exceeds 1 MiB.",
		http.StatusUnprocessableEntity:   "Refused by an enforced rule of the rulebook: `code` is the rule, `detail` says why in Chinese.",
		http.StatusInternalServerError:   "Server error; `request_id` identifies it in the server's log. Nothing was recorded.",
	} {
		resp := &huma.Response{Description: what, Content: map[string]*huma.MediaType{ProblemContentType: {Schema: schema}}}
		if status == http.StatusUnauthorized {
			resp.Headers = map[string]*huma.Param{"WWW-Authenticate": {Description: "Bearer", Schema: &huma.Schema{Type: "string"}}}
		}
		out[fmt.Sprint(status)] = resp
	}
	return out
}

// documentCommand corrects the OpenAPI description of a command operation registered with a raw body:
// the body is the command's schema, and the Idempotency-Key header is required (the handler checks it, so
// that its absence is a 400 naming it rather than huma's 422). Only the document changes; the operation
// huma runs keeps its own copies of what it validates.
func documentCommand(op *huma.Operation, schema *huma.Schema) {
	op.RequestBody.Description = "The command, as JSON."
	op.RequestBody.Content = map[string]*huma.MediaType{"application/json": {Schema: schema}}
	for i, p := range op.Parameters {
		if p.Name != headerIdempotencyKey {
			continue
		}
		q := *p
		q.Required = true
		minLen, maxLen := 1, 128
		q.Schema = &huma.Schema{Type: "string", MinLength: &minLen, MaxLength: &maxLen, Pattern: `^[A-Za-z0-9._:-]+$`}
		op.Parameters[i] = &q
	}
}

// documentEnums lists, in the schema s of t and of the structs it holds, the values of every field whose
// type is a domain enumeration (events.Enums): the command types name the domain's type, the values
// come from the domain, and the schema validates them as an enum tag would.
func documentEnums(reg huma.Registry, t reflect.Type, s *huma.Schema, enums map[reflect.Type][]string, seen map[reflect.Type]bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] || s == nil {
		return
	}
	seen[t] = true
	if s.Ref != "" {
		s = reg.SchemaFromRef(s.Ref)
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		prop := s.Properties[name]
		ft := f.Type
		for prop != nil && (ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice) {
			if ft.Kind() == reflect.Slice {
				prop = prop.Items
			}
			ft = ft.Elem()
		}
		if prop == nil || !f.IsExported() {
			continue
		}
		if values, ok := enums[ft]; ok {
			prop.Enum = make([]any, len(values))
			for i, v := range values {
				prop.Enum[i] = v
			}
			prop.PrecomputeMessages()
			continue
		}
		documentEnums(reg, ft, prop, enums, seen)
	}
}
