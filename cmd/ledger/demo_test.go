package main

import (
	"strings"
	"testing"
)

// `ledger demo`, as `make run` uses it, writes a history whose every hash chain verifies (`ledger
// verify`): the demo's appends go through the key store that seals personal data, and a stream written
// in several appends stays one chain.
func TestDemoWritesAHistoryThatVerifies(t *testing.T) {
	db := onEmbeddedNode(t)
	dir := t.TempDir()
	out, err := runLedger(t, "demo", "--communities", "2", "--years", "1", "--until", "2026-07-01", "--data", dir, "--database-url", db)
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	out, err = runLedger(t, "verify", "--data", dir, "--database-url", "")
	if err != nil || !strings.Contains(out, "intact") {
		t.Fatalf("verify of the demo's history: %v\n%s", err, out)
	}
}
