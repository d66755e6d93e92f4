package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"

	"github.com/grassroots-ledger/ledger/infra/tlog"
)

func newWitnessCmd() *cobra.Command {
	var logURL, key, state, name, origin string
	var interval time.Duration
	var once bool
	cmd := &cobra.Command{
		Use:   "witness --log URL --key VERIFIER --state DIR",
		Short: "Witness a ledger's transparency log: cosign each checkpoint only if it extends the last one",
		Long: `witness runs as an independent party — another district, the civil-affairs bureau — against a
ledger's public log. Every --interval it fetches the latest signed checkpoint, checks it with the log's
verifier key (--key), and when it is newer than the last one it cosigned (kept in --state), fetches the
consistency proof between them, verifies it, cosigns the new checkpoint with its own key and posts the
cosignature (C2SP tlog-cosignature, cosignature/v1: timestamped Ed25519) to POST /api/v1/log/cosignatures;
the ledger serves it beside its own signature.

Shown a checkpoint that does not extend the last one it cosigned (a forked or rewritten log), it cosigns
nothing, keeps both signed checkpoints in --state as evidence, and exits with status 1.

The witness's own key is created in --state on first run; give its verifier key (printed at start) to
the ledger's operator: ledger serve --witness KEY.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if logURL == "" || key == "" || state == "" {
				return usageError{cmd: "witness", err: errors.New("--log, --key and --state are required")}
			}
			v, err := note.NewVerifier(key)
			if err != nil {
				return usageError{cmd: "witness", err: fmt.Errorf("--key: %w", err)}
			}
			if err := os.MkdirAll(state, 0o700); err != nil {
				return err
			}
			own, err := tlog.LoadOrCreateKey(state, name)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "witness %s of %s\n  its verifier key: %s\n", own.Name(), logURL, own.CosignerKey())
			w := &tlog.Witness{Log: logURL, Verifier: v, Origin: origin, Key: own, State: state}
			ctx := cmd.Context()
			for {
				res, err := w.Step(ctx)
				switch {
				case errors.Is(err, tlog.ErrFork):
					return err
				case err != nil && ctx.Err() == nil:
					slog.Warn("witness: this round failed; trying again", "err", err)
				case res.Cosigned:
					fmt.Fprintf(cmd.OutOrStdout(), "cosigned the checkpoint of size %d (the last cosigned was %d)\n", res.Latest, res.Previous)
				}
				if once {
					return err
				}
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(interval):
				}
			}
		},
	}
	f := cmd.Flags()
	f.StringVar(&logURL, "log", "", "the ledger's base URL, e.g. https://ledger.example")
	f.StringVar(&key, "key", "", "the log's verifier key (GET /api/v1/public/log/key, or ledger log key)")
	f.StringVar(&state, "state", "", "the witness's directory: its key, the last checkpoint it cosigned, evidence of forks")
	f.StringVar(&name, "name", "witness.local", "the witness's name, for a key created now")
	f.StringVar(&origin, "origin", "", "the origin the log's checkpoints must name (default: any)")
	f.DurationVar(&interval, "interval", 10*time.Second, "how often to look for a new checkpoint")
	f.BoolVar(&once, "once", false, "one round, then exit")
	return cmd
}
