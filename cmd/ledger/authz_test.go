package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/infra/httpapi"
)

// audience is who may call the routes of one OpenAPI tag: nil for everyone, token or not. Reads and
// writes may differ (supervisors resolve alerts and keep webhooks; auditors only read).
type audience struct{ read, write []commands.Role }

// writers are the roles that record (and upload the documents their records name).
var writers = []commands.Role{commands.RoleClerk, commands.RoleCommittee, commands.RoleAdmin}

// routeAudiences is the authorization policy of every /api/v1 route, by the tag that names its audience.
// The command API is not here: TestAuthorizationMatrixOverTheCatalogue (infra/httpapi) runs every role
// against every command in and out of scope; here a command route is only checked to want a token and
// to refuse the read-only roles.
var routeAudiences = map[string]audience{
	"public":      {},
	"witness":     {}, // no token: a cosignature is authenticated by the witness's key it is signed with
	"audit":       {read: []commands.Role{commands.RoleAuditor}},
	"people":      {read: []commands.Role{commands.RoleClerk, commands.RoleAdmin}},
	"documents":   {read: writers, write: writers},
	"supervision": {read: []commands.Role{commands.RoleSupervisor, commands.RoleAuditor, commands.RoleAdmin}, write: []commands.Role{commands.RoleSupervisor, commands.RoleAdmin}},
}

// TestAuthorizationMatrixOverEveryRoute calls every route of the OpenAPI document serve publishes with no
// token and with a ledger-wide token of every role: a route of an audience answers 401 without a token and
// 403 to a role outside the audience, and is not refused (neither 401 nor 403) to a role inside it; public
// routes refuse no one. A route whose tag has no policy fails the test, so a new audience must say who
// it serves.
func TestAuthorizationMatrixOverEveryRoute(t *testing.T) {
	db := onEmbeddedNode(t)
	srv := startServe(t, db)
	tokens := map[commands.Role]string{}
	for _, role := range commands.Roles {
		tokens[role] = srv.Token(role, "*")
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Tags []string `json:"tags"`
		} `json:"paths"`
	}
	resp, err := http.Get(srv.Base + httpapi.OpenAPIPath)
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, path, token string) int {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, method, srv.Base+path, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "authz-matrix")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("%s %s: %v", method, path, err)
			return 0
		}
		resp.Body.Close() // an event stream answers its headers at once: the status is all this needs
		return resp.StatusCode
	}
	cells := 0
	for path, ops := range doc.Paths {
		concrete := strings.NewReplacer("{id}", "x", "{name}", "note", "{position}", "1", "{subject}", "x").Replace(path)
		for method, op := range ops {
			method = strings.ToUpper(method)
			isCommand := strings.HasPrefix(path, httpapi.CommandPathPrefix)
			var a audience
			if !isCommand {
				if len(op.Tags) != 1 {
					t.Errorf("%s %s: tags %v, want one audience", method, path, op.Tags)
					continue
				}
				var ok bool
				if a, ok = routeAudiences[op.Tags[0]]; !ok {
					t.Errorf("%s %s: tag %q has no authorization policy in routeAudiences", method, path, op.Tags[0])
					continue
				}
			}
			allowed := a.read
			if method != http.MethodGet && a.write != nil {
				allowed = a.write
			}
			open := !isCommand && allowed == nil
			// Without a token last: the edge slows down an address after 20 answers 401 (429 to its
			// requests that carry a token).
			defer func() {
				if got := call(method, concrete, ""); open == (got == http.StatusUnauthorized) {
					t.Errorf("%s %s without a token: %d", method, path, got)
				}
			}()
			for _, role := range commands.Roles {
				got := call(method, concrete, tokens[role])
				cells++
				cell := fmt.Sprintf("%s %s as %s: %d", method, path, role, got)
				switch {
				case got == 0:
				case got == http.StatusUnauthorized || got >= 500:
					t.Errorf("%s", cell)
				case isCommand:
					casework := slices.Contains([]string{"record-inspection", "order-rectification", "publish-bulletin", "define-assessment", "score-assessment", "freeze-assessment", "record-rating"}, strings.TrimPrefix(path, "/api/v1/commands/"))
					if readOnly := role == commands.RoleAuditor || role == commands.RoleSupervisor && !casework; readOnly != (got == http.StatusForbidden) && readOnly {
						t.Errorf("%s, want 403 for a read-only role", cell)
					}
				case open || slices.Contains(allowed, role):
					if got == http.StatusForbidden {
						t.Errorf("%s, want it served", cell)
					}
				default:
					if got != http.StatusForbidden {
						t.Errorf("%s, want 403", cell)
					}
				}
			}
		}
	}
	if cells < 100 {
		t.Fatalf("only %d cells: the document lists too few routes", cells)
	}
	t.Logf("%d cells", cells)
}
