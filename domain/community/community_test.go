package community_test

import (
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/internal/domaintest"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

var t0 = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)

const path kernel.JurisdictionPath = "33/3303/330303/330303001/330303001001"

var defaults = rulebook.Defaults()

func seat(p kernel.PersonID, role community.Role, fullTime bool) community.Seat {
	return community.Seat{Person: p, Role: role, FullTime: fullTime, Source: community.Elected, ElectionID: "e-2026"}
}

func samples() []kernel.Event {
	named := seat("p-1", community.Chair, true)
	named.Personal = &kernel.PersonalData{Subject: "p-1", Name: "张三", NationalID: "330303199001011234", Phone: "13800000000", Address: "永中街道1号"}
	return []kernel.Event{
		community.JurisdictionRegistered{Path: "33/3303/330303/330303001", Name: "永中街道", Level: 4, RegisteredAt: t0},
		community.Registered{CommunityID: "330303001001", Name: "罗西社区", Kind: kernel.Urban, Jurisdiction: path, Households: 2400, Adults: 5200, RegisteredAt: t0},
		community.FiguresUpdated{CommunityID: "330303001001", Households: 4100, Adults: 9000, Reason: "年度人口统计", UpdatedAt: t0,
			Watch: kernel.Watch{Breaches: []kernel.Breach{{Rule: rulebook.CommitteeSize, Detail: "委员会现有5人，应为7人"}}}},
		community.CommitteeSeated{CommunityID: "330303001001", Term: "2026-2031", Members: []community.Seat{named, seat("p-2", community.Member, false)}, SeatedAt: t0,
			Watch: kernel.Watch{Breaches: []kernel.Breach{{Rule: rulebook.CommitteeSize, Detail: "委员会现有2人"}, {Rule: rulebook.FullTimeShare, Detail: "专职1人"}}}},
		community.MemberJoined{CommunityID: "330303001001", Member: named, JoinedAt: t0,
			Watch: kernel.Watch{Breaches: []kernel.Breach{{Rule: rulebook.CommitteeSize, Detail: "委员会现有8人"}}}},
		community.MemberLeft{CommunityID: "330303001001", Person: "p-2", Reason: community.Resigned, LeftAt: t0,
			Watch: kernel.Watch{Breaches: []kernel.Breach{{Rule: rulebook.CommitteeSize, Detail: "委员会现有4人"}}}},
	}
}

func TestGoldens(t *testing.T) {
	domaintest.Goldens(t, domaintest.Registry(t, community.RegisterEvents), "testdata", samples())
}

func registered(kind kernel.CommunityKind, households, adults int) community.Registered {
	return community.Registered{CommunityID: "330303001001", Name: "罗西社区", Kind: kind, Jurisdiction: path,
		Households: households, Adults: adults, RegisteredAt: t0}
}

// five full-time members: a good committee for an urban community of 2400 households.
func fiveSeats() []community.Seat {
	return []community.Seat{
		seat("p-1", community.Chair, true), seat("p-2", community.ViceChair, true), seat("p-3", community.Member, true),
		seat("p-4", community.Member, true), seat("p-5", community.Member, false),
	}
}

func run(t *testing.T, cases []domaintest.Case[*community.Community]) {
	t.Helper()
	domaintest.Run(t, domaintest.Registry(t, community.RegisterEvents), func() *community.Community { return &community.Community{} }, cases)
}

func TestCommunity(t *testing.T) {
	urban := registered(kernel.Urban, 2400, 5200)
	seated := community.CommitteeSeated{CommunityID: "330303001001", Term: "2026-2031", Members: fiveSeats(), SeatedAt: t0}
	run(t, []domaintest.Case[*community.Community]{
		{
			Name: "register",
			When: func(c *community.Community) ([]kernel.Event, error) {
				return c.Register(community.Register{CommunityID: "330303001001", Name: "罗西社区", Kind: kernel.Urban,
					Jurisdiction: path, Households: 2400, Adults: 5200}, t0)
			},
			Then: []kernel.Event{urban},
		},
		{
			Name:  "register twice",
			Given: []kernel.Event{urban},
			When: func(c *community.Community) ([]kernel.Event, error) {
				return c.Register(community.Register{CommunityID: "330303001001", Name: "罗西社区", Kind: kernel.Urban,
					Jurisdiction: path, Households: 1, Adults: 1}, t0)
			},
			ThenErr: community.ErrCommunityExists,
		},
		{
			Name: "a path that is not at community level",
			When: func(c *community.Community) ([]kernel.Event, error) {
				return c.Register(community.Register{CommunityID: "330303001", Name: "永中街道", Kind: kernel.Urban,
					Jurisdiction: "33/3303/330303/330303001", Households: 1, Adults: 1}, t0)
			},
			ThenErr: community.ErrNotCommunityLevel,
		},
		{
			Name: "bad kind",
			When: func(c *community.Community) ([]kernel.Event, error) {
				return c.Register(community.Register{CommunityID: "x", Name: "x", Kind: "town", Jurisdiction: path, Households: 1, Adults: 1}, t0)
			},
			ThenErr: kernel.Invalid("invalid-community-kind", "kind", ""),
		},
		{
			Name: "update figures before registration",
			When: func(c *community.Community) ([]kernel.Event, error) {
				return c.UpdateFigures(10, 10, "统计", defaults, t0)
			},
			ThenErr: community.ErrCommunityNotFound,
		},
		{
			Name:  "update figures",
			Given: []kernel.Event{urban, seated},
			When: func(c *community.Community) ([]kernel.Event, error) {
				return c.UpdateFigures(2600, 5600, "年度统计", defaults, t0)
			},
			Then: []kernel.Event{community.FiguresUpdated{CommunityID: "330303001001", Households: 2600, Adults: 5600, Reason: "年度统计", UpdatedAt: t0}},
		},
		{
			Name:  "seat the committee",
			Given: []kernel.Event{urban},
			When: func(c *community.Community) ([]kernel.Event, error) {
				return c.SeatCommittee("2026-2031", fiveSeats(), defaults, t0)
			},
			Then: []kernel.Event{seated},
		},
		{
			Name:  "a member twice",
			Given: []kernel.Event{urban},
			When: func(c *community.Community) ([]kernel.Event, error) {
				return c.SeatCommittee("2026-2031", append(fiveSeats(), seat("p-1", community.Member, true)), defaults, t0)
			},
			ThenErr: kernel.Invalid("duplicate-member", "members[5].person", ""),
		},
		{
			Name:  "join: already a member",
			Given: []kernel.Event{urban, seated},
			When: func(c *community.Community) ([]kernel.Event, error) {
				return c.Join(seat("p-3", community.Member, true), defaults, t0)
			},
			ThenErr: community.ErrAlreadyMember,
		},
		{
			Name:  "join a sixth member",
			Given: []kernel.Event{urban, seated},
			When: func(c *community.Community) ([]kernel.Event, error) {
				return c.Join(seat("p-6", community.Member, true), defaults, t0)
			},
			ThenNames: []string{"community.member-joined"},
		},
		{
			Name:  "leave: not a member",
			Given: []kernel.Event{urban, seated},
			When: func(c *community.Community) ([]kernel.Event, error) {
				return c.Leave("p-9", community.Resigned, defaults, t0)
			},
			ThenErr: community.ErrNotMember,
		},
	})
}

// TestRule_CommitteeSize: 居委会5—7人、约500户1人；村委会1000人以下3人、以上5人 (watch).
func TestRule_CommitteeSize(t *testing.T) {
	urban := registered(kernel.Urban, 2400, 5200)
	seated := community.CommitteeSeated{CommunityID: "330303001001", Term: "2026-2031", Members: fiveSeats(), SeatedAt: t0}
	run(t, []domaintest.Case[*community.Community]{
		{
			Name:  "a residents' committee of four",
			Given: []kernel.Event{urban},
			When: func(c *community.Community) ([]kernel.Event, error) {
				return c.SeatCommittee("2026-2031", fiveSeats()[:4], defaults, t0)
			},
			ThenBreaches: []kernel.RuleID{rulebook.CommitteeSize},
		},
		{
			Name:  "a member leaving a committee of five",
			Given: []kernel.Event{urban, seated},
			When: func(c *community.Community) ([]kernel.Event, error) {
				return c.Leave("p-5", community.Resigned, defaults, t0)
			},
			ThenBreaches: []kernel.RuleID{rulebook.CommitteeSize},
		},
		{
			Name:  "households grow to 3500: five members are two short of seven",
			Given: []kernel.Event{urban, seated},
			When: func(c *community.Community) ([]kernel.Event, error) {
				return c.UpdateFigures(3500, 8000, "新建小区入住", defaults, t0)
			},
			ThenBreaches: []kernel.RuleID{rulebook.CommitteeSize},
		},
		{
			Name:  "a village of 1200 adults with three members",
			Given: []kernel.Event{registered(kernel.Rural, 400, 1200)},
			When: func(c *community.Community) ([]kernel.Event, error) {
				return c.SeatCommittee("2026-2031", fiveSeats()[:3], defaults, t0)
			},
			ThenBreaches: []kernel.RuleID{rulebook.CommitteeSize},
		},
		{
			Name:  "a village of 800 adults with three members is fine, full-time or not",
			Given: []kernel.Event{registered(kernel.Rural, 300, 800)},
			When: func(c *community.Community) ([]kernel.Event, error) {
				return c.SeatCommittee("2026-2031", []community.Seat{seat("p-1", community.Chair, false), seat("p-2", community.Member, false), seat("p-3", community.Member, false)}, defaults, t0)
			},
			ThenNames: []string{"community.committee-seated"},
		},
	})
}

// TestRule_FullTimeShare: 专职成员不少于三分之二 (watch, residents' committees).
func TestRule_FullTimeShare(t *testing.T) {
	urban := registered(kernel.Urban, 2400, 5200)
	seats := fiveSeats()
	seats[3].FullTime = false // 3 of 5 full-time < 2/3
	run(t, []domaintest.Case[*community.Community]{
		{
			Name:  "three of five full-time",
			Given: []kernel.Event{urban},
			When: func(c *community.Community) ([]kernel.Event, error) {
				return c.SeatCommittee("2026-2031", seats, defaults, t0)
			},
			ThenBreaches: []kernel.RuleID{rulebook.FullTimeShare},
		},
		{
			Name:  "a part-time member joining four full-time and one part-time",
			Given: []kernel.Event{urban, community.CommitteeSeated{CommunityID: "330303001001", Term: "t", Members: fiveSeats(), SeatedAt: t0}},
			When: func(c *community.Community) ([]kernel.Event, error) {
				return c.Join(seat("p-6", community.Member, false), defaults, t0) // 4 of 6 is exactly 2/3: fine
			},
			ThenNames: []string{"community.member-joined"},
		},
	})
}

func TestJurisdiction(t *testing.T) {
	reg := community.JurisdictionRegistered{Path: "33/3303", Name: "温州市", Level: 2, RegisteredAt: t0}
	domaintest.Run(t, domaintest.Registry(t, community.RegisterEvents), func() *community.Jurisdiction { return &community.Jurisdiction{} },
		[]domaintest.Case[*community.Jurisdiction]{
			{Name: "register", When: func(j *community.Jurisdiction) ([]kernel.Event, error) {
				return j.Register("33/3303", "温州市", true, t0)
			}, Then: []kernel.Event{reg}},
			{Name: "twice", Given: []kernel.Event{reg}, When: func(j *community.Jurisdiction) ([]kernel.Event, error) {
				return j.Register("33/3303", "温州市", true, t0)
			}, ThenErr: community.ErrJurisdictionExists},
			{Name: "parent missing", When: func(j *community.Jurisdiction) ([]kernel.Event, error) {
				return j.Register("33/3303", "温州市", false, t0)
			}, ThenErr: community.ErrParentNotFound},
			{Name: "root needs no parent", When: func(j *community.Jurisdiction) ([]kernel.Event, error) {
				return j.Register("33", "浙江省", false, t0)
			}, ThenNames: []string{"community.jurisdiction-registered"}},
		})
}
