package portal

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/grassroots-ledger/ledger/projections/directory"
)

// Querier is what the portal reads with: its read-only pool.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// The queries here are the portal's own: keyset pages and look-ups the models' query functions do not
// offer. Every one is an index range of one community (the models' primary keys start with
// community_id) or a primary-key look-up.

// section is a part of the community page that is rendered, cached and updated live on its own.
type section int

const (
	secOverview  section = iota // the community's figures, rating and open alerts
	secNotices                  // the public board
	secFinances                 // budget against paid, payments
	secElections                // elections and results
	secMeetings                 // meetings, votes, resolutions
	secTopics                   // deliberation topics
	nSections
)

var sectionNames = [nSections]string{"overview", "notices", "finances", "elections", "meetings", "topics"}

func sectionByName(s string) (section, bool) {
	for i, n := range sectionNames {
		if n == s {
			return section(i), true
		}
	}
	return 0, false
}

// fingerprint is, per section, a value that changes whenever anything the section shows changes: the
// number of rows of the community and the sum of their streams' last revisions (every event applied to a
// row raises its stream's revision, and rows are never deleted), or the newest source position.
type fingerprint [nSections]string

// fingerprintOf reads a community's fingerprint in one statement. Models missing from s count as "-".
// exists is false when the directory does not know the community.
func fingerprintOf(ctx context.Context, q Querier, s *snapshot, id string) (fp fingerprint, exists bool, err error) {
	countSum := func(model, table string) string {
		if !s.has(model) {
			return "'-'"
		}
		return fmt.Sprintf("(SELECT count(*) || '.' || coalesce(sum(last_revision), 0) FROM %s WHERE community_id = $1)",
			pgx.Identifier{"rm_" + model, table}.Sanitize())
	}
	overview := "'-'"
	if s.has("directory") {
		overview = "(SELECT last_revision::text FROM rm_directory.communities WHERE community_id = $1)"
	}
	alerts := "'-'"
	if s.alerts {
		alerts = `(SELECT coalesce(max(rating), '') || '.' || coalesce(max(changed_at)::text, '') FROM rm_alerts.ratings WHERE community_id = $1)
			|| '.' || (SELECT count(*) || '.' || coalesce(max(raised_commit), 0) FROM rm_alerts.alerts WHERE community_id = $1 AND cleared_at IS NULL)`
	}
	fin := "'-'"
	if s.has("finances") {
		fin = countSum("finances", "expenditures") +
			" || '/' || (SELECT count(*) || '.' || coalesce(max(last_commit_pos), 0) FROM rm_finances.budget_summary WHERE community_id = $1)"
	}
	sql := "SELECT " + overview + ", " + alerts + ", " + countSum("board", "notices") + ", " + fin + ", " +
		countSum("elections", "elections") + ", " + countSum("meetings", "meetings") + ", " + countSum("meetings", "topics")
	rows, err := q.Query(ctx, sql, id)
	if err != nil {
		return fp, false, fmt.Errorf("portal: fingerprint of %s: %w", id, err)
	}
	defer rows.Close()
	if !rows.Next() {
		return fp, false, rows.Err()
	}
	var ov, al *string
	if err := rows.Scan(&ov, &al, &fp[secNotices], &fp[secFinances], &fp[secElections], &fp[secMeetings], &fp[secTopics]); err != nil {
		return fp, false, fmt.Errorf("portal: fingerprint of %s: %w", id, err)
	}
	if ov == nil {
		return fp, false, rows.Err()
	}
	a := ""
	if al != nil {
		a = *al
	}
	fp[secOverview] = *ov + "|" + a
	return fp, true, rows.Err()
}

// sectionHashes is the fingerprint in short: 8 hex characters per section, joined by dots. Pages carry
// it; the live stream compares it with the current one to tell a browser which sections to fetch again.
func (fp fingerprint) short() string {
	parts := make([]string, nSections)
	for i := range fp {
		parts[i] = hashString(fp[i])[:8]
	}
	return strings.Join(parts, ".")
}

// ---- jurisdiction tree ------------------------------------------------------------------------------

type treeNode struct {
	Path, Code, Name string
	Level            int
	Community        bool
	CommunityID      string
	Kind             string
	Households       int
	Adults           int
	EventID          string
	Commit           uint64
}

// children lists the nodes under parent ("" for the top), with the community of each community node, in
// path order from after (exclusive), at most limit.
func children(ctx context.Context, q Querier, parent, after string, limit int) ([]treeNode, error) {
	ns, err := directory.Children(ctx, q, parent)
	if err != nil {
		return nil, err
	}
	var out []treeNode
	anyCommunity := false
	for _, n := range ns {
		if n.Path <= after && after != "" {
			continue
		}
		if len(out) == limit {
			break
		}
		out = append(out, treeNode{Path: n.Path, Code: n.Code, Name: n.Name, Level: n.Level, Community: n.Community,
			EventID: n.EventID.String(), Commit: n.Commit})
		anyCommunity = anyCommunity || n.Community
	}
	if !anyCommunity || parent == "" {
		return out, nil
	}
	cs, err := directory.CommunitiesUnder(ctx, q, parent, "", 1000)
	if err != nil {
		return nil, err
	}
	byPath := make(map[string]directory.Community, len(cs))
	for _, c := range cs {
		byPath[c.Path] = c
	}
	for i := range out {
		if c, ok := byPath[out[i].Path]; ok && out[i].Community {
			out[i].CommunityID, out[i].Kind, out[i].Households, out[i].Adults = c.ID, string(c.Kind), c.Households, c.Adults
		}
	}
	return out, nil
}

// crumb is an ancestor in the breadcrumbs.
type crumb struct{ Path, Name string }

// ancestors returns the nodes on the way to path (path itself included), from the top.
func ancestors(ctx context.Context, q Querier, path string) ([]crumb, error) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var prefixes []string
	for i := range segs {
		prefixes = append(prefixes, strings.Join(segs[:i+1], "/"))
	}
	rows, err := q.Query(ctx, `SELECT path, name FROM rm_directory.nodes WHERE path = ANY($1) ORDER BY level, path`, prefixes)
	if err != nil {
		return nil, fmt.Errorf("portal: ancestors of %q: %w", path, err)
	}
	defer rows.Close()
	var out []crumb
	for rows.Next() {
		var c crumb
		if err := rows.Scan(&c.Path, &c.Name); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// node returns one node of the tree; found is false when there is none.
func nodeAt(ctx context.Context, q Querier, path string) (treeNode, bool, error) {
	rows, err := q.Query(ctx, `SELECT path, code, name, level, community, event_id, commit_pos FROM rm_directory.nodes WHERE path = $1`, path)
	if err != nil {
		return treeNode{}, false, fmt.Errorf("portal: node %q: %w", path, err)
	}
	defer rows.Close()
	if !rows.Next() {
		return treeNode{}, false, rows.Err()
	}
	var n treeNode
	var level int16
	var ev pgtype.UUID
	var pos int64
	if err := rows.Scan(&n.Path, &n.Code, &n.Name, &level, &n.Community, &ev, &pos); err != nil {
		return treeNode{}, false, err
	}
	n.Level, n.EventID, n.Commit = int(level), uuidString(ev), uint64(pos)
	return n, true, rows.Err()
}

// ---- pages of a community's records -------------------------------------------------------------------

// cursor is a keyset position: a time and an id, newest first.
type cursor struct {
	At time.Time
	ID string
}

func (c cursor) IsZero() bool { return c.At.IsZero() && c.ID == "" }

// String encodes the cursor for ?after=: opaque to clients.
func (c cursor) String() string {
	if c.IsZero() {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.At.UnixNano(), 10) + "|" + c.ID))
}

var errBadCursor = errors.New("bad cursor")

func parseCursor(s string) (cursor, error) {
	if s == "" {
		return cursor{}, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, errBadCursor
	}
	ns, id, ok := strings.Cut(string(raw), "|")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || id == "" {
		return cursor{}, errBadCursor
	}
	return cursor{At: time.Unix(0, n).UTC(), ID: id}, nil
}

// withdrawnNoticeIDs lists a community's withdrawn notices, the latest published first: the board's
// query functions list the notices on the board now; the withdrawn ones stay public with their reason.
func withdrawnNoticeIDs(ctx context.Context, q Querier, id string, limit int) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT notice_id FROM rm_board.notices WHERE community_id = $1 AND status = 'withdrawn'
		ORDER BY published_at DESC, notice_id DESC LIMIT $2`, id, limit)
	if err != nil {
		return nil, fmt.Errorf("portal: withdrawn notices of %s: %w", id, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("portal: withdrawn notices of %s: %w", id, err)
	}
	return ids, nil
}

// alertSources returns the $all commit position of the event that raised each alert (the alerts model's
// query functions return the alert without it).
func alertSources(ctx context.Context, q Querier, ids []string) (map[string]uint64, error) {
	out := map[string]uint64{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.Query(ctx, `SELECT alert_id::text, raised_commit FROM rm_alerts.alerts WHERE alert_id = ANY($1::uuid[])`, ids)
	if err != nil {
		return nil, fmt.Errorf("portal: alert sources: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var c int64
		if err := rows.Scan(&id, &c); err != nil {
			return nil, err
		}
		out[id] = uint64(c)
	}
	return out, rows.Err()
}

// fiscalYears lists the fiscal years a community has figures for, the latest first.
func fiscalYears(ctx context.Context, q Querier, id string) ([]int, error) {
	rows, err := q.Query(ctx, `SELECT DISTINCT fiscal_year FROM rm_finances.budget_summary WHERE community_id = $1 ORDER BY fiscal_year DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("portal: fiscal years of %s: %w", id, err)
	}
	ys, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("portal: fiscal years of %s: %w", id, err)
	}
	out := make([]int, len(ys))
	for i, y := range ys {
		out[i] = int(y)
	}
	return out, nil
}

// envelope is the public part of an event: what, where in $all, whose community, when, and its place in
// its stream's hash chain. Never its payload, never who recorded it.
type envelope struct {
	Commit, Prepare uint64
	Stream          string
	Revision        int64
	EventID         string
	Type            string
	CommunityID     string
	Jurisdiction    string
	OccurredAt      time.Time
	RecordedAt      time.Time
	PrevHash, Hash  string
	SchemaVersion   int
}

// eventsAt returns the events at a commit position (one with the embedded node; a transaction's events
// share it on an EventStoreDB cluster).
func eventsAt(ctx context.Context, q Querier, commit uint64) ([]envelope, error) {
	rows, err := q.Query(ctx, `SELECT commit_pos, prepare_pos, stream, revision, event_id, event_type, coalesce(community_id, ''),
		jurisdiction, occurred_at, recorded_at, prev_hash, hash, schema_version
		FROM rm_audittrail.audit_events WHERE commit_pos = $1 ORDER BY prepare_pos`, int64(commit))
	if err != nil {
		return nil, fmt.Errorf("portal: events at %d: %w", commit, err)
	}
	defer rows.Close()
	var out []envelope
	for rows.Next() {
		var e envelope
		var c, p int64
		var ev pgtype.UUID
		var occurred pgtype.Timestamptz
		if err := rows.Scan(&c, &p, &e.Stream, &e.Revision, &ev, &e.Type, &e.CommunityID, &e.Jurisdiction, &occurred, &e.RecordedAt,
			&e.PrevHash, &e.Hash, &e.SchemaVersion); err != nil {
			return nil, fmt.Errorf("portal: events at %d: %w", commit, err)
		}
		e.Commit, e.Prepare, e.EventID = uint64(c), uint64(p), uuidString(ev)
		if occurred.Valid {
			e.OccurredAt = occurred.Time
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func uuidString(u pgtype.UUID) string {
	if !u.Valid {
		return ""
	}
	b := u.Bytes
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
