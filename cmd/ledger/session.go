package main

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/infra/audit"
	"github.com/grassroots-ledger/ledger/infra/keys"
	"github.com/grassroots-ledger/ledger/infra/pg"
)

// session is what an offline command (rebuild, replay, export, verify) opens: the store and, for the
// commands that write read models, the read models' database.
type session struct {
	*storeHandle
	Pool *pgxpool.Pool // nil unless the session was opened with a database
	Keys *keys.Store   // the key store of the personal data, with the database
}

// openSession opens the store of dataDir (or EVENTSTORE_URL) and, when withDB, the database at dbURL
// (default $DATABASE_URL) with pgxpool's default pool. Close releases both.
func openSession(ctx context.Context, dataDir, dbURL string, withDB bool) (*session, error) {
	if !withDB {
		return openSessionSized(ctx, dataDir, dbURL, -1)
	}
	return openSessionSized(ctx, dataDir, dbURL, 0)
}

// openSessionSized is openSession with a database pool of at most maxConns connections (0: pgxpool's
// default, max(4, cores); below 0: no database).
func openSessionSized(ctx context.Context, dataDir, dbURL string, maxConns int32) (*session, error) {
	sh, err := openStore(ctx, dataDir, nodeAt{})
	if err != nil {
		return nil, err
	}
	s := &session{storeHandle: sh}
	if maxConns >= 0 {
		if s.Pool, err = openDBSized(ctx, dbURL, maxConns); err != nil {
			sh.Close()
			return nil, err
		}
		if s.Keys, err = openKeys(ctx, s.Pool, dataDir, false); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// Close closes the database (if any), then the store.
func (s *session) Close() {
	if s.Pool != nil {
		s.Pool.Close()
	}
	s.storeHandle.Close()
}

// openAuditor opens a session and the auditors' service on it: with the database it can replay into
// scratch schemas with every read model, without it only read the store (verify, export).
func openAuditor(ctx context.Context, dataDir, dbURL string, withDB bool) (*session, *audit.Auditor, error) {
	s, err := openSession(ctx, dataDir, dbURL, withDB)
	if err != nil {
		return nil, nil, err
	}
	cfg := audit.Config{Store: s.Store}
	if s.Pool != nil {
		cfg.Pool, cfg.Migrate, cfg.Models, cfg.Personal = s.Pool, pg.FreshMigrator(s.Pool), readModels(s.Keys), s.Keys
	}
	a, err := audit.New(cfg)
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, a, nil
}
