package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/infra/auth"
	"github.com/grassroots-ledger/ledger/infra/pg"
)

func newTokenCmd() *cobra.Command {
	var dbURL string
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke the API tokens of clerks, committees, auditors, supervisors and admins",
		Long: `token manages the API tokens the command API authenticates (Authorization: Bearer lg_…).

A token stands for a subject (an account name, recorded as the actor of every event it causes), a role
and a jurisdiction scope. Roles: clerk and committee record their communities' affairs; admin also
manages the registry and the rulebook; supervisor gives the casework commands only (record-inspection,
order-rectification, publish-bulletin); auditor gives no commands. A token scoped to
33/3303/330303 may act on every community under that district; * means everywhere.

Only the SHA-256 of a token is stored: it is shown once, when created. It works on the database given
by --database-url or DATABASE_URL.`,
		Args: cobra.NoArgs,
	}
	cmd.PersistentFlags().StringVar(&dbURL, "database-url", "", "PostgreSQL connection string (default $DATABASE_URL)")
	open := func(ctx context.Context) (*auth.Store, func(), error) {
		u := dbURL
		if u == "" {
			u = os.Getenv("DATABASE_URL")
		}
		pool, err := pg.Connect(ctx, pg.Config{URL: u, MaxConns: 2})
		if err != nil {
			return nil, nil, err
		}
		s, err := auth.Open(ctx, pool)
		if err != nil {
			pool.Close()
			return nil, nil, err
		}
		return s, pool.Close, nil
	}
	cmd.AddCommand(newTokenCreateCmd(open), newTokenListCmd(open), newTokenRevokeCmd(open))
	return cmd
}

type openTokens func(ctx context.Context) (*auth.Store, func(), error)

func newTokenCreateCmd(open openTokens) *cobra.Command {
	var role, scope, subject, createdBy string
	cmd := &cobra.Command{
		Use:   "create --role ROLE --scope PATH --subject NAME",
		Short: "Create a token and print it (shown only this once)",
		Example: `  ledger token create --role clerk --scope 33/3303/330303/330303001/330303001001 --subject 罗西社区文书
  ledger token create --role auditor --scope '*' --subject 区审计局
  export LEDGER_TOKEN=$(ledger token create --role admin --scope 33/3303/330303 --subject 龙湾区民政局)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := commands.ParseRole(role)
			if err != nil {
				return usageError{cmd: "token create", err: fmt.Errorf("--role: %w", err)}
			}
			if createdBy == "" {
				createdBy = "cli:" + operator()
			}
			n := auth.NewToken{Subject: subject, Role: r, Scope: scope, CreatedBy: createdBy}
			if err := n.Validate(); err != nil {
				return usageError{cmd: "token create", err: err}
			}
			s, done, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			secret, t, err := s.Create(cmd.Context(), n)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), secret)
			fmt.Fprintf(cmd.ErrOrStderr(), "created token %s: role %s, scope %s, subject %s.\n"+
				"Store it now: it is shown only this once (ledger token revoke %s withdraws it).\n",
				t.ID, t.Role, t.Scope, t.Subject, t.ID)
			return nil
		},
	}
	cmd.Flags().StringVar(&role, "role", "", "clerk, committee, auditor, supervisor or admin (required)")
	cmd.Flags().StringVar(&scope, "scope", "", "jurisdiction path the token may act under, or * for everywhere (required)")
	cmd.Flags().StringVar(&subject, "subject", "", "account name, recorded as the actor of the token's events (required; not an ID number)")
	cmd.Flags().StringVar(&createdBy, "created-by", "", "who creates the token (default cli:<your user name>)")
	for _, f := range []string{"role", "scope", "subject"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}

func newTokenListCmd(open openTokens) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List every token (never the secrets), revoked ones included",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, done, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			list, err := s.List(cmd.Context())
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tROLE\tSCOPE\tSUBJECT\tCREATED\tCREATED BY\tREVOKED")
			for _, t := range list {
				revoked := "-"
				if t.RevokedAt != nil {
					revoked = t.RevokedAt.Format(time.RFC3339)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Role, t.Scope, t.Subject, t.CreatedAt.Format(time.RFC3339), t.CreatedBy, revoked)
			}
			return w.Flush()
		},
	}
}

func newTokenRevokeCmd(open openTokens) *cobra.Command {
	return &cobra.Command{
		Use:     "revoke ID",
		Short:   "Revoke a token from now on (ledger token list shows the ids)",
		Example: "  ledger token revoke 0193a4c2-7e4b-7c61-9a55-3f0c1d2e4b5a",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{cmd: "token revoke", err: errors.New("give the id of the token to revoke (ledger token list shows them)")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			s, done, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			t, err := s.Revoke(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked token %s (role %s, scope %s, subject %s) at %s\n",
				t.ID, t.Role, t.Scope, t.Subject, t.RevokedAt.Format(time.RFC3339))
			return nil
		},
	}
}

// operator names the person running the CLI, for the created_by of a token.
func operator() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if n := os.Getenv("USER"); n != "" {
		return n
	}
	return "unknown"
}
