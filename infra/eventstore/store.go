// Package eventstore is the ledger's adapter to EventStoreDB: the only code in the project that imports the
// EventStoreDB client (github.com/EventStore/EventStore-Client-Go/v4). It speaks the same gRPC protocol to a
// real EventStoreDB/KurrentDB server and to the embedded node (infra/esdbnode), and translates between the
// client's types and the envelope of domain/eventlog: ids, revisions, $all positions, the metadata JSON and
// the per-stream hash chain, which Append seals.
//
// Every method takes a context first and is safe for concurrent use.
package eventstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/grassroots-ledger/ledger/infra/outage"
)

// Config says which server to talk to.
type Config struct {
	// URL is an EventStoreDB connection string: "esdb://127.0.0.1:2113?tls=false" for one node (the embedded
	// node's URL has this form), "esdb+discover://host:2113" or several hosts for a cluster. It may carry
	// credentials; they are never logged or put into errors.
	URL string
	// Logger receives the client library's own log lines (discovery, reconnects, dropped subscriptions), at
	// Debug and Warn. Defaults to slog.Default().
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports a configuration Dial cannot use.
func (c Config) Validate() error {
	if c.URL == "" {
		return errors.New("eventstore: no URL (want esdb://host:port?tls=false or esdb+discover://…)")
	}
	if _, err := esdb.ParseConnectionString(c.URL); err != nil {
		return fmt.Errorf("eventstore: URL %s is not an EventStoreDB connection string (esdb://host:port?tls=false): %v",
			redact(c.URL), redactErr(err, c.URL))
	}
	return nil
}

// ErrClosed is returned by every method of a Store after Close. The caller must Dial again.
var ErrClosed = errors.New("eventstore: store is closed")

// Store is a connection to an EventStoreDB server (or the embedded node).
//
// The client library connects lazily and, when a node cannot be reached MaxDiscoverAttempts times in a row
// (about a second for a single node), gives up for good. The Store hides that: an operation that finds the
// client given up fails, and the next one starts a fresh client, so a server restart costs the caller
// failed calls, never a dead Store.
type Store struct {
	cfg  Config
	conf esdb.Configuration // parsed once; copied for every new client
	log  *slog.Logger

	// stop is cancelled by Close: every call in flight runs under a context that ends with it, and Close
	// waits for them (ops) before closing the client, which panics on calls that race with its Close.
	stop     context.Context
	stopCall context.CancelFunc
	ops      sync.WaitGroup
	// abandoned counts calls guard gave up on that are still blocked inside a client.
	abandoned atomic.Int64

	mu     sync.RWMutex
	client *esdb.Client
	closed bool
	// retired is closed when client is replaced: calls still waiting inside the old client give up at
	// once (guard) instead of after openTimeout, and the callers retry on the fresh one.
	retired chan struct{}

	outMu sync.Mutex
	// away is the log of the store being unreachable: the first replacement of a client is logged, then one
	// line a minute, and one when a call is answered again.
	away outage.Log
}

// retiredSignal is closed once client c is no longer the Store's client.
func (s *Store) retiredSignal(c *esdb.Client) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.retired == nil {
		s.retired = make(chan struct{})
	}
	if s.client != c {
		done := make(chan struct{})
		close(done)
		return done
	}
	return s.retired
}

// Dial parses cfg.URL, creates the client and makes one round trip to the server so a wrong address fails
// here with a clear error rather than at the first append. The round trip gives up when ctx is done.
func Dial(ctx context.Context, cfg Config) (*Store, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	conf, err := esdb.ParseConnectionString(cfg.URL)
	if err != nil { // checked by Validate
		return nil, fmt.Errorf("eventstore: %w", err)
	}
	conf.Logger = clientLogger(cfg.Logger)
	s := &Store{cfg: cfg, conf: *conf, log: cfg.Logger}
	s.stop, s.stopCall = context.WithCancel(context.Background())
	client, err := s.newClient()
	if err != nil {
		return nil, err
	}
	s.client = client

	// GetServerVersion forces discovery (ServerFeatures on a single node) and ignores contexts, so it runs
	// aside while this call honours ctx; the client is closed only after it returns.
	done := make(chan error, 1)
	s.ops.Add(1)
	go func() {
		defer s.ops.Done()
		_, err := client.GetServerVersion()
		done <- err
	}()
	select {
	case err = <-done:
		if err != nil {
			s.Close()
		}
	case <-ctx.Done():
		err = ctx.Err()
		go s.Close() // once the probe returns
	}
	if err != nil {
		return nil, fmt.Errorf("eventstore: connect to %s: %w", redact(cfg.URL), err)
	}
	return s, nil
}

func (s *Store) newClient() (*esdb.Client, error) {
	conf := s.conf
	client, err := esdb.NewClient(&conf)
	if err != nil {
		return nil, fmt.Errorf("eventstore: create client for %s: %w", redact(s.cfg.URL), err)
	}
	return client, nil
}

// closeWait bounds how long Close waits for calls in flight to notice it.
const closeWait = 10 * time.Second

// Close ends the connection: calls in flight are cancelled and fail with ErrClosed, as do later calls.
// Close is idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()

	s.stopCall()
	drained := make(chan struct{})
	go func() { s.ops.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(closeWait):
		// A call stuck inside the client (it can block reporting an error to a connection loop that has
		// ended) would panic if the client were closed under it: leave the client to the garbage collector.
		s.log.Warn("eventstore: calls still in flight after Close; leaving the client unclosed")
		return nil
	}
	if s.abandoned.Load() > 0 { // calls abandoned by guard are still inside a client: same reason
		s.log.Warn("eventstore: calls blocked inside the client after Close; leaving the client unclosed")
		return nil
	}
	return s.client.Close()
}

// begin starts a call: it returns the client to use and a context that ends with ctx or with Close, and
// end must be called when the call no longer uses the client.
func (s *Store) begin(ctx context.Context) (c *esdb.Client, callCtx context.Context, end func(), err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, nil, nil, ErrClosed
	}
	s.ops.Add(1)
	callCtx, cancel := context.WithCancel(ctx)
	unhook := context.AfterFunc(s.stop, cancel)
	return s.client, callCtx, func() {
		unhook()
		cancel()
		s.ops.Done()
	}, nil
}

func (s *Store) isClosed() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closed
}

// check inspects an error of client c. When c has given up connecting (ErrorCodeConnectionClosed without our
// Close), it is replaced, so the next call starts a new discovery. The dead client is not closed: its
// connection loop has already ended, and closing its channel could panic a goroutine still reporting an
// error into it.
func (s *Store) check(c *esdb.Client, err error) {
	var esErr *esdb.Error
	if err == nil || !errors.As(err, &esErr) || esErr.Code() != esdb.ErrorCodeConnectionClosed {
		return
	}
	s.replace(c, "server unreachable")
}

// answered notes a call the store answered: it ends an outage the log reported.
func (s *Store) answered() {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	s.away.Over(s.log, time.Now(), "eventstore: the event store answers again", "url", redact(s.cfg.URL))
}

// redact returns the URL without its password, for logs and errors.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return stripUserinfo(raw)
	}
	return u.Redacted()
}

// redactErr renders err with the credentials of raw (which may not parse as a URL) removed.
func redactErr(err error, raw string) string {
	msg := err.Error()
	if userinfo := userinfoOf(raw); userinfo != "" {
		msg = strings.ReplaceAll(msg, userinfo, "xxxxx")
		if _, pw, ok := strings.Cut(userinfo, ":"); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
	}
	return msg
}

// stripUserinfo replaces the user:password part of a URL-like string that may not parse.
func stripUserinfo(raw string) string {
	if userinfo := userinfoOf(raw); userinfo != "" {
		return strings.Replace(raw, userinfo+"@", "xxxxx@", 1)
	}
	return raw
}

// userinfoOf returns the "user:password" of scheme://user:password@host…, or "".
func userinfoOf(raw string) string {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	at := strings.LastIndex(rest, "@")
	if at <= 0 {
		return ""
	}
	return rest[:at]
}

// clientLogger routes the client library's printf-style log lines to slog. Every failure the client logs also
// comes back to our caller as an error, so its lines are secondary: its errors become warnings (debug when
// the caller cancelled), the rest (each failed discovery attempt is a warning there) debug lines.
func clientLogger(l *slog.Logger) esdb.LoggingFunc {
	return func(level esdb.LogLevel, format string, args ...any) {
		lv := slog.LevelDebug
		if level == esdb.LogError {
			lv = slog.LevelWarn
			for _, a := range args {
				if err, ok := a.(error); ok && (errors.Is(err, context.Canceled) || status.Code(err) == codes.Canceled) {
					lv = slog.LevelDebug
				}
			}
		}
		ctx := context.Background()
		if !l.Enabled(ctx, lv) {
			return
		}
		l.Log(ctx, lv, "esdb client: "+fmt.Sprintf(format, args...))
	}
}

// openTimeout bounds how long a call may take to get a connection from the client and open its request.
const openTimeout = 15 * time.Second

// guard runs open — a call of client c that obtains a connection and opens a request (an append, a read,
// a subscription) — and returns its result, or an error as soon as ctx ends or openTimeout passes. The
// client's connection loop can end (a discovery that failed while the server was down) with calls still
// queued for it; such a call blocks inside the client for good, whatever its context. It is abandoned:
// it keeps its own count of calls in flight (so Close never closes the client under it), the client is
// replaced so that the next call starts a new discovery, and the caller is told. Without this, a caller
// holding other resources (a database connection, a lock) would hold them for ever, and the component
// would never recover when the server came back.
func guard[T any](s *Store, ctx context.Context, c *esdb.Client, what string, open func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := open()
		done <- result{v, err}
	}()
	t := time.NewTimer(openTimeout)
	defer t.Stop()
	var zero T
	abandon := func() { // whatever the call opens later is closed, not leaked
		s.abandoned.Add(1)
		go func() {
			defer s.abandoned.Add(-1)
			if r := <-done; r.err == nil {
				switch v := any(r.v).(type) {
				case interface{ Close() error }:
					_ = v.Close()
				case interface{ Close() }:
					v.Close()
				}
			}
		}()
	}
	retired := s.retiredSignal(c)
	select {
	case r := <-done:
		if r.err == nil {
			s.answered()
		}
		return r.v, r.err
	case <-retired:
		select {
		case r := <-done: // it answered meanwhile
			return r.v, r.err
		default:
		}
		abandon()
		return zero, fmt.Errorf("%s: the client was replaced while the call waited in it: %w", what, ErrUnavailable)
	case <-ctx.Done():
		abandon()
		if s.isClosed() {
			return zero, ErrClosed
		}
		return zero, ctx.Err()
	case <-t.C:
		abandon()
		s.replace(c, what+": no answer")
		return zero, fmt.Errorf("%s: no connection to the event store within %s: %w", what, openTimeout, ErrUnavailable)
	}
}

// replace swaps client c, which gave up or stopped answering, for a fresh one (unless Close ran or another
// call replaced it already), so that the next call starts a new discovery. The old client is not closed:
// a call may still be blocked inside it, and closing its channel could panic a goroutine reporting into it.
func (s *Store) replace(c *esdb.Client, what string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.client != c {
		return
	}
	fresh, err := s.newClient()
	if err != nil {
		s.log.Warn("eventstore: cannot replace a client that stopped answering", "err", err)
		return
	}
	s.outMu.Lock()
	s.away.Fail(s.log, time.Now(), "eventstore: the client is replaced; the next call reconnects", "why", what, "url", redact(s.cfg.URL))
	s.outMu.Unlock()
	s.client = fresh
	if s.retired != nil {
		close(s.retired) // calls waiting inside the old client give up now
	}
	s.retired = make(chan struct{})
}
