package community

import (
	"fmt"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// Community is a registered community or village with its figures and its
// committee roster. The zero value is a community not yet registered.
type Community struct {
	id         kernel.CommunityID
	kind       kernel.CommunityKind
	path       kernel.JurisdictionPath
	households int
	adults     int
	roster     []Seat
}

// ProfileStream is a community's registry stream, community-<id>-profile: registration, figures,
// committee roster.
func ProfileStream(id kernel.CommunityID) string {
	return eventlog.StreamName("community", string(id), "profile")
}

// RehydrateCommunity rebuilds a community from its history.
func RehydrateCommunity(history []kernel.Event) *Community {
	return kernel.Rehydrate(&Community{}, history)
}

// Apply changes state only.
func (c *Community) Apply(e kernel.Event) {
	switch e := e.(type) {
	case Registered:
		c.id, c.kind, c.path, c.households, c.adults = e.CommunityID, e.Kind, e.Jurisdiction, e.Households, e.Adults
	case FiguresUpdated:
		c.households, c.adults = e.Households, e.Adults
	case CommitteeSeated:
		c.roster = append([]Seat(nil), e.Members...)
	case MemberJoined:
		c.roster = append(c.roster, e.Member)
	case MemberLeft:
		if i := c.seat(e.Person); i >= 0 {
			c.roster = append(c.roster[:i:i], c.roster[i+1:]...)
		}
	}
}

// Exists reports whether the community is registered.
func (c *Community) Exists() bool { return c.id != "" }

// ID returns the community's ID.
func (c *Community) ID() kernel.CommunityID { return c.id }

// Kind returns urban or rural.
func (c *Community) Kind() kernel.CommunityKind { return c.kind }

// Path returns the community's jurisdiction path.
func (c *Community) Path() kernel.JurisdictionPath { return c.path }

// Figures returns the registered households and adult population.
func (c *Community) Figures() Figures {
	return Figures{Kind: c.kind, Households: c.households, Adults: c.adults}
}

// Roster returns a copy of the sitting committee.
func (c *Community) Roster() []Seat { return append([]Seat(nil), c.roster...) }

// Figures are what rules about committee size need to know of a community;
// the election aggregate takes them as a value the handler looked up.
type Figures struct {
	Kind       kernel.CommunityKind
	Households int
	Adults     int
}

// CheckCommittee returns the committee-size and full-time breaches for a
// committee of these seats in a community of these figures.
func (f Figures) CheckCommittee(p rulebook.Params, size, fullTime int) []kernel.Breach {
	return kernel.Breaches(
		p.CheckCommitteeSize(f.Kind, f.Households, f.Adults, size),
		p.CheckFullTimeShare(f.Kind, fullTime, size),
	)
}

func (c *Community) seat(p kernel.PersonID) int {
	for i, s := range c.roster {
		if s.Person == p {
			return i
		}
	}
	return -1
}

// Errors of the community registry.
var (
	ErrCommunityExists   = kernel.Conflict("community-already-registered", "该社区(村)已登记")
	ErrCommunityNotFound = kernel.NotFound("community-not-found", "社区(村)尚未登记")
	ErrNotCommunityLevel = kernel.Invalid("jurisdiction-not-community-level", "jurisdiction", "辖区路径须指向社区/村一级(第5级)")
	ErrAlreadyMember     = kernel.Conflict("already-committee-member", "此人已是委员会成员")
	ErrNotMember         = kernel.NotFound("not-committee-member", "此人不是委员会成员")
	ErrFiguresUnchanged  = kernel.Conflict("figures-unchanged", "户数与成年人口没有变化")
)

// Register is the command to register a community.
type Register struct {
	CommunityID  kernel.CommunityID
	Name         string
	Kind         kernel.CommunityKind
	Jurisdiction kernel.JurisdictionPath
	Households   int
	Adults       int
}

// Register records a new community.
func (c *Community) Register(cmd Register, now time.Time) ([]kernel.Event, error) {
	if c.Exists() {
		return nil, ErrCommunityExists
	}
	if err := kernel.Required(string(cmd.CommunityID), "community_id", "社区编号"); err != nil {
		return nil, err
	}
	if err := kernel.Required(cmd.Name, "name", "社区名称"); err != nil {
		return nil, err
	}
	if !cmd.Kind.Valid() {
		return nil, kernel.Invalid("invalid-community-kind", "kind", "社区类型须为 urban(社区) 或 rural(村)")
	}
	if err := cmd.Jurisdiction.Validate("jurisdiction"); err != nil {
		return nil, err
	}
	if cmd.Jurisdiction.Depth() != kernel.LevelCommunity {
		return nil, ErrNotCommunityLevel
	}
	if err := checkFigures(cmd.Households, cmd.Adults); err != nil {
		return nil, err
	}
	return []kernel.Event{Registered{
		CommunityID: cmd.CommunityID, Name: cmd.Name, Kind: cmd.Kind, Jurisdiction: cmd.Jurisdiction,
		Households: cmd.Households, Adults: cmd.Adults, RegisteredAt: now.UTC(),
	}}, nil
}

func checkFigures(households, adults int) error {
	if households < 1 {
		return kernel.Invalid("invalid-households", "households", "户数须大于零")
	}
	if adults < 1 {
		return kernel.Invalid("invalid-adults", "adults", "成年人口须大于零")
	}
	return nil
}

// UpdateFigures records new household and adult counts; the sitting
// committee is checked against them (watch: committee size).
func (c *Community) UpdateFigures(households, adults int, reason string, p rulebook.Params, now time.Time) ([]kernel.Event, error) {
	if !c.Exists() {
		return nil, ErrCommunityNotFound
	}
	if err := checkFigures(households, adults); err != nil {
		return nil, err
	}
	if households == c.households && adults == c.adults {
		return nil, ErrFiguresUnchanged
	}
	if err := kernel.Required(reason, "reason", "变更原因"); err != nil {
		return nil, err
	}
	e := FiguresUpdated{CommunityID: c.id, Households: households, Adults: adults, Reason: reason, UpdatedAt: now.UTC()}
	if len(c.roster) > 0 {
		f := Figures{Kind: c.kind, Households: households, Adults: adults}
		e.Breaches = kernel.Breaches(p.CheckCommitteeSize(f.Kind, f.Households, f.Adults, len(c.roster)))
	}
	return []kernel.Event{e}, nil
}

func checkSeat(s Seat, field string) error {
	if err := kernel.Required(string(s.Person), field+".person", "成员"); err != nil {
		return err
	}
	if !s.Role.Valid() {
		return kernel.Invalid("invalid-role", field+".role", "职务须为 chair(主任)、vice-chair(副主任) 或 member(委员)")
	}
	if !s.Source.Valid() {
		return kernel.Invalid("invalid-source", field+".source", "产生方式须为 elected、by-elected 或 appointed")
	}
	if s.Personal != nil && s.Personal.Subject != s.Person {
		return kernel.Invalid("personal-data-subject-mismatch", field+".personal.subject", "个人信息须属于该成员本人")
	}
	return kernel.CheckPublicName(s.PublicName, field+".public_name")
}

func (c *Community) checkRoster(p rulebook.Params, roster []Seat) []kernel.Breach {
	full := 0
	for _, s := range roster {
		if s.FullTime {
			full++
		}
	}
	return c.Figures().CheckCommittee(p, len(roster), full)
}

// SeatCommittee records the committee of a new term taking office (watch:
// committee size, full-time share).
func (c *Community) SeatCommittee(term string, members []Seat, p rulebook.Params, now time.Time) ([]kernel.Event, error) {
	if !c.Exists() {
		return nil, ErrCommunityNotFound
	}
	if err := kernel.Required(term, "term", "届次"); err != nil {
		return nil, err
	}
	if len(members) == 0 {
		return nil, kernel.Invalid("required", "members", "委员会成员不能为空")
	}
	seen := map[kernel.PersonID]bool{}
	for i, s := range members {
		field := fmt.Sprintf("members[%d]", i)
		if err := checkSeat(s, field); err != nil {
			return nil, err
		}
		if seen[s.Person] {
			return nil, kernel.Invalid("duplicate-member", field+".person", "同一人不能重复列入委员会")
		}
		seen[s.Person] = true
	}
	members = append([]Seat(nil), members...)
	e := CommitteeSeated{CommunityID: c.id, Term: term, Members: members, SeatedAt: now.UTC()}
	e.Breaches = c.checkRoster(p, members)
	return []kernel.Event{e}, nil
}

// Join records a member joining the sitting committee (watch: committee
// size, full-time share).
func (c *Community) Join(s Seat, p rulebook.Params, now time.Time) ([]kernel.Event, error) {
	if !c.Exists() {
		return nil, ErrCommunityNotFound
	}
	if err := checkSeat(s, "member"); err != nil {
		return nil, err
	}
	if c.seat(s.Person) >= 0 {
		return nil, ErrAlreadyMember
	}
	e := MemberJoined{CommunityID: c.id, Member: s, JoinedAt: now.UTC()}
	e.Breaches = c.checkRoster(p, append(c.Roster(), s))
	return []kernel.Event{e}, nil
}

// Leave records a member leaving the sitting committee (watch: committee
// size, full-time share of the remaining members).
func (c *Community) Leave(person kernel.PersonID, reason LeaveReason, p rulebook.Params, now time.Time) ([]kernel.Event, error) {
	if !c.Exists() {
		return nil, ErrCommunityNotFound
	}
	i := c.seat(person)
	if i < 0 {
		return nil, ErrNotMember
	}
	if !reason.Valid() {
		return nil, kernel.Invalid("invalid-leave-reason", "reason", "离任原因须为 resigned、recalled、term-ended、deceased 或 other")
	}
	rest := append(c.Roster()[:i:i], c.roster[i+1:]...)
	e := MemberLeft{CommunityID: c.id, Person: person, Reason: reason, LeftAt: now.UTC()}
	if len(rest) > 0 {
		e.Breaches = c.checkRoster(p, rest)
	} else {
		e.Breaches = kernel.Breaches(p.CheckCommitteeSize(c.kind, c.households, c.adults, 0))
	}
	return []kernel.Event{e}, nil
}
