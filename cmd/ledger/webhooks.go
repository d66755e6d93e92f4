package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/infra/supervision"
)

func newWebhooksCmd() *cobra.Command {
	var dbURL string
	cmd := &cobra.Command{
		Use:   "webhooks",
		Short: "List supervisors' webhooks and replay their parked deliveries",
		Long: `webhooks is the operator's side of the supervisors' webhooks (registered with POST /api/v1/webhooks).

A delivery that failed on every attempt is parked. Once the receiver is fixed, replay puts the webhook's
parked deliveries back in line (the same as POST /api/v1/webhooks/{id}/replay); a running 'ledger serve'
delivers them within a second. It works on the database given by --database-url or DATABASE_URL.`,
		Args: cobra.NoArgs,
	}
	cmd.PersistentFlags().StringVar(&dbURL, "database-url", "", "PostgreSQL connection string (default $DATABASE_URL)")
	open := func(ctx context.Context) (*supervision.Webhooks, func(), error) {
		pool, err := openDBSized(ctx, dbURL, 2)
		if err != nil {
			return nil, nil, err
		}
		if err := supervision.Migrate(ctx, pool); err != nil {
			pool.Close()
			return nil, nil, err
		}
		w, err := supervision.NewWebhooks(supervision.WebhookConfig{Pool: pool})
		if err != nil {
			pool.Close()
			return nil, nil, err
		}
		return w, pool.Close, nil
	}
	// The operator has the database: act as an administrator of the whole country.
	operator := commands.Actor{Subject: "cli", Role: commands.RoleAdmin, Scope: "*"}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the webhooks with their parked deliveries",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, done, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			hooks, err := w.List(cmd.Context(), operator)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tUNDER\tURL\tOWNER\tPARKED")
			for _, h := range hooks {
				parked, err := w.Deliveries(cmd.Context(), operator, h.ID, "parked")
				if err != nil {
					return err
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", h.ID, h.Under, h.URL, h.Owner, len(parked))
			}
			return tw.Flush()
		},
	}, &cobra.Command{
		Use:   "replay WEBHOOK_ID",
		Short: "Send a webhook's parked deliveries again",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w, done, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			n, err := commands.NewSupervisors(nil, nil, w).ReplayWebhook(cmd.Context(), commands.Meta{Actor: operator}, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d parked deliveries of %s back in line\n", n, args[0])
			return nil
		},
	})
	return cmd
}
