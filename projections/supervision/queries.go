package supervision

import (
	"context"
	"errors"
	"fmt"
	"github.com/grassroots-ledger/ledger/domain/assessment"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/supervision"
)

// Querier is what the query functions need: a pool, a connection or a transaction (the portal passes
// its read-only pool).
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// table is a model table qualified with its schema, for queries from outside a batch.
func table(name string) string { return pgx.Identifier{Schema, name}.Sanitize() }

// under is the SQL condition "column lies at or under the jurisdiction path $n" ("" or "*" matches all).
func under(column string, n int) string {
	return fmt.Sprintf("($%[1]d = '' OR %[2]s = $%[1]d OR starts_with(%[2]s, $%[1]d || '/'))", n, column)
}

func scope(path kernel.JurisdictionPath) string {
	if path == "*" {
		return ""
	}
	return string(path)
}

// paramsFor resolves the rule parameters in force at path from an overrides table ("overrides" inside a
// batch; table("overrides") outside).
func paramsFor(ctx context.Context, q Querier, overrides string, path kernel.JurisdictionPath) (rulebook.Params, error) {
	rb, err := readOverrides(ctx, q, overrides, ancestors(path))
	if err != nil {
		return rulebook.Params{}, fmt.Errorf("read overrides of %s: %w", path, err)
	}
	return rb.For(path), nil
}

// readOverrides reads into a rulebook the overrides recorded (in the table overrides) for the jurisdictions
// paths.
func readOverrides(ctx context.Context, q Querier, overrides string, paths []string) (*rulebook.Rulebook, error) {
	rows, err := q.Query(ctx, `SELECT path, rule, param, value FROM `+overrides+` WHERE path = ANY($1)`, paths)
	if err != nil {
		return nil, err
	}
	rb, _, err := scanOverrides(rows)
	return rb, err
}

// scanOverrides reads rows of overrides (path, rule, param, value) into a rulebook, and says which
// jurisdictions have one.
func scanOverrides(rows pgx.Rows) (*rulebook.Rulebook, map[string]bool, error) {
	defer rows.Close()
	rb := rulebook.New()
	var paths map[string]bool
	for rows.Next() {
		var p, rule, param, value string
		if err := rows.Scan(&p, &rule, &param, &value); err != nil {
			return nil, nil, err
		}
		_ = rb.Set(kernel.JurisdictionPath(p), kernel.RuleID(rule), param, value) // validated when recorded
		if paths == nil {
			paths = map[string]bool{}
		}
		paths[p] = true
	}
	return rb, paths, rows.Err()
}

func ancestors(p kernel.JurisdictionPath) []string {
	var out []string
	for _, a := range p.Ancestors() {
		out = append(out, string(a))
	}
	return out
}

// Alert is one alert as supervisors and the portal see it.
type Alert struct {
	ID           string                  `json:"alert_id"`
	Rule         kernel.RuleID           `json:"rule"`
	Severity     rulebook.Severity       `json:"severity"`
	Community    kernel.CommunityID      `json:"community_id"`
	Jurisdiction kernel.JurisdictionPath `json:"jurisdiction"`
	Subject      string                  `json:"subject"`
	Trigger      supervision.Trigger     `json:"trigger"`
	Detail       string                  `json:"detail"`
	DueAt        *time.Time              `json:"due_at,omitempty"`
	RaisedAt     time.Time               `json:"raised_at"`
	ClearedAt    *time.Time              `json:"cleared_at,omitempty"`
	ClearReason  string                  `json:"clear_reason,omitempty"`
	ClearDetail  string                  `json:"clear_detail,omitempty"`
}

// Open reports whether the alert is still open.
func (a Alert) Open() bool { return a.ClearedAt == nil }

const alertColumns = `alert_id, rule, severity, community_id, jurisdiction, subject, trigger, detail, due_at, raised_at,
	cleared_at, coalesce(clear_reason, ''), coalesce(clear_detail, '')`

func scanAlert(row pgx.Row) (Alert, error) {
	var a Alert
	var id pgtype.UUID
	var rule, sev, c, path, trig string
	err := row.Scan(&id, &rule, &sev, &c, &path, &a.Subject, &trig, &a.Detail, &a.DueAt, &a.RaisedAt, &a.ClearedAt, &a.ClearReason, &a.ClearDetail)
	if err != nil {
		return Alert{}, err
	}
	a.ID = eventlog.ID(id.Bytes).String()
	a.Rule, a.Severity, a.Community = kernel.RuleID(rule), rulebook.Severity(sev), kernel.CommunityID(c)
	a.Jurisdiction, a.Trigger = kernel.JurisdictionPath(path), supervision.Trigger(trig)
	return a, nil
}

// ErrAlertNotFound means no alert has the id.
var ErrAlertNotFound = kernel.NotFound("alert-not-found", "没有这条预警")

// AlertByID returns one alert, open or cleared.
func AlertByID(ctx context.Context, q Querier, id string) (Alert, error) {
	aid, err := eventlog.ParseID(id)
	if err != nil {
		return Alert{}, ErrAlertNotFound
	}
	a, err := scanAlert(q.QueryRow(ctx, `SELECT `+alertColumns+` FROM `+table("alerts")+` WHERE alert_id = $1`, pgUUID(aid)))
	if errors.Is(err, pgx.ErrNoRows) {
		return Alert{}, ErrAlertNotFound
	}
	return a, err
}

// OpenAlerts lists the open alerts of the communities at or under a jurisdiction path ("" or "*": all),
// red first, then newest first; at most limit (0: 1000).
func OpenAlerts(ctx context.Context, q Querier, at kernel.JurisdictionPath, limit int) ([]Alert, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := q.Query(ctx, `SELECT `+alertColumns+` FROM `+table("alerts")+` WHERE cleared_at IS NULL AND `+under("jurisdiction", 1)+`
		ORDER BY severity = 'red' DESC, raised_at DESC, alert_id LIMIT $2`, scope(at), limit)
	if err != nil {
		return nil, fmt.Errorf("open alerts under %s: %w", at, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Alert, error) { return scanAlert(r) })
}

// AlertsOf lists every alert of a community, open or cleared, newest first.
func AlertsOf(ctx context.Context, q Querier, c kernel.CommunityID) ([]Alert, error) {
	return alertsWhere(ctx, q, `community_id = $1`, string(c))
}

// AlertsAbout lists every alert of rule about subject, open or cleared, newest first.
func AlertsAbout(ctx context.Context, q Querier, rule kernel.RuleID, subject string) ([]Alert, error) {
	return alertsWhere(ctx, q, `rule = $1 AND subject = $2`, string(rule), subject)
}

func alertsWhere(ctx context.Context, q Querier, cond string, args ...any) ([]Alert, error) {
	rows, err := q.Query(ctx, `SELECT `+alertColumns+` FROM `+table("alerts")+` WHERE `+cond+` ORDER BY raised_commit DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("alerts where %s: %w", cond, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Alert, error) { return scanAlert(r) })
}

// CommunityRating is the rating of one community.
type CommunityRating struct {
	Community    kernel.CommunityID      `json:"community_id"`
	Jurisdiction kernel.JurisdictionPath `json:"jurisdiction"`
	Rating       supervision.Rating      `json:"rating"`
	OpenRed      int                     `json:"open_red"`
	OpenYellow   int                     `json:"open_yellow"`
	ChangedAt    time.Time               `json:"changed_at"`
}

func scanRating(row pgx.Row) (CommunityRating, error) {
	var r CommunityRating
	var c, path, rating string
	if err := row.Scan(&c, &path, &rating, &r.OpenRed, &r.OpenYellow, &r.ChangedAt); err != nil {
		return CommunityRating{}, err
	}
	r.Community, r.Jurisdiction, r.Rating = kernel.CommunityID(c), kernel.JurisdictionPath(path), supervision.Rating(rating)
	return r, nil
}

// RatingOf returns a community's rating; a community the model has not seen is green.
func RatingOf(ctx context.Context, q Querier, c kernel.CommunityID) (CommunityRating, error) {
	r, err := scanRating(q.QueryRow(ctx, `SELECT community_id, jurisdiction, rating, open_red, open_yellow, changed_at
		FROM `+table("ratings")+` WHERE community_id = $1`, string(c)))
	if errors.Is(err, pgx.ErrNoRows) {
		return CommunityRating{Community: c, Rating: supervision.Green}, nil
	}
	return r, err
}

// Ratings lists the ratings of the communities at or under a jurisdiction path, red first.
func Ratings(ctx context.Context, q Querier, at kernel.JurisdictionPath) ([]CommunityRating, error) {
	rows, err := q.Query(ctx, `SELECT community_id, jurisdiction, rating, open_red, open_yellow, changed_at
		FROM `+table("ratings")+` WHERE `+under("jurisdiction", 1)+`
		ORDER BY CASE rating WHEN 'red' THEN 0 WHEN 'yellow' THEN 1 ELSE 2 END, jurisdiction`, scope(at))
	if err != nil {
		return nil, fmt.Errorf("ratings under %s: %w", at, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (CommunityRating, error) { return scanRating(r) })
}

// ChildRatings counts, under one child of a node, the communities rated red and yellow and their open
// alerts (the others are green).
type ChildRatings struct {
	Red, Yellow, OpenAlerts int
}

// RatingsByChild counts the ratings under parent ("" the whole country) by the child of parent each
// community lies under: one grouped statement, whatever the number of communities.
func RatingsByChild(ctx context.Context, q Querier, parent kernel.JurisdictionPath) (map[string]ChildRatings, error) {
	rows, err := q.Query(ctx, `SELECT CASE WHEN $1 = '' THEN split_part(jurisdiction, '/', 1)
			ELSE $1 || '/' || split_part(substr(jurisdiction, length($1) + 2), '/', 1) END,
		count(*) FILTER (WHERE rating = 'red'), count(*) FILTER (WHERE rating = 'yellow'), coalesce(sum(open_red + open_yellow), 0)
		FROM `+table("ratings")+` WHERE ($1 = '' OR starts_with(jurisdiction, $1 || '/')) GROUP BY 1`, scope(parent))
	if err != nil {
		return nil, fmt.Errorf("ratings by child of %s: %w", parent, err)
	}
	out := map[string]ChildRatings{}
	var child string
	var c ChildRatings
	_, err = pgx.ForEachRow(rows, []any{&child, &c.Red, &c.Yellow, &c.OpenAlerts}, func() error {
		out[child] = c
		return nil
	})
	return out, err
}

// Flagged lists the communities at or under a path rated red or yellow, red first, at most limit.
func Flagged(ctx context.Context, q Querier, at kernel.JurisdictionPath, limit int) ([]CommunityRating, error) {
	rows, err := q.Query(ctx, `SELECT community_id, jurisdiction, rating, open_red, open_yellow, changed_at
		FROM `+table("ratings")+` WHERE rating IN ('red', 'yellow') AND `+under("jurisdiction", 1)+`
		ORDER BY CASE rating WHEN 'red' THEN 0 ELSE 1 END, open_red + open_yellow DESC, jurisdiction LIMIT $2`, scope(at), limit)
	if err != nil {
		return nil, fmt.Errorf("flagged under %s: %w", at, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (CommunityRating, error) { return scanRating(r) })
}

// Count is how many alerts of a rule and severity are open.
type Count struct {
	Rule     kernel.RuleID     `json:"rule"`
	Severity rulebook.Severity `json:"severity"`
	Open     int               `json:"open"`
}

// Counts counts the open alerts at or under a jurisdiction path by rule and severity.
func Counts(ctx context.Context, q Querier, at kernel.JurisdictionPath) ([]Count, error) {
	rows, err := q.Query(ctx, `SELECT rule, severity, count(*) FROM `+table("alerts")+`
		WHERE cleared_at IS NULL AND `+under("jurisdiction", 1)+` GROUP BY rule, severity ORDER BY rule, severity`, scope(at))
	if err != nil {
		return nil, fmt.Errorf("count alerts under %s: %w", at, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Count, error) {
		var c Count
		var rule, sev string
		err := r.Scan(&rule, &sev, &c.Open)
		c.Rule, c.Severity = kernel.RuleID(rule), rulebook.Severity(sev)
		return c, err
	})
}

// RatingCounts counts communities by rating at or under a jurisdiction path.
func RatingCounts(ctx context.Context, q Querier, at kernel.JurisdictionPath) (map[supervision.Rating]int, error) {
	rows, err := q.Query(ctx, `SELECT rating, count(*) FROM `+table("ratings")+` WHERE `+under("jurisdiction", 1)+` GROUP BY rating`, scope(at))
	if err != nil {
		return nil, fmt.Errorf("count ratings under %s: %w", at, err)
	}
	defer rows.Close()
	out := map[supervision.Rating]int{supervision.Green: 0, supervision.Yellow: 0, supervision.Red: 0}
	for rows.Next() {
		var r string
		var n int
		if err := rows.Scan(&r, &n); err != nil {
			return nil, err
		}
		out[supervision.Rating(r)] = n
	}
	return out, rows.Err()
}

// FeedItem is one alert event of the feed, as SSE subscribers and webhooks receive it.
type FeedItem struct {
	// Position is the event's $all position: the SSE event id, and where to resume after it.
	Position eventlog.Position `json:"-"`
	EventID  string            `json:"event_id"`
	Type     string            `json:"type"`
	Stream   string            `json:"stream"`
	// Alert is the event's payload: a supervision.AlertRaised or AlertCleared as JSON.
	Alert        []byte                  `json:"-"`
	Jurisdiction kernel.JurisdictionPath `json:"-"`
	RecordedAt   time.Time               `json:"recorded_at"`
}

// FeedStart is the position before the first alert event: Feed from it returns the whole feed.
var FeedStart = eventlog.Start

// Feed returns at most limit alert events after position `after` (exclusive) whose community lies at or
// under a jurisdiction path, in $all order.
func Feed(ctx context.Context, q Querier, at kernel.JurisdictionPath, after eventlog.Position, limit int) ([]FeedItem, error) {
	if limit <= 0 {
		limit = 500
	}
	rows, err := q.Query(ctx, `SELECT commit_pos, prepare_pos, event_id, type, stream, payload, jurisdiction, recorded_at
		FROM `+table("alert_events")+` WHERE (commit_pos, prepare_pos) > ($1, $2) AND `+under("jurisdiction", 3)+`
		ORDER BY commit_pos, prepare_pos LIMIT $4`, int64(after.Commit), int64(after.Prepare), scope(at), limit)
	if err != nil {
		return nil, fmt.Errorf("alert feed after %s: %w", after, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (FeedItem, error) {
		var it FeedItem
		var c, p int64
		var id pgtype.UUID
		var payload, path string
		err := r.Scan(&c, &p, &id, &it.Type, &it.Stream, &payload, &path, &it.RecordedAt)
		it.Position = eventlog.Position{Commit: uint64(c), Prepare: uint64(p)}
		it.EventID, it.Alert, it.Jurisdiction = eventlog.ID(id.Bytes).String(), []byte(payload), kernel.JurisdictionPath(path)
		return it, err
	})
}

// FeedHead is the position of the newest alert event in the feed (Start when empty).
func FeedHead(ctx context.Context, q Querier) (eventlog.Position, error) {
	var c, p int64
	err := q.QueryRow(ctx, `SELECT commit_pos, prepare_pos FROM `+table("alert_events")+` ORDER BY commit_pos DESC, prepare_pos DESC LIMIT 1`).Scan(&c, &p)
	if errors.Is(err, pgx.ErrNoRows) {
		return eventlog.Start, nil
	}
	return eventlog.Position{Commit: uint64(c), Prepare: uint64(p)}, err
}

// checkpoint is the model's checkpoint: every event up to it is applied.
func checkpoint(ctx context.Context, q Querier) (eventlog.Position, error) {
	var c, p int64
	if err := q.QueryRow(ctx, `SELECT commit_pos, prepare_pos FROM `+table("checkpoint")).Scan(&c, &p); err != nil {
		return eventlog.Position{}, fmt.Errorf("read the alerts checkpoint: %w", err)
	}
	return eventlog.Position{Commit: uint64(c), Prepare: uint64(p)}, nil
}

// Pending is an alert event the engine decided and infra/supervision must append.
type Pending struct {
	Stream string
	Event  eventlog.Event
}

// outbox returns at most limit pending alert events, oldest decision first.
func outbox(ctx context.Context, q Querier, limit int) ([]Pending, error) {
	rows, err := q.Query(ctx, `SELECT event_id, stream, type, data, meta FROM `+table("outbox")+` ORDER BY seq LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("read the alert outbox: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Pending, error) {
		var p Pending
		var id pgtype.UUID
		var data string
		err := r.Scan(&id, &p.Stream, &p.Event.Type, &data, &p.Event.Meta)
		p.Event.ID, p.Event.Data = eventlog.ID(id.Bytes), []byte(data)
		return p, err
	})
}

// due is a deadline the sweep must look at.
type due struct {
	Rule         kernel.RuleID
	Subject      string
	Community    kernel.CommunityID
	Jurisdiction kernel.JurisdictionPath
	DueAt        time.Time
	// Severity is what was raised so far ("" for nothing).
	Severity rulebook.Severity
	Detail   string
	Source   *supervision.Source
	// Epoch is "" but for a deadline a withdrawal reopened: the withdrawal's event id, which the alert's
	// anchor carries (supervision.DeadlineAnchor).
	Epoch string
}

// dueDeadlines returns at most limit deadlines whose next look is due at or before now, earliest first.
// It reads the partial index on next_at, so its cost depends on the number due, not the number open.
func dueDeadlines(ctx context.Context, q Querier, now time.Time, limit int) ([]due, error) {
	rows, err := q.Query(ctx, `SELECT rule, subject, community_id, jurisdiction, due_at, coalesce(severity, ''), detail,
			source_id, coalesce(source_stream, ''), coalesce(source_type, ''), epoch
		FROM `+table("deadlines")+` WHERE next_at <= $1 ORDER BY next_at LIMIT $2`, now.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("find due deadlines: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (due, error) {
		var d due
		var rule, c, path, sev, stream, typ string
		var src pgtype.UUID
		err := r.Scan(&rule, &d.Subject, &c, &path, &d.DueAt, &sev, &d.Detail, &src, &stream, &typ, &d.Epoch)
		d.Rule, d.Community, d.Jurisdiction, d.Severity = kernel.RuleID(rule), kernel.CommunityID(c), kernel.JurisdictionPath(path), rulebook.Severity(sev)
		if src.Valid {
			d.Source = &supervision.Source{EventID: eventlog.ID(src.Bytes).String(), Stream: stream, Type: typ}
		}
		return d, err
	})
}

// knownAlert is what the model knows of an alert.
type knownAlert struct {
	Severity rulebook.Severity
	Cleared  bool
}

// knownAll returns what the model knows of each of the alerts that it recorded, by id.
func knownAll(ctx context.Context, q Querier, alertIDs []string) (map[string]knownAlert, error) {
	ids := make([]pgtype.UUID, 0, len(alertIDs))
	for _, s := range alertIDs {
		id, err := eventlog.ParseID(s)
		if err != nil {
			return nil, err
		}
		ids = append(ids, pgUUID(id))
	}
	rows, err := q.Query(ctx, `SELECT alert_id, severity, cleared_at IS NOT NULL FROM `+table("alerts")+` WHERE alert_id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("look up alerts: %w", err)
	}
	defer rows.Close()
	out := map[string]knownAlert{}
	for rows.Next() {
		var id pgtype.UUID
		var k knownAlert
		var sev string
		if err := rows.Scan(&id, &sev, &k.Cleared); err != nil {
			return nil, err
		}
		k.Severity = rulebook.Severity(sev)
		out[eventlog.ID(id.Bytes).String()] = k
	}
	return out, rows.Err()
}

// assemblyCheck is an urban community to check at a residents'-meeting checkpoint, with the assemblies
// it held in the checkpoint's year.
type assemblyCheck struct {
	Community    kernel.CommunityID
	Jurisdiction kernel.JurisdictionPath
	Kind         kernel.CommunityKind
	Held         []time.Time
}

// assemblyChecks lists the urban communities registered before the checkpoint's period started, with
// their assemblies of that year.
func assemblyChecks(ctx context.Context, q Querier, k supervision.Checkpoint) ([]assemblyCheck, error) {
	start := k.PeriodStart()
	end := start.AddDate(1, 0, 0)
	rows, err := q.Query(ctx, `SELECT c.community_id, c.jurisdiction, c.kind,
			coalesce(array_agg(a.held_at ORDER BY a.held_at) FILTER (WHERE a.held_at IS NOT NULL), '{}')
		FROM `+table("communities")+` c LEFT JOIN `+table("assemblies")+` a
			ON a.community_id = c.community_id AND a.held_at >= $1 AND a.held_at < $2
		WHERE c.kind = 'urban' AND c.registered_at < $1
		GROUP BY c.community_id, c.jurisdiction, c.kind ORDER BY c.community_id`, start, end)
	if err != nil {
		return nil, fmt.Errorf("communities to check at %s: %w", k.At, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (assemblyCheck, error) {
		var a assemblyCheck
		var c, path, kind string
		err := r.Scan(&c, &path, &kind, &a.Held)
		a.Community, a.Jurisdiction, a.Kind = kernel.CommunityID(c), kernel.JurisdictionPath(path), kernel.CommunityKind(kind)
		return a, err
	})
}

// fundsCheck is a community as the year-end operating-funds check sees it.
type fundsCheck struct {
	Community    kernel.CommunityID
	Jurisdiction kernel.JurisdictionPath
	Households   int
	Allocated    kernel.Fen
}

// operatingFundsChecks lists the communities registered before the end of fiscal year `year` (China
// time) with their households and the operating funds allocated to them for that year (0 when none).
func operatingFundsChecks(ctx context.Context, q Querier, year int) ([]fundsCheck, error) {
	end := time.Date(year+1, time.January, 1, 0, 0, 0, 0, kernel.ChinaTime())
	rows, err := q.Query(ctx, `SELECT c.community_id, c.jurisdiction, c.households, coalesce(f.amount_fen, 0)
		FROM `+table("communities")+` c LEFT JOIN `+table("operating_funds")+` f ON f.community_id = c.community_id AND f.fiscal_year = $1
		WHERE c.registered_at < $2 ORDER BY c.community_id`, year, end)
	if err != nil {
		return nil, fmt.Errorf("communities to check for %d's operating funds: %w", year, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (fundsCheck, error) {
		var f fundsCheck
		var c, path string
		var amount int64
		err := r.Scan(&c, &path, &f.Households, &amount)
		f.Community, f.Jurisdiction, f.Allocated = kernel.CommunityID(c), kernel.JurisdictionPath(path), kernel.Fen(amount)
		return f, err
	})
}

// AssessmentFacts returns a community's alerts of [from, to) (by when they fell due, or were raised) that
// count against its annual assessment: those still open (open-alerts), and those cleared more than
// clearWithin after they were raised (late-clears). An alert a supervisor resolved counts as cleared.
func AssessmentFacts(ctx context.Context, q Querier, c kernel.CommunityID, from, to time.Time, clearWithin rulebook.Span) ([]assessment.Fact, error) {
	rows, err := q.Query(ctx, `SELECT rule, detail, raised_at, raised_commit, cleared_at IS NULL FROM `+table("alerts")+`
		WHERE community_id = $1 AND coalesce(due_at, raised_at) >= $2 AND coalesce(due_at, raised_at) < $3
		AND (cleared_at IS NULL OR cleared_at > raised_at + make_interval(years => $4, months => $5, days => $6, hours => $7))
		ORDER BY raised_commit`, string(c), from, to, clearWithin.Years, clearWithin.Months, clearWithin.Days, clearWithin.Hours)
	if err != nil {
		return nil, fmt.Errorf("assessment facts of %s: %w", c, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (assessment.Fact, error) {
		var f assessment.Fact
		var rule, detail string
		var pos int64
		var open bool
		err := r.Scan(&rule, &detail, &f.At, &pos, &open)
		f.Measure, f.What, f.Position = assessment.LateClears, rule+"："+detail, uint64(pos)
		if open {
			f.Measure = assessment.OpenAlerts
		}
		return f, err
	})
}

// ParamsAt returns the rule parameters in force at path: the defaults with the overrides recorded for it
// and its ancestors, the most specific winning.
func ParamsAt(ctx context.Context, q Querier, path kernel.JurisdictionPath) (rulebook.Params, error) {
	return paramsFor(ctx, q, table("overrides"), path)
}
