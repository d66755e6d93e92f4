package main

import (
	"cmp"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/grassroots-ledger/ledger/projections/runtime"
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
			tuneGC(slog.Default(), "rebuild")
			named, err := readModelsNamed(args, nil)
			if err != nil {
				return err
			}
			s, err := openSessionSized(ctx, data, dbURL, rebuildPoolSize(len(named)))
			if err != nil {
				return err
			}
			defer s.Close()
			models, err := readModelsNamed(args, s.Keys)
			if err != nil {
				return err
			}
			rt, err := newRuntime(ctx, s.Pool, s.Store, models, nil)
			if err != nil {
				return err
			}
			// One read of the history feeds every model: each page is decoded once and applied by all the
			// models concurrently, each into its own shadow schema. The bar counts the events of the
			// history the slowest model has applied, and names the models behind the reader.
			p := newProgress(cmd.ErrOrStderr(), "rebuild "+modelNames(models), 0)
			if err := rt.RebuildAll(ctx, models, func(r runtime.RebuildProgress) {
				p.Set(r.Done, r.Total)
				p.Note(lagNote(r))
			}); err != nil {
				return err
			}
			p.Note("")
			p.Finish()
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", ".ledger", "directory of the embedded node's data (when EVENTSTORE_URL is unset)")
	cmd.Flags().StringVar(&dbURL, "database-url", "", "PostgreSQL of the read models (default $DATABASE_URL)")
	return cmd
}

// rebuildPoolSize is the rebuild's pool for models read models: one connection per model applying a page
// (on pgxpool's default of four, eight models took turns, and the two slowest, which set the pace, waited
// for a connection behind models with nothing to hurry for), the one holding the rebuild locks, and three
// for the indexes built while the slowest models finish (runtime: the pool's size less two at a time).
// A million-event rebuild of eight models, ten pairs alternated with a pool of four: faster in seven (the
// last six: medians 22.41 → 22.11 s), peak RSS 2.0 → 1.5–1.9 GB.
func rebuildPoolSize(models int) int32 { return int32(models + 4) }

// lagNote names the models furthest behind the reader, with how many events each has still to apply:
// where a rebuild's time goes.
func lagNote(r runtime.RebuildProgress) string {
	ms := slices.Clone(r.Models)
	slices.SortStableFunc(ms, func(a, b runtime.ModelProgress) int { return cmp.Compare(a.Done, b.Done) })
	var parts []string
	for _, m := range ms {
		if m.Done >= r.Read || len(parts) == 3 {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %d", m.Name, r.Read-m.Done))
	}
	if len(parts) == 0 {
		return ""
	}
	return "behind the reader: " + strings.Join(parts, ", ")
}
