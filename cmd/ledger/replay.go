package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/audit"
)

func newReplayCmd() *cobra.Command {
	var data, dbURL, community, asOf, by, until, format string
	var tables bool
	cmd := &cobra.Command{
		Use:   "replay --community ID --as-of TIME",
		Short: "Show a community's state exactly as it stood at a past instant, rebuilt from the events",
		Long: `replay rebuilds the state of one community as of an instant from the events alone: it reads the
community's streams and the district-level events above it (jurisdiction nodes, rule overrides,
district alerts), keeps those at or before the instant, applies them with the ledger's own read
models into scratch schemas (scratch_<random>_<model>, dropped afterwards; the live read models are
not touched), and prints the community's public board, finances, elections and meetings and what
each model holds.

"As of" compares with the time the store recorded each event (--by recorded, the default): the state
is what the ledger said at that instant. --by occurred compares with the time each event says its
fact happened instead, late recordings included. --until-position also cuts at a $all position
("commit/prepare", as verify and export print them), independent of any clock.

  ledger replay --community 330303001001 --as-of 2025-12-31T16:00:00Z --format text`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bad := func(err error) error { return usageError{cmd: "replay", err: err} }
			if community == "" {
				return bad(errors.New("--community is required"))
			}
			if asOf == "" {
				return bad(errors.New("--as-of is required (RFC 3339, e.g. 2025-12-31T16:00:00Z)"))
			}
			at, err := time.Parse(time.RFC3339Nano, asOf)
			if err != nil {
				return bad(fmt.Errorf("--as-of %q: want RFC 3339 with a zone, e.g. 2025-12-31T16:00:00Z or 2026-01-01T00:00:00+08:00", asOf))
			}
			basis, err := audit.ParseTimeBasis(by)
			if err != nil {
				return bad(fmt.Errorf("--by %q: want recorded or occurred", by))
			}
			var cut eventlog.Position
			if until != "" {
				if cut, err = eventlog.ParsePosition(until); err != nil {
					return bad(fmt.Errorf("--until-position: %w", err))
				}
			}
			if format != "json" && format != "text" {
				return bad(fmt.Errorf("--format %q: want json or text", format))
			}
			ctx := cmd.Context()
			s, a, err := openAuditor(ctx, data, dbURL, true)
			if err != nil {
				return err
			}
			defer s.Close()
			defer a.Close() // its scratch schemas dropped, before the session closes the pool
			p := newProgress(cmd.ErrOrStderr(), "replay "+community, 0)
			snap, err := a.Replay(ctx, audit.ReplayRequest{Community: community, AsOf: at, By: basis, Until: cut, Tables: tables,
				Progress: func(done, total uint64) { p.Set(done, total) }})
			if errors.Is(err, audit.ErrInvalid) {
				return bad(err)
			}
			if err != nil {
				return err
			}
			p.Finish()
			if snap.Hint != "" {
				fmt.Fprintln(cmd.ErrOrStderr(), "note: "+snap.Hint)
			}
			out := cmd.OutOrStdout()
			if format == "text" {
				return snap.WriteText(out)
			}
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			return enc.Encode(snap)
		},
	}
	f := cmd.Flags()
	f.StringVar(&community, "community", "", "the community's id (the last segment of its jurisdiction path)")
	f.StringVar(&asOf, "as-of", "", "the instant, RFC 3339 with a zone (2025-12-31T16:00:00Z)")
	f.StringVar(&by, "by", "recorded", "which time of an event counts: recorded (when the ledger learned it) or occurred")
	f.StringVar(&until, "until-position", "", "also leave out events after this $all position (commit/prepare)")
	f.StringVar(&format, "format", "json", "output: json, or text (a summary for people)")
	f.BoolVar(&tables, "tables", false, "include every row of every read model's tables in the JSON")
	f.StringVar(&data, "data", ".ledger", "directory of the embedded node's data (when EVENTSTORE_URL is unset)")
	f.StringVar(&dbURL, "database-url", "", "PostgreSQL where the scratch schemas are made (default $DATABASE_URL)")
	return cmd
}
