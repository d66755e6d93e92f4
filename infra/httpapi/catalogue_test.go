package httpapi_test

import (
	"encoding/json"
	"fmt"
	"github.com/grassroots-ledger/ledger/projections/standing"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/infra/httpapi"
	"github.com/grassroots-ledger/ledger/infra/httpapi/apitest"
)

// The commands registered by RegisterCatalogue that only admins may give (registry and rulebook).
var administrative = []string{"register-jurisdiction", "register-community", "update-community-figures", "set-rule-override", "remove-rule-override",
	"list-duty", "delist-duty", "apply-task-admission", "decide-task-admission"}

// The commands of supervision casework: supervisors and admins only (and so refused to clerks and
// committee members too).
var casework = []string{"record-inspection", "order-rectification", "publish-bulletin", "define-assessment", "score-assessment", "freeze-assessment", "record-rating"}

func startCatalogue(tb testing.TB) *apitest.Server { return startCatalogueOn(tb, false) }

// startCatalogueOn is startCatalogue whose handlers read the read models in the server's database
// (freeze-assessment, record-rating) when standings is set: for tests that run the models.
func startCatalogueOn(tb testing.TB, standings bool) *apitest.Server {
	tb.Helper()
	return apitest.Start(tb, apitest.Config{Register: func(s *apitest.Server) {
		h := commands.NewHandlers(s.Executor, apitest.Logger())
		if standings {
			h.WithStandings(standing.Reader{Q: s.Pool})
		}
		httpapi.RegisterCatalogue(s.Commands, h)
	}})
}

// registerCommunities registers communities A and B of one street, as an administrator would.
func registerCommunities(t *testing.T, srv *apitest.Server) {
	t.Helper()
	admin := srv.Token(t, commands.RoleAdmin, "*")
	segs := strings.Split(street, "/")
	for i := range segs {
		path := strings.Join(segs[:i+1], "/")
		srv.Post(t, "register-jurisdiction", admin, "setup-j-"+strings.ReplaceAll(path, "/", "."),
			map[string]any{"path": path, "name": "辖区" + segs[i]}).Result(t)
	}
	for id, path := range communityPaths {
		srv.Post(t, "register-community", admin, "setup-c-"+id, map[string]any{
			"community_id": id, "name": "社区" + id, "kind": "urban", "jurisdiction": path, "households": 1200, "adults": 3000,
		}).Result(t)
	}
}

// The authorization matrix over the real catalogue: every role × every registered command × a target in
// and out of the token's scope (community A). Bodies are generated from the command's JSON Schema in the
// served OpenAPI document, aimed at the target. Read-only roles get 403 on every route; out of scope is
// 403 for everyone; in scope, admins are never refused and clerks and committee members only on the
// administrative and casework commands; supervisors may give the casework commands in scope and nothing else.
// No cell is a 5xx, and no refusal appends.
func TestAuthorizationMatrixOverTheCatalogue(t *testing.T) {
	t.Parallel()
	srv := startCatalogue(t)
	registerCommunities(t, srv)
	doc := fetchOpenAPI(t, srv)
	routes := httpapi.CommandNames(srv.Commands)
	if len(routes) < 40 {
		t.Fatalf("only %d commands registered", len(routes))
	}
	refusedInScope := map[commands.Role][]string{}
	statuses := map[int]int{}
	for _, role := range commands.Roles {
		token := srv.Token(t, role, pathA)
		for _, route := range routes {
			for _, target := range []string{communityA, communityB} {
				inScope := target == communityA
				body := doc.sampleBody(t, route, target, communityPaths[target])
				before := srv.Head(t)
				resp := srv.Post(t, route, token, fmt.Sprintf("m-%s-%s-%s", role, route, target), body)
				cell := fmt.Sprintf("%s/%s/%s: %d %s", role, route, target, resp.Status, resp.Body)
				statuses[resp.Status]++
				if resp.Status >= 500 {
					t.Errorf("%s", cell)
					continue
				}
				readOnly := role == commands.RoleAuditor || role == commands.RoleSupervisor && !slices.Contains(casework, route)
				switch {
				case readOnly || !inScope:
					if resp.Status != http.StatusForbidden {
						t.Errorf("want 403: %s", cell)
						continue
					}
				case resp.Status == http.StatusForbidden:
					refusedInScope[role] = append(refusedInScope[role], route)
				}
				if resp.Status == http.StatusForbidden {
					resp.Problem(t)
					srv.WantNothingAppended(t, before)
				}
			}
		}
	}
	t.Logf("%d cells by status: %v", len(commands.Roles)*len(routes)*2, statuses)
	notClerks := append(slices.Clone(administrative), casework...)
	slices.Sort(notClerks)
	for _, role := range []commands.Role{commands.RoleClerk, commands.RoleCommittee} {
		slices.Sort(refusedInScope[role])
		if got := refusedInScope[role]; !slices.Equal(got, notClerks) {
			t.Errorf("%s refused in scope on %v, want exactly the administrative and casework commands %v", role, got, notClerks)
		}
	}
	if got := refusedInScope[commands.RoleAdmin]; len(got) > 0 {
		t.Errorf("admin refused in scope on %v", got)
	}
}

func TestCatalogueIsDescribedByTheOpenAPIDocument(t *testing.T) {
	t.Parallel()
	srv := startCatalogue(t)
	doc := fetchOpenAPI(t, srv)
	for _, name := range httpapi.CommandNames(srv.Commands) {
		op, ok := doc.Paths[httpapi.CommandPathPrefix+name]["post"]
		if !ok || op.OperationID != name || op.Summary == "" {
			t.Errorf("%s: operation %+v", name, op)
			continue
		}
		s := doc.resolve(op.RequestBody.Content["application/json"].Schema)
		if s == nil || s.Type != "object" || len(s.Properties) == 0 || s.AdditionalProperties == nil || *s.AdditionalProperties {
			t.Errorf("%s: body schema %+v", name, s)
		}
	}
}

// openAPI is the part of the served document the tests read.
type openAPI struct {
	Paths map[string]map[string]struct {
		OperationID string `json:"operationId"`
		Summary     string `json:"summary"`
		RequestBody struct {
			Content map[string]struct {
				Schema *jsonSchema `json:"schema"`
			} `json:"content"`
		} `json:"requestBody"`
	} `json:"paths"`
	Components struct {
		Schemas map[string]*jsonSchema `json:"schemas"`
	} `json:"components"`
}

type jsonSchema struct {
	Ref                  string                 `json:"$ref"`
	Type                 schemaType             `json:"type"`
	Format               string                 `json:"format"`
	Properties           map[string]*jsonSchema `json:"properties"`
	Required             []string               `json:"required"`
	AdditionalProperties *bool                  `json:"additionalProperties"`
	Items                *jsonSchema            `json:"items"`
	Enum                 []any                  `json:"enum"`
	Pattern              string                 `json:"pattern"`
	MinLength            *int                   `json:"minLength"`
	MaxLength            *int                   `json:"maxLength"`
	Minimum              *float64               `json:"minimum"`
	Maximum              *float64               `json:"maximum"`
	MinItems             *int                   `json:"minItems"`
}

func fetchOpenAPI(t *testing.T, srv *apitest.Server) *openAPI {
	t.Helper()
	resp := srv.Do(t, http.MethodGet, httpapi.OpenAPIPath, nil, nil)
	if resp.Status != http.StatusOK {
		t.Fatalf("GET %s: %d", httpapi.OpenAPIPath, resp.Status)
	}
	var doc openAPI
	if err := json.Unmarshal(resp.Body, &doc); err != nil {
		t.Fatal(err)
	}
	return &doc
}

func (d *openAPI) resolve(s *jsonSchema) *jsonSchema {
	for s != nil && s.Ref != "" {
		s = d.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
	}
	return s
}

// sampleBody is a body for the command that passes its schema, aimed at a community: its id, its path,
// or a node under it.
func (d *openAPI) sampleBody(t *testing.T, name, communityID, path string) map[string]any {
	t.Helper()
	op := d.Paths[httpapi.CommandPathPrefix+name]["post"]
	body, ok := d.sample(op.RequestBody.Content["application/json"].Schema).(map[string]any)
	if !ok {
		t.Fatalf("%s: no object schema", name)
	}
	for k := range body {
		switch k {
		case "community_id":
			body[k] = communityID
		case "jurisdiction", "district":
			body[k] = path
		case "path":
			body[k] = path + "/g1" // a grid: register-jurisdiction refuses community-level paths
		}
	}
	return body
}

func (d *openAPI) sample(s *jsonSchema) any {
	s = d.resolve(s)
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	switch s.Type {
	case "object":
		out := map[string]any{}
		for _, k := range s.Required {
			out[k] = d.sample(s.Properties[k])
		}
		return out
	case "array":
		n := 0
		if s.MinItems != nil {
			n = *s.MinItems
		}
		out := make([]any, n)
		for i := range out {
			out[i] = d.sample(s.Items)
		}
		return out
	case "integer", "number":
		v := 1.0
		if s.Minimum != nil {
			v = max(v, *s.Minimum)
		}
		if s.Maximum != nil {
			v = min(v, *s.Maximum)
		}
		return v
	case "boolean":
		return false
	case "string":
		switch s.Format {
		case "date-time":
			return time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
		case "date":
			return time.Now().UTC().Format(time.DateOnly)
		}
		for _, c := range []string{"x1", "p-1", "1", strings.Repeat("ab", 32), "2026-2031", "7d"} {
			if s.Pattern != "" && !regexp.MustCompile(s.Pattern).MatchString(c) {
				continue
			}
			if s.MinLength != nil && len(c) < *s.MinLength || s.MaxLength != nil && len(c) > *s.MaxLength {
				continue
			}
			return c
		}
		n := 1
		if s.MinLength != nil {
			n = *s.MinLength
		}
		return strings.Repeat("x", n)
	}
	return nil
}

// schemaType is a JSON Schema type, given as a name or as a list such as ["array", "null"] (the first
// that is not null counts).
type schemaType string

func (t *schemaType) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*t = schemaType(one)
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	for _, m := range many {
		if m != "null" {
			*t = schemaType(m)
			break
		}
	}
	return nil
}
