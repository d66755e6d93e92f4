package tlog

import (
	"bytes"
	"context"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/note"

	"github.com/grassroots-ledger/ledger/infra/pg"
	ptlog "github.com/grassroots-ledger/ledger/projections/tlog"
)

// Schema holds the signed checkpoints and cosignatures. `ledger rebuild` never drops it.
const Schema = "tlog"

//go:embed migrations/*.sql
var migrations embed.FS

// Migrate creates or updates schema tlog.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return pg.MigrateEmbedded(ctx, pool, Schema, migrations)
}

// Config configures a Publisher.
type Config struct {
	// Pool reaches rm_tlog (the tree) and schema tlog (the checkpoints). Required.
	Pool *pgxpool.Pool
	// Key signs the checkpoints. Required (LoadOrCreateKey).
	Key *Key
	// Origin is the first line of every checkpoint. Default DefaultOrigin.
	Origin string
	// Every and Interval: a new checkpoint once the tree has grown by Every leaves since the last one, or
	// Interval after the last one when it has grown at all. Defaults 1000 and 10 s.
	Every    uint64
	Interval time.Duration
	// Poll is how often the tree's size is looked at. Default a tenth of Interval, at most one second.
	// While the tree grows, Run also wakes when Interval is up, so a leaf waits at most Interval for its
	// checkpoint (and Poll more only for the first leaf after a quiet spell longer than Interval).
	Poll time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Origin == "" {
		c.Origin = DefaultOrigin
	}
	if c.Every == 0 {
		c.Every = 1000
	}
	if c.Interval == 0 {
		c.Interval = 10 * time.Second
	}
	if c.Poll == 0 {
		c.Poll = min(c.Interval/10, time.Second)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports a configuration the publisher cannot run with.
func (c Config) Validate() error {
	var errs []error
	if c.Pool == nil {
		errs = append(errs, errors.New("the pool is nil"))
	}
	if c.Key == nil {
		errs = append(errs, errors.New("the key is nil"))
	}
	if strings.ContainsAny(c.Origin, "\n\r") {
		errs = append(errs, fmt.Errorf("origin %q spans lines", c.Origin))
	}
	if c.Interval < 0 || c.Poll < 0 {
		errs = append(errs, errors.New("negative Interval or Poll"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("tlog publisher config: %w", err)
	}
	return nil
}

// ErrForked means the tree no longer extends the last signed checkpoint: at that checkpoint's size it has
// another root, or it is smaller. The history in the store differs from the one the log signed (or the
// read model was rebuilt from a store that does). The publisher refuses to sign: a checkpoint of the new
// tree would prove the log forked. Run `ledger verify` to find the first leaf that differs; never sign
// over it.
var ErrForked = errors.New("tlog: the tree does not extend the last signed checkpoint")

// Publisher signs and stores checkpoints of the tree as it grows.
type Publisher struct {
	cfg  Config
	tree *ptlog.Tree
}

// NewPublisher validates cfg. Call Migrate before Run.
func NewPublisher(cfg Config) (*Publisher, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Publisher{cfg: cfg, tree: ptlog.NewTree(cfg.Pool)}, nil
}

// Stored is a checkpoint as stored: parsed, with its signed note and when it was signed.
type Stored struct {
	Checkpoint
	Note      []byte
	CreatedAt time.Time
}

// ErrNoCheckpoint means no checkpoint has been signed yet (an empty log, or the publisher has not run).
var ErrNoCheckpoint = errors.New("tlog: no checkpoint signed yet")

// Latest is the latest stored checkpoint. ErrNoCheckpoint when there is none (or the database keeps no
// log).
func Latest(ctx context.Context, q ptlog.Querier) (Stored, error) {
	var s Stored
	var size int64
	var note string
	err := q.QueryRow(ctx, "SELECT size, root, note, created_at FROM tlog.checkpoints ORDER BY size DESC LIMIT 1").
		Scan(&size, &s.Root, &note, &s.CreatedAt)
	var pe *pgconn.PgError
	if errors.Is(err, pgx.ErrNoRows) || errors.As(err, &pe) && pe.Code == "42P01" { // none, or no log in this database
		return Stored{}, ErrNoCheckpoint
	}
	if err != nil {
		return Stored{}, fmt.Errorf("tlog: latest checkpoint: %w", err)
	}
	s.Size, s.Note, s.Origin = uint64(size), []byte(note), originOf(note)
	return s, nil
}

// originOf is the origin line of a stored signed checkpoint (which was verified when it was signed).
func originOf(note string) string {
	origin, _, _ := strings.Cut(note, "\n")
	return origin
}

// LatestNote is the latest signed checkpoint as served (GET /api/v1/public/log/checkpoint): the log's
// signed note followed by the witnesses' cosignature lines. ErrNoCheckpoint when there is none.
func LatestNote(ctx context.Context, q ptlog.Querier) ([]byte, error) {
	s, err := Latest(ctx, q)
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, "SELECT signature FROM tlog.cosignatures WHERE size = $1 ORDER BY witness", int64(s.Size))
	if err != nil {
		return nil, fmt.Errorf("tlog: cosignatures: %w", err)
	}
	sigs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("tlog: cosignatures: %w", err)
	}
	out := bytes.Clone(s.Note)
	for _, sig := range sigs {
		out = append(out, sig...)
	}
	return out, nil
}

// Publish signs and stores a checkpoint of the tree as it is now, if it has grown since the latest
// checkpoint (made reports whether it did). It first checks that the tree extends the latest checkpoint
// (ErrForked otherwise, and nothing is signed).
func (p *Publisher) Publish(ctx context.Context) (c Checkpoint, made bool, err error) {
	last, err := Latest(ctx, p.cfg.Pool)
	if err != nil && !errors.Is(err, ErrNoCheckpoint) {
		return Checkpoint{}, false, err
	}
	size, err := p.tree.Size(ctx)
	if err != nil {
		return Checkpoint{}, false, err
	}
	if size == last.Size && last.Note != nil || size == 0 {
		return last.Checkpoint, false, p.extends(ctx, last)
	}
	if err := p.extends(ctx, last); err != nil {
		return Checkpoint{}, false, err
	}
	root, err := p.tree.Root(ctx, size)
	if err != nil {
		return Checkpoint{}, false, err
	}
	c = Checkpoint{Origin: p.cfg.Origin, Size: size, Root: root}
	msg, err := Sign(c, p.cfg.Key)
	if err != nil {
		return Checkpoint{}, false, err
	}
	if size > math.MaxInt64 {
		return Checkpoint{}, false, fmt.Errorf("tlog: tree size %d does not fit a bigint", size)
	}
	tag, err := p.cfg.Pool.Exec(ctx, "INSERT INTO tlog.checkpoints (size, root, note) VALUES ($1, $2, $3) ON CONFLICT (size) DO NOTHING",
		int64(size), root, string(msg))
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("tlog: store %s: %w", c, err)
	}
	if tag.RowsAffected() == 0 {
		// Another publisher stored this size first: theirs stands, if it is of the same tree.
		other, err := Latest(ctx, p.cfg.Pool)
		if err != nil {
			return Checkpoint{}, false, err
		}
		if other.Size == size && !bytes.Equal(other.Root, root) {
			return Checkpoint{}, false, fmt.Errorf("%w: a checkpoint of size %d with another root was stored meanwhile", ErrForked, size)
		}
		return other.Checkpoint, false, nil
	}
	p.cfg.Logger.InfoContext(ctx, "transparency log checkpoint signed", "origin", c.Origin, "size", size,
		"root", base64.StdEncoding.EncodeToString(root))
	return c, true, nil
}

// extends checks that the tree has last's root at last's size.
func (p *Publisher) extends(ctx context.Context, last Stored) error {
	if last.Note == nil {
		return nil
	}
	root, err := p.tree.Root(ctx, last.Size)
	if errors.Is(err, ptlog.ErrNotFound) {
		return fmt.Errorf("%w: the tree is smaller than the checkpoint of size %d", ErrForked, last.Size)
	}
	if err != nil {
		return err
	}
	if !bytes.Equal(root, last.Root) {
		return fmt.Errorf("%w: at size %d its root is %s, the checkpoint's %s", ErrForked, last.Size,
			base64.StdEncoding.EncodeToString(root), base64.StdEncoding.EncodeToString(last.Root))
	}
	return nil
}

// Run publishes checkpoints until ctx ends: once the tree has grown by Every leaves since the latest
// checkpoint, or Interval after it when the tree has grown at all. Errors (the database away, a fork) are
// logged and retried at the next poll; a fork is logged at error level every Interval and nothing is
// signed until it is resolved. Run returns nil when ctx ends.
func (p *Publisher) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	var lastSize uint64
	var lastAt time.Time // when the latest checkpoint was signed, as this process knows it
	var lastErr time.Time
	for {
		due := false
		size, err := p.tree.Size(ctx)
		if err == nil {
			if lastAt.IsZero() {
				var s Stored
				s, err = Latest(ctx, p.cfg.Pool)
				if errors.Is(err, ErrNoCheckpoint) {
					err, s.CreatedAt = nil, time.Now().Add(-p.cfg.Interval)
				}
				lastSize, lastAt = s.Size, s.CreatedAt
			}
			due = size > lastSize && (size-lastSize >= p.cfg.Every || time.Since(lastAt) >= p.cfg.Interval)
		}
		if err == nil && due {
			var c Checkpoint
			began := time.Now() // the checkpoint covers what the tree held then
			if c, _, err = p.Publish(ctx); err == nil {
				lastSize, lastAt = c.Size, began
			}
		}
		if err != nil && ctx.Err() == nil && time.Since(lastErr) >= p.cfg.Interval {
			lastErr = time.Now()
			level := slog.LevelWarn
			if errors.Is(err, ErrForked) {
				level = slog.LevelError
			}
			p.cfg.Logger.Log(ctx, level, "transparency log checkpoint not signed", "err", err)
		}
		// The next look: at the next poll, or sooner when the tree has grown and Interval is up by then, so
		// a leaf waits at most Interval (and the projection's own delay) for its checkpoint, not Interval
		// and a poll more.
		wait := p.cfg.Poll
		if err == nil && size > lastSize {
			wait = max(min(wait, time.Until(lastAt.Add(p.cfg.Interval))), 0)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
	}
}

// GrantRead gives role (the portal's read-only role) SELECT on the checkpoints and cosignatures, as the
// projection runtime does for the read models' schemas. Call it after Migrate.
func GrantRead(ctx context.Context, pool *pgxpool.Pool, role string) error {
	id := pgx.Identifier{role}.Sanitize()
	if _, err := pool.Exec(ctx, "GRANT USAGE ON SCHEMA tlog TO "+id+"; GRANT SELECT ON ALL TABLES IN SCHEMA tlog TO "+id); err != nil {
		return fmt.Errorf("tlog: grant %s read access: %w", role, err)
	}
	return nil
}

// ErrNoSuchCheckpoint means no checkpoint of the size named was signed: a witness cosigns only what the
// log published.
var ErrNoSuchCheckpoint = errors.New("tlog: no checkpoint of that size was signed")

// ErrBadCosignature means a cosignature does not verify with the witness's key over the stored
// checkpoint: the witness signed something else, or is not who it says.
var ErrBadCosignature = errors.New("tlog: the cosignature does not verify")

// AddCosignature stores a witness's cosignature of the checkpoint of the given size: line is its note
// signature line ("— <name> <base64>\n") over the checkpoint's text (a C2SP cosignature/v1 when witness
// is a CosignatureVerifier), and must verify with witness. It is then served after the log's own
// signature (LatestNote). A witness cosigning the same size again replaces its line.
func AddCosignature(ctx context.Context, pool *pgxpool.Pool, size uint64, witness note.Verifier, line []byte) error {
	if size > math.MaxInt64 {
		return fmt.Errorf("%w: size %d", ErrNoSuchCheckpoint, size)
	}
	var signed string
	err := pool.QueryRow(ctx, "SELECT note FROM tlog.checkpoints WHERE size = $1", int64(size)).Scan(&signed)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: size %d", ErrNoSuchCheckpoint, size)
	}
	if err != nil {
		return fmt.Errorf("tlog: read the checkpoint of size %d: %w", size, err)
	}
	text, _, _ := strings.Cut(signed, "\n\n")
	n, err := note.Open([]byte(text+"\n\n"+string(line)), note.VerifierList(witness))
	if err != nil || len(n.Sigs) != 1 || bytes.Count(line, []byte("\n")) != 1 {
		return fmt.Errorf("%w: by %s over the checkpoint of size %d", ErrBadCosignature, witness.Name(), size)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO tlog.cosignatures (size, witness, signature) VALUES ($1, $2, $3)
		ON CONFLICT (size, witness) DO UPDATE SET signature = excluded.signature, created_at = now()`,
		int64(size), witness.Name(), string(line)); err != nil {
		return fmt.Errorf("tlog: store the cosignature of %s: %w", witness.Name(), err)
	}
	return nil
}
