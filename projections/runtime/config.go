package runtime

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
)

// Source is the part of the event store the runtime reads: $all, in order. The EventStoreDB client adapter
// (infra/eventstore) satisfies it.
type Source interface {
	// ReadAll calls fn for at most max events of $all from position from (inclusive; Start is the beginning).
	ReadAll(ctx context.Context, from eventlog.Position, max int, fn func(eventlog.Recorded) error) error
	// SubscribeAll calls fn for every event of $all after from (exclusive; Start means from the beginning),
	// catching up and then following live appends. It blocks until ctx ends, fn fails or the subscription
	// drops, and returns that error.
	SubscribeAll(ctx context.Context, from eventlog.Position, filter eventlog.Filter, fn func(eventlog.Delivery) error) error
}

// Migrator applies the *.sql files of migrations, in order and once each, to schema (created if missing),
// recording them in the table versionTable inside that schema. Concurrent callers for one schema must
// serialise (infra/pg.Migrator takes an advisory lock).
type Migrator func(ctx context.Context, schema, versionTable string, migrations fs.FS) error

// Config configures a Runtime.
type Config struct {
	// Pool is the read-model database. The runtime holds at most one connection per model while projecting,
	// plus one for a rebuild. When MaxConns is at least the number of models plus two, each live model keeps
	// one connection of its own while Run runs; with fewer, models take one batch by batch.
	Pool *pgxpool.Pool
	// Source is the event store.
	Source Source
	// Migrate applies schema migrations; see Migrator.
	Migrate Migrator
	// Models are the read models to project. Names must be unique.
	Models []ReadModel
	// Registerer receives the runtime's Prometheus metrics (ledger_projection_*). Nil registers nothing.
	// Two runtimes must not share one Registerer.
	Registerer prometheus.Registerer
	// Logger receives operational logs. Default slog.Default().
	Logger *slog.Logger

	// MaxBatch is the most events one transaction applies. Default 1000.
	MaxBatch int
	// MaxWait is the longest an event waits in a batch that is not full while a model is busy. When every
	// model is idle a batch is cut at once, so live latency does not pay MaxWait. Default 20ms.
	MaxWait time.Duration
	// QueueDepth is how many cut batches may wait for a model that is busy; the slowest model holds the
	// subscription back when its queue is full, for at most StuckAfter. Default 2.
	QueueDepth int
	// StuckAfter is how long the feed waits for a model whose queue is full before it goes on without it:
	// the model (stuck retrying, or very slow) misses those batches, and when it takes the next one it
	// finds a gap and asks for a resubscription from its checkpoint, so it loses nothing while the other
	// models are not held up. Default 10 s.
	StuckAfter time.Duration
	// RetryInitial and RetryMax bound the exponential backoff between retries of a failed batch (a database
	// outage, a dropped subscription). Retries never end; a batch is never skipped. Defaults 100ms and 5s.
	RetryInitial, RetryMax time.Duration
	// ResumeEvery is how often a halted model looks whether an operator skipped its poison event
	// (SkipPoison). Default 2 s.
	ResumeEvery time.Duration
	// DurableCommit waits for each batch's commit to be flushed to disk (synchronous_commit on). Off by
	// default: rows and checkpoint commit atomically either way, so a Postgres crash that loses the last
	// commits only moves the checkpoint back, and the runtime re-applies from there.
	DurableCommit bool
	// ReadOnlyRole, when set, is granted USAGE and SELECT on every model schema and rm_meta, again after
	// each rebuild swap (the portal's role, DESIGN.md decision 6). The role must exist.
	ReadOnlyRole string
	// RebuildBatch is the most events one rebuild transaction applies. Default 5000.
	RebuildBatch int
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = 1000
	}
	if c.MaxWait == 0 {
		c.MaxWait = 20 * time.Millisecond
	}
	if c.QueueDepth == 0 {
		c.QueueDepth = 2
	}
	if c.StuckAfter == 0 {
		c.StuckAfter = 10 * time.Second
	}
	if c.ResumeEvery == 0 {
		c.ResumeEvery = 2 * time.Second
	}
	if c.RetryInitial == 0 {
		c.RetryInitial = 100 * time.Millisecond
	}
	if c.RetryMax == 0 {
		c.RetryMax = 5 * time.Second
	}
	if c.RebuildBatch == 0 {
		c.RebuildBatch = 5000
	}
}

var roleName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Validate reports what is wrong with c, naming the setting. Zero values that have a default are valid.
func (c Config) Validate() error {
	var errs []error
	if c.Pool == nil {
		errs = append(errs, errors.New("no Pool: the read models live in PostgreSQL"))
	}
	if c.Source == nil {
		errs = append(errs, errors.New("no Source: the event store to project from"))
	}
	if c.Migrate == nil {
		errs = append(errs, errors.New("no Migrate: it creates the models' schemas (infra/pg.Migrator)"))
	}
	seen := map[string]bool{}
	for _, m := range c.Models {
		if err := validateModel(m); err != nil {
			errs = append(errs, err)
			continue
		}
		if seen[m.Name()] {
			errs = append(errs, fmt.Errorf("two read models are named %q", m.Name()))
		}
		seen[m.Name()] = true
	}
	if c.MaxBatch < 0 || c.QueueDepth < 0 || c.RebuildBatch < 0 {
		errs = append(errs, errors.New("negative MaxBatch, QueueDepth or RebuildBatch"))
	}
	if c.MaxWait < 0 || c.RetryInitial < 0 || c.RetryMax < 0 {
		errs = append(errs, errors.New("negative MaxWait, RetryInitial or RetryMax"))
	}
	if c.ReadOnlyRole != "" && !roleName.MatchString(c.ReadOnlyRole) {
		errs = append(errs, fmt.Errorf("ReadOnlyRole %q is not a plain lower-case role name", c.ReadOnlyRole))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("projection runtime config: %w", err)
	}
	return nil
}

// EmbeddedMigrations returns the migrations/ directory of a model's embedded files (//go:embed
// migrations/*.sql): what ReadModel.Migrations returns. A missing directory is a build mistake: it panics.
func EmbeddedMigrations(files fs.FS) fs.FS {
	sub, err := fs.Sub(files, "migrations")
	if err != nil {
		panic(err)
	}
	return sub
}
