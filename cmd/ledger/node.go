package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/grassroots-ledger/ledger/infra/esdbnode"
)

func newNodeCmd() *cobra.Command {
	var dir, listen string
	var allowRemote bool
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Run the embedded EventStoreDB-protocol node on its own",
		Long: `node runs the embedded single-node store that speaks the EventStoreDB gRPC protocol, so any
EventStoreDB client can read (and write) a village's ledger:

  ledger node --data /var/lib/ledger --listen 127.0.0.1:2113
  # then, from any client: esdb://127.0.0.1:2113?tls=false

--data is the ledger's data directory, as for serve, rebuild, verify and replay: the events live in its
events/ subdirectory, so 'ledger node --data D' serves the very file 'ledger serve --data D' would open.
Every acknowledged append is fsynced. A corrupt or foreign file is refused at start. Stop with Ctrl-C or
SIGTERM.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return usageError{cmd: "node", err: fmt.Errorf("--data is required (the ledger's data directory; the events live in its events/ subdirectory)")}
			}
			dir = eventsDir(dir)
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return fmt.Errorf("create data directory: %w", err)
			}
			n, err := esdbnode.Open(cmd.Context(), esdbnode.Config{Dir: dir, Listen: listen, AllowRemote: allowRemote, Logger: slog.Default()})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ledger node: listening on %s (connect with %s), data in %s\n", n.Addr(), n.URL(), dir)
			<-cmd.Context().Done()
			slog.Info("node: shutting down")
			return n.Close()
		},
	}
	cmd.Flags().StringVar(&dir, "data", "", "the ledger's data directory, as for serve: the events live in DIR/events (created if missing)")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:2113", "address to listen on for gRPC; loopback only unless --allow-remote")
	cmd.Flags().BoolVar(&allowRemote, "allow-remote", false, "let --listen name an address beyond loopback: the node has no authentication or TLS, so only behind something that authenticates")
	return cmd
}
