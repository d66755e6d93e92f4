package main

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/grassroots-ledger/ledger/infra/outage"
	"github.com/grassroots-ledger/ledger/infra/pg"
)

// schemaWatchEvery is how often serve looks for a schema a newer ledger has migrated since it started.
const schemaWatchEvery = 15 * time.Second

// errSchemaUpgraded ends a serve whose database a newer ledger has migrated.
var errSchemaUpgraded = errors.New("the database was migrated by a newer ledger: stop this serve and start the new version")

// watchSchemas looks every so often for a schema this process migrated that a newer ledger has migrated
// further since (pg.NewerThanThisBinary), and then calls stop with errSchemaUpgraded naming it: during an
// upgrade with several serves, an old one left running would read and write tables it was not written for
// (after the transparency log's 0002 it answered some inclusion proofs with an error). A look that fails
// (the database restarting) is tried again at the next, and logged when it starts, once a minute while it
// lasts, and when it ends.
func watchSchemas(ctx context.Context, q pg.Querier, every time.Duration, log *slog.Logger, stop func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	var out outage.Log
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		newer, err := pg.NewerThanThisBinary(ctx, q)
		if err != nil {
			if ctx.Err() == nil {
				out.Fail(log, time.Now(), "serve: could not check the database's schema versions; trying again", "err", err)
			}
			continue
		}
		out.Over(log, time.Now(), "serve: checking the database's schema versions again")
		if len(newer) > 0 {
			said := make([]string, len(newer))
			for i, n := range newer {
				said[i] = n.String()
			}
			err := errors.Join(errSchemaUpgraded, errors.New(strings.Join(said, "; ")))
			log.ErrorContext(ctx, "serve: stopping", "err", err)
			stop(err)
			return
		}
	}
}
