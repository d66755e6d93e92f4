package runtime

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
)

// checkpointRow is a read model's resume point as stored in its schema.
type checkpointRow struct {
	// Position is the $all position of the last event applied (or skipped as poison); Start when none.
	Position eventlog.Position
	// LastRecorded is when the store recorded that event (zero when none).
	LastRecorded time.Time
	// EventsApplied counts the events applied since the schema was created.
	EventsApplied int64
	// UpdatedAt is when the checkpoint last moved.
	UpdatedAt time.Time
}

// movedError means the checkpoint in the database is not the one the projector last applied: another
// process advanced it, a rebuild swapped the schema, or a commit whose outcome was lost did happen.
type movedError struct{ db eventlog.Position }

func (e *movedError) Error() string {
	return fmt.Sprintf("checkpoint in the database is %s, not the position this projector applied last", e.db)
}

// target is a read model bound to one schema: its live schema, or the shadow schema of a rebuild.
type target struct {
	rt     *Runtime
	model  ReadModel
	schema string
	live   bool // halts are recorded in rm_meta.projections only for the live schema
	// own is a live model's own connection (Runtime.ownConns): its batches run on one backend, whose
	// statements are prepared and whose caches hold the model's tables. Taking any connection of the pool
	// for each batch spread every model's cold statements over every connection: at 2 000 events/s that
	// was the live latency's tail (BenchmarkLiveLatency, README). With a smaller pool, models holding
	// connections could leave another without any, so they take one batch by batch.
	ownMu sync.Mutex
	own   *pgxpool.Conn
}

// beginTx begins a batch's transaction, on the model's own connection when it keeps one. A connection
// found closed (the server restarted, a network error) is given back and another taken.
func (t *target) beginTx(ctx context.Context) (pgx.Tx, error) {
	if !t.live || !t.rt.ownConns {
		return t.rt.cfg.Pool.Begin(ctx)
	}
	t.ownMu.Lock()
	defer t.ownMu.Unlock()
	if t.own != nil && t.own.Conn().IsClosed() {
		t.own.Release() // the pool drops a closed connection
		t.own = nil
	}
	if t.own == nil {
		c, err := t.rt.cfg.Pool.Acquire(ctx)
		if err != nil {
			return nil, err
		}
		t.own = c
	}
	return t.own.Begin(ctx)
}

// releaseConn gives the model's own connection back to the pool (the runtime stops).
func (t *target) releaseConn() {
	t.ownMu.Lock()
	defer t.ownMu.Unlock()
	if t.own != nil {
		t.own.Release()
		t.own = nil
	}
}

// outcome is what one applied batch did.
type outcome struct {
	cp       checkpointRow
	applied  int
	poisoned int
	haltedAt *eventlog.Recorded // the poison event a Halt model stopped at
	reason   string
}

func (t *target) name() string { return t.model.Name() }

func (t *target) ident(table string) string {
	return pgx.Identifier{t.schema, table}.Sanitize()
}

func pgPos(p eventlog.Position) (int64, int64, error) {
	if p.Commit > math.MaxInt64 || p.Prepare > math.MaxInt64 {
		return 0, 0, fmt.Errorf("position %s does not fit PostgreSQL bigint", p)
	}
	return int64(p.Commit), int64(p.Prepare), nil
}

// readCheckpoint reads the checkpoint outside any batch.
func (t *target) readCheckpoint(ctx context.Context) (checkpointRow, error) {
	var c, p, n int64
	var last *time.Time
	var cp checkpointRow
	err := t.rt.cfg.Pool.QueryRow(ctx,
		"SELECT commit_pos, prepare_pos, last_recorded_at, events_applied, updated_at FROM "+t.ident("checkpoint")).
		Scan(&c, &p, &last, &n, &cp.UpdatedAt)
	if err != nil {
		return checkpointRow{}, fmt.Errorf("read checkpoint of %s: %w", t.schema, err)
	}
	cp.Position = eventlog.Position{Commit: uint64(c), Prepare: uint64(p)}
	cp.EventsApplied = n
	if last != nil {
		cp.LastRecorded = *last
	}
	return cp, nil
}

// after returns the events of batch strictly after p (batch is in $all order).
func after(batch []eventlog.Recorded, p eventlog.Position) []eventlog.Recorded {
	i := sort.Search(len(batch), func(i int) bool { return p.Less(batch[i].Position) })
	return batch[i:]
}

// apply applies events (all after expected, in order) in one transaction that also moves the checkpoint
// from expected to the last event. It returns *movedError, without applying anything, when the database's
// checkpoint is not expected. Poison events are handled by the model's policy: the batch is re-run with
// the poison events known, so the transaction never carries a half-applied event.
func (t *target) apply(ctx context.Context, expected eventlog.Position, events []eventlog.Recorded) (outcome, error) {
	poison := map[eventlog.Position]string{}
	for {
		out, found, err := t.attempt(ctx, expected, events, poison)
		if err != nil {
			return outcome{}, err
		}
		if found == nil {
			return out, nil
		}
		if _, again := poison[found.pos]; again {
			return outcome{}, fmt.Errorf("%s: event at %s was reported poison twice: %w", t.name(), found.pos, found.err)
		}
		poison[found.pos] = found.err.Error()
	}
}

type foundPoison struct {
	pos eventlog.Position
	err error
}

// plan is what a batch does to the checkpoint, worked out before the transaction from the events and the
// poison events already known. Should the model meet a new poison event, the transaction is rolled back
// and the batch planned again.
type plan struct {
	to       eventlog.Position
	recorded time.Time
	applied  int
	poisoned []int // indexes of the known poison events; for a Halt model only the one it stops at
	haltAt   int   // index of the poison event a Halt model stops at, or -1
}

func (t *target) plan(expected eventlog.Position, events []eventlog.Recorded, poison map[eventlog.Position]string) plan {
	p := plan{to: expected, haltAt: -1}
	for i, e := range events {
		if _, bad := poison[e.Position]; bad {
			p.poisoned = append(p.poisoned, i)
			if t.model.Poison() == Halt {
				p.haltAt = i
				break // the checkpoint stays before the poison event
			}
		} else {
			p.applied++
		}
		p.to, p.recorded = e.Position, e.Created
	}
	return p
}

// begin opens a batch transaction on the target's schema: search_path, the shared projection lock (a
// rebuild swap takes it exclusively) and commit durability; and, in the same round trip, moves the
// checkpoint from expected to p.to with an UPDATE that only matches while the checkpoint is still at
// expected. The UPDATE holds the checkpoint's row lock to the end of the transaction, so a concurrent
// projector of the same model waits, then finds the checkpoint moved and backs off (*movedError).
func (t *target) begin(ctx context.Context, expected eventlog.Position, p plan) (pgx.Tx, error) {
	ec, ep, err := pgPos(expected)
	if err != nil {
		return nil, err
	}
	tc, tp, err := pgPos(p.to)
	if err != nil {
		return nil, err
	}
	tx, err := t.beginTx(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: begin: %w", t.name(), err)
	}
	syncCommit := "off"
	if t.rt.cfg.DurableCommit {
		syncCommit = "on"
	}
	recorded := pgtype.Timestamptz{Time: p.recorded, Valid: p.to != expected}
	var matched int64
	b := &pgx.Batch{}
	b.Queue("SELECT set_config('search_path', $1, true), set_config('synchronous_commit', $2, true), pg_advisory_xact_lock_shared(hashtextextended($3, 0))",
		pgx.Identifier{t.schema}.Sanitize()+", public", syncCommit, projectionLockKey(t.name()))
	b.Queue("UPDATE "+t.ident("checkpoint")+` SET commit_pos = $1, prepare_pos = $2,
		last_recorded_at = coalesce($3, last_recorded_at), events_applied = events_applied + $4, updated_at = now()
		WHERE commit_pos = $5 AND prepare_pos = $6`, tc, tp, recorded, p.applied, ec, ep).
		Exec(func(tag pgconn.CommandTag) error { matched = tag.RowsAffected(); return nil })
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("%s: move checkpoint: %w", t.name(), err)
	}
	if matched == 1 {
		return tx, nil
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var c, pr int64
	if err := tx.QueryRow(ctx, "SELECT commit_pos, prepare_pos FROM "+t.ident("checkpoint")).Scan(&c, &pr); err != nil {
		return nil, fmt.Errorf("%s: read checkpoint: %w", t.name(), err)
	}
	return nil, &movedError{db: eventlog.Position{Commit: uint64(c), Prepare: uint64(pr)}}
}

func projectionLockKey(name string) string { return "ledger.projection:" + name }

func (t *target) attempt(ctx context.Context, expected eventlog.Position, events []eventlog.Recorded, poison map[eventlog.Position]string) (outcome, *foundPoison, error) {
	p := t.plan(expected, events, poison)
	tx, err := t.begin(ctx, expected, p)
	if err != nil {
		return outcome{}, nil, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	// applySegment applies events[from:to], the run between two known poison events.
	applySegment := func(from, to int) (*foundPoison, error) {
		if from >= to {
			return nil, nil
		}
		run := events[from:to]
		err := t.model.Apply(ctx, tx, run)
		if err == nil {
			return nil, nil
		}
		if !errors.Is(err, ErrPoison) && !dataError(err) {
			return nil, fmt.Errorf("%s: apply %d events after %s: %w", t.name(), len(run), expected, err)
		}
		var pe *PoisonError
		if errors.As(err, &pe) && inBatch(run, pe.Position) {
			return &foundPoison{pos: pe.Position, err: pe.Err}, nil
		}
		// The model did not say which event: find it one event at a time in a throwaway transaction.
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return t.locate(ctx, expected, run)
	}
	policy := t.model.Poison()
	seg := 0
	for _, i := range p.poisoned {
		if found, err := applySegment(seg, i); err != nil || found != nil {
			return outcome{}, found, err
		}
		if err := t.recordPoison(ctx, tx, events[i], poison[events[i].Position], policy); err != nil {
			return outcome{}, nil, err
		}
		seg = i + 1
	}
	out := outcome{cp: checkpointRow{Position: p.to, LastRecorded: p.recorded}, applied: p.applied, poisoned: len(p.poisoned)}
	if p.haltAt >= 0 {
		e := events[p.haltAt]
		out.haltedAt, out.reason = &e, poison[e.Position]
		if t.live {
			if _, err := tx.Exec(ctx, "UPDATE rm_meta.projections SET state = 'halted', halted_at = now(), halt_reason = $2 WHERE name = $1",
				t.name(), fmt.Sprintf("poison event at %s (%s %s@%d): %s", e.Position, e.Type, e.Stream, e.Revision, out.reason)); err != nil {
				return outcome{}, nil, fmt.Errorf("%s: mark halted: %w", t.name(), err)
			}
		}
	} else if found, err := applySegment(seg, len(events)); err != nil || found != nil {
		return outcome{}, found, err
	}
	if err := tx.Commit(ctx); err != nil {
		return outcome{}, nil, fmt.Errorf("%s: commit batch up to %s: %w", t.name(), p.to, err)
	}
	return out, nil, nil
}

func inBatch(run []eventlog.Recorded, p eventlog.Position) bool {
	i := sort.Search(len(run), func(i int) bool { return !run[i].Position.Less(p) })
	return i < len(run) && run[i].Position == p
}

// locate finds the poison event of run by applying it one event at a time in a transaction it rolls back.
func (t *target) locate(ctx context.Context, expected eventlog.Position, run []eventlog.Recorded) (*foundPoison, error) {
	tx, err := t.begin(ctx, expected, plan{to: expected, haltAt: -1})
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	for i := range run {
		err := t.model.Apply(ctx, tx, run[i:i+1])
		if err == nil {
			continue
		}
		if errors.Is(err, ErrPoison) || dataError(err) {
			return &foundPoison{pos: run[i].Position, err: err}, nil
		}
		return nil, fmt.Errorf("%s: apply %s at %s: %w", t.name(), run[i].Type, run[i].Position, err)
	}
	return nil, fmt.Errorf("%s: a batch of %d events after %s was poison but no single event of it is: the model's Apply is not deterministic", t.name(), len(run), expected)
}

func (t *target) recordPoison(ctx context.Context, tx pgx.Tx, e eventlog.Recorded, reason string, policy PoisonPolicy) error {
	c, p, err := pgPos(e.Position)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO rm_meta.poison_events
		(projection, commit_pos, prepare_pos, stream, revision, event_id, event_type, reason, policy)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
		t.name(), c, p, e.Stream, int64(e.Revision), e.ID.String(), e.Type, reason, policy.String()); err != nil {
		return fmt.Errorf("%s: record poison event at %s: %w", t.name(), e.Position, err)
	}
	return nil
}

// dataError reports a PostgreSQL error that the same events raise every time they are applied: a value a
// column cannot hold (class 22, data exception: a NUL in a text, a number out of range) or a constraint it
// breaks (class 23). Retrying would stop the model, and with a full queue every model, forever; the event
// is poison and the model's policy applies. A lost connection, a timeout or a serialization failure is
// not such an error and is retried.
func dataError(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (strings.HasPrefix(pe.Code, "22") || strings.HasPrefix(pe.Code, "23"))
}
