// Command ledger is the governance ledger's one binary: it serves the API and the public portal, runs the
// embedded EventStoreDB-protocol node, and carries the auditors' and operators' tools. It is the only
// place that reads flags and the environment and wires the parts together.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// LEDGER_CPUPROFILE=FILE writes a CPU profile of the whole command (go tool pprof FILE): where the
	// time of a rebuild, a replay or a verify goes, measured on the real command.
	if path := os.Getenv("LEDGER_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "ledger: LEDGER_CPUPROFILE: %v\n", err)
			os.Exit(1)
		}
		defer func() { pprof.StopCPUProfile(); _ = f.Close() }()
	}
	root := newRootCmd()
	if err := root.ExecuteContext(ctx); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(os.Stderr, "ledger: %v\nRun 'ledger %s --help' for usage.\n", err, ue.cmd)
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "ledger: %v\n", err)
		os.Exit(1)
	}
}

// usageError marks a mistake in how the command was called (exit status 2).
type usageError struct {
	cmd string
	err error
}

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "ledger",
		Short: "The governance ledger: village and community affairs as an immutable, auditable record",
		Long: `ledger records the elections, meetings, spending and public disclosures of village and
urban-community committees as immutable events, projects them into read models for a 24/7 public
portal and for auditors, and raises alerts when a rule is broken or a deadline passes.

Environment:
  EVENTSTORE_URL  an EventStoreDB/KurrentDB connection string (esdb://host:2113?tls=false);
                  unset: the embedded node is started in-process under --data.
  DATABASE_URL    the PostgreSQL database of the read models (postgres://user@host:port/db).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().String("log-level", "info", "log level: debug, info, warn, error")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		lvl, _ := cmd.Flags().GetString("log-level")
		var level slog.Level
		if err := level.UnmarshalText([]byte(lvl)); err != nil {
			return usageError{cmd: cmd.Name(), err: fmt.Errorf("--log-level %q: want debug, info, warn or error", lvl)}
		}
		// The log goes where the command's errors go: standard error, or what a caller (a test) set.
		slog.SetDefault(slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level})))
		return nil
	}
	root.AddCommand(newNodeCmd(), newServeCmd(), newTokenCmd(), newRecordCmd(), newRebuildCmd(), newDemoCmd(),
		newVerifyCmd(), newReplayCmd(), newExportCmd())
	root.AddCommand(newWebhooksCmd(), newProjectionsCmd(), newCopyStoreCmd(), newBackupCmd(), newRestoreCmd(), newLogCmd(), newWitnessCmd(), newKeysCmd())
	return root
}
