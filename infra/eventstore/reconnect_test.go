package eventstore_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/esdbnode"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
	"github.com/grassroots-ledger/ledger/infra/logtest"
)

// The client library gives up for good when discovery fails; the Store must survive that: calls fail with
// ErrUnavailable while the server is down and succeed again once it is back on the same address.
func TestStoreReconnectsAfterServerRestart(t *testing.T) {
	dir := t.TempDir()
	node := openNode(t, dir)
	addr := node.Addr()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	logs := &logtest.Lines{}
	st, err := eventstore.Dial(ctx, eventstore.Config{URL: node.URL(), Logger: logs.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	first := []eventlog.Event{{ID: eventlog.DeriveID("reconnect", 0), Type: "test.recorded", Data: []byte(`{}`)}}
	if _, err := st.Append(ctx, "reconnect-1-1", eventlog.NoStream(), first); err != nil {
		t.Fatal(err)
	}
	if err := node.Close(); err != nil {
		t.Fatal(err)
	}
	// The server's port stays taken while it is down, by a listener that closes every connection at once:
	// freed, it could go to a node another test process opens meanwhile (CI runs packages side by side), and
	// the client would then reach that node instead of failing.
	hold := holdPort(t, addr)
	// Calls fail while the server is down, long enough for the client to give up discovery.
	second := []eventlog.Event{{ID: eventlog.DeriveID("reconnect", 1), Type: "test.recorded", Data: []byte(`{}`)}}
	for down := time.Now(); time.Since(down) < 3*time.Second; time.Sleep(100 * time.Millisecond) {
		if _, err := st.Append(ctx, "reconnect-1-1", eventlog.At(0, first[0].Meta.Hash), second); !errors.Is(err, eventstore.ErrUnavailable) {
			t.Fatalf("append with the server down: %v, want ErrUnavailable", err)
		}
		if _, err := st.Load(ctx, "reconnect-1-1"); !errors.Is(err, eventstore.ErrUnavailable) {
			t.Fatalf("load with the server down: %v, want ErrUnavailable", err)
		}
	}
	if logs.Count("the next call reconnects") == 0 {
		t.Error("the client never gave up discovery: the replacement path is untested")
	}

	hold.Close()
	node, err = esdbnode.Open(ctx, esdbnode.Config{Dir: dir, Listen: addr, Logger: quietLogger()})
	if err != nil {
		t.Fatalf("reopen the node on %s: %v", addr, err)
	}
	t.Cleanup(func() { node.Close() })
	var loaded []eventlog.Recorded
	for back := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		if loaded, err = st.Load(ctx, "reconnect-1-1"); err == nil {
			break
		}
		if time.Since(back) > 20*time.Second {
			t.Fatalf("still failing 20 s after the server came back: %v", err)
		}
	}
	res, err := st.Append(ctx, "reconnect-1-1", eventlog.After(loaded), second)
	if err != nil || res.Revision != 1 {
		t.Fatalf("append after reconnecting: %+v, %v", res, err)
	}
	// The operator is told once that the store went away and once that it is back, not at every client
	// given up while it was away.
	if gone, back := logs.Count("the next call reconnects"), logs.Count("the event store answers again"); gone != 1 || back != 1 {
		t.Errorf("logged the store gone %d times and back %d times over one outage of seconds; want once each", gone, back)
	}
}

// holdPort listens on addr and closes every connection it accepts, until the listener is closed.
func holdPort(t *testing.T, addr string) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("hold %s while the server is down: %v", addr, err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return // closed
			}
			c.Close()
		}
	}()
	t.Cleanup(func() { l.Close() })
	return l
}

func TestClosedStore(t *testing.T) {
	node := openNode(t, t.TempDir())
	t.Cleanup(func() { node.Close() })
	st := dial(t, node.URL())
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ctx := context.Background()
	if _, err := st.Load(ctx, "x-1-1"); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("Load on a closed store: %v", err)
	}
	if _, err := st.Append(ctx, "x-1-1", eventlog.Any(), []eventlog.Event{{ID: eventlog.DeriveID("c", 0), Type: "t"}}); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("Append on a closed store: %v", err)
	}
	if err := st.ReadAll(ctx, eventlog.Start, 0, func(eventlog.Recorded) error { return nil }); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("ReadAll on a closed store: %v", err)
	}
	if err := st.SubscribeAll(ctx, eventlog.Start, eventlog.Filter{}, func(eventlog.Delivery) error { return nil }); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("SubscribeAll on a closed store: %v", err)
	}
}

// A subscription whose server goes away returns a wrapped error instead of hanging, so the caller can
// resubscribe from its checkpoint.
func TestSubscriptionDropsWhenServerStops(t *testing.T) {
	node := openNode(t, t.TempDir())
	st := dial(t, node.URL())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan error, 1)
	live := make(chan struct{})
	go func() {
		done <- st.SubscribeAll(ctx, eventlog.Start, eventlog.Filter{}, func(d eventlog.Delivery) error {
			if d.Event != nil {
				close(live)
			}
			return nil
		})
	}()
	if _, err := st.Append(ctx, "drop-1-1", eventlog.NoStream(), []eventlog.Event{{ID: eventlog.DeriveID("drop", 0), Type: "t", Data: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	<-live
	node.Close()
	select {
	case err := <-done:
		if err == nil || errors.Is(err, context.Canceled) {
			t.Fatalf("subscription ended with %v, want a drop error", err)
		}
		t.Logf("dropped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("subscription still blocked 30 s after the server stopped")
	}
}

// Close ends calls in flight: a live subscription returns ErrClosed.
func TestCloseEndsSubscription(t *testing.T) {
	node := openNode(t, t.TempDir())
	t.Cleanup(func() { node.Close() })
	st := dial(t, node.URL())
	subscribed := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- st.SubscribeAll(context.Background(), eventlog.Start, eventlog.Filter{}, func(d eventlog.Delivery) error {
			close(subscribed)
			return nil
		})
	}()
	if _, err := st.Append(context.Background(), "close-1-1", eventlog.NoStream(), []eventlog.Event{{ID: eventlog.DeriveID("close", 0), Type: "t", Data: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	<-subscribed
	closed := make(chan error, 1)
	go func() { closed <- st.Close() }()
	select {
	case err := <-done:
		if !errors.Is(err, eventstore.ErrClosed) {
			t.Fatalf("subscription ended with %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("subscription still running 10 s after Close")
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
}
