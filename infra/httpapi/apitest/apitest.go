// Package apitest starts the command API for tests the way `ledger serve` runs it: the real embedded
// EventStoreDB-protocol node reached through the real client adapter, a PostgreSQL database of the test's
// own (on DATABASE_URL's server) holding the tokens, and an httptest server on loopback. It mints tokens
// by role and scope, posts commands, and tells whether anything was appended to $all.
//
//	srv := apitest.Start(t, apitest.Config{Register: func(s *apitest.Server) {
//		h := commands.NewHandlers(s.Executor, nil)
//		httpapi.RegisterCommand(s.Commands, "approve-expenditure", "Approve an expenditure", h.ApproveExpenditure)
//	}})
//	clerk := srv.Token(t, commands.RoleClerk, "33/3303/330303/330303001/330303001001")
//	before := srv.Head(t)
//	resp := srv.Post(t, "approve-expenditure", clerk, "key-1", body)
//	resp.WantProblem(t, 422, "major-spending-needs-resolution")
//	srv.WantNothingAppended(t, before)
//
// Tests fail, not skip, when DATABASE_URL is unset: `make test` always provides it.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/events"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/infra/auth"
	"github.com/grassroots-ledger/ledger/infra/esdbnode"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
	"github.com/grassroots-ledger/ledger/infra/httpapi"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"
)

// Config says what the test server runs. The zero value serves no command.
type Config struct {
	// Register adds the commands under test to s.Commands; s.Executor, s.Store, s.Tokens and s.Pool are
	// ready, s.URL is not yet.
	Register func(s *Server)
	// Clock drives the executor; default commands.SystemClock{}.
	Clock commands.Clock
	// Registry decodes and checks events; default events.MustRegistry() (every domain event).
	Registry *kernel.Registry
	// Logger receives the server's logs; default: discarded unless APITEST_LOG is set.
	Logger *slog.Logger
}

// Server is a running command API.
type Server struct {
	// URL is the base URL, "http://127.0.0.1:<port>".
	URL string
	// DatabaseURL is the connection string of the test's own database (tokens live in schema auth).
	DatabaseURL string
	Pool        *pgxpool.Pool
	Store       *eventstore.Store
	Executor    *commands.Executor
	Tokens      *auth.Store
	Commands    *httpapi.Commands
	// Mux is the server's mux, for tests that mount more routes.
	Mux *http.ServeMux
}

// Start starts a server for the test and stops it when the test ends.
func Start(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	ctx := context.Background()
	if cfg.Logger == nil {
		cfg.Logger = Logger()
	}
	if cfg.Clock == nil {
		cfg.Clock = commands.SystemClock{}
	}
	if cfg.Registry == nil {
		cfg.Registry = events.MustRegistry()
	}
	dbURL := NewDatabase(tb)
	pool, err := pg.Connect(ctx, pg.Config{URL: dbURL, MaxConns: 8})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	tokens, err := auth.Open(ctx, pool)
	if err != nil {
		tb.Fatal(err)
	}
	node, err := esdbnode.Open(ctx, esdbnode.Config{Dir: tb.TempDir(), Listen: "127.0.0.1:0", Logger: cfg.Logger})
	if err != nil {
		tb.Fatalf("open embedded node: %v", err)
	}
	tb.Cleanup(func() { _ = node.Close() })
	store, err := eventstore.Dial(ctx, eventstore.Config{URL: node.URL(), Logger: cfg.Logger})
	if err != nil {
		tb.Fatalf("dial embedded node: %v", err)
	}
	tb.Cleanup(func() { _ = store.Close() })
	x := commands.NewExecutor(store, cfg.Clock, cfg.Registry, cfg.Logger)
	mux := http.NewServeMux()
	cmds, err := httpapi.New(httpapi.Config{Mux: mux, Tokens: tokens, Logger: cfg.Logger})
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{DatabaseURL: dbURL, Pool: pool, Store: store, Executor: x, Tokens: tokens, Commands: cmds, Mux: mux}
	if cfg.Register != nil {
		cfg.Register(s)
	}
	hs := httptest.NewServer(mux)
	tb.Cleanup(hs.Close)
	s.URL = hs.URL
	return s
}

// Logger discards logs unless the environment variable APITEST_LOG is set (then: debug to stderr).
func Logger() *slog.Logger {
	if os.Getenv("APITEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// DatabaseURL is the PostgreSQL server the tests create their databases on; the test fails without it.
func DatabaseURL(tb testing.TB) string { tb.Helper(); return pgtest.ServerURL(tb) }

// NewDatabase creates a database of the test's own on DATABASE_URL's server, drops it when the test ends,
// and returns its connection string.
func NewDatabase(tb testing.TB) string { tb.Helper(); return pgtest.NewDatabase(tb) }

// Token mints a token for role under scope (a jurisdiction path, or "*") and returns its secret.
func (s *Server) Token(tb testing.TB, role commands.Role, scope string) string {
	tb.Helper()
	secret, _, err := s.Tokens.Create(context.Background(), auth.NewToken{
		Subject: "test-" + string(role), Role: role, Scope: scope, CreatedBy: "apitest",
	})
	if err != nil {
		tb.Fatal(err)
	}
	return secret
}

// Response is an answer of the server, read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Post posts body to the command name with token (none when "") and Idempotency-Key key (none when "").
// A body of type []byte, string or json.RawMessage is sent as is; anything else is marshalled to JSON.
func (s *Server) Post(tb testing.TB, name, token, key string, body any) Response {
	tb.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		h.Set("Idempotency-Key", key)
	}
	return s.Do(tb, http.MethodPost, httpapi.CommandPathPrefix+name, h, body)
}

// Do sends a request to path with the headers and body (as Post) and reads the answer.
func (s *Server) Do(tb testing.TB, method, path string, h http.Header, body any) Response {
	tb.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	case string:
		raw = []byte(b)
	case json.RawMessage:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(body); err != nil {
			tb.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(raw))
	if err != nil {
		tb.Fatal(err)
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	if req.Header.Get("Content-Type") == "" && raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read answer: %v", method, path, err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: out}
}

// Result decodes a 200 answer's commands.Result, failing the test on any other answer.
func (r Response) Result(tb testing.TB) commands.Result {
	tb.Helper()
	if r.Status != http.StatusOK {
		tb.Fatalf("want 200 with a Result, got %d: %s", r.Status, r.Body)
	}
	var res commands.Result
	if err := json.Unmarshal(r.Body, &res); err != nil {
		tb.Fatalf("decode Result: %v: %s", err, r.Body)
	}
	return res
}

// Problem decodes an error answer, failing the test unless it is application/problem+json whose status
// member matches the HTTP status.
func (r Response) Problem(tb testing.TB) httpapi.Problem {
	tb.Helper()
	if ct := r.Header.Get("Content-Type"); ct != httpapi.ProblemContentType {
		tb.Fatalf("want Content-Type %s, got %q (status %d): %s", httpapi.ProblemContentType, ct, r.Status, r.Body)
	}
	var p httpapi.Problem
	if err := json.Unmarshal(r.Body, &p); err != nil {
		tb.Fatalf("decode problem: %v: %s", err, r.Body)
	}
	if p.Status != r.Status {
		tb.Fatalf("problem status %d differs from HTTP status %d: %s", p.Status, r.Status, r.Body)
	}
	return p
}

// WantProblem fails the test unless the answer is a problem with this status and code ("" for any code).
func (r Response) WantProblem(tb testing.TB, status int, code string) httpapi.Problem {
	tb.Helper()
	if r.Status != status {
		tb.Fatalf("want status %d, got %d: %s", status, r.Status, r.Body)
	}
	p := r.Problem(tb)
	if code != "" && p.Code != code {
		tb.Fatalf("want code %q, got %q: %s", code, p.Code, r.Body)
	}
	return p
}

// Head is how far $all reached: the number of events and the position of the last one.
type Head struct {
	Count int
	Last  eventlog.Position
}

// Head reads $all to its end.
func (s *Server) Head(tb testing.TB) Head {
	tb.Helper()
	var h Head
	err := s.Store.ReadAll(context.Background(), eventlog.Start, 0, func(r eventlog.Recorded) error {
		h.Count++
		h.Last = r.Position
		return nil
	})
	if err != nil {
		tb.Fatalf("read $all: %v", err)
	}
	return h
}

// WantNothingAppended fails the test if $all moved since before.
func (s *Server) WantNothingAppended(tb testing.TB, before Head) {
	tb.Helper()
	if now := s.Head(tb); now != before {
		tb.Fatalf("events were appended: $all was %+v, is %+v", before, now)
	}
}
