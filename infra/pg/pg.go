// Package pg connects the ledger to PostgreSQL, where the read models live.
package pg

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Config says how to reach the read-model database.
type Config struct {
	// URL is a PostgreSQL connection string (postgres://user@host:port/db?sslmode=disable).
	URL string
	// MaxConns caps the pool; 0 means pgxpool's default (max(4, cores)).
	MaxConns int32
	// MinConns are opened at once and kept open (0: connections open on first use).
	MinConns int32
	// ConnectTimeout bounds the first connection and ping.
	ConnectTimeout time.Duration
}

func (c *Config) setDefaults() {
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = 10 * time.Second
	}
}

// Validate reports a configuration that cannot work, naming the setting.
func (c Config) Validate() error {
	if c.URL == "" {
		return errors.New("DATABASE_URL is not set: point it at a PostgreSQL database (make run starts a local one)")
	}
	return nil
}

// Connect opens a pool and checks that the database answers. The error never contains the password.
func Connect(ctx context.Context, cfg Config) (*pgxpool.Pool, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL is not a valid PostgreSQL connection string (%s)", redact(cfg.URL))
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	}
	pc.MinConns = min(cfg.MinConns, pc.MaxConns)
	ctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL at %s: %w", redact(cfg.URL), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL at %s: %w (is it running? make run starts one)", redact(cfg.URL), err)
	}
	return pool, nil
}

// redact removes the password from a connection URL for messages and logs.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if err != nil {
			return "(unparseable)"
		}
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Redact is redact for callers that print a connection URL.
func Redact(raw string) string { return redact(raw) }
