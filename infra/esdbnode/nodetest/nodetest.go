// Package nodetest starts the embedded node for a test and dials it with the real EventStoreDB client,
// the way `ledger serve` does: the store every integration test runs on.
package nodetest

import (
	"context"
	"log/slog"
	"testing"

	"github.com/grassroots-ledger/ledger/infra/esdbnode"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
)

// Start opens a node on a temporary directory and a free loopback port, dials it, and closes both when
// the test ends. A nil logger discards.
func Start(tb testing.TB, logger *slog.Logger) (*esdbnode.Node, *eventstore.Store) {
	tb.Helper()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx := context.Background()
	node, err := esdbnode.Open(ctx, esdbnode.Config{Dir: tb.TempDir(), Listen: "127.0.0.1:0", Logger: logger})
	if err != nil {
		tb.Fatalf("open the embedded node: %v", err)
	}
	tb.Cleanup(func() { _ = node.Close() })
	store, err := eventstore.Dial(ctx, eventstore.Config{URL: node.URL(), Logger: logger})
	if err != nil {
		tb.Fatalf("dial the embedded node: %v", err)
	}
	tb.Cleanup(func() { _ = store.Close() })
	return node, store
}
