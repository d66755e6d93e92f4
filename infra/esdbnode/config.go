package esdbnode

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"
)

// DefaultMaxBatch is the default group-commit cap in events. It bounds the size of one bbolt transaction (and
// so the memory it dirties and the latency of its fsync) while leaving room for many concurrent appends to
// share one fsync.
const DefaultMaxBatch = 8192

// Config configures a Node.
type Config struct {
	// Dir is the data directory; it is created if missing. The store is the file events.db inside it. Only
	// one node may own a directory at a time.
	Dir string
	// Listen is the TCP address the gRPC server binds, default "127.0.0.1:0" (loopback, a free port).
	// The node speaks plaintext gRPC without authentication: bind it to loopback unless something in front
	// of it authenticates and encrypts.
	Listen string
	// AllowRemote lets Listen name an address beyond loopback. The node has no authentication and no TLS:
	// whoever reaches it may append any event, around every authorization of the command API. Set it only
	// when something in front authenticates and encrypts, or the network is the ledger's own.
	AllowRemote bool
	// Logger receives operational logs (open, close, refused files, commit failures). Default slog.Default().
	Logger *slog.Logger
	// MaxBatch caps how many events one group commit (one bbolt transaction, one fsync) may carry. An append
	// larger than the cap is committed alone. Default DefaultMaxBatch.
	MaxBatch int

	// indexSoftCap, indexFlushChunk and indexIdleFlush override tailSoftCap, flushChunk and idleFlushAfter
	// (index.go); tests change them to exercise index flushes that split a stream's tail.
	indexSoftCap, indexFlushChunk int
	indexIdleFlush                time.Duration
}

func (c *Config) setDefaults() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:0"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	if c.indexSoftCap == 0 {
		c.indexSoftCap = tailSoftCap
	}
	if c.indexFlushChunk == 0 {
		c.indexFlushChunk = flushChunk
	}
	if c.indexIdleFlush == 0 {
		c.indexIdleFlush = idleFlushAfter
	}
}

// Validate reports what is wrong with c. Zero values that have a default are valid.
func (c Config) Validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("data directory (Dir) is required: the node keeps its events there"))
	}
	if c.Listen != "" {
		host, _, err := net.SplitHostPort(c.Listen)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("listen address %q is not host:port: %w", c.Listen, err))
		case !c.AllowRemote && !loopback(host):
			errs = append(errs, fmt.Errorf("listen address %q is not loopback: the node has no authentication or TLS, so whoever "+
				"reaches it could append events around the command API's authorization; listen on 127.0.0.1 or [::1], or allow "+
				"it knowingly behind something that authenticates (ledger serve --node-allow-remote, ledger node --allow-remote)", c.Listen))
		}
	}
	if c.MaxBatch < 0 {
		errs = append(errs, fmt.Errorf("group-commit cap (MaxBatch) %d must not be negative", c.MaxBatch))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("esdbnode config: %w", err)
	}
	return nil
}

// loopback reports whether host (of a listen address) is this machine only: localhost or a loopback IP.
// An empty host is every interface.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
