package decode_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/events"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/infra/esdbnode/nodetest"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/projections/board"
	"github.com/grassroots-ledger/ledger/projections/directory"
	"github.com/grassroots-ledger/ledger/projections/elections"
	"github.com/grassroots-ledger/ledger/projections/finances"
	"github.com/grassroots-ledger/ledger/projections/internal/decode/decodetest"
	"github.com/grassroots-ledger/ledger/projections/internal/readmodeltest"
	"github.com/grassroots-ledger/ledger/projections/meetings"
)

// clock is the commands' clock, moved by the scenario.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestScenarioThroughCommands records a community's affairs with the real command handlers on the real
// embedded node through the real client adapter — personal data included wherever a command takes it —
// and projects them with the five models in the real runtime: the portal's queries answer, and no table
// holds personal data.
func TestScenarioThroughCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	logger := decodetest.QuietLogger()
	_, store := nodetest.Start(t, logger)
	clk := &clock{t: time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)}
	h := commands.NewHandlers(commands.NewExecutor(store, clk, events.MustRegistry(), logger), logger)

	const (
		street = "33/3303/330303/330303001"
		cid    = "330303001001"
		cpath  = street + "/" + cid
	)
	admin := commands.Actor{Subject: "admin-1", Role: commands.RoleAdmin, Scope: "*"}
	clerk := commands.Actor{Subject: "clerk-1", Role: commands.RoleClerk, Scope: cpath}
	n := 0
	as := func(a commands.Actor) commands.Meta {
		n++
		return commands.Meta{CommandID: fmt.Sprintf("cmd-%d", n), Actor: a}
	}
	var head eventlog.Position
	must := func(res commands.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("command %d: %v", n, err)
		}
		head = res.Position
	}
	person := func(id, name string, k int) *commands.Personal {
		return &commands.Personal{Subject: id, Name: name, NationalID: fmt.Sprintf("33030319800101%04d", k),
			Phone: fmt.Sprintf("1386666%04d", k), Address: fmt.Sprintf("罗西社区%d幢%d室", k, 100+k)}
	}

	for _, j := range []struct{ path, name string }{{"33", "浙江省"}, {"33/3303", "温州市"}, {"33/3303/330303", "龙湾区"}, {street, "永中街道"}} {
		must(h.RegisterJurisdiction(ctx, as(admin), commands.RegisterJurisdiction{Path: j.path, Name: j.name}))
	}
	must(h.RegisterCommunity(ctx, as(admin), commands.RegisterCommunity{CommunityID: cid, Name: "罗西社区", Kind: "urban",
		Jurisdiction: cpath, Households: 2400, Adults: 5200}))
	var seats []commands.CommitteeSeat
	for i, role := range []string{"chair", "vice-chair", "member", "member", "member"} {
		p := fmt.Sprintf("p-c%d", i)
		seats = append(seats, commands.CommitteeSeat{Person: p, Role: community.Role(role), FullTime: i < 4, Source: "elected",
			Personal: person(p, []string{"陈一鸣", "林二娜", "黄三石", "周四方", "吴五岳"}[i], 10+i)})
	}
	must(h.SeatCommittee(ctx, as(clerk), commands.SeatCommittee{CommunityID: cid, Term: "2021-2026", Members: seats}))

	// Money: an allocation, an individual paid (masked on the board), an organisation paid.
	must(h.AllocateBudget(ctx, as(clerk), commands.AllocateBudget{CommunityID: cid, FiscalYear: 2026, AllocationID: "a-1",
		Source: "county-finance", Category: "operating", AmountFen: 4_000_000}))
	must(h.RequestExpenditure(ctx, as(clerk), commands.RequestExpenditure{CommunityID: cid, ExpenditureID: "x-1", FiscalYear: 2026,
		Category: "operating", Kind: "allowance", Purpose: "误工补贴", AmountFen: 80_000,
		Payee: commands.Payee{Kind: "individual", Person: "p-77", Personal: person("p-77", "张三丰", 77)}}))
	must(h.ApproveExpenditure(ctx, as(clerk), commands.ApproveExpenditure{CommunityID: cid, ExpenditureID: "x-1", By: "p-c0"}))
	clk.advance(time.Hour)
	must(h.PayExpenditure(ctx, as(clerk), commands.PayExpenditure{CommunityID: cid, ExpenditureID: "x-1", VoucherNo: "记-2026-03-001"}))
	must(h.RequestExpenditure(ctx, as(clerk), commands.RequestExpenditure{CommunityID: cid, ExpenditureID: "x-2", FiscalYear: 2026,
		Category: "operating", Kind: "other", Purpose: "路灯维修", AmountFen: 120_000,
		Payee: commands.Payee{Kind: "organisation", Organisation: "温州市龙湾区某照明工程有限公司"}}))
	must(h.ApproveExpenditure(ctx, as(clerk), commands.ApproveExpenditure{CommunityID: cid, ExpenditureID: "x-2", By: "p-c0"}))
	must(h.PayExpenditure(ctx, as(clerk), commands.PayExpenditure{CommunityID: cid, ExpenditureID: "x-2", VoucherNo: "记-2026-03-002"}))

	// The board: a notice disclosing the payments, an objection answered, a correction.
	now := clk.Now()
	must(h.PublishDisclosure(ctx, as(clerk), commands.PublishDisclosure{CommunityID: cid, NoticeID: "n-1", Category: "finance",
		Period: commands.Period{From: now.AddDate(0, -1, 0), To: now}, Title: "3月财务公开", Text: "支出明细如下",
		Window:    commands.Window{Start: now, End: now.Add(7 * 24 * time.Hour)},
		Discloses: []commands.DisclosedFact{{Kind: "payment", ID: "x-1"}, {Kind: "payment", ID: "x-2"}}}))
	clk.advance(time.Hour)
	must(h.RaiseDisclosureObjection(ctx, as(clerk), commands.RaiseDisclosureObjection{CommunityID: cid, NoticeID: "n-1", ObjectionID: "o-1",
		Text: "路灯维修费偏高", Objector: *person("p-r1", "钱十全", 91)}))
	must(h.AnswerDisclosureObjection(ctx, as(clerk), commands.AnswerDisclosureObjection{CommunityID: cid, NoticeID: "n-1", ObjectionID: "o-1",
		Answer: "已附比价"}))
	must(h.CorrectDisclosure(ctx, as(clerk), commands.CorrectDisclosure{CommunityID: cid, NoticeID: "n-1", Title: "3月财务公开(更正)",
		Text: "更正后的明细", Reason: "金额笔误"}))

	// A meeting and a deliberation topic.
	must(h.ConveneMeeting(ctx, as(clerk), commands.ConveneMeeting{CommunityID: cid, MeetingID: "m-1", Kind: "assembly", Title: "居民会议", Basis: "adults"}))
	must(h.RecordAttendance(ctx, as(clerk), commands.RecordAttendance{CommunityID: cid, MeetingID: "m-1", Present: 2700}))
	must(h.TableMotion(ctx, as(clerk), commands.TableMotion{CommunityID: cid, MeetingID: "m-1", MotionID: "mo-1", Title: "道路硬化"}))
	must(h.RecordVote(ctx, as(clerk), commands.RecordVote{CommunityID: cid, MeetingID: "m-1", MotionID: "mo-1", For: 2000, Against: 500, Abstain: 200, Outcome: "passed"}))
	must(h.AdoptResolution(ctx, as(clerk), commands.AdoptResolution{CommunityID: cid, MeetingID: "m-1", ResolutionID: "r-1", MotionID: "mo-1",
		Subject: "major-spending", CeilingFen: 9_000_000, Text: "同意道路硬化"}))
	must(h.CloseMeeting(ctx, as(clerk), commands.CloseMeeting{CommunityID: cid, MeetingID: "m-1"}))
	must(h.RecordMinutes(ctx, as(clerk), commands.RecordMinutes{CommunityID: cid, MeetingID: "m-1", DocumentSHA256: strings.Repeat("ab", 32)}))
	must(h.CollectTopic(ctx, as(clerk), commands.CollectTopic{CommunityID: cid, TopicID: "t-1", Channel: "qr-code", Summary: "停车难",
		Raiser: person("p-41", "许四一", 41)}))
	must(h.ScreenTopic(ctx, as(clerk), commands.ScreenTopic{CommunityID: cid, TopicID: "t-1", Accepted: true, Reason: "涉及多数居民"}))

	// An election.
	must(h.FormElectionCommittee(ctx, as(clerk), commands.FormElectionCommittee{CommunityID: cid, ElectionID: "e-2026", Term: "2026-2031", Seats: 2,
		Members: []commands.ElectionCommitteeMember{{Person: "p-e1", Role: "chair", Personal: person("p-e1", "郑八斗", 81)}, {Person: "p-e2", Role: "member"}}}))
	for i, c := range []string{"p-k1", "p-k2", "p-k3"} {
		must(h.NominateCandidate(ctx, as(clerk), commands.NominateCandidate{CommunityID: cid, ElectionID: "e-2026", Candidate: c,
			ResidenceSince: clk.Now().AddDate(-5, 0, 0), Personal: person(c, []string{"冯九州", "何七巧", "蒋六合"}[i], 60+i)}))
	}
	must(h.PublicizeCandidateList(ctx, as(clerk), commands.PublicizeCandidateList{CommunityID: cid, ElectionID: "e-2026"}))
	must(h.RaiseElectionObjection(ctx, as(clerk), commands.RaiseElectionObjection{CommunityID: cid, ElectionID: "e-2026", ObjectionID: "o-1",
		Concerning: "p-k2", Text: "居住年限存疑", Objector: *person("p-r2", "孙百川", 92)}))
	must(h.AnswerElectionObjection(ctx, as(clerk), commands.AnswerElectionObjection{CommunityID: cid, ElectionID: "e-2026", ObjectionID: "o-1", Answer: "已核实"}))
	clk.advance(8 * 24 * time.Hour)
	must(h.HoldVoting(ctx, as(clerk), commands.HoldVoting{CommunityID: cid, ElectionID: "e-2026", RegisteredVoters: 1000, BallotsCast: 800,
		Tally: []commands.Tally{{Candidate: "p-k1", Votes: 700}, {Candidate: "p-k2", Votes: 600}, {Candidate: "p-k3", Votes: 200}}}))
	must(h.CertifyElectionResult(ctx, as(clerk), commands.CertifyElectionResult{CommunityID: cid, ElectionID: "e-2026",
		Winners: []commands.Winner{{Person: "p-k1", Role: "chair", FullTime: true}, {Person: "p-k2", Role: "member"}}}))

	pool := decodetest.NewPool(t)
	rt := decodetest.NewRuntime(t, pool, store, pg.Migrator(pool), models())
	decodetest.Start(t, rt)
	decodetest.WaitFor(t, 60*time.Second, "every model to reach the last command", func() (bool, string) {
		for _, st := range rt.Status() {
			if st.Checkpoint.Less(head) || st.Halted {
				return false, fmt.Sprintf("%+v", st)
			}
		}
		return true, ""
	})

	if c, err := directory.CommunityByID(ctx, pool, cid); err != nil || c.Committee.Members != 5 || c.Committee.FullTime != 4 || c.Households != 2400 {
		t.Errorf("directory: %+v %v", c, err)
	}
	if kids, err := directory.Children(ctx, pool, street); err != nil || len(kids) != 1 || kids[0].Name != "罗西社区" {
		t.Errorf("directory children: %+v %v", kids, err)
	}
	if ns, err := board.CurrentNotices(ctx, pool, cid, 0); err != nil || len(ns) != 1 || ns[0].Current.Version != 2 ||
		ns[0].Objections.Raised != 1 || ns[0].Objections.Answered != 1 || len(ns[0].Refs) != 2 {
		t.Errorf("board: %+v %v", ns, err)
	}
	page, err := finances.Payments(ctx, pool, finances.PaymentFilter{CommunityID: cid})
	if err != nil || len(page.Payments) != 2 {
		t.Fatalf("payments: %+v %v", page, err)
	}
	payees := map[string]string{}
	for _, p := range page.Payments {
		payees[p.ExpenditureID] = p.Payee
	}
	if payees["x-1"] != "张**" || payees["x-2"] != "温州市龙湾区某照明工程有限公司" {
		t.Errorf("payees: %v", payees)
	}
	if sum, err := finances.YearSummary(ctx, pool, cid, 2026); err != nil || len(sum) != 1 || sum[0].Category != funds.Operating ||
		sum[0].Allocated != 4_000_000 || sum[0].Paid != 200_000 || sum[0].Payments != 2 {
		t.Errorf("summary: %+v %v", sum, err)
	}
	if rec, err := meetings.MeetingRecord(ctx, pool, cid, "m-1"); err != nil || rec.Meeting.Expected != 5200 || *rec.Meeting.Present != 2700 ||
		len(rec.Motions) != 1 || rec.Motions[0].Vote == nil || len(rec.Resolutions) != 1 || rec.Meeting.Minutes == nil {
		t.Errorf("meeting: %+v %v", rec, err)
	}
	if ts, err := meetings.Topics(ctx, pool, cid, 0); err != nil || len(ts) != 1 || ts[0].StepName != "筛选议题" {
		t.Errorf("topics: %+v %v", ts, err)
	}
	tl, err := elections.ElectionTimeline(ctx, pool, cid, "e-2026")
	if err != nil || tl.Election.Phase != elections.Certified || tl.Election.Turnout != "80.00" || tl.Election.Winners != 2 ||
		tl.Election.ObjectionsRaised != 1 || tl.Election.ObjectionsAnswered != 1 || len(tl.Candidates) != 3 {
		t.Errorf("election: %+v %v", tl, err)
	}

	var recorded []eventlog.Recorded
	if err := store.ReadAll(ctx, eventlog.Start, 0, func(e eventlog.Recorded) error {
		if !eventlog.SystemStream(e.Stream) {
			recorded = append(recorded, e)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	pd := readmodeltest.CollectPersonal(t, recorded)
	if pd.Names() < 12 || len(pd.Secrets) < 3 {
		t.Fatalf("the scenario recorded too little personal data: %d names, secrets %v", pd.Names(), pd.Secrets)
	}
	if bad := pd.Scan(decodetest.RowText(t, pool, schemas()...)); len(bad) > 0 {
		t.Fatalf("personal data in the read models:\n%s", strings.Join(bad, "\n"))
	}
}
