package auth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/infra/auth"
	"github.com/grassroots-ledger/ledger/infra/httpapi/apitest"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"
)

const scope = "33/3303/330303/330303001/330303001001"

func openStore(t *testing.T) (*auth.Store, *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	pool, err := pg.Connect(ctx, pg.Config{URL: apitest.NewDatabase(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	// Several processes starting at once apply the migration once.
	var wg sync.WaitGroup
	errs := make([]error, 3)
	stores := make([]*auth.Store, 3)
	for i := range errs {
		wg.Go(func() { stores[i], errs[i] = auth.Open(ctx, pool) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return stores[0], pool
}

func newToken(role commands.Role) auth.NewToken {
	return auth.NewToken{Subject: "张三的账号", Role: role, Scope: scope, CreatedBy: "operator"}
}

func TestTokenLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := openStore(t)

	secret, tok, err := s.Create(ctx, newToken(commands.RoleClerk))
	if err != nil {
		t.Fatal(err)
	}
	enc, ok := strings.CutPrefix(secret, "lg_")
	raw, derr := base64.RawURLEncoding.DecodeString(enc)
	if !ok || derr != nil || len(raw) != 32 {
		t.Fatalf("secret %q is not lg_ + base64url of 32 bytes", secret)
	}
	if tok.ID == "" || tok.Subject != "张三的账号" || tok.Role != commands.RoleClerk || tok.Scope != scope || tok.CreatedBy != "operator" ||
		tok.CreatedAt.IsZero() || tok.RevokedAt != nil {
		t.Fatalf("token %+v", tok)
	}

	got, err := s.Authenticate(ctx, secret)
	if err != nil || got.ID != tok.ID {
		t.Fatalf("authenticate: %+v, %v", got, err)
	}
	if a := got.Actor(); a != (commands.Actor{Subject: "张三的账号", Role: commands.RoleClerk, Scope: scope}) {
		t.Fatalf("actor %+v", a)
	}

	// Only the SHA-256 of the random bytes is stored; the secret is nowhere in the table.
	var hash []byte
	var row string
	if err := pool.QueryRow(ctx, "SELECT hash, t::text FROM auth.tokens t WHERE id = $1", tok.ID).Scan(&hash, &row); err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(raw); string(hash) != string(sum[:]) || strings.Contains(row, enc) {
		t.Fatal("the table does not hold exactly the SHA-256 of the secret")
	}

	other, _, err := s.Create(ctx, newToken(commands.RoleAuditor))
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 2 || list[0].ID != tok.ID || list[1].Role != commands.RoleAuditor {
		t.Fatalf("list: %+v, %v", list, err)
	}

	revoked, err := s.Revoke(ctx, tok.ID)
	if err != nil || revoked.RevokedAt == nil {
		t.Fatalf("revoke: %+v, %v", revoked, err)
	}
	again, err := s.Revoke(ctx, tok.ID)
	if err != nil || !again.RevokedAt.Equal(*revoked.RevokedAt) {
		t.Fatalf("revoking twice keeps the first time: %+v, %v", again, err)
	}
	if _, err := s.Authenticate(ctx, secret); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("revoked token: %v", err)
	}
	if _, err := s.Authenticate(ctx, other); err != nil {
		t.Fatalf("the other token still works: %v", err)
	}
	for _, id := range []string{"nope", "0190f7a2-0000-7000-8000-000000000000"} {
		if _, err := s.Revoke(ctx, id); !errors.Is(err, auth.ErrTokenNotFound) {
			t.Fatalf("revoke %s: %v", id, err)
		}
	}
}

func TestMalformedSecretsAreUnauthenticated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openStore(t)
	secret, _, err := s.Create(ctx, newToken(commands.RoleClerk))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "lg_", secret[3:], "LG_" + secret[3:], secret + "A", secret[:len(secret)-1],
		"lg_" + strings.Repeat("!", 43), "lg_" + base64.RawURLEncoding.EncodeToString(make([]byte, 32))} {
		if _, err := s.Authenticate(ctx, bad); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestNewTokenIsValidated(t *testing.T) {
	t.Parallel()
	ok := newToken(commands.RoleClerk)
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	everywhere := ok
	everywhere.Scope = "*"
	if err := everywhere.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*auth.NewToken){
		"no subject":      func(n *auth.NewToken) { n.Subject = " " },
		"control char":    func(n *auth.NewToken) { n.Subject = "a\nb" },
		"bidi override":   func(n *auth.NewToken) { n.Subject = "区审计局\u202e员人" },
		"zero-width only": func(n *auth.NewToken) { n.Subject = "\u200b\u200b" },
		"C1 control":      func(n *auth.NewToken) { n.CreatedBy = "cli:\u0085root" },
		"unknown role":    func(n *auth.NewToken) { n.Role = "mayor" },
		"empty scope":     func(n *auth.NewToken) { n.Scope = "" },
		"bad scope":       func(n *auth.NewToken) { n.Scope = "33//3303" },
		"no creator":      func(n *auth.NewToken) { n.CreatedBy = "" },
		"subject too big": func(n *auth.NewToken) { n.Subject = strings.Repeat("账", 201) },
	} {
		n := ok
		mutate(&n)
		if err := n.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestTokensOutlastAPostgresRestart: while PostgreSQL is down (crashed, on a cluster of the test's own),
// a token verified within the last minute is still taken, so clerks go on recording; an unknown one is
// not, and neither is a remembered one after a minute; once PostgreSQL is back a revocation counts at once.
func TestTokensOutlastAPostgresRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := pgtest.New(t)
	pool, err := pg.Connect(ctx, pg.Config{URL: c.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s, err := auth.Open(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	secret, tok, err := s.Create(ctx, newToken(commands.RoleClerk))
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := s.Create(ctx, newToken(commands.RoleClerk))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, secret); err != nil {
		t.Fatal(err)
	}

	c.Crash()
	now = now.Add(50 * time.Second)
	if got, err := s.Authenticate(ctx, secret); err != nil || got.ID != tok.ID {
		t.Fatalf("a token verified 50 s ago, PostgreSQL down: %+v, %v", got, err)
	}
	if _, err := s.Authenticate(ctx, other); err == nil || errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("a token never verified, PostgreSQL down: %v; want the store's error", err)
	}
	now = now.Add(20 * time.Second)
	if _, err := s.Authenticate(ctx, secret); err == nil {
		t.Fatal("a token verified 70 s ago was taken while PostgreSQL is down")
	}

	c.Start()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err = s.Authenticate(ctx, secret); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("after the restart: %v", err)
	}
	if _, err := s.Revoke(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, secret); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("a revoked token: %v", err)
	}
	c.Crash()
	if _, err := s.Authenticate(ctx, secret); err == nil {
		t.Fatal("a token revoked through the store was taken during an outage")
	}
}
