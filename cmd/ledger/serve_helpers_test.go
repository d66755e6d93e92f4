package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/infra/auth"
	"github.com/grassroots-ledger/ledger/infra/httpapi/apitest"
	"github.com/grassroots-ledger/ledger/infra/pg"
)

// servedLedger is `ledger serve` run in-process on a database of the test's own.
type servedLedger struct {
	t    testing.TB
	Base string // http://host:port
	Out  *syncBuffer
	Log  *syncBuffer // what serve logged
	stop context.CancelFunc
	done chan error
	db   string
}

// onEmbeddedNode sets the environment of the ledger's commands under test: a fresh database (returned),
// and the embedded node (EVENTSTORE_URL unset).
func onEmbeddedNode(t *testing.T) string {
	t.Helper()
	db := apitest.NewDatabase(t)
	t.Setenv("DATABASE_URL", db)
	t.Setenv("EVENTSTORE_URL", "")
	return db
}

// startServe runs serve (DATABASE_URL and EVENTSTORE_URL as the test set them) until the test ends or
// Stop is called, and waits until it prints where it serves. extra are more flags for serve.
func startServe(t testing.TB, db string, extra ...string) *servedLedger {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	root := newRootCmd()
	s := &servedLedger{t: t, Out: &syncBuffer{}, Log: &syncBuffer{}, stop: cancel, done: make(chan error, 1), db: db}
	root.SetOut(s.Out)
	root.SetErr(s.Log)
	root.SetArgs(append([]string{"serve", "--data", t.TempDir(), "--http", "127.0.0.1:0"}, extra...))
	go func() { s.done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() { s.Stop(20 * time.Second) })
	for deadline := time.Now().Add(30 * time.Second); s.Base == ""; time.Sleep(20 * time.Millisecond) {
		if m := metricsLine.FindStringSubmatch(s.Out.String()); m != nil {
			s.Base = m[1]
			break
		}
		select {
		case err := <-s.done:
			t.Fatalf("serve stopped: %v\n%s", err, s.Out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", s.Out.String())
		}
	}
	return s
}

// Stop signals serve and reports whether it stopped within d.
func (s *servedLedger) Stop(d time.Duration) bool {
	s.stop()
	select {
	case <-s.done:
		s.done <- nil // a later Stop returns at once
		return true
	case <-time.After(d):
		s.t.Errorf("serve did not stop within %s", d)
		return false
	}
}

// Token mints a token on serve's database.
func (s *servedLedger) Token(role commands.Role, scope string) string {
	s.t.Helper()
	ctx := context.Background()
	pool, err := pg.Connect(ctx, pg.Config{URL: s.db, MaxConns: 1})
	if err != nil {
		s.t.Fatal(err)
	}
	defer pool.Close()
	tokens, err := auth.Open(ctx, pool)
	if err != nil {
		s.t.Fatal(err)
	}
	secret, _, err := tokens.Create(ctx, auth.NewToken{Subject: "test-" + string(role), Role: role, Scope: scope, CreatedBy: "test"})
	if err != nil {
		s.t.Fatal(err)
	}
	return secret
}

// request sends method path to serve, with the bearer token and the Idempotency-Key when given and a
// JSON body when given, and returns the status, headers and body; an error when no answer came within
// 30 s.
func (s *servedLedger) request(method, path, token, key, body string) (int, http.Header, []byte, error) {
	req, err := http.NewRequest(method, s.Base+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

// Post sends a command and returns the status (0 when no answer came within 30 s).
func (s *servedLedger) Post(name, token, key, body string) int {
	st, _, _, _ := s.request(http.MethodPost, "/api/v1/commands/"+name, token, key, body)
	return st
}

// PostResult sends a command and decodes its result; any status but 200 fails the test.
func (s *servedLedger) PostResult(name, token, key, body string) commands.Result {
	s.t.Helper()
	st, _, b, err := s.request(http.MethodPost, "/api/v1/commands/"+name, token, key, body)
	if err != nil || st != http.StatusOK {
		s.t.Fatalf("%s: %d %s %v", name, st, b, err)
	}
	var res commands.Result
	if err := json.Unmarshal(b, &res); err != nil {
		s.t.Fatal(err)
	}
	return res
}

// Get fetches path from serve: its status, headers and body.
func (s *servedLedger) Get(path string) (int, http.Header, []byte) {
	s.t.Helper()
	st, h, b, err := s.request(http.MethodGet, path, "", "", "")
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	return st, h, b
}

// GetAs fetches path with token; any status but 200 fails the test.
func (s *servedLedger) GetAs(token, path string) []byte {
	s.t.Helper()
	st, _, b, err := s.request(http.MethodGet, path, token, "", "")
	if err != nil || st != http.StatusOK {
		s.t.Fatalf("GET %s: %d %s %v", path, st, b, err)
	}
	return b
}
