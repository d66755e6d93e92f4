package esdbnode_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/grassroots-ledger/ledger/infra/esdbnode"
)

// quietLogger keeps test output readable; set ESDBNODE_TEST_LOG=1 to see the node's logs.
func quietLogger() *slog.Logger {
	if os.Getenv("ESDBNODE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startNode opens a node on dir (a fresh temp dir when empty) and closes it when the test ends.
func startNode(t testing.TB, dir string) *esdbnode.Node {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	n, err := esdbnode.Open(context.Background(), esdbnode.Config{Dir: dir, Logger: quietLogger()})
	if err != nil {
		t.Fatalf("open node on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("close node: %v", err)
		}
	})
	return n
}

// newClient connects the real EventStoreDB client to addr-style URL and closes it when the test ends.
func newClient(t testing.TB, url string) *esdb.Client {
	t.Helper()
	c := dialClient(t, url)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// rawConn is a plain gRPC connection to n, below the official client, closed when the test ends.
func rawConn(t testing.TB, n *esdbnode.Node) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(n.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// dialClient connects the real EventStoreDB client to url; closing it is the caller's.
func dialClient(t testing.TB, url string) *esdb.Client {
	t.Helper()
	cfg, err := esdb.ParseConnectionString(url)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	cfg.Logger = esdb.NoopLogging()
	c, err := esdb.NewClient(cfg)
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	return c
}

func ev(eventType, data string) esdb.EventData {
	return esdb.EventData{
		EventID:     uuid.New(),
		EventType:   eventType,
		ContentType: esdb.ContentTypeJson,
		Data:        []byte(data),
		Metadata:    []byte(`{"actor":"test"}`),
	}
}

func evs(n int, eventType string) []esdb.EventData {
	out := make([]esdb.EventData, n)
	for i := range out {
		out[i] = ev(eventType, fmt.Sprintf(`{"i":%d}`, i))
	}
	return out
}

func isWrongExpectedVersion(err error) bool {
	var e *esdb.Error
	return errors.As(err, &e) && e.Code() == esdb.ErrorCodeWrongExpectedVersion
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// collect drains a read into recorded events.
func collect(t testing.TB, rs *esdb.ReadStream, err error) []*esdb.RecordedEvent {
	t.Helper()
	if err != nil {
		t.Fatalf("start read: %v", err)
	}
	defer rs.Close()
	var out []*esdb.RecordedEvent
	for {
		e, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		out = append(out, e.OriginalEvent())
	}
}

func readStream(t testing.TB, c *esdb.Client, stream string, opts esdb.ReadStreamOptions, count uint64) []*esdb.RecordedEvent {
	t.Helper()
	rs, err := c.ReadStream(ctxT(t), stream, opts, count)
	return collect(t, rs, err)
}

func readAll(t testing.TB, c *esdb.Client, opts esdb.ReadAllOptions, count uint64) []*esdb.RecordedEvent {
	t.Helper()
	rs, err := c.ReadAll(ctxT(t), opts, count)
	return collect(t, rs, err)
}

func revisions(es []*esdb.RecordedEvent) []uint64 {
	out := make([]uint64, len(es))
	for i, e := range es {
		out[i] = e.EventNumber
	}
	return out
}
