package meeting

import (
	"fmt"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

type motion struct {
	voted   bool
	outcome Outcome
	at      time.Time
}

// Meeting is one meeting. The zero value is a meeting not yet convened.
type Meeting struct {
	id          string
	kind        Kind
	basis       Basis
	expected    int
	heldAt      time.Time
	present     int
	hasPresence bool
	motions     map[string]*motion
	resolutions map[string]bool
	adopted     map[string]ResolutionAdopted
	reserved    map[string]map[string]kernel.Fen // resolution → expenditure → amount
	minutes     bool
	closedAt    time.Time
}

// Stream is the stream of one meeting with its motions, votes, resolutions and minutes,
// meeting-<communityID>-<meetingID>.
func Stream(c kernel.CommunityID, meetingID string) string {
	return eventlog.StreamName("meeting", string(c), meetingID)
}

// Rehydrate rebuilds a meeting from its history.
func Rehydrate(history []kernel.Event) *Meeting { return kernel.Rehydrate(&Meeting{}, history) }

// Apply changes state only.
func (m *Meeting) Apply(e kernel.Event) {
	if m.motions == nil {
		m.motions = map[string]*motion{}
		m.resolutions = map[string]bool{}
		m.adopted = map[string]ResolutionAdopted{}
		m.reserved = map[string]map[string]kernel.Fen{}
	}
	switch e := e.(type) {
	case Convened:
		m.id, m.kind, m.basis, m.expected, m.heldAt = e.MeetingID, e.Kind, e.Basis, e.Expected, e.HeldAt
	case AttendanceRecorded:
		m.present, m.hasPresence = e.Present, true
	case MotionTabled:
		m.motions[e.MotionID] = &motion{}
	case VoteRecorded:
		if mo := m.motions[e.MotionID]; mo != nil {
			mo.voted, mo.outcome, mo.at = true, e.Outcome, e.RecordedAt
		}
	case ResolutionAdopted:
		m.resolutions[e.ResolutionID] = true
		m.adopted[e.ResolutionID] = e
	case CeilingReserved:
		if m.reserved[e.ResolutionID] == nil {
			m.reserved[e.ResolutionID] = map[string]kernel.Fen{}
		}
		m.reserved[e.ResolutionID][e.ExpenditureID] = e.Amount
	case CeilingReleased:
		delete(m.reserved[e.ResolutionID], e.ExpenditureID)
	case MinutesRecorded:
		m.minutes = true
	case Closed:
		m.closedAt = e.ClosedAt
	}
}

// Exists reports whether the meeting was convened.
func (m *Meeting) Exists() bool { return m.id != "" }

// Kind returns the kind of meeting.
func (m *Meeting) Kind() Kind { return m.kind }

// HeldAt returns when the meeting took place.
func (m *Meeting) HeldAt() time.Time { return m.heldAt }

// MinutesDue returns when the minutes are due, and false once recorded.
func (m *Meeting) MinutesDue(p rulebook.Params) (time.Time, bool) {
	if m.minutes || !m.Exists() {
		return time.Time{}, false
	}
	return p.Due(rulebook.MinutesKept, m.end()), true
}

func (m *Meeting) end() time.Time {
	if !m.closedAt.IsZero() {
		return m.closedAt
	}
	return m.heldAt
}

// Errors of meetings. The rule each enforces is named in its comment.
var (
	ErrMeetingNotFound = kernel.NotFound("meeting-not-found", "该会议尚未登记")
	ErrMeetingExists   = kernel.Conflict("meeting-already-convened", "该会议已登记")
	ErrMeetingClosed   = kernel.Rejected("meeting-closed", "会议已结束，不能再登记")
	ErrBasisMismatch   = kernel.Invalid("basis-not-allowed", "basis",
		"村(居)民会议按成年人(adults)或户代表(households)计，代表会议按组成人员(members)计，其他会议按受邀人员(invitees)计")
	ErrAttendanceExceeds     = kernel.Invalid("attendance-exceeds-expected", "present", "到会人数超过应到人数")
	ErrAttendanceNotRecorded = kernel.Rejected("attendance-not-recorded", "尚未登记到会人数，不能登记表决通过")
	ErrMotionNotFound        = kernel.NotFound("motion-not-found", "没有这项议案")
	ErrMotionExists          = kernel.Conflict("motion-already-tabled", "这项议案已提出")
	ErrMotionAlreadyVoted    = kernel.Conflict("motion-already-voted", "这项议案已表决")
	ErrMotionNotPassed       = kernel.Rejected("motion-not-passed", "议案未表决通过，不能形成决议")
	ErrVotesExceedPresent    = kernel.Invalid("votes-exceed-present", "for", "赞成、反对、弃权票合计超过到会人数")
	ErrOutcomeInconsistent   = kernel.Invalid("vote-outcome-inconsistent", "outcome", "已达到法定人数且赞成票过半，表决结果应为通过")
	// rule meeting-quorum
	ErrQuorumNotMet = kernel.Rejected("quorum-not-met", "到会人数未达到法定人数，表决不能通过")
	// rule meeting-quorum
	ErrMajorityNotReached = kernel.Rejected("majority-not-reached", "赞成票未超过到会人员的半数，表决不能通过")
	ErrResolutionExists   = kernel.Conflict("resolution-already-adopted", "该决议已登记")
	// ErrCeilingExhausted (enforces major-matter-resolution, cumulatively): the expenditures approved
	// under a resolution would together exceed its ceiling.
	ErrCeilingExhausted = kernel.Rejected("resolution-ceiling-exhausted", "该决议的金额上限已不足以批准本支出")
	// ErrResolutionProjectMismatch (enforces major-matter-resolution): the resolution authorises another
	// project's spending.
	ErrResolutionProjectMismatch = kernel.Rejected("resolution-project-mismatch", "该决议授权的是其他项目的支出")
	ErrMinutesRecorded           = kernel.Conflict("minutes-already-recorded", "会议记录已登记")
	ErrAlreadyClosed             = kernel.Conflict("meeting-already-closed", "会议已结束")
)

// Convene is the command recording that a meeting took place.
type Convene struct {
	MeetingID string
	Kind      Kind
	Title     string
	Basis     Basis
	Expected  int
	TopicID   string    // the deliberation topic, for a deliberation meeting
	HeldAt    time.Time // zero: now
	// Params, when given, watches late-recording: a meeting recorded long after it was held.
	Params *rulebook.Params
}

// Convene records a meeting.
func (m *Meeting) Convene(cmd Convene, now time.Time) ([]kernel.Event, error) {
	if m.Exists() {
		return nil, ErrMeetingExists
	}
	if err := kernel.Required(cmd.MeetingID, "meeting_id", "会议编号"); err != nil {
		return nil, err
	}
	if !cmd.Kind.Valid() {
		return nil, kernel.Invalid("invalid-meeting-kind", "kind", "会议类型不正确")
	}
	if err := kernel.Required(cmd.Title, "title", "会议名称"); err != nil {
		return nil, err
	}
	if !cmd.Kind.allows(cmd.Basis) {
		return nil, ErrBasisMismatch
	}
	if cmd.Expected < 1 {
		return nil, kernel.Invalid("invalid-expected", "expected", "应到人数须大于零")
	}
	at, err := kernel.At(cmd.HeldAt, now, "held_at")
	if err != nil {
		return nil, err
	}
	e := Convened{
		MeetingID: cmd.MeetingID, Kind: cmd.Kind, Title: cmd.Title, Basis: cmd.Basis,
		Expected: cmd.Expected, TopicID: cmd.TopicID, HeldAt: at,
	}
	if cmd.Params != nil {
		e.Breaches = kernel.Breaches(cmd.Params.CheckLateRecording("会议「"+cmd.Title+"」", at, now))
	}
	return []kernel.Event{e}, nil
}

func (m *Meeting) open() error {
	if !m.Exists() {
		return ErrMeetingNotFound
	}
	if !m.closedAt.IsZero() {
		return ErrMeetingClosed
	}
	return nil
}

// RecordAttendance records how many were present, in the meeting's basis.
func (m *Meeting) RecordAttendance(present int, now time.Time) ([]kernel.Event, error) {
	if err := m.open(); err != nil {
		return nil, err
	}
	if present < 0 {
		return nil, kernel.Invalid("invalid-present", "present", "到会人数不能为负")
	}
	if present > m.expected {
		return nil, ErrAttendanceExceeds
	}
	return []kernel.Event{AttendanceRecorded{MeetingID: m.id, Present: present, RecordedAt: now.UTC()}}, nil
}

// TableMotion records a motion.
func (m *Meeting) TableMotion(motionID, title, text string, now time.Time) ([]kernel.Event, error) {
	if err := m.open(); err != nil {
		return nil, err
	}
	if err := kernel.Required(motionID, "motion_id", "议案编号"); err != nil {
		return nil, err
	}
	if m.motions[motionID] != nil {
		return nil, ErrMotionExists
	}
	if err := kernel.Required(title, "title", "议案标题"); err != nil {
		return nil, err
	}
	return []kernel.Event{MotionTabled{MeetingID: m.id, MotionID: motionID, Title: title, Text: text, TabledAt: now.UTC()}}, nil
}

// RecordVote is the command recording a vote.
type RecordVote struct {
	MotionID string
	For      int
	Against  int
	Abstain  int
	Outcome  Outcome
}

// quorum reports whether the recorded attendance makes a quorum, and the
// sentence explaining the requirement.
func (m *Meeting) quorum(p rulebook.Params) (bool, string) {
	var t rulebook.Threshold
	switch m.basis {
	case BasisAdults:
		t = p.Threshold(rulebook.MeetingQuorum, rulebook.ParamAssemblyAdults)
	case BasisHouseholds:
		t = p.Threshold(rulebook.MeetingQuorum, rulebook.ParamAssemblyHouseholds)
	case BasisMembers:
		t = p.Threshold(rulebook.MeetingQuorum, rulebook.ParamRepresentativesPresent)
	default:
		return true, ""
	}
	return t.Met(int64(m.present), int64(m.expected)),
		fmt.Sprintf("应到%d，实到%d，未达到%s", m.expected, m.present, t.Chinese())
}

// RecordVote records the vote on a motion. Enforces meeting-quorum when the
// outcome is passed: the meeting must have its quorum (assembly: more than
// half of adults, or representatives of at least two thirds of households;
// representatives' meeting: at least two thirds of members) and more than
// half of those present must vote for. A failed vote is always recorded.
func (m *Meeting) RecordVote(cmd RecordVote, p rulebook.Params, now time.Time) ([]kernel.Event, error) {
	if err := m.open(); err != nil {
		return nil, err
	}
	mo := m.motions[cmd.MotionID]
	if mo == nil {
		return nil, ErrMotionNotFound.WithField("motion_id")
	}
	if mo.voted {
		return nil, ErrMotionAlreadyVoted
	}
	if cmd.For < 0 || cmd.Against < 0 || cmd.Abstain < 0 {
		return nil, kernel.Invalid("invalid-votes", "for", "票数不能为负")
	}
	if cmd.Outcome != Passed && cmd.Outcome != Failed {
		return nil, kernel.Invalid("invalid-outcome", "outcome", "表决结果须为 passed 或 failed")
	}
	if cmd.Outcome == Passed && !m.hasPresence {
		return nil, ErrAttendanceNotRecorded
	}
	if m.hasPresence && cmd.For+cmd.Against+cmd.Abstain > m.present {
		return nil, ErrVotesExceedPresent
	}
	quorate, why := m.quorum(p)
	decision := p.Threshold(rulebook.MeetingQuorum, rulebook.ParamDecision)
	majority := decision.Met(int64(cmd.For), int64(m.present))
	switch {
	case cmd.Outcome == Passed && !quorate:
		return nil, ErrQuorumNotMet.WithMsg("到会人数不足法定人数(%s)，表决不能通过", why)
	case cmd.Outcome == Passed && !majority:
		return nil, ErrMajorityNotReached.WithMsg("到会%d，赞成%d，未%s，表决不能通过", m.present, cmd.For, decision.Chinese())
	case cmd.Outcome == Failed && m.hasPresence && quorate && majority:
		return nil, ErrOutcomeInconsistent
	}
	return []kernel.Event{VoteRecorded{
		MeetingID: m.id, MotionID: cmd.MotionID, For: cmd.For, Against: cmd.Against, Abstain: cmd.Abstain,
		Present: m.present, Outcome: cmd.Outcome, RecordedAt: now.UTC(),
	}}, nil
}

// AdoptResolution is the command recording a resolution.
type AdoptResolution struct {
	ResolutionID string
	MotionID     string
	Subject      Subject
	Ceiling      kernel.Fen // required for major spending
	Project      string     // the project it authorises spending on, if any
	Text         string
}

// AdoptResolution records a resolution on a motion that passed. It is
// adopted when the vote was recorded.
func (m *Meeting) AdoptResolution(cmd AdoptResolution, now time.Time) ([]kernel.Event, error) {
	if err := m.open(); err != nil {
		return nil, err
	}
	if err := kernel.Required(cmd.ResolutionID, "resolution_id", "决议编号"); err != nil {
		return nil, err
	}
	if m.resolutions[cmd.ResolutionID] {
		return nil, ErrResolutionExists
	}
	mo := m.motions[cmd.MotionID]
	if mo == nil {
		return nil, ErrMotionNotFound.WithField("motion_id")
	}
	if !mo.voted || mo.outcome != Passed {
		return nil, ErrMotionNotPassed
	}
	if !cmd.Subject.Valid() {
		return nil, kernel.Invalid("invalid-subject", "subject", "决议事项类型不正确")
	}
	if cmd.Ceiling < 0 || (cmd.Subject == MajorSpending && cmd.Ceiling == 0) {
		return nil, kernel.Invalid("invalid-ceiling", "ceiling_fen", "重大开支决议须写明金额上限(大于零)")
	}
	if err := kernel.CheckAmount(cmd.Ceiling, "ceiling_fen", true); err != nil {
		return nil, err
	}
	if err := kernel.Required(cmd.Text, "text", "决议内容"); err != nil {
		return nil, err
	}
	return []kernel.Event{ResolutionAdopted{
		MeetingID: m.id, MeetingKind: m.kind, ResolutionID: cmd.ResolutionID, MotionID: cmd.MotionID,
		Subject: cmd.Subject, Ceiling: cmd.Ceiling, Project: cmd.Project, Text: cmd.Text, AdoptedAt: mo.at,
	}}, nil
}

// Reserve is the command taking part of a resolution's ceiling for an expenditure's approval.
type Reserve struct {
	ResolutionID  string
	ExpenditureID string
	Amount        kernel.Fen
	// Project is the expenditure's project ("" when it names none).
	Project string
}

// Reserved returns the sum of the reservations of a resolution.
func (m *Meeting) Reserved(resolutionID string) kernel.Fen {
	var sum kernel.Fen
	for _, a := range m.reserved[resolutionID] {
		sum += a
	}
	return sum
}

// ReserveCeiling takes Amount of the resolution's ceiling for the expenditure. Enforces
// major-matter-resolution (四议两公开) cumulatively: the sum of every expenditure approved under one
// resolution never exceeds its ceiling, and an expenditure may cite only a resolution on its own project
// when the resolution names one. An expenditure that holds a reservation already is not charged twice
// (a retry): no event.
func (m *Meeting) ReserveCeiling(cmd Reserve, now time.Time) ([]kernel.Event, error) {
	if !m.Exists() {
		return nil, ErrMeetingNotFound
	}
	r, ok := m.adopted[cmd.ResolutionID]
	if !ok {
		return nil, kernel.NotFound("resolution-not-found", fmt.Sprintf("会议 %s 没有编号为 %s 的决议", m.id, cmd.ResolutionID)).WithField("resolution_id")
	}
	if _, again := m.reserved[cmd.ResolutionID][cmd.ExpenditureID]; again {
		return nil, nil
	}
	if r.Project != "" && cmd.Project != r.Project {
		return nil, ErrResolutionProjectMismatch.WithField("resolution_id").WithMsg(
			"决议 %s 授权的是项目「%s」的支出，本支出属于「%s」，不能引用该决议", r.ResolutionID, r.Project, orNone(cmd.Project))
	}
	if r.Ceiling <= 0 {
		return nil, nil // not a resolution on spending with a ceiling: nothing to take
	}
	used := m.Reserved(cmd.ResolutionID)
	if used+cmd.Amount > r.Ceiling {
		return nil, ErrCeilingExhausted.WithField("resolution_id").WithMsg(
			"决议 %s 的金额上限为%s，已批准%s，余额%s，不足以批准本支出%s", r.ResolutionID, r.Ceiling, used, r.Ceiling-used, cmd.Amount)
	}
	return []kernel.Event{CeilingReserved{MeetingID: m.id, ResolutionID: cmd.ResolutionID, ExpenditureID: cmd.ExpenditureID,
		Amount: cmd.Amount, ReservedAt: now.UTC()}}, nil
}

// ReleaseCeiling gives back an expenditure's reservation; nothing when it holds none.
func (m *Meeting) ReleaseCeiling(resolutionID, expenditureID, reason string, now time.Time) ([]kernel.Event, error) {
	if _, ok := m.reserved[resolutionID][expenditureID]; !ok {
		return nil, nil
	}
	return []kernel.Event{CeilingReleased{MeetingID: m.id, ResolutionID: resolutionID, ExpenditureID: expenditureID,
		Reason: reason, ReleasedAt: now.UTC()}}, nil
}

func orNone(s string) string {
	if s == "" {
		return "未写明项目"
	}
	return s
}

// RecordMinutes records the minutes, at now. Watches minutes-kept: minutes
// recorded later than the rule allows after the end of the meeting (its
// close, or when it was held if not closed) carry a breach.
func (m *Meeting) RecordMinutes(sha256 string, p rulebook.Params, now time.Time) ([]kernel.Event, error) {
	if !m.Exists() {
		return nil, ErrMeetingNotFound
	}
	if m.minutes {
		return nil, ErrMinutesRecorded
	}
	if err := kernel.CheckSHA256(sha256, "document_sha256"); err != nil {
		return nil, err
	}
	now = now.UTC()
	e := MinutesRecorded{MeetingID: m.id, DocumentSHA256: sha256, RecordedAt: now}
	if due := p.Due(rulebook.MinutesKept, m.end()); now.After(due) {
		e.Breaches = []kernel.Breach{{Rule: rulebook.MinutesKept, Detail: fmt.Sprintf(
			"会议于%s结束，会议记录%s才登记，超过%s", m.end().Format(time.RFC3339), now.Format(time.RFC3339),
			p.Span(rulebook.MinutesKept, rulebook.ParamWithin).Chinese())}}
	}
	return []kernel.Event{e}, nil
}

// Close records the end of the meeting at `at` (zero: now).
//
// With the community's rule parameters (watch), a close recorded long after it happened carries a
// late-recording breach.
func (m *Meeting) Close(at, now time.Time, watch ...rulebook.Params) ([]kernel.Event, error) {
	if !m.Exists() {
		return nil, ErrMeetingNotFound
	}
	if !m.closedAt.IsZero() {
		return nil, ErrAlreadyClosed
	}
	at, err := kernel.At(at, now, "closed_at")
	if err != nil {
		return nil, err
	}
	if at.Before(m.heldAt) {
		return nil, kernel.Invalid("closed-before-held", "closed_at", "会议结束时间不能早于召开时间")
	}
	e := Closed{MeetingID: m.id, ClosedAt: at}
	for _, p := range watch {
		e.Breaches = kernel.Breaches(p.CheckLateRecording("会议"+m.id+"的结束", at, now))
	}
	return []kernel.Event{e}, nil
}

// CheckResidentsMeetings evaluates residents-meeting-frequency (每年年初、年末
// 至少分别召开一次社区居民会议) for one calendar year of China time, as of
// asOf, given when the community's assemblies were held. It concerns urban
// communities only; the alert engine calls it. Breaches: no assembly in the
// first half once the first half is over (when at least two a year are
// required), and fewer than the yearly number once the year is over.
func CheckResidentsMeetings(kind kernel.CommunityKind, year int, held []time.Time, asOf time.Time, p rulebook.Params) []kernel.Breach {
	var out []kernel.Breach
	for _, firstHalf := range []bool{true, false} {
		if b := CheckResidentsMeetingsIn(kind, year, firstHalf, held, asOf, p); b != nil {
			out = append(out, *b)
		}
	}
	return out
}

// CheckResidentsMeetingsIn is CheckResidentsMeetings for one period: the first half of year (firstHalf)
// or the whole year; nil when that period is not broken, or not over at asOf.
func CheckResidentsMeetingsIn(kind kernel.CommunityKind, year int, firstHalf bool, held []time.Time, asOf time.Time, p rulebook.Params) *kernel.Breach {
	if kind != kernel.Urban {
		return nil
	}
	loc := kernel.ChinaTime()
	start := time.Date(year, time.January, 1, 0, 0, 0, 0, loc)
	mid := time.Date(year, time.July, 1, 0, 0, 0, 0, loc)
	end := time.Date(year+1, time.January, 1, 0, 0, 0, 0, loc)
	want := p.Count(rulebook.ResidentsMeetingFrequency, rulebook.ParamPerYear)
	var inYear, inFirstHalf int
	for _, t := range held {
		if !t.Before(start) && t.Before(end) {
			inYear++
			if t.Before(mid) {
				inFirstHalf++
			}
		}
	}
	switch {
	case firstHalf && want >= 2 && !asOf.Before(mid) && inFirstHalf == 0:
		return &kernel.Breach{Rule: rulebook.ResidentsMeetingFrequency, Detail: fmt.Sprintf("%d年上半年未召开社区居民会议", year)}
	case !firstHalf && !asOf.Before(end) && inYear < want:
		return &kernel.Breach{Rule: rulebook.ResidentsMeetingFrequency,
			Detail: fmt.Sprintf("%d年召开社区居民会议%d次，少于%d次", year, inYear, want)}
	}
	return nil
}
