package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/grassroots-ledger/ledger/infra/audit"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
)

func newCopyStoreCmd() *cobra.Command {
	var from, to string
	cmd := &cobra.Command{
		Use:   "copy-store --from STORE --to STORE",
		Short: "Copy the whole history into another EventStoreDB-protocol store, exactly, resumably, verified",
		Long: `copy-store appends every ledger event of one store to another in the source's $all order — from the
embedded node to a KurrentDB/EventStoreDB cluster, or back — keeping stream names, revisions, event ids,
types, content types, data and metadata byte for byte. The store's own $-streams are not copied (each
store keeps its own), and each store records its own time of writing: replay the copy by occurred
time (--by occurred), or keep the source for replays by recorded time.

A STORE is an esdb:// (or kurrentdb://) connection string, or the data directory of an embedded node
(the node is started by this command; stop 'ledger serve' on it first, or give its esdb:// address).

Each run of one stream's consecutive events is one append at the exact expected revision: nothing is
written twice. Interrupted (a crash, Ctrl-C), run the same command again: it finds the target's last
event in the source and goes on after it. A target holding any other history is refused untouched.
At the end every event of the two stores is compared and every hash chain of the copy is verified.

  ledger copy-store --from .ledger --to 'esdb://cluster.example:2113?tls=true'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" || to == "" {
				return usageError{cmd: "copy-store", err: errors.New("--from and --to are required")}
			}
			if from == to {
				return usageError{cmd: "copy-store", err: errors.New("--from and --to name the same store")}
			}
			ctx := cmd.Context()
			src, err := openNamedStore(ctx, from)
			if err != nil {
				return fmt.Errorf("the source: %w", err)
			}
			defer src.Close()
			dst, err := openNamedStore(ctx, to)
			if err != nil {
				return fmt.Errorf("the target: %w", err)
			}
			defer dst.Close()
			head, err := src.Store.Head(ctx)
			if err != nil {
				return err
			}
			out := cmd.ErrOrStderr()
			fmt.Fprintf(out, "copying %s → %s\n", src.Note, dst.Note)
			p := newProgress("copy-store", head.Commit)
			res, err := eventstore.Copy(ctx, src.Store, dst.Store, func(cp eventstore.CopyProgress) { p.Set(cp.At.Commit, 0) })
			if err != nil {
				if res.Copied > 0 {
					fmt.Fprintf(out, "copied %d events before the error; run the same command again to go on\n", res.Copied)
				}
				return err
			}
			p.Finish()
			fmt.Fprintf(out, "copied %d events (%d were already in the target); comparing…\n", res.Copied, res.Held)
			n, err := eventstore.Compare(ctx, src.Store, dst.Store)
			if err != nil {
				return fmt.Errorf("the copy is not the source: %w", err)
			}
			a, err := audit.New(audit.Config{Store: dst.Store})
			if err != nil {
				return err
			}
			rep, err := a.Verify(ctx, audit.VerifyOptions{})
			if err != nil {
				return err
			}
			if !rep.Intact {
				return fmt.Errorf("the copy's hash chains do not verify: %+v", rep.Break)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "the target holds the source's %d events, byte for byte, in the same order; %d events in %d streams verified, all chains intact\n",
				n, rep.Events, rep.Streams)
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the source: an esdb:// connection string or an embedded node's data directory")
	cmd.Flags().StringVar(&to, "to", "", "the target: an esdb:// connection string or an embedded node's data directory")
	return cmd
}

// openNamedStore opens a store named by a connection string or an embedded node's data directory.
func openNamedStore(ctx context.Context, where string) (*storeHandle, error) {
	for _, scheme := range []string{"esdb://", "esdb+discover://", "kurrentdb://", "kurrentdb+discover://", "kdb://"} {
		if strings.HasPrefix(where, scheme) {
			note := "the store at " + scheme + "…" // never print credentials a connection string may carry
			if u, err := url.Parse(where); err == nil {
				note = "the store at " + u.Host
			}
			return openStoreAt(ctx, where, note, "", "")
		}
	}
	return openStoreAt(ctx, "", "", where, "")
}
