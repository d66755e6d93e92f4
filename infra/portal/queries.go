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

	"github.com/grassroots-ledger/ledger/projections/board"
	"github.com/grassroots-ledger/ledger/projections/directory"
	"github.com/grassroots-ledger/ledger/projections/elections"
	"github.com/grassroots-ledger/ledger/projections/finances"
	"github.com/grassroots-ledger/ledger/projections/meetings"
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
	mark := func(model, sql string) string {
		if !s.has(model) {
			return "'-'"
		}
		return sql
	}
	alerts := "'-'"
	if s.alerts {
		alerts = `(SELECT coalesce(max(rating), '') || '.' || coalesce(max(changed_at)::text, '') FROM rm_alerts.ratings WHERE community_id = $1)
			|| '.' || (SELECT count(*) || '.' || coalesce(max(raised_commit), 0) FROM rm_alerts.alerts WHERE community_id = $1 AND cleared_at IS NULL)`
	}
	sql := "SELECT " + mark(directory.Name, directory.FingerprintSQL) + ", " + alerts + ", " + mark(board.Name, board.FingerprintSQL) + ", " +
		mark(finances.Name, finances.FingerprintSQL) + ", " + mark(elections.Name, elections.FingerprintSQL) + ", " +
		mark(meetings.Name, meetings.MeetingsFingerprintSQL) + ", " + mark(meetings.Name, meetings.TopicsFingerprintSQL)
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
