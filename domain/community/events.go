// Package community is the jurisdiction tree and the community registry: each
// community (社区 or 村) with its kind, jurisdiction path and figures
// (households, adult population), and its committee roster (居委会/村委会成员).
//
// Streams: one per jurisdiction node (Jurisdiction) and one per community
// (Community).
package community

import (
	"slices"
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// JurisdictionRegistered records a node of the jurisdiction tree
// (市、区/县、街道/镇、社区/村、网格、楼栋). Level is the depth of Path.
type JurisdictionRegistered struct {
	Path         kernel.JurisdictionPath `json:"path"`
	Name         string                  `json:"name"`
	Level        int                     `json:"level"`
	RegisteredAt time.Time               `json:"registered_at"`
}

func (JurisdictionRegistered) EventName() string  { return "community.jurisdiction-registered" }
func (JurisdictionRegistered) SchemaVersion() int { return 1 }

// Registered records a community in the registry.
type Registered struct {
	CommunityID  kernel.CommunityID      `json:"community_id"`
	Name         string                  `json:"name"`
	Kind         kernel.CommunityKind    `json:"kind"`
	Jurisdiction kernel.JurisdictionPath `json:"jurisdiction"`
	Households   int                     `json:"households"`
	Adults       int                     `json:"adults"`
	RegisteredAt time.Time               `json:"registered_at"`
}

func (Registered) EventName() string  { return "community.registered" }
func (Registered) SchemaVersion() int { return 1 }

// FiguresUpdated records new registered household and adult counts. It
// carries a committee-size breach when the sitting committee no longer fits.
type FiguresUpdated struct {
	CommunityID kernel.CommunityID `json:"community_id"`
	Households  int                `json:"households"`
	Adults      int                `json:"adults"`
	Reason      string             `json:"reason"`
	UpdatedAt   time.Time          `json:"updated_at"`
	kernel.Watch
}

func (FiguresUpdated) EventName() string  { return "community.figures-updated" }
func (FiguresUpdated) SchemaVersion() int { return 1 }

// Role of a committee member.
type Role string

const (
	Chair     Role = "chair"      // 主任
	ViceChair Role = "vice-chair" // 副主任
	Member    Role = "member"     // 委员
)

// Roles lists the roles of a committee member, in the order the API documents them.
func Roles() []Role { return []Role{Chair, ViceChair, Member} }

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles(), r) }

// Source says how a member came to the committee.
type Source string

const (
	Elected   Source = "elected"    // 换届选举
	ByElected Source = "by-elected" // 补选
	Appointed Source = "appointed"  // 街道/镇任命或聘用
)

// Sources lists the ways a member comes to the committee, in the order the API documents them.
func Sources() []Source { return []Source{Elected, ByElected, Appointed} }

// Valid reports whether s is a known source.
func (s Source) Valid() bool { return slices.Contains(Sources(), s) }

// Seat is a member on the committee roster. The member's name is personal
// data.
type Seat struct {
	Person     kernel.PersonID      `json:"person"`
	Role       Role                 `json:"role"`
	FullTime   bool                 `json:"full_time"`
	Source     Source               `json:"source"`
	ElectionID string               `json:"election_id,omitempty"`
	Personal   *kernel.PersonalData `json:"personal,omitempty"`
	// PublicName is the name the roster shows (公示姓名): a public act of office, not personal data.
	PublicName string `json:"public_name,omitempty"`
}

// CommitteeSeated records the whole committee of a new term taking office,
// replacing the previous roster. It carries committee-size and full-time
// breaches when the committee does not fit the community.
type CommitteeSeated struct {
	CommunityID kernel.CommunityID `json:"community_id"`
	Term        string             `json:"term"`
	Members     []Seat             `json:"members"`
	SeatedAt    time.Time          `json:"seated_at"`
	kernel.Watch
}

func (CommitteeSeated) EventName() string  { return "community.committee-seated" }
func (CommitteeSeated) SchemaVersion() int { return 1 }

// MemberJoined records one member joining the sitting committee (补选 or
// appointment).
type MemberJoined struct {
	CommunityID kernel.CommunityID `json:"community_id"`
	Member      Seat               `json:"member"`
	JoinedAt    time.Time          `json:"joined_at"`
	kernel.Watch
}

func (MemberJoined) EventName() string  { return "community.member-joined" }
func (MemberJoined) SchemaVersion() int { return 1 }

// LeaveReason says why a member left the committee.
type LeaveReason string

const (
	Resigned  LeaveReason = "resigned"   // 辞职
	Recalled  LeaveReason = "recalled"   // 罢免
	TermEnded LeaveReason = "term-ended" // 任期届满
	Deceased  LeaveReason = "deceased"   // 去世
	OtherWay  LeaveReason = "other"      // 其他
)

// Chinese is the reason as a sentence says it (辞职); an unknown reason as written.
func (r LeaveReason) Chinese() string {
	switch r {
	case Resigned:
		return "辞职"
	case Recalled:
		return "罢免"
	case TermEnded:
		return "任期届满"
	case Deceased:
		return "去世"
	case OtherWay:
		return "其他"
	}
	return string(r)
}

// LeaveReasons lists the reasons a member leaves the committee, in the order the API documents them.
func LeaveReasons() []LeaveReason {
	return []LeaveReason{Resigned, Recalled, TermEnded, Deceased, OtherWay}
}

// Valid reports whether r is a known reason.
func (r LeaveReason) Valid() bool { return slices.Contains(LeaveReasons(), r) }

// MemberLeft records a member leaving the sitting committee.
type MemberLeft struct {
	CommunityID kernel.CommunityID `json:"community_id"`
	Person      kernel.PersonID    `json:"person"`
	Reason      LeaveReason        `json:"reason"`
	LeftAt      time.Time          `json:"left_at"`
	kernel.Watch
}

func (MemberLeft) EventName() string  { return "community.member-left" }
func (MemberLeft) SchemaVersion() int { return 1 }

// RegisterEvents adds the package's events to r.
func RegisterEvents(r *kernel.Registry) error {
	return kernel.RegisterAll(r,
		kernel.Register[JurisdictionRegistered],
		kernel.Register[Registered],
		kernel.Register[FiguresUpdated],
		kernel.Register[CommitteeSeated],
		kernel.Register[MemberJoined],
		kernel.Register[MemberLeft],
	)
}
