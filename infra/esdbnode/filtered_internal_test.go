package esdbnode

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	bolt "go.etcd.io/bbolt"
)

// An index that points a selected stream's revision at another stream's event is damage: the filtered
// catch-up through the indexes stops with an error that says so instead of sending that event.
func TestIndexedCatchUpRefusesAnEventOfAnotherStream(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := Open(ctx, Config{Dir: dir, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	c := testClient(t, n.URL())
	for _, s := range []string{"keep-1", "other-1", "keep-1", "keep-1"} {
		if _, err := c.AppendToStream(ctx, s, esdb.AppendToStreamOptions{}, esdb.EventData{EventType: "E", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.Close(); err != nil { // the index tail is flushed to the buckets
		t.Fatal(err)
	}

	db, err := bolt.Open(filepath.Join(dir, dataFileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		streamsB, revs := tx.Bucket(bucketStreams), tx.Bucket(bucketRevs)
		keep, err := decodeHeadValue([]byte("keep-1"), streamsB.Get([]byte("keep-1")))
		if err != nil {
			return err
		}
		other, err := decodeHeadValue([]byte("other-1"), streamsB.Get([]byte("other-1")))
		if err != nil {
			return err
		}
		pos, err := decodeIndexValue(revKey(other.num, 0), revs.Get(revKey(other.num, 0)))
		if err != nil {
			return err
		}
		k := revKey(keep.num, 1) // keep-1's second event (not its last, which opening checks) now "is" other-1's
		return revs.Put(k, indexValue(k, pos))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	n, err = Open(ctx, Config{Dir: dir, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	c = testClient(t, n.URL())
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second) // a catch-up that neither errs nor sends ends here
	defer cancel()
	sub, err := c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: esdb.Start{},
		Filter: &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{"keep-"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for sent := 0; ; {
		ev := sub.Recv()
		if ev.SubscriptionDropped != nil {
			if !strings.Contains(ev.SubscriptionDropped.Error.Error(), "corrupt") {
				t.Fatalf("dropped with %v, which does not say corrupt", ev.SubscriptionDropped.Error)
			}
			return
		}
		if ev.EventAppeared != nil {
			t.Logf("sent %s@%d", ev.EventAppeared.OriginalEvent().StreamID, ev.EventAppeared.OriginalEvent().EventNumber)
			if s := ev.EventAppeared.OriginalEvent().StreamID; s != "keep-1" {
				t.Fatalf("the catch-up on keep- sent an event of %s", s)
			}
			if sent++; sent > 1 {
				t.Fatal("the catch-up sent more than keep-1's first event and no error")
			}
		}
	}
}
