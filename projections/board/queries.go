package board

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/grassroots-ledger/ledger/domain/assessment"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/projections/internal/tables"
)

// Querier is a pool, connection or transaction (the portal's read-only pool).
type Querier = tables.Querier

// ErrNotFound means the board has no such notice: the portal answers 404.
var ErrNotFound = errors.New("board: not found")

// Notice is a notice as the board shows it now.
type Notice struct {
	CommunityID  string
	NoticeID     string
	Jurisdiction string
	Category     disclosure.Category
	Period       disclosure.Period
	// Refs are the facts of the record the notice discloses (payments, results, resolutions …).
	Refs        []disclosure.Ref
	PublishedAt time.Time
	Status      Status
	// Current is the version on the board (the last one, also when withdrawn).
	Current Version
	// Withdrawal is set when the notice was withdrawn.
	Withdrawal *Withdrawal
	Objections ObjectionCounts
}

// Version is one version of a notice: version 1 as published, then each correction.
type Version struct {
	Version     int
	Title       string
	Text        string
	Attachments []disclosure.Attachment
	Window      disclosure.Window
	// Reason is why the version corrects the previous one ("" for version 1).
	Reason string
	At     time.Time
	// EventID and Commit are the event that made the version and its $all commit position.
	EventID eventlog.ID
	Commit  uint64
}

// Withdrawal is why and when a notice came off the board.
type Withdrawal struct {
	At      time.Time
	Reason  string
	EventID eventlog.ID
	Commit  uint64
}

// ObjectionCounts counts the objections raised on a notice and those answered; EventID and Commit are
// the last objection event (zero when none). Who objected is never part of the board.
type ObjectionCounts struct {
	Raised   int
	Answered int
	EventID  eventlog.ID
	Commit   uint64
}

// Objection is one objection by id and times, and the committee's answer (public); never its author or
// its text.
type Objection struct {
	CommunityID     string
	NoticeID        string
	ID              string
	RaisedAt        time.Time
	RaisedEventID   eventlog.ID
	RaisedCommit    uint64
	AnsweredAt      time.Time // zero while unanswered
	AnsweredEventID eventlog.ID
	AnsweredCommit  uint64
	Answer          string // "" while unanswered
}

// History is everything the board knows of one notice: as it stands, every version oldest first, and its
// objections.
type History struct {
	Notice     Notice
	Versions   []Version
	Objections []Objection
}

// noticeColumns are a notice with its current version's content: FROM notices n JOIN notice_versions v.
const noticeColumns = `n.community_id, n.notice_id, n.jurisdiction, n.category, n.period_from, n.period_to, n.refs::text,
	n.published_at, n.status, n.version, v.title, v.body, v.attachments::text, n.window_start, n.window_end, coalesce(v.reason, ''),
	v.at, v.event_id, v.commit_pos, n.withdrawn_at, coalesce(n.withdrawal_reason, ''), n.withdrawn_event_id, n.withdrawn_commit_pos,
	oc.raised, oc.answered, oc.last_event_id, oc.last_commit_pos`

// noticesFrom joins each notice to its current version and counts its objections; the counts' source is
// the newest objection event.
func noticesFrom() string {
	return pgx.Identifier{Schema, "notices"}.Sanitize() + ` n JOIN ` + pgx.Identifier{Schema, "notice_versions"}.Sanitize() +
		` v ON v.community_id = n.community_id AND v.notice_id = n.notice_id AND v.version = n.version
		CROSS JOIN LATERAL (SELECT count(*) AS raised, count(o.answered_at) AS answered,
			(array_agg(coalesce(o.answered_event_id, o.raised_event_id) ORDER BY coalesce(o.answered_commit_pos, o.raised_commit_pos) DESC))[1] AS last_event_id,
			max(coalesce(o.answered_commit_pos, o.raised_commit_pos)) AS last_commit_pos
			FROM ` + pgx.Identifier{Schema, "objections"}.Sanitize() + ` o
			WHERE o.community_id = n.community_id AND o.notice_id = n.notice_id) oc`
}

// AnalyzeNoticeTables refreshes the planner's statistics of the three tables noticesFrom joins. A live
// schema has them from autovacuum; a schema just filled without them (an auditor's scratch copy of one
// community) is planned as if each held a handful of rows, and PostgreSQL then joins a community's 500
// notices to their versions by comparing every pair (125 750 rows filtered, 55–65 ms, where a hash join of
// the same rows takes about 1 ms after an ANALYZE of 7–10 ms).
func AnalyzeNoticeTables(ctx context.Context, q Querier) error {
	rows, err := q.Query(ctx, "ANALYZE "+pgx.Identifier{Schema, "notices"}.Sanitize()+", "+
		pgx.Identifier{Schema, "notice_versions"}.Sanitize()+", "+pgx.Identifier{Schema, "objections"}.Sanitize())
	if err != nil {
		return fmt.Errorf("board: analyze: %w", err)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("board: analyze: %w", err)
	}
	return nil
}

func scanNotice(rows pgx.Rows) (Notice, error) {
	var n Notice
	var cat, status, refs, attach string
	var vEv, wEv, oEv pgtype.UUID
	var vPos int64
	var wPos, oPos pgtype.Int8
	var wAt pgtype.Timestamptz
	var wReason string
	c := &n.Current
	if err := rows.Scan(&n.CommunityID, &n.NoticeID, &n.Jurisdiction, &cat, &n.Period.From, &n.Period.To, &refs, &n.PublishedAt,
		&status, &c.Version, &c.Title, &c.Text, &attach, &c.Window.Start, &c.Window.End, &c.Reason, &c.At, &vEv, &vPos,
		&wAt, &wReason, &wEv, &wPos, &n.Objections.Raised, &n.Objections.Answered, &oEv, &oPos); err != nil {
		return Notice{}, err
	}
	n.Category, n.Status = disclosure.Category(cat), Status(status)
	n.Period.From, n.Period.To, n.PublishedAt = n.Period.From.UTC(), n.Period.To.UTC(), n.PublishedAt.UTC()
	c.Window.Start, c.Window.End, c.At, c.EventID, c.Commit = c.Window.Start.UTC(), c.Window.End.UTC(), c.At.UTC(), vEv.Bytes, uint64(vPos)
	if err := unmarshal(refs, &n.Refs); err != nil {
		return Notice{}, err
	}
	if err := unmarshal(attach, &c.Attachments); err != nil {
		return Notice{}, err
	}
	if wAt.Valid {
		n.Withdrawal = &Withdrawal{At: wAt.Time.UTC(), Reason: wReason, EventID: tables.EventID(wEv), Commit: tables.Position(wPos)}
	}
	n.Objections.EventID, n.Objections.Commit = tables.EventID(oEv), tables.Position(oPos)
	return n, nil
}

func unmarshal(s string, v any) error {
	if s == "" || s == "[]" {
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}

func queryNotices(ctx context.Context, q Querier, what, where, order string, args ...any) ([]Notice, error) {
	return tables.Collect(ctx, q, "board", what, `SELECT `+noticeColumns+` FROM `+noticesFrom()+` WHERE `+where+` ORDER BY `+order,
		scanNotice, args...)
}

// CurrentNotices returns the notices on a community's board now (not withdrawn), newest first; limit is
// the most returned (default 100, at most 1000).
func CurrentNotices(ctx context.Context, q Querier, communityID string, limit int) ([]Notice, error) {
	return queryNotices(ctx, q, "current notices of "+communityID,
		`n.community_id = $1 AND n.status <> 'withdrawn'`, `n.published_at DESC, n.notice_id LIMIT $2`,
		communityID, tables.Limit(limit, 100, 1000))
}

// SearchNotices returns at most limit notices on the boards now (not withdrawn) whose current title
// contains text (as written), newest first.
func SearchNotices(ctx context.Context, q Querier, text string, limit int) ([]Notice, error) {
	return queryNotices(ctx, q, fmt.Sprintf("notices titled like %q", text), `n.status <> 'withdrawn' AND v.title LIKE $1`,
		`n.published_at DESC, n.community_id, n.notice_id LIMIT $2`, tables.Contains(text), tables.Limit(limit, 50, 200))
}

// ActiveWindows returns the notices not withdrawn whose publicity window contains the instant at (both
// ends included), in communities at or under the jurisdiction path under ("" for all), the windows that
// close first first; limit is the most returned (default 100, at most 1000).
func ActiveWindows(ctx context.Context, q Querier, under string, at time.Time, limit int) ([]Notice, error) {
	where := `n.status <> 'withdrawn' AND n.window_end >= $1 AND n.window_start <= $1`
	args := []any{at.UTC()}
	if u := strings.TrimRight(under, "/"); u != "" {
		args = append(args, u)
		where += " AND " + tables.UnderClause("n.jurisdiction", "$2")
	}
	args = append(args, tables.Limit(limit, 100, 1000))
	return queryNotices(ctx, q, "active publicity windows", where,
		fmt.Sprintf("n.window_end, n.community_id, n.notice_id LIMIT $%d", len(args)), args...)
}

// NoticeHistory returns a notice as it stands with every version, oldest first, and its objections;
// ErrNotFound when the board has no such notice.
func NoticeHistory(ctx context.Context, q Querier, communityID, noticeID string) (History, error) {
	ns, err := queryNotices(ctx, q, "notice "+noticeID, `n.community_id = $1 AND n.notice_id = $2`, `n.notice_id`, communityID, noticeID)
	if err != nil {
		return History{}, err
	}
	if len(ns) == 0 {
		return History{}, fmt.Errorf("notice %s of %s: %w", noticeID, communityID, ErrNotFound)
	}
	h := History{Notice: ns[0]}
	rows, err := q.Query(ctx, `SELECT version, title, body, attachments::text, window_start, window_end, coalesce(reason, ''), at,
		event_id, commit_pos FROM `+pgx.Identifier{Schema, "notice_versions"}.Sanitize()+`
		WHERE community_id = $1 AND notice_id = $2 ORDER BY version`, communityID, noticeID)
	if err != nil {
		return History{}, fmt.Errorf("board: versions of %s: %w", noticeID, err)
	}
	for rows.Next() {
		var v Version
		var attach string
		var ev pgtype.UUID
		var pos int64
		if err := rows.Scan(&v.Version, &v.Title, &v.Text, &attach, &v.Window.Start, &v.Window.End, &v.Reason, &v.At, &ev, &pos); err != nil {
			rows.Close()
			return History{}, fmt.Errorf("board: versions of %s: %w", noticeID, err)
		}
		if err := unmarshal(attach, &v.Attachments); err != nil {
			rows.Close()
			return History{}, fmt.Errorf("board: versions of %s: %w", noticeID, err)
		}
		v.Window.Start, v.Window.End, v.At, v.EventID, v.Commit = v.Window.Start.UTC(), v.Window.End.UTC(), v.At.UTC(), ev.Bytes, uint64(pos)
		h.Versions = append(h.Versions, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return History{}, fmt.Errorf("board: versions of %s: %w", noticeID, err)
	}
	if h.Objections, err = tables.Collect(ctx, q, "board", "objections of "+noticeID, `SELECT `+objectionSelect+`
		WHERE community_id = $1 AND notice_id = $2 ORDER BY raised_commit_pos, objection_id`, scanObjection, communityID, noticeID); err != nil {
		return History{}, err
	}
	return h, nil
}

var objectionSelect = `community_id, notice_id, objection_id, raised_at, raised_event_id, raised_commit_pos, answered_at,
	answered_event_id, answered_commit_pos, coalesce(answer, '') FROM ` + pgx.Identifier{Schema, "objections"}.Sanitize()

func scanObjection(rows pgx.Rows) (Objection, error) {
	var o Objection
	var rEv, aEv pgtype.UUID
	var rPos int64
	var aPos pgtype.Int8
	var aAt pgtype.Timestamptz
	if err := rows.Scan(&o.CommunityID, &o.NoticeID, &o.ID, &o.RaisedAt, &rEv, &rPos, &aAt, &aEv, &aPos, &o.Answer); err != nil {
		return Objection{}, err
	}
	o.RaisedAt, o.RaisedEventID, o.RaisedCommit = o.RaisedAt.UTC(), rEv.Bytes, uint64(rPos)
	o.AnsweredAt, o.AnsweredEventID, o.AnsweredCommit = tables.At(aAt), tables.EventID(aEv), tables.Position(aPos)
	return o, nil
}

// ObjectionByID finds an objection to a notice by its id — a resident's receipt code (回执号) — anywhere;
// ErrNotFound when there is none.
func ObjectionByID(ctx context.Context, q Querier, id string) (Objection, error) {
	os, err := tables.Collect(ctx, q, "board", "objection "+id, `SELECT `+objectionSelect+` WHERE objection_id = $1
		ORDER BY raised_commit_pos LIMIT 1`, scanObjection, id)
	if err != nil {
		return Objection{}, err
	}
	if len(os) == 0 {
		return Objection{}, fmt.Errorf("objection %s: %w", id, ErrNotFound)
	}
	return os[0], nil
}

// Titles looks up, among a community's notices, the ids given and returns their current titles: so that
// an alert can say 公开事项“…” instead of an id.
func Titles(ctx context.Context, q Querier, communityID string, ids []string) (map[string]string, error) {
	by, err := tables.Tagged(ctx, q, "board", "titles in "+communityID, `SELECT 'n', n.notice_id, v.title
		FROM `+pgx.Identifier{Schema, "notices"}.Sanitize()+` n JOIN `+pgx.Identifier{Schema, "notice_versions"}.Sanitize()+` v
		ON v.community_id = n.community_id AND v.notice_id = n.notice_id AND v.version = n.version
		WHERE n.community_id = $1 AND n.notice_id = ANY($2)`, communityID, ids)
	return by["n"], err
}

// FingerprintSQL is a text expression that changes whenever the notices of community $1 change.
var FingerprintSQL = tables.ChangeMark(Schema, "notices")

// WithdrawnNoticeIDs lists a community's withdrawn notices, the latest published first, at most limit:
// CurrentNotices lists the notices on the board now; the withdrawn ones stay public with their reason.
func WithdrawnNoticeIDs(ctx context.Context, q Querier, communityID string, limit int) ([]string, error) {
	return tables.Collect(ctx, q, "board", "withdrawn notices of "+communityID, `SELECT notice_id FROM `+pgx.Identifier{Schema, "notices"}.Sanitize()+`
		WHERE community_id = $1 AND status = 'withdrawn' ORDER BY published_at DESC, notice_id DESC LIMIT $2`, tables.One[string], communityID, limit)
}

// NamesDocument reports whether a notice (any version) names the document with this SHA-256 among its
// attachments: the portal then may serve it.
func NamesDocument(ctx context.Context, q Querier, sha string) (bool, error) {
	ok, err := tables.Collect(ctx, q, "board", "records naming "+sha, `SELECT EXISTS (SELECT 1 FROM `+pgx.Identifier{Schema, "notice_versions"}.Sanitize()+`
		WHERE attachments @> jsonb_build_array(jsonb_build_object('sha256', $1::text)))`, tables.One[bool], sha)
	return len(ok) == 1 && ok[0], err
}

// NoticesPublished returns a community's notices first published in [from, to) and not withdrawn, as
// assessment facts (the measure disclosures), linked to the event that published them.
func NoticesPublished(ctx context.Context, q Querier, communityID string, from, to time.Time) ([]assessment.Fact, error) {
	return tables.Collect(ctx, q, "board", "notices published by "+communityID, `SELECT v.title, n.published_at, v.commit_pos
		FROM `+pgx.Identifier{Schema, "notices"}.Sanitize()+` n JOIN `+pgx.Identifier{Schema, "notice_versions"}.Sanitize()+` v
		ON v.community_id = n.community_id AND v.notice_id = n.notice_id AND v.version = 1
		WHERE n.community_id = $1 AND n.published_at >= $2 AND n.published_at < $3 AND n.status <> 'withdrawn' ORDER BY n.published_at, n.notice_id`,
		func(rs pgx.Rows) (assessment.Fact, error) {
			f := assessment.Fact{Measure: assessment.Disclosures}
			var pos int64
			err := rs.Scan(&f.What, &f.At, &pos)
			f.Position = uint64(pos)
			return f, err
		}, communityID, from, to)
}
