package portal

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/grassroots-ledger/ledger/infra/outage"
	"github.com/grassroots-ledger/ledger/projections/freshness"
)

// snapshot is what the portal knows of its read models at one poll: which are readable, their
// checkpoints, and how fresh the data is. Polling the checkpoints is how the portal learns of new rows:
// every batch a projector commits moves its model's checkpoint row in the same transaction, so one query
// over a handful of one-row tables, a few times a second per portal process (not per visitor), tells
// whether anything changed at all; only then are the communities that visitors are watching looked at.
// LISTEN/NOTIFY would need triggers or code in every model's transaction (which a rebuild swap drops and
// the portal's read-only role cannot create); the poll needs nothing but SELECT.
type snapshot struct {
	// version changes whenever a checkpoint, a model's state or the set of readable models changes;
	// everything the portal caches is valid for one version.
	version uint64
	models  []freshness.Projection // the public models present and readable, by name
	// dataAsOf is the oldest LastEventRecordedAt of the models: every event recorded up to then is on the
	// portal. Zero before anything was projected.
	dataAsOf time.Time
	syncing  bool     // a model has not applied anything yet while others have
	halted   []string // models stopped on a poison event
	alerts   bool     // the supervisors' model (ratings, open alerts) is readable
	audit    bool     // the audit trail's envelope columns are readable (the event page)
	polled   time.Time
	err      error
}

func (s *snapshot) has(model string) bool {
	for _, m := range s.models {
		if m.Name == model {
			return true
		}
	}
	return false
}

// FreshnessText is the line every page shows: "数据更新至 2026-11-22 21:05（北京时间）".
func (s *snapshot) FreshnessText() string {
	switch {
	case s.dataAsOf.IsZero() && len(s.models) == 0:
		return "数据暂不可用"
	case s.dataAsOf.IsZero():
		return "暂无数据"
	}
	t := "数据更新至 " + ChinaTime(s.dataAsOf) + "（北京时间）"
	if s.syncing {
		t += "，部分数据正在同步"
	}
	if notes := s.staleSections(); len(notes) > 0 {
		t += "；" + strings.Join(notes, "；")
	}
	return t
}

// sections names the read models as the portal's visitors know them.
var sections = map[string]string{"directory": "社区名录", "board": "公开栏", "finances": "财务收支", "elections": "选举",
	"meetings": "会议", "alerts": "监督提醒"}

// lagNamed is how far a section may fall behind the freshest before the freshness line names it.
const lagNamed = 2 * time.Minute

func sectionName(model string) string {
	if n, ok := sections[model]; ok {
		return n
	}
	return model
}

// staleSections says which sections are not up to date and why: halted on an event they could not apply,
// lagging behind the others, or everything served from memory while the database cannot be reached.
func (s *snapshot) staleSections() []string {
	var notes []string
	var newest time.Time
	for _, m := range s.models {
		if m.LastEventRecordedAt.After(newest) {
			newest = m.LastEventRecordedAt
		}
	}
	for _, m := range s.models {
		switch {
		case m.State == "halted":
			notes = append(notes, "“"+sectionName(m.Name)+"”栏目因一条数据无法处理已暂停更新，运维人员已收到告警")
		case !m.LastEventRecordedAt.IsZero() && newest.Sub(m.LastEventRecordedAt) > lagNamed:
			notes = append(notes, "“"+sectionName(m.Name)+"”栏目同步滞后，仅更新至 "+ChinaTime(m.LastEventRecordedAt))
		}
	}
	if unavailable(s.err) {
		notes = append(notes, "数据库暂时无法访问，显示的是此前的数据")
	}
	return notes
}

// watcher polls the models' checkpoints.
type watcher struct {
	db       Querier
	interval time.Duration
	regrant  func(context.Context) error
	log      *slog.Logger
	now      func() time.Time // the portal's clock (Config.Now)
	outage   outage.Log       // the failed polls while the database is away, logged once a minute

	mu       sync.Mutex // serialises polls
	cur      snapshot
	key      string
	readable discovery
	lastDisc time.Time
	lastRe   time.Time
}

type discovery struct {
	public []string // model names of PublicSchemas whose checkpoint the role can read
	alerts bool
	audit  bool
	meta   bool
}

// publicModels maps the public schemas to model names: rm_board → board.
func modelName(schema string) string { return strings.TrimPrefix(schema, "rm_") }

func (w *watcher) snapshot() snapshot {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cur
}

// current returns the latest snapshot, polling now when the background poll has not run lately (Run
// is not running, or the database is slow).
func (w *watcher) current(ctx context.Context) snapshot {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.now().Sub(w.cur.polled) > 4*w.interval {
		w.pollLocked(ctx)
	}
	return w.cur
}

func (w *watcher) poll(ctx context.Context) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pollLocked(ctx)
}

func (w *watcher) pollLocked(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if w.lastDisc.IsZero() || w.now().Sub(w.lastDisc) > 5*time.Second || w.cur.err != nil {
		d, err := discover(ctx, w.db)
		if err != nil {
			w.fail(ctx, err)
			return
		}
		w.readable, w.lastDisc = d, w.now()
	}
	s, err := readSnapshot(ctx, w.db, w.readable)
	if err != nil {
		w.fail(ctx, err)
		return
	}
	s.polled = w.now()
	w.outage.Over(w.log, s.polled, "portal: reading the models' checkpoints again")
	k := s.key()
	if k != w.key || w.cur.version == 0 {
		s.version = w.cur.version + 1
		w.key = k
	} else {
		s.version = w.cur.version
	}
	w.cur = s
}

// fail keeps the last snapshot (pages go on being served from it and from the cache) and, when the
// role was denied or a table is missing — a rebuild swapped a schema in without the role's grants —,
// asks for the grants again.
func (w *watcher) fail(ctx context.Context, err error) {
	w.cur.err = err
	w.cur.polled = w.now()
	w.lastDisc = time.Time{}
	w.outage.Fail(w.log, w.cur.polled, "portal: reading the models' checkpoints failed", "err", err)
	w.maybeRegrant(ctx, err)
}

func (w *watcher) maybeRegrant(ctx context.Context, err error) {
	if w.regrant == nil || !denied(err) || w.now().Sub(w.lastRe) < 5*time.Second {
		return
	}
	w.lastRe = w.now()
	if rerr := w.regrant(ctx); rerr != nil {
		w.log.Warn("portal: granting the portal role read access again failed", "error", rerr.Error())
	}
}

// denied reports a permission or missing-table error: what a rebuild swap causes until grants are renewed.
func denied(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "42501" || pe.Code == "42P01" || pe.Code == "3F000")
}

func (s snapshot) key() string {
	var b strings.Builder
	for _, m := range s.models {
		fmt.Fprintf(&b, "%s:%d:%d:%s;", m.Name, m.Checkpoint.Commit, m.Checkpoint.Prepare, m.State)
	}
	fmt.Fprintf(&b, "a%v:e%v", s.alerts, s.audit)
	return b.String()
}

// discover finds the models the role can read, from the catalogue (readable by every role), without
// touching a schema it may not use.
func discover(ctx context.Context, db Querier) (discovery, error) {
	schemas := append([]string{alertsSchema, auditTrailSchema, metaSchema}, PublicSchemas...)
	rows, err := db.Query(ctx, `SELECT n.nspname, c.relname,
			has_schema_privilege(n.oid, 'USAGE') AND has_any_column_privilege(c.oid, 'SELECT')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = ANY($1) AND c.relname IN ('checkpoint', 'ratings', 'alerts', 'audit_events', 'projections')`, schemas)
	if err != nil {
		return discovery{}, fmt.Errorf("portal: discover the read models: %w", err)
	}
	defer rows.Close()
	ok := map[string]bool{}
	for rows.Next() {
		var s, t string
		var can bool
		if err := rows.Scan(&s, &t, &can); err != nil {
			return discovery{}, err
		}
		ok[s+"."+t] = can
	}
	if err := rows.Err(); err != nil {
		return discovery{}, err
	}
	var d discovery
	for _, s := range PublicSchemas {
		if ok[s+".checkpoint"] {
			d.public = append(d.public, modelName(s))
		}
	}
	d.alerts = ok[alertsSchema+".ratings"] && ok[alertsSchema+".alerts"] && ok[alertsSchema+".checkpoint"]
	d.audit = ok[auditTrailSchema+".audit_events"]
	d.meta = ok[metaSchema+".projections"]
	return d, nil
}

// readSnapshot reads the checkpoints of the readable models and their states in one round trip.
func readSnapshot(ctx context.Context, db Querier, d discovery) (snapshot, error) {
	s := snapshot{alerts: d.alerts, audit: d.audit}
	names := slices.Clone(d.public)
	if d.alerts {
		names = append(names, "alerts")
	}
	if len(names) == 0 {
		return s, nil
	}
	models, err := freshness.Checkpoints(ctx, db, names, d.meta)
	if err != nil {
		return s, fmt.Errorf("portal: %w", err)
	}
	empty, some := false, false
	for _, fp := range models {
		if fp.State == "halted" {
			s.halted = append(s.halted, fp.Name)
		}
		s.models = append(s.models, fp)
		if fp.LastEventRecordedAt.IsZero() {
			empty = true
			continue
		}
		some = true
		if s.dataAsOf.IsZero() || fp.LastEventRecordedAt.Before(s.dataAsOf) {
			s.dataAsOf = fp.LastEventRecordedAt
		}
	}
	s.syncing = empty && some
	return s, nil
}

// hashString is a short stable hash for ETags and fingerprints.
func hashString(parts ...string) string {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return fmt.Sprintf("%016x", h.Sum64())
}
