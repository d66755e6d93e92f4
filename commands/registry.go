package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// The registry (jurisdiction tree and communities) and the rulebook. Registering nodes and communities,
// their figures and rule overrides need the Administer right on the jurisdiction concerned; the committee
// roster is recorded like any other affair of the community.

// RegisterJurisdiction registers a node of the jurisdiction tree (登记辖区): province 省, city 市, district
// or county 区/县, street or township 街道/镇, grid 网格 or building 楼栋. Its parent must be registered
// first (the province level needs none). Communities and villages are registered with register-community.
type RegisterJurisdiction struct {
	Path string `json:"path" minLength:"1" maxLength:"512" pattern:"^[A-Za-z0-9_]+(/[A-Za-z0-9_]+){0,6}$" doc:"Full path of codes from the province down, e.g. 33/3303/330303 (辖区路径); the last code names the node's stream"`
	Name string `json:"name" minLength:"1" maxLength:"128" doc:"Name of the node, e.g. 龙湾区"`
}

// RegisterJurisdiction handles register-jurisdiction: stream jurisdiction-<code>-node, Administer on path.
func (h *Handlers) RegisterJurisdiction(ctx context.Context, m Meta, c RegisterJurisdiction) (Result, error) {
	path := kernel.JurisdictionPath(c.Path)
	return h.x.execute(ctx, m, Administer, func() (Target, error) {
		if err := checkPath(path, "path"); err != nil {
			return Target{}, err
		}
		if path.Depth() == kernel.LevelCommunity {
			return Target{}, kernel.Invalid("community-level-path", "path", "社区/村一级请用 register-community 登记")
		}
		return Target{Stream: community.JurisdictionStream(path), CommunityID: communityOf(path), Path: path}, nil
	}, func(history []kernel.Event, now time.Time) ([]kernel.Event, error) {
		j := community.RehydrateJurisdiction(history)
		if j.Exists() && j.Path() != path {
			return nil, kernel.Conflict("jurisdiction-code-taken", fmt.Sprintf("编码 %s 已由辖区 %s 使用", path.Last(), j.Path())).WithField("path")
		}
		parentExists, err := h.parentRegistered(ctx, path)
		if err != nil {
			return nil, err
		}
		events, err := j.Register(path, c.Name, parentExists, now)
		return events, parentField(err, path, "path")
	})
}

// RegisterCommunity registers a community (社区, residents' committee 居委会) or village (村, villagers'
// committee 村委会) with its household count and adult population. Its street or township must be
// registered first, and its id is the last code of its jurisdiction path.
type RegisterCommunity struct {
	CommunityID  string               `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码), the last code of jurisdiction, e.g. 330303001001"`
	Name         string               `json:"name" minLength:"1" maxLength:"128" doc:"Name, e.g. 罗西社区"`
	Kind         kernel.CommunityKind `json:"kind" doc:"urban: 社区 (居委会); rural: 村 (村委会)"`
	Jurisdiction string               `json:"jurisdiction" minLength:"1" maxLength:"512" pattern:"^[A-Za-z0-9_]+(/[A-Za-z0-9_]+){4}$" doc:"Full jurisdiction path at community level (5 codes), e.g. 33/3303/330303/330303001/330303001001"`
	Households   int                  `json:"households" minimum:"1" maximum:"1000000" doc:"Registered households (户数)"`
	Adults       int                  `json:"adults" minimum:"1" maximum:"1000000" doc:"Adult population (18周岁以上人口)"`
}

// RegisterCommunity handles register-community: stream community-<id>-profile, Administer on jurisdiction.
func (h *Handlers) RegisterCommunity(ctx context.Context, m Meta, c RegisterCommunity) (Result, error) {
	path := kernel.JurisdictionPath(c.Jurisdiction)
	return h.x.execute(ctx, m, Administer, func() (Target, error) {
		if err := checkCode(c.CommunityID, "community_id"); err != nil {
			return Target{}, err
		}
		if err := checkPath(path, "jurisdiction"); err != nil {
			return Target{}, err
		}
		if path.Depth() != kernel.LevelCommunity {
			return Target{}, community.ErrNotCommunityLevel
		}
		if path.Last() != c.CommunityID {
			return Target{}, kernel.Invalid("community-id-not-path-code", "community_id", "社区编号须与辖区路径最后一级编码一致")
		}
		id := kernel.CommunityID(c.CommunityID)
		return Target{Stream: community.ProfileStream(id), CommunityID: id, Path: path}, nil
	}, func(history []kernel.Event, now time.Time) ([]kernel.Event, error) {
		cm := community.RehydrateCommunity(history)
		if !cm.Exists() {
			parentExists, err := h.parentRegistered(ctx, path)
			if err != nil {
				return nil, err
			}
			if !parentExists {
				return nil, parentField(community.ErrParentNotFound, path, "jurisdiction")
			}
		}
		return cm.Register(community.Register{
			CommunityID: kernel.CommunityID(c.CommunityID), Name: c.Name, Kind: c.Kind,
			Jurisdiction: path, Households: c.Households, Adults: c.Adults,
		}, now)
	})
}

// UpdateCommunityFigures records new registered household and adult counts (户数、成年人口变更), e.g.
// after the annual statistics. The sitting committee is checked against them (watch: committee size).
type UpdateCommunityFigures struct {
	CommunityID string `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	Households  int    `json:"households" minimum:"1" maximum:"1000000" doc:"Registered households (户数)"`
	Adults      int    `json:"adults" minimum:"1" maximum:"1000000" doc:"Adult population (18周岁以上人口)"`
	Reason      string `json:"reason" minLength:"1" maxLength:"512" doc:"Why the figures changed, e.g. 年度人口统计"`
}

// UpdateCommunityFigures handles update-community-figures: stream community-<id>-profile, Administer on
// the community's path (figures are registry data: they set quorums and funding tiers).
func (h *Handlers) UpdateCommunityFigures(ctx context.Context, m Meta, c UpdateCommunityFigures) (Result, error) {
	return onCommunity(ctx, h, m, Administer, c.CommunityID, community.ProfileStream, community.RehydrateCommunity,
		ruled(func(cm *community.Community, f Facts, p rulebook.Params) ([]kernel.Event, error) {
			return cm.UpdateFigures(c.Households, c.Adults, c.Reason, p, f.Now)
		}))
}

// CommitteeSeat is a member of the community's committee (居委会/村委会成员).
type CommitteeSeat struct {
	Person     string           `json:"person" minLength:"1" maxLength:"128" doc:"Opaque person id of the member"`
	Role       community.Role   `json:"role" doc:"chair 主任, vice-chair 副主任, member 委员"`
	FullTime   bool             `json:"full_time" doc:"Whether the member works full time (专职)"`
	Source     community.Source `json:"source" doc:"How the member came to the committee: elected 换届选举, by-elected 补选, appointed 任命/聘用"`
	ElectionID string           `json:"election_id,omitempty" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The election that produced the member, if any"`
	Personal   *Personal        `json:"personal,omitempty" doc:"The member's personal data (never public)"`
	PublicName string           `json:"public_name,omitempty" maxLength:"32" doc:"The name the roster shows (公示姓名): public"`
}

func (s CommitteeSeat) seat() community.Seat {
	return community.Seat{
		Person: kernel.PersonID(s.Person), Role: s.Role, FullTime: s.FullTime,
		Source: s.Source, ElectionID: s.ElectionID, Personal: s.Personal.of(s.Person), PublicName: s.PublicName,
	}
}

// SeatCommittee records the committee of a new term taking office (新一届委员会就职), replacing the
// roster (watch: committee size, full-time share).
type SeatCommittee struct {
	CommunityID string          `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	Term        string          `json:"term" minLength:"1" maxLength:"64" doc:"The term, e.g. 2026-2031 (届次)"`
	Members     []CommitteeSeat `json:"members" minItems:"1" doc:"Every member of the new committee"`
}

// SeatCommittee handles seat-committee: stream community-<id>-profile.
func (h *Handlers) SeatCommittee(ctx context.Context, m Meta, c SeatCommittee) (Result, error) {
	seats := make([]community.Seat, len(c.Members))
	for i, s := range c.Members {
		seats[i] = s.seat()
	}
	return onCommunity(ctx, h, m, RecordAffairs, c.CommunityID, community.ProfileStream, community.RehydrateCommunity,
		ruled(func(cm *community.Community, f Facts, p rulebook.Params) ([]kernel.Event, error) {
			return cm.SeatCommittee(c.Term, seats, p, f.Now)
		}))
}

// JoinCommittee records one member joining the sitting committee (补选 or appointment) (watch: committee
// size, full-time share).
type JoinCommittee struct {
	CommunityID string        `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	Member      CommitteeSeat `json:"member" doc:"The member joining"`
}

// JoinCommittee handles join-committee: stream community-<id>-profile.
func (h *Handlers) JoinCommittee(ctx context.Context, m Meta, c JoinCommittee) (Result, error) {
	return onCommunity(ctx, h, m, RecordAffairs, c.CommunityID, community.ProfileStream, community.RehydrateCommunity,
		ruled(func(cm *community.Community, f Facts, p rulebook.Params) ([]kernel.Event, error) {
			return cm.Join(c.Member.seat(), p, f.Now)
		}))
}

// LeaveCommittee records a member leaving the sitting committee (委员离任) (watch: committee size of the
// remaining members).
type LeaveCommittee struct {
	CommunityID string                `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	Person      string                `json:"person" minLength:"1" maxLength:"128" doc:"Opaque person id of the member leaving"`
	Reason      community.LeaveReason `json:"reason" doc:"resigned 辞职, recalled 罢免, term-ended 任期届满, deceased, other"`
}

// LeaveCommittee handles leave-committee: stream community-<id>-profile.
func (h *Handlers) LeaveCommittee(ctx context.Context, m Meta, c LeaveCommittee) (Result, error) {
	return onCommunity(ctx, h, m, RecordAffairs, c.CommunityID, community.ProfileStream, community.RehydrateCommunity,
		ruled(func(cm *community.Community, f Facts, p rulebook.Params) ([]kernel.Event, error) {
			return cm.Leave(kernel.PersonID(c.Person), c.Reason, p, f.Now)
		}))
}

// SetRuleOverride sets a rule parameter for a jurisdiction and everything under it (规则覆盖), e.g. a
// lower major-spending threshold for a district. The most specific override wins. Setting the value
// already in force records nothing.
type SetRuleOverride struct {
	Jurisdiction string `json:"jurisdiction" minLength:"1" maxLength:"512" pattern:"^[A-Za-z0-9_]+(/[A-Za-z0-9_]+){0,6}$" doc:"Registered jurisdiction (or community) path the override applies to"`
	Rule         string `json:"rule" minLength:"1" maxLength:"64" doc:"Rule id, e.g. major-matter-resolution"`
	Parameter    string `json:"parameter" minLength:"1" maxLength:"64" doc:"Parameter of the rule, e.g. threshold or severity"`
	Value        string `json:"value" minLength:"1" maxLength:"64" doc:"New value in text form: a span (7d, 6mo), a count, an amount in fen, a threshold (>1/2, >=2/3) or a severity (red, yellow)"`
	Reason       string `json:"reason" minLength:"1" maxLength:"512" doc:"Why the jurisdiction departs from the inherited value"`
	By           string `json:"by,omitempty" maxLength:"128" doc:"Person who decided the override, if recorded"`
}

// SetRuleOverride handles set-rule-override: stream rulebook-<code>-overrides, Administer on jurisdiction.
func (h *Handlers) SetRuleOverride(ctx context.Context, m Meta, c SetRuleOverride) (Result, error) {
	return h.onOverrides(ctx, m, c.Jurisdiction, func(o *rulebook.Overrides, path kernel.JurisdictionPath, now time.Time) ([]kernel.Event, error) {
		return o.Set(rulebook.SetOverride{
			Jurisdiction: path, Rule: kernel.RuleID(c.Rule), Param: c.Parameter, Value: c.Value,
			Reason: c.Reason, By: kernel.PersonID(c.By),
		}, now)
	})
}

// RemoveRuleOverride removes a jurisdiction's override, so it inherits the value again (撤销规则覆盖).
type RemoveRuleOverride struct {
	Jurisdiction string `json:"jurisdiction" minLength:"1" maxLength:"512" pattern:"^[A-Za-z0-9_]+(/[A-Za-z0-9_]+){0,6}$" doc:"Jurisdiction (or community) path the override was set on"`
	Rule         string `json:"rule" minLength:"1" maxLength:"64" doc:"Rule id, e.g. major-matter-resolution"`
	Parameter    string `json:"parameter" minLength:"1" maxLength:"64" doc:"Parameter of the rule"`
	Reason       string `json:"reason" minLength:"1" maxLength:"512" doc:"Why the override is removed"`
	By           string `json:"by,omitempty" maxLength:"128" doc:"Person who decided, if recorded"`
}

// RemoveRuleOverride handles remove-rule-override: stream rulebook-<code>-overrides, Administer on
// jurisdiction.
func (h *Handlers) RemoveRuleOverride(ctx context.Context, m Meta, c RemoveRuleOverride) (Result, error) {
	return h.onOverrides(ctx, m, c.Jurisdiction, func(o *rulebook.Overrides, path kernel.JurisdictionPath, now time.Time) ([]kernel.Event, error) {
		return o.Remove(path, kernel.RuleID(c.Rule), c.Parameter, c.Reason, kernel.PersonID(c.By), now)
	})
}

func (h *Handlers) onOverrides(ctx context.Context, m Meta, jurisdiction string,
	decide func(o *rulebook.Overrides, path kernel.JurisdictionPath, now time.Time) ([]kernel.Event, error)) (Result, error) {
	path := kernel.JurisdictionPath(jurisdiction)
	return h.x.execute(ctx, m, Administer, func() (Target, error) {
		if err := checkPath(path, "jurisdiction"); err != nil {
			return Target{}, err
		}
		return Target{Stream: rulebook.OverridesStream(path), CommunityID: communityOf(path), Path: path}, nil
	}, func(history []kernel.Event, now time.Time) ([]kernel.Event, error) {
		if err := h.requireNode(ctx, path, "jurisdiction"); err != nil {
			return nil, err
		}
		return decide(rulebook.RehydrateOverrides(history), path, now)
	})
}

// checkPath validates a jurisdiction path whose codes go into stream names.
func checkPath(path kernel.JurisdictionPath, field string) error {
	if err := path.Validate(field); err != nil {
		return err
	}
	for _, seg := range path.Segments() {
		if err := checkCode(seg, field); err != nil {
			return err
		}
	}
	return nil
}

// communityOf is the community a path lies in ("" above the community level), for event metadata.
func communityOf(path kernel.JurisdictionPath) kernel.CommunityID {
	segs := path.Segments()
	if len(segs) < kernel.LevelCommunity {
		return ""
	}
	return kernel.CommunityID(segs[kernel.LevelCommunity-1])
}

// parentRegistered reports whether path's parent is registered; the root has none to need.
func (h *Handlers) parentRegistered(ctx context.Context, path kernel.JurisdictionPath) (bool, error) {
	parent, ok := path.Parent()
	if !ok {
		return false, nil
	}
	return h.nodeRegistered(ctx, parent)
}

// parentField names the field and the missing parent in ErrParentNotFound.
func parentField(err error, path kernel.JurisdictionPath, field string) error {
	if !errors.Is(err, community.ErrParentNotFound) {
		return err
	}
	parent, _ := path.Parent()
	return community.ErrParentNotFound.WithField(field).WithMsg("上级辖区 %s 尚未登记", parent)
}
