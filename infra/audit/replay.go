package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// TimeBasis says which time of an event "as of" compares with.
type TimeBasis string

const (
	// ByRecorded compares with when the store recorded the event (eventlog.Recorded.Created): the state
	// as of T is what the ledger said at T, which is what an auditor asks. The default.
	ByRecorded TimeBasis = "recorded"
	// ByOccurred compares with when the event says the fact happened (metadata occurred_at; the recorded
	// time for an event that says nothing): the state of affairs at T as the ledger tells it now, late
	// recordings included.
	ByOccurred TimeBasis = "occurred"
)

// ParseTimeBasis accepts "recorded" (or "") and "occurred".
func ParseTimeBasis(s string) (TimeBasis, error) {
	switch TimeBasis(s) {
	case "", ByRecorded:
		return ByRecorded, nil
	case ByOccurred:
		return ByOccurred, nil
	}
	return "", invalid("time basis %q: want recorded or occurred", s)
}

// ReplayRequest asks for the state of one community at one instant.
type ReplayRequest struct {
	// Community is the community's id (the last segment of its jurisdiction path).
	Community string
	// AsOf is the instant; events at or before it count.
	AsOf time.Time
	// By says which time of an event is compared with AsOf. Default ByRecorded.
	By TimeBasis
	// Until, when not zero, also leaves out every event after this $all position: a cutoff that does not
	// depend on clocks.
	Until eventlog.Position
	// Tables adds every row of every read model's tables to the snapshot (Snapshot.Models[i].Tables).
	Tables bool
	// Progress, when set, is called as events are read: done is the $all commit position reached, total
	// the head's (on the embedded node both count events).
	Progress func(done, total uint64)
}

// Snapshot is a community's state as of an instant, rebuilt from the events by the ledger's read models.
type Snapshot struct {
	Community    string    `json:"community"`
	Jurisdiction string    `json:"jurisdiction"`
	AsOf         time.Time `json:"as_of"`
	// AsOfLocal is AsOf in China time (Asia/Shanghai), for display.
	AsOfLocal string             `json:"as_of_local"`
	By        TimeBasis          `json:"by"`
	Until     *eventlog.Position `json:"until,omitempty"`
	// Events is the number of events applied: the community's own (OwnEvents) and those of the
	// jurisdictions above it. Later counts the events in scope left out by the cutoff.
	Events    int `json:"events"`
	OwnEvents int `json:"own_events"`
	Later     int `json:"later_events"`
	// OccurredBefore counts, by recorded time, the later events that say they happened by AsOf (recorded
	// afterwards: back-filled history, or a demo recorded today). By occurred time they would count.
	OccurredBefore int `json:"later_events_occurred_before,omitempty"`
	// Hint, when set, tells the reader that the answer may not be what they meant, and what to ask.
	Hint    string `json:"hint,omitempty"`
	Streams int    `json:"streams"`
	// LastEvent is the last event applied (nil when none).
	LastEvent *EventRef `json:"last_event,omitempty"`
	// Head is the head of $all when the events were read.
	Head eventlog.Position `json:"head"`
	// Models says what each read model made of the events.
	Models []ModelState `json:"models"`
	// Summary is the community as the read models' own queries show it: its profile, the notices on its
	// public board, its finances by fiscal year, its elections and meetings (fields in snake_case).
	Summary any `json:"summary"`
	// Seconds is how long the replay took.
	Seconds float64 `json:"seconds"`

	summary summary
}

// EventRef names one event.
type EventRef struct {
	Stream     string            `json:"stream"`
	Revision   uint64            `json:"revision"`
	EventID    string            `json:"event_id"`
	Type       string            `json:"type"`
	Position   eventlog.Position `json:"position"`
	RecordedAt time.Time         `json:"recorded_at"`
	OccurredAt time.Time         `json:"occurred_at"`
}

func refOf(r *eventlog.Recorded) *EventRef {
	return &EventRef{Stream: r.Stream, Revision: r.Revision, EventID: r.ID.String(), Type: r.Type, Position: r.Position,
		RecordedAt: r.Created.UTC(), OccurredAt: r.Meta.OccurredAt.UTC()}
}

// ModelState is one read model's part of a snapshot.
type ModelState struct {
	Name string `json:"name"`
	// Poison lists the events the model could not apply; Halted says the model stopped at the first of
	// them (its policy is Halt, as in live projection), so its tables show the state just before it.
	Poison []PoisonEvent `json:"poison,omitempty"`
	Halted bool          `json:"halted,omitempty"`
	// Rows counts the rows of each of the model's tables.
	Rows map[string]int64 `json:"rows"`
	// Tables holds every row of each table, ordered by primary key (ReplayRequest.Tables).
	Tables map[string]any `json:"tables,omitempty"`
}

// PoisonEvent is an event a read model rejected.
type PoisonEvent struct {
	EventRef
	Reason string `json:"reason"`
}

// scratchPrefix starts the name of every schema Replay creates: scratch_<12 hex>_<model>.
const scratchPrefix = "scratch_"

// Replay rebuilds the state of one community as it stood at req.AsOf: it reads the events that bear on
// the community (its own streams, and the district-level events above it: jurisdiction nodes, rule
// overrides, district alerts; events of other communities are never read, the store filters by stream
// name), keeps those at or before the cutoff, and applies them in $all order with the ledger's own read
// models, each into a scratch schema of its own (scratch_<random>_<model>), then queries them and drops
// the schemas. The live read models are not touched.
//
// "As of" compares with the time the store recorded each event by default (what the ledger said at T);
// with ByOccurred, with the time the event says its fact happened.
//
// Operational note: the scratch schemas are dropped when Replay returns; those of a process killed
// mid-replay are dropped by the next Replay (each replay holds an advisory lock on its own while it runs).
func (a *Auditor) Replay(ctx context.Context, req ReplayRequest) (*Snapshot, error) {
	started := time.Now()
	if a.cfg.Pool == nil || a.cfg.Migrate == nil || len(a.replayed) == 0 {
		return nil, ErrReplayUnavailable
	}
	if req.AsOf.IsZero() {
		return nil, invalid("as-of time is required")
	}
	by, err := ParseTimeBasis(string(req.By))
	if err != nil {
		return nil, err
	}
	sc, err := a.communityScope(ctx, req.Community)
	if err != nil {
		return nil, err
	}
	head, err := a.cfg.Store.Head(ctx)
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", req.Community, err)
	}
	asOf := req.AsOf.UTC()
	snap := &Snapshot{Community: sc.community, Jurisdiction: sc.path, AsOf: asOf,
		AsOfLocal: asOf.In(kernel.ChinaTime()).Format("2006-01-02 15:04:05"), By: by, Head: head}
	if !req.Until.IsZero() {
		u := req.Until
		snap.Until = &u
	}

	mark := time.Now()
	var phases []any
	phase := func(name string) {
		phases = append(phases, name+"_ms", time.Since(mark).Milliseconds())
		mark = time.Now()
	}
	phase("lookup")
	sch, err := a.takeScratch(ctx)
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", req.Community, err)
	}
	defer a.release(sch) // once this replay is done with the database: the next spare must not slow it down
	models := make([]*scratchModel, len(a.replayed))
	for i, m := range a.replayed {
		models[i] = &scratchModel{model: m, schema: sch.schema(m.Name())}
	}
	phase("migrate")
	in := func(r *eventlog.Recorded) bool {
		if !req.Until.IsZero() && req.Until.Less(r.Position) {
			return false
		}
		t := r.Created
		if by == ByOccurred && !r.Meta.OccurredAt.IsZero() {
			t = r.Meta.OccurredAt
		}
		return !t.After(asOf)
	}
	leftOut := func(r *eventlog.Recorded) {
		if by == ByRecorded && !r.Meta.OccurredAt.IsZero() && !r.Meta.OccurredAt.After(asOf) {
			snap.OccurredBefore++
		}
	}
	// Each model's tables and its section of the summary are read as soon as it has applied the history,
	// while the others still apply theirs (the last to finish used to leave a core idle), each on a
	// connection of the pool: at most four at once, as the live projections share it.
	q := sch.querier(a.cfg.Pool, a.replayed)
	snap.Models = make([]ModelState, len(models))
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	reads, rctx := errgroup.WithContext(qctx)
	reads.SetLimit(4)
	read := func(i int) {
		m := models[i]
		if part := summaryPart(q, m.model.Name(), sc.community, sc.path, &snap.summary); part != nil {
			reads.Go(func() error {
				if err := part(rctx); err != nil {
					return fmt.Errorf("replay %s: %w", req.Community, err)
				}
				return nil
			})
		}
		reads.Go(func() error {
			st := ModelState{Name: m.model.Name(), Poison: m.poison, Halted: m.halted}
			var err error
			if st.Rows, st.Tables, err = dumpSchema(rctx, a.cfg.Pool, m.schema, sch.tablesOf[m.schema], req.Tables); err != nil {
				return fmt.Errorf("replay %s: read %s: %w", req.Community, m.schema, err)
			}
			snap.Models[i] = st
			return nil
		})
	}
	if err := a.applyScope(ctx, sc, head, models, in, leftOut, snap, req.Progress, read); err != nil {
		cancel()
		_ = reads.Wait()
		return nil, fmt.Errorf("replay %s as of %s: %w", req.Community, asOf.Format(time.RFC3339), err)
	}

	if snap.OccurredBefore > 0 {
		snap.Hint = fmt.Sprintf("%d events of this community say they happened by %s but were recorded later, so by recorded time "+
			"they are left out; to see what happened by then, ask by occurred time (--by occurred, by=occurred)",
			snap.OccurredBefore, snap.AsOfLocal)
	}
	phase("apply")
	for _, m := range models {
		phases = append(phases, m.model.Name()+"_ms", m.took.Milliseconds())
	}
	if err := reads.Wait(); err != nil {
		return nil, err
	}
	snap.Summary = jsonable(snap.summary)
	phase("query")
	snap.Seconds = time.Since(started).Seconds()
	a.cfg.Logger.DebugContext(ctx, "audit: replayed", append([]any{"community", sc.community, "events", snap.Events}, phases...)...)
	return snap, nil
}

// scratchModel is a read model bound to its scratch schema.
type scratchModel struct {
	model  runtime.ReadModel
	schema string
	poison []PoisonEvent
	halted bool
	took   time.Duration // applying
}

// applyScope reads the scope's events, keeps those in, and applies them batch by batch to every model
// (each model in its own goroutine and transaction, the batches in order); done(i) is called once model i
// has applied every batch.
func (a *Auditor) applyScope(ctx context.Context, sc scope, head eventlog.Position, models []*scratchModel,
	in func(*eventlog.Recorded) bool, leftOut func(*eventlog.Recorded), snap *Snapshot, progress func(done, total uint64),
	done func(i int)) error {
	g, gctx := errgroup.WithContext(ctx)
	feeds := make([]chan []eventlog.Recorded, len(models))
	for i, m := range models {
		feeds[i] = make(chan []eventlog.Recorded, 4)
		g.Go(func() error {
			for batch := range feeds[i] {
				if m.halted {
					continue
				}
				t0 := time.Now()
				if err := a.applyBatch(gctx, m, batch); err != nil {
					return err
				}
				m.took += time.Since(t0)
			}
			if gctx.Err() == nil {
				done(i)
			}
			return nil
		})
	}
	g.Go(func() error {
		defer func() {
			for _, f := range feeds {
				close(f)
			}
		}()
		size := a.cfg.ReplayBatch
		batch := make([]eventlog.Recorded, 0, size)
		send := func() error {
			if len(batch) == 0 {
				return nil
			}
			for _, f := range feeds {
				select {
				case f <- batch:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			batch = make([]eventlog.Recorded, 0, size)
			return nil
		}
		streams := map[string]bool{}
		n := 0
		err := a.cfg.Store.ReadAllFiltered(gctx, eventlog.Start, sc.filter(), func(r eventlog.Recorded) error {
			if n++; progress != nil && n%1000 == 0 {
				progress(r.Position.Commit, head.Commit)
			}
			if eventlog.SystemStream(r.Stream) || !sc.includes(&r) {
				return nil
			}
			if !in(&r) {
				snap.Later++
				if leftOut != nil {
					leftOut(&r)
				}
				return nil
			}
			snap.Events++
			if sc.own(&r) {
				snap.OwnEvents++
			}
			streams[r.Stream] = true
			snap.LastEvent = refOf(&r)
			r.Shared = new(eventlog.Shared) // every model gets this copy: its payload is decoded once
			batch = append(batch, r)
			if len(batch) == size {
				return send()
			}
			return nil
		})
		if err != nil {
			return err
		}
		snap.Streams = len(streams)
		if progress != nil {
			progress(head.Commit, head.Commit)
		}
		return send()
	})
	return g.Wait()
}

// applyBatch applies batch to m's scratch schema in one transaction. When the model rejects an event as
// poison, the batch is applied again one event at a time (each under a savepoint) to find the poison
// events; they are skipped, or, for a model whose policy is Halt, the model stops at the first, as in
// live projection.
func (a *Auditor) applyBatch(ctx context.Context, m *scratchModel, batch []eventlog.Recorded) error {
	err := a.inSchema(ctx, m.schema, func(tx pgx.Tx) error { return m.model.Apply(ctx, tx, batch) })
	if err == nil || !errors.Is(err, runtime.ErrPoison) {
		if err != nil {
			return fmt.Errorf("%s: %w", m.model.Name(), err)
		}
		return nil
	}
	return a.inSchema(ctx, m.schema, func(tx pgx.Tx) error {
		for i := range batch {
			sp, err := tx.Begin(ctx)
			if err != nil {
				return err
			}
			err = m.model.Apply(ctx, sp, batch[i:i+1])
			if err == nil {
				if err := sp.Commit(ctx); err != nil {
					return err
				}
				continue
			}
			_ = sp.Rollback(ctx)
			if !errors.Is(err, runtime.ErrPoison) {
				return fmt.Errorf("%s: %w", m.model.Name(), err)
			}
			m.poison = append(m.poison, PoisonEvent{EventRef: *refOf(&batch[i]), Reason: err.Error()})
			if m.model.Poison() == runtime.Halt {
				m.halted = true
				return nil
			}
		}
		return nil
	})
}

// inSchema runs fn in a transaction whose search_path is schema, then public (as the runtime runs Apply).
func (a *Auditor) inSchema(ctx context.Context, schema string, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, a.cfg.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT set_config('search_path', $1, true), set_config('synchronous_commit', 'off', true)",
			pgx.Identifier{schema}.Sanitize()+", public"); err != nil {
			return err
		}
		return fn(tx)
	})
}

// scratch is the set of schemas of one replay, scratch_<id>_<model>, and the session that holds the
// replay's advisory lock while they exist.
type scratch struct {
	a    *Auditor
	id   string
	conn *pgx.Conn
	own  bool // conn is the set's own, not one of the pool's: the set can be kept as a spare
	done func()
	// tables are the models' tables in the set, schema-qualified (not the migrations' ledger): what
	// emptying it truncates; tablesOf holds them by schema. Both are read once (readTables).
	tables   []string
	tablesOf map[string][]table
}

// scratchMigrations is the table of a scratch schema that records its migrations.
const scratchMigrations = "schema_migrations"

func scratchLockKey(id string) string { return "ledger.audit.scratch:" + id }

// takeScratch returns a set of scratch schemas with every replayed model's tables: the spare made ahead
// (Config.Spare) when there is one, else a new set.
func (a *Auditor) takeScratch(ctx context.Context) (*scratch, error) {
	select {
	case s := <-a.spare:
		if err := s.conn.Ping(ctx); err == nil {
			return s, nil
		}
		s.close(ctx) // its session ended (and its lock with it): another replay may have dropped its schemas
	default:
	}
	return a.newScratch(ctx, false)
}

// newScratch opens a set of scratch schemas and creates every replayed model's tables in them, side by
// side (each schema has its own migration lock). A spare holds its lock on a connection of its own, not
// on one of the pool's, which it would keep from the others for as long as it waits.
func (a *Auditor) newScratch(ctx context.Context, spare bool) (*scratch, error) {
	s, err := a.openScratch(ctx, spare)
	if err != nil {
		return nil, err
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, m := range a.replayed {
		g.Go(func() error {
			if err := a.cfg.Migrate(gctx, s.schema(m.Name()), scratchMigrations, m.Migrations()); err != nil {
				return fmt.Errorf("create %s: %w", s.schema(m.Name()), err)
			}
			if err := lightenScratch(gctx, a.cfg.Pool, s.schema(m.Name())); err != nil {
				return fmt.Errorf("create %s: %w", s.schema(m.Name()), err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		s.close(ctx)
		return nil, err
	}
	if err := s.readTables(ctx); err != nil {
		s.close(ctx)
		return nil, fmt.Errorf("scratch schemas: %w", err)
	}
	return s, nil
}

// table is one of a scratch schema's tables, with its primary key's columns ("" when it has none).
type table struct{ name, key string }

// readTables reads the tables of every schema of the set from the catalogue, once for the set (a spare
// set serves many replays): each replay's dump of a model's tables used to read them again, a catalogue
// query that PostgreSQL planned anew each time, on the path of the answer.
func (s *scratch) readTables(ctx context.Context) error {
	schemas := make([]string, len(s.a.replayed))
	for i, m := range s.a.replayed {
		schemas[i] = s.schema(m.Name())
	}
	rows, err := s.conn.Query(ctx, `SELECT n.nspname, c.relname,
			coalesce((SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY array_position(i.indkey::int2[], a.attnum))
				FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
				WHERE i.indrelid = c.oid AND i.indisprimary), '')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = ANY ($1) AND c.relkind IN ('r', 'p') AND c.relname <> $2 ORDER BY 1, 2`,
		schemas, scratchMigrations)
	if err != nil {
		return err
	}
	s.tablesOf = make(map[string][]table, len(schemas))
	var schema string
	var t table
	_, err = pgx.ForEachRow(rows, []any{&schema, &t.name, &t.key}, func() error {
		s.tablesOf[schema] = append(s.tablesOf[schema], t)
		s.tables = append(s.tables, pgx.Identifier{schema, t.name}.Sanitize())
		return nil
	})
	return err
}

// lightenScratch makes a freshly migrated scratch schema cheaper to write: it drops the indexes no
// constraint needs (neither unique nor a primary key: those the models' upserts conflict on stay) and makes
// every table UNLOGGED. A scratch schema holds one community's history, written once and read a few times,
// where every such index costs more to keep up than it saves (the audit trail alone keeps five on every
// event: more than a rebuild defers, the indexes a model names in runtime.IndexesLast, but one community's
// tables are small enough for Apply's own reads to go as fast without the rest); and a crash that loses
// it loses nothing, so its rows need not go through the write-ahead log either (PostgreSQL writing a
// community's 11 247 audit-trail rows into a table with its primary key only: 26–28 ms logged, 17 ms
// unlogged).
func lightenScratch(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	rows, err := pool.Query(ctx, `SELECT 'DROP INDEX ' || format('%I.%I', n.nspname, c.relname) FROM pg_index i
		JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND NOT i.indisunique AND NOT i.indisprimary
		AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
		UNION ALL
		SELECT 'ALTER TABLE ' || format('%I.%I', n.nspname, c.relname) || ' SET UNLOGGED' FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r' AND c.relpersistence = 'p'`, schema)
	if err != nil {
		return err
	}
	stmts, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(stmts) == 0 {
		return err
	}
	_, err = pool.Exec(ctx, strings.Join(stmts, "; "))
	return err
}

// refill makes the next spare set of scratch schemas in the background, when Config.Spare asks for one
// and none is ready or being made: the next replay then starts applying at once.
func (a *Auditor) refill() {
	if !a.cfg.Spare {
		return
	}
	a.prepare(func(ctx context.Context) *scratch {
		if a.isClosed() {
			return nil
		}
		s, err := a.newScratch(ctx, true)
		if err != nil {
			a.cfg.Logger.WarnContext(ctx, "audit: making a spare set of scratch schemas failed; replays make their own", "err", err)
			return nil
		}
		return s
	})
}

// release hands back a replay's scratch schemas. With Config.Spare, a set on a connection of its own is
// emptied in the background and kept as the next spare: truncating its tables costs PostgreSQL a fraction
// of dropping the schemas and making a new set (their catalogue rows, files and migrations), work that
// otherwise ran beside the next replay. Any other set is dropped, and a spare made.
func (a *Auditor) release(s *scratch) {
	if a.cfg.Spare && s.own && a.prepare(func(ctx context.Context) *scratch {
		if a.isClosed() {
			s.close(ctx)
			return nil
		}
		t0 := time.Now()
		if err := s.empty(ctx); err != nil {
			a.cfg.Logger.WarnContext(ctx, "audit: emptying scratch schemas failed; dropping them", "id", s.id, "err", err)
			s.close(ctx)
			return nil
		}
		a.cfg.Logger.DebugContext(ctx, "audit: emptied scratch schemas", "id", s.id, "ms", time.Since(t0).Milliseconds())
		return s
	}) {
		return
	}
	a.dispose(s)
	a.refill()
}

// prepare readies the next spare in the background with ready (nil: none), unless one is being readied
// already (then it returns false and does nothing). A spare nobody awaits any more (one is ready) is
// dropped.
func (a *Auditor) prepare(ready func(ctx context.Context) *scratch) bool {
	if !a.preparing.CompareAndSwap(false, true) {
		return false
	}
	a.spares.Go(func() {
		defer a.preparing.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s := ready(ctx)
		if s == nil {
			return
		}
		select {
		case a.spare <- s:
		default:
			s.close(ctx)
		}
	})
	return true
}

// isClosed reports whether Close has been called.
func (a *Auditor) isClosed() bool {
	select {
	case <-a.closed:
		return true
	default:
		return false
	}
}

// dispose drops a replay's scratch schemas in the background, so that its answer does not wait for the
// drop (60–100 ms of a replay here). Close waits for it; a process that ends first leaves them to the
// next replay's sweep (their lock ends with its session).
func (a *Auditor) dispose(s *scratch) {
	if a.isClosed() {
		s.close(context.Background())
		return
	}
	a.spares.Go(func() { s.close(context.Background()) })
}

// Close drops the spare set of scratch schemas (Config.Spare), after any being made, and waits for the
// replays' schemas being dropped. Replays may still run afterwards; they make their own.
func (a *Auditor) Close() {
	a.closeOnce.Do(func() { close(a.closed) })
	a.spares.Wait()
	for {
		select {
		case s := <-a.spare:
			s.close(context.Background())
		default:
			return
		}
	}
}

// openScratch picks a fresh id, takes its lock (on a connection held until close: the pool's, or one of
// its own for a spare) and drops the scratch schemas of replays that no longer run (no session holds
// their lock).
func (a *Auditor) openScratch(ctx context.Context, own bool) (*scratch, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	id := hex.EncodeToString(b[:])
	var s *scratch
	if own {
		conn, err := pgx.ConnectConfig(ctx, a.cfg.Pool.Config().ConnConfig.Copy())
		if err != nil {
			return nil, fmt.Errorf("scratch schemas: %w", err)
		}
		s = &scratch{a: a, id: id, conn: conn, own: true, done: func() { _ = conn.Close(context.Background()) }}
	} else {
		pc, err := a.cfg.Pool.Acquire(ctx)
		if err != nil {
			return nil, fmt.Errorf("scratch schemas: %w", err)
		}
		s = &scratch{a: a, id: id, conn: pc.Conn(), done: pc.Release}
	}
	if _, err := s.conn.Exec(ctx, "SELECT pg_advisory_lock(hashtextextended($1, 0))", scratchLockKey(id)); err != nil {
		s.done()
		return nil, fmt.Errorf("scratch schemas: lock: %w", err)
	}
	t0 := time.Now()
	defer func() {
		a.cfg.Logger.DebugContext(ctx, "audit: opened scratch", "id", id, "ms", time.Since(t0).Milliseconds())
	}()
	if err := s.sweep(ctx); err != nil {
		a.cfg.Logger.WarnContext(ctx, "audit: dropping abandoned scratch schemas failed", "err", err)
	}
	return s, nil
}

func (s *scratch) schema(model string) string { return scratchPrefix + s.id + "_" + model }

// sweep drops the schemas of abandoned replays.
func (s *scratch) sweep(ctx context.Context) error {
	rows, err := s.conn.Query(ctx, `SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1) ORDER BY 1`, scratchPrefix)
	if err != nil {
		return err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	byID := map[string][]string{}
	for _, n := range names {
		id, _, ok := strings.Cut(strings.TrimPrefix(n, scratchPrefix), "_")
		if ok && id != s.id {
			byID[id] = append(byID[id], n)
		}
	}
	for id, schemas := range byID {
		var free bool
		if err := s.conn.QueryRow(ctx, "SELECT pg_try_advisory_lock(hashtextextended($1, 0))", scratchLockKey(id)).Scan(&free); err != nil {
			return err
		}
		if !free {
			continue // that replay is running
		}
		err := dropSchemas(ctx, s.conn, schemas)
		if _, uerr := s.conn.Exec(ctx, "SELECT pg_advisory_unlock(hashtextextended($1, 0))", scratchLockKey(id)); uerr != nil && err == nil {
			err = uerr
		}
		if err != nil {
			return err
		}
		s.a.cfg.Logger.InfoContext(ctx, "audit: dropped the scratch schemas of an abandoned replay", "schemas", schemas)
	}
	return nil
}

// empty truncates every table of the set that holds rows (but the migrations' ledger), restarting their
// sequences: the set is then as newScratch makes it. Truncating costs PostgreSQL a new file per table, so
// the empty ones (most of a set: one community uses a few of each model's tables) are left alone.
func (s *scratch) empty(ctx context.Context) error {
	if len(s.tables) == 0 {
		return nil
	}
	probes := make([]string, len(s.tables))
	for i, t := range s.tables {
		probes[i] = fmt.Sprintf("SELECT %d WHERE EXISTS (SELECT FROM %s)", i, t)
	}
	rows, err := s.conn.Query(ctx, strings.Join(probes, " UNION ALL "))
	if err != nil {
		return err
	}
	used, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil || len(used) == 0 {
		return err
	}
	full := make([]string, len(used))
	for i, u := range used {
		full[i] = s.tables[u]
	}
	_, err = s.conn.Exec(ctx, "TRUNCATE "+strings.Join(full, ", ")+" RESTART IDENTITY")
	return err
}

func dropSchemas(ctx context.Context, conn *pgx.Conn, schemas []string) error {
	if len(schemas) == 0 {
		return nil
	}
	ids := make([]string, len(schemas))
	for i, s := range schemas {
		ids[i] = pgx.Identifier{s}.Sanitize()
	}
	_, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+strings.Join(ids, ", ")+" CASCADE")
	return err
}

// close drops the replay's schemas and releases its lock, even when ctx is already cancelled.
func (s *scratch) close(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	schemas := make([]string, len(s.a.replayed))
	for i, m := range s.a.replayed {
		schemas[i] = s.schema(m.Name())
	}
	t0 := time.Now()
	if err := dropSchemas(ctx, s.conn, schemas); err != nil {
		s.a.cfg.Logger.WarnContext(ctx, "audit: dropping scratch schemas failed; the next replay drops them", "id", s.id, "err", err)
	}
	s.a.cfg.Logger.DebugContext(ctx, "audit: dropped scratch schemas", "id", s.id, "ms", time.Since(t0).Milliseconds())
	if _, err := s.conn.Exec(ctx, "SELECT pg_advisory_unlock(hashtextextended($1, 0))", scratchLockKey(s.id)); err != nil {
		_ = s.conn.Close(ctx) // ends the session, and the lock with it
	}
	s.done()
}

// querier returns a Querier that runs the read models' own queries against the scratch schemas: their
// SQL names the live schema quoted ("rm_board"."notices", as pgx.Identifier renders it), which is
// rewritten to the scratch schema.
func (s *scratch) querier(pool querier, models []runtime.ReadModel) schemaQuerier {
	var pairs []string
	for _, m := range models {
		pairs = append(pairs, pgx.Identifier{runtime.SchemaOf(m.Name())}.Sanitize()+".", pgx.Identifier{s.schema(m.Name())}.Sanitize()+".")
	}
	return schemaQuerier{q: pool, r: strings.NewReplacer(pairs...)}
}

// querier is a pool, connection or transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// schemaQuerier rewrites schema names in the SQL it runs.
type schemaQuerier struct {
	q querier
	r *strings.Replacer
}

func (s schemaQuerier) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return s.q.Query(ctx, s.r.Replace(sql), args...)
}

func (s schemaQuerier) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return s.q.QueryRow(ctx, s.r.Replace(sql), args...)
}
