package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ServerURL is the PostgreSQL server the tests create their databases on (DATABASE_URL); the test fails
// without it, saying how to get one.
func ServerURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("DATABASE_URL")
	if u == "" {
		tb.Fatal("DATABASE_URL is not set: these tests need PostgreSQL. Run `make test` (it starts a throwaway cluster), " +
			"or `bash scripts/with-pg.sh go test ./...`, or set DATABASE_URL=postgres://user@host:port/db?sslmode=disable " +
			"for a role that may CREATE DATABASE")
	}
	return u
}

// NewDatabase creates a database of the test's own on DATABASE_URL's server, drops it when the test ends,
// and returns its connection string.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	return NewDatabaseOn(tb, ServerURL(tb))
}

// NewDatabaseOn is NewDatabase on the server at server (a Cluster's URL, say).
func NewDatabaseOn(tb testing.TB, server string) string {
	tb.Helper()
	ctx := context.Background()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "ledgertest_" + hex.EncodeToString(b[:])
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		tb.Fatalf("connect to the PostgreSQL server: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := pgx.Connect(ctx, server)
		if err != nil {
			return // the server is gone (a test's own cluster): nothing to drop
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Logf("drop database %s: %v", name, err)
		}
	})
	return WithDatabase(tb, server, name)
}

// NewPool is a pool of up to 16 connections on a NewDatabase, closed when the test ends.
func NewPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(NewDatabase(tb))
	if err != nil {
		tb.Fatal(err)
	}
	cfg.MaxConns = 16
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// WithDatabase returns the connection string server with its database replaced by name (URL or
// key=value form).
func WithDatabase(tb testing.TB, server, name string) string {
	tb.Helper()
	if !strings.Contains(server, "://") {
		return server + " dbname=" + name
	}
	u, err := url.Parse(server)
	if err != nil {
		tb.Fatalf("the PostgreSQL server's URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}
