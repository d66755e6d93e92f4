package main

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/grassroots-ledger/ledger/infra/httpapi"
	"github.com/grassroots-ledger/ledger/infra/supervision"
)

// TestEveryAPIRouteIsDocumented: the document serve publishes at /api/v1/openapi.json describes every
// /api/v1 route it serves — the commands, the public API, and the auditors' and supervisors' plain
// routes (streams, attachments) — and every documented route answers (not the catch-all 404). A route
// mounted on a mux other than through httpapi.Mount would be missing: TestNoRouteBypassesTheKit guards
// that.
func TestEveryAPIRouteIsDocumented(t *testing.T) {
	db := onEmbeddedNode(t)
	srv := startServe(t, db)
	resp, err := http.Get(srv.Base + httpapi.OpenAPIPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	routes := append(append([]httpapi.Route{}, httpapi.AuditorRoutes...), supervision.Routes...)
	for _, rt := range routes {
		if _, ok := doc.Paths[rt.Path][strings.ToLower(rt.Method)]; !ok {
			t.Errorf("%s is served but not in %s", rt.Pattern(), httpapi.OpenAPIPath)
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			req, _ := http.NewRequest(strings.ToUpper(method), srv.Base+strings.NewReplacer("{id}", "x", "{name}", "note", "{position}", "1").Replace(path), nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			var p httpapi.Problem
			_ = json.NewDecoder(resp.Body).Decode(&p)
			resp.Body.Close()
			if resp.StatusCode == http.StatusNotFound && strings.HasPrefix(p.Detail, "没有这个接口") || resp.StatusCode == http.StatusMethodNotAllowed {
				t.Errorf("%s %s is documented but not served: %d %s", strings.ToUpper(method), path, resp.StatusCode, p.Code)
			}
		}
	}
}

// TestNoRouteBypassesTheKit walks the source: every route mounted on a ServeMux under /api/v1 goes
// through httpapi.Mount (which documents it) — no Handle or HandleFunc call names an /api/v1 path or a
// *Path constant, but for the command API's catch-all 404.
func TestNoRouteBypassesTheKit(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == ".ledger") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc" {
				return true
			}
			arg := call.Args[0]
			text := ""
			ast.Inspect(arg, func(m ast.Node) bool {
				switch m := m.(type) {
				case *ast.BasicLit:
					s, _ := strconv.Unquote(m.Value)
					text += s
				case *ast.Ident:
					text += " " + m.Name
				}
				return true
			})
			if text == "/api/v1/" { // the command API's catch-all: a problem+json 404 for unknown routes
				return true
			}
			if strings.Contains(text, "/api/v1") || strings.HasSuffix(strings.Fields(text + " x")[len(strings.Fields(text+" x"))-2], "Path") {
				t.Errorf("%s: a route mounted around httpapi.Mount (%q): it would be missing from the OpenAPI document", fset.Position(call.Pos()), text)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
