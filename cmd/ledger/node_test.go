package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/infra/esdbnode"
)

// TestNodeAndServeAgreeOnTheDataDirectory: `ledger node --data D` opens the very events file that
// `ledger serve --data D` (and rebuild, verify, replay) would open: while the node runs, opening D's store
// is refused as locked; once it stopped, the same file opens.
func TestNodeAndServeAgreeOnTheDataDirectory(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, done := runNodeCmd(t, ctx, "--data", dir, "--listen", "127.0.0.1:0")
	if !strings.Contains(out.String(), filepath.Join(dir, "events")) {
		t.Errorf("the node does not say its events are in %s: %s", filepath.Join(dir, "events"), out.String())
	}
	if h, err := openStore(ctx, dir, nodeAt{}); !errors.Is(err, esdbnode.ErrLocked) {
		if h != nil {
			h.Close()
		}
		t.Fatalf("serve's store with the node running on the same --data: %v, want locked", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("node: %v", err)
	}
	h, err := openStore(context.Background(), dir, nodeAt{})
	if err != nil {
		t.Fatalf("serve's store after the node stopped: %v", err)
	}
	h.Close()
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 1 || entries[0].Name() != "events" {
		t.Fatalf("the data directory holds %v (%v), want only events/", entries, err)
	}
}

// TestTheNodeListensBeyondLoopbackOnlyWhenAllowed: the node has no authentication, so `ledger node` and
// `ledger serve` refuse a listen address beyond loopback, saying why and which flag allows it, and open
// nothing; with the flag the node listens there.
func TestTheNodeListensBeyondLoopbackOnlyWhenAllowed(t *testing.T) {
	t.Setenv("EVENTSTORE_URL", "")
	for _, args := range [][]string{
		{"node", "--data", t.TempDir(), "--listen", "0.0.0.0:0"},
		{"serve", "--data", t.TempDir(), "--http", "127.0.0.1:0", "--node-listen", ":0"},
	} {
		root := newRootCmd()
		var out syncBuffer
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs(args)
		err := root.ExecuteContext(context.Background())
		if err == nil || !strings.Contains(err.Error(), "not loopback") || !strings.Contains(err.Error(), "allow-remote") {
			t.Fatalf("ledger %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		if _, err := os.Stat(filepath.Join(args[2], "events", "events.db")); err == nil {
			t.Errorf("ledger %s created a store it then refused to serve", args[0])
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, done := runNodeCmd(t, ctx, "--data", t.TempDir(), "--listen", "0.0.0.0:0", "--allow-remote")
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("node: %v", err)
	}
}

// runNodeCmd runs `ledger node ARGS…` until ctx ends and returns once it listens: its output, and where
// its end is reported.
func runNodeCmd(t *testing.T, ctx context.Context, args ...string) (*syncBuffer, <-chan error) {
	t.Helper()
	root := newRootCmd()
	out := &syncBuffer{}
	root.SetOut(out)
	root.SetErr(out)
	root.SetArgs(append([]string{"node"}, args...))
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(out.String(), "listening on"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("ledger node %s did not start: %s", strings.Join(args, " "), out.String())
		}
	}
	return out, done
}
