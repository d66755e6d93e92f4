package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/esdbnode"
	"github.com/grassroots-ledger/ledger/infra/esdbnode/nodetest"
)

// `ledger demo`, as `make run` uses it, writes a history whose every hash chain verifies (`ledger
// verify`): the demo's appends go through the key store that seals personal data, and a stream written
// in several appends stays one chain. An event appended past the adapter with no link to its stream's
// chain is then the first break verify names, and its progress line says it stopped there, not "done".
func TestDemoWritesAHistoryThatVerifies(t *testing.T) {
	db := onEmbeddedNode(t)
	dir := t.TempDir()
	out, err := runLedger(t, "demo", "--communities", "2", "--years", "1", "--until", "2026-07-01", "--data", dir, "--database-url", db)
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	out, err = runLedger(t, "verify", "--data", dir, "--database-url", "")
	if err != nil || !strings.Contains(out, "intact") || !strings.Contains(out, "verify: done") {
		t.Fatalf("verify of the demo's history: %v\n%s", err, out)
	}

	node, err := esdbnode.Open(context.Background(), esdbnode.Config{Dir: filepath.Join(dir, "events"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	raw := nodetest.Raw(t, node)
	first := nodetest.FirstEvent(t, raw)
	stream := first.StreamID
	nodetest.AppendRaw(t, raw, stream, esdb.Any{}, eventlog.Event{ID: eventlog.DeriveID("unlinked", 0), Type: first.EventType, Data: []byte(`{}`)})
	_ = raw.Close()
	if err := node.Close(); err != nil {
		t.Fatal(err)
	}
	out, err = runLedger(t, "verify", "--data", dir, "--database-url", "")
	if err == nil || !strings.Contains(err.Error(), stream) || !strings.Contains(out, "verify: stopped at the first break") || strings.Contains(out, "verify: done") {
		t.Fatalf("verify of a history with an unlinked event in %s: %v\n%s", stream, err, out)
	}
}
