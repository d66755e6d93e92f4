package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/infra/httpapi"
	"github.com/grassroots-ledger/ledger/infra/httpapi/apitest"
)

func TestCommandIsRecordedOnceAndRetriesReturnTheFirstResult(t *testing.T) {
	t.Parallel()
	srv := startNotes(t)
	clerk := srv.Token(t, commands.RoleClerk, pathA)
	body := map[string]any{"community": communityA, "text": "村务公开栏已更新"}

	first := srv.Post(t, "note", clerk, "key-1", body).Result(t)
	if first.Replayed || len(first.Events) != 1 || first.Events[0].Type != "test.noted" || first.Stream != "note-"+communityA+"-1" {
		t.Fatalf("first result: %+v", first)
	}
	head := srv.Head(t)
	if head.Count != 1 || head.Last != first.Position {
		t.Fatalf("$all %+v after one command with result %+v", head, first)
	}
	again := srv.Post(t, "note", clerk, "key-1", body).Result(t)
	if !again.Replayed || again.Events[0] != first.Events[0] || again.Position != first.Position {
		t.Fatalf("retry: %+v, first %+v", again, first)
	}
	srv.WantNothingAppended(t, head)
}

func TestConcurrentDeliveriesOfOneCommandAppendOnce(t *testing.T) {
	t.Parallel()
	srv := startNotes(t)
	clerk := srv.Token(t, commands.RoleClerk, pathA)
	body := map[string]any{"community": communityA, "text": "同一命令并发重试"}
	var wg sync.WaitGroup
	statuses := make([]int, 8)
	for i := range statuses {
		wg.Go(func() { statuses[i] = srv.Post(t, "note", clerk, "same-key", body).Status })
	}
	wg.Wait()
	for i, s := range statuses {
		// A delivery that lost the race and could not see the winner yet is a 409 the client retries.
		if s != http.StatusOK && s != http.StatusConflict {
			t.Fatalf("delivery %d: status %d", i, s)
		}
	}
	if h := srv.Head(t); h.Count != 1 {
		t.Fatalf("%d events appended for one command id, want 1", h.Count)
	}
}

// Every status the API sends is a problem+json document of one shape, and none of them appends.
func TestProblemShapeForEveryStatus(t *testing.T) {
	t.Parallel()
	srv := startNotes(t)
	clerk := srv.Token(t, commands.RoleClerk, pathA)
	auditor := srv.Token(t, commands.RoleAuditor, "*")
	note := func(outcome string) map[string]any {
		return map[string]any{"community": communityA, "text": "t", "outcome": outcome}
	}
	cases := []struct {
		name          string
		token, key    string
		body          any
		status        int
		code, field   string
		detailHas     string
		checkNoAppend bool
	}{
		{"malformed json", clerk, "k400a", `{"community": "330303001001", "text": tru}`, 400, httpapi.CodeMalformedJSON, "text", "JSON", true},
		{"domain invalid", clerk, "k400b", note("invalid"), 400, "text-invalid", "text", "内容不合要求", true},
		{"no key", clerk, "", note("ok"), 400, "command-id-invalid", "Idempotency-Key", "Idempotency-Key", true},
		{"no token", "", "k401", note("ok"), 401, httpapi.CodeUnauthenticated, "", "令牌", true},
		{"read-only role", auditor, "k403a", note("ok"), 403, httpapi.CodeRoleNotAllowed, "", "auditor", true},
		{"domain forbidden", clerk, "k403b", note("forbidden"), 403, "not-your-note", "", "无权", true},
		{"out of scope", clerk, "k403c", map[string]any{"community": communityB, "text": "t"}, 403, httpapi.CodeOutOfScope, "", pathB, true},
		{"not found", clerk, "k404", map[string]any{"community": "999", "text": "t"}, 404, "community-not-found", "community", "尚未登记", true},
		{"already done", clerk, "k409a", note("conflict"), 409, "note-exists", "", "已经存在", true},
		{"too large", clerk, "k413", `{"community":"330303001001","text":"` + strings.Repeat("x", 1<<20) + `"}`, 413, httpapi.CodeBodyTooLarge, "", "1 MiB", true},
		{"rule", clerk, "k422", note("rejected"), 422, "major-spending-needs-resolution", "", "支出超过5万元", true},
		{"server error", clerk, "k500a", note("boom"), 500, httpapi.CodeInternal, "", "request_id", true},
		{"panic", clerk, "k500b", note("panic"), 500, httpapi.CodeInternal, "", "request_id", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := srv.Head(t)
			resp := srv.Post(t, "note", c.token, c.key, c.body)
			p := resp.WantProblem(t, c.status, c.code)
			wantShape(t, resp, p, "/api/v1/commands/note")
			if p.Field != c.field {
				t.Errorf("field %q, want %q", p.Field, c.field)
			}
			if !strings.Contains(p.Detail, c.detailHas) {
				t.Errorf("detail %q does not mention %q", p.Detail, c.detailHas)
			}
			if c.status == 500 {
				if len(p.RequestID) < 16 || resp.Header.Get("X-Request-ID") != p.RequestID {
					t.Errorf("500 without a request id: %s %v", resp.Body, resp.Header)
				}
				if strings.Contains(string(resp.Body), "13800138000") || strings.Contains(string(resp.Body), "panic") {
					t.Errorf("500 leaks the cause: %s", resp.Body)
				}
			} else if p.RequestID != "" {
				t.Errorf("request_id on a %d", c.status)
			}
			if c.status == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			srv.WantNothingAppended(t, before)
		})
	}

	t.Run("concurrent change", func(t *testing.T) {
		before := srv.Head(t)
		resp := srv.Post(t, "note", clerk, "k409b", note("store-conflict"))
		p := resp.WantProblem(t, 409, httpapi.CodeRetry)
		wantShape(t, resp, p, "/api/v1/commands/note")
		if !strings.Contains(p.Detail, "重试") || !strings.Contains(p.Detail, "retry") {
			t.Errorf("409 detail does not say to retry: %q", p.Detail)
		}
		// Only the other writer's event is in the store; the refused command appended nothing.
		if after := srv.Head(t); after.Count != before.Count+1 {
			t.Fatalf("$all grew by %d, want 1 (the concurrent writer's event)", after.Count-before.Count)
		}
	})

	t.Run("unknown route", func(t *testing.T) {
		resp := srv.Post(t, "no-such-command", clerk, "k", note("ok"))
		p := resp.WantProblem(t, 404, httpapi.CodeNotFound)
		wantShape(t, resp, p, "/api/v1/commands/no-such-command")
	})

	t.Run("wrong method", func(t *testing.T) {
		resp := srv.Do(t, http.MethodGet, "/api/v1/commands/note", nil, nil)
		p := resp.WantProblem(t, 405, httpapi.CodeMethodNotAllowed)
		wantShape(t, resp, p, "/api/v1/commands/note")
		if resp.Header.Get("Allow") != "POST" {
			t.Fatalf("Allow %q", resp.Header.Get("Allow"))
		}
	})
}

// wantShape checks the members RFC 9457 and the ledger define.
func wantShape(t *testing.T, resp apitest.Response, p httpapi.Problem, instance string) {
	t.Helper()
	var raw map[string]any
	if err := json.Unmarshal(resp.Body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"type", "title", "status", "detail", "instance", "code"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("problem without %q: %s", k, resp.Body)
		}
	}
	if p.Type != "urn:ledger:problem:"+p.Code || p.Title != http.StatusText(p.Status) || p.Instance != instance {
		t.Errorf("problem type/title/instance: %s", resp.Body)
	}
}

// Every kind of input mistake is a 400 that names the field, and changes nothing.
func TestBadInputIs400NamingTheField(t *testing.T) {
	t.Parallel()
	srv := startNotes(t)
	clerk := srv.Token(t, commands.RoleClerk, pathA)
	cases := []struct {
		name, body  string
		code, field string
	}{
		{"unknown field", `{"community":"330303001001","text":"t","amount":5}`, httpapi.CodeUnknownField, "amount"},
		{"unknown nested field", `{"community":"330303001001","text":"t","payee":{"name":"x","account":1,"bank":"y"}}`, httpapi.CodeUnknownField, "payee.bank"},
		{"wrong type", `{"community":"330303001001","text":5}`, httpapi.CodeWrongType, "text"},
		{"wrong type nested", `{"community":"330303001001","text":"t","payee":{"name":"x","account":"12"}}`, httpapi.CodeWrongType, "payee.account"},
		{"wrong type in array", `{"community":"330303001001","text":"t","tags":["a",7]}`, httpapi.CodeWrongType, "tags[1]"},
		{"fraction for integer", `{"community":"330303001001","text":"t","count":1.5}`, httpapi.CodeWrongType, "count"},
		{"integer beyond int64", `{"community":"330303001001","text":"t","payee":{"name":"x","account":9223372036854775808}}`, httpapi.CodeWrongType, "payee.account"},
		{"number beyond float64", `{"community":"330303001001","text":"t","count":1e999}`, httpapi.CodeWrongType, "count"},
		{"null for required", `{"community":"330303001001","text":null}`, httpapi.CodeWrongType, "text"},
		{"missing field", `{"community":"330303001001"}`, httpapi.CodeMissingField, "text"},
		{"missing nested field", `{"community":"330303001001","text":"t","payee":{"name":"x"}}`, httpapi.CodeMissingField, "payee.account"},
		{"enum", `{"community":"330303001001","text":"t","outcome":"maybe"}`, httpapi.CodeInvalidValue, "outcome"},
		{"pattern", `{"community":"33-01","text":"t"}`, httpapi.CodeInvalidValue, "community"},
		{"bound", `{"community":"330303001001","text":"t","count":-1}`, httpapi.CodeInvalidValue, "count"},
		{"malformed value", `{"community":"330303001001","text":"t","count":12x}`, httpapi.CodeMalformedJSON, "count"},
		{"malformed in array", `{"community":"330303001001","text":"t","tags":["a",}`, httpapi.CodeMalformedJSON, "tags[1]"},
		{"truncated", `{"community":"330303001001","text":"t`, httpapi.CodeMalformedJSON, "text"},
		{"trailing data", `{"community":"330303001001","text":"t"} {}`, httpapi.CodeMalformedJSON, ""},
		{"not an object", `["community"]`, httpapi.CodeWrongType, ""},
		{"null body", `null`, httpapi.CodeWrongType, ""},
		{"empty body", ``, httpapi.CodeBodyRequired, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := srv.Head(t)
			resp := srv.Post(t, "note", clerk, "key-"+strings.ReplaceAll(c.name, " ", "-"), c.body)
			p := resp.WantProblem(t, 400, c.code)
			if p.Field != c.field {
				t.Errorf("field %q, want %q: %s", p.Field, c.field, resp.Body)
			}
			if c.field != "" && !strings.Contains(p.Detail, c.field) {
				t.Errorf("detail does not name %s: %q", c.field, p.Detail)
			}
			srv.WantNothingAppended(t, before)
		})
	}

	t.Run("several errors are all listed", func(t *testing.T) {
		resp := srv.Post(t, "note", clerk, "key-several", `{"text":5,"amount":1}`)
		p := resp.WantProblem(t, 400, "")
		var fields []string
		for _, e := range p.Errors {
			fields = append(fields, e.Field+"/"+e.Code)
		}
		if got := strings.Join(fields, " "); got != "amount/unknown-field community/missing-field text/wrong-type" {
			t.Fatalf("errors %s", got)
		}
		if p.Field != "amount" || p.Code != httpapi.CodeUnknownField {
			t.Fatalf("first error: %s", resp.Body)
		}
	})

	for _, c := range []struct{ name, key, corr, field string }{
		{"key too long", strings.Repeat("k", 129), "", "Idempotency-Key"},
		{"key with spaces", "my key", "", "Idempotency-Key"},
		{"bad correlation id", "good-key", "a b", "X-Correlation-ID"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{"Authorization": {"Bearer " + clerk}, "Idempotency-Key": {c.key}}
			if c.corr != "" {
				h.Set("X-Correlation-ID", c.corr)
			}
			before := srv.Head(t)
			resp := srv.Do(t, http.MethodPost, "/api/v1/commands/note", h, map[string]any{"community": communityA, "text": "t"})
			if p := resp.WantProblem(t, 400, ""); p.Field != c.field {
				t.Fatalf("field %q, want %q", p.Field, c.field)
			}
			srv.WantNothingAppended(t, before)
		})
	}
}

func TestBodyOfExactly1MiBIsReadAndOneByteMoreIs413(t *testing.T) {
	t.Parallel()
	srv := startNotes(t)
	clerk := srv.Token(t, commands.RoleClerk, pathA)
	body := `{"community":"330303001001","text":"ok"}`
	exact := body + strings.Repeat(" ", 1<<20-len(body))
	srv.Post(t, "note", clerk, "exact", exact).Result(t)
	before := srv.Head(t)
	srv.Post(t, "note", clerk, "over", exact+" ").WantProblem(t, 413, httpapi.CodeBodyTooLarge)
	srv.Post(t, "note", clerk, "way-over", strings.Repeat(" ", 8<<20)).WantProblem(t, 413, httpapi.CodeBodyTooLarge)
	srv.WantNothingAppended(t, before)
}

func TestAuthenticationFailuresAre401(t *testing.T) {
	t.Parallel()
	srv := startNotes(t)
	ctx := context.Background()
	good := srv.Token(t, commands.RoleClerk, pathA)
	revoked, tok, err := srv.Tokens.Create(ctx, authToken(commands.RoleClerk, pathA))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Tokens.Revoke(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	// A well-formed token that was never issued: flip a character of a good one.
	unknown := good[:len(good)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(good, "AA")]
	body := map[string]any{"community": communityA, "text": "t"}
	for name, authz := range map[string]string{
		"no header":     "",
		"basic scheme":  "Basic dXNlcjpwYXNz",
		"empty bearer":  "Bearer ",
		"not a token":   "Bearer hello",
		"wrong prefix":  "Bearer xx_" + good[3:],
		"truncated":     "Bearer " + good[:20],
		"never issued":  "Bearer " + unknown,
		"revoked token": "Bearer " + revoked,
	} {
		t.Run(name, func(t *testing.T) {
			before := srv.Head(t)
			h := http.Header{"Idempotency-Key": {"k-" + strings.ReplaceAll(name, " ", "-")}}
			if authz != "" {
				h.Set("Authorization", authz)
			}
			resp := srv.Do(t, http.MethodPost, "/api/v1/commands/note", h, body)
			resp.WantProblem(t, 401, httpapi.CodeUnauthenticated)
			got := resp.Header.Get("WWW-Authenticate")
			if !strings.HasPrefix(got, "Bearer") || strings.Contains(got, "invalid_token") != (strings.HasPrefix(authz, "Bearer ") && len(authz) > 7) {
				t.Fatalf("WWW-Authenticate %q", got)
			}
			srv.WantNothingAppended(t, before)
		})
	}
	// The good token works, also with the scheme in lower case.
	h := http.Header{"Idempotency-Key": {"k-good"}, "Authorization": {"bearer " + good}}
	if resp := srv.Do(t, http.MethodPost, "/api/v1/commands/note", h, body); resp.Status != 200 {
		t.Fatalf("good token: %d %s", resp.Status, resp.Body)
	}
}

// The authorization matrix: every role × every registered command route × a target in and out of the
// token's scope. Auditors and supervisors (whose casework these are not) get 403 on every route before the
// target is read; every role gets 403 out of scope; writers are not refused in scope, except clerks and
// committee members on administrative commands. Refusals append nothing.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	srv := startNotes(t)
	routes := httpapi.CommandNames(srv.Commands)
	if strings.Join(routes, ",") != "admin.note,note" {
		t.Fatalf("registered routes %v", routes)
	}
	adminOnly := map[string]bool{"admin.note": true}
	scopes := map[string]string{"community": pathA, "street": street, "country": "*"}
	n := 0
	for _, role := range commands.Roles {
		for scopeName, scope := range scopes {
			token := srv.Token(t, role, scope)
			for _, route := range routes {
				for _, target := range []string{communityA, communityB} {
					inScope := target == communityA || scope != pathA
					name := fmt.Sprintf("%s@%s/%s/%s", role, scopeName, route, target)
					n++
					t.Run(name, func(t *testing.T) {
						before := srv.Head(t)
						resp := srv.Post(t, route, token, "m-"+strings.NewReplacer("/", "-", "@", "-").Replace(name),
							map[string]any{"community": target, "text": "t", "outcome": "rejected"})
						// Auditors give no command at all, supervisors only casework (none of these routes): both are
						// refused at the edge.
						readOnly := role == commands.RoleAuditor || role == commands.RoleSupervisor
						mayAct := !readOnly && inScope && (!adminOnly[route] || role == commands.RoleAdmin)
						if mayAct {
							// Authorized: the domain step runs and refuses by rule.
							resp.WantProblem(t, 422, "major-spending-needs-resolution")
						} else {
							p := resp.WantProblem(t, 403, "")
							// Read-only roles are refused before the target is looked at; a writer out of scope is
							// told so, even where its role would not do either.
							if want := map[bool]string{true: httpapi.CodeOutOfScope, false: httpapi.CodeRoleNotAllowed}[!inScope && !readOnly]; p.Code != want {
								t.Fatalf("code %s, want %s", p.Code, want)
							}
						}
						srv.WantNothingAppended(t, before)
					})
				}
			}
		}
	}
	if n != len(commands.Roles)*len(scopes)*len(routes)*2 {
		t.Fatalf("matrix has %d cells", n)
	}
	// And an authorized, valid command does append: the matrix is not passing because nothing can.
	clerk := srv.Token(t, commands.RoleClerk, pathA)
	srv.Post(t, "note", clerk, "matrix-control", map[string]any{"community": communityA, "text": "t"}).Result(t)
}

func TestOpenAPIDocumentDescribesTheCommands(t *testing.T) {
	t.Parallel()
	srv := startNotes(t)
	resp := srv.Do(t, http.MethodGet, httpapi.OpenAPIPath, nil, nil)
	if resp.Status != 200 {
		t.Fatalf("GET %s: %d", httpapi.OpenAPIPath, resp.Status)
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			OperationID string                `json:"operationId"`
			Summary     string                `json:"summary"`
			Tags        []string              `json:"tags"`
			Security    []map[string][]string `json:"security"`
			Parameters  []struct {
				Name     string `json:"name"`
				In       string `json:"in"`
				Required bool   `json:"required"`
			} `json:"parameters"`
			RequestBody struct {
				Required bool `json:"required"`
				Content  map[string]struct {
					Schema struct {
						Ref string `json:"$ref"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
			Responses map[string]struct {
				Content map[string]json.RawMessage `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
		Components struct {
			Schemas         map[string]json.RawMessage `json:"schemas"`
			SecuritySchemes map[string]struct {
				Scheme string `json:"scheme"`
			} `json:"securitySchemes"`
		} `json:"components"`
	}
	if err := json.Unmarshal(resp.Body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	op := doc.Paths["/api/v1/commands/note"]["post"]
	if op.OperationID != "note" || op.Summary != "Record a note" || len(op.Tags) != 1 || op.Tags[0] != "commands" {
		t.Fatalf("operation %+v", op)
	}
	if tags := doc.Paths["/api/v1/commands/admin.note"]["post"].Tags; len(tags) != 1 || tags[0] != "admin" {
		t.Fatalf("admin.note tags %v", tags)
	}
	if len(op.Security) != 1 || doc.Components.SecuritySchemes["bearer"].Scheme != "bearer" {
		t.Fatalf("security %+v %+v", op.Security, doc.Components.SecuritySchemes)
	}
	var key bool
	for _, p := range op.Parameters {
		key = key || p.Name == "Idempotency-Key" && p.In == "header" && p.Required
	}
	if !key {
		t.Fatalf("no required Idempotency-Key header: %+v", op.Parameters)
	}
	ref := op.RequestBody.Content["application/json"].Schema.Ref
	if !op.RequestBody.Required || ref != "#/components/schemas/NoteCommand" {
		t.Fatalf("request body %+v", op.RequestBody)
	}
	var schema struct {
		Required             []string                   `json:"required"`
		Properties           map[string]json.RawMessage `json:"properties"`
		AdditionalProperties *bool                      `json:"additionalProperties"`
	}
	if err := json.Unmarshal(doc.Components.Schemas["NoteCommand"], &schema); err != nil {
		t.Fatal(err)
	}
	if strings.Join(schema.Required, ",") != "community,text" || len(schema.Properties) != 6 ||
		schema.AdditionalProperties == nil || *schema.AdditionalProperties {
		t.Fatalf("noteCommand schema %s", doc.Components.Schemas["NoteCommand"])
	}
	for _, status := range []string{"200", "400", "401", "403", "404", "409", "413", "422", "500"} {
		r, ok := op.Responses[status]
		if !ok {
			t.Fatalf("no %s response documented", status)
		}
		if status != "200" && r.Content[httpapi.ProblemContentType] == nil {
			t.Fatalf("%s response is not problem+json: %v", status, r.Content)
		}
	}
}

func TestRegisterCommandRefusesMistakes(t *testing.T) {
	t.Parallel()
	srv := apitest.Start(t, apitest.Config{Registry: testRegistry()})
	run := func(context.Context, commands.Meta, noteCommand) (commands.Result, error) {
		return commands.Result{}, nil
	}
	httpapi.RegisterCommand(srv.Commands, "note", "Note", run)
	for name, register := range map[string]func(){
		"duplicate": func() { httpapi.RegisterCommand(srv.Commands, "note", "Note", run) },
		"bad name":  func() { httpapi.RegisterCommand(srv.Commands, "Note_It", "Note", run) },
		"not struct": func() {
			httpapi.RegisterCommand(srv.Commands, "str", "x", func(context.Context, commands.Meta, string) (commands.Result, error) { return commands.Result{}, nil })
		},
		"empty group": func() { httpapi.RegisterCommand(srv.Commands, ".note", "Note", run) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			register()
		})
	}
}
