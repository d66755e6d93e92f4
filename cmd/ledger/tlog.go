package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/note"

	"github.com/grassroots-ledger/ledger/infra/httpapi"
	"github.com/grassroots-ledger/ledger/infra/tlog"
)

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

// startLog readies the transparency log for serve: its checkpoints' schema, its signing key (created
// under the data directory on first start), its public endpoints, and the publisher that signs a
// checkpoint every 1 000 events or 10 s while the tree grows (run by the worker).
func startLog(ctx context.Context, pool *pgxpool.Pool, api *httpapi.Commands, o serveOptions) (*tlog.Key, *tlog.Publisher, error) {
	if err := tlog.Migrate(ctx, pool); err != nil {
		return nil, nil, fmt.Errorf("transparency log: %w", err)
	}
	if err := os.MkdirAll(o.data, 0o750); err != nil {
		return nil, nil, fmt.Errorf("create %s: %w", o.data, err)
	}
	// Every serve of a deployment signs with the one key: a serve whose key did not sign the log's
	// checkpoints would sign a second log in the same name. Without a key file beside a log that has
	// signed checkpoints, no key is made: the one that signed them is missing (a restore without it).
	latest, lerr := tlog.LatestNote(ctx, pool)
	if _, err := os.Stat(filepath.Join(o.data, tlog.KeyFile)); errors.Is(err, fs.ErrNotExist) && lerr == nil {
		return nil, nil, fmt.Errorf("transparency log: this ledger's log has signed checkpoints and there is no %s in %s: "+
			"copy the key that signed them there (from the first serve's --data directory, or its backup); a new key would sign a second log in the ledger's name",
			tlog.KeyFile, o.data)
	}
	key, err := tlog.LoadOrCreateKey(o.data, o.logOrigin)
	if err != nil {
		return nil, nil, fmt.Errorf("transparency log: %w", err)
	}
	switch {
	case lerr == nil:
		if _, _, err := tlog.Open(latest, key.Verifier(), ""); err != nil {
			return nil, nil, fmt.Errorf("transparency log: the key in %s did not sign this ledger's checkpoints (%v); "+
				"every serve needs the same %s: copy it from the first serve's --data directory", o.data, err, tlog.KeyFile)
		}
	case !errors.Is(lerr, tlog.ErrNoCheckpoint):
		return nil, nil, fmt.Errorf("transparency log: %w", lerr)
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
