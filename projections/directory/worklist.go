package directory

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/worklist"
	"github.com/grassroots-ledger/ledger/projections/internal/decode"
	"github.com/grassroots-ledger/ledger/projections/internal/tables"
)

// The admission list for work entering communities as the public sees it: the districts' duties and
// decisions, and the tasks communities received.

var (
	dutiesTable = tables.New("duties", []string{"district", "duty_id"}, "",
		"district text", "duty_id text", "list text", "title text", "basis text", "listed_at timestamptz", "delisted_at timestamptz",
		"delist_reason text", "event_id uuid", "commit_pos int8")
	admissionsTable = tables.New("task_admissions", []string{"district", "task_id"}, "",
		"district text", "task_id text", "department text", "title text", "legal_basis text", "funding_fen int8", "status text", "reason text",
		"applied_at timestamptz", "decided_at timestamptz", "event_id uuid", "commit_pos int8")
	communityTasksTable = tables.New("community_tasks", []string{"community_id", "record_id"}, "",
		"community_id text", "record_id text", "department text", "title text", "duty_id text", "task_id text", "allowed bool",
		"funding_fen int8", "received_at timestamptz", "event_id uuid", "commit_pos int8")
	worklistStreamsTable = tables.New("worklist_streams", []string{"stream"}, "", "stream text", "last_revision int8")
)

func isWorklist(p any) bool {
	switch p.(type) {
	case worklist.DutyListed, worklist.DutyDelisted, worklist.TaskApplied, worklist.TaskDecided, worklist.TaskReceived:
		return true
	}
	return false
}

type dutyRow struct {
	district, id, list, title, basis string
	listedAt                         time.Time
	delistedAt                       pgtype.Timestamptz
	reason                           pgtype.Text
	src                              decode.Source
}

type admissionRow struct {
	district, id, department, title, basis, status string
	funding                                        int64
	reason                                         pgtype.Text
	appliedAt                                      time.Time
	decidedAt                                      pgtype.Timestamptz
	src                                            decode.Source
}

// worklistBatch is the rows a batch's worklist events write.
type worklistBatch struct {
	duties     map[[2]string]*dutyRow
	admissions map[[2]string]*admissionRow
	tasks      *tables.Rows
	streams    map[string]int64
}

// foldWorklist reads the last applied revision of the batch's worklist streams and the duties and
// applications it changes (a few statements: the lists change rarely), skips what was applied, and folds
// the rest over them.
func foldWorklist(ctx context.Context, tx pgx.Tx, evs []decode.Event) (worklistBatch, error) {
	var streams, districts []string
	for _, e := range evs {
		switch p := e.Payload.(type) {
		case worklist.TaskReceived:
			if err := decode.RequireCommunity(e); err != nil {
				return worklistBatch{}, err
			}
			if e.Rec.Stream != worklist.TasksStream(kernel.CommunityID(e.Community())) {
				return worklistBatch{}, e.Poison(fmt.Errorf("a received task in stream %q: %w", e.Rec.Stream, decode.ErrEnvelope))
			}
		default:
			d := districtOf(p)
			if d.Depth() != kernel.LevelDistrict || e.Rec.Stream != worklist.ListStream(d) {
				return worklistBatch{}, e.Poison(fmt.Errorf("a list event of %q in stream %q: %w", d, e.Rec.Stream, decode.ErrEnvelope))
			}
			if !slices.Contains(districts, string(d)) {
				districts = append(districts, string(d))
			}
		}
		if !slices.Contains(streams, e.Rec.Stream) {
			streams = append(streams, e.Rec.Stream)
		}
	}
	b := worklistBatch{duties: map[[2]string]*dutyRow{}, admissions: map[[2]string]*admissionRow{}, tasks: communityTasksTable.Rows(),
		streams: map[string]int64{}}
	type rev struct {
		stream string
		rev    int64
	}
	revs, err := tables.Collect(ctx, tx, "directory", "worklist streams", `SELECT stream, last_revision FROM worklist_streams WHERE stream = ANY($1)`,
		func(rs pgx.Rows) (rev, error) {
			var x rev
			err := rs.Scan(&x.stream, &x.rev)
			return x, err
		}, streams)
	if err != nil {
		return worklistBatch{}, err
	}
	last := map[string]int64{}
	for _, r := range revs {
		last[r.stream] = r.rev
	}
	if len(districts) > 0 {
		duties, err := tables.Collect(ctx, tx, "directory", "duties", `SELECT `+dutiesTable.Select("")+` FROM duties WHERE district = ANY($1)`,
			func(rs pgx.Rows) (*dutyRow, error) {
				d := &dutyRow{}
				err := rs.Scan(&d.district, &d.id, &d.list, &d.title, &d.basis, &d.listedAt, &d.delistedAt, &d.reason, &d.src.ID, &d.src.Commit)
				return d, err
			}, districts)
		if err != nil {
			return worklistBatch{}, err
		}
		for _, d := range duties {
			b.duties[[2]string{d.district, d.id}] = d
		}
		apps, err := tables.Collect(ctx, tx, "directory", "task admissions", `SELECT `+admissionsTable.Select("")+` FROM task_admissions
			WHERE district = ANY($1)`, func(rs pgx.Rows) (*admissionRow, error) {
			a := &admissionRow{}
			err := rs.Scan(&a.district, &a.id, &a.department, &a.title, &a.basis, &a.funding, &a.status, &a.reason, &a.appliedAt, &a.decidedAt,
				&a.src.ID, &a.src.Commit)
			return a, err
		}, districts)
		if err != nil {
			return worklistBatch{}, err
		}
		for _, a := range apps {
			b.admissions[[2]string{a.district, a.id}] = a
		}
	}
	changed := map[any]bool{}
	for _, e := range evs {
		if r, ok := last[e.Rec.Stream]; ok && e.Revision() <= r {
			continue // already applied
		}
		if r, ok := b.streams[e.Rec.Stream]; ok && e.Revision() <= r {
			continue
		}
		b.streams[e.Rec.Stream] = e.Revision()
		src := e.Source()
		switch p := e.Payload.(type) {
		case worklist.DutyListed:
			d := &dutyRow{district: string(p.District), id: p.DutyID, list: string(p.List), title: p.Title, basis: p.Basis, listedAt: p.ListedAt,
				src: src}
			b.duties[[2]string{d.district, d.id}], changed[d] = d, true
		case worklist.DutyDelisted:
			if d := b.duties[[2]string{string(p.District), p.DutyID}]; d != nil {
				d.delistedAt, d.reason, d.src, changed[d] = tables.Time(p.DelistedAt), tables.Text(p.Reason), src, true
			}
		case worklist.TaskApplied:
			a := &admissionRow{district: string(p.District), id: p.TaskID, department: p.Department, title: p.Title, basis: p.LegalBasis,
				status: "applied", funding: int64(p.Funding), appliedAt: p.AppliedAt, src: src}
			b.admissions[[2]string{a.district, a.id}], changed[a] = a, true
		case worklist.TaskDecided:
			if a := b.admissions[[2]string{string(p.District), p.TaskID}]; a != nil {
				a.status = "refused"
				if p.Admitted {
					a.status = "admitted"
				}
				a.reason, a.decidedAt, a.src, changed[a] = tables.Text(p.Reason), tables.Time(p.DecidedAt), src, true
			}
		case worklist.TaskReceived:
			allowed := true
			for _, br := range p.Breaches {
				allowed = allowed && br.Rule != rulebook.WorkAdmission
			}
			b.tasks.Row().Text(e.Community()).Text(p.RecordID).Text(p.Department).Text(p.Title).NullText(tables.Text(p.DutyID)).
				NullText(tables.Text(p.TaskID)).Bool(allowed).Int8(int64(p.Funding)).Time(p.ReceivedAt).UUID(src.ID).Int8(src.Commit)
		}
	}
	for k, d := range b.duties {
		if !changed[d] {
			delete(b.duties, k)
		}
	}
	for k, a := range b.admissions {
		if !changed[a] {
			delete(b.admissions, k)
		}
	}
	return b, nil
}

func districtOf(p any) kernel.JurisdictionPath {
	switch p := p.(type) {
	case worklist.DutyListed:
		return p.District
	case worklist.DutyDelisted:
		return p.District
	case worklist.TaskApplied:
		return p.District
	case worklist.TaskDecided:
		return p.District
	}
	return ""
}

// writeWorklist queues the batch's upserts on w.
func writeWorklist(w *tables.Writer, b worklistBatch) {
	if b.streams == nil {
		return
	}
	duties, admissions, streams := dutiesTable.Rows(), admissionsTable.Rows(), worklistStreamsTable.Rows()
	for _, k := range slices.SortedFunc(maps.Keys(b.duties), compareKeys) {
		d := b.duties[k]
		duties.Row().Text(d.district).Text(d.id).Text(d.list).Text(d.title).Text(d.basis).Time(d.listedAt).NullTime(d.delistedAt).
			NullText(d.reason).UUID(d.src.ID).Int8(d.src.Commit)
	}
	for _, k := range slices.SortedFunc(maps.Keys(b.admissions), compareKeys) {
		a := b.admissions[k]
		admissions.Row().Text(a.district).Text(a.id).Text(a.department).Text(a.title).Text(a.basis).Int8(a.funding).Text(a.status).
			NullText(a.reason).Time(a.appliedAt).NullTime(a.decidedAt).UUID(a.src.ID).Int8(a.src.Commit)
	}
	for _, s := range slices.Sorted(maps.Keys(b.streams)) {
		streams.Row().Text(s).Int8(b.streams[s])
	}
	w.Upsert(duties)
	w.Upsert(admissions)
	w.Upsert(b.tasks)
	w.Upsert(streams)
}

func compareKeys(a, b [2]string) int {
	return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1]))
}

// Duty is a duty of a district's list.
type Duty struct {
	DutyID   string
	List     worklist.List
	Title    string
	Basis    string
	ListedAt time.Time
	// DelistedAt is set once it left the list, with the reason.
	DelistedAt *time.Time
	Reason     string
	EventID    eventlog.ID
	Commit     uint64
}

// Admission is a department's application and the district's decision.
type Admission struct {
	TaskID     string
	Department string
	Title      string
	LegalBasis string
	FundingFen int64
	Status     string // applied | admitted | refused
	Reason     string
	AppliedAt  time.Time
	DecidedAt  *time.Time
	EventID    eventlog.ID
	Commit     uint64
}

// CommunityTask is a task a community received, with what allowed it.
type CommunityTask struct {
	RecordID   string
	Department string
	Title      string
	DutyID     string
	TaskID     string
	Allowed    bool
	FundingFen int64
	ReceivedAt time.Time
	EventID    eventlog.ID
	Commit     uint64
}

func optTime(t pgtype.Timestamptz) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// WorkList returns a district's duties (performs first, then by id) and its admission decisions (latest
// application first).
func WorkList(ctx context.Context, q Querier, district string) ([]Duty, []Admission, error) {
	duties, err := tables.Collect(ctx, q, "directory", "duties of "+district, `SELECT duty_id, list, title, basis, listed_at, delisted_at,
		coalesce(delist_reason, ''), event_id, commit_pos FROM `+pgx.Identifier{Schema, "duties"}.Sanitize()+` WHERE district = $1
		ORDER BY list DESC, duty_id`, func(rs pgx.Rows) (Duty, error) {
		var d Duty
		var list string
		var del pgtype.Timestamptz
		var ev pgtype.UUID
		var pos int64
		err := rs.Scan(&d.DutyID, &list, &d.Title, &d.Basis, &d.ListedAt, &del, &d.Reason, &ev, &pos)
		d.List, d.ListedAt, d.DelistedAt, d.EventID, d.Commit = worklist.List(list), d.ListedAt.UTC(), optTime(del), ev.Bytes, uint64(pos)
		return d, err
	}, district)
	if err != nil {
		return nil, nil, err
	}
	admissions, err := tables.Collect(ctx, q, "directory", "admissions of "+district, `SELECT task_id, department, title, legal_basis, funding_fen,
		status, coalesce(reason, ''), applied_at, decided_at, event_id, commit_pos FROM `+pgx.Identifier{Schema, "task_admissions"}.Sanitize()+`
		WHERE district = $1 ORDER BY applied_at DESC, task_id`, func(rs pgx.Rows) (Admission, error) {
		var a Admission
		var dec pgtype.Timestamptz
		var ev pgtype.UUID
		var pos int64
		err := rs.Scan(&a.TaskID, &a.Department, &a.Title, &a.LegalBasis, &a.FundingFen, &a.Status, &a.Reason, &a.AppliedAt, &dec, &ev, &pos)
		a.AppliedAt, a.DecidedAt, a.EventID, a.Commit = a.AppliedAt.UTC(), optTime(dec), ev.Bytes, uint64(pos)
		return a, err
	}, district)
	return duties, admissions, err
}

// CommunityTasks returns the tasks a community received, the latest first, at most limit.
func CommunityTasks(ctx context.Context, q Querier, communityID string, limit int) ([]CommunityTask, error) {
	return tables.Collect(ctx, q, "directory", "tasks of "+communityID, `SELECT record_id, department, title, coalesce(duty_id, ''),
		coalesce(task_id, ''), allowed, funding_fen, received_at, event_id, commit_pos FROM `+pgx.Identifier{Schema, "community_tasks"}.Sanitize()+`
		WHERE community_id = $1 ORDER BY received_at DESC, record_id LIMIT $2`, func(rs pgx.Rows) (CommunityTask, error) {
		var c CommunityTask
		var ev pgtype.UUID
		var pos int64
		err := rs.Scan(&c.RecordID, &c.Department, &c.Title, &c.DutyID, &c.TaskID, &c.Allowed, &c.FundingFen, &c.ReceivedAt, &ev, &pos)
		c.ReceivedAt, c.EventID, c.Commit = c.ReceivedAt.UTC(), ev.Bytes, uint64(pos)
		return c, err
	}, communityID, limit)
}
