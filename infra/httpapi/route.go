package httpapi

import (
	"log/slog"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/grassroots-ledger/ledger/commands"
)

// Route is an /api/v1 route served by a plain http.Handler rather than a huma operation — a stream of
// server-sent events, an attachment, NDJSON progress — and described in the one OpenAPI document all the
// same, so that every /api/v1 route is in /api/v1/openapi.json.
type Route struct {
	Method string // GET, POST, DELETE
	// Path in ServeMux form, with {name} path parameters: /api/v1/audit/communities/{id}/as-of.
	Path        string
	ID          string // operationId
	Tag         string // the audience: audit, supervision
	Summary     string
	Description string
	// Query are the query parameters, "name" → what it is.
	Query map[string]string
	// Produces is the content type of the 200 answer (default application/json).
	Produces string
}

// Pattern is the ServeMux pattern of the route.
func (rt Route) Pattern() string { return rt.Method + " " + rt.Path }

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// Mount serves h at rt on mux and, when api is not nil, describes rt in api's OpenAPI document: its
// parameters, its bearer token, and its problem+json errors.
func Mount(mux *http.ServeMux, api huma.API, rt Route, h http.Handler) {
	mux.Handle(rt.Pattern(), h)
	if api != nil {
		api.OpenAPI().AddOperation(rt.operation(api.OpenAPI().Components.Schemas))
	}
}

// MountGated is Mount behind the one gate (Gate.Require) for action: a bearer token of a role the one
// table allows; log (default slog.Default()) receives the gate's server errors.
func MountGated(mux *http.ServeMux, api huma.API, rt Route, tokens TokenVerifier, log *slog.Logger, action commands.Action, h ActorHandler) {
	if log == nil {
		log = slog.Default()
	}
	Mount(mux, api, rt, Gate{Tokens: tokens, Logger: log}.Require(action, h))
}

func (rt Route) operation(reg huma.Registry) *huma.Operation {
	produces := rt.Produces
	if produces == "" {
		produces = "application/json"
	}
	op := &huma.Operation{
		OperationID: rt.ID, Method: rt.Method, Path: rt.Path, Summary: rt.Summary, Description: rt.Description,
		Tags:     []string{rt.Tag},
		Security: []map[string][]string{{securityScheme: {}}},
		Responses: map[string]*huma.Response{
			"200": {Description: "OK", Content: map[string]*huma.MediaType{produces: {}}},
		},
	}
	for _, m := range pathParam.FindAllStringSubmatch(rt.Path, -1) {
		op.Parameters = append(op.Parameters, &huma.Param{Name: m[1], In: "path", Required: true, Schema: &huma.Schema{Type: "string"}})
	}
	for _, name := range slices.Sorted(maps.Keys(rt.Query)) {
		op.Parameters = append(op.Parameters, &huma.Param{Name: name, In: "query", Description: rt.Query[name], Schema: &huma.Schema{Type: "string"}})
	}
	problem := reg.Schema(reflect.TypeFor[Problem](), true, "Problem")
	for status, what := range map[string]string{
		"400": "A parameter is bad (named in `field`).",
		"401": "No token, or an unknown or revoked one.",
		"403": "The token's role may not do this, or the target lies outside its jurisdiction scope.",
		"404": "No such thing.",
		"429": "Too many at once (streams, verifications): retry after Retry-After.",
		"503": "A dependency cannot answer now, or the server is busy: retry after Retry-After.",
	} {
		op.Responses[status] = &huma.Response{Description: what, Content: map[string]*huma.MediaType{"application/problem+json": {Schema: problem}}}
	}
	if !strings.HasPrefix(rt.Path, "/api/v1/") {
		panic("httpapi.Mount: " + rt.Path + " is not under /api/v1/")
	}
	return op
}
