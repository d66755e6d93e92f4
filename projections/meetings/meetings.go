// Package meetings is the read model of meetings and deliberation (会议与议事协商) as the public sees them:
// the register of meetings (kind, time, status) with attendance counts (expected and present), every
// motion with its vote counts (for, against, abstain) and outcome, the resolutions adopted, whether
// minutes were kept (the document's hash and when), and every deliberation topic with the step of the
// five-step procedure it has reached and the channel it came through — never who raised it. It lives in
// schema rm_meetings.
package meetings

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/projections/internal/decode"
	"github.com/grassroots-ledger/ledger/projections/internal/tables"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// Name is the read model's permanent name; its tables live in schema rm_meetings.
const Name = "meetings"

// Schema is where the live tables are.
var Schema = runtime.SchemaOf(Name)

//go:embed migrations/*.sql
var migrations embed.FS

// Model is the meetings read model. Create it with New.
type Model struct{ decode.Model }

// New returns the meetings model, decoding with the domain's registry.
func New() *Model {
	return &Model{decode.NewModel(Name, migrations,
		meeting.Convened{}, meeting.AttendanceRecorded{},
		meeting.MotionTabled{}, meeting.VoteRecorded{}, meeting.ResolutionAdopted{}, meeting.MinutesRecorded{}, meeting.Closed{},
		meeting.TopicCollected{}, meeting.TopicScreened{}, meeting.TopicPlanDrafted{}, meeting.TopicNoticeGiven{},
		meeting.TopicDeliberationHeld{}, meeting.TopicResultDisclosed{}, meeting.TopicFeedbackRecorded{})}
}

// Tables are the model's tables as declared once for its writes and loads (checked against the
// migrations by the read-model contract, projections/internal/readmodeltest).
func (*Model) Tables() []*tables.Table {
	return []*tables.Table{meetingsTable, motionsTable, tabledTable, resolutionsTable, topicsTable, stepsTable}
}

// Poison implements runtime.ReadModel: Halt. Vote counts and resolutions are what authorise major
// spending (四议两公开) and a minutes record is what a watch rule asks for: a skipped vote, resolution or
// minutes event would show a meeting as having decided less, or kept no minutes, with nothing later to
// repair it. A stale but labelled register is better than a wrong one.
func (*Model) Poison() runtime.PoisonPolicy { return runtime.Halt }

// MeetingStatus is where a meeting stands.
type MeetingStatus string

const (
	Convened MeetingStatus = "convened" // took place, not yet closed
	Closed   MeetingStatus = "closed"   // ended; only minutes may follow
)

// TopicStatus is where a deliberation topic stands.
type TopicStatus string

const (
	Open        TopicStatus = "open"     // going through the steps
	NotAccepted TopicStatus = "rejected" // screened out (三议三不议)
	Done        TopicStatus = "closed"   // feedback recorded and the loop closed (办结)
)

// ---- state of a batch -----------------------------------------------------------------------------------

type key struct{ community, id string }

type motion struct {
	id, title, body         string
	tabledAt                time.Time
	tabledSrc               decode.Source
	votesFor, against, abst pgtype.Int4
	present                 pgtype.Int4
	outcome                 pgtype.Text
	votedAt                 pgtype.Timestamptz
	voteSrc                 decode.Source
	dirty                   bool
	loaded                  bool // read from the table: the whole row is known
}

type resolution struct {
	id, motion, kind, subject, body string
	ceiling                         int64
	at                              time.Time
	src                             decode.Source
}

type meetingRow struct {
	key
	jurisdiction, kind, title, basis string
	expected                         int
	present                          pgtype.Int4
	topic                            pgtype.Text
	status                           MeetingStatus
	heldAt                           time.Time
	convenedSrc                      decode.Source
	attendanceAt                     pgtype.Timestamptz
	attendanceSrc                    decode.Source
	minutes                          pgtype.Text
	minutesAt                        pgtype.Timestamptz
	minutesSrc                       decode.Source
	closedAt                         pgtype.Timestamptz
	closedSrc                        decode.Source
	stream                           string
	lastRev                          int64
	dirty, isNew                     bool // isNew: not in the table before this batch
}

// business is what a batch does to a meeting's motions and resolutions. They are rows of their own, keyed
// by their ids and written idempotently, so the events that add them leave the meeting's row alone.
type business struct {
	motions     map[string]*motion // loaded for the meetings whose motions the batch votes on, and tabled
	resolutions []resolution       // adopted in this batch
}

type topicRow struct {
	key
	jurisdiction, channel, summary string
	collectedAt                    time.Time
	step                           meeting.Step
	status                         TopicStatus
	stepAt                         time.Time
	stepSrc                        decode.Source
	accepted                       pgtype.Bool
	meeting, disclosure            pgtype.Text
	feedbackCount                  int
	stream                         string
	lastRev                        int64
	steps                          []topicStep // taken in this batch
	dirty, isNew                   bool        // isNew: not in the table before this batch
}

// topicStep is one step a topic took: one event.
type topicStep struct {
	rev                 int64
	step                meeting.Step
	at                  time.Time
	detail, sha         pgtype.Text
	accepted, closed    pgtype.Bool
	deliberationAt      pgtype.Timestamptz
	meeting, disclosure pgtype.Text
	src                 decode.Source
}

// idOf is the meeting or topic an event is about; topic reports which.
func idOf(p any) (id string, topic bool) {
	switch p := p.(type) {
	case meeting.Convened:
		return p.MeetingID, false
	case meeting.AttendanceRecorded:
		return p.MeetingID, false
	case meeting.MotionTabled:
		return p.MeetingID, false
	case meeting.VoteRecorded:
		return p.MeetingID, false
	case meeting.ResolutionAdopted:
		return p.MeetingID, false
	case meeting.MinutesRecorded:
		return p.MeetingID, false
	case meeting.Closed:
		return p.MeetingID, false
	case meeting.TopicCollected:
		return p.TopicID, true
	case meeting.TopicScreened:
		return p.TopicID, true
	case meeting.TopicPlanDrafted:
		return p.TopicID, true
	case meeting.TopicNoticeGiven:
		return p.TopicID, true
	case meeting.TopicDeliberationHeld:
		return p.TopicID, true
	case meeting.TopicResultDisclosed:
		return p.TopicID, true
	case meeting.TopicFeedbackRecorded:
		return p.TopicID, true
	}
	return "", false
}

// Apply implements runtime.ReadModel: one round trip loads the meetings and topics the batch touches (and
// the motions it votes on), the batch is folded in memory, one round trip writes every changed row with
// multi-row statements. Events at or below a meeting's or topic's last applied revision are skipped, so
// applying a batch twice changes nothing.
func (m *Model) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.Recorded) error {
	evs, err := m.Dec.Batch(batch)
	if err != nil || len(evs) == 0 {
		return err
	}
	var mkeys, tkeys, voting []key
	seenM, seenT, seenV := map[key]bool{}, map[key]bool{}, map[key]bool{}
	for _, e := range evs {
		if err := decode.RequireCommunity(e); err != nil {
			return err
		}
		id, topic := idOf(e.Payload)
		kind := "meeting"
		if topic {
			kind = "topic"
		}
		if err := decode.CheckStream(e, kind, id); err != nil {
			return err
		}
		var bad error
		switch p := e.Payload.(type) {
		case meeting.Convened:
			bad = decode.Int32s(e, p.Expected)
		case meeting.AttendanceRecorded:
			bad = decode.Int32s(e, p.Present)
		case meeting.VoteRecorded:
			bad = decode.Int32s(e, p.For, p.Against, p.Abstain, p.Present)
		}
		if bad != nil {
			return bad
		}
		k := key{e.Community(), id}
		switch {
		case topic && !seenT[k]:
			seenT[k] = true
			tkeys = append(tkeys, k)
		case !topic && !seenM[k] && touchesMeeting(e.Payload):
			seenM[k] = true
			mkeys = append(mkeys, k)
		}
		if _, ok := e.Payload.(meeting.VoteRecorded); ok && !seenV[k] {
			seenV[k] = true
			voting = append(voting, k)
		}
	}
	meetings, topics, agenda, err := load(ctx, tx, mkeys, tkeys, voting)
	if err != nil {
		return err
	}
	for _, e := range evs {
		id, topic := idOf(e.Payload)
		k := key{e.Community(), id}
		if topic {
			if err := applyTopic(topics, k, e); err != nil {
				return err
			}
			continue
		}
		if !touchesMeeting(e.Payload) {
			if err := applyBusiness(agenda, k, e); err != nil {
				return err
			}
			continue
		}
		r := meetings[k]
		if r != nil && e.Revision() <= r.lastRev {
			continue // already applied
		}
		if p, ok := e.Payload.(meeting.Convened); ok {
			if r != nil {
				return e.Poison(errors.New("the meeting was convened before"))
			}
			r = &meetingRow{key: k, jurisdiction: e.Rec.Meta.Jurisdiction, kind: string(p.Kind), title: p.Title, basis: string(p.Basis),
				expected: p.Expected, topic: tables.Text(p.TopicID), status: Convened, heldAt: p.HeldAt, convenedSrc: e.Source(), isNew: true}
			meetings[k] = r
		} else if r == nil {
			return e.Poison(errors.New("the meetings model never saw the meeting convened"))
		}
		r.stream, r.lastRev, r.dirty = e.Rec.Stream, e.Revision(), true
		switch p := e.Payload.(type) {
		case meeting.AttendanceRecorded:
			r.present, r.attendanceAt, r.attendanceSrc = tables.Int(p.Present, true), tables.Time(p.RecordedAt), e.Source()
		case meeting.MinutesRecorded:
			r.minutes, r.minutesAt, r.minutesSrc = tables.Text(p.DocumentSHA256), tables.Time(p.RecordedAt), e.Source()
		case meeting.Closed:
			r.status, r.closedAt, r.closedSrc = Closed, tables.Time(p.ClosedAt), e.Source()
		}
	}
	return write(ctx, tx, meetings, topics, agenda)
}

// touchesMeeting reports whether an event of a meeting's stream changes the meeting's own row.
func touchesMeeting(p any) bool {
	switch p.(type) {
	case meeting.MotionTabled, meeting.VoteRecorded, meeting.ResolutionAdopted:
		return false
	}
	return true
}

// applyBusiness folds a motion, vote or resolution. Each is idempotent by its key: a motion tabled again
// changes nothing, a vote sets the same counts, a resolution is inserted once.
func applyBusiness(agenda map[key]*business, k key, e decode.Event) error {
	b := agenda[k]
	if b == nil {
		b = &business{motions: map[string]*motion{}}
		agenda[k] = b
	}
	switch p := e.Payload.(type) {
	case meeting.MotionTabled:
		if b.motions[p.MotionID] != nil {
			return nil // already tabled
		}
		b.motions[p.MotionID] = &motion{id: p.MotionID, title: p.Title, body: p.Text, tabledAt: p.TabledAt, tabledSrc: e.Source(), dirty: true}
	case meeting.VoteRecorded:
		mo := b.motions[p.MotionID]
		if mo == nil {
			return e.Poison(fmt.Errorf("the meetings model never saw motion %q tabled", p.MotionID))
		}
		mo.votesFor, mo.against, mo.abst = tables.Int(p.For, true), tables.Int(p.Against, true), tables.Int(p.Abstain, true)
		mo.present, mo.outcome, mo.votedAt, mo.voteSrc, mo.dirty = tables.Int(p.Present, true), tables.Text(string(p.Outcome)), tables.Time(p.RecordedAt), e.Source(), true
	case meeting.ResolutionAdopted:
		b.resolutions = append(b.resolutions, resolution{id: p.ResolutionID, motion: p.MotionID, kind: string(p.MeetingKind),
			subject: string(p.Subject), body: p.Text, ceiling: int64(p.Ceiling), at: p.AdoptedAt, src: e.Source()})
	}
	return nil
}

func applyTopic(topics map[key]*topicRow, k key, e decode.Event) error {
	t := topics[k]
	if t != nil && e.Revision() <= t.lastRev {
		return nil // already applied
	}
	if p, ok := e.Payload.(meeting.TopicCollected); ok {
		if t != nil {
			return e.Poison(errors.New("the topic was collected before"))
		}
		// p.Raiser (personal data) is deliberately dropped.
		t = &topicRow{key: k, jurisdiction: e.Rec.Meta.Jurisdiction, channel: string(p.Channel), summary: p.Summary, status: Open,
			collectedAt: p.CollectedAt, isNew: true}
		topics[k] = t
	} else if t == nil {
		return e.Poison(errors.New("the meetings model never saw the topic collected"))
	}
	st := topicStep{rev: e.Revision(), src: e.Source()}
	switch p := e.Payload.(type) {
	case meeting.TopicCollected:
		st.step, st.at, st.detail = meeting.StepCollected, p.CollectedAt, tables.Text(p.Summary)
	case meeting.TopicScreened:
		st.step, st.at, st.detail, st.accepted = meeting.StepScreened, p.ScreenedAt, tables.Text(p.Reason), tables.Bool(p.Accepted, true)
		t.accepted = st.accepted
		if !p.Accepted {
			t.status = NotAccepted
		}
	case meeting.TopicPlanDrafted:
		st.step, st.at, st.detail, st.sha = meeting.StepPlanDrafted, p.DraftedAt, tables.Text(p.Plan), tables.Text(p.PlanSHA256)
	case meeting.TopicNoticeGiven:
		st.step, st.at, st.detail, st.deliberationAt = meeting.StepNoticeGiven, p.GivenAt, tables.Text(p.Notice), tables.Time(p.DeliberationAt)
	case meeting.TopicDeliberationHeld:
		st.step, st.at, st.detail, st.meeting = meeting.StepDeliberationHeld, p.HeldAt, tables.Text(p.Outcome), tables.Text(p.MeetingID)
		t.meeting = st.meeting
	case meeting.TopicResultDisclosed:
		st.step, st.at, st.disclosure = meeting.StepResultDisclosed, p.DisclosedAt, tables.Text(p.DisclosureID)
		t.disclosure = st.disclosure
	case meeting.TopicFeedbackRecorded:
		st.step, st.at, st.detail, st.closed = meeting.StepFeedbackRecorded, p.RecordedAt, tables.Text(p.Feedback), tables.Bool(p.Closed, true)
		t.feedbackCount++
		if p.Closed {
			t.status = Done
		}
	}
	t.stream, t.lastRev, t.dirty = e.Rec.Stream, e.Revision(), true
	t.step, t.stepAt, t.stepSrc = st.step, st.at, st.src
	t.steps = append(t.steps, st)
	return nil
}

func split(keys []key) (cs, ids []string) {
	cs, ids = make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		cs[i], ids[i] = k.community, k.id
	}
	return cs, ids
}

func load(ctx context.Context, tx pgx.Tx, mkeys, tkeys, voting []key) (map[key]*meetingRow, map[key]*topicRow, map[key]*business, error) {
	meetings := make(map[key]*meetingRow, len(mkeys))
	topics := make(map[key]*topicRow, len(tkeys))
	agenda := make(map[key]*business, len(voting))
	b := &pgx.Batch{}
	if len(mkeys) > 0 {
		cs, ids := split(mkeys)
		meetingsTable.QueueLoad(b, func(rs pgx.Rows) error {
			r := &meetingRow{}
			var status string
			var aEv, mEv, cEv pgtype.UUID
			var aPos, mPos, cPos pgtype.Int8
			if err := rs.Scan(&r.community, &r.id, &r.jurisdiction, &r.kind, &r.title, &r.basis, &r.expected, &r.present, &r.topic,
				&status, &r.heldAt, &r.convenedSrc.ID, &r.convenedSrc.Commit, &r.attendanceAt, &aEv, &aPos, &r.minutes,
				&r.minutesAt, &mEv, &mPos, &r.closedAt, &cEv, &cPos, &r.stream, &r.lastRev); err != nil {
				return err
			}
			r.status = MeetingStatus(status)
			r.attendanceSrc, r.minutesSrc, r.closedSrc = decode.SourceOf(aEv, aPos), decode.SourceOf(mEv, mPos), decode.SourceOf(cEv, cPos)
			meetings[r.key] = r
			return nil
		}, cs, ids)
	}
	if len(voting) > 0 {
		cs, ids := split(voting)
		motionsTable.QueueLoad(b, func(rs pgx.Rows) error {
			var k key
			mo := &motion{loaded: true}
			var vEv pgtype.UUID
			var vPos pgtype.Int8
			if err := rs.Scan(&k.community, &k.id, &mo.id, &mo.title, &mo.body, &mo.tabledAt, &mo.tabledSrc.ID, &mo.tabledSrc.Commit,
				&mo.votesFor, &mo.against, &mo.abst, &mo.present, &mo.outcome, &mo.votedAt, &vEv, &vPos); err != nil {
				return err
			}
			mo.voteSrc = decode.SourceOf(vEv, vPos)
			b := agenda[k]
			if b == nil {
				b = &business{motions: map[string]*motion{}}
				agenda[k] = b
			}
			b.motions[mo.id] = mo
			return nil
		}, cs, ids)
	}
	if len(tkeys) > 0 {
		cs, ids := split(tkeys)
		topicsTable.QueueLoad(b, func(rs pgx.Rows) error {
			t := &topicRow{}
			var step int16
			var stepName, status string // the step's name follows from step
			if err := rs.Scan(&t.community, &t.id, &t.jurisdiction, &t.channel, &t.summary, &t.collectedAt, &step, &stepName, &status, &t.stepAt,
				&t.stepSrc.ID, &t.stepSrc.Commit, &t.accepted, &t.meeting, &t.disclosure, &t.feedbackCount, &t.stream, &t.lastRev); err != nil {
				return err
			}
			t.step, t.status = meeting.Step(step), TopicStatus(status)
			topics[t.key] = t
			return nil
		}, cs, ids)
	}
	if b.Len() == 0 {
		return meetings, topics, agenda, nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, nil, nil, fmt.Errorf("meetings: load %d meetings and %d topics: %w", len(mkeys), len(tkeys), err)
	}
	return meetings, topics, agenda, nil
}

func sortKeys(keys []key) {
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(strings.Compare(a.community, b.community), strings.Compare(a.id, b.id))
	})
}

var motionColumns = []string{"community_id text", "meeting_id text", "motion_id text", "title text", "body text",
	"tabled_at timestamptz", "tabled_event_id uuid", "tabled_commit_pos int8", "votes_for int4", "votes_against int4",
	"votes_abstain int4", "present int4", "outcome text", "voted_at timestamptz", "vote_event_id uuid", "vote_commit_pos int8"}

var (
	meetingsTable = tables.New("meetings", []string{"community_id", "meeting_id"}, "",
		"community_id text", "meeting_id text", "jurisdiction text", "kind text", "title text", "basis text", "expected int4",
		"present int4", "topic_id text", "status text", "held_at timestamptz", "convened_event_id uuid", "convened_commit_pos int8",
		"attendance_at timestamptz", "attendance_event_id uuid", "attendance_commit_pos int8", "minutes_sha256 text",
		"minutes_recorded_at timestamptz", "minutes_event_id uuid", "minutes_commit_pos int8",
		"closed_at timestamptz", "closed_event_id uuid", "closed_commit_pos int8", "stream text", "last_revision int8")
	motionsTable = tables.New("motions", []string{"community_id", "meeting_id", "motion_id"}, "",
		motionColumns...)
	// A motion tabled in the batch may be in the table already (the batch is applied again): what it has
	// stays, and a vote of the batch is added.
	tabledTable = tables.New("motions", []string{"community_id", "meeting_id", "motion_id"},
		`votes_for = coalesce(excluded.votes_for, t.votes_for), votes_against = coalesce(excluded.votes_against, t.votes_against),
		votes_abstain = coalesce(excluded.votes_abstain, t.votes_abstain), present = coalesce(excluded.present, t.present),
		outcome = coalesce(excluded.outcome, t.outcome), voted_at = coalesce(excluded.voted_at, t.voted_at),
		vote_event_id = coalesce(excluded.vote_event_id, t.vote_event_id), vote_commit_pos = coalesce(excluded.vote_commit_pos, t.vote_commit_pos)`,
		motionColumns...)
	resolutionsTable = tables.New("resolutions", []string{"community_id", "meeting_id", "resolution_id"}, "nothing",
		"community_id text", "meeting_id text", "resolution_id text", "motion_id text", "meeting_kind text", "subject text",
		"ceiling_fen int8", "body text", "adopted_at timestamptz", "event_id uuid", "commit_pos int8")
	topicsTable = tables.New("topics", []string{"community_id", "topic_id"}, "",
		"community_id text", "topic_id text", "jurisdiction text", "channel text", "summary text", "collected_at timestamptz",
		"step int2", "step_name text", "status text", "step_at timestamptz", "step_event_id uuid", "step_commit_pos int8",
		"accepted bool", "meeting_id text", "disclosure_id text", "feedback_count int4", "stream text", "last_revision int8")
	stepsTable = tables.New("topic_steps", []string{"community_id", "topic_id", "revision"}, "nothing",
		"community_id text", "topic_id text", "revision int8", "step int2", "step_name text", "at timestamptz", "detail text",
		"accepted bool", "document_sha256 text", "deliberation_at timestamptz", "meeting_id text", "disclosure_id text",
		"closed bool", "event_id uuid", "commit_pos int8")
)

// write upserts the changed meetings and topics that exist, the motions and the resolutions in one round
// trip, then copies the new meetings and topics and the topics' steps in.
func write(ctx context.Context, tx pgx.Tx, meetings map[key]*meetingRow, topics map[key]*topicRow, agenda map[key]*business) error {
	var mk, tk, ak []key
	for k, r := range meetings {
		if r.dirty {
			mk = append(mk, k)
		}
	}
	for k, t := range topics {
		if t.dirty {
			tk = append(tk, k)
		}
	}
	for k := range agenda {
		ak = append(ak, k)
	}
	sortKeys(mk)
	sortKeys(tk)
	sortKeys(ak)
	freshM, changedM := meetingsTable.Rows(), meetingsTable.Rows()
	for _, k := range mk {
		r := meetings[k]
		to := changedM
		if r.isNew {
			to = freshM
		}
		to.Row().Text(k.community).Text(k.id).Text(r.jurisdiction).Text(r.kind).Text(r.title).Text(r.basis).Int4(int32(r.expected)).
			NullInt4(r.present).NullText(r.topic).Text(string(r.status)).Time(r.heldAt).UUID(r.convenedSrc.ID).Int8(r.convenedSrc.Commit).
			NullTime(r.attendanceAt).UUID(r.attendanceSrc.ID).NullInt8(r.attendanceSrc.Pos()).NullText(r.minutes).NullTime(r.minutesAt).
			UUID(r.minutesSrc.ID).NullInt8(r.minutesSrc.Pos()).NullTime(r.closedAt).UUID(r.closedSrc.ID).NullInt8(r.closedSrc.Pos()).
			Text(r.stream).Int8(r.lastRev)
	}
	voted, tabled, resolutions := motionsTable.Rows(), tabledTable.Rows(), resolutionsTable.Rows()
	for _, k := range ak {
		b := agenda[k]
		ids := make([]string, 0, len(b.motions))
		for id, x := range b.motions {
			if x.dirty {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		for _, id := range ids {
			x := b.motions[id]
			to := tabled
			if x.loaded {
				to = voted
			}
			to.Row().Text(k.community).Text(k.id).Text(id).Text(x.title).Text(x.body).Time(x.tabledAt).UUID(x.tabledSrc.ID).
				Int8(x.tabledSrc.Commit).NullInt4(x.votesFor).NullInt4(x.against).NullInt4(x.abst).NullInt4(x.present).
				NullText(x.outcome).NullTime(x.votedAt).UUID(x.voteSrc.ID).NullInt8(x.voteSrc.Pos())
		}
		for _, x := range b.resolutions {
			resolutions.Row().Text(k.community).Text(k.id).Text(x.id).Text(x.motion).Text(x.kind).Text(x.subject).Int8(x.ceiling).
				Text(x.body).Time(x.at).UUID(x.src.ID).Int8(x.src.Commit)
		}
	}
	freshT, changedT, steps := topicsTable.Rows(), topicsTable.Rows(), stepsTable.Rows()
	for _, k := range tk {
		r := topics[k]
		to := changedT
		if r.isNew {
			to = freshT
		}
		to.Row().Text(k.community).Text(k.id).Text(r.jurisdiction).Text(r.channel).Text(r.summary).Time(r.collectedAt).
			Int2(int16(r.step)).Text(r.step.String()).Text(string(r.status)).Time(r.stepAt).UUID(r.stepSrc.ID).Int8(r.stepSrc.Commit).
			NullBool(r.accepted).NullText(r.meeting).NullText(r.disclosure).Int4(int32(r.feedbackCount)).Text(r.stream).Int8(r.lastRev)
		for _, x := range r.steps {
			steps.Row().Text(k.community).Text(k.id).Int8(x.rev).Int2(int16(x.step)).Text(x.step.String()).Time(x.at).NullText(x.detail).
				NullBool(x.accepted).NullText(x.sha).NullTime(x.deliberationAt).NullText(x.meeting).NullText(x.disclosure).
				NullBool(x.closed).UUID(x.src.ID).Int8(x.src.Commit)
		}
	}
	var w tables.Writer
	w.Upsert(changedM)
	w.Upsert(tabled)
	w.Upsert(voted)
	w.Upsert(resolutions)
	w.Upsert(changedT)
	w.Copy(freshM)
	w.Copy(freshT)
	w.Copy(steps) // one row per event above the topic's last revision: always new
	if err := w.Flush(ctx, tx); err != nil {
		return fmt.Errorf("meetings: %w", err)
	}
	return nil
}
