package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/infra/auth"
	"github.com/grassroots-ledger/ledger/infra/httpapi"
	"github.com/grassroots-ledger/ledger/infra/httpapi/apitest"
)

// runCLI runs the ledger command line in-process, as main does, and returns what it printed.
func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err = root.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

func startLedger(t *testing.T) *apitest.Server {
	t.Helper()
	return apitest.Start(t, apitest.Config{Register: func(s *apitest.Server) {
		httpapi.RegisterCatalogue(s.Commands, commands.NewHandlers(s.Executor, apitest.Logger()))
	}})
}

var keyLine = regexp.MustCompile(`idempotency key (\S+)`)

func TestRecordPostsACommandAndARetryWithItsKeyRecordsNothingNew(t *testing.T) {
	srv := startLedger(t)
	admin := srv.Token(t, commands.RoleAdmin, "*")
	file := filepath.Join(t.TempDir(), "province.json")
	if err := os.WriteFile(file, []byte(`{"path":"33","name":"浙江省"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runCLI(t, "", "record", "register-jurisdiction", file, "--server", srv.URL, "--token", admin)
	if err != nil {
		t.Fatalf("record: %v\n%s", err, errOut)
	}
	var first commands.Result
	if err := json.Unmarshal([]byte(out), &first); err != nil || first.Stream != "jurisdiction-33-node" || first.Replayed || len(first.Events) != 1 {
		t.Fatalf("printed %q (%v)", out, err)
	}
	m := keyLine.FindStringSubmatch(errOut)
	if m == nil {
		t.Fatalf("no idempotency key on stderr: %q", errOut)
	}
	head := srv.Head(t)

	// The clerk's retry, body from standard input, with the printed key.
	if _, _, err := runCLI(t, "{}", "record", "register-jurisdiction", "-", "--file", file, "--server", srv.URL, "--token", admin); err == nil {
		t.Fatal("the body given twice must be a usage error")
	}
	out, errOut, err = runCLI(t, `{"path":"33","name":"浙江省"}`, "record", "register-jurisdiction", "-", "--server", srv.URL,
		"--token", admin, "--idempotency-key", m[1])
	if err != nil {
		t.Fatalf("retry: %v\n%s", err, errOut)
	}
	var again commands.Result
	if err := json.Unmarshal([]byte(out), &again); err != nil || !again.Replayed || again.Events[0] != first.Events[0] {
		t.Fatalf("retry printed %q (%v)", out, err)
	}
	if strings.Contains(errOut, "idempotency key") {
		t.Fatalf("a given key is not announced again: %q", errOut)
	}
	srv.WantNothingAppended(t, head)
}

func TestRecordPrintsTheProblemAndFails(t *testing.T) {
	srv := startLedger(t)
	clerk := srv.Token(t, commands.RoleClerk, "33/3303/330303/330303001/330303001001")
	admin := srv.Token(t, commands.RoleAdmin, "*")
	for _, c := range []struct {
		name, token, body string
		want              []string
	}{
		{"unknown field", admin, `{"path":"33","name":"浙江省","nmae":"x"}`, []string{"未知字段 nmae", "code unknown-field", "status 400", "field nmae"}},
		{"malformed", admin, `{"path":"33",`, []string{"JSON", "code malformed-json", "field path"}},
		{"role", clerk, `{"path":"33","name":"浙江省"}`, []string{"角色 clerk", "code role-not-allowed", "status 403"}},
		{"bad token", "lg_nope", `{"path":"33","name":"浙江省"}`, []string{"code unauthenticated", "status 401", "LEDGER_TOKEN"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := srv.Head(t)
			out, _, err := runCLI(t, c.body, "record", "register-jurisdiction", "--server", srv.URL, "--token", c.token)
			if err == nil || out != "" {
				t.Fatalf("want an error and no result, got %q, %v", out, err)
			}
			var ue usageError
			if errors.As(err, &ue) {
				t.Fatalf("a refusal is not a usage error (exit 1, not 2): %v", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q lacks %q", err, w)
				}
			}
			srv.WantNothingAppended(t, before)
		})
	}
}

func TestRecordTakesServerAndTokenFromTheEnvironment(t *testing.T) {
	srv := startLedger(t)
	t.Setenv("LEDGER_URL", srv.URL+"/")
	t.Setenv("LEDGER_TOKEN", srv.Token(t, commands.RoleAdmin, "*"))
	if out, errOut, err := runCLI(t, `{"path":"44","name":"广东省"}`, "record", "register-jurisdiction", "--file", "-"); err != nil || !strings.Contains(out, `"jurisdiction-44-node"`) {
		t.Fatalf("%q %q %v", out, errOut, err)
	}
	t.Setenv("LEDGER_TOKEN", "")
	_, _, err := runCLI(t, `{}`, "record", "register-jurisdiction")
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "LEDGER_TOKEN") {
		t.Fatalf("no token: %v", err)
	}
	if _, _, err := runCLI(t, "", "record"); !errors.As(err, &ue) {
		t.Fatalf("no name: %v", err)
	}
}

func TestRecordListShowsTheServersCommands(t *testing.T) {
	srv := startLedger(t)
	out, errOut, err := runCLI(t, "", "record", "--list", "--server", srv.URL)
	if err != nil {
		t.Fatalf("%v %s", err, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	names := httpapi.CommandNames(srv.Commands)
	if len(lines) != len(names) {
		t.Fatalf("%d lines for %d commands:\n%s", len(lines), len(names), out)
	}
	for i, name := range names {
		if !strings.HasPrefix(lines[i], name+" ") {
			t.Fatalf("line %d %q, want %s", i, lines[i], name)
		}
	}
	if !strings.Contains(out, "approve-expenditure") || !strings.Contains(out, "Approve an expenditure (审批支出)") {
		t.Fatalf("summaries missing:\n%s", out)
	}
}

func TestTokenCreateListRevoke(t *testing.T) {
	srv := startLedger(t)
	db := srv.DatabaseURL
	const scope = "33/3303/330303/330303001/330303001001"
	out, errOut, err := runCLI(t, "", "token", "create", "--role", "clerk", "--scope", scope, "--subject", "张三的账号", "--database-url", db)
	if err != nil {
		t.Fatalf("%v %s", err, errOut)
	}
	secret := strings.TrimSpace(out)
	if !strings.HasPrefix(secret, auth.Prefix) || strings.Contains(secret, "\n") || !strings.Contains(errOut, "only this once") {
		t.Fatalf("stdout %q stderr %q", out, errOut)
	}
	tok, err := srv.Tokens.Authenticate(context.Background(), secret)
	if err != nil || tok.Role != commands.RoleClerk || tok.Scope != scope || tok.Subject != "张三的账号" || !strings.HasPrefix(tok.CreatedBy, "cli:") {
		t.Fatalf("created %+v, %v", tok, err)
	}
	// The server accepts it: a clerk out of its scope is refused, not unauthenticated.
	resp := srv.Post(t, "register-jurisdiction", secret, "k", map[string]any{"path": "33", "name": "浙江省"})
	resp.WantProblem(t, 403, "")

	out, _, err = runCLI(t, "", "token", "list", "--database-url", db)
	if err != nil || !strings.Contains(out, tok.ID) || !strings.Contains(out, "clerk") || strings.Contains(out, secret[3:]) {
		t.Fatalf("list %q, %v", out, err)
	}
	out, _, err = runCLI(t, "", "token", "revoke", tok.ID, "--database-url", db)
	if err != nil || !strings.Contains(out, "revoked token "+tok.ID) {
		t.Fatalf("revoke %q, %v", out, err)
	}
	srv.Post(t, "register-jurisdiction", secret, "k2", map[string]any{"path": "33", "name": "浙江省"}).WantProblem(t, 401, httpapi.CodeUnauthenticated)

	var ue usageError
	for _, args := range [][]string{
		{"token", "create", "--role", "mayor", "--scope", scope, "--subject", "x", "--database-url", db},
		{"token", "create", "--role", "clerk", "--scope", "33//01", "--subject", "x", "--database-url", db},
		{"token", "revoke", "--database-url", db},
	} {
		if _, _, err := runCLI(t, "", args...); !errors.As(err, &ue) {
			t.Errorf("%v: want a usage error, got %v", args, err)
		}
	}
	if _, _, err := runCLI(t, "", "token", "revoke", "not-an-id", "--database-url", db); !errors.Is(err, auth.ErrTokenNotFound) {
		t.Errorf("revoke unknown id: %v", err)
	}
}

// TestRecordSaysWhichRulesTheFactBreaks: a payment of a major expenditure without a resolution is
// recorded (it is a fact), and both the API's answer and `ledger record` say at once which watch rule it
// breaks, with the rule's code and sentence.
func TestRecordSaysWhichRulesTheFactBreaks(t *testing.T) {
	srv := startLedger(t)
	admin := srv.Token(t, commands.RoleAdmin, "*")
	for _, p := range []string{"33", "33/3303", "33/3303/330303", "33/3303/330303/330303001"} {
		srv.Post(t, "register-jurisdiction", admin, "j-"+strings.ReplaceAll(p, "/", "."), map[string]any{"path": p, "name": "辖区" + p}).Result(t)
	}
	srv.Post(t, "register-community", admin, "c-1", map[string]any{"community_id": "330303001001", "name": "罗西社区", "kind": "urban",
		"jurisdiction": "33/3303/330303/330303001/330303001001", "households": 1200, "adults": 3000}).Result(t)
	srv.Post(t, "request-expenditure", admin, "x-1", map[string]any{"community_id": "330303001001", "expenditure_id": "x-1", "fiscal_year": 2026,
		"category": "project", "kind": "other", "purpose": "村道硬化", "amount_fen": 8_000_000,
		"payee": map[string]any{"kind": "organisation", "organisation": "某工程公司"}}).Result(t)
	file := filepath.Join(t.TempDir(), "pay.json")
	if err := os.WriteFile(file, []byte(`{"community_id":"330303001001","expenditure_id":"x-1","voucher_no":"记-1"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runCLI(t, "", "record", "pay-expenditure", file, "--server", srv.URL, "--token", admin, "--idempotency-key", "pay-1")
	if err != nil {
		t.Fatalf("record: %v\n%s", err, errOut)
	}
	var res commands.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Breaches) != 1 || res.Breaches[0].Rule != "major-matter-resolution" || res.Breaches[0].Title == "" {
		t.Fatalf("printed %q (%v), want the major-matter breach", out, err)
	}
	if !strings.Contains(errOut, "major-matter-resolution") || !strings.Contains(errOut, res.Breaches[0].Title) {
		t.Fatalf("stderr does not name the breach: %q", errOut)
	}
	// A retry says it again.
	if again := srv.Post(t, "pay-expenditure", admin, "pay-1", `{"community_id":"330303001001","expenditure_id":"x-1","voucher_no":"记-1"}`).Result(t); !again.Replayed || len(again.Breaches) != 1 {
		t.Fatalf("the replayed answer: %+v", again)
	}
}
