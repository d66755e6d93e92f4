package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/events"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	sup "github.com/grassroots-ledger/ledger/domain/supervision"
	"github.com/grassroots-ledger/ledger/infra/auth"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

func newProjectionsCmd() *cobra.Command {
	var dbURL string
	cmd := &cobra.Command{
		Use:   "projections",
		Short: "Show each read model's state: running or halted, its checkpoint, its poison events",
		Long: `projections lists every read model with its state (running, or halted with the event it stopped
at), its checkpoint ($all position), when it last applied an event, and the events it could not apply
(rm_meta.poison_events: skipped by its policy, halting it, or skipped by an operator).

A model halted on an event it can never apply (it names the position) can be moved past it without a
code change, by a ledger-wide administrator; the decision is recorded as an event:

  ledger projections skip finances 1234/1234 --reason "金额超出列宽，已核实为录入错误" --token $LEDGER_TOKEN`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			pool, err := openDBSized(ctx, dbURL, 2)
			if err != nil {
				return err
			}
			defer pool.Close()
			rows, err := pool.Query(ctx, `SELECT p.name, p.state, coalesce(p.halt_reason, ''),
				(SELECT count(*) FROM rm_meta.poison_events e WHERE e.projection = p.name AND e.policy = 'skip-and-report'),
				(SELECT count(*) FROM rm_meta.poison_events e WHERE e.projection = p.name AND e.policy = 'skipped')
				FROM rm_meta.projections p ORDER BY p.name`)
			if err != nil {
				return fmt.Errorf("read the read models' states (has serve or rebuild run on this database?): %w", err)
			}
			defer rows.Close()
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(w, "MODEL\tSTATE\tCHECKPOINT\tLAST EVENT (China time)\tSKIPPED (policy)\tSKIPPED (operator)\tHALTED AT")
			type row struct {
				name, state, reason string
				policy, operator    int64
			}
			var all []row
			for rows.Next() {
				var r row
				if err := rows.Scan(&r.name, &r.state, &r.reason, &r.policy, &r.operator); err != nil {
					return err
				}
				all = append(all, r)
			}
			if err := rows.Err(); err != nil {
				return err
			}
			for _, r := range all {
				var c, p int64
				var last *time.Time
				cp, lastAt := "-", "-"
				if err := pool.QueryRow(ctx, "SELECT commit_pos, prepare_pos, last_recorded_at FROM "+pgx.Identifier{runtime.SchemaOf(r.name), "checkpoint"}.Sanitize()).Scan(&c, &p, &last); err == nil {
					cp = fmt.Sprintf("%d/%d", c, p)
					if last != nil {
						lastAt = last.In(kernel.ChinaTime()).Format("2006-01-02 15:04:05")
					}
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", r.name, r.state, cp, lastAt, r.policy, r.operator, r.reason)
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&dbURL, "database-url", "", "PostgreSQL of the read models (default $DATABASE_URL)")
	cmd.AddCommand(newProjectionsSkipCmd())
	return cmd
}

func newProjectionsSkipCmd() *cobra.Command {
	var dbURL, data, reason, token string
	cmd := &cobra.Command{
		Use:   "skip MODEL POSITION --reason TEXT",
		Short: "Move a halted read model past the event it cannot apply (administrators; recorded as an event)",
		Long: `skip moves MODEL, halted on the event at POSITION (commit/prepare, as 'ledger projections' and
/healthz show it), past that event: its checkpoint becomes the event's position, the event is marked
skipped in rm_meta.poison_events, and a running 'ledger serve' resumes the model within seconds, without
a restart. The decision is recorded in the event store (supervision.poison-event-skipped on stream
operations-ledger-MODEL) with the reason and the administrator. The token (--token or LEDGER_TOKEN) must be
an administrator's of scope "*". The event itself stays in the history; the model will lack what it said.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			model := args[0]
			if _, err := readModelsNamed([]string{model}, nil); err != nil {
				return usageError{cmd: "projections skip", err: err}
			}
			at, err := eventlog.ParsePosition(args[1])
			if err != nil {
				return usageError{cmd: "projections skip", err: fmt.Errorf("POSITION %q: want commit/prepare, e.g. 1234/1234", args[1])}
			}
			if strings.TrimSpace(reason) == "" {
				return usageError{cmd: "projections skip", err: errors.New("--reason is required: say why the event may be skipped")}
			}
			if token == "" {
				token = os.Getenv("LEDGER_TOKEN")
			}
			if token == "" {
				return usageError{cmd: "projections skip", err: errors.New("no token: --token or LEDGER_TOKEN (an administrator's, scope *)")}
			}
			pool, err := openDBSized(ctx, dbURL, 4)
			if err != nil {
				return err
			}
			defer pool.Close()
			tokens, err := auth.Open(ctx, pool)
			if err != nil {
				return err
			}
			tok, err := tokens.Authenticate(ctx, token)
			if err != nil {
				return fmt.Errorf("the token: %w", err)
			}
			actor := tok.Actor()
			if err := commands.Authorize(actor, commands.Administer, "*"); err != nil {
				return fmt.Errorf("only a ledger-wide administrator (role admin, scope *) may skip an event: %w", err)
			}
			sh, err := openStore(ctx, data, nodeAt{})
			if err != nil {
				return err
			}
			defer sh.Close()
			// Not newRuntime: migrating would mark every model running, the halted one too.
			rt, err := runtime.New(runtime.Config{Pool: pool, Source: sh.Store, Migrate: pg.Migrator(pool), Models: readModels(nil)})
			if err != nil {
				return err
			}
			sk, err := rt.SkipPoison(ctx, model, at, reason, actor.String())
			if err != nil {
				return err
			}
			if err := recordSkip(ctx, sh.Store, actor, sk.Model, at, sk.EventID, sk.EventType, sk.Stream, reason); err != nil {
				return fmt.Errorf("the model was moved past the event, but recording the decision failed (run the same command again: it records it once): %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s moved past %s (%s %s@%d); a running serve resumes it within seconds\n",
				sk.Model, at, sk.EventType, sk.Stream, sk.Revision)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why the event may be skipped (recorded)")
	cmd.Flags().StringVar(&token, "token", "", "an administrator's API token, scope * (default $LEDGER_TOKEN)")
	cmd.Flags().StringVar(&dbURL, "database-url", "", "PostgreSQL of the read models (default $DATABASE_URL)")
	cmd.Flags().StringVar(&data, "data", ".ledger", "the ledger's data directory (when EVENTSTORE_URL is unset)")
	return cmd
}

// recordSkip appends the operator's decision; the same decision recorded twice is one event.
func recordSkip(ctx context.Context, store commands.EventStore, actor commands.Actor, model string, at eventlog.Position,
	eventID, eventType, stream, reason string) error {
	x := commands.NewExecutor(store, commands.SystemClock{}, events.MustRegistry(), nil)
	m := commands.Meta{CommandID: fmt.Sprintf("skip:%s:%d-%d", model, at.Commit, at.Prepare), Actor: actor}
	_, err := x.Execute(ctx, m, commands.Target{Stream: sup.OperationsStream(model), Path: "*"}, commands.Administer,
		func(_ []kernel.Event, now time.Time) ([]kernel.Event, error) {
			return []kernel.Event{sup.PoisonEventSkipped{Model: model, Position: at.String(), EventID: eventID, EventType: eventType,
				Stream: stream, Reason: reason, By: actor.String(), SkippedAt: now}}, nil
		})
	return err
}
