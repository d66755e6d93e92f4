// Package directory is the read model of the registry the public portal navigates: the jurisdiction tree
// (省 → 市 → 区/县 → 街道/镇 → 社区/村 → 网格 → 楼栋) and every community with its kind, registered households
// and adult population, its sitting committee (counts, and the roster by public display name), and the
// audits of its cadres (kind, auditor, period, result: never the cadre audited or the findings' text), and
// its seal register (seals, custodians and every use by public names and fields), and its collective
// assets with the contracts letting them out and the rent received, and its workers by post (never by
// name), supervision casework (inspections, rectifications, bulletins), satisfaction surveys and democratic
// evaluations (tallies only). It lives in schema rm_directory.
package directory

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"github.com/grassroots-ledger/ledger/domain/assessment"
	"github.com/grassroots-ledger/ledger/domain/rating"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/grassroots-ledger/ledger/domain/asset"
	"github.com/grassroots-ledger/ledger/domain/audit"
	"github.com/grassroots-ledger/ledger/domain/bulletin"
	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/evaluation"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/inspection"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rectification"
	"github.com/grassroots-ledger/ledger/domain/seal"
	"github.com/grassroots-ledger/ledger/domain/survey"
	"github.com/grassroots-ledger/ledger/domain/worker"
	"github.com/grassroots-ledger/ledger/domain/worklist"
	"github.com/grassroots-ledger/ledger/projections/internal/decode"
	"github.com/grassroots-ledger/ledger/projections/internal/tables"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// Name is the read model's permanent name; its tables live in schema rm_directory.
const Name = "directory"

// Schema is where the live tables are.
var Schema = runtime.SchemaOf(Name)

//go:embed migrations/*.sql
var migrations embed.FS

// Model is the directory read model. Create it with New.
type Model struct{ decode.Model }

// New returns the directory model, decoding with the domain's registry.
func New() *Model {
	return &Model{decode.NewModel(Name, migrations,
		community.JurisdictionRegistered{}, community.Registered{}, community.FiguresUpdated{},
		community.CommitteeSeated{}, community.MemberJoined{}, community.MemberLeft{},
		audit.Opened{}, audit.FindingRecorded{}, audit.Closed{},
		seal.Registered{}, seal.CustodianChanged{}, seal.UseRequested{}, seal.UseApproved{}, seal.Used{},
		asset.Registered{}, asset.ContractSigned{}, asset.RentReceived{}, asset.Disposed{},
		worklist.DutyListed{}, worklist.DutyDelisted{}, worklist.TaskApplied{}, worklist.TaskDecided{}, worklist.TaskReceived{},
		worker.Hired{}, worker.PostChanged{}, worker.Trained{}, worker.Left{},
		inspection.Conducted{}, rectification.Ordered{}, rectification.Reported{}, bulletin.Published{},
		survey.Opened{}, survey.Closed{}, evaluation.Held{},
		assessment.Defined{}, assessment.Scored{}, assessment.Frozen{}, rating.Recorded{})}
}

// Tables are the model's tables as declared once for its writes and loads (checked against the
// migrations by the read-model contract, projections/internal/readmodeltest).
func (*Model) Tables() []*tables.Table {
	return []*tables.Table{nodesTable, communitiesTable, seatsTable, auditsTable, sealsTable, sealUsesTable, assetsTable, contractsTable,
		dutiesTable, admissionsTable, communityTasksTable, worklistStreamsTable, workerRostersTable, workersTable, workerTrainingsTable,
		inspectionsTable, findingsTable, rectificationsTable, reportsTable, bulletinsTable, citesTable,
		surveysTable, questionsTable, surveyResultsTable, talliesTable, evaluationsTable, evaluationResultsTable,
		assessmentItemsTable, assessmentScoresTable, assessmentResultsTable, ratingHistoryTable}
}

// Poison implements runtime.ReadModel: SkipAndReport. The directory is navigation, and every fact it
// holds is restated whole by the next event of its kind (figures-updated carries both figures, a seated
// committee replaces the roster), so a skipped event heals at the next one. Halting it instead would stop
// every community registered anywhere after the bad event from appearing on the portal. A skipped
// registration leaves its community out until the event is repaired and the model rebuilt; later events
// of a community the model does not know are ignored. Skipped events are listed in rm_meta.poison_events.
func (*Model) Poison() runtime.PoisonPolicy { return runtime.SkipAndReport }

// ---- state of a batch -----------------------------------------------------------------------------------

type node struct {
	path, code, name, parent string
	level                    int
	community                bool
	at                       time.Time
	src                      decode.Source
}

type seat struct {
	person, role, source, election string
	publicName                     string // 公示姓名: public
	fullTime                       bool
	since                          time.Time
	src                            decode.Source
}

type communityRow struct {
	id, name, kind, path string
	households, adults   int
	figuresAt            time.Time
	figuresSrc           decode.Source
	term                 pgtype.Text
	rosterAt             pgtype.Timestamptz
	rosterSrc            decode.Source // zero (NULL) until a roster event
	registeredAt         time.Time
	registeredSrc        decode.Source
	stream               string
	lastRev              int64
	members, fullTime    int
	chairs, viceChairs   int
	roster               map[string]seat // loaded for the communities whose roster the batch changes
	dirty, rosterDirty   bool
	isNew                bool // not in the table before this batch
}

func (c *communityRow) recount() {
	c.members, c.fullTime, c.chairs, c.viceChairs = len(c.roster), 0, 0, 0
	for _, s := range c.roster {
		if s.fullTime {
			c.fullTime++
		}
		switch community.Role(s.role) {
		case community.Chair:
			c.chairs++
		case community.ViceChair:
			c.viceChairs++
		}
	}
}

// communityOf is the community an event of the profile stream is about (from its payload).
func communityOf(p kernel.Event) (string, bool) {
	switch p := p.(type) {
	case community.Registered:
		return string(p.CommunityID), true
	case community.FiguresUpdated:
		return string(p.CommunityID), true
	case community.CommitteeSeated:
		return string(p.CommunityID), true
	case community.MemberJoined:
		return string(p.CommunityID), true
	case community.MemberLeft:
		return string(p.CommunityID), true
	}
	return "", false
}

func touchesRoster(p kernel.Event) bool {
	switch p.(type) {
	case community.CommitteeSeated, community.MemberJoined, community.MemberLeft:
		return true
	}
	return false
}

// Apply implements runtime.ReadModel: one round trip loads the communities the batch touches, the batch
// is folded in memory, and one round trip writes every changed row with multi-row upserts. Events at or
// below a community's last applied revision are skipped, so applying a batch twice changes nothing.
func (m *Model) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.Recorded) error {
	evs, err := m.Dec.Batch(batch)
	if err != nil || len(evs) == 0 {
		return err
	}
	var ids, rosterIDs []string
	var auditEvs, sealEvs, assetEvs, workEvs, workerEvs, caseEvs []decode.Event
	seen, seenRoster := map[string]bool{}, map[string]bool{}
	for _, e := range evs {
		if _, ok := auditOf(e.Payload); ok {
			auditEvs = append(auditEvs, e)
			continue
		}
		if _, _, ok := sealOf(e.Payload); ok {
			sealEvs = append(sealEvs, e)
			continue
		}
		if _, _, ok := assetOf(e.Payload); ok {
			assetEvs = append(assetEvs, e)
			continue
		}
		if isWorklist(e.Payload) {
			workEvs = append(workEvs, e)
			continue
		}
		if isWorker(e.Payload) {
			workerEvs = append(workerEvs, e)
			continue
		}
		if isCasework(e.Payload) || isEvaluation(e.Payload) || isStanding(e.Payload) {
			caseEvs = append(caseEvs, e)
			continue
		}
		id, ok := communityOf(e.Payload)
		if !ok {
			continue
		}
		if id == "" || id != e.Community() {
			return e.Poison(fmt.Errorf("the payload names community %q, the metadata %q", id, e.Community()))
		}
		if err := decode.CheckStream(e, "community", "profile"); err != nil {
			return err
		}
		var bad error
		switch p := e.Payload.(type) {
		case community.Registered:
			bad = decode.Int32s(e, p.Households, p.Adults)
		case community.FiguresUpdated:
			bad = decode.Int32s(e, p.Households, p.Adults)
		}
		if bad != nil {
			return bad
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
		if touchesRoster(e.Payload) && !seenRoster[id] {
			seenRoster[id] = true
			rosterIDs = append(rosterIDs, id)
		}
	}
	rows, err := load(ctx, tx, ids, rosterIDs)
	if err != nil {
		return err
	}
	var audits map[auditKey]*auditRow
	if len(auditEvs) > 0 {
		if audits, err = foldAudits(ctx, tx, auditEvs); err != nil {
			return err
		}
	}
	var seals sealBatch
	if len(sealEvs) > 0 {
		if seals, err = foldSeals(ctx, tx, sealEvs); err != nil {
			return err
		}
	}
	var assets assetBatch
	if len(assetEvs) > 0 {
		if assets, err = foldAssets(ctx, tx, assetEvs); err != nil {
			return err
		}
	}
	var work worklistBatch
	if len(workEvs) > 0 {
		if work, err = foldWorklist(ctx, tx, workEvs); err != nil {
			return err
		}
	}
	var staff workerBatch
	if len(workerEvs) > 0 {
		if staff, err = foldWorkers(ctx, tx, workerEvs); err != nil {
			return err
		}
	}
	nodes := map[string]*node{}
	for _, e := range evs {
		switch p := e.Payload.(type) {
		case community.JurisdictionRegistered:
			parent, _ := p.Path.Parent()
			nodes[string(p.Path)] = &node{path: string(p.Path), code: p.Path.Last(), name: p.Name, level: p.Level,
				parent: string(parent), at: p.RegisteredAt, src: e.Source()}
			continue
		}
		id, _ := communityOf(e.Payload)
		c := rows[id]
		if c != nil && e.Revision() <= c.lastRev {
			continue // already applied
		}
		if reg, ok := e.Payload.(community.Registered); ok {
			old := c
			c = &communityRow{id: id, name: reg.Name, kind: string(reg.Kind), path: string(reg.Jurisdiction),
				households: reg.Households, adults: reg.Adults, figuresAt: reg.RegisteredAt, figuresSrc: e.Source(),
				registeredAt: reg.RegisteredAt, registeredSrc: e.Source(), roster: map[string]seat{}, isNew: true}
			if old != nil { // a registration the model saw is never repeated; keep what the community had
				c.term, c.rosterAt, c.rosterSrc, c.roster, c.rosterDirty = old.term, old.rosterAt, old.rosterSrc, old.roster, old.rosterDirty
				c.isNew = old.isNew
			}
			rows[id] = c
			parent, _ := reg.Jurisdiction.Parent()
			nodes[c.path] = &node{path: c.path, code: reg.Jurisdiction.Last(), name: reg.Name, level: reg.Jurisdiction.Depth(),
				parent: string(parent), community: true, at: reg.RegisteredAt, src: e.Source()}
		} else if c == nil {
			continue // the community's registration was never applied (skipped as poison): nothing to attach to
		}
		c.stream, c.lastRev, c.dirty = e.Rec.Stream, e.Revision(), true
		switch p := e.Payload.(type) {
		case community.FiguresUpdated:
			c.households, c.adults, c.figuresAt, c.figuresSrc = p.Households, p.Adults, p.UpdatedAt, e.Source()
		case community.CommitteeSeated:
			c.roster = make(map[string]seat, len(p.Members))
			for _, s := range p.Members {
				c.roster[string(s.Person)] = seatOf(s, p.SeatedAt, e)
			}
			c.term = tables.Text(p.Term)
			c.rosterChanged(p.SeatedAt, e)
		case community.MemberJoined:
			c.roster[string(p.Member.Person)] = seatOf(p.Member, p.JoinedAt, e)
			c.rosterChanged(p.JoinedAt, e)
		case community.MemberLeft:
			delete(c.roster, string(p.Person))
			c.rosterChanged(p.LeftAt, e)
		}
	}
	return write(ctx, tx, nodes, rows, audits, seals, assets, work, staff, caseEvs)
}

func seatOf(s community.Seat, at time.Time, e decode.Event) seat {
	// s.Personal (name, ID number, phone, address) is deliberately dropped; the public display name is kept.
	return seat{person: string(s.Person), role: string(s.Role), source: string(s.Source), election: s.ElectionID,
		publicName: s.PublicName, fullTime: s.FullTime, since: at, src: e.Source()}
}

// rosterChanged records that the roster changed at `at` by event e, and recounts it.
func (c *communityRow) rosterChanged(at time.Time, e decode.Event) {
	c.rosterAt, c.rosterSrc, c.rosterDirty = tables.Time(at), e.Source(), true
	c.recount()
}

func load(ctx context.Context, tx pgx.Tx, ids, rosterIDs []string) (map[string]*communityRow, error) {
	rows := make(map[string]*communityRow, len(ids))
	if len(ids) == 0 {
		return rows, nil
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT `+communitiesTable.Select("")+`
			FROM communities WHERE community_id = ANY($1)`, ids).Query(func(rs pgx.Rows) error {
		for rs.Next() {
			c := &communityRow{}
			var rc pgtype.Int8
			if err := rs.Scan(&c.id, &c.name, &c.kind, &c.path, &c.households, &c.adults, &c.figuresAt, &c.figuresSrc.ID,
				&c.figuresSrc.Commit, &c.term, &c.members, &c.fullTime, &c.chairs, &c.viceChairs, &c.rosterAt,
				&c.rosterSrc.ID, &rc, &c.registeredAt, &c.registeredSrc.ID, &c.registeredSrc.Commit,
				&c.stream, &c.lastRev); err != nil {
				return err
			}
			c.rosterSrc.Commit = rc.Int64
			rows[c.id] = c
		}
		return rs.Err()
	})
	if len(rosterIDs) > 0 {
		b.Queue(`SELECT community_id, person_id, role, full_time, source, coalesce(election_id, ''), since, event_id, commit_pos,
			coalesce(public_name, '') FROM committee_seats WHERE community_id = ANY($1)`, rosterIDs).Query(func(rs pgx.Rows) error {
			for rs.Next() {
				var id string
				var s seat
				if err := rs.Scan(&id, &s.person, &s.role, &s.fullTime, &s.source, &s.election, &s.since, &s.src.ID, &s.src.Commit,
					&s.publicName); err != nil {
					return err
				}
				if c := rows[id]; c != nil {
					if c.roster == nil {
						c.roster = map[string]seat{}
					}
					c.roster[s.person] = s
				}
			}
			return rs.Err()
		})
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("directory: load %d communities: %w", len(ids), err)
	}
	for _, c := range rows {
		if c.roster == nil {
			c.roster = map[string]seat{}
		}
	}
	return rows, nil
}

var (
	nodesTable = tables.New("nodes", []string{"path"}, "",
		"path text", "code text", "name text", "level int2", "parent text", "community bool", "registered_at timestamptz",
		"event_id uuid", "commit_pos int8", "initials text")
	communitiesTable = tables.New("communities", []string{"community_id"}, "",
		"community_id text", "name text", "kind text", "path text", "households int4", "adults int4", "figures_at timestamptz",
		"figures_event_id uuid", "figures_commit_pos int8", "committee_term text", "committee_members int4",
		"committee_full_time int4", "committee_chairs int4", "committee_vice_chairs int4", "roster_at timestamptz",
		"roster_event_id uuid", "roster_commit_pos int8", "registered_at timestamptz", "registered_event_id uuid",
		"registered_commit_pos int8", "stream text", "last_revision int8")
	seatsTable = tables.New("committee_seats", []string{"community_id", "person_id"}, "",
		"community_id text", "person_id text", "role text", "full_time bool", "source text", "election_id text",
		"since timestamptz", "event_id uuid", "commit_pos int8", "public_name text")
)

// write sends the nodes, the changed communities that exist and the roster deletions in one round trip,
// then copies the new communities and the changed rosters in.
func write(ctx context.Context, tx pgx.Tx, nodes map[string]*node, rows map[string]*communityRow, audits map[auditKey]*auditRow,
	seals sealBatch, assets assetBatch, work worklistBatch, staff workerBatch, casework []decode.Event) error {
	ns, fresh, changed, seats := nodesTable.Rows(), communitiesTable.Rows(), communitiesTable.Rows(), seatsTable.Rows()
	for _, k := range sortedKeys(nodes) {
		n := nodes[k]
		ns.Row().Text(n.path).Text(n.code).Text(n.name).Int2(int16(n.level)).NullText(tables.Text(n.parent)).Bool(n.community).
			Time(n.at).UUID(n.src.ID).Int8(n.src.Commit).NullText(tables.Text(Initials(n.name)))
	}
	var rosterIDs []string
	for _, k := range sortedKeys(rows) {
		r := rows[k]
		if !r.dirty {
			continue
		}
		to := changed
		if r.isNew {
			to = fresh
		}
		to.Row().Text(r.id).Text(r.name).Text(r.kind).Text(r.path).Int4(int32(r.households)).Int4(int32(r.adults)).
			Time(r.figuresAt).UUID(r.figuresSrc.ID).Int8(r.figuresSrc.Commit).NullText(r.term).Int4(int32(r.members)).
			Int4(int32(r.fullTime)).Int4(int32(r.chairs)).Int4(int32(r.viceChairs)).NullTime(r.rosterAt).UUID(r.rosterSrc.ID).
			NullInt8(r.rosterSrc.Pos()).Time(r.registeredAt).UUID(r.registeredSrc.ID).Int8(r.registeredSrc.Commit).
			Text(r.stream).Int8(r.lastRev)
		if !r.rosterDirty {
			continue
		}
		rosterIDs = append(rosterIDs, r.id)
		for _, p := range sortedKeys(r.roster) {
			st := r.roster[p]
			seats.Row().Text(r.id).Text(st.person).Text(st.role).Bool(st.fullTime).Text(st.source).NullText(tables.Text(st.election)).
				Time(st.since).UUID(st.src.ID).Int8(st.src.Commit).NullText(tables.Text(st.publicName))
		}
	}
	var w tables.Writer
	w.Upsert(ns)
	w.Upsert(changed)
	if len(rosterIDs) > 0 {
		w.Exec(`DELETE FROM committee_seats WHERE community_id = ANY($1)`, rosterIDs)
	}
	w.Copy(fresh)
	w.Copy(seats)
	writeAudits(&w, audits)
	writeSeals(&w, seals)
	writeAssets(&w, assets)
	writeWorklist(&w, work)
	writeWorkers(&w, staff)
	if err := writeCasework(&w, casework); err != nil {
		return err
	}
	if err := writeEvaluations(&w, casework); err != nil {
		return err
	}
	if err := writeStandings(&w, casework); err != nil {
		return err
	}
	if err := w.Flush(ctx, tx); err != nil {
		return fmt.Errorf("directory: %w", err)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ---- queries --------------------------------------------------------------------------------------------

// Querier is a pool, connection or transaction (the portal's read-only pool).
type Querier = tables.Querier

// ErrNotFound means the directory has no such community. It is not an error of the caller's request
// syntax: the portal answers 404.
var ErrNotFound = errors.New("directory: not found")

// Node is a node of the jurisdiction tree.
type Node struct {
	Path   string
	Code   string
	Name   string
	Level  int
	Parent string // "" at the top level
	// Community is true for a community or village; CommunityByID has its figures.
	Community    bool
	RegisteredAt time.Time
	// EventID and Commit are the event that registered the node and its $all commit position.
	EventID eventlog.ID
	Commit  uint64
}

const nodeColumns = `path, code, name, level, coalesce(parent, ''), community, registered_at, event_id, commit_pos`

// nodes runs a query of nodeColumns and reads its rows.
func nodes(ctx context.Context, q Querier, what, where string, args ...any) ([]Node, error) {
	return tables.Collect(ctx, q, "directory", what, `SELECT `+nodeColumns+` FROM `+pgx.Identifier{Schema, "nodes"}.Sanitize()+` WHERE `+where,
		func(rows pgx.Rows) (Node, error) {
			var n Node
			var ev pgtype.UUID
			var pos int64
			var level int16
			err := rows.Scan(&n.Path, &n.Code, &n.Name, &level, &n.Parent, &n.Community, &n.RegisteredAt, &ev, &pos)
			n.Level, n.RegisteredAt, n.EventID, n.Commit = int(level), n.RegisteredAt.UTC(), ev.Bytes, uint64(pos)
			return n, err
		}, args...)
}

// Children returns the nodes directly under path, by path; "" returns the top level.
func Children(ctx context.Context, q Querier, path string) ([]Node, error) {
	what := fmt.Sprintf("children of %q", path)
	if path == "" {
		return nodes(ctx, q, what, "parent IS NULL ORDER BY path")
	}
	return nodes(ctx, q, what, "parent = $1 ORDER BY path", path)
}

// CommunityCounts counts the communities under each child of parent ("" the top level), by the child's
// path: a dashboard's denominators.
func CommunityCounts(ctx context.Context, q Querier, parent string) (map[string]int, error) {
	type count struct {
		child string
		n     int
	}
	cs, err := tables.Collect(ctx, q, "directory", "communities under the children of "+parent,
		`SELECT CASE WHEN $1 = '' THEN split_part(path, '/', 1) ELSE $1 || '/' || split_part(substr(path, length($1) + 2), '/', 1) END, count(*)
		FROM `+pgx.Identifier{Schema, "communities"}.Sanitize()+` WHERE $1 = '' OR path LIKE $1 || '/%' GROUP BY 1`,
		func(rows pgx.Rows) (count, error) {
			var c count
			err := rows.Scan(&c.child, &c.n)
			return c, err
		}, parent)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(cs))
	for _, c := range cs {
		out[c.child] = c.n
	}
	return out, nil
}

// Search returns at most limit nodes whose name contains text (a part of a Chinese name, matched as
// written) or, for a text of Latin letters and digits, whose pinyin initials start with it (lxsq, lx for
// 罗西社区): exact names first, then by level (districts before streets before communities) and by the
// shortest name.
func Search(ctx context.Context, q Querier, text string, limit int) ([]Node, error) {
	where := `name LIKE $1`
	args := []any{tables.Contains(text), text, limit}
	if iq := initialsQuery(text); iq != "" {
		where, args = `(name LIKE $1 OR initials LIKE $4)`, append(args, iq+"%")
	}
	return nodes(ctx, q, fmt.Sprintf("nodes named like %q", text),
		where+` ORDER BY name = $2 DESC, level, length(name), path LIMIT $3`, args...)
}

// Names returns the names of the nodes at paths, by path (paths the tree does not have are left out).
func Names(ctx context.Context, q Querier, paths []string) (map[string]string, error) {
	ns, err := nodes(ctx, q, "nodes by path", "path = ANY($1)", paths)
	out := make(map[string]string, len(ns))
	for _, n := range ns {
		out[n.Path] = n.Name
	}
	return out, err
}

// CommunityNames returns the names of communities by id (ids the tree does not have are left out).
func CommunityNames(ctx context.Context, q Querier, ids []string) (map[string]string, error) {
	ns, err := nodes(ctx, q, "communities by id", "community AND code = ANY($1)", ids)
	out := make(map[string]string, len(ns))
	for _, n := range ns {
		out[n.Code] = n.Name
	}
	return out, err
}

// NodeAt returns the node at path; found is false when the tree has none.
func NodeAt(ctx context.Context, q Querier, path string) (n Node, found bool, err error) {
	ns, err := nodes(ctx, q, fmt.Sprintf("node %q", path), "path = $1", path)
	if err != nil || len(ns) == 0 {
		return Node{}, false, err
	}
	return ns[0], true, nil
}

// Ancestors returns the nodes on the way to path (path itself included), from the top.
func Ancestors(ctx context.Context, q Querier, path string) ([]Node, error) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	prefixes := make([]string, len(segs))
	for i := range segs {
		prefixes[i] = strings.Join(segs[:i+1], "/")
	}
	return nodes(ctx, q, fmt.Sprintf("ancestors of %q", path), "path = ANY($1) ORDER BY level, path", prefixes)
}

// FingerprintSQL is a text expression that changes whenever the community $1's own row changes (its
// stream's last revision): what the portal's caches key the community's overview on.
var FingerprintSQL = `(SELECT last_revision::text FROM ` + pgx.Identifier{Schema, "communities"}.Sanitize() + ` WHERE community_id = $1)`

// Community is a community or village as the public sees it: no member is named.
type Community struct {
	ID         string
	Name       string
	Kind       kernel.CommunityKind
	Path       string
	Households int
	Adults     int
	// FiguresAt is when the figures were registered or last updated, by event FiguresEventID at FiguresCommit.
	FiguresAt      time.Time
	FiguresEventID eventlog.ID
	FiguresCommit  uint64
	// Committee is the sitting committee by counts; zero until one is seated.
	Committee    CommitteeCounts
	RegisteredAt time.Time
	// RegisteredEventID and RegisteredCommit are the community.registered event.
	RegisteredEventID eventlog.ID
	RegisteredCommit  uint64
}

// Member is a member of the sitting committee as the roster shows it: the public display name ("" when
// none was recorded), the role and whether full time; never personal data.
type Member struct {
	PersonID   string
	PublicName string
	Role       string
	FullTime   bool
	Since      time.Time
	EventID    eventlog.ID
	Commit     uint64
}

// Roster lists the sitting committee of a community: the chair first, then the vice-chairs, then the
// members, each by the time they took their seat.
func Roster(ctx context.Context, q Querier, communityID string) ([]Member, error) {
	return tables.Collect(ctx, q, "directory", "roster of "+communityID, `SELECT person_id, coalesce(public_name, ''), role, full_time, since,
		event_id, commit_pos FROM `+pgx.Identifier{Schema, "committee_seats"}.Sanitize()+` WHERE community_id = $1
		ORDER BY CASE role WHEN 'chair' THEN 0 WHEN 'vice-chair' THEN 1 ELSE 2 END, since, person_id`,
		func(rows pgx.Rows) (Member, error) {
			var m Member
			var ev pgtype.UUID
			var pos int64
			err := rows.Scan(&m.PersonID, &m.PublicName, &m.Role, &m.FullTime, &m.Since, &ev, &pos)
			m.Since, m.EventID, m.Commit = m.Since.UTC(), ev.Bytes, uint64(pos)
			return m, err
		}, communityID)
}

// CommitteeCounts is the sitting committee (居委会/村委会) by numbers.
type CommitteeCounts struct {
	Term       string
	Members    int
	FullTime   int
	Chairs     int
	ViceChairs int
	// ChangedAt is when the roster last changed, by event EventID at Commit (zero when never).
	ChangedAt time.Time
	EventID   eventlog.ID
	Commit    uint64
}

const communityColumns = `community_id, name, kind, path, households, adults, figures_at, figures_event_id, figures_commit_pos,
	coalesce(committee_term, ''), committee_members, committee_full_time, committee_chairs, committee_vice_chairs,
	roster_at, roster_event_id, roster_commit_pos, registered_at, registered_event_id, registered_commit_pos`

func scanCommunity(rows pgx.Rows) (Community, error) {
	var c Community
	var kind string
	var figEv, rosEv, regEv pgtype.UUID
	var figPos, regPos int64
	var rosPos pgtype.Int8
	var rosAt pgtype.Timestamptz
	cc := &c.Committee
	if err := rows.Scan(&c.ID, &c.Name, &kind, &c.Path, &c.Households, &c.Adults, &c.FiguresAt, &figEv, &figPos,
		&cc.Term, &cc.Members, &cc.FullTime, &cc.Chairs, &cc.ViceChairs, &rosAt, &rosEv, &rosPos,
		&c.RegisteredAt, &regEv, &regPos); err != nil {
		return Community{}, err
	}
	c.Kind = kernel.CommunityKind(kind)
	c.FiguresAt, c.RegisteredAt = c.FiguresAt.UTC(), c.RegisteredAt.UTC()
	c.FiguresEventID, c.FiguresCommit = figEv.Bytes, uint64(figPos)
	c.RegisteredEventID, c.RegisteredCommit = regEv.Bytes, uint64(regPos)
	cc.ChangedAt, cc.EventID, cc.Commit = tables.At(rosAt), tables.EventID(rosEv), tables.Position(rosPos)
	return c, nil
}

// CommunityByID returns one community; ErrNotFound when the directory has none with that id.
func CommunityByID(ctx context.Context, q Querier, id string) (Community, error) {
	rows, err := q.Query(ctx, `SELECT `+communityColumns+` FROM `+pgx.Identifier{Schema, "communities"}.Sanitize()+
		` WHERE community_id = $1`, id)
	if err != nil {
		return Community{}, fmt.Errorf("directory: community %s: %w", id, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return Community{}, fmt.Errorf("directory: community %s: %w", id, err)
		}
		return Community{}, fmt.Errorf("community %s: %w", id, ErrNotFound)
	}
	c, err := scanCommunity(rows)
	if err != nil {
		return Community{}, fmt.Errorf("directory: community %s: %w", id, err)
	}
	return c, nil
}

// EachCommunity calls fn for every community at or under the jurisdiction path under ("" for all), in path
// order, reading them a thousand at a time.
func EachCommunity(ctx context.Context, q Querier, under string, fn func(Community) error) error {
	for after := ""; ; {
		page, err := CommunitiesUnder(ctx, q, under, after, 1000)
		if err != nil {
			return err
		}
		for _, c := range page {
			if err := fn(c); err != nil {
				return err
			}
		}
		if len(page) < 1000 {
			return nil
		}
		after = page[len(page)-1].Path
	}
}

// CommunitiesUnder returns the communities at or under the jurisdiction path under ("" for all), in path
// order, one page at a time: after is the Path of the last community of the previous page ("" for the
// first), limit the page size (default 100, at most 1000).
func CommunitiesUnder(ctx context.Context, q Querier, under, after string, limit int) ([]Community, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if u := trimSlash(under); u != "" {
		where = append(where, tables.UnderClause("path", arg(u)))
	}
	if after != "" {
		where = append(where, "path > "+arg(after))
	}
	sql := `SELECT ` + communityColumns + ` FROM ` + pgx.Identifier{Schema, "communities"}.Sanitize()
	for i, w := range where {
		if i == 0 {
			sql += " WHERE " + w
		} else {
			sql += " AND " + w
		}
	}
	sql += " ORDER BY path LIMIT " + arg(tables.Limit(limit, 100, 1000))
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("directory: communities under %q: %w", under, err)
	}
	defer rows.Close()
	var out []Community
	for rows.Next() {
		c, err := scanCommunity(rows)
		if err != nil {
			return nil, fmt.Errorf("directory: communities under %q: %w", under, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("directory: communities under %q: %w", under, err)
	}
	return out, nil
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}
