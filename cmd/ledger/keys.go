package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/grassroots-ledger/ledger/infra/keys"
)

func newKeysCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "The key store of the personal data (crypto-shredding): rotate its key-encryption key",
		Long: `Personal data in events (names, national ID numbers, phones, addresses) is sealed with a data key per
person; the data keys live in PostgreSQL (schema keystore), wrapped by the key-encryption key (KEK), a
file that is never stored beside them: $LEDGER_KEK_FILE, or --data/ledger-kek.key. Back it up apart
from the database: without it no personal data can be read again; with it and a database backup, all of
it can.`,
	}
	cmd.AddCommand(newRotateKEKCmd())
	return cmd
}

func newRotateKEKCmd() *cobra.Command {
	var data, dbURL string
	cmd := &cobra.Command{
		Use:   "rotate-kek",
		Short: "Re-wrap every data key under a new key-encryption key, without touching the event store",
		Long: `rotate-kek makes a new key-encryption key, re-wraps every live data key under it (in batches, each
in one transaction), and installs it where the old one was. The event store and its hashes are not
touched. It is safe to interrupt: every key stays readable, and running it again (or the next start)
finishes the job. A running serve learns of the new KEK by itself. Back up the new KEK file afterwards:
the old one opens nothing any more.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			pool, err := openDB(ctx, dbURL)
			if err != nil {
				return err
			}
			defer pool.Close()
			ks, err := openKeys(ctx, pool, data, false)
			if err != nil {
				return err
			}
			old := ks.KEKID()
			if old == "" {
				return fmt.Errorf("there is no key-encryption key at %s and the key store has none registered: nothing to rotate", keys.KEKPath(data))
			}
			p := newProgress(cmd.ErrOrStderr(), "rotate-kek", 0)
			id, n, err := ks.Rotate(ctx, func(done, total int) { p.Set(uint64(done), uint64(total)) })
			if err != nil {
				return fmt.Errorf("rotate-kek (safe to run again: every key is still readable): %w", err)
			}
			p.Finish()
			fmt.Fprintf(cmd.OutOrStdout(), "re-wrapped %d data keys under the new key-encryption key %s (was %s), now at %s\n"+
				"Back it up apart from the database now: the old key-encryption key opens nothing any more.\n", n, id, old, keys.KEKPath(data))
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", ".ledger", "the ledger's data directory (where the KEK is, unless $LEDGER_KEK_FILE)")
	cmd.Flags().StringVar(&dbURL, "database-url", "", "PostgreSQL of the key store (default $DATABASE_URL)")
	return cmd
}
