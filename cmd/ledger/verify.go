package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/grassroots-ledger/ledger/infra/audit"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
	"github.com/grassroots-ledger/ledger/infra/tlog"
	ptlog "github.com/grassroots-ledger/ledger/projections/tlog"
)

// errChainBroken is returned by verify when the history does not verify (exit status 1).
var errChainBroken = errors.New("hash chain broken")

// errLogDiverged is returned by verify when the store is not the history a signed checkpoint signed.
var errLogDiverged = errors.New("the store is not the history the transparency log signed")

func newVerifyCmd() *cobra.Command {
	var data, format, dbURL, logKey string
	var checkpoints []string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Recompute every stream's hash chain over the whole history and report the first break",
		Long: `verify reads the whole history of the store ($all, streaming) and checks every event: that it
comes at the next revision of its stream, that its prev_hash is the hash of the stream's previous
event, and that its content hashes to its recorded hash; and that $all positions strictly increase.

It prints "verified N events in M streams, all chains intact" and exits 0, or names the first break
in $all order (stream, revision, event id, $all position, reason) and exits 1.

A chain cannot show that the last events of a stream, or whole streams, were removed, or that the
whole history was rewritten consistently: the transparency log's signed checkpoints can. verify then
recomputes the log's tree from the store and compares it with the latest signed checkpoint (in
DATABASE_URL, with the log's tree to locate a difference) and with every checkpoint saved earlier
(--checkpoints FILE), each checked with the log's verifier key: a truncated, rewritten or replaced
history is reported with the first leaf that differs, and verify exits 1.

While 'ledger serve' runs on the embedded node, point verify at that node (the data directory is
locked by the running node):

  EVENTSTORE_URL='esdb://127.0.0.1:2113?tls=false' ledger verify`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return usageError{cmd: "verify", err: fmt.Errorf("--format %q: want text or json", format)}
			}
			// Reading a long history allocates one short-lived message per event and keeps almost
			// nothing (a hash per stream): collecting less often halves the CPU the collector takes.
			defer debug.SetGCPercent(debug.SetGCPercent(400))
			ctx := cmd.Context()
			s, a, err := openAuditor(ctx, data, "", false)
			if err != nil {
				return err
			}
			defer s.Close()
			p := newProgress(cmd.ErrOrStderr(), "verify", 0)
			rep, err := a.Verify(ctx, audit.VerifyOptions{Progress: func(vp audit.VerifyProgress) {
				p.Set(vp.Position.Commit, vp.Head.Commit)
			}})
			if err != nil {
				return err
			}
			if rep.Intact {
				p.Finish()
			} else {
				p.Stopped("at the first break")
			}
			logRep, err := verifyLog(ctx, s.Store, data, logKey, dbURL, checkpoints)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if format == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(struct {
					audit.VerifyReport
					Log *tlog.VerifyReport `json:"log,omitempty"`
				}{rep, logRep}); err != nil {
					return err
				}
			} else {
				if rep.Intact {
					fmt.Fprintln(out, rep.Message)
				}
				if logRep != nil {
					fmt.Fprintln(out, logRep.Message)
					for _, c := range logRep.Checkpoints {
						fmt.Fprintf(out, "  checkpoint of %d leaves: %s\n", c.Size, c.Message)
					}
				}
			}
			if !rep.Intact {
				return fmt.Errorf("%w at %s", errChainBroken, rep.Break)
			}
			if logRep != nil && !logRep.Intact {
				return errLogDiverged
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", ".ledger", "directory of the embedded node's data (when EVENTSTORE_URL is unset)")
	cmd.Flags().StringVar(&format, "format", "text", "output: text, or json (the whole report)")
	cmd.Flags().StringVar(&dbURL, "database-url", "", "PostgreSQL holding the log's tree and its latest signed checkpoint (default $DATABASE_URL; none: only --checkpoints)")
	cmd.Flags().StringVar(&logKey, "log-key", "", "the transparency log's verifier key (default: the key under --data)")
	cmd.Flags().StringSliceVar(&checkpoints, "checkpoints", nil, "files of signed checkpoints saved earlier, to compare the store with (repeat or comma-separate)")
	return cmd
}

// verifyLog compares the store with the transparency log's signed checkpoints: the latest stored one
// (when the database answers) and the files given. nil when there is nothing to compare with.
func verifyLog(ctx context.Context, store *eventstore.Store, data, vkey, dbURL string, files []string) (*tlog.VerifyReport, error) {
	var notes [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, usageError{cmd: "verify", err: fmt.Errorf("--checkpoints: %w", err)}
		}
		notes = append(notes, b)
	}
	var tree *ptlog.Tree
	if dbURL == "" {
		dbURL = os.Getenv("DATABASE_URL")
	}
	if dbURL != "" {
		pool, err := openDB(ctx, dbURL)
		if err != nil {
			return nil, err
		}
		defer pool.Close()
		latest, err := tlog.LatestNote(ctx, pool)
		switch {
		case err == nil:
			notes = append(notes, latest)
			tree = ptlog.NewTree(pool)
		case !errors.Is(err, tlog.ErrNoCheckpoint):
			return nil, err
		}
	}
	if len(notes) == 0 {
		return nil, nil
	}
	v, err := logVerifier("verify", "--log-key", vkey, data)
	if err != nil {
		return nil, err
	}
	rep, err := tlog.Verify(ctx, tlog.VerifyConfig{Store: store, Verifier: v, Checkpoints: notes, Tree: tree})
	if err != nil {
		return nil, err
	}
	return &rep, nil
}
