package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/note"

	"github.com/grassroots-ledger/ledger/infra/httpapi"
	"github.com/grassroots-ledger/ledger/infra/tlog"
)

// startLog readies the transparency log for serve: its checkpoints' schema, its signing key (created
// under the data directory on first start), its public endpoints, and the publisher that signs a
// checkpoint every 1 000 events or 10 s while the tree grows (run by the worker).
// checkSignedLog compares every signed checkpoint with the tree once the projections have applied the
// store's history (started), then waits for ctx to end: before then a tree still being built (a database
// restored from a backup, or new) is only short, and saying it "does not match" would be a false alarm.
// Each mismatch is then logged at error level: a checkpoint the tree does not reach means a history cut
// short, one with another root a history rewritten.
func checkSignedLog(ctx context.Context, pool *pgxpool.Pool, started <-chan struct{}) error {
	select {
	case <-ctx.Done():
		return nil
	case <-started:
	}
	mism, err := tlog.CheckStored(ctx, pool)
	if err != nil && ctx.Err() == nil {
		slog.Warn("transparency log: could not compare the signed checkpoints with the tree", "err", err)
	}
	for _, m := range mism {
		slog.Error("transparency log: a signed checkpoint does not match the tree", "mismatch", m.String())
	}
	<-ctx.Done()
	return nil
}

func startLog(ctx context.Context, pool *pgxpool.Pool, api *httpapi.Commands, o serveOptions) (*tlog.Key, *tlog.Publisher, error) {
	if err := tlog.Migrate(ctx, pool); err != nil {
		return nil, nil, fmt.Errorf("transparency log: %w", err)
	}
	if err := os.MkdirAll(o.data, 0o750); err != nil {
		return nil, nil, fmt.Errorf("create %s: %w", o.data, err)
	}
	key, err := tlog.LoadOrCreateKey(o.data, o.logOrigin)
	if err != nil {
		return nil, nil, fmt.Errorf("transparency log: %w", err)
	}
	// Every serve of a deployment signs with the one key: a serve whose key did not sign the log's
	// checkpoints would sign a second log in the same name.
	if latest, err := tlog.LatestNote(ctx, pool); err == nil {
		if _, _, err := tlog.Open(latest, key.Verifier(), ""); err != nil {
			return nil, nil, fmt.Errorf("transparency log: the key in %s did not sign this ledger's checkpoints (%v); "+
				"every serve needs the same %s: copy it from the first serve's --data directory", o.data, err, tlog.KeyFile)
		}
	} else if !errors.Is(err, tlog.ErrNoCheckpoint) {
		return nil, nil, fmt.Errorf("transparency log: %w", err)
	}
	var witnesses []note.Verifier
	for _, w := range o.witnesses {
		v, err := tlog.CosignatureVerifier(w)
		if err != nil {
			return nil, nil, usageError{cmd: "serve", err: fmt.Errorf("--witness %q: %w", w, err)}
		}
		witnesses = append(witnesses, v)
	}
	tlog.RegisterAPI(api.API(), tlog.APIConfig{DB: pool, Key: key, Logger: slog.Default(), Witnesses: witnesses, Pool: pool})
	pub, err := tlog.NewPublisher(tlog.Config{Pool: pool, Key: key, Origin: o.logOrigin, Every: o.logEvery, Interval: o.logInterval,
		Logger: slog.Default()})
	if err != nil {
		return nil, nil, err
	}
	return key, pub, nil
}
