package main

import (
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/spf13/cobra"
)

func newRebuildCmd() *cobra.Command {
	var data, dbURL string
	cmd := &cobra.Command{
		Use:   "rebuild [read-model…]",
		Short: "Replay the whole history into fresh read models and swap them in atomically",
		Long: `rebuild replays every event of the store into shadow copies of the named read models (all of them
when none is named), catches up with the live head, then swaps each copy in with one atomic schema
rename. The portal keeps reading the old tables until the swap; a running 'ledger serve' carries on
from the rebuilt checkpoint.

While 'ledger serve' runs on the embedded node, point rebuild at that node instead of its data
directory (the file is locked by the running node):

  EVENTSTORE_URL='esdb://127.0.0.1:2113?tls=false' ledger rebuild board finances`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			models, err := readModelsNamed(args)
			if err != nil {
				return err
			}
			sh, err := openStore(ctx, data, "")
			if err != nil {
				return err
			}
			defer sh.Close()
			pool, err := openDB(ctx, dbURL)
			if err != nil {
				return err
			}
			defer pool.Close()
			rt, err := newRuntime(ctx, pool, sh.Store, models, nil)
			if err != nil {
				return err
			}
			// The models rebuild concurrently: each reads the history and writes its own shadow schema, and
			// Postgres and the decoders then keep both cores busy. The bar shows the sum over the models.
			p := newProgress("rebuild "+modelNames(models), 0)
			var mu sync.Mutex
			done, total := make([]uint64, len(models)), make([]uint64, len(models))
			g, gctx := errgroup.WithContext(ctx)
			for i, m := range models {
				g.Go(func() error {
					err := rt.Rebuild(gctx, m, func(d, t uint64, _ float64) {
						mu.Lock()
						defer mu.Unlock()
						done[i], total[i] = d, t
						var sd, st uint64
						for j := range done {
							sd, st = sd+done[j], st+total[j]
						}
						p.Set(sd, st)
					})
					if err != nil {
						return fmt.Errorf("rebuild %s: %w", m.Name(), err)
					}
					return nil
				})
			}
			if err := g.Wait(); err != nil {
				return err
			}
			p.Finish()
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", ".ledger", "directory of the embedded node's data (when EVENTSTORE_URL is unset)")
	cmd.Flags().StringVar(&dbURL, "database-url", "", "PostgreSQL of the read models (default $DATABASE_URL)")
	return cmd
}
