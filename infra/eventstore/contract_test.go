package eventstore_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/infra/esdbnode"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
	"github.com/grassroots-ledger/ledger/infra/eventstore/storetest"
)

// nodeDirEnv, when set, makes the test binary a child node for the crash test instead of running tests.
const nodeDirEnv = "LEDGER_TEST_NODE_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(nodeDirEnv); dir != "" {
		os.Exit(runChildNode(dir))
	}
	os.Exit(m.Run())
}

// runChildNode serves a node on dir, prints its URL on stdout and runs until killed (or until the parent
// closes stdin, so a child never outlives a crashed test).
func runChildNode(dir string) int {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	node, err := esdbnode.Open(context.Background(), esdbnode.Config{Dir: dir, Listen: "127.0.0.1:0", Logger: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child node:", err)
		return 1
	}
	fmt.Println(node.URL())
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = node.Close()
	return 0
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func dial(t *testing.T, url string) *eventstore.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := eventstore.Dial(ctx, eventstore.Config{URL: url, Logger: quietLogger()})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func openNodeB(b *testing.B, dir string) *esdbnode.Node {
	b.Helper()
	node, err := esdbnode.Open(context.Background(), esdbnode.Config{Dir: dir, Listen: "127.0.0.1:0", Logger: quietLogger()})
	if err != nil {
		b.Fatalf("open node on %s: %v", dir, err)
	}
	return node
}

func openNode(t *testing.T, dir string) *esdbnode.Node {
	t.Helper()
	node, err := esdbnode.Open(context.Background(), esdbnode.Config{Dir: dir, Listen: "127.0.0.1:0", Logger: quietLogger()})
	if err != nil {
		t.Fatalf("open node on %s: %v", dir, err)
	}
	return node
}

func TestContract(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		dir := t.TempDir()
		node := openNode(t, dir)
		t.Cleanup(func() { node.Close() })
		storetest.Run(t, storetest.Harness{
			Open: func(t *testing.T) *eventstore.Store { return dial(t, node.URL()) },
			Restart: func(t *testing.T) {
				if err := node.Close(); err != nil {
					t.Fatalf("close node: %v", err)
				}
				node = openNode(t, dir)
			},
			Crash: func(t *testing.T) storetest.Process {
				c := &childNode{dir: t.TempDir()}
				c.Start(t)
				t.Cleanup(c.stop)
				return c
			},
		})
	})
	t.Run("real", func(t *testing.T) {
		url := os.Getenv("EVENTSTORE_URL")
		if url == "" {
			t.Skip("set EVENTSTORE_URL=esdb://host:2113?tls=false to run the contract against a real EventStoreDB too")
		}
		storetest.Run(t, storetest.Harness{Open: func(t *testing.T) *eventstore.Store { return dial(t, url) }})
	})
}

// childNode runs a node in a child process (this test binary, see TestMain) that can be killed with SIGKILL.
type childNode struct {
	dir   string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	url   string
}

func (c *childNode) Start(t *testing.T) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), nodeDirEnv+"="+c.dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child node: %v", err)
	}
	c.cmd, c.stdin = cmd, stdin
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- strings.TrimSpace(s)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case c.url = <-line:
	case <-time.After(30 * time.Second):
		c.stop()
		t.Fatal("child node printed no URL in 30 s")
	}
	if !strings.HasPrefix(c.url, "esdb://") {
		c.stop()
		t.Fatalf("child node printed %q, want its URL", c.url)
	}
}

func (c *childNode) Open(t *testing.T) *eventstore.Store { return dial(t, c.url) }

func (c *childNode) Kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill child node: %v", err)
	}
	_ = c.cmd.Wait() // "signal: killed"
	_ = c.stdin.Close()
	c.cmd = nil
}

func (c *childNode) stop() {
	if c.cmd == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	_ = c.cmd.Wait()
	_ = c.stdin.Close()
	c.cmd = nil
}
