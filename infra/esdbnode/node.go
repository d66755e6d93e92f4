package esdbnode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// gracefulStopTimeout bounds how long Close waits for in-flight calls (a subscriber stuck on a full flow-control
// window would otherwise hold it forever) before cutting connections.
const gracefulStopTimeout = 5 * time.Second

// Node is a running embedded EventStoreDB-protocol node: a gRPC server on Addr backed by the store in
// Config.Dir. It is safe for concurrent use; Close stops it.
type Node struct {
	log     *slog.Logger
	store   *store
	heads   *headWatch
	writer  *writer
	grpc    *grpc.Server
	lis     net.Listener
	closing chan struct{} // closed when Close starts: subscriptions end, new work is refused

	closeOnce sync.Once
	closeErr  error
	served    chan struct{}
}

// Open opens (or creates) the store in cfg.Dir and starts serving the EventStoreDB gRPC protocol on
// cfg.Listen. It refuses, with an error naming the file and the problem, a file that is not bbolt, a bbolt file
// that is not an esdbnode store (ErrForeign), an unknown format version (ErrUnsupportedFormat), a damaged
// header or tail (ErrCorrupt), and a directory another process holds (ErrLocked). Opening reads only the header
// and the last record, so it takes the same time whatever the size of the history.
func Open(ctx context.Context, cfg Config) (*Node, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	started := time.Now()
	st, head, err := openStore(ctx, cfg.Dir, cfg.Logger)
	if err != nil {
		cfg.Logger.Error("esdbnode: refusing to open store", "dir", cfg.Dir, "err", err)
		return nil, err
	}
	lis, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Listen)
	if err != nil {
		_ = st.close()
		return nil, fmt.Errorf("esdbnode: listen on %s: %w", cfg.Listen, err)
	}
	n := &Node{
		log:     cfg.Logger,
		store:   st,
		heads:   newHeadWatch(head),
		lis:     lis,
		closing: make(chan struct{}),
		served:  make(chan struct{}),
	}
	n.writer = newWriter(st, cfg.Logger, n.heads, head, cfg)
	codec, err := newWireCodec()
	if err != nil {
		_ = lis.Close()
		_ = st.close()
		return nil, err
	}
	n.grpc = grpc.NewServer(
		grpc.ForceServerCodecV2(codec),
		// The EventStoreDB client pings every 10 s, also between calls; the default policy (5 min, not without
		// streams) answers with GOAWAY "too_many_pings" and drops long subscriptions.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
		grpc.MaxRecvMsgSize(maxRecvMsgBytes),
		// Reads stream many small messages; a larger write buffer means fewer syscalls per event.
		grpc.WriteBufferSize(256<<10),
	)
	streams.RegisterStreamsServer(n.grpc, &streamsService{n: n})
	serverfeatures.RegisterServerFeaturesServer(n.grpc, featuresService{})

	go n.writer.run()
	go func() {
		defer close(n.served)
		if err := n.grpc.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			n.log.Error("esdbnode: gRPC server stopped", "err", err)
		}
	}()
	n.log.Info("esdbnode: serving", "addr", n.Addr(), "path", st.path, "head", head,
		"open_ms", time.Since(started).Milliseconds())
	return n, nil
}

// Addr returns the address the node listens on, "127.0.0.1:PORT".
func (n *Node) Addr() string { return n.lis.Addr().String() }

// URL returns the connection string for the EventStoreDB client: "esdb://ADDR?tls=false".
func (n *Node) URL() string { return "esdb://" + n.Addr() + "?tls=false" }

// Failed is why the node refuses every append — a commit that failed (a full disk, an I/O error) leaves
// the file's state untrustworthy until the node is restarted and re-reads it — or nil while it takes
// them. Reads go on being served either way.
func (n *Node) Failed() error {
	if err := n.writer.failure.Load(); err != nil {
		return *err
	}
	return nil
}

// Close stops the node gracefully: subscriptions end (the client sees them dropped), calls in flight finish,
// appends already queued are committed or refused, then the store is closed. Safe to call more than once.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		close(n.closing)
		stopped := make(chan struct{})
		go func() {
			n.grpc.GracefulStop()
			close(stopped)
		}()
		select {
		case <-stopped:
		case <-time.After(gracefulStopTimeout):
			n.log.Warn("esdbnode: calls still in flight after graceful stop timeout; cutting connections")
			n.grpc.Stop()
			<-stopped
		}
		<-n.served
		n.writer.stop()
		n.closeErr = n.store.close()
		n.log.Info("esdbnode: closed", "path", n.store.path)
	})
	return n.closeErr
}
