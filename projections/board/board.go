// Package board is the read model of the public board (村务公开/居务公开): every notice of every community
// with its category, the period it covers, its current title, text and attachment hashes, its publicity
// window and status; every version it ever had (a correction is a new version, the old one stays); its
// withdrawal with the reason; and its objections as counts and times — never the objector, never the
// objection's text. It lives in schema rm_board.
package board

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/projections/internal/decode"
	"github.com/grassroots-ledger/ledger/projections/internal/tables"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// Name is the read model's permanent name; its tables live in schema rm_board.
const Name = "board"

// Schema is where the live tables are.
var Schema = runtime.SchemaOf(Name)

//go:embed migrations/*.sql
var migrations embed.FS

// Model is the public board read model. Create it with New.
type Model struct{ decode.Model }

// New returns the board model, decoding with the domain's registry.
func New() *Model {
	return &Model{decode.NewModel(Name, migrations,
		disclosure.Published{}, disclosure.Corrected{},
		disclosure.Withdrawn{}, disclosure.ObjectionRaised{}, disclosure.ObjectionAnswered{})}
}

// Tables are the model's tables as declared once for its writes and loads (checked against the
// migrations by the read-model contract, projections/internal/readmodeltest).
func (*Model) Tables() []*tables.Table {
	return []*tables.Table{noticesTable, versionsTable, objectionsTable, raisedTable}
}

// Poison implements runtime.ReadModel: Halt. The board is the legal record of what a community disclosed;
// skipping an event would silently show a superseded version as current, keep a withdrawn notice up, or
// miscount objections, and nothing later would repair it. Halted, the board keeps serving what it had and
// the portal shows how stale it is (DESIGN.md decision 6) until the model is fixed.
func (*Model) Poison() runtime.PoisonPolicy { return runtime.Halt }

// Status of a notice.
type Status string

const (
	Published Status = "published" // version 1 on the board
	Corrected Status = "corrected" // a later version on the board
	Withdrawn Status = "withdrawn" // off the board, kept with the reason
)

// ---- state of a batch -----------------------------------------------------------------------------------

type key struct{ community, notice string }

type objection struct {
	loaded      bool // read from the table: the whole row is known
	id          string
	raisedAt    time.Time
	raisedSrc   decode.Source
	answeredAt  pgtype.Timestamptz
	answeredSrc decode.Source
	answer      pgtype.Text // public: published on the notice without the objector
	dirty       bool
}

type version struct {
	n      int
	title  string
	body   string
	attach string // JSON
	start  time.Time
	end    time.Time
	reason pgtype.Text
	at     time.Time
	src    decode.Source
	isNew  bool
}

type notice struct {
	key
	jurisdiction, category string
	periodFrom, periodTo   time.Time
	refs                   string // JSON
	publishedAt            time.Time
	status                 Status
	cur                    version
	withdrawnAt            pgtype.Timestamptz
	withdrawalReason       pgtype.Text
	withdrawnSrc           decode.Source
	stream                 string
	lastRev                int64
	dirty                  bool
	versions               []version // new versions of this batch
	isNew                  bool      // not in the table before this batch
}

// isContent reports whether an event changes the notice's own row. Objections are rows of their own,
// keyed by their ids and written idempotently, so raising or answering one leaves the notice alone.
func isContent(p any) bool {
	switch p.(type) {
	case disclosure.ObjectionRaised, disclosure.ObjectionAnswered:
		return false
	}
	return true
}

func noticeOf(e decode.Event) (key, bool) {
	var id string
	switch p := e.Payload.(type) {
	case disclosure.Published:
		id = p.NoticeID
	case disclosure.Corrected:
		id = p.NoticeID
	case disclosure.Withdrawn:
		id = p.NoticeID
	case disclosure.ObjectionRaised:
		id = p.NoticeID
	case disclosure.ObjectionAnswered:
		id = p.NoticeID
	default:
		return key{}, false
	}
	return key{e.Community(), id}, true
}

func attachmentsJSON(as []disclosure.Attachment) string {
	if len(as) == 0 {
		return "[]"
	}
	b, err := json.Marshal(as)
	if err != nil {
		panic(err) // strings only
	}
	return string(b)
}

func refsJSON(rs []disclosure.Ref) string {
	if len(rs) == 0 {
		return "[]"
	}
	out := make([]disclosure.Ref, len(rs))
	for i, r := range rs {
		out[i] = disclosure.Ref{Kind: r.Kind, ID: r.ID, OccurredAt: r.OccurredAt.UTC()}
	}
	b, err := json.Marshal(out)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// IndexesBuiltLast implements runtime.IndexesLast: the portal's search and document look-ups; Apply
// never reads through them.
func (m *Model) IndexesBuiltLast() []string {
	return []string{"notice_versions_title_trgm", "notice_versions_attachments"}
}

// Apply implements runtime.ReadModel: one round trip loads the notices the batch touches (and the
// objections it answers), the batch is folded in memory, one round trip writes every changed row with
// multi-row statements. Events at or below a notice's last applied revision are skipped and objections
// are written by their ids, so applying a batch twice changes nothing.
func (m *Model) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.Recorded) error {
	evs, err := m.Dec.Batch(batch)
	if err != nil || len(evs) == 0 {
		return err
	}
	var keys, answering []key
	seen, seenAns := map[key]bool{}, map[key]bool{}
	for _, e := range evs {
		if err := decode.RequireCommunity(e); err != nil {
			return err
		}
		k, _ := noticeOf(e)
		if err := decode.CheckStream(e, "disclosure", k.notice); err != nil {
			return err
		}
		if isContent(e.Payload) && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
		if _, ok := e.Payload.(disclosure.ObjectionAnswered); ok && !seenAns[k] {
			seenAns[k] = true
			answering = append(answering, k)
		}
	}
	notices, objections, err := load(ctx, tx, keys, answering)
	if err != nil {
		return err
	}
	for _, e := range evs {
		k, _ := noticeOf(e)
		if !isContent(e.Payload) {
			if err := applyObjection(objections, k, e); err != nil {
				return err
			}
			continue
		}
		n := notices[k]
		if n != nil && e.Revision() <= n.lastRev {
			continue // already applied
		}
		if p, ok := e.Payload.(disclosure.Published); ok {
			if n != nil {
				return e.Poison(errors.New("the notice was published before"))
			}
			v := version{n: 1, title: p.Title, body: p.Text, attach: attachmentsJSON(p.Attachments), start: p.Window.Start,
				end: p.Window.End, at: p.PublishedAt, src: e.Source(), isNew: true}
			n = &notice{key: k, jurisdiction: e.Rec.Meta.Jurisdiction, category: string(p.Category), periodFrom: p.Period.From,
				periodTo: p.Period.To, refs: refsJSON(p.Refs), publishedAt: p.PublishedAt, status: Published, cur: v,
				versions: []version{v}, isNew: true}
			notices[k] = n
		} else if n == nil {
			return e.Poison(errors.New("the board never saw the notice published"))
		}
		n.stream, n.lastRev, n.dirty = e.Rec.Stream, e.Revision(), true
		switch p := e.Payload.(type) {
		case disclosure.Corrected:
			if p.Version <= n.cur.n {
				return e.Poison(fmt.Errorf("correction to version %d of a notice at version %d", p.Version, n.cur.n))
			}
			v := version{n: p.Version, title: p.Title, body: p.Text, attach: attachmentsJSON(p.Attachments), start: n.cur.start,
				end: n.cur.end, reason: pgtype.Text{String: p.Reason, Valid: true}, at: p.CorrectedAt, src: e.Source(), isNew: true}
			if p.Window != nil {
				v.start, v.end = p.Window.Start, p.Window.End
			}
			n.cur, n.versions = v, append(n.versions, v)
			if n.status != Withdrawn {
				n.status = Corrected
			}
		case disclosure.Withdrawn:
			n.status, n.withdrawnAt, n.withdrawalReason, n.withdrawnSrc = Withdrawn, tables.Time(p.WithdrawnAt), tables.Text(p.Reason), e.Source()
		}
	}
	return write(ctx, tx, notices, objections)
}

// applyObjection folds an objection raised or answered. Raising one again changes nothing; answering
// one the board never saw raised is a poison event.
func applyObjection(objections map[key]map[string]*objection, k key, e decode.Event) error {
	os := objections[k]
	if os == nil {
		os = map[string]*objection{}
		objections[k] = os
	}
	switch p := e.Payload.(type) {
	case disclosure.ObjectionRaised:
		// p.Objector (personal data) and p.Text are deliberately not kept; the answer is public.
		if os[p.ObjectionID] == nil {
			os[p.ObjectionID] = &objection{id: p.ObjectionID, raisedAt: p.RaisedAt, raisedSrc: e.Source(), dirty: true}
		}
	case disclosure.ObjectionAnswered:
		o := os[p.ObjectionID]
		if o == nil {
			return e.Poison(fmt.Errorf("the board never saw objection %q raised", p.ObjectionID))
		}
		o.answeredAt, o.answeredSrc, o.answer, o.dirty = tables.Time(p.AnsweredAt), e.Source(), tables.Text(p.Answer), true
	}
	return nil
}

func load(ctx context.Context, tx pgx.Tx, keys, answering []key) (map[key]*notice, map[key]map[string]*objection, error) {
	out := make(map[key]*notice, len(keys))
	objections := make(map[key]map[string]*objection, len(answering))
	b := &pgx.Batch{}
	if len(keys) > 0 {
		cs, ns := split(keys)
		noticesTable.QueueLoad(b, func(rs pgx.Rows) error {
			n := &notice{}
			var status string
			var wEv pgtype.UUID
			var wPos pgtype.Int8
			if err := rs.Scan(&n.community, &n.notice, &n.jurisdiction, &n.category, &n.periodFrom, &n.periodTo, &n.refs,
				&n.publishedAt, &status, &n.cur.n, &n.cur.start, &n.cur.end, &n.withdrawnAt, &n.withdrawalReason, &wEv, &wPos,
				&n.stream, &n.lastRev); err != nil {
				return err
			}
			n.status, n.withdrawnSrc = Status(status), decode.SourceOf(wEv, wPos)
			out[n.key] = n
			return nil
		}, cs, ns)
	}
	if len(answering) > 0 {
		cs, ns := split(answering)
		objectionsTable.QueueLoad(b, func(rs pgx.Rows) error {
			var k key
			o := &objection{loaded: true}
			var aEv pgtype.UUID
			var aPos pgtype.Int8
			if err := rs.Scan(&k.community, &k.notice, &o.id, &o.raisedAt, &o.raisedSrc.ID, &o.raisedSrc.Commit,
				&o.answeredAt, &aEv, &aPos, &o.answer); err != nil {
				return err
			}
			o.answeredSrc = decode.SourceOf(aEv, aPos)
			if objections[k] == nil {
				objections[k] = map[string]*objection{}
			}
			objections[k][o.id] = o
			return nil
		}, cs, ns)
	}
	if b.Len() == 0 {
		return out, objections, nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, nil, fmt.Errorf("board: load %d notices: %w", len(keys), err)
	}
	return out, objections, nil
}

func split(keys []key) (cs, ns []string) {
	cs, ns = make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		cs[i], ns[i] = k.community, k.notice
	}
	return cs, ns
}

var objectionColumns = []string{"community_id text", "notice_id text", "objection_id text", "raised_at timestamptz",
	"raised_event_id uuid", "raised_commit_pos int8", "answered_at timestamptz", "answered_event_id uuid", "answered_commit_pos int8", "answer text"}

var (
	noticesTable = tables.New("notices", []string{"community_id", "notice_id"}, "",
		"community_id text", "notice_id text", "jurisdiction text", "category text", "period_from timestamptz",
		"period_to timestamptz", "refs jsonb", "published_at timestamptz", "status text", "version int4",
		"window_start timestamptz", "window_end timestamptz", "withdrawn_at timestamptz", "withdrawal_reason text",
		"withdrawn_event_id uuid", "withdrawn_commit_pos int8", "stream text", "last_revision int8")
	versionsTable = tables.New("notice_versions", []string{"community_id", "notice_id", "version"}, "nothing",
		"community_id text", "notice_id text", "version int4", "title text", "body text", "attachments jsonb",
		"window_start timestamptz", "window_end timestamptz", "reason text", "at timestamptz", "event_id uuid", "commit_pos int8")
	objectionsTable = tables.New("objections", []string{"community_id", "notice_id", "objection_id"}, "", objectionColumns...)
	// An objection raised in the batch may be in the table already (the batch is applied again): what it
	// has stays, and an answer of the batch is added.
	raisedTable = tables.New("objections", []string{"community_id", "notice_id", "objection_id"},
		`answered_at = coalesce(excluded.answered_at, t.answered_at), answered_event_id = coalesce(excluded.answered_event_id, t.answered_event_id),
		answered_commit_pos = coalesce(excluded.answered_commit_pos, t.answered_commit_pos), answer = coalesce(excluded.answer, t.answer)`, objectionColumns...)
)

// write upserts the changed notices that exist and the objections in one round trip, then copies the
// new notices and versions in (a version is always new: versions only grow).
func write(ctx context.Context, tx pgx.Tx, notices map[key]*notice, objections map[key]map[string]*objection) error {
	keys := make([]key, 0, len(notices))
	for k, n := range notices {
		if n.dirty {
			keys = append(keys, k)
		}
	}
	sortKeys(keys)
	fresh, changed, versions := noticesTable.Rows(), noticesTable.Rows(), versionsTable.Rows()
	for _, k := range keys {
		r := notices[k]
		to := changed
		if r.isNew {
			to = fresh
		}
		to.Row().Text(k.community).Text(k.notice).Text(r.jurisdiction).Text(r.category).Time(r.periodFrom).Time(r.periodTo).
			Text(r.refs).Time(r.publishedAt).Text(string(r.status)).Int4(int32(r.cur.n)).Time(r.cur.start).Time(r.cur.end).
			NullTime(r.withdrawnAt).NullText(r.withdrawalReason).UUID(r.withdrawnSrc.ID).NullInt8(r.withdrawnSrc.Pos()).
			Text(r.stream).Int8(r.lastRev)
		for _, x := range r.versions {
			versions.Row().Text(k.community).Text(k.notice).Int4(int32(x.n)).Text(x.title).Text(x.body).Text(x.attach).
				Time(x.start).Time(x.end).NullText(x.reason).Time(x.at).UUID(x.src.ID).Int8(x.src.Commit)
		}
	}
	okeys := make([]key, 0, len(objections))
	for k := range objections {
		okeys = append(okeys, k)
	}
	sortKeys(okeys)
	answered, raised := objectionsTable.Rows(), raisedTable.Rows()
	for _, k := range okeys {
		os := objections[k]
		ids := make([]string, 0, len(os))
		for id, x := range os {
			if x.dirty {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		for _, id := range ids {
			x := os[id]
			to := raised
			if x.loaded {
				to = answered
			}
			to.Row().Text(k.community).Text(k.notice).Text(id).Time(x.raisedAt).UUID(x.raisedSrc.ID).Int8(x.raisedSrc.Commit).
				NullTime(x.answeredAt).UUID(x.answeredSrc.ID).NullInt8(x.answeredSrc.Pos()).NullText(x.answer)
		}
	}
	var w tables.Writer
	w.Upsert(changed)
	w.Upsert(raised)
	w.Upsert(answered)
	w.Copy(fresh)
	w.Copy(versions)
	if err := w.Flush(ctx, tx); err != nil {
		return fmt.Errorf("board: %w", err)
	}
	return nil
}

func sortKeys(keys []key) {
	slices.SortFunc(keys, func(a, b key) int {
		if c := strings.Compare(a.community, b.community); c != 0 {
			return c
		}
		return strings.Compare(a.notice, b.notice)
	})
}
