package decodetest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/election"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
)

// GenConfig shapes a generated history.
type GenConfig struct {
	// Events is how many events to generate (the last command may add a few more).
	Events int
	// Communities is how many communities act; default Events/600, at least 4.
	Communities int
	// Seed makes the history reproducible.
	Seed uint64
}

// Generate builds a realistic history of a district's communities, as the commands would record it:
// the jurisdiction tree and the registry, committees seated, budgets allocated, expenditures requested,
// approved, paid, rejected and cancelled (organisations and individuals as payees, a few requests in the
// old v1 schema), notices published, corrected and withdrawn with objections and answers, meetings with
// attendance, motions, votes, resolutions and minutes, deliberation topics through the five steps, and
// elections from committee to certification with recalls, by-elections and resignations. People carry
// personal data (names, national ID numbers, phones, addresses) wherever the domain allows. The
// communities act interleaved, so an aggregate's events are spread over $all as in real life.
func Generate(cfg GenConfig) *History {
	if cfg.Communities <= 0 {
		cfg.Communities = max(4, cfg.Events/600)
	}
	g := &generator{rnd: rand.New(rand.NewPCG(cfg.Seed, 0x5eed)), h: &History{}}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, n := range []struct{ path, name string }{{"33", "浙江省"}, {"33/3303", "温州市"}} {
		g.node(n.path, n.name, start)
	}
	var comms []*genCommunity
	for i := range cfg.Communities {
		district := fmt.Sprintf("3303%02d", 3+i%4)
		street := fmt.Sprintf("%s%03d", district, 1+i/4%10)
		dpath, spath := "33/3303/"+district, "33/3303/"+district+"/"+street
		if !g.nodes[dpath] {
			g.node(dpath, "区"+district, start)
		}
		if !g.nodes[spath] {
			g.node(spath, "街道"+street, start)
		}
		id := fmt.Sprintf("%s%03d", street, i)
		c := &genCommunity{g: g, place: Place{ID: id, Path: spath + "/" + id}, clock: start.Add(time.Duration(g.rnd.IntN(240)) * time.Hour)}
		c.active = append(c.active, c.registration())
		comms = append(comms, c)
	}
	for len(g.h.Events) < cfg.Events {
		comms[g.rnd.IntN(len(comms))].step()
	}
	return g.h
}

type generator struct {
	rnd    *rand.Rand
	h      *History
	nodes  map[string]bool
	people int
}

func (g *generator) node(path, name string, at time.Time) {
	if g.nodes == nil {
		g.nodes = map[string]bool{}
	}
	g.nodes[path] = true
	p := kernel.JurisdictionPath(path)
	g.h.Record(community.JurisdictionStream(p), Place{Path: path}, at,
		community.JurisdictionRegistered{Path: p, Name: name, Level: p.Depth(), RegisteredAt: at})
}

var (
	surnames = []rune("赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜")
	given    = []rune("璟琰珩瑾珂琮瑜璇琬琛璐瑶珏玮琨璋瑄琪璞瑛")
)

// person makes up a person with personal data: a three-character name, an 18-digit ID number, a phone
// and an address, all distinct per person.
func (g *generator) person() (kernel.PersonID, *kernel.PersonalData) {
	g.people++
	n := g.people
	id := kernel.PersonID(fmt.Sprintf("p-%07d", n))
	name := string([]rune{surnames[n%len(surnames)], given[n/len(surnames)%len(given)], given[n/len(surnames)/len(given)%len(given)]})
	return id, &kernel.PersonalData{Subject: id, Name: name, NationalID: fmt.Sprintf("3303031975%08d", n),
		Phone: fmt.Sprintf("139%08d", n), Address: fmt.Sprintf("龙湾区永中街道人民路%d号", 1000+n)}
}

// command is one command of an episode: it returns the stream and the events it records at `at`, or a
// raw event when raw is set.
type command func(at time.Time) (stream string, evs []kernel.Event, raw *rawEvent)

type rawEvent struct {
	typ     string
	version int
	data    []byte
}

type episode struct{ cmds []command }

type genCommunity struct {
	g          *generator
	place      Place
	clock      time.Time
	active     []*episode
	n          int // ids
	electing   bool
	registered bool
}

func (c *genCommunity) id(prefix string) string {
	c.n++
	return fmt.Sprintf("%s-%d", prefix, c.n)
}

func (c *genCommunity) stream(kind, id string) string {
	return eventlog.StreamName(kind, c.place.ID, id)
}

func (c *genCommunity) step() {
	rnd := c.g.rnd
	if c.registered && (len(c.active) == 0 || (len(c.active) < 6 && rnd.IntN(3) == 0)) {
		c.active = append(c.active, c.newEpisode())
	}
	i := rnd.IntN(len(c.active))
	if !c.registered {
		i = 0
	}
	ep := c.active[i]
	c.clock = c.clock.Add(time.Duration(1+rnd.IntN(600)) * time.Minute)
	stream, evs, raw := ep.cmds[0](c.clock)
	if raw != nil {
		c.g.h.RecordRaw(stream, c.place, c.clock, raw.typ, raw.version, raw.data)
	} else if len(evs) > 0 {
		c.g.h.Record(stream, c.place, c.clock, evs...)
	}
	ep.cmds = ep.cmds[1:]
	if len(ep.cmds) == 0 {
		c.active = append(c.active[:i], c.active[i+1:]...)
	}
}

func (c *genCommunity) newEpisode() *episode {
	r := c.g.rnd.IntN(100)
	switch {
	case r < 38:
		return c.expenditure()
	case r < 60:
		return c.notice()
	case r < 76:
		return c.meeting()
	case r < 86:
		return c.topic()
	case r < 93:
		return c.allocation()
	case r < 95:
		return c.figures()
	case !c.electing:
		c.electing = true
		return c.election()
	}
	return c.allocation()
}

func (c *genCommunity) registration() *episode {
	profile := c.stream("community", "profile")
	id := kernel.CommunityID(c.place.ID)
	return &episode{cmds: []command{
		func(at time.Time) (string, []kernel.Event, *rawEvent) {
			return profile, []kernel.Event{community.Registered{CommunityID: id, Name: "社区" + c.place.ID, Kind: kernel.Urban,
				Jurisdiction: kernel.JurisdictionPath(c.place.Path), Households: 1000 + c.g.rnd.IntN(3000), Adults: 2000 + c.g.rnd.IntN(6000),
				RegisteredAt: at}}, nil
		},
		func(at time.Time) (string, []kernel.Event, *rawEvent) {
			c.registered = true
			var seats []community.Seat
			for i, role := range []community.Role{community.Chair, community.ViceChair, community.Member, community.Member, community.Member} {
				p, pd := c.g.person()
				seats = append(seats, community.Seat{Person: p, Role: role, FullTime: i < 4, Source: community.Elected, ElectionID: "e-0", Personal: pd})
			}
			return profile, []kernel.Event{community.CommitteeSeated{CommunityID: id, Term: "2021-2026", Members: seats, SeatedAt: at}}, nil
		},
	}}
}

func (c *genCommunity) figures() *episode {
	return &episode{cmds: []command{func(at time.Time) (string, []kernel.Event, *rawEvent) {
		return c.stream("community", "profile"), []kernel.Event{community.FiguresUpdated{CommunityID: kernel.CommunityID(c.place.ID),
			Households: 1000 + c.g.rnd.IntN(3000), Adults: 2000 + c.g.rnd.IntN(6000), Reason: "年度人口统计", UpdatedAt: at}}, nil
	}}}
}

var (
	sources    = []funds.Source{funds.CentralProject, funds.CountyFinance, funds.Department, funds.AssetSwap, funds.StreetFinance, funds.SelfRaised}
	categories = []funds.Category{funds.Operating, funds.Startup, funds.PartyBuilding, funds.Project, funds.Salaries, funds.OtherCategory}
	orgs       = []string{"温州市龙湾区某照明工程有限公司", "龙湾区某建筑劳务有限公司", "某物业服务有限公司", "某文具办公用品商行", "某园林绿化工程有限公司"}
)

func (c *genCommunity) allocation() *episode {
	return &episode{cmds: []command{func(at time.Time) (string, []kernel.Event, *rawEvent) {
		year := at.Year()
		return c.stream("budget", fmt.Sprint(year)), []kernel.Event{funds.BudgetAllocated{FiscalYear: year, AllocationID: c.id("a"),
			Source: sources[c.g.rnd.IntN(len(sources))], Category: categories[c.g.rnd.IntN(len(categories))],
			Amount: kernel.Fen(100_000 * (1 + c.g.rnd.IntN(500))), Note: "拨付", AllocatedAt: at}}, nil
	}}}
}

func (c *genCommunity) expenditure() *episode {
	rnd := c.g.rnd
	id := c.id("x")
	s := c.stream("expenditure", id)
	amount := kernel.Fen(1_000 + rnd.IntN(6_000_000))
	var cmds []command
	cmds = append(cmds, func(at time.Time) (string, []kernel.Event, *rawEvent) {
		cat := categories[rnd.IntN(len(categories))]
		payee := funds.Payee{Kind: funds.Organisation, Organisation: orgs[rnd.IntN(len(orgs))]}
		if rnd.IntN(10) < 4 {
			p, pd := c.g.person()
			payee = funds.Payee{Kind: funds.Individual, Person: p, MaskedName: kernel.MaskName(pd.Name), Personal: pd}
		}
		if rnd.IntN(50) == 0 { // an old client's v1 request: amount as a decimal yuan string
			b, _ := json.Marshal(map[string]any{"expenditure_id": id, "fiscal_year": at.Year(), "category": cat, "purpose": "维修",
				"amount_yuan": fmt.Sprintf("%d.%02d", amount/100, amount%100), "payee": payee, "requested_at": at})
			return s, nil, &rawEvent{typ: "funds.expenditure-requested", version: 1, data: b}
		}
		return s, []kernel.Event{funds.ExpenditureRequested{ExpenditureID: id, FiscalYear: at.Year(), Category: cat,
			Kind: []funds.Kind{funds.Salary, funds.Allowance, funds.OtherKind}[rnd.IntN(3)], Purpose: "用途说明" + id, Amount: amount,
			Payee: payee, RequestedAt: at}}, nil
	})
	approve := func(at time.Time) (string, []kernel.Event, *rawEvent) {
		var ref *funds.ResolutionRef
		if amount >= 5_000_000 {
			ref = &funds.ResolutionRef{ID: "r-" + id, MeetingID: "m-" + id, MeetingKind: meeting.Representatives, Subject: meeting.MajorSpending,
				AdoptedAt: at.Add(-time.Hour), Ceiling: amount}
		}
		return s, []kernel.Event{funds.ExpenditureApproved{ExpenditureID: id, By: "p-approver", Resolution: ref, ApprovedAt: at}}, nil
	}
	pay := func(approved bool) command {
		return func(at time.Time) (string, []kernel.Event, *rawEvent) {
			return s, []kernel.Event{funds.ExpenditurePaid{ExpenditureID: id, VoucherNo: "记-" + id, Amount: amount, WasApproved: approved, PaidAt: at}}, nil
		}
	}
	switch r := rnd.IntN(100); {
	case r < 80:
		cmds = append(cmds, approve, pay(true))
	case r < 88:
		cmds = append(cmds, func(at time.Time) (string, []kernel.Event, *rawEvent) {
			return s, []kernel.Event{funds.ExpenditureRejected{ExpenditureID: id, By: "p-approver", Reason: "超出预算", RejectedAt: at}}, nil
		})
	case r < 95:
		cmds = append(cmds, approve, func(at time.Time) (string, []kernel.Event, *rawEvent) {
			return s, []kernel.Event{funds.ExpenditureCancelled{ExpenditureID: id, Reason: "项目取消", CancelledAt: at}}, nil
		})
	default:
		cmds = append(cmds, pay(false))
	}
	return &episode{cmds: cmds}
}

func (c *genCommunity) notice() *episode {
	rnd := c.g.rnd
	id := c.id("n")
	s := c.stream("disclosure", id)
	var window disclosure.Window
	cmds := []command{func(at time.Time) (string, []kernel.Event, *rawEvent) {
		window = disclosure.Window{Start: at, End: at.Add(time.Duration(5+rnd.IntN(10)) * 24 * time.Hour)}
		var atts []disclosure.Attachment
		for i := range rnd.IntN(3) {
			atts = append(atts, disclosure.Attachment{Name: fmt.Sprintf("附件%d.pdf", i+1), SHA256: fmt.Sprintf("%064x", rnd.Uint64())})
		}
		var refs []disclosure.Ref
		if rnd.IntN(3) == 0 {
			refs = []disclosure.Ref{{Kind: disclosure.RefPayment, ID: fmt.Sprintf("x-%d", rnd.IntN(c.n+1)), OccurredAt: at.Add(-time.Hour)}}
		}
		cats := []disclosure.Category{disclosure.Finance, disclosure.Affairs, disclosure.Election, disclosure.Resolution, disclosure.Audit, disclosure.Party}
		return s, []kernel.Event{disclosure.Published{NoticeID: id, Category: cats[rnd.IntN(len(cats))],
			Period: disclosure.Period{From: at.AddDate(0, -1, 0), To: at}, Title: "公开事项" + id,
			Text: strings.Repeat("本期收支情况如下。", 1+rnd.IntN(20)), Attachments: atts, Window: window, Refs: refs, PublishedAt: at}}, nil
	}}
	objections := 0
	if rnd.IntN(10) < 3 {
		objections = 1 + rnd.IntN(3)
	}
	for i := range objections {
		oid := fmt.Sprintf("o-%d", i+1)
		cmds = append(cmds, func(at time.Time) (string, []kernel.Event, *rawEvent) {
			_, pd := c.g.person()
			return s, []kernel.Event{disclosure.ObjectionRaised{NoticeID: id, ObjectionID: oid, Text: "对此项支出有疑问", Objector: *pd, RaisedAt: at}}, nil
		}, func(at time.Time) (string, []kernel.Event, *rawEvent) {
			return s, []kernel.Event{disclosure.ObjectionAnswered{NoticeID: id, ObjectionID: oid, Answer: "已核实并说明", AnsweredAt: at}}, nil
		})
	}
	if rnd.IntN(100) < 15 {
		cmds = append(cmds, func(at time.Time) (string, []kernel.Event, *rawEvent) {
			var w *disclosure.Window
			if rnd.IntN(2) == 0 {
				w = &disclosure.Window{Start: at, End: at.Add(7 * 24 * time.Hour)}
			}
			return s, []kernel.Event{disclosure.Corrected{NoticeID: id, Version: 2, Title: "公开事项" + id + "(更正)", Text: "更正后的内容",
				Window: w, Reason: "金额录入错误", CorrectedAt: at}}, nil
		})
	}
	if rnd.IntN(100) < 5 {
		cmds = append(cmds, func(at time.Time) (string, []kernel.Event, *rawEvent) {
			return s, []kernel.Event{disclosure.Withdrawn{NoticeID: id, Reason: "重复发布", WithdrawnAt: at}}, nil
		})
	}
	return &episode{cmds: cmds}
}

func (c *genCommunity) meeting() *episode {
	rnd := c.g.rnd
	id := c.id("m")
	s := c.stream("meeting", id)
	kinds := []meeting.Kind{meeting.Assembly, meeting.Representatives, meeting.Joint, meeting.Deliberation, meeting.Hearing, meeting.Evaluation}
	kind := kinds[rnd.IntN(len(kinds))]
	basis, expected := meeting.BasisInvitees, 10+rnd.IntN(30)
	switch kind {
	case meeting.Assembly:
		basis, expected = meeting.BasisAdults, 2000+rnd.IntN(6000)
	case meeting.Representatives:
		basis, expected = meeting.BasisMembers, 30+rnd.IntN(40)
	}
	present := expected*2/3 + rnd.IntN(expected/3+1)
	cmds := []command{
		func(at time.Time) (string, []kernel.Event, *rawEvent) {
			return s, []kernel.Event{meeting.Convened{MeetingID: id, Kind: kind, Title: "会议" + id, Basis: basis, Expected: expected, HeldAt: at}}, nil
		},
		func(at time.Time) (string, []kernel.Event, *rawEvent) {
			return s, []kernel.Event{meeting.AttendanceRecorded{MeetingID: id, Present: present, RecordedAt: at}}, nil
		},
	}
	for i := range 1 + rnd.IntN(3) {
		mid := fmt.Sprintf("mo-%d", i+1)
		passed := rnd.IntN(4) != 0
		cmds = append(cmds, func(at time.Time) (string, []kernel.Event, *rawEvent) {
			return s, []kernel.Event{meeting.MotionTabled{MeetingID: id, MotionID: mid, Title: "议案" + mid, Text: "议案内容", TabledAt: at}}, nil
		}, func(at time.Time) (string, []kernel.Event, *rawEvent) {
			vFor := present/2 + 1 + rnd.IntN(present/2)
			outcome := meeting.Passed
			if !passed {
				vFor, outcome = rnd.IntN(present/2+1), meeting.Failed
			}
			against := rnd.IntN(present - vFor + 1)
			return s, []kernel.Event{meeting.VoteRecorded{MeetingID: id, MotionID: mid, For: vFor, Against: against,
				Abstain: present - vFor - against, Present: present, Outcome: outcome, RecordedAt: at}}, nil
		})
		if passed && rnd.IntN(2) == 0 {
			cmds = append(cmds, func(at time.Time) (string, []kernel.Event, *rawEvent) {
				return s, []kernel.Event{meeting.ResolutionAdopted{MeetingID: id, MeetingKind: kind, ResolutionID: "r-" + mid, MotionID: mid,
					Subject: meeting.OtherSubject, Text: "决议内容", AdoptedAt: at}}, nil
			})
		}
	}
	cmds = append(cmds, func(at time.Time) (string, []kernel.Event, *rawEvent) {
		return s, []kernel.Event{meeting.Closed{MeetingID: id, ClosedAt: at}}, nil
	})
	if rnd.IntN(10) != 0 {
		cmds = append(cmds, func(at time.Time) (string, []kernel.Event, *rawEvent) {
			return s, []kernel.Event{meeting.MinutesRecorded{MeetingID: id, DocumentSHA256: fmt.Sprintf("%064x", rnd.Uint64()), RecordedAt: at}}, nil
		})
	}
	return &episode{cmds: cmds}
}

func (c *genCommunity) topic() *episode {
	rnd := c.g.rnd
	id := c.id("t")
	s := c.stream("topic", id)
	ch := []meeting.Channel{meeting.HomeVisit, meeting.Hotline, meeting.WeChat, meeting.QRCode, meeting.Forum, meeting.OtherSource}
	one := func(f func(at time.Time) kernel.Event) command {
		return func(at time.Time) (string, []kernel.Event, *rawEvent) { return s, []kernel.Event{f(at)}, nil }
	}
	accepted := rnd.IntN(100) < 85
	cmds := []command{
		one(func(at time.Time) kernel.Event {
			var raiser *kernel.PersonalData
			if rnd.IntN(2) == 0 {
				_, raiser = c.g.person()
			}
			return meeting.TopicCollected{TopicID: id, Channel: ch[rnd.IntN(len(ch))], Summary: "居民反映的问题" + id, Raiser: raiser, CollectedAt: at}
		}),
		one(func(at time.Time) kernel.Event {
			return meeting.TopicScreened{TopicID: id, Accepted: accepted, Reason: "两委筛选意见", ScreenedAt: at}
		}),
	}
	if !accepted {
		return &episode{cmds: cmds}
	}
	cmds = append(cmds,
		one(func(at time.Time) kernel.Event {
			return meeting.TopicPlanDrafted{TopicID: id, Plan: "议事方案", PlanSHA256: fmt.Sprintf("%064x", rnd.Uint64()), DraftedAt: at}
		}),
		one(func(at time.Time) kernel.Event {
			return meeting.TopicNoticeGiven{TopicID: id, Notice: "议事通知", DeliberationAt: at.Add(72 * time.Hour), GivenAt: at}
		}),
		one(func(at time.Time) kernel.Event {
			return meeting.TopicDeliberationHeld{TopicID: id, MeetingID: "m-" + id, Outcome: "协商结果", HeldAt: at}
		}),
		one(func(at time.Time) kernel.Event {
			return meeting.TopicResultDisclosed{TopicID: id, DisclosureID: "n-" + id, DisclosedAt: at}
		}),
	)
	for i := range 1 + rnd.IntN(2) {
		closed := i == 1 || rnd.IntN(2) == 0
		cmds = append(cmds, one(func(at time.Time) kernel.Event {
			return meeting.TopicFeedbackRecorded{TopicID: id, Feedback: "落实情况", Closed: closed, RecordedAt: at}
		}))
		if closed {
			break
		}
	}
	return &episode{cmds: cmds}
}

func (c *genCommunity) election() *episode {
	rnd := c.g.rnd
	id := c.id("e")
	s := c.stream("election", id)
	one := func(f func(at time.Time) kernel.Event) command {
		return func(at time.Time) (string, []kernel.Event, *rawEvent) { return s, []kernel.Event{f(at)}, nil }
	}
	seats := 3 + 2*rnd.IntN(2)
	var cands []kernel.PersonID
	withdrawn := map[kernel.PersonID]bool{}
	cmds := []command{one(func(at time.Time) kernel.Event {
		var members []election.ElectionCommitteeMember
		for i := range 3 {
			p, pd := c.g.person()
			role := election.CommitteeMember
			if i == 0 {
				role = election.CommitteeChair
			}
			members = append(members, election.ElectionCommitteeMember{Person: p, Role: role, Personal: pd})
		}
		return election.CommitteeFormed{ElectionID: id, Term: "2026-2031", Seats: seats, Members: members, FormedAt: at}
	})}
	for range seats + 1 + rnd.IntN(3) {
		cmds = append(cmds, one(func(at time.Time) kernel.Event {
			p, pd := c.g.person()
			cands = append(cands, p)
			return election.CandidateNominated{ElectionID: id, Candidate: p, ResidenceSince: at.AddDate(-3, 0, 0), Personal: pd, NominatedAt: at}
		}))
	}
	if rnd.IntN(3) == 0 {
		cmds = append(cmds, one(func(at time.Time) kernel.Event {
			p := cands[len(cands)-1]
			withdrawn[p] = true
			return election.CandidateWithdrawn{ElectionID: id, Candidate: p, Reason: "个人原因", WithdrawnAt: at}
		}))
	}
	standing := func() []kernel.PersonID {
		var out []kernel.PersonID
		for _, p := range cands {
			if !withdrawn[p] {
				out = append(out, p)
			}
		}
		return out
	}
	cmds = append(cmds, one(func(at time.Time) kernel.Event {
		return election.CandidateListPublicized{ElectionID: id, Candidates: standing(), PublicizedAt: at}
	}))
	for i := range rnd.IntN(3) {
		oid := fmt.Sprintf("o-%d", i+1)
		cmds = append(cmds, one(func(at time.Time) kernel.Event {
			_, pd := c.g.person()
			return election.ObjectionRaised{ElectionID: id, ObjectionID: oid, Concerning: cands[0], Text: "对候选人资格有异议", Objector: *pd, RaisedAt: at}
		}), one(func(at time.Time) kernel.Event {
			return election.ObjectionAnswered{ElectionID: id, ObjectionID: oid, Answer: "经核实符合条件", AnsweredAt: at}
		}))
	}
	voters := 2000 + rnd.IntN(5000)
	cast := voters*3/5 + rnd.IntN(voters/3)
	votes := map[kernel.PersonID]int{}
	cmds = append(cmds, one(func(at time.Time) kernel.Event {
		var tally []election.Tally
		for i, p := range standing() {
			v := cast/2 + 1 + rnd.IntN(cast/2-1)
			if i >= seats {
				v = rnd.IntN(cast / 2)
			}
			votes[p] = v
			tally = append(tally, election.Tally{Candidate: p, Votes: v})
		}
		return election.VotingHeld{ElectionID: id, RegisteredVoters: voters, BallotsCast: cast, Tally: tally, HeldAt: at}
	}), one(func(at time.Time) kernel.Event {
		var winners []election.Winner
		for i, p := range standing()[:seats] {
			role := community.Member
			if i == 0 {
				role = community.Chair
			}
			winners = append(winners, election.Winner{Person: p, Role: role, FullTime: i < seats-1, Votes: votes[p]})
		}
		return election.ResultCertified{ElectionID: id, RegisteredVoters: voters, BallotsCast: cast, Winners: winners, CertifiedAt: at}
	}))
	if rnd.IntN(2) == 0 {
		cmds = append(cmds, one(func(at time.Time) kernel.Event {
			return election.MemberResigned{ElectionID: id, Person: standing()[1], Reason: "工作调动", ResignedAt: at}
		}), one(func(at time.Time) kernel.Event {
			p, pd := c.g.person()
			return election.MemberByElected{ElectionID: id, Winner: election.Winner{Person: p, Role: community.Member, FullTime: true, Votes: cast/2 + 10},
				ResidenceSince: at.AddDate(-4, 0, 0), Personal: pd, RegisteredVoters: voters, BallotsCast: cast, ByElectedAt: at}
		}))
	}
	if rnd.IntN(5) == 0 {
		cmds = append(cmds, one(func(at time.Time) kernel.Event {
			return election.MemberRecalled{ElectionID: id, Person: standing()[0], RegisteredVoters: voters, BallotsCast: cast,
				VotesFor: cast/2 + 1, RecalledAt: at}
		}))
	}
	cmds = append(cmds, func(at time.Time) (string, []kernel.Event, *rawEvent) {
		c.electing = false
		var seatsOf []community.Seat
		for i, p := range standing()[:seats] {
			role := community.Member
			if i == 0 {
				role = community.Chair
			}
			seatsOf = append(seatsOf, community.Seat{Person: p, Role: role, FullTime: i < seats-1, Source: community.Elected, ElectionID: id})
		}
		return c.stream("community", "profile"), []kernel.Event{community.CommitteeSeated{CommunityID: kernel.CommunityID(c.place.ID),
			Term: "2026-2031", Members: seatsOf, SeatedAt: at}}, nil
	})
	return &episode{cmds: cmds}
}
