package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/infra/httpapi"
	"github.com/grassroots-ledger/ledger/infra/portal"
)

// startPortal mounts the public portal (pages, JSON under /api/v1/public/, live updates) on mux and
// polls the read models' checkpoints until ctx ends. The portal reads as the role ledger_portal, which
// may only read the public read models: admin (the pool that migrates them) creates the role and its
// grants, and renews them when a rebuild swapped a model in. With PORTAL_DATABASE_URL unset the portal
// connects with DATABASE_URL's server and database as user ledger_portal (enough with the trust-auth
// clusters `make run` starts); with password authentication give the role a password and set
// PORTAL_DATABASE_URL. The returned function closes the portal's pool.
func startPortal(ctx context.Context, admin *pgxpool.Pool, mux *http.ServeMux, api *httpapi.Commands, publicURL string, residents portal.Submitter,
	docs portal.Documents, events portal.EventReader) (func(), error) {
	if err := portal.EnsureRole(ctx, admin, portal.DefaultRole); err != nil {
		return nil, fmt.Errorf("portal: %w", err)
	}
	cfg := portal.PoolConfig{URL: os.Getenv("PORTAL_DATABASE_URL")}
	if cfg.URL == "" {
		cfg.URL, cfg.Role = os.Getenv("DATABASE_URL"), portal.DefaultRole
	}
	pool, err := portal.OpenPool(ctx, cfg)
	if err != nil {
		return nil, err
	}
	p, err := portal.New(portal.Config{DB: pool, API: api.API(), Logger: slog.Default(), PublicURL: publicURL, Residents: residents, Documents: docs, Events: events,
		Regrant: func(ctx context.Context) error { return portal.EnsureRole(ctx, admin, portal.DefaultRole) }})
	if err != nil {
		pool.Close()
		return nil, err
	}
	p.Mount(mux)
	go func() { _ = p.Run(ctx) }()
	return pool.Close, nil
}
