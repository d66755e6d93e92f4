package meetings

import (
	"context"
	"errors"
	"fmt"
	"github.com/grassroots-ledger/ledger/domain/assessment"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/projections/internal/tables"
)

// Querier is a pool, connection or transaction (the portal's read-only pool).
type Querier = tables.Querier

// ErrNotFound means the model has no such meeting or topic: the portal answers 404.
var ErrNotFound = errors.New("meetings: not found")

// Step is when something happened and the event that recorded it, with its $all commit position.
type Step = tables.Step

// Meeting is one entry of the register of meetings.
type Meeting struct {
	CommunityID  string
	MeetingID    string
	Jurisdiction string
	Kind         meeting.Kind
	Title        string
	// Basis says what Expected and Present count (adults, households, members, invitees).
	Basis    meeting.Basis
	Expected int
	// Present is the last attendance recorded (nil before any); Attendance its event.
	Present    *int
	Attendance *Step
	TopicID    string
	Status     MeetingStatus
	// Convened is when the meeting was held and the event that recorded it.
	Convened    Step
	Motions     int
	Resolutions int
	// MinutesSHA256 is the hash of the minutes document ("" while none); Minutes the event.
	MinutesSHA256 string
	Minutes       *Step
	Closed        *Step
}

// Motion is a motion and the vote on it.
type Motion struct {
	MotionID string
	Title    string
	Text     string
	Tabled   Step
	// Vote is nil until the motion is voted on.
	Vote *Vote
}

// Vote is the vote on a motion, with the attendance it was counted against.
type Vote struct {
	For, Against, Abstain, Present int
	Outcome                        meeting.Outcome
	Step
}

// Resolution is a resolution adopted on a passed motion.
type Resolution struct {
	CommunityID  string
	MeetingID    string
	ResolutionID string
	MotionID     string
	MeetingKind  meeting.Kind
	Subject      meeting.Subject
	Ceiling      kernel.Fen
	Text         string
	Adopted      Step
}

// Record is one meeting with its motions (in the order tabled) and resolutions.
type Record struct {
	Meeting     Meeting
	Motions     []Motion
	Resolutions []Resolution
}

const meetingColumns = `x.community_id, x.meeting_id, x.jurisdiction, x.kind, x.title, x.basis, x.expected, x.present,
	coalesce(x.topic_id, ''), x.status, x.held_at, x.convened_event_id, x.convened_commit_pos, x.attendance_at, x.attendance_event_id,
	x.attendance_commit_pos, (SELECT count(*) FROM %[1]s m WHERE m.community_id = x.community_id AND m.meeting_id = x.meeting_id),
	(SELECT count(*) FROM %[2]s r WHERE r.community_id = x.community_id AND r.meeting_id = x.meeting_id),
	coalesce(x.minutes_sha256, ''), x.minutes_recorded_at, x.minutes_event_id, x.minutes_commit_pos, x.closed_at, x.closed_event_id,
	x.closed_commit_pos`

func scanMeeting(rows pgx.Rows) (Meeting, error) {
	var m Meeting
	var kind, basis, status string
	var present pgtype.Int4
	var cvEv, aEv, mEv, clEv pgtype.UUID
	var cvPos int64
	var aPos, mPos, clPos pgtype.Int8
	var aAt, mAt, clAt pgtype.Timestamptz
	if err := rows.Scan(&m.CommunityID, &m.MeetingID, &m.Jurisdiction, &kind, &m.Title, &basis, &m.Expected, &present, &m.TopicID,
		&status, &m.Convened.At, &cvEv, &cvPos, &aAt, &aEv, &aPos, &m.Motions, &m.Resolutions, &m.MinutesSHA256, &mAt, &mEv, &mPos,
		&clAt, &clEv, &clPos); err != nil {
		return Meeting{}, err
	}
	m.Kind, m.Basis, m.Status = meeting.Kind(kind), meeting.Basis(basis), MeetingStatus(status)
	if present.Valid {
		p := int(present.Int32)
		m.Present = &p
	}
	m.Convened.At, m.Convened.EventID, m.Convened.Commit = m.Convened.At.UTC(), cvEv.Bytes, uint64(cvPos)
	m.Attendance, m.Minutes, m.Closed = tables.StepOf(aAt, aEv, aPos), tables.StepOf(mAt, mEv, mPos), tables.StepOf(clAt, clEv, clPos)
	return m, nil
}

func queryMeetings(ctx context.Context, q Querier, what, where string, args ...any) ([]Meeting, error) {
	cols := fmt.Sprintf(meetingColumns, pgx.Identifier{Schema, "motions"}.Sanitize(), pgx.Identifier{Schema, "resolutions"}.Sanitize())
	rows, err := q.Query(ctx, `SELECT `+cols+` FROM `+pgx.Identifier{Schema, "meetings"}.Sanitize()+` x WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("meetings: %s: %w", what, err)
	}
	defer rows.Close()
	var out []Meeting
	for rows.Next() {
		m, err := scanMeeting(rows)
		if err != nil {
			return nil, fmt.Errorf("meetings: %s: %w", what, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meetings: %s: %w", what, err)
	}
	return out, nil
}

// Register returns a community's meetings, the latest held first; limit is the most returned (default
// 100, at most 1000).
func Register(ctx context.Context, q Querier, communityID string, limit int) ([]Meeting, error) {
	return queryMeetings(ctx, q, "register of "+communityID, `x.community_id = $1 ORDER BY x.held_at DESC, x.meeting_id LIMIT $2`,
		communityID, tables.Limit(limit, 100, 1000))
}

// MeetingRecord returns one meeting with its motions and resolutions; ErrNotFound when the model has no
// such meeting.
func MeetingRecord(ctx context.Context, q Querier, communityID, meetingID string) (Record, error) {
	ms, err := queryMeetings(ctx, q, "meeting "+meetingID, `x.community_id = $1 AND x.meeting_id = $2`, communityID, meetingID)
	if err != nil {
		return Record{}, err
	}
	if len(ms) == 0 {
		return Record{}, fmt.Errorf("meeting %s of %s: %w", meetingID, communityID, ErrNotFound)
	}
	r := Record{Meeting: ms[0]}
	rows, err := q.Query(ctx, `SELECT motion_id, title, body, tabled_at, tabled_event_id, tabled_commit_pos, votes_for, votes_against,
		votes_abstain, present, outcome, voted_at, vote_event_id, vote_commit_pos
		FROM `+pgx.Identifier{Schema, "motions"}.Sanitize()+` WHERE community_id = $1 AND meeting_id = $2
		ORDER BY tabled_commit_pos, motion_id`, communityID, meetingID)
	if err != nil {
		return Record{}, fmt.Errorf("meetings: motions of %s: %w", meetingID, err)
	}
	for rows.Next() {
		var mo Motion
		var tEv, vEv pgtype.UUID
		var tPos int64
		var vPos pgtype.Int8
		var vFor, vAgainst, vAbst, present pgtype.Int4
		var outcome pgtype.Text
		var votedAt pgtype.Timestamptz
		if err := rows.Scan(&mo.MotionID, &mo.Title, &mo.Text, &mo.Tabled.At, &tEv, &tPos, &vFor, &vAgainst, &vAbst, &present, &outcome,
			&votedAt, &vEv, &vPos); err != nil {
			rows.Close()
			return Record{}, fmt.Errorf("meetings: motions of %s: %w", meetingID, err)
		}
		mo.Tabled.At, mo.Tabled.EventID, mo.Tabled.Commit = mo.Tabled.At.UTC(), tEv.Bytes, uint64(tPos)
		if s := tables.StepOf(votedAt, vEv, vPos); s != nil {
			mo.Vote = &Vote{For: int(vFor.Int32), Against: int(vAgainst.Int32), Abstain: int(vAbst.Int32), Present: int(present.Int32),
				Outcome: meeting.Outcome(outcome.String), Step: *s}
		}
		r.Motions = append(r.Motions, mo)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Record{}, fmt.Errorf("meetings: motions of %s: %w", meetingID, err)
	}
	r.Resolutions, err = queryResolutions(ctx, q, "resolutions of "+meetingID,
		`community_id = $1 AND meeting_id = $2 ORDER BY commit_pos`, communityID, meetingID)
	if err != nil {
		return Record{}, err
	}
	return r, nil
}

// Resolutions returns a community's resolutions, the latest adopted first; limit is the most returned
// (default 100, at most 1000).
func Resolutions(ctx context.Context, q Querier, communityID string, limit int) ([]Resolution, error) {
	return queryResolutions(ctx, q, "resolutions of "+communityID,
		`community_id = $1 ORDER BY adopted_at DESC, meeting_id, resolution_id LIMIT $2`, communityID, tables.Limit(limit, 100, 1000))
}

func queryResolutions(ctx context.Context, q Querier, what, where string, args ...any) ([]Resolution, error) {
	rows, err := q.Query(ctx, `SELECT community_id, meeting_id, resolution_id, motion_id, meeting_kind, subject, ceiling_fen, body,
		adopted_at, event_id, commit_pos FROM `+pgx.Identifier{Schema, "resolutions"}.Sanitize()+` WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("meetings: %s: %w", what, err)
	}
	defer rows.Close()
	var out []Resolution
	for rows.Next() {
		var r Resolution
		var kind, subject string
		var ceiling, pos int64
		var ev pgtype.UUID
		if err := rows.Scan(&r.CommunityID, &r.MeetingID, &r.ResolutionID, &r.MotionID, &kind, &subject, &ceiling, &r.Text,
			&r.Adopted.At, &ev, &pos); err != nil {
			return nil, fmt.Errorf("meetings: %s: %w", what, err)
		}
		r.MeetingKind, r.Subject, r.Ceiling = meeting.Kind(kind), meeting.Subject(subject), kernel.Fen(ceiling)
		r.Adopted.At, r.Adopted.EventID, r.Adopted.Commit = r.Adopted.At.UTC(), ev.Bytes, uint64(pos)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meetings: %s: %w", what, err)
	}
	return out, nil
}

// Topic is a deliberation topic and the step of the five-step procedure it has reached (五步议事).
type Topic struct {
	CommunityID string
	TopicID     string
	Channel     meeting.Channel
	Summary     string
	CollectedAt time.Time
	// Step is the last step taken (meeting.StepCollected … meeting.StepFeedbackRecorded); StepName its
	// Chinese name; Current when and by which event it was taken.
	Step     meeting.Step
	StepName string
	Current  Step
	Status   TopicStatus
	// Accepted is the screening's decision (false also before screening); MeetingID the deliberation
	// meeting and DisclosureID the notice of the outcome, "" until those steps.
	Accepted      bool
	MeetingID     string
	DisclosureID  string
	FeedbackCount int
}

// TopicStep is one step a topic took, with what it recorded.
type TopicStep struct {
	Step     meeting.Step
	StepName string
	// Detail is the step's text: the summary collected, the screening's reason, the plan, the notice, the
	// outcome agreed or the feedback.
	Detail         string
	Accepted       bool      // screened: whether it goes on
	DocumentSHA256 string    // plan drafted: the plan document, if any
	DeliberationAt time.Time // notice given: when the deliberation will be
	MeetingID      string    // deliberation held
	DisclosureID   string    // result disclosed
	Closed         bool      // feedback recorded: whether it closed the loop
	// Taken is when the step was taken and the event that recorded it.
	Taken Step
}

// TopicRecord is a topic with every step it took, oldest first.
type TopicRecord struct {
	Topic Topic
	Steps []TopicStep
}

const topicColumns = `community_id, topic_id, channel, summary, collected_at, step, step_name, step_at, step_event_id, step_commit_pos,
	status, coalesce(accepted, false), coalesce(meeting_id, ''), coalesce(disclosure_id, ''), feedback_count`

func queryTopics(ctx context.Context, q Querier, what, where string, args ...any) ([]Topic, error) {
	rows, err := q.Query(ctx, `SELECT `+topicColumns+` FROM `+pgx.Identifier{Schema, "topics"}.Sanitize()+` WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("meetings: %s: %w", what, err)
	}
	defer rows.Close()
	var out []Topic
	for rows.Next() {
		var t Topic
		var channel, status string
		var step int16
		var ev pgtype.UUID
		var pos int64
		if err := rows.Scan(&t.CommunityID, &t.TopicID, &channel, &t.Summary, &t.CollectedAt, &step, &t.StepName, &t.Current.At, &ev, &pos,
			&status, &t.Accepted, &t.MeetingID, &t.DisclosureID, &t.FeedbackCount); err != nil {
			return nil, fmt.Errorf("meetings: %s: %w", what, err)
		}
		t.Channel, t.Step, t.Status = meeting.Channel(channel), meeting.Step(step), TopicStatus(status)
		t.CollectedAt, t.Current.At, t.Current.EventID, t.Current.Commit = t.CollectedAt.UTC(), t.Current.At.UTC(), ev.Bytes, uint64(pos)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("meetings: %s: %w", what, err)
	}
	return out, nil
}

// Topics returns a community's deliberation topics, the latest collected first; limit is the most
// returned (default 100, at most 1000).
func Topics(ctx context.Context, q Querier, communityID string, limit int) ([]Topic, error) {
	return queryTopics(ctx, q, "topics of "+communityID, `community_id = $1 ORDER BY collected_at DESC, topic_id LIMIT $2`,
		communityID, tables.Limit(limit, 100, 1000))
}

// TopicByID finds a topic by its id anywhere — a resident's receipt code (回执号) — with every step it
// took; ErrNotFound when there is none.
func TopicByID(ctx context.Context, q Querier, topicID string) (TopicRecord, error) {
	ts, err := queryTopics(ctx, q, "topic "+topicID, `topic_id = $1 ORDER BY collected_at LIMIT 1`, topicID)
	if err != nil {
		return TopicRecord{}, err
	}
	if len(ts) == 0 {
		return TopicRecord{}, fmt.Errorf("topic %s: %w", topicID, ErrNotFound)
	}
	return TopicHistory(ctx, q, ts[0].CommunityID, topicID)
}

// TopicHistory returns a topic with every step it took, oldest first; ErrNotFound when the model has
// no such topic.
func TopicHistory(ctx context.Context, q Querier, communityID, topicID string) (TopicRecord, error) {
	ts, err := queryTopics(ctx, q, "topic "+topicID, `community_id = $1 AND topic_id = $2`, communityID, topicID)
	if err != nil {
		return TopicRecord{}, err
	}
	if len(ts) == 0 {
		return TopicRecord{}, fmt.Errorf("topic %s of %s: %w", topicID, communityID, ErrNotFound)
	}
	rec := TopicRecord{Topic: ts[0]}
	rows, err := q.Query(ctx, `SELECT step, step_name, at, coalesce(detail, ''), coalesce(accepted, false), coalesce(document_sha256, ''),
		deliberation_at, coalesce(meeting_id, ''), coalesce(disclosure_id, ''), coalesce(closed, false), event_id, commit_pos
		FROM `+pgx.Identifier{Schema, "topic_steps"}.Sanitize()+` WHERE community_id = $1 AND topic_id = $2 ORDER BY revision`,
		communityID, topicID)
	if err != nil {
		return TopicRecord{}, fmt.Errorf("meetings: steps of %s: %w", topicID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var st TopicStep
		var step int16
		var delib pgtype.Timestamptz
		var ev pgtype.UUID
		var pos int64
		if err := rows.Scan(&step, &st.StepName, &st.Taken.At, &st.Detail, &st.Accepted, &st.DocumentSHA256, &delib, &st.MeetingID,
			&st.DisclosureID, &st.Closed, &ev, &pos); err != nil {
			return TopicRecord{}, fmt.Errorf("meetings: steps of %s: %w", topicID, err)
		}
		st.Step, st.DeliberationAt = meeting.Step(step), tables.At(delib)
		st.Taken.At, st.Taken.EventID, st.Taken.Commit = st.Taken.At.UTC(), ev.Bytes, uint64(pos)
		rec.Steps = append(rec.Steps, st)
	}
	if err := rows.Err(); err != nil {
		return TopicRecord{}, fmt.Errorf("meetings: steps of %s: %w", topicID, err)
	}
	return rec, nil
}

// MeetingsFingerprintSQL and TopicsFingerprintSQL are text expressions that change whenever the meetings
// (votes and resolutions included), or the deliberation topics, of community $1 change.
var (
	MeetingsFingerprintSQL = tables.ChangeMark(Schema, "meetings")
	TopicsFingerprintSQL   = tables.ChangeMark(Schema, "topics")
)

// Named is a meeting or a resolution as a sentence names it: its title (a resolution's is its motion's)
// and the meeting it belongs to.
type Named struct {
	Title     string
	MeetingID string
}

// Names looks up, among a community's meetings and resolutions, the ids given: so that an alert or a
// payment row can say 会议“…” and 决议“…” instead of an id.
func Names(ctx context.Context, q Querier, communityID string, ids []string) (meetings, resolutions map[string]Named, err error) {
	type row struct {
		kind, id string
		n        Named
	}
	rows, err := tables.Collect(ctx, q, "meetings", "names in "+communityID, `SELECT 'm', meeting_id, title, meeting_id
			FROM `+pgx.Identifier{Schema, "meetings"}.Sanitize()+` WHERE community_id = $1 AND meeting_id = ANY($2)
		UNION ALL SELECT 'r', r.resolution_id, m.title, r.meeting_id
			FROM `+pgx.Identifier{Schema, "resolutions"}.Sanitize()+` r JOIN `+pgx.Identifier{Schema, "motions"}.Sanitize()+` m
			USING (community_id, meeting_id, motion_id) WHERE r.community_id = $1 AND r.resolution_id = ANY($2)`,
		func(rs pgx.Rows) (row, error) {
			var r row
			err := rs.Scan(&r.kind, &r.id, &r.n.Title, &r.n.MeetingID)
			return r, err
		}, communityID, ids)
	if err != nil {
		return nil, nil, err
	}
	meetings, resolutions = map[string]Named{}, map[string]Named{}
	for _, r := range rows {
		if r.kind == "m" {
			meetings[r.id] = r.n
		} else {
			resolutions[r.id] = r.n
		}
	}
	return meetings, resolutions, nil
}

// NamesDocument reports whether a meeting's minutes or a topic's step names the document with this
// SHA-256: the portal then may serve it.
func NamesDocument(ctx context.Context, q Querier, sha string) (bool, error) {
	ok, err := tables.Collect(ctx, q, "meetings", "records naming "+sha, `SELECT EXISTS (SELECT 1 FROM `+pgx.Identifier{Schema, "meetings"}.Sanitize()+` WHERE minutes_sha256 = $1)
		OR EXISTS (SELECT 1 FROM `+pgx.Identifier{Schema, "topic_steps"}.Sanitize()+` WHERE document_sha256 = $1)`, tables.One[bool], sha)
	return len(ok) == 1 && ok[0], err
}

// AssessmentFacts returns a community's meetings held in [from, to) with their attendance recorded (the
// measure meetings) and its deliberation topics closed in [from, to) within `within` of their collection
// (topics-closed), as assessment facts.
func AssessmentFacts(ctx context.Context, q Querier, communityID string, from, to time.Time, within rulebook.Span) ([]assessment.Fact, error) {
	return tables.Collect(ctx, q, "meetings", "assessment facts of "+communityID, `SELECT 'meetings', title, held_at, attendance_commit_pos
		FROM `+pgx.Identifier{Schema, "meetings"}.Sanitize()+` WHERE community_id = $1 AND held_at >= $2 AND held_at < $3 AND attendance_commit_pos IS NOT NULL
		UNION ALL SELECT 'topics-closed', summary, step_at, step_commit_pos FROM `+pgx.Identifier{Schema, "topics"}.Sanitize()+`
		WHERE community_id = $1 AND status = 'closed' AND step_at >= $2 AND step_at < $3
			AND step_at <= collected_at + make_interval(years => $4, months => $5, days => $6, hours => $7) ORDER BY 3, 4`,
		func(rs pgx.Rows) (assessment.Fact, error) {
			var f assessment.Fact
			var measure string
			var pos int64
			err := rs.Scan(&measure, &f.What, &f.At, &pos)
			f.Measure, f.Position = assessment.Measure(measure), uint64(pos)
			return f, err
		}, communityID, from, to, within.Years, within.Months, within.Days, within.Hours)
}

// Deliberation is how the communities under a path deliberated in a period (议事协商 coverage): those with a
// topic deliberated (the five-step procedure reached 组织协商), the topics closed, and of those the ones
// closed within the rulebook's topic-within of their collection.
type Deliberation struct {
	Deliberating int `json:"deliberating"`
	TopicsClosed int `json:"topics_closed"`
	ClosedInTime int `json:"closed_in_time"`
}

// DeliberationUnder returns the deliberation of the communities at or under path ("" for all) in [from, to).
func DeliberationUnder(ctx context.Context, q Querier, path string, from, to time.Time, within rulebook.Span) (Deliberation, error) {
	like := path + "/%"
	if path == "" {
		like = "%"
	}
	by, err := deliberation(ctx, q, "deliberation under "+path, "''", "(jurisdiction LIKE $8 OR jurisdiction = $9)", from, to, within, like, path)
	return by[""], err
}

// DeliberationByStreet is DeliberationUnder for every street (the first four segments of the path).
func DeliberationByStreet(ctx context.Context, q Querier, from, to time.Time, within rulebook.Span) (map[string]Deliberation, error) {
	return deliberation(ctx, q, "deliberation by street", "substring(jurisdiction from '^[^/]+/[^/]+/[^/]+/[^/]+')", "true", from, to, within)
}

// deliberation counts the deliberation of the topics that match filter (its parameters from $8), grouped
// by scope (an expression on topics).
func deliberation(ctx context.Context, q Querier, what, scope, filter string, from, to time.Time, within rulebook.Span, args ...any) (map[string]Deliberation, error) {
	return tables.CollectMap(ctx, q, "meetings", what, `WITH t AS (
			SELECT `+scope+` AS scope, community_id, topic_id, status, step_at, collected_at FROM `+pgx.Identifier{Schema, "topics"}.Sanitize()+`
			WHERE `+filter+`),
		d AS (SELECT t.scope, count(DISTINCT s.community_id) AS n FROM `+pgx.Identifier{Schema, "topic_steps"}.Sanitize()+` s
			JOIN t USING (community_id, topic_id) WHERE s.step = $1 AND s.at >= $2 AND s.at < $3 GROUP BY t.scope),
		c AS (SELECT scope, count(*) AS closed,
				count(*) FILTER (WHERE step_at <= collected_at + make_interval(years => $4, months => $5, days => $6, hours => $7)) AS in_time
			FROM t WHERE status = 'closed' AND step_at >= $2 AND step_at < $3 GROUP BY scope)
		SELECT coalesce(d.scope, c.scope, ''), coalesce(d.n, 0), coalesce(c.closed, 0), coalesce(c.in_time, 0)
		FROM d FULL JOIN c USING (scope)`,
		func(rs pgx.Rows) (scope string, d Deliberation, err error) {
			err = rs.Scan(&scope, &d.Deliberating, &d.TopicsClosed, &d.ClosedInTime)
			return scope, d, err
		}, append([]any{int(meeting.StepDeliberationHeld), from, to, within.Years, within.Months, within.Days, within.Hours}, args...)...)
}
