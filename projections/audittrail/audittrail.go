// Package audittrail is the read model auditors search first: one row per event of the ledger with its
// envelope (stream, revision, id, type, community, jurisdiction, actor, command, correlation, times and the
// hash-chain links), searchable by community, jurisdiction subtree, actor, type and time, paged by $all
// position. The payloads stay in the event store; the trail says where to look and lets an auditor check
// the chain without reading them.
package audittrail

import (
	"context"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/projections/internal/tables"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// Name is the read model's permanent name; its tables live in schema rm_audittrail.
const Name = "audittrail"

// Schema is where the live tables are.
var Schema = runtime.SchemaOf(Name)

//go:embed migrations/*.sql
var migrations embed.FS

// Model is the audit trail read model. The zero value is ready.
type Model struct{}

var (
	_ runtime.ReadModel = Model{}
	_ runtime.WriteOnly = Model{}
)

// Name implements runtime.ReadModel.
func (Model) Name() string { return Name }

// Migrations implements runtime.ReadModel.
func (Model) Migrations() fs.FS { return runtime.EmbeddedMigrations(migrations) }

// IndexesBuiltLast implements runtime.IndexesLast: Apply only appends, it never reads through an index,
// so a rebuild sorts each of these once at the end (they are most of the trail's size), the primary key's
// too (the trail is WriteOnly: a duplicate position fails the key's build, and the rebuild).
func (Model) IndexesBuiltLast() []string {
	return []string{"audit_events_pkey", "audit_events_by_community", "audit_events_by_jurisdiction", "audit_events_by_actor",
		"audit_events_by_type", "audit_events_by_occurred"}
}

// AppliesWithoutReading implements runtime.WriteOnly: Apply appends rows and reads none.
func (Model) AppliesWithoutReading() {}

// Poison implements runtime.ReadModel: the trail must hold every event, so it halts rather than skip one.
func (Model) Poison() runtime.PoisonPolicy { return runtime.Halt }

// PublicColumns are the columns of an entry the public may read (the portal's event page): where the
// event is in $all, what it is, whose community, when, and its hash-chain links. Never actor, command,
// correlation or causation ids: who did something is for auditors.
var PublicColumns = []string{"commit_pos", "prepare_pos", "stream", "revision", "event_id", "event_type",
	"community_id", "jurisdiction", "occurred_at", "recorded_at", "prev_hash", "hash", "schema_version"}

// auditEvents is the trail's one table, declared once (a batch goes in with one COPY: tables.Writer).
var auditEvents = tables.New("audit_events", []string{"commit_pos", "prepare_pos"}, "nothing",
	"commit_pos int8", "prepare_pos int8", "stream text", "revision int8", "event_id uuid", "event_type text", "community_id text",
	"jurisdiction text", "actor text", "command_id text", "correlation_id text", "causation_id text", "occurred_at timestamptz",
	"recorded_at timestamptz", "prev_hash bytea", "hash bytea", "schema_version int4")

var columns = auditEvents.Columns()

// Tables are the model's tables as declared (checked against the migrations by the read-model contract,
// projections/internal/readmodeltest).
func (Model) Tables() []*tables.Table { return []*tables.Table{auditEvents} }

// Apply implements runtime.ReadModel: the batch goes in with one COPY.
func (Model) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.Recorded) error {
	for _, e := range batch {
		if e.Position.Commit > math.MaxInt64 || e.Position.Prepare > math.MaxInt64 || e.Revision > math.MaxInt64 {
			return runtime.Poison(e, fmt.Errorf("position %s or revision %d does not fit a bigint", e.Position, e.Revision))
		}
	}
	rows := auditEvents.Rows()
	var prevBuf, hashBuf [hashSize]byte
	for i := range batch {
		e := &batch[i]
		m := &e.Meta
		prev, ok1 := chainHash(prevBuf[:0], m.PrevHash)
		hash, ok2 := chainHash(hashBuf[:0], m.Hash)
		if !ok1 || !ok2 {
			return runtime.Poison(*e, fmt.Errorf("hash %q or previous hash %q is not UTF-8", m.Hash, m.PrevHash))
		}
		rows.Row().Int8(int64(e.Position.Commit)).Int8(int64(e.Position.Prepare)).Text(e.Stream).Int8(int64(e.Revision)).
			UUID(pgtype.UUID{Bytes: e.ID, Valid: true}).Text(e.Type).NullText(nullable(m.CommunityID)).
			Text(m.Jurisdiction).Text(m.Actor).Text(m.CommandID).NullText(ofCommand(m.CorrelationID, m.CommandID)).
			NullText(ofCommand(m.CausationID, m.CommandID)).
			NullTime(pgtype.Timestamptz{Time: m.OccurredAt, Valid: !m.OccurredAt.IsZero()}).Time(e.Created).
			Bytea(prev).Bytea(hash).Int4(int32(m.SchemaVersion))
	}
	var w tables.Writer
	w.Copy(rows)
	if err := w.Flush(ctx, tx); err != nil {
		return fmt.Errorf("add %d events to audit_events: %w", len(batch), err)
	}
	return nil
}

func nullable(s string) pgtype.Text { return pgtype.Text{String: s, Valid: s != ""} }

// ofCommand is how the trail keeps a correlation or causation id (migration 0005): the empty string when
// it is the event's command id, as it is for every event a command records (48 bytes less in each row
// of a million, its COPY, its write-ahead log), NULL when the event has none, else the id. fromCommand
// reads it back.
func ofCommand(id, command string) pgtype.Text {
	if id != "" && id == command {
		return pgtype.Text{Valid: true}
	}
	return nullable(id)
}

// fromCommand is the id ofCommand kept as t.
func fromCommand(t pgtype.Text, command string) string {
	if t.Valid && t.String == "" {
		return command
	}
	return t.String
}

// hashSize is the size of a ledger chain hash (SHA-256) as the trail keeps it.
const hashSize = 32

// chainHash appends to dst how the trail keeps the chain hash s (columns prev_hash and hash, bytea): the
// 32 bytes of the 64 lower-case hex digits eventlog.HashOf writes, nothing for "" (a stream's first event
// has no previous hash), and any other text (a hash the chain check rejects, kept as the event has it)
// as its bytes after a byte 0xFF, and 0xFE after that when they would make 32 bytes. Such text must be
// UTF-8 (ok false otherwise), where neither byte ever occurs, so chainText reads every form back. Half
// the size of the hex text in each row.
func chainHash(dst []byte, s string) (b []byte, ok bool) {
	if h, ok := eventlog.HashBytes(s); ok {
		return append(dst, h[:]...), true
	}
	switch {
	case s == "":
		return dst, true
	case !utf8.ValidString(s):
		return dst, false
	case len(s)+1 == hashSize:
		return append(append(dst, 0xFF, 0xFE), s...), true
	}
	return append(append(dst, 0xFF), s...), true
}

// chainText is the chain hash chainHash kept as b.
func chainText(b []byte) string {
	switch {
	case len(b) == hashSize:
		return hex.EncodeToString(b)
	case len(b) == hashSize+1 && b[0] == 0xFF && b[1] == 0xFE:
		return string(b[2:])
	case len(b) > 0 && b[0] == 0xFF:
		return string(b[1:])
	}
	return string(b) // "": no previous hash
}

// Entry is one event in the trail.
type Entry struct {
	Position      eventlog.Position
	Stream        string
	Revision      uint64
	EventID       eventlog.ID
	Type          string
	CommunityID   string
	Jurisdiction  string
	Actor         string
	CommandID     string
	CorrelationID string
	CausationID   string
	OccurredAt    time.Time // zero when the event did not say
	RecordedAt    time.Time
	PrevHash      string
	Hash          string
	SchemaVersion int
}

// Filter selects entries; zero fields select everything. Conditions are AND-ed.
type Filter struct {
	Community string
	// Under selects the events of a jurisdiction and everything below it: "33/3303" matches
	// "33/3303" and "33/3303/330303/…", not "33/33030".
	Under  string
	Actor  string
	Type   string
	Stream string
	// OccurredFrom and OccurredBefore bound occurred_at: [from, before).
	OccurredFrom, OccurredBefore time.Time
	// After is the keyset cursor: only entries after this position (Page.Next of the previous page).
	After eventlog.Position
	// Limit is the page size; default 100, at most 1000.
	Limit int
}

// Page is one page of entries in $all order.
type Page struct {
	Entries []Entry
	// Next is the cursor for the following page (Filter.After); meaningful when More.
	Next eventlog.Position
	More bool
}

// Querier is a pool, connection or transaction (the portal's read-only pool).
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Find returns one page of the entries that match f, oldest first.
func Find(ctx context.Context, q Querier, f Filter) (Page, error) {
	limit := tables.Limit(f.Limit, 100, 1000)
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Community != "" {
		where = append(where, "community_id = "+arg(f.Community))
	}
	if f.Under != "" {
		where = append(where, tables.UnderClause("jurisdiction", arg(strings.TrimSuffix(f.Under, "/"))))
	}
	if f.Actor != "" {
		where = append(where, "actor = "+arg(f.Actor))
	}
	if f.Type != "" {
		where = append(where, "event_type = "+arg(f.Type))
	}
	if f.Stream != "" {
		where = append(where, "stream = "+arg(f.Stream))
	}
	if !f.OccurredFrom.IsZero() {
		where = append(where, "occurred_at >= "+arg(f.OccurredFrom))
	}
	if !f.OccurredBefore.IsZero() {
		where = append(where, "occurred_at < "+arg(f.OccurredBefore))
	}
	if !f.After.IsZero() {
		if f.After.Commit > math.MaxInt64 || f.After.Prepare > math.MaxInt64 {
			return Page{}, fmt.Errorf("audit trail: cursor %s out of range", f.After)
		}
		where = append(where, fmt.Sprintf("(commit_pos, prepare_pos) > (%s, %s)", arg(int64(f.After.Commit)), arg(int64(f.After.Prepare))))
	}
	sql := "SELECT " + strings.Join(columns, ", ") + " FROM " + pgx.Identifier{Schema, "audit_events"}.Sanitize()
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY commit_pos, prepare_pos LIMIT " + arg(limit+1)
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return Page{}, fmt.Errorf("audit trail query: %w", err)
	}
	var page Page
	if page.Entries, err = scanEntries(rows, columns); err != nil {
		return Page{}, fmt.Errorf("audit trail query: %w", err)
	}
	if len(page.Entries) > limit {
		page.Entries, page.More = page.Entries[:limit], true
	}
	if n := len(page.Entries); n > 0 {
		page.Next = page.Entries[n-1].Position
	}
	return page, nil
}

// EventsAt returns the public part of the entries at a commit position (PublicColumns: one entry with the
// embedded node; a transaction's events share the position on an EventStoreDB cluster), by prepare position.
func EventsAt(ctx context.Context, q Querier, commit uint64) ([]Entry, error) {
	if commit > math.MaxInt64 {
		return nil, nil
	}
	rows, err := q.Query(ctx, "SELECT "+strings.Join(PublicColumns, ", ")+" FROM "+pgx.Identifier{Schema, "audit_events"}.Sanitize()+
		" WHERE commit_pos = $1 ORDER BY prepare_pos", int64(commit))
	if err != nil {
		return nil, fmt.Errorf("audit trail: events at %d: %w", commit, err)
	}
	es, err := scanEntries(rows, PublicColumns)
	if err != nil {
		return nil, fmt.Errorf("audit trail: events at %d: %w", commit, err)
	}
	return es, nil
}

// scanEntries reads rows of the columns cols (of columns, in any order) into entries; a column not
// selected leaves its field zero.
func scanEntries(rows pgx.Rows, cols []string) ([]Entry, error) {
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var c, p, rev int64
		var id pgtype.UUID
		var community, corr, caus pgtype.Text
		var occurred pgtype.Timestamptz
		var sv int32
		var prev, hash []byte
		dest := map[string]any{"commit_pos": &c, "prepare_pos": &p, "stream": &e.Stream, "revision": &rev, "event_id": &id,
			"event_type": &e.Type, "community_id": &community, "jurisdiction": &e.Jurisdiction, "actor": &e.Actor,
			"command_id": &e.CommandID, "correlation_id": &corr, "causation_id": &caus, "occurred_at": &occurred,
			"recorded_at": &e.RecordedAt, "prev_hash": &prev, "hash": &hash, "schema_version": &sv}
		ds := make([]any, len(cols))
		for i, col := range cols {
			ds[i] = dest[col]
		}
		if err := rows.Scan(ds...); err != nil {
			return nil, err
		}
		e.Position = eventlog.Position{Commit: uint64(c), Prepare: uint64(p)}
		e.Revision, e.EventID, e.SchemaVersion = uint64(rev), id.Bytes, int(sv)
		e.CommunityID, e.CorrelationID, e.CausationID = community.String, fromCommand(corr, e.CommandID), fromCommand(caus, e.CommandID)
		e.PrevHash, e.Hash = chainText(prev), chainText(hash)
		if occurred.Valid {
			e.OccurredAt = occurred.Time.UTC()
		}
		e.RecordedAt = e.RecordedAt.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
