package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/infra/auth"
	"github.com/grassroots-ledger/ledger/infra/pg"
)

// servedLedger is `ledger serve` run in-process on a database of the test's own.
type servedLedger struct {
	t    *testing.T
	Base string // http://host:port
	Out  *syncBuffer
	stop context.CancelFunc
	done chan error
	db   string
}

// startServe runs serve (DATABASE_URL and EVENTSTORE_URL as the test set them) until the test ends or
// Stop is called, and waits until it prints where it serves. extra are more flags for serve.
func startServe(t *testing.T, db string, extra ...string) *servedLedger {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	root := newRootCmd()
	s := &servedLedger{t: t, Out: &syncBuffer{}, stop: cancel, done: make(chan error, 1), db: db}
	root.SetOut(s.Out)
	root.SetErr(io.Discard)
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

// Post sends a command and returns the status (0 when no answer came within 30 s).
func (s *servedLedger) Post(name, token, key, body string) int {
	req, _ := http.NewRequest(http.MethodPost, s.Base+"/api/v1/commands/"+name, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Get fetches path from serve: its status, headers and body.
func (s *servedLedger) Get(path string) (int, http.Header, []byte) {
	s.t.Helper()
	resp, err := http.Get(s.Base + path)
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}
