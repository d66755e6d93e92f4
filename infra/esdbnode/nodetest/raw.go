package nodetest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/esdbnode"
)

// Raw is the official client on node, writing bytes of the caller's choosing: what an attacker with
// write access to the store could append, bypassing the adapter that seals every event into its chain.
// It is closed when the test ends.
func Raw(tb testing.TB, node *esdbnode.Node) *esdb.Client {
	tb.Helper()
	return RawAt(tb, node.URL())
}

// RawAt is Raw on the store at url (a node another process or command started).
func RawAt(tb testing.TB, url string) *esdb.Client {
	tb.Helper()
	cfg, err := esdb.ParseConnectionString(url)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Logger = esdb.NoopLogging()
	c, err := esdb.NewClient(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// AppendRaw writes events to stream at the expected revision exactly as given: their metadata (hash
// links included) is stored as the caller set it.
func AppendRaw(tb testing.TB, c *esdb.Client, stream string, expected esdb.ExpectedRevision, evs ...eventlog.Event) {
	tb.Helper()
	data := make([]esdb.EventData, len(evs))
	for i, e := range evs {
		meta, err := json.Marshal(e.Meta)
		if err != nil {
			tb.Fatal(err)
		}
		data[i] = esdb.EventData{EventID: uuid.UUID(e.ID), EventType: e.Type, ContentType: esdb.ContentTypeJson, Data: e.Data, Metadata: meta}
	}
	if _, err := c.AppendToStream(context.Background(), stream, esdb.AppendToStreamOptions{ExpectedRevision: expected}, data...); err != nil {
		tb.Fatalf("raw append to %s: %v", stream, err)
	}
}

// FirstEvent is the first event of $all, read with c.
func FirstEvent(tb testing.TB, c *esdb.Client) *esdb.RecordedEvent {
	tb.Helper()
	rs, err := c.ReadAll(context.Background(), esdb.ReadAllOptions{From: esdb.Start{}}, 1)
	if err != nil {
		tb.Fatal(err)
	}
	defer rs.Close()
	ev, err := rs.Recv()
	if err != nil {
		tb.Fatalf("read the first event of $all: %v", err)
	}
	return ev.Event
}
