// Package auth keeps the ledger's API tokens and turns a presented bearer token into the commands.Actor
// the command side authorizes. A token is 32 random bytes shown once as "lg_<base64url>"; PostgreSQL
// (schema auth) keeps only its SHA-256 with the subject, role and jurisdiction scope it stands for, who
// created it and when, and when it was revoked. Losing the database therefore leaks no usable token, and a
// lost token cannot be shown again: revoke it and create another.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/infra/pg"
)

// Prefix starts every token, so a leaked token is recognisable (secret scanners, logs) and a token of
// another system is refused without a database round trip.
const Prefix = "lg_"

// secretLen is the number of random bytes of a token.
const secretLen = 32

// ErrUnauthenticated means the presented token is missing, malformed, unknown or revoked. The caller
// answers 401 and must not say which: the client needs a valid token either way.
var ErrUnauthenticated = errors.New("auth: missing, unknown or revoked token")

// ErrTokenNotFound means no token has the given id (ledger token list shows the ids).
var ErrTokenNotFound = errors.New("auth: no token with this id")

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Token describes a token; the secret itself is never stored or returned after creation.
type Token struct {
	ID        string        `json:"id"`
	Subject   string        `json:"subject"`
	Role      commands.Role `json:"role"`
	Scope     string        `json:"scope"`
	CreatedAt time.Time     `json:"created_at"`
	CreatedBy string        `json:"created_by"`
	RevokedAt *time.Time    `json:"revoked_at,omitempty"`
}

// Actor is who the token stands for.
func (t Token) Actor() commands.Actor {
	return commands.Actor{Subject: t.Subject, Role: t.Role, Scope: t.Scope}
}

// NewToken is what a new token stands for.
type NewToken struct {
	// Subject names the account: it is recorded as the actor of every event the token causes, so use an
	// account name, not a national ID number or a phone number.
	Subject string
	Role    commands.Role
	// Scope is the jurisdiction path the token may act under ("33/3303/330303/330303001/330303001001"),
	// or "*" for the whole country (auditors, national administrators).
	Scope string
	// CreatedBy says who minted the token (an operator account), for the audit of the token table.
	CreatedBy string
}

// Validate reports what is wrong with n, naming the setting.
func (n NewToken) Validate() error {
	var errs []error
	if err := checkText("subject", n.Subject, 200); err != nil {
		errs = append(errs, err)
	}
	if _, err := commands.ParseRole(string(n.Role)); err != nil {
		errs = append(errs, fmt.Errorf("role: %w", err))
	}
	if n.Scope != "*" {
		if err := kernel.JurisdictionPath(n.Scope).Validate("scope"); err != nil {
			errs = append(errs, fmt.Errorf("scope %q is not a jurisdiction path like 33/3303/330303 (or * for everywhere)", n.Scope))
		}
	}
	if err := checkText("created_by", n.CreatedBy, 200); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// checkText holds a token's names to the text rules of every door (kernel.CheckText, one line): they are
// recorded as the actor of every event the token causes.
func checkText(name, s string, max int) error {
	if kernel.Blank(s) {
		return fmt.Errorf("%s is required", name)
	}
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return fmt.Errorf("%s must be valid UTF-8 of at most %d characters", name, max)
	}
	switch f := kernel.CheckText(s, false); f.Kind {
	case kernel.TextOK:
		return nil
	case kernel.TextBidiOverride:
		return fmt.Errorf("%s must not contain a bidirectional override (U+%04X at character %d): it reads otherwise than it is stored", name, f.Rune, f.At)
	default:
		return fmt.Errorf("%s must not contain control characters (U+%04X at character %d)", name, f.Rune, f.At)
	}
}

// Store keeps tokens in PostgreSQL. It is safe for concurrent use.
//
// Every check asks the database, so a revocation counts at once. The tokens verified in the last
// RememberFor are remembered (at most RememberMax of them): when the database cannot answer — it is
// restarting —, a remembered token is taken, so clerks go on recording while PostgreSQL comes back. A
// token revoked just before an outage is thus honoured at most RememberFor later; one revoked through
// this Store, at once.
type Store struct {
	pool *pgxpool.Pool
	// RememberFor is how long a verified token is remembered for an outage. Default one minute.
	RememberFor time.Duration
	// RememberMax bounds the tokens remembered. Default 10000.
	RememberMax int
	// Now is the clock of the memory. Default time.Now.
	Now func() time.Time

	mu         sync.Mutex
	remembered map[[sha256.Size]byte]remembered
}

type remembered struct {
	t  Token
	at time.Time
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// remember keeps t as verified now, dropping the oldest memories when the memory is full.
func (s *Store) remember(sum [sha256.Size]byte, t Token) {
	max := s.RememberMax
	if max <= 0 {
		max = 10000
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.remembered == nil {
		s.remembered = map[[sha256.Size]byte]remembered{}
	}
	if _, ok := s.remembered[sum]; !ok && len(s.remembered) >= max {
		cutoff := s.now().Add(-s.rememberFor())
		for k, r := range s.remembered {
			if r.at.Before(cutoff) || len(s.remembered) >= max {
				delete(s.remembered, k)
			}
		}
	}
	s.remembered[sum] = remembered{t: t, at: s.now()}
}

func (s *Store) rememberFor() time.Duration {
	if s.RememberFor > 0 {
		return s.RememberFor
	}
	return time.Minute
}

// recall returns the token remembered for sum when it was verified within RememberFor.
func (s *Store) recall(sum [sha256.Size]byte) (Token, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.remembered[sum]
	if !ok || s.now().Sub(r.at) > s.rememberFor() {
		return Token{}, false
	}
	return r.t, true
}

// forget drops what is remembered of sum, or of the token with id.
func (s *Store) forget(sum *[sha256.Size]byte, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sum != nil {
		delete(s.remembered, *sum)
	}
	for k, r := range s.remembered {
		if id != "" && r.t.ID == id {
			delete(s.remembered, k)
		}
	}
}

// Open applies the token table's migrations (schema auth, idempotent, safe when several processes start
// at once) and returns the store.
func Open(ctx context.Context, pool *pgxpool.Pool) (*Store, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	if err := pg.Migrate(ctx, pool, "auth", "schema_migrations", sub); err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return &Store{pool: pool}, nil
}

// Create mints a token for n and returns its secret, to be shown once, with its description.
func (s *Store) Create(ctx context.Context, n NewToken) (secret string, t Token, err error) {
	if err := n.Validate(); err != nil {
		return "", Token{}, fmt.Errorf("auth: new token: %w", err)
	}
	var raw [secretLen]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", Token{}, fmt.Errorf("auth: random token: %w", err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return "", Token{}, fmt.Errorf("auth: token id: %w", err)
	}
	sum := sha256.Sum256(raw[:])
	t = Token{ID: id.String(), Subject: n.Subject, Role: n.Role, Scope: n.Scope, CreatedBy: n.CreatedBy}
	err = s.pool.QueryRow(ctx,
		`INSERT INTO auth.tokens (id, hash, subject, role, scope, created_by) VALUES ($1, $2, $3, $4, $5, $6)
		 RETURNING created_at`, id, sum[:], n.Subject, string(n.Role), n.Scope, n.CreatedBy).Scan(&t.CreatedAt)
	if err != nil {
		return "", Token{}, fmt.Errorf("auth: store token: %w", err)
	}
	t.CreatedAt = t.CreatedAt.UTC()
	return Prefix + base64.RawURLEncoding.EncodeToString(raw[:]), t, nil
}

// List returns every token, revoked ones included, oldest first.
func (s *Store) List(ctx context.Context) ([]Token, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+columns+` FROM auth.tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("auth: list tokens: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanToken)
	if err != nil {
		return nil, fmt.Errorf("auth: list tokens: %w", err)
	}
	return out, nil
}

// Revoke revokes the token with the given id from now on and returns it. Revoking a revoked token is not
// an error and keeps the first revocation time.
func (s *Store) Revoke(ctx context.Context, id string) (Token, error) {
	uid, err := uuid.Parse(id)
	if err != nil {
		return Token{}, fmt.Errorf("%w: %q is not a token id (ledger token list shows them)", ErrTokenNotFound, id)
	}
	rows, err := s.pool.Query(ctx, `UPDATE auth.tokens SET revoked_at = coalesce(revoked_at, now())
		WHERE id = $1 RETURNING `+columns, uid)
	if err != nil {
		return Token{}, fmt.Errorf("auth: revoke token %s: %w", id, err)
	}
	t, err := pgx.CollectExactlyOneRow(rows, scanToken)
	if errors.Is(err, pgx.ErrNoRows) {
		return Token{}, fmt.Errorf("%w: %s", ErrTokenNotFound, id)
	}
	if err != nil {
		return Token{}, fmt.Errorf("auth: revoke token %s: %w", id, err)
	}
	s.forget(nil, t.ID)
	return t, nil
}

// Authenticate returns the token a presented secret ("lg_…") belongs to. A malformed, unknown or revoked
// secret is ErrUnauthenticated; any other error means the store could not answer.
func (s *Store) Authenticate(ctx context.Context, secret string) (Token, error) {
	sum, ok := digest(secret)
	if !ok {
		return Token{}, ErrUnauthenticated
	}
	t, err := s.lookup(ctx, sum)
	switch {
	case errors.Is(err, pgx.ErrNoRows) || err == nil && t.RevokedAt != nil:
		s.forget(&sum, "")
		return Token{}, ErrUnauthenticated
	case err != nil:
		if ctx.Err() == nil {
			if t, ok := s.recall(sum); ok {
				return t, nil // the database cannot answer: a token verified a moment ago
			}
		}
		return Token{}, fmt.Errorf("auth: look up token: %w", err)
	}
	s.remember(sum, t)
	return t, nil
}

func (s *Store) lookup(ctx context.Context, sum [sha256.Size]byte) (Token, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+columns+` FROM auth.tokens WHERE hash = $1`, sum[:])
	if err != nil {
		return Token{}, err
	}
	return pgx.CollectExactlyOneRow(rows, scanToken)
}

// digest checks the form of a presented secret and returns the SHA-256 of its random bytes. Strict
// base64 keeps one spelling per token.
func digest(secret string) ([sha256.Size]byte, bool) {
	enc, ok := strings.CutPrefix(secret, Prefix)
	if !ok || len(enc) != base64.RawURLEncoding.EncodedLen(secretLen) {
		return [sha256.Size]byte{}, false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(enc)
	if err != nil || len(raw) != secretLen {
		return [sha256.Size]byte{}, false
	}
	return sha256.Sum256(raw), true
}

const columns = `id::text, subject, role, scope, created_at, created_by, revoked_at`

func scanToken(row pgx.CollectableRow) (Token, error) {
	var t Token
	var role string
	if err := row.Scan(&t.ID, &t.Subject, &role, &t.Scope, &t.CreatedAt, &t.CreatedBy, &t.RevokedAt); err != nil {
		return Token{}, err
	}
	t.Role = commands.Role(role)
	t.CreatedAt = t.CreatedAt.UTC()
	if t.RevokedAt != nil {
		r := t.RevokedAt.UTC()
		t.RevokedAt = &r
	}
	return t, nil
}

type actorKey struct{}

// WithActor returns ctx carrying the authenticated actor.
func WithActor(ctx context.Context, a commands.Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the authenticated actor ctx carries, if any.
func ActorFrom(ctx context.Context) (commands.Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(commands.Actor)
	return a, ok
}
