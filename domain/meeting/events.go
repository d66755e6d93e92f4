// Package meeting is the record of meetings (会议与议事协商) — assemblies,
// representatives' meetings, joint meetings of the two committees,
// deliberation meetings, hearings and democratic evaluations — with their
// attendance, motions, votes, resolutions and minutes; and the five-step
// deliberation of a topic (五步议事: 征集、筛选、拟定方案、告知、协商 →
// 结果公开 → 落实反馈).
//
// One stream per meeting and one per deliberation topic.
package meeting

import (
	"slices"
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// Kind of meeting.
type Kind string

const (
	Assembly        Kind = "assembly"        // 居民会议/村民会议
	Representatives Kind = "representatives" // 居民代表会议/村民代表会议
	Joint           Kind = "joint"           // 两委联席会议
	Deliberation    Kind = "deliberation"    // 议事协商会
	Hearing         Kind = "hearing"         // 听证会
	Evaluation      Kind = "evaluation"      // 民主评议
)

// Kinds lists the kinds of meeting, in the order the API documents them.
func Kinds() []Kind {
	return []Kind{Assembly, Representatives, Joint, Deliberation, Hearing, Evaluation}
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds(), k) }

// CanDecideMajorMatters reports whether a resolution of this kind of meeting
// authorises a major matter (四议两公开: 村民会议或村民代表会议表决通过).
func (k Kind) CanDecideMajorMatters() bool { return k == Assembly || k == Representatives }

// Basis is what the expected and present counts of a meeting count.
type Basis string

const (
	// BasisAdults: an assembly of all adult residents (全体18周岁以上居民).
	BasisAdults Basis = "adults"
	// BasisHouseholds: an assembly of one representative per household (每户派代表).
	BasisHouseholds Basis = "households"
	// BasisMembers: the members of the representatives' meeting.
	BasisMembers Basis = "members"
	// BasisInvitees: those invited to any other meeting; no statutory quorum.
	BasisInvitees Basis = "invitees"
)

// Bases lists the bases of attendance, in the order the API documents them.
func Bases() []Basis { return []Basis{BasisAdults, BasisHouseholds, BasisMembers, BasisInvitees} }

func (k Kind) allows(b Basis) bool {
	switch k {
	case Assembly:
		return b == BasisAdults || b == BasisHouseholds
	case Representatives:
		return b == BasisMembers
	}
	return b == BasisInvitees
}

// Convened records that a meeting took place (召开), with what its counts
// count and how many were expected: the community's adult population or
// household count for an assembly, the number of representatives for a
// representatives' meeting.
type Convened struct {
	MeetingID string    `json:"meeting_id"`
	Kind      Kind      `json:"kind"`
	Title     string    `json:"title"`
	Basis     Basis     `json:"basis"`
	Expected  int       `json:"expected"`
	TopicID   string    `json:"topic_id,omitempty"`
	HeldAt    time.Time `json:"held_at"`
	// A late-recording breach when recorded long after it was held.
	kernel.Watch
}

func (Convened) EventName() string  { return "meeting.convened" }
func (Convened) SchemaVersion() int { return 1 }

// AttendanceRecorded records how many were present (in the meeting's basis);
// a later record replaces an earlier one.
type AttendanceRecorded struct {
	MeetingID  string    `json:"meeting_id"`
	Present    int       `json:"present"`
	RecordedAt time.Time `json:"recorded_at"`
}

func (AttendanceRecorded) EventName() string  { return "meeting.attendance-recorded" }
func (AttendanceRecorded) SchemaVersion() int { return 1 }

// MotionTabled records a motion put to the meeting.
type MotionTabled struct {
	MeetingID string    `json:"meeting_id"`
	MotionID  string    `json:"motion_id"`
	Title     string    `json:"title"`
	Text      string    `json:"text"`
	TabledAt  time.Time `json:"tabled_at"`
}

func (MotionTabled) EventName() string  { return "meeting.motion-tabled" }
func (MotionTabled) SchemaVersion() int { return 1 }

// Outcome of a vote.
type Outcome string

const (
	Passed Outcome = "passed"
	Failed Outcome = "failed"
)

// Outcomes lists the outcomes of a vote, in the order the API documents them.
func Outcomes() []Outcome { return []Outcome{Passed, Failed} }

// VoteRecorded records the vote on a motion with the attendance it was
// counted against.
type VoteRecorded struct {
	MeetingID  string    `json:"meeting_id"`
	MotionID   string    `json:"motion_id"`
	For        int       `json:"for"`
	Against    int       `json:"against"`
	Abstain    int       `json:"abstain"`
	Present    int       `json:"present"`
	Outcome    Outcome   `json:"outcome"`
	RecordedAt time.Time `json:"recorded_at"`
}

func (VoteRecorded) EventName() string  { return "meeting.vote-recorded" }
func (VoteRecorded) SchemaVersion() int { return 1 }

// Subject of a resolution: what it decides.
type Subject string

const (
	MajorSpending       Subject = "major-spending"       // 重大开支
	AssetDisposal       Subject = "asset-disposal"       // 固定资产处置
	HomesteadAllocation Subject = "homestead-allocation" // 宅基地划分
	LargeContract       Subject = "large-contract"       // 数额较大经济合同
	OtherSubject        Subject = "other"
)

// Subjects lists the subjects of a resolution, in the order the API documents them.
func Subjects() []Subject {
	return []Subject{MajorSpending, AssetDisposal, HomesteadAllocation, LargeContract, OtherSubject}
}

// Valid reports whether s is a known subject.
func (s Subject) Valid() bool { return slices.Contains(Subjects(), s) }

// ResolutionAdopted records a resolution (决议) adopted on a passed motion.
// Ceiling is the most it authorises to spend (major spending, contracts);
// zero when it authorises no amount.
type ResolutionAdopted struct {
	MeetingID    string     `json:"meeting_id"`
	MeetingKind  Kind       `json:"meeting_kind"`
	ResolutionID string     `json:"resolution_id"`
	MotionID     string     `json:"motion_id"`
	Subject      Subject    `json:"subject"`
	Ceiling      kernel.Fen `json:"ceiling_fen"`
	// Project names the project (工程/项目) the resolution authorises spending on; expenditures citing
	// it must belong to that project. Empty in resolutions recorded before projects were named.
	Project   string    `json:"project,omitempty"`
	Text      string    `json:"text"`
	AdoptedAt time.Time `json:"adopted_at"`
}

func (ResolutionAdopted) EventName() string  { return "meeting.resolution-adopted" }
func (ResolutionAdopted) SchemaVersion() int { return 1 }

// CeilingReserved records that an expenditure's approval takes Amount of a resolution's ceiling (决议
// 限额占用). It is appended to the meeting's stream, at the exact revision the approval read, before the
// approval itself: the sum of the reservations of a resolution never exceeds its ceiling, however many
// approvals race, and an approval retried after a crash finds its reservation (one per expenditure).
type CeilingReserved struct {
	MeetingID     string     `json:"meeting_id"`
	ResolutionID  string     `json:"resolution_id"`
	ExpenditureID string     `json:"expenditure_id"`
	Amount        kernel.Fen `json:"amount_fen"`
	ReservedAt    time.Time  `json:"reserved_at"`
}

func (CeilingReserved) EventName() string  { return "meeting.ceiling-reserved" }
func (CeilingReserved) SchemaVersion() int { return 1 }

// CeilingReleased gives back an expenditure's reservation: its approval was not recorded after all (the
// expenditure was rejected or cancelled meanwhile).
type CeilingReleased struct {
	MeetingID     string    `json:"meeting_id"`
	ResolutionID  string    `json:"resolution_id"`
	ExpenditureID string    `json:"expenditure_id"`
	Reason        string    `json:"reason"`
	ReleasedAt    time.Time `json:"released_at"`
}

func (CeilingReleased) EventName() string  { return "meeting.ceiling-released" }
func (CeilingReleased) SchemaVersion() int { return 1 }

// MinutesRecorded records the minutes (会议记录) by the SHA-256 of the
// document. It carries a minutes-kept breach when recorded later than the
// rule allows after the meeting.
type MinutesRecorded struct {
	MeetingID      string    `json:"meeting_id"`
	DocumentSHA256 string    `json:"document_sha256"`
	RecordedAt     time.Time `json:"recorded_at"`
	kernel.Watch
}

func (MinutesRecorded) EventName() string  { return "meeting.minutes-recorded" }
func (MinutesRecorded) SchemaVersion() int { return 1 }

// Closed records the end of the meeting; nothing but minutes may be
// recorded after it.
type Closed struct {
	MeetingID string    `json:"meeting_id"`
	ClosedAt  time.Time `json:"closed_at"`
	// A late-recording breach when recorded long after the meeting ended.
	kernel.Watch
}

func (Closed) EventName() string  { return "meeting.closed" }
func (Closed) SchemaVersion() int { return 1 }

// RegisterEvents adds the package's events to r.
func RegisterEvents(r *kernel.Registry) error {
	return kernel.RegisterAll(r,
		kernel.Register[Convened],
		kernel.Register[AttendanceRecorded],
		kernel.Register[MotionTabled],
		kernel.Register[VoteRecorded],
		kernel.Register[ResolutionAdopted],
		kernel.Register[CeilingReserved],
		kernel.Register[CeilingReleased],
		kernel.Register[MinutesRecorded],
		kernel.Register[Closed],
		kernel.Register[TopicCollected],
		kernel.Register[TopicScreened],
		kernel.Register[TopicPlanDrafted],
		kernel.Register[TopicNoticeGiven],
		kernel.Register[TopicDeliberationHeld],
		kernel.Register[TopicResultDisclosed],
		kernel.Register[TopicFeedbackRecorded],
	)
}
