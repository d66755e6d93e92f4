package main

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/tlog"
	ptlog "github.com/grassroots-ledger/ledger/projections/tlog"
)

func newLogCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "log",
		Short: "The transparency log: its verifier key, and proofs between saved checkpoints",
		Long: `The transparency log is a Merkle tree (RFC 6962) over every ledger event in $all order, whose
signed checkpoints (C2SP tlog-checkpoint notes) let anyone check, without trusting the operator, that
an event is in the one history everyone sees and that the history only ever grew.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newLogKeyCmd(), newLogConsistencyCmd(), newLogVerifyNoticeCmd())
	return cmd
}

func newLogKeyCmd() *cobra.Command {
	var data, origin string
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Print the log's note verifier key (creating the signing key on first use)",
		Long: `key prints the verifier key of the log's signing key, kept in DIR/` + tlog.KeyFile + ` (mode 0600). Give
it to auditors and witnesses: it verifies every checkpoint the ledger signs. The signing key is created
on first use, named after --origin; a key file others can read is refused.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, err := tlog.LoadOrCreateKey(data, origin)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), k.VerifierKey())
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", ".ledger", "data directory holding the log's signing key")
	cmd.Flags().StringVar(&origin, "origin", tlog.DefaultOrigin, "the log's origin: the name of a key created now")
	return cmd
}

func newLogConsistencyCmd() *cobra.Command {
	var data, key, dbURL string
	cmd := &cobra.Command{
		Use:   "consistency OLD NEW",
		Short: "Prove two saved checkpoints consistent: the newer extends the older",
		Long: `consistency reads two saved signed checkpoints (files, in either order), verifies both signatures
with the log's verifier key, asks the log's tree (DATABASE_URL) for the consistency proof between their
sizes and verifies it. It exits 0 when the newer checkpoint extends the older, 1 when they are not
consistent (keep both files: they are evidence of a fork).`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := logVerifier("log consistency", "--key", key, data)
			if err != nil {
				return err
			}
			notes := make([][]byte, 2)
			for i, path := range args {
				if notes[i], err = os.ReadFile(path); err != nil {
					return err
				}
			}
			ctx := cmd.Context()
			pool, err := openDB(ctx, dbURL)
			if err != nil {
				return err
			}
			defer pool.Close()
			older, newer, p, err := tlog.ProveConsistency(ctx, ptlog.NewTree(pool), v, notes[0], notes[1])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "consistent: the checkpoint of size %d extends the one of size %d (%s)\n", newer.Size, older.Size, older.Origin)
			for _, h := range p {
				fmt.Fprintln(out, base64.StdEncoding.EncodeToString(h))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", ".ledger", "data directory holding the log's key (when --key is not given)")
	cmd.Flags().StringVar(&key, "key", "", "the log's note verifier key (as `ledger log key` prints it)")
	cmd.Flags().StringVar(&dbURL, "database-url", "", "PostgreSQL holding the log's tree (default DATABASE_URL)")
	return cmd
}

func newLogVerifyNoticeCmd() *cobra.Command {
	var logURL, key, origin, position, eventHash, checkpoint string
	cmd := &cobra.Command{
		Use:   "verify-notice --log URL --key VERIFIER --position P --event-hash HEX",
		Short: "Check a printed notice against the log: its event is in the one history everyone sees",
		Long: `verify-notice checks, without trusting the ledger's operator, that the event a notice records is in
the transparency log: it verifies the log's signed checkpoint (the latest the ledger serves, or a saved
one with --checkpoint) with the log's verifier key, asks the ledger for the inclusion proof of the event
at $all position P, and checks that the proved leaf is the event hash printed on the notice and that the
proof leads to the signed root. Exit 0 when it is, 1 when it is not.

  ledger log verify-notice --log https://ledger.example --key 'ledger.example/龙湾区+…' \
    --position 123456/123456 --event-hash 9f2c…`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bad := func(err error) error { return usageError{cmd: "log verify-notice", err: err} }
			if logURL == "" || key == "" || position == "" || eventHash == "" {
				return bad(errors.New("--log, --key, --position and --event-hash are required"))
			}
			v, err := note.NewVerifier(key)
			if err != nil {
				return bad(fmt.Errorf("--key: %w", err))
			}
			pos, err := eventlog.ParsePosition(position)
			if err != nil {
				return bad(fmt.Errorf("--position: %w", err))
			}
			h, err := hex.DecodeString(eventHash)
			if err != nil || len(h) != ptlog.HashSize {
				return bad(fmt.Errorf("--event-hash %q: want the 64 hex digits printed on the notice", eventHash))
			}
			var signed []byte
			if checkpoint != "" {
				if signed, err = os.ReadFile(checkpoint); err != nil {
					return bad(err)
				}
			}
			c, ip, err := tlog.CheckInclusion(cmd.Context(), nil, logURL, v, origin, signed, pos, h)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "收录于检查点(大小 %d，%s)的第 %d 号叶子：此公告的事件在所有人看到的同一份历史中，未被改动\n"+
				"included: leaf %d of the checkpoint of size %d signed by %s\n", c.Size, c.Origin, ip.LeafIndex, ip.LeafIndex, c.Size, v.Name())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&logURL, "log", "", "the ledger's base URL")
	f.StringVar(&key, "key", "", "the log's note verifier key")
	f.StringVar(&origin, "origin", "", "the origin the checkpoint must name (default: any)")
	f.StringVar(&position, "position", "", "the event's $all position printed on the notice (commit/prepare)")
	f.StringVar(&eventHash, "event-hash", "", "the event's hash printed on the notice (hex)")
	f.StringVar(&checkpoint, "checkpoint", "", "a saved signed checkpoint to check against (default: the latest the ledger serves)")
	return cmd
}

// logVerifier is the log's verifier: from the verifier key given with flag (a usage error when it is not
// one), else from the key under the data directory.
func logVerifier(cmd, flag, vkey, data string) (note.Verifier, error) {
	if vkey != "" {
		v, err := note.NewVerifier(vkey)
		if err != nil {
			return nil, usageError{cmd: cmd, err: fmt.Errorf("%s: %w", flag, err)}
		}
		return v, nil
	}
	k, err := tlog.LoadKey(data)
	if err != nil {
		return nil, fmt.Errorf("the log's verifier key (give %s, or --data where the log's key is): %w", flag, err)
	}
	return k.Verifier(), nil
}
