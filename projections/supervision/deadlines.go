package supervision

import (
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/grassroots-ledger/ledger/domain/supervision"
)

// A batch's deadline writes are most of the engine's statements (in a rebuild of a million events, about
// 400 000 upserts and 250 000 deletes). They are folded in memory and written set-wise: one DELETE and
// one multi-row upsert for every key the batch decided, sent before the next read and at the end of the
// batch (queueDeadlines). A key's entry is what the batch decided its row is — gone, or every column —
// whatever the table held: opening a deadline replaces the row, meeting it deletes the row. Opening one
// only if absent is kept as such, and written with one multi-row INSERT … ON CONFLICT DO NOTHING. A change
// that depends on the row already there (reschedule, reopen earlier, escalate) is folded into the entry
// when the batch has decided the key, and sent as its own statement otherwise: no entry means the batch
// has not touched the row since the last write (an open-if-absent is written first), so the statement's
// order among the batch's writes is kept.

// deadlineRow is a row of deadlines as a batch leaves it.
type deadlineRow struct {
	community, path          string
	due                      time.Time
	next                     pgtype.Timestamptz
	severity                 pgtype.Text
	detail                   string
	sourceID                 pgtype.UUID
	sourceStream, sourceType string
	epoch                    string
}

// pendingDeadline is what the batch decided a key's row is: present, or deleted; or, when ifAbsent, row
// unless a row was there already (the batch does not know which).
type pendingDeadline struct {
	present  bool
	ifAbsent bool
	row      deadlineRow
}

// decided returns the batch's entry for k, or nil when the batch has not decided k's row.
func (b *batchState) decided(k supervision.Key) *pendingDeadline {
	return b.deadlines[k]
}

// decide records what k's row is now.
func (b *batchState) decide(k supervision.Key, p pendingDeadline) {
	if b.deadlines == nil {
		b.deadlines = map[supervision.Key]*pendingDeadline{}
	}
	if _, seen := b.deadlines[k]; !seen {
		b.deadlineOrder = append(b.deadlineOrder, k)
	}
	b.deadlines[k] = &p
}

// putDeadline opens k's deadline with row, replacing any row there (its severity is cleared).
func (b *batchState) putDeadline(k supervision.Key, row deadlineRow) {
	row.next = pgtype.Timestamptz{Time: row.due, Valid: true}
	row.severity = pgtype.Text{}
	b.decide(k, pendingDeadline{present: true, row: row})
}

// dropDeadline deletes k's deadline.
func (b *batchState) dropDeadline(k supervision.Key) { b.decide(k, pendingDeadline{}) }

// queueFolded queues the writes the batch folded since its last write, set-wise: the deadlines and the
// notices put on the board.
func (b *batchState) queueFolded() {
	b.queueDeadlines()
	if n := &b.onBoard; len(n.notices) > 0 {
		_, _ = b.exec(`INSERT INTO board_notices (community_id, category, notice_id, published_at)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) ON CONFLICT DO NOTHING`,
			n.communities, n.categories, n.notices, n.at)
		n.communities, n.categories, n.notices, n.at = nil, nil, nil, nil
	}
}

// queueDeadlines queues the writes of the keys decided so far, set-wise, and forgets them.
func (b *batchState) queueDeadlines() {
	if len(b.deadlineOrder) == 0 {
		return
	}
	var gone [2][]string
	var put, missing deadlineArrays
	for _, k := range b.deadlineOrder {
		switch p := b.deadlines[k]; {
		case p.ifAbsent:
			missing.add(k, p.row)
		case p.present:
			put.add(k, p.row)
		default:
			gone[0], gone[1] = append(gone[0], string(k.Rule)), append(gone[1], k.Subject)
		}
	}
	b.deadlines, b.deadlineOrder = nil, nil
	if len(gone[0]) > 0 {
		_, _ = b.exec(`DELETE FROM deadlines d USING unnest($1::text[], $2::text[]) AS k (rule, subject)
			WHERE d.rule = k.rule AND d.subject = k.subject`, gone[0], gone[1])
	}
	if len(put.rules) > 0 {
		_, _ = b.exec(deadlinesTable.UpsertSQL(), put.args()...)
	}
	if len(missing.rules) > 0 {
		_, _ = b.exec(deadlinesTable.InsertMissingSQL(), missing.args()...)
	}
}

// deadlineArrays are rows of deadlines as the array parameters of a multi-row statement.
type deadlineArrays struct {
	rules, subjects, communities, paths, details, streams, types, epochs []string
	due, next                                                            []pgtype.Timestamptz
	severity                                                             []pgtype.Text
	ids                                                                  []pgtype.UUID
}

func (a *deadlineArrays) add(k supervision.Key, r deadlineRow) {
	a.rules, a.subjects = append(a.rules, string(k.Rule)), append(a.subjects, k.Subject)
	a.communities, a.paths = append(a.communities, r.community), append(a.paths, r.path)
	a.due, a.next = append(a.due, pgtype.Timestamptz{Time: r.due, Valid: true}), append(a.next, r.next)
	a.severity, a.details = append(a.severity, r.severity), append(a.details, r.detail)
	a.ids, a.streams, a.types = append(a.ids, r.sourceID), append(a.streams, r.sourceStream), append(a.types, r.sourceType)
	a.epochs = append(a.epochs, r.epoch)
}

// args are the arrays in the order of deadlinesTable's columns.
func (a *deadlineArrays) args() []any {
	return []any{a.rules, a.subjects, a.communities, a.paths, a.due, a.next, a.severity, a.details, a.ids, a.streams, a.types, a.epochs}
}

// openDeadlineIfAbsent opens k's deadline with row unless a row is there.
func (b *batchState) openDeadlineIfAbsent(k supervision.Key, row deadlineRow) {
	p := b.decided(k)
	switch {
	case p == nil:
		row.next = pgtype.Timestamptz{Time: row.due, Valid: true}
		b.decide(k, pendingDeadline{ifAbsent: true, row: row})
	case !p.present && !p.ifAbsent:
		b.putDeadline(k, row)
	}
	// A row is there, or will be: the first of several opens-if-absent is the one that counts.
}

// settled returns the batch's entry for k when it knows k's row; an open-if-absent whose outcome only the
// table knows is queued with every decided write first, so that a statement on k comes after it.
func (b *batchState) settled(k supervision.Key) *pendingDeadline {
	p := b.decided(k)
	if p != nil && p.ifAbsent {
		b.queueDeadlines()
		return nil
	}
	return p
}

// rescheduleDeadline moves k's deadline to due, unless an alert was raised on it.
func (b *batchState) rescheduleDeadline(k supervision.Key, due time.Time, detail string) error {
	if p := b.settled(k); p != nil {
		if p.present && !p.row.severity.Valid {
			p.row.due, p.row.next, p.row.detail = due, pgtype.Timestamptz{Time: due, Valid: true}, detail
		}
		return nil
	}
	if _, err := b.exec(`UPDATE deadlines SET due_at = $3, next_at = $3, detail = $4
		WHERE rule = $1 AND subject = $2 AND severity IS NULL`, string(k.Rule), k.Subject, due, detail); err != nil {
		return fmt.Errorf("reschedule deadline %s %s: %w", k.Rule, k.Subject, err)
	}
	return nil
}

// reopenDeadlineEarlier opens k's deadline with row, or moves a pending one not raised yet to row when
// row is due earlier (its community and jurisdiction stay).
func (b *batchState) reopenDeadlineEarlier(k supervision.Key, row deadlineRow) error {
	if p := b.settled(k); p != nil {
		switch {
		case !p.present:
			b.putDeadline(k, row)
		case !p.row.severity.Valid && p.row.due.After(row.due):
			old := p.row
			row.community, row.path = old.community, old.path
			b.putDeadline(k, row)
		}
		return nil
	}
	_, err := b.exec(`INSERT INTO deadlines (rule, subject, community_id, jurisdiction, due_at, next_at, detail, source_id, source_stream, source_type, epoch)
		VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10) ON CONFLICT (rule, subject) DO UPDATE SET due_at = excluded.due_at,
			next_at = excluded.next_at, detail = excluded.detail, source_id = excluded.source_id, source_stream = excluded.source_stream,
			source_type = excluded.source_type, epoch = excluded.epoch
		WHERE deadlines.severity IS NULL AND deadlines.due_at > excluded.due_at`,
		string(k.Rule), k.Subject, row.community, row.path, row.due, row.detail, row.sourceID, row.sourceStream, row.sourceType, row.epoch)
	if err != nil {
		return fmt.Errorf("reopen deadline %s %s: %w", k.Rule, k.Subject, err)
	}
	return nil
}

// escalateDeadline records the severity of the alert raised on k's deadline and when to look again.
func (b *batchState) escalateDeadline(k supervision.Key, severity string, next pgtype.Timestamptz) error {
	if p := b.settled(k); p != nil {
		if p.present {
			p.row.severity, p.row.next = pgtype.Text{String: severity, Valid: true}, next
		}
		return nil
	}
	_, err := b.exec(`UPDATE deadlines SET severity = $3, next_at = $4 WHERE rule = $1 AND subject = $2`,
		string(k.Rule), k.Subject, severity, next)
	return err
}
