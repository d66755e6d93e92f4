// Package audit holds the auditors' tools (审计、经管站): Verify walks the whole history and recomputes
// every stream's hash chain; Replay rebuilds one community's state as it stood at a past instant with the
// ledger's own read models, in scratch schemas it drops afterwards; Export writes one community's trail
// with its hashes and payloads as CSV, JSON Lines or XLSX for the auditor's own tools. The command line
// (ledger verify, replay, export) and the auditors' HTTP API (GET /api/v1/audit/…) are thin shells over
// an Auditor.
//
// Everything here reads the store of record (the event store), never a read model's copy of it: a read
// model may lag, be halted or be mid-rebuild, and it is exactly what an auditor wants to check.
package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// Store is the part of the event store the auditors' tools read. The client adapter (infra/eventstore)
// satisfies it.
type Store interface {
	// ReadAll calls fn for at most max events of $all from position from (inclusive), in order.
	ReadAll(ctx context.Context, from eventlog.Position, max int, fn func(eventlog.Recorded) error) error
	// ReadAllFiltered calls fn for the events of $all after position after (exclusive) that pass filter,
	// up to the head of $all when the read started; the filter runs on the server.
	ReadAllFiltered(ctx context.Context, after eventlog.Position, filter eventlog.Filter, fn func(eventlog.Recorded) error) error
	// ReadStream reads count events of stream from revision from (eventlog.ErrStreamNotFound when the
	// stream has none).
	ReadStream(ctx context.Context, stream string, from uint64, count int, backwards bool) ([]eventlog.Recorded, error)
	// Head is the position of the last event of $all (eventlog.Start when empty).
	Head(ctx context.Context) (eventlog.Position, error)
}

// PayloadOpener opens the sealed personal objects of payloads (infra/keys.Store): each clear, or
// {"subject":…,"erased":true} once the subject's key was destroyed.
type PayloadOpener interface {
	OpenPayloads(ctx context.Context, recs []eventlog.Recorded) ([][]byte, error)
}

// Config is what an Auditor needs. Verify and Export need only Store; Replay also needs Pool, Migrate
// and Models.
type Config struct {
	// Store is the store of record.
	Store Store
	// Pool is a PostgreSQL database where Replay may create and drop schemas (scratch_<random>_<model>).
	// Use the read models' database: the role that runs the projections may create schemas there.
	Pool *pgxpool.Pool
	// Migrate creates a new scratch schema with a read model's migrations (infra/pg.FreshMigrator: all of them in
	// one transaction; pg.Migrator works too, file by file).
	Migrate runtime.Migrator
	// Models are the read models Replay rebuilds: the same list the projections run, so a model added to
	// the ledger joins the replay without a change here.
	Models []runtime.ReadModel
	// Personal opens the sealed personal data of the payloads Export writes (the key store, infra/keys):
	// auditors see it clear, or erased. Nil: payloads are exported sealed, as stored.
	Personal PayloadOpener
	// Logger receives operational logs. Default slog.Default().
	Logger *slog.Logger
	// ReplayBatch is the most events Replay applies in one transaction. Default 5000.
	ReplayBatch int
	// Spare keeps one set of scratch schemas made ahead, in the background from New, so that the next
	// replay need not create its tables (about a third of a replay's time): for a long-running process
	// (serve). A replay's set is emptied after it answers and kept as the next spare. It holds one
	// database connection of its own while it waits; Close drops it.
	Spare bool
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.ReplayBatch <= 0 {
		c.ReplayBatch = 5000
	}
}

// Validate reports a configuration New cannot use.
func (c Config) Validate() error {
	if c.Store == nil {
		return errors.New("audit config: no Store: the auditors' tools read the event store")
	}
	seen := map[string]bool{}
	for _, m := range c.Models {
		if m == nil {
			return errors.New("audit config: a nil read model")
		}
		if seen[m.Name()] {
			return fmt.Errorf("audit config: two read models are named %q", m.Name())
		}
		seen[m.Name()] = true
	}
	return nil
}

// ErrReplayUnavailable means the Auditor was configured without a database or read models, so it cannot
// replay: configure Pool, Migrate and Models.
var ErrReplayUnavailable = errors.New("audit: replay needs a PostgreSQL pool, a migrator and the read models")

// ErrCommunityNotFound means the store holds no registration of the community (no community-<id>-profile
// stream). The caller answers 404; check the id.
var ErrCommunityNotFound = errors.New("audit: no such community in the ledger")

// ErrInvalid marks a request the caller must correct (a malformed community id, a time range that ends
// before it starts, an unknown format). The caller answers 400.
var ErrInvalid = errors.New("audit: invalid request")

// Auditor runs the auditors' tools. It is safe for concurrent use.
type Auditor struct {
	cfg Config
	// replayed are the models a community's replay rebuilds: cfg.Models but those of the whole log.
	replayed []runtime.ReadModel
	// spare holds the set of scratch schemas made ahead (Config.Spare); preparing is set while one is
	// being made, by a goroutine of spares; closed ends the making. Replays drop their schemas in
	// goroutines of spares too, after answering.
	spare     chan *scratch
	preparing atomic.Bool
	spares    sync.WaitGroup
	closed    chan struct{}
	closeOnce sync.Once
}

// New checks cfg and returns an Auditor.
func New(cfg Config) (*Auditor, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &Auditor{cfg: cfg, spare: make(chan *scratch, 1), closed: make(chan struct{})}
	for _, m := range cfg.Models {
		if _, whole := m.(runtime.WholeLog); !whole {
			a.replayed = append(a.replayed, m)
		}
	}
	if cfg.Pool != nil && cfg.Migrate != nil && len(a.replayed) > 0 {
		a.refill() // with Config.Spare, even the first replay finds its tables made
	}
	return a, nil
}

// Models are the read models Replay rebuilds: the configured ones but those of the whole log
// (runtime.WholeLog: the transparency log's tree, which over one community's events would be no log anyone
// publishes).
func (a *Auditor) Models() []runtime.ReadModel { return a.replayed }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}
