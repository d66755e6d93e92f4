// Package election is the general election of a committee (换届选举) and the
// life of its term: the election committee (选举委员会) is formed, candidates
// are nominated and the list publicized, objections are raised and answered,
// the vote is held and the result certified; afterwards members may be
// recalled (罢免), by-elected (补选) or resign (辞职).
//
// One stream per election (per community and term).
//
// A member of the election committee who is nominated leaves the committee:
// Nominate emits election.committee-member-left (reason "became-candidate")
// together with election.candidate-nominated, so the record shows both facts
// in order, and AddCommitteeMember (递补) refuses a person who is a candidate.
package election

import (
	"time"

	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// CommitteeRole is a role on the election committee.
type CommitteeRole string

const (
	CommitteeChair  CommitteeRole = "chair"  // 主任
	CommitteeMember CommitteeRole = "member" // 委员
)

// CommitteeRoles lists the roles on the election committee, in the order the API documents them.
func CommitteeRoles() []CommitteeRole { return []CommitteeRole{CommitteeChair, CommitteeMember} }

// ElectionCommitteeMember is a member of the election committee (选举委员会).
type ElectionCommitteeMember struct {
	Person   kernel.PersonID      `json:"person"`
	Role     CommitteeRole        `json:"role"`
	Personal *kernel.PersonalData `json:"personal,omitempty"`
}

// CommitteeFormed starts an election: the election committee is formed for
// the term, with the number of seats of the committee to elect.
type CommitteeFormed struct {
	ElectionID string                    `json:"election_id"`
	Term       string                    `json:"term"`
	Seats      int                       `json:"seats"`
	Members    []ElectionCommitteeMember `json:"members"`
	FormedAt   time.Time                 `json:"formed_at"`
}

func (CommitteeFormed) EventName() string  { return "election.committee-formed" }
func (CommitteeFormed) SchemaVersion() int { return 1 }

// CommitteeMemberAdded records a member filling a vacancy on the election
// committee (依法递补), optionally naming whom they replace.
type CommitteeMemberAdded struct {
	ElectionID string                  `json:"election_id"`
	Member     ElectionCommitteeMember `json:"member"`
	Replaces   kernel.PersonID         `json:"replaces,omitempty"`
	AddedAt    time.Time               `json:"added_at"`
}

func (CommitteeMemberAdded) EventName() string  { return "election.committee-member-added" }
func (CommitteeMemberAdded) SchemaVersion() int { return 1 }

// LeaveReason is why a member left the election committee (CommitteeMemberLeft.Reason).
type LeaveReason string

// The reasons, untyped: CommitteeMemberLeft.Reason is a string.
const (
	LeftBecameCandidate = "became-candidate" // 被确定为候选人，退出选举委员会
	LeftResigned        = "resigned"
	LeftOther           = "other"
)

// LeaveReasons lists the reasons a member leaves the election committee, in the order the API documents them.
func LeaveReasons() []LeaveReason { return []LeaveReason{LeftBecameCandidate, LeftResigned, LeftOther} }

// CommitteeMemberLeft records a member leaving the election committee.
type CommitteeMemberLeft struct {
	ElectionID string          `json:"election_id"`
	Person     kernel.PersonID `json:"person"`
	Reason     string          `json:"reason"`
	LeftAt     time.Time       `json:"left_at"`
}

func (CommitteeMemberLeft) EventName() string  { return "election.committee-member-left" }
func (CommitteeMemberLeft) SchemaVersion() int { return 1 }

// CandidateNominated records a candidate (候选人) and since when they have
// lived in the community.
type CandidateNominated struct {
	ElectionID     string               `json:"election_id"`
	Candidate      kernel.PersonID      `json:"candidate"`
	ResidenceSince time.Time            `json:"residence_since"`
	Personal       *kernel.PersonalData `json:"personal,omitempty"`
	// PublicName is the name the candidate list and the results show (公示姓名): a public act, kept
	// apart from the personal data and never erased with it. Empty in events before it existed.
	PublicName  string    `json:"public_name,omitempty"`
	NominatedAt time.Time `json:"nominated_at"`
}

func (CandidateNominated) EventName() string  { return "election.candidate-nominated" }
func (CandidateNominated) SchemaVersion() int { return 1 }

// CandidateWithdrawn records a candidate withdrawing before the vote.
type CandidateWithdrawn struct {
	ElectionID  string          `json:"election_id"`
	Candidate   kernel.PersonID `json:"candidate"`
	Reason      string          `json:"reason"`
	WithdrawnAt time.Time       `json:"withdrawn_at"`
}

func (CandidateWithdrawn) EventName() string  { return "election.candidate-withdrawn" }
func (CandidateWithdrawn) SchemaVersion() int { return 1 }

// CandidateListPublicized records the candidate list posted publicly (候选人名单公示).
type CandidateListPublicized struct {
	ElectionID   string            `json:"election_id"`
	Candidates   []kernel.PersonID `json:"candidates"`
	PublicizedAt time.Time         `json:"publicized_at"`
	// A late-recording breach when recorded long after the posting it states.
	kernel.Watch
}

func (CandidateListPublicized) EventName() string  { return "election.candidate-list-publicized" }
func (CandidateListPublicized) SchemaVersion() int { return 1 }

// ObjectionRaised records a voter's objection to the list or a candidate.
// The objector's identity is personal data and never public.
type ObjectionRaised struct {
	ElectionID  string              `json:"election_id"`
	ObjectionID string              `json:"objection_id"`
	Concerning  kernel.PersonID     `json:"concerning,omitempty"`
	Text        string              `json:"text"`
	Objector    kernel.PersonalData `json:"personal"`
	RaisedAt    time.Time           `json:"raised_at"`
}

func (ObjectionRaised) EventName() string  { return "election.objection-raised" }
func (ObjectionRaised) SchemaVersion() int { return 1 }

// ObjectionAnswered records the election committee's answer to an objection.
type ObjectionAnswered struct {
	ElectionID  string    `json:"election_id"`
	ObjectionID string    `json:"objection_id"`
	Answer      string    `json:"answer"`
	AnsweredAt  time.Time `json:"answered_at"`
}

func (ObjectionAnswered) EventName() string  { return "election.objection-answered" }
func (ObjectionAnswered) SchemaVersion() int { return 1 }

// Tally is the number of votes one candidate received.
type Tally struct {
	Candidate kernel.PersonID `json:"candidate"`
	Votes     int             `json:"votes"`
}

// VotingHeld records the vote (投票选举): registered voters, ballots cast and
// the votes of every candidate. It carries a candidate-list-publicity breach
// when the list was not publicized long enough before the vote.
type VotingHeld struct {
	ElectionID       string    `json:"election_id"`
	RegisteredVoters int       `json:"registered_voters"`
	BallotsCast      int       `json:"ballots_cast"`
	Tally            []Tally   `json:"tally"`
	HeldAt           time.Time `json:"held_at"`
	kernel.Watch
}

func (VotingHeld) EventName() string  { return "election.voting-held" }
func (VotingHeld) SchemaVersion() int { return 1 }

// Winner is an elected member with the votes received.
type Winner struct {
	Person   kernel.PersonID `json:"person"`
	Role     community.Role  `json:"role"`
	FullTime bool            `json:"full_time"`
	Votes    int             `json:"votes"`
}

// ResultCertified records the certified result (确认选举结果). It carries
// committee-size and full-time-share breaches when the elected committee does
// not fit the community.
type ResultCertified struct {
	ElectionID       string    `json:"election_id"`
	RegisteredVoters int       `json:"registered_voters"`
	BallotsCast      int       `json:"ballots_cast"`
	Winners          []Winner  `json:"winners"`
	CertifiedAt      time.Time `json:"certified_at"`
	kernel.Watch
}

func (ResultCertified) EventName() string  { return "election.result-certified" }
func (ResultCertified) SchemaVersion() int { return 1 }

// MemberRecalled records a member recalled by vote (罢免).
type MemberRecalled struct {
	ElectionID       string          `json:"election_id"`
	Person           kernel.PersonID `json:"person"`
	RegisteredVoters int             `json:"registered_voters"`
	BallotsCast      int             `json:"ballots_cast"`
	VotesFor         int             `json:"votes_for"`
	RecalledAt       time.Time       `json:"recalled_at"`
	kernel.Watch                     // late-recording: a recall vote recorded long after it was held
}

func (MemberRecalled) EventName() string  { return "election.member-recalled" }
func (MemberRecalled) SchemaVersion() int { return 1 }

// MemberByElected records a member elected to a vacancy (补选).
type MemberByElected struct {
	ElectionID       string               `json:"election_id"`
	Winner           Winner               `json:"winner"`
	ResidenceSince   time.Time            `json:"residence_since"`
	Personal         *kernel.PersonalData `json:"personal,omitempty"`
	RegisteredVoters int                  `json:"registered_voters"`
	BallotsCast      int                  `json:"ballots_cast"`
	ByElectedAt      time.Time            `json:"by_elected_at"`
	kernel.Watch                          // late-recording: a by-election recorded long after it was held
}

func (MemberByElected) EventName() string  { return "election.member-by-elected" }
func (MemberByElected) SchemaVersion() int { return 1 }

// MemberResigned records a member's resignation (辞职).
type MemberResigned struct {
	ElectionID string          `json:"election_id"`
	Person     kernel.PersonID `json:"person"`
	Reason     string          `json:"reason"`
	ResignedAt time.Time       `json:"resigned_at"`
}

func (MemberResigned) EventName() string  { return "election.member-resigned" }
func (MemberResigned) SchemaVersion() int { return 1 }

// RegisterEvents adds the package's events to r.
func RegisterEvents(r *kernel.Registry) error {
	return kernel.RegisterAll(r,
		kernel.Register[CommitteeFormed],
		kernel.Register[CommitteeMemberAdded],
		kernel.Register[CommitteeMemberLeft],
		kernel.Register[CandidateNominated],
		kernel.Register[CandidateWithdrawn],
		kernel.Register[CandidateListPublicized],
		kernel.Register[ObjectionRaised],
		kernel.Register[ObjectionAnswered],
		kernel.Register[VotingHeld],
		kernel.Register[ResultCertified],
		kernel.Register[MemberRecalled],
		kernel.Register[MemberByElected],
		kernel.Register[MemberResigned],
	)
}
