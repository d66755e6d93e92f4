package supervision

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/supervision"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

type paramsEntry struct{ p rulebook.Params }

// batchState is what one Apply call knows beyond the tables: the parameters resolved so far (reset by
// an override event) and whether to notify the feed and the outbox at the end.
type batchState struct {
	m            *Model
	tx           pgx.Tx
	params       map[kernel.JurisdictionPath]paramsEntry
	hasOverrides *bool
	feed, outbox bool
	rated        map[kernel.CommunityID]rating
	pending      *pgx.Batch // writes queued since the last round trip
	// known are the keys prefetch looked up, open those of them with an open alert or a raise in the
	// outbox then: a key known and not open needs no look-up to clear or raise. raised are the keys the
	// batch has queued a raise for since (dropped again when the breach ends), recorded those it has
	// recorded an alert of: a known key neither open nor recorded has no open alert, and a raise pending
	// only if raised.
	known, open, raised, recorded map[supervision.Key]bool
	// assemblies are the communities prefetch looked up for an open residents'-meeting alert (a residents'
	// assembly of the batch clears it), with whether they have one or one was recorded since: an assembly in
	// a community known to have none needs no look-up.
	assemblies map[kernel.CommunityID]bool
	// assemblyKeys are the communities the effects decided since the last look-up hold an assembly in, not
	// looked up yet.
	assemblyKeys []string
	// deadlines are the deadline rows the batch decided since its last write, in the order first decided
	// (deadlines.go).
	deadlines     map[supervision.Key]*pendingDeadline
	deadlineOrder []supervision.Key
	// effects are what prefetch found each event of the batch does (by index; nil for an event without
	// a community), for apply to use again unless an override has changed the parameters since.
	effects    []*supervision.Effects
	overridden bool
	// onBoard are the notices put on the board since the batch's last write.
	onBoard struct {
		communities, categories, notices []string
		at                               []time.Time
	}
}

// prefetch decides what each event of the batch does and looks up, in one round trip with the rule
// parameters of the batch's jurisdictions, which of the keys those effects concern have an open alert or a
// pending raise: most have none, and their clears and raises then need no look-up each. The effects are
// decided under the default parameters first; where an override applies they are decided again, and keys
// that only the overridden parameters name are looked up in a second round trip.
func (b *batchState) prefetch(ctx context.Context, batch []eventlog.Recorded, decoded []kernel.Event) error {
	b.known, b.open = map[supervision.Key]bool{}, map[supervision.Key]bool{}
	b.raised, b.recorded = map[supervision.Key]bool{}, map[supervision.Key]bool{}
	b.assemblies = map[kernel.CommunityID]bool{}
	b.effects = make([]*supervision.Effects, len(batch))
	var paths, asked []string
	seenPath, seenAncestor := map[string]bool{}, map[string]bool{}
	for i, e := range decoded {
		path := kernel.JurisdictionPath(batch[i].Meta.Jurisdiction)
		if e == nil || path == "" || seenPath[string(path)] {
			continue
		}
		seenPath[string(path)] = true
		paths = append(paths, string(path))
		for _, a := range ancestors(path) {
			if !seenAncestor[a] {
				seenAncestor[a] = true
				asked = append(asked, a)
			}
		}
	}
	defaults := rulebook.New()
	for _, p := range paths {
		b.params[kernel.JurisdictionPath(p)] = paramsEntry{defaults.For(kernel.JurisdictionPath(p))}
	}
	keys := b.decideEffects(batch, decoded, nil)
	if len(paths) == 0 {
		return nil // no event of the batch is in a jurisdiction: no parameters, no effects
	}
	var has bool
	var rb *rulebook.Rulebook
	var overridden map[string]bool
	q := &pgx.Batch{}
	q.Queue("SELECT EXISTS (SELECT 1 FROM overrides)").QueryRow(func(row pgx.Row) error { return row.Scan(&has) })
	if len(asked) > 0 {
		q.Queue(`SELECT path, rule, param, value FROM overrides WHERE path = ANY($1)`, asked).Query(func(rows pgx.Rows) error {
			var err error
			rb, overridden, err = scanOverrides(rows)
			return err
		})
	}
	b.queueLookup(q, keys)
	if err := b.send(ctx, q); err != nil {
		return fmt.Errorf("look up rule parameters and open alerts: %w", err)
	}
	b.hasOverrides = &has
	if len(overridden) == 0 {
		return nil
	}
	again := map[kernel.JurisdictionPath]bool{} // the jurisdictions an override applies to
	for _, p := range paths {
		path := kernel.JurisdictionPath(p)
		b.params[path] = paramsEntry{rb.For(path)}
		for _, a := range ancestors(path) {
			if overridden[a] {
				again[path] = true
				break
			}
		}
	}
	if len(again) == 0 {
		return nil
	}
	if keys = b.decideEffects(batch, decoded, again); len(keys) == 0 && len(b.assemblyKeys) == 0 {
		return nil
	}
	q = &pgx.Batch{}
	b.queueLookup(q, keys)
	if err := b.send(ctx, q); err != nil {
		return fmt.Errorf("look up open alerts: %w", err)
	}
	return nil
}

// decideEffects decides the effects of the batch's events with a community (only of those in the
// jurisdictions only names, unless only is nil) under the batch's parameters, and returns the keys they
// concern that the batch has not looked up, each once.
func (b *batchState) decideEffects(batch []eventlog.Recorded, decoded []kernel.Event, only map[kernel.JurisdictionPath]bool) []supervision.Key {
	var keys []supervision.Key
	added := map[supervision.Key]bool{}
	add := func(k supervision.Key) {
		if !b.known[k] && !added[k] {
			added[k] = true
			keys = append(keys, k)
		}
	}
	for i, e := range decoded {
		r := &batch[i]
		c, path := kernel.CommunityID(r.Meta.CommunityID), kernel.JurisdictionPath(r.Meta.Jurisdiction)
		if e == nil || c == "" || path == "" || (only != nil && !only[path]) {
			continue
		}
		fx := supervision.EffectsOf(e, supervision.Recorded{Community: c, Stream: r.Stream}, b.params[path].p)
		b.effects[i] = &fx
		for _, d := range fx.Open {
			add(d.Key)
		}
		for _, ks := range [][]supervision.Key{fx.Met, fx.Ends, fx.Settled} {
			for _, k := range ks {
				add(k)
			}
		}
		for _, ev := range fx.Evaluated {
			add(ev.Key)
		}
		for _, br := range fx.Breaches {
			add(br.Key)
		}
		if _, looked := b.assemblies[c]; fx.Assembly != nil && !looked {
			b.assemblies[c] = true // until the look-up says otherwise
			b.assemblyKeys = append(b.assemblyKeys, string(c))
		}
	}
	return keys
}

// queueLookup queues, on q, the look-up of which of keys have an open alert or a raise in the outbox, and
// marks them known (open as the answer says).
func (b *batchState) queueLookup(q *pgx.Batch, keys []supervision.Key) {
	if cs := b.assemblyKeys; len(cs) > 0 {
		b.assemblyKeys = nil
		for _, c := range cs {
			b.assemblies[kernel.CommunityID(c)] = false
		}
		q.Queue(`SELECT DISTINCT community_id FROM alerts WHERE cleared_at IS NULL AND rule = $1 AND trigger = $2 AND community_id = ANY($3)`,
			string(rulebook.ResidentsMeetingFrequency), string(supervision.ByCalendar), cs).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var c string
				if err := rows.Scan(&c); err != nil {
					return err
				}
				b.assemblies[kernel.CommunityID(c)] = true
			}
			return rows.Err()
		})
	}
	if len(keys) == 0 {
		return
	}
	rules, subjects := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		b.known[k] = true
		rules[i], subjects[i] = string(k.Rule), k.Subject
	}
	q.Queue(`WITH k (rule, subject) AS (SELECT * FROM unnest($1::text[], $2::text[]))
		SELECT a.rule, a.subject FROM alerts a JOIN k ON a.rule = k.rule AND a.subject = k.subject WHERE a.cleared_at IS NULL
		UNION SELECT o.rule, o.subject FROM outbox o JOIN k ON o.rule = k.rule AND o.subject = k.subject WHERE o.kind = 'raise'`,
		rules, subjects).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var rule, subject string
			if err := rows.Scan(&rule, &subject); err != nil {
				return err
			}
			b.open[supervision.Key{Rule: kernel.RuleID(rule), Subject: subject}] = true
		}
		return rows.Err()
	})
}

// mayBeOpen reports whether key k may have an open alert or a pending raise: false only for a key the
// prefetch found without either and nothing raised or recorded since.
func (b *batchState) mayBeOpen(k supervision.Key) bool { return b.mayHaveAlert(k) || b.raised[k] }

// mayHaveAlert reports whether key k may have an open alert (in the alerts table): false only for a key
// the prefetch found without one or a pending raise, and none recorded since.
func (b *batchState) mayHaveAlert(k supervision.Key) bool {
	return !b.known[k] || b.open[k] || b.recorded[k]
}

// The model's writes are queued (exec) and sent in one round trip before the next read (query,
// queryRow, send) and at the end of the batch: a rebuild pays a round trip per read, not per statement.

// exec queues a statement whose result the batch does not read.
func (b *batchState) exec(sql string, args ...any) (struct{}, error) {
	if b.pending == nil {
		b.pending = &pgx.Batch{}
	}
	b.pending.Queue(sql, args...)
	return struct{}{}, nil
}

// flush sends the queued statements.
func (b *batchState) flush(ctx context.Context) error {
	b.queueFolded()
	if b.pending == nil || b.pending.Len() == 0 {
		return nil
	}
	q := b.pending
	b.pending = nil
	if err := b.tx.SendBatch(ctx, q).Close(); err != nil {
		return fmt.Errorf("apply the batch's writes: %w", err)
	}
	return nil
}

// send sends the queued statements and then q's, in one round trip.
func (b *batchState) send(ctx context.Context, q *pgx.Batch) error {
	b.queueFolded()
	if b.pending != nil {
		q.QueuedQueries = append(b.pending.QueuedQueries, q.QueuedQueries...)
		b.pending = nil
	}
	return b.tx.SendBatch(ctx, q).Close()
}

func (b *batchState) query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := b.flush(ctx); err != nil {
		return nil, err
	}
	return b.tx.Query(ctx, sql, args...)
}

func (b *batchState) queryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if err := b.flush(ctx); err != nil {
		return errRow{err}
	}
	return b.tx.QueryRow(ctx, sql, args...)
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

func (b *batchState) notify(ctx context.Context) error {
	if err := b.rate(ctx); err != nil {
		return err
	}
	if b.feed {
		if _, err := b.exec("SELECT pg_notify($1, '')", FeedChannel); err != nil {
			return fmt.Errorf("notify %s: %w", FeedChannel, err)
		}
	}
	if b.outbox {
		if _, err := b.exec("SELECT pg_notify($1, '')", OutboxChannel); err != nil {
			return fmt.Errorf("notify %s: %w", OutboxChannel, err)
		}
	}
	return nil
}

// paramsFor resolves a community's rule parameters from the overrides table (as of this batch).
func (b *batchState) paramsFor(ctx context.Context, path kernel.JurisdictionPath) (rulebook.Params, error) {
	if e, ok := b.params[path]; ok {
		return e.p, nil
	}
	if err := b.checkOverrides(ctx); err != nil {
		return rulebook.Params{}, err
	}
	p := rulebook.Defaults()
	if *b.hasOverrides {
		var err error
		if p, err = paramsFor(ctx, b.tx, "overrides", path); err != nil {
			return rulebook.Params{}, err
		}
	}
	b.params[path] = paramsEntry{p}
	return p, nil
}

// checkOverrides finds out, once per batch, whether any override is recorded at all.
func (b *batchState) checkOverrides(ctx context.Context) error {
	if b.hasOverrides == nil {
		var has bool
		if err := b.queryRow(ctx, "SELECT EXISTS (SELECT 1 FROM overrides)").Scan(&has); err != nil {
			return fmt.Errorf("look up overrides: %w", err)
		}
		b.hasOverrides = &has
	}
	return nil
}

func sourceOf(r *eventlog.Recorded) *supervision.Source {
	return &supervision.Source{EventID: r.ID.String(), Stream: r.Stream, Type: r.Type}
}

func causeOf(r *eventlog.Recorded) Cause {
	return Cause{EventID: r.ID.String(), CorrelationID: r.Meta.CorrelationID}
}

// apply applies event i of the batch, r, decoded as e.
func (b *batchState) apply(ctx context.Context, i int, r *eventlog.Recorded, e kernel.Event) error {
	switch e := e.(type) {
	case rulebook.OverrideSet:
		b.params, b.hasOverrides, b.overridden = map[kernel.JurisdictionPath]paramsEntry{}, nil, true
		_, err := b.exec(`INSERT INTO overrides (path, rule, param, value) VALUES ($1, $2, $3, $4)
			ON CONFLICT (path, rule, param) DO UPDATE SET value = excluded.value`, string(e.Jurisdiction), string(e.Rule), e.Param, e.Value)
		return err
	case rulebook.OverrideRemoved:
		b.params, b.hasOverrides, b.overridden = map[kernel.JurisdictionPath]paramsEntry{}, nil, true
		_, err := b.exec(`DELETE FROM overrides WHERE path = $1 AND rule = $2 AND param = $3`,
			string(e.Jurisdiction), string(e.Rule), e.Param)
		return err
	case supervision.AlertRaised:
		return b.recordRaised(ctx, r, e)
	case supervision.AlertCleared:
		return b.recordCleared(ctx, r, e)
	}
	c := kernel.CommunityID(r.Meta.CommunityID)
	path := kernel.JurisdictionPath(r.Meta.Jurisdiction)
	if c == "" || path == "" {
		return nil // jurisdiction nodes and other events without a community concern no rule of the engine
	}
	switch ev := e.(type) {
	case community.Registered:
		if _, err := b.exec(`INSERT INTO communities (community_id, jurisdiction, kind, registered_at, households) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (community_id) DO UPDATE SET jurisdiction = excluded.jurisdiction, kind = excluded.kind, households = excluded.households`,
			string(ev.CommunityID), string(ev.Jurisdiction), string(ev.Kind), ev.RegisteredAt, ev.Households); err != nil {
			return fmt.Errorf("record community: %w", err)
		}
		b.toRate(ev.CommunityID, ev.Jurisdiction, r.Created)
	case community.FiguresUpdated:
		if _, err := b.exec(`UPDATE communities SET households = $2 WHERE community_id = $1`, string(c), ev.Households); err != nil {
			return fmt.Errorf("record figures: %w", err)
		}
	case funds.BudgetAllocated:
		if ev.Category == funds.Operating {
			if _, err := b.exec(`INSERT INTO operating_funds (community_id, fiscal_year, amount_fen) VALUES ($1, $2, $3)
				ON CONFLICT (community_id, fiscal_year) DO UPDATE SET amount_fen = operating_funds.amount_fen + excluded.amount_fen`,
				string(c), ev.FiscalYear, int64(ev.Amount)); err != nil {
				return fmt.Errorf("record operating funds: %w", err)
			}
		}
	}
	p, err := b.paramsFor(ctx, path)
	if err != nil {
		return err
	}
	var fx supervision.Effects
	if i < len(b.effects) && b.effects[i] != nil && !b.overridden {
		fx = *b.effects[i] // prefetch decided it under the same parameters
	} else {
		fx = supervision.EffectsOf(e, supervision.Recorded{Community: c, Stream: r.Stream}, p)
	}
	return b.effect(ctx, r, c, path, p, fx)
}

// target is the community an engine decision is about.
type target struct {
	c    kernel.CommunityID
	path kernel.JurisdictionPath
}

// effect carries out fx, what event r of community c (at path, under parameters p) does to the engine's
// state: deadlines opened, met or moved, conditions evaluated, breaches raised or ended, the board kept.
func (b *batchState) effect(ctx context.Context, r *eventlog.Recorded, c kernel.CommunityID, path kernel.JurisdictionPath,
	p rulebook.Params, fx supervision.Effects) error {
	at := r.Meta.OccurredAt.UTC()
	src := sourceOf(r)
	tg := target{c, path}
	for _, d := range fx.Open {
		if err := b.clearOpen(ctx, r, d.Key, supervision.ByDeadline, supervision.FactArrived,
			fmt.Sprintf("已于%s登记(%s)", stampOf(at), r.Type), src, at); err != nil {
			return err
		}
		if err := b.upsertDeadline(ctx, d, tg, src, true, ""); err != nil {
			return err
		}
	}
	for _, d := range fx.Reopen {
		if err := b.upsertDeadline(ctx, d, tg, src, true, src.EventID); err != nil {
			return err
		}
	}
	for _, d := range fx.OpenIfAbsent {
		if err := b.upsertDeadline(ctx, d, tg, src, false, ""); err != nil {
			return err
		}
	}
	for _, k := range fx.Met {
		b.dropDeadline(k)
		if err := b.clearOpen(ctx, r, k, supervision.ByDeadline, supervision.FactArrived,
			fmt.Sprintf("所缺事项已于%s登记(%s)", stampOf(at), r.Type), src, at); err != nil {
			return err
		}
	}
	for _, d := range fx.Reschedule {
		if err := b.rescheduleDeadline(d.Key, d.Due, d.Detail); err != nil {
			return err
		}
	}
	for _, ev := range fx.Evaluated {
		if err := b.setCondition(ctx, ev.Key, ev.Broken, r.ID); err != nil {
			return err
		}
		if ev.Broken {
			if err := b.raiseBreach(ctx, r, ev.Key, ev.Detail, p, tg, at); err != nil {
				return err
			}
			continue
		}
		if err := b.endBreach(ctx, r, ev.Key, fmt.Sprintf("%s的记录显示已符合规定(%s)", stampOf(at), r.Type), at); err != nil {
			return err
		}
	}
	for _, br := range fx.Breaches {
		if err := b.setCondition(ctx, br.Key, true, r.ID); err != nil {
			return err
		}
		if err := b.raiseBreach(ctx, r, br.Key, br.Detail, p, tg, at); err != nil {
			return err
		}
	}
	for _, k := range fx.Ends {
		if _, err := b.exec(`UPDATE conditions SET broken = false, anchor = $3 WHERE rule = $1 AND subject = $2`,
			string(k.Rule), k.Subject, pgUUID(r.ID)); err != nil {
			return fmt.Errorf("end condition: %w", err)
		}
		if err := b.endBreach(ctx, r, k, fmt.Sprintf("该事项已于%s撤销或驳回(%s)", stampOf(at), r.Type), at); err != nil {
			return err
		}
	}
	for _, k := range fx.Settled {
		if err := b.clearOpen(ctx, r, k, supervision.ByCalendar, supervision.FactArrived,
			fmt.Sprintf("已于%s补足(%s)", stampOf(at), r.Type), src, at); err != nil {
			return err
		}
	}
	if fx.Board != nil {
		if err := b.board(ctx, tg, p, *fx.Board, src); err != nil {
			return err
		}
	}
	if fx.Assembly != nil {
		if _, err := b.exec(`INSERT INTO assemblies (community_id, meeting_id, held_at) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, string(c), r.Stream, *fx.Assembly); err != nil {
			return fmt.Errorf("record assembly: %w", err)
		}
		if open, looked := b.assemblies[c]; looked && !open {
			return nil // no residents'-meeting alert open in the community
		}
		if err := b.clearWhere(ctx, r, `rule = $1 AND community_id = $2 AND trigger = $3 AND due_at <= $4`,
			[]any{string(rulebook.ResidentsMeetingFrequency), string(c), string(supervision.ByCalendar), *fx.Assembly},
			supervision.FactArrived, fmt.Sprintf("已于%s召开居民会议", stampOf(*fx.Assembly)), src, at); err != nil {
			return err
		}
	}
	return nil
}

// board keeps the notices with a rhythm that are on the board; a withdrawal reopens the rhythm from the
// latest one left (the community's registration, for affairs, when none is left). The reopened deadline
// replaces a pending one only when it is due earlier and not raised yet (a raised one already alerts).
func (b *batchState) board(ctx context.Context, tg target, p rulebook.Params, bd supervision.Board, src *supervision.Source) error {
	if !bd.Withdrawn {
		// Written with the batch's others in one statement before the board is next read (queueFolded).
		n := &b.onBoard
		n.communities, n.categories = append(n.communities, string(tg.c)), append(n.categories, string(bd.Category))
		n.notices, n.at = append(n.notices, bd.NoticeID), append(n.at, bd.At)
		return nil
	}
	var published time.Time
	err := b.queryRow(ctx, `DELETE FROM board_notices WHERE community_id = $1 AND category = $2 AND notice_id = $3 RETURNING published_at`,
		string(tg.c), string(bd.Category), bd.NoticeID).Scan(&published)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // not on the board (recorded before the board was kept)
	}
	if err != nil {
		return fmt.Errorf("take notice off the board: %w", err)
	}
	var latest *time.Time
	if err := b.queryRow(ctx, `SELECT max(published_at) FROM board_notices WHERE community_id = $1 AND category = $2`,
		string(tg.c), string(bd.Category)).Scan(&latest); err != nil {
		return fmt.Errorf("latest notice on the board: %w", err)
	}
	if latest == nil && bd.Category == disclosure.Affairs {
		if err := b.queryRow(ctx, `SELECT registered_at FROM communities WHERE community_id = $1`, string(tg.c)).Scan(&latest); err != nil &&
			!errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("community's registration: %w", err)
		}
	}
	var since time.Time
	if latest != nil {
		since = *latest
	}
	d, ok := supervision.Reopen(tg.c, bd, published, since, p)
	if !ok {
		return nil
	}
	row, err := newDeadlineRow(d, tg, src, src.EventID)
	if err != nil {
		return err
	}
	return b.reopenDeadlineEarlier(d.Key, row)
}

func stampOf(t time.Time) string { return t.In(kernel.ChinaTime()).Format("2006-01-02 15:04") }

func pgUUID(id eventlog.ID) pgtype.UUID { return pgtype.UUID{Bytes: id, Valid: true} }

// upsertDeadline opens a deadline, replacing a pending one with the same key or not; epoch is "" but for
// a deadline a withdrawal reopened (supervision.DeadlineAnchor).
func (b *batchState) upsertDeadline(ctx context.Context, d supervision.Deadline, tg target, src *supervision.Source, replace bool, epoch string) error {
	row, err := newDeadlineRow(d, tg, src, epoch)
	if err != nil {
		return err
	}
	if !replace {
		b.openDeadlineIfAbsent(d.Key, row)
		return nil
	}
	b.putDeadline(d.Key, row)
	return nil
}

// newDeadlineRow is the row that opens deadline d of target tg for the fact src.
func newDeadlineRow(d supervision.Deadline, tg target, src *supervision.Source, epoch string) (deadlineRow, error) {
	id, err := eventlog.ParseID(src.EventID)
	if err != nil {
		return deadlineRow{}, err
	}
	return deadlineRow{community: string(tg.c), path: string(tg.path), due: d.Due.UTC(), detail: d.Detail,
		sourceID: pgUUID(id), sourceStream: src.Stream, sourceType: src.Type, epoch: epoch}, nil
}

func (b *batchState) setCondition(ctx context.Context, k supervision.Key, broken bool, anchor eventlog.ID) error {
	_, err := b.exec(`INSERT INTO conditions (rule, subject, broken, anchor) VALUES ($1, $2, $3, $4)
		ON CONFLICT (rule, subject) DO UPDATE SET broken = excluded.broken, anchor = excluded.anchor`,
		string(k.Rule), k.Subject, broken, pgUUID(anchor))
	if err != nil {
		return fmt.Errorf("record condition %s %s: %w", k.Rule, k.Subject, err)
	}
	return nil
}

// raiseBreach decides a breach alert for k unless one is live: open without a pending clear, or
// pending in the outbox.
func (b *batchState) raiseBreach(ctx context.Context, r *eventlog.Recorded, k supervision.Key, detail string,
	p rulebook.Params, tg target, at time.Time) error {
	var live bool
	var err error
	switch {
	case !b.mayBeOpen(k):
	case !b.mayHaveAlert(k):
		live = b.raised[k] // no alert of k, and a raise pending only if this batch queued one
	default:
		err = b.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM alerts a WHERE a.rule = $1 AND a.subject = $2 AND a.cleared_at IS NULL
			AND a.trigger = 'breach' AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.alert_id = a.alert_id AND o.kind = 'clear'))
		OR EXISTS (SELECT 1 FROM outbox WHERE rule = $1 AND subject = $2 AND kind = 'raise')`, string(k.Rule), k.Subject).Scan(&live)
	}
	if err != nil {
		return fmt.Errorf("look up alert %s %s: %w", k.Rule, k.Subject, err)
	}
	if live {
		return nil
	}
	if detail == "" {
		detail = string(k.Rule)
	}
	a := supervision.AlertRaised{
		AlertID: supervision.AlertID(k.Rule, k.Subject, r.ID.String()), Rule: k.Rule, Severity: p.Severity(k.Rule),
		Community: tg.c, Jurisdiction: tg.path, Subject: k.Subject, Trigger: supervision.ByBreach, Detail: detail,
		Source: sourceOf(r), RaisedAt: at,
	}
	b.raised[k] = true
	return b.enqueue(ctx, a, a.AlertID, k, "raise", causeOf(r))
}

// endBreach clears the live breach alerts of k and forgets a raise not yet appended.
func (b *batchState) endBreach(ctx context.Context, r *eventlog.Recorded, k supervision.Key, detail string, at time.Time) error {
	if !b.mayBeOpen(k) {
		return nil
	}
	if _, err := b.exec(`DELETE FROM outbox WHERE rule = $1 AND subject = $2 AND kind = 'raise'`, string(k.Rule), k.Subject); err != nil {
		return fmt.Errorf("drop pending raise: %w", err)
	}
	b.raised[k] = false
	return b.clearOpen(ctx, r, k, supervision.ByBreach, supervision.ConditionEnded, detail, sourceOf(r), at)
}

func (b *batchState) clearOpen(ctx context.Context, r *eventlog.Recorded, k supervision.Key, trigger supervision.Trigger,
	reason supervision.ClearReason, detail string, src *supervision.Source, at time.Time) error {
	if !b.mayHaveAlert(k) {
		return nil
	}
	return b.clearWhere(ctx, r, `rule = $1 AND subject = $2 AND trigger = $3`, []any{string(k.Rule), k.Subject, string(trigger)},
		reason, detail, src, at)
}

// clearWhere decides the clearing of every open alert matching cond.
func (b *batchState) clearWhere(ctx context.Context, r *eventlog.Recorded, cond string, args []any,
	reason supervision.ClearReason, detail string, src *supervision.Source, at time.Time) error {
	rows, err := b.query(ctx, `SELECT alert_id, rule, community_id, jurisdiction, subject FROM alerts WHERE cleared_at IS NULL AND `+cond, args...)
	if err != nil {
		return fmt.Errorf("find alerts to clear: %w", err)
	}
	type open struct {
		id                     pgtype.UUID
		rule, c, path, subject string
	}
	var found []open
	for rows.Next() {
		var o open
		if err := rows.Scan(&o.id, &o.rule, &o.c, &o.path, &o.subject); err != nil {
			rows.Close()
			return err
		}
		found = append(found, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, o := range found {
		id := eventlog.ID(o.id.Bytes).String()
		ev := supervision.AlertCleared{AlertID: id, Rule: kernel.RuleID(o.rule), Community: kernel.CommunityID(o.c),
			Jurisdiction: kernel.JurisdictionPath(o.path), Subject: o.subject, Reason: reason, Detail: detail, Source: src, ClearedAt: at}
		cause := Cause{}
		if r != nil {
			cause = causeOf(r)
		}
		if err := b.enqueue(ctx, ev, id, supervision.Key{Rule: ev.Rule, Subject: o.subject}, "clear", cause); err != nil {
			return err
		}
	}
	return nil
}

func (b *batchState) enqueue(ctx context.Context, e kernel.Event, alertID string, k supervision.Key, kind string, cause Cause) error {
	stream, ev, err := Envelope(e, Actor, cause)
	if err != nil {
		return err
	}
	aid, err := eventlog.ParseID(alertID)
	if err != nil {
		return err
	}
	_, err = b.exec(`INSERT INTO outbox (event_id, kind, alert_id, rule, subject, stream, type, data, meta)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (event_id) DO NOTHING`,
		pgUUID(ev.ID), kind, pgUUID(aid), string(k.Rule), k.Subject, stream, ev.Type, string(ev.Data), ev.Meta)
	if err != nil {
		return fmt.Errorf("queue %s of alert %s: %w", kind, alertID, err)
	}
	b.outbox = true
	return nil
}

// queueRecord queues the statements that record an alert event in the feed and drop its outbox row.
func (b *batchState) queueRecord(q *pgx.Batch, r *eventlog.Recorded, aid eventlog.ID, path kernel.JurisdictionPath) {
	q.Queue(`INSERT INTO alert_events (commit_pos, prepare_pos, event_id, stream, type, alert_id, jurisdiction, recorded_at, payload)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
		int64(r.Position.Commit), int64(r.Position.Prepare), pgUUID(r.ID), r.Stream, r.Type, pgUUID(aid), string(path), r.Created, string(r.Data))
	q.Queue(`DELETE FROM outbox WHERE event_id = $1`, pgUUID(r.ID))
	b.feed = true
}

// recordRaised records an alert (or its escalation) in one round trip with what it needs to know to
// tell whether the condition still holds; an alert whose fact arrived meanwhile is cleared at once.
func (b *batchState) recordRaised(ctx context.Context, r *eventlog.Recorded, a supervision.AlertRaised) error {
	aid, err := eventlog.ParseID(a.AlertID)
	if err != nil {
		return runtime.Poison(*r, fmt.Errorf("alert id %q: %w: %w", a.AlertID, err, runtime.ErrPoison))
	}
	var due pgtype.Timestamptz
	if a.DueAt != nil {
		due = pgtype.Timestamptz{Time: a.DueAt.UTC(), Valid: true}
	}
	q := &pgx.Batch{}
	b.queueRecord(q, r, aid, a.Jurisdiction)
	q.Queue(`INSERT INTO alerts (alert_id, rule, severity, community_id, jurisdiction, subject, trigger, detail, due_at,
			raised_at, raised_commit, raised_prepare)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (alert_id) DO UPDATE SET severity = excluded.severity
		WHERE alerts.cleared_at IS NULL AND alerts.severity <> 'red'`,
		pgUUID(aid), string(a.Rule), string(a.Severity), string(a.Community), string(a.Jurisdiction), a.Subject, string(a.Trigger),
		a.Detail, due, a.RaisedAt.UTC(), int64(r.Position.Commit), int64(r.Position.Prepare))
	var cleared bool
	q.Queue(`SELECT cleared_at IS NOT NULL FROM alerts WHERE alert_id = $1`, pgUUID(aid)).QueryRow(func(row pgx.Row) error { return row.Scan(&cleared) })
	// What tells whether the condition still holds, by trigger.
	var deadlineDue pgtype.Timestamptz
	var broken pgtype.Bool
	var met bool
	switch a.Trigger {
	case supervision.ByDeadline:
		q.Queue(`SELECT max(due_at) FROM deadlines WHERE rule = $1 AND subject = $2`, string(a.Rule), a.Subject).
			QueryRow(func(row pgx.Row) error { return row.Scan(&deadlineDue) })
	case supervision.ByBreach:
		q.Queue(`SELECT bool_or(broken) FROM conditions WHERE rule = $1 AND subject = $2`, string(a.Rule), a.Subject).
			QueryRow(func(row pgx.Row) error { return row.Scan(&broken) })
	case supervision.ByCalendar:
		if a.DueAt != nil {
			q.Queue(`SELECT EXISTS (SELECT 1 FROM assemblies WHERE community_id = $1 AND held_at >= $2)`, string(a.Community), *a.DueAt).
				QueryRow(func(row pgx.Row) error { return row.Scan(&met) })
		}
	}
	if err := b.send(ctx, q); err != nil {
		return fmt.Errorf("record alert %s: %w", a.AlertID, err)
	}
	b.toRate(a.Community, a.Jurisdiction, r.Created)
	if _, looked := b.assemblies[a.Community]; looked && a.Rule == rulebook.ResidentsMeetingFrequency {
		b.assemblies[a.Community] = true // recorded open since the look-up
	}
	if cleared {
		return nil
	}
	b.recorded[supervision.Key{Rule: a.Rule, Subject: a.Subject}] = true
	live := true
	switch a.Trigger {
	case supervision.ByDeadline:
		live = deadlineDue.Valid && a.DueAt != nil && deadlineDue.Time.Equal(*a.DueAt)
		if live {
			if err := b.scheduleEscalation(ctx, a); err != nil {
				return err
			}
		}
	case supervision.ByBreach:
		live = !broken.Valid || broken.Bool
	case supervision.ByCalendar:
		live = !met
	}
	if live {
		return nil
	}
	reason, detail := supervision.FactArrived, "预警记录前所缺事项已登记"
	if a.Trigger == supervision.ByBreach {
		reason, detail = supervision.ConditionEnded, "预警记录前后续记录已显示符合规定"
	}
	return b.clearWhere(ctx, r, `alert_id = $1`, []any{pgUUID(aid)}, reason, detail, sourceOf(r), a.RaisedAt.UTC())
}

// scheduleEscalation records a deadline alert's severity on its deadline and when the sweep must look
// again: at the red-after time while it is not red, never once it is.
func (b *batchState) scheduleEscalation(ctx context.Context, a supervision.AlertRaised) error {
	var next pgtype.Timestamptz
	if a.Severity != rulebook.Red && hasRedAfter(a.Rule) {
		p, err := b.paramsFor(ctx, a.Jurisdiction)
		if err != nil {
			return err
		}
		next = pgtype.Timestamptz{Time: p.Span(a.Rule, rulebook.ParamRedAfter).After(*a.DueAt).UTC(), Valid: true}
	}
	return b.escalateDeadline(supervision.Key{Rule: a.Rule, Subject: a.Subject}, string(a.Severity), next)
}

func hasRedAfter(rule kernel.RuleID) bool {
	for _, r := range rulebook.Rules() {
		if r.ID == rule {
			_, ok := r.Param(rulebook.ParamRedAfter)
			return ok
		}
	}
	return false
}

func (b *batchState) recordCleared(ctx context.Context, r *eventlog.Recorded, a supervision.AlertCleared) error {
	aid, err := eventlog.ParseID(a.AlertID)
	if err != nil {
		return runtime.Poison(*r, fmt.Errorf("alert id %q: %w: %w", a.AlertID, err, runtime.ErrPoison))
	}
	q := &pgx.Batch{}
	b.queueRecord(q, r, aid, a.Jurisdiction)
	q.Queue(`UPDATE alerts SET cleared_at = $2, clear_reason = $3, clear_detail = $4, cleared_commit = $5, cleared_prepare = $6
		WHERE alert_id = $1 AND cleared_at IS NULL`, pgUUID(aid), a.ClearedAt.UTC(), string(a.Reason), a.Detail,
		int64(r.Position.Commit), int64(r.Position.Prepare))
	// A deadline alert a supervisor resolved does not escalate any more; the fact still ends the deadline.
	q.Queue(`UPDATE deadlines d SET next_at = NULL FROM alerts a
		WHERE a.alert_id = $1 AND a.trigger = 'deadline' AND d.rule = a.rule AND d.subject = a.subject AND d.due_at = a.due_at`, pgUUID(aid))
	if err := b.send(ctx, q); err != nil {
		return fmt.Errorf("clear alert %s: %w", a.AlertID, err)
	}
	b.toRate(a.Community, a.Jurisdiction, r.Created)
	return nil
}

type rating struct {
	path kernel.JurisdictionPath
	at   time.Time
}

// toRate marks a community whose rating the batch must recompute.
func (b *batchState) toRate(c kernel.CommunityID, path kernel.JurisdictionPath, at time.Time) {
	if b.rated == nil {
		b.rated = map[kernel.CommunityID]rating{}
	}
	b.rated[c] = rating{path, at.UTC()}
}

// rate recomputes, once per batch, the ratings of the communities whose alerts changed, with one
// statement sent with the batch's last writes: the counts of their open alerts as the batch leaves them,
// and the rating supervision.Rate gives them (its three outcomes are the statement's parameters).
func (b *batchState) rate(ctx context.Context) error {
	if len(b.rated) == 0 {
		return nil
	}
	ids, paths, ats := make([]string, 0, len(b.rated)), make([]string, 0, len(b.rated)), make([]time.Time, 0, len(b.rated))
	for c, r := range b.rated {
		ids, paths, ats = append(ids, string(c)), append(paths, string(r.path)), append(ats, r.at)
	}
	_, err := b.exec(`INSERT INTO ratings (community_id, jurisdiction, rating, open_red, open_yellow, changed_at)
		SELECT c.community_id, c.jurisdiction, CASE WHEN n.red > 0 THEN $4 WHEN n.yellow > 0 THEN $5 ELSE $6 END, n.red, n.yellow, c.at
		FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS c (community_id, jurisdiction, at)
		CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE a.severity = 'red') AS red, count(*) FILTER (WHERE a.severity <> 'red') AS yellow
			FROM alerts a WHERE a.community_id = c.community_id AND a.cleared_at IS NULL) n
		ON CONFLICT (community_id) DO UPDATE SET jurisdiction = excluded.jurisdiction, rating = excluded.rating,
			open_red = excluded.open_red, open_yellow = excluded.open_yellow,
			changed_at = CASE WHEN ratings.rating = excluded.rating THEN ratings.changed_at ELSE excluded.changed_at END`,
		ids, paths, ats, string(supervision.Rate(1, 0)), string(supervision.Rate(0, 1)), string(supervision.Rate(0, 0)))
	if err != nil {
		return fmt.Errorf("rate communities: %w", err)
	}
	return nil
}
