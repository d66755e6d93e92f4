package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"path"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/inspection"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/survey"
	"github.com/grassroots-ledger/ledger/domain/worker"
	"github.com/grassroots-ledger/ledger/infra/httpapi"
	"github.com/grassroots-ledger/ledger/infra/httpapi/apitest"
)

// A clerk records a full year of a community's affairs through the real HTTP server, the real embedded
// node and the real token store: the registry, an election with publicity and certification, an
// assembly with quorum and a resolution, a major expenditure approved against that resolution and paid, a
// quarterly finance disclosure with an objection answered, a deliberation topic through its five steps,
// and an exit audit. Every command of the catalogue is called at least once.

const (
	yDistrict  = "33/3303/330303"
	yStreet    = yDistrict + "/330303001"
	yCommunity = "330303001001"
	yPath      = yStreet + "/" + yCommunity
	ySHA       = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	yMajor     = 6000000 // 60 000 元: at least the default major threshold of 5 000 000 fen
	day        = 24 * time.Hour
)

// yearClock is the executor's clock, moved forward by the script.
type yearClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *yearClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *yearClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.Before(c.t) {
		panic(fmt.Sprintf("the year runs forward: %s before %s", t, c.t))
	}
	c.t = t
}

// year posts commands and remembers which names it called.
type year struct {
	t      *testing.T
	srv    *apitest.Server
	clock  *yearClock
	called map[string]bool
	seq    int
}

// on moves the clock to 09:00 China time of the date.
func (y *year) on(month time.Month, dayOfMonth int) time.Time {
	t := time.Date(2026, month, dayOfMonth, 1, 0, 0, 0, time.UTC)
	y.clock.set(t)
	return t
}

func (y *year) post(name, token string, body any) apitest.Response {
	y.t.Helper()
	y.called[name] = true
	y.seq++
	return y.srv.Post(y.t, name, token, fmt.Sprintf("year-%03d", y.seq), body)
}

// do posts a command that must succeed and returns its result.
func (y *year) do(name, token string, body any) commands.Result {
	y.t.Helper()
	res := y.post(name, token, body).Result(y.t)
	if res.Replayed || len(res.Events) == 0 {
		y.t.Fatalf("%s: want new events, got %+v", name, res)
	}
	return res
}

func startYear(t *testing.T) *year {
	clock := &yearClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	srv := apitest.Start(t, apitest.Config{Clock: clock, Register: func(s *apitest.Server) {
		httpapi.RegisterCatalogue(s.Commands, commands.NewHandlers(s.Executor, nil))
	}})
	return &year{t: t, srv: srv, clock: clock, called: map[string]bool{}}
}

func TestAYearOfCommunityAffairs(t *testing.T) {
	t.Parallel()
	y := startYear(t)
	admin := y.srv.Token(t, commands.RoleAdmin, "*")
	districtAdmin := y.srv.Token(t, commands.RoleAdmin, yDistrict)
	clerk := y.srv.Token(t, commands.RoleClerk, yPath)
	committee := y.srv.Token(t, commands.RoleCommittee, yPath)
	c := yCommunity

	// January: the registry. The province and city exist already; the district registers its street, the
	// community and a grid, and sets a rule of its own.
	y.on(time.January, 5)
	y.do("register-jurisdiction", admin, commands.RegisterJurisdiction{Path: "33", Name: "浙江省"})
	y.do("register-jurisdiction", admin, commands.RegisterJurisdiction{Path: "33/3303", Name: "温州市"})
	y.do("register-jurisdiction", admin, commands.RegisterJurisdiction{Path: yDistrict, Name: "龙湾区"})
	y.do("register-jurisdiction", districtAdmin, commands.RegisterJurisdiction{Path: yStreet, Name: "永中街道"})
	y.do("register-community", districtAdmin, commands.RegisterCommunity{CommunityID: c, Name: "罗西社区", Kind: "urban",
		Jurisdiction: yPath, Households: 2400, Adults: 5200})
	y.do("register-jurisdiction", districtAdmin, commands.RegisterJurisdiction{Path: yPath + "/g01", Name: "第一网格"})
	y.do("set-rule-override", districtAdmin, commands.SetRuleOverride{Jurisdiction: yDistrict, Rule: "minutes-kept", Parameter: "within",
		Value: "72h", Reason: "本区会议记录整理时限为72小时"})
	y.do("set-rule-override", districtAdmin, commands.SetRuleOverride{Jurisdiction: yPath, Rule: "minutes-kept", Parameter: "within",
		Value: "24h", Reason: "试点社区从严"})
	y.do("remove-rule-override", districtAdmin, commands.RemoveRuleOverride{Jurisdiction: yPath, Rule: "minutes-kept", Parameter: "within",
		Reason: "试点结束，执行区标准"})
	y.do("update-community-figures", districtAdmin, commands.UpdateCommunityFigures{CommunityID: c, Households: 2450, Adults: 5300, Reason: "2025年度人口统计"})
	y.do("allocate-budget", clerk, commands.AllocateBudget{CommunityID: c, FiscalYear: 2026, AllocationID: "a-1", Source: "county-finance",
		Category: "operating", AmountFen: 5000000, Note: "年度工作运行经费"})
	y.do("allocate-budget", clerk, commands.AllocateBudget{CommunityID: c, FiscalYear: 2026, AllocationID: "a-2", Source: "central-project",
		Category: "project", AmountFen: 10000000, Note: "路灯改造项目资金"})

	// January–February: the general election (换届选举).
	e := "e-2026"
	y.do("form-election-committee", clerk, commands.FormElectionCommittee{CommunityID: c, ElectionID: e, Term: "2026-2031", Seats: 5,
		Members: []commands.ElectionCommitteeMember{{Person: "p-e1", Role: "chair"}, {Person: "p-e2", Role: "member"}, {Person: "p-e3", Role: "member"}}})
	y.do("leave-election-committee", clerk, commands.LeaveElectionCommittee{CommunityID: c, ElectionID: e, Person: "p-e3", Reason: "resigned"})
	y.do("add-election-committee-member", clerk, commands.AddElectionCommitteeMember{CommunityID: c, ElectionID: e,
		Member: commands.ElectionCommitteeMember{Person: "p-e4", Role: "member"}, Replaces: "p-e3"})
	for _, p := range []string{"p-1", "p-2", "p-3", "p-4", "p-5", "p-6"} {
		y.do("nominate-candidate", clerk, commands.NominateCandidate{CommunityID: c, ElectionID: e, Candidate: p,
			ResidenceSince: time.Date(2015, 3, 1, 0, 0, 0, 0, time.UTC), Personal: &commands.Personal{Name: "候选人" + p}})
	}
	// A member of the election committee nominated leaves it in the same command.
	if res := y.do("nominate-candidate", clerk, commands.NominateCandidate{CommunityID: c, ElectionID: e, Candidate: "p-e2",
		ResidenceSince: time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)}); len(res.Events) != 2 || res.Events[0].Type != "election.committee-member-left" {
		t.Fatalf("nominating a committee member: %+v", res.Events)
	}
	y.do("withdraw-candidate", clerk, commands.WithdrawCandidate{CommunityID: c, ElectionID: e, Candidate: "p-6", Reason: "工作调动"})
	y.on(time.January, 12)
	y.do("publicize-candidate-list", clerk, commands.PublicizeCandidateList{CommunityID: c, ElectionID: e})
	y.on(time.January, 14)
	y.do("raise-election-objection", clerk, commands.RaiseElectionObjection{CommunityID: c, ElectionID: e, ObjectionID: "o-1", Concerning: "p-2",
		Text: "候选人居住年限存疑", Objector: commands.Personal{Subject: "p-r1", Name: "吴十", Phone: "13500000000"}})
	y.on(time.January, 20) // eight days of publicity
	y.do("hold-voting", clerk, commands.HoldVoting{CommunityID: c, ElectionID: e, RegisteredVoters: 4000, BallotsCast: 2600, Tally: []commands.Tally{
		{Candidate: "p-1", Votes: 2400}, {Candidate: "p-2", Votes: 2200}, {Candidate: "p-3", Votes: 2100}, {Candidate: "p-4", Votes: 1900},
		{Candidate: "p-5", Votes: 1800}, {Candidate: "p-e2", Votes: 900}}})
	winners := []commands.Winner{{Person: "p-1", Role: "chair", FullTime: true}, {Person: "p-2", Role: "vice-chair", FullTime: true},
		{Person: "p-3", Role: "member", FullTime: true}, {Person: "p-4", Role: "member", FullTime: true}, {Person: "p-5", Role: "member", FullTime: false}}
	// The objection to the list is unanswered: the result cannot be certified, and nothing is appended.
	unanswered := y.srv.Head(t)
	y.post("certify-election-result", clerk, commands.CertifyElectionResult{CommunityID: c, ElectionID: e, Winners: winners}).
		WantProblem(t, http.StatusUnprocessableEntity, "objections-unanswered")
	y.srv.WantNothingAppended(t, unanswered)
	y.do("answer-election-objection", committee, commands.AnswerElectionObjection{CommunityID: c, ElectionID: e, ObjectionID: "o-1",
		Answer: "经核实，候选人自2015年起居住本社区"})
	y.do("certify-election-result", clerk, commands.CertifyElectionResult{CommunityID: c, ElectionID: e, Winners: winners})
	seats := make([]commands.CommitteeSeat, len(winners))
	for i, w := range winners {
		seats[i] = commands.CommitteeSeat{Person: w.Person, Role: w.Role, FullTime: w.FullTime, Source: "elected", ElectionID: e}
	}
	y.do("seat-committee", clerk, commands.SeatCommittee{CommunityID: c, Term: "2026-2031", Members: seats})
	y.on(time.January, 21)
	y.do("publish-disclosure", clerk, commands.PublishDisclosure{CommunityID: c, NoticeID: "n-election", Category: "election",
		Period: commands.Period{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC)},
		Title:  "2026年换届选举结果公告", Text: "当选名单……", Window: commands.Window{Start: y.clock.Now(), End: y.clock.Now().Add(7 * day)},
		Discloses: []commands.DisclosedFact{{Kind: "election", ID: e}}})

	// February: a member resigns and another is by-elected.
	y.on(time.February, 10)
	y.do("resign-member", clerk, commands.ResignMember{CommunityID: c, ElectionID: e, Person: "p-5", Reason: "身体原因"})
	y.do("leave-committee", clerk, commands.LeaveCommittee{CommunityID: c, Person: "p-5", Reason: "resigned"})
	y.on(time.February, 28)
	y.do("by-elect-member", clerk, commands.ByElectMember{CommunityID: c, ElectionID: e,
		Winner:         commands.ByElectedWinner{Person: "p-7", Role: "member", FullTime: true, Votes: 1500},
		ResidenceSince: time.Date(2018, 6, 1, 0, 0, 0, 0, time.UTC), RegisteredVoters: 4000, BallotsCast: 2300})
	y.do("join-committee", clerk, commands.JoinCommittee{CommunityID: c, Member: commands.CommitteeSeat{Person: "p-7", Role: "member",
		FullTime: true, Source: "by-elected", ElectionID: e}})

	// March: the residents' assembly, with its quorum counted against the registered adults, adopts a
	// resolution on major spending.
	y.on(time.March, 10)
	m := "m-2026-assembly-1"
	y.do("convene-meeting", clerk, commands.ConveneMeeting{CommunityID: c, MeetingID: m, Kind: "assembly", Title: "2026年第一次居民会议", Basis: "adults"})
	y.do("record-attendance", clerk, commands.RecordAttendance{CommunityID: c, MeetingID: m, Present: 3100})
	y.do("table-motion", clerk, commands.TableMotion{CommunityID: c, MeetingID: m, MotionID: "mo-1", Title: "路灯改造工程", Text: "更换主干道路灯120盏"})
	y.do("record-vote", clerk, commands.RecordVote{CommunityID: c, MeetingID: m, MotionID: "mo-1", For: 2500, Against: 400, Abstain: 200, Outcome: "passed"})
	y.do("adopt-resolution", clerk, commands.AdoptResolution{CommunityID: c, MeetingID: m, ResolutionID: "r-1", MotionID: "mo-1",
		Subject: "major-spending", CeilingFen: 8000000, Text: "同意路灯改造，总额不超过8万元"})
	y.do("table-motion", clerk, commands.TableMotion{CommunityID: c, MeetingID: m, MotionID: "mo-2", Title: "增设停车位"})
	y.do("record-vote", clerk, commands.RecordVote{CommunityID: c, MeetingID: m, MotionID: "mo-2", For: 1000, Against: 1900, Abstain: 200, Outcome: "failed"})
	y.do("close-meeting", clerk, commands.CloseMeeting{CommunityID: c, MeetingID: m})
	y.clock.set(y.clock.Now().Add(20 * time.Hour))
	y.do("record-minutes", clerk, commands.RecordMinutes{CommunityID: c, MeetingID: m, DocumentSHA256: ySHA})

	// March: the major expenditure. Without the resolution it is refused and nothing is recorded; with it,
	// approved and paid.
	y.on(time.March, 16)
	x := "x-2026-0001"
	y.do("request-expenditure", clerk, commands.RequestExpenditure{CommunityID: c, ExpenditureID: x, FiscalYear: 2026, Category: "project",
		Kind: "other", Purpose: "主干道路灯改造", AmountFen: yMajor, Payee: commands.Payee{Kind: "organisation", Organisation: "温州某照明工程有限公司"}})
	before := y.srv.Head(t)
	p := y.post("approve-expenditure", committee, commands.ApproveExpenditure{CommunityID: c, ExpenditureID: x, By: "p-1"}).
		WantProblem(t, http.StatusUnprocessableEntity, "major-spending-needs-resolution")
	if p.Detail == "" {
		t.Fatal("the refusal must say why, for the clerk")
	}
	y.srv.WantNothingAppended(t, before)
	y.do("approve-expenditure", committee, commands.ApproveExpenditure{CommunityID: c, ExpenditureID: x, By: "p-1", MeetingID: m, ResolutionID: "r-1"})
	y.on(time.March, 30)
	y.do("pay-expenditure", clerk, commands.PayExpenditure{CommunityID: c, ExpenditureID: x, VoucherNo: "记-2026-03-017"})
	y.do("request-expenditure", clerk, commands.RequestExpenditure{CommunityID: c, ExpenditureID: "x-2026-0002", FiscalYear: 2026, Category: "salaries",
		Kind: "allowance", Purpose: "3月误工补贴", AmountFen: 80000, Payee: commands.Payee{Kind: "individual", Person: "p-9",
			Personal: &commands.Personal{Name: "张三"}}})
	y.do("reject-expenditure", committee, commands.RejectExpenditure{CommunityID: c, ExpenditureID: "x-2026-0002", By: "p-1", Reason: "无考勤记录"})
	y.do("request-expenditure", clerk, commands.RequestExpenditure{CommunityID: c, ExpenditureID: "x-2026-0003", FiscalYear: 2026, Category: "operating",
		Kind: "other", Purpose: "办公用品", AmountFen: 120000, Payee: commands.Payee{Kind: "organisation", Organisation: "某文具店"}})
	y.do("cancel-expenditure", clerk, commands.CancelExpenditure{CommunityID: c, ExpenditureID: "x-2026-0003", Reason: "重复申请"})

	// The quarterly finance disclosure, within a day of the payment, naming the payment and the
	// resolution; a resident objects during the window and is answered; the notice is corrected.
	y.clock.set(y.clock.Now().Add(6 * time.Hour))
	now := y.clock.Now()
	q1 := "n-2026-q1-finance"
	y.do("publish-disclosure", clerk, commands.PublishDisclosure{CommunityID: c, NoticeID: q1, Category: "finance",
		Period: commands.Period{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)},
		Title:  "2026年第一季度财务收支公开", Text: "收入……支出……", Attachments: []commands.Attachment{{Name: "一季度收支明细.pdf", SHA256: ySHA}},
		Window:    commands.Window{Start: now, End: now.Add(10 * day)},
		Discloses: []commands.DisclosedFact{{Kind: "payment", ID: x}, {Kind: "resolution", ID: "r-1", MeetingID: m}, {Kind: "budget", ID: "a-2", FiscalYear: 2026}}})
	y.on(time.April, 2)
	y.do("raise-disclosure-objection", clerk, commands.RaiseDisclosureObjection{CommunityID: c, NoticeID: q1, ObjectionID: "o-1",
		Text: "路灯改造费用偏高", Objector: commands.Personal{Subject: "p-r2", Name: "李四", Address: "罗西社区5幢"}})
	y.do("answer-disclosure-objection", committee, commands.AnswerDisclosureObjection{CommunityID: c, NoticeID: q1, ObjectionID: "o-1",
		Answer: "已附三家比价记录，费用在决议上限之内"})
	y.do("correct-disclosure", clerk, commands.CorrectDisclosure{CommunityID: c, NoticeID: q1, Title: "2026年第一季度财务收支公开(更正)",
		Text: "收入……支出……(附比价记录)", Attachments: []commands.Attachment{{Name: "比价记录.pdf", SHA256: ySHA}}, Reason: "补充比价记录"})
	y.do("publish-disclosure", clerk, commands.PublishDisclosure{CommunityID: c, NoticeID: "n-2026-q1-finance-dup", Category: "finance",
		Period: commands.Period{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)},
		Title:  "2026年第一季度财务收支公开", Text: "重复", Window: commands.Window{Start: y.clock.Now(), End: y.clock.Now().Add(7 * day)}})
	y.do("withdraw-disclosure", clerk, commands.WithdrawDisclosure{CommunityID: c, NoticeID: "n-2026-q1-finance-dup", Reason: "重复发布"})

	// May: a deliberation topic through its five steps, closed with feedback.
	y.on(time.May, 6)
	tp := "t-2026-07"
	y.do("collect-topic", clerk, commands.CollectTopic{CommunityID: c, TopicID: tp, Channel: "qr-code", Summary: "小区电动车充电难",
		Raiser: &commands.Personal{Subject: "p-r3"}})
	y.do("screen-topic", committee, commands.ScreenTopic{CommunityID: c, TopicID: tp, Accepted: true, Reason: "涉及居民切身利益，属于协商范围"})
	y.do("draft-topic-plan", clerk, commands.DraftTopicPlan{CommunityID: c, TopicID: tp, Plan: "在3处增设充电桩", PlanSHA256: ySHA})
	y.do("give-topic-notice", clerk, commands.GiveTopicNotice{CommunityID: c, TopicID: tp, Notice: "5月12日晚7点在社区会议室协商",
		DeliberationAt: time.Date(2026, 5, 12, 11, 0, 0, 0, time.UTC)})
	y.on(time.May, 12)
	y.do("convene-meeting", clerk, commands.ConveneMeeting{CommunityID: c, MeetingID: "m-2026-delib-3", Kind: "deliberation",
		Title: "充电桩议事协商会", Basis: "invitees", Expected: 25, TopicID: tp})
	y.do("hold-topic-deliberation", clerk, commands.HoldTopicDeliberation{CommunityID: c, TopicID: tp, MeetingID: "m-2026-delib-3", Outcome: "同意增设3处充电桩"})
	y.on(time.May, 13)
	y.do("publish-disclosure", clerk, commands.PublishDisclosure{CommunityID: c, NoticeID: "n-topic-07", Category: "affairs",
		Period: commands.Period{From: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 5, 13, 0, 0, 0, 0, time.UTC)},
		Title:  "充电桩协商结果公开", Text: "经协商……", Window: commands.Window{Start: y.clock.Now(), End: y.clock.Now().Add(7 * day)},
		Discloses: []commands.DisclosedFact{{Kind: "topic", ID: tp}, {Kind: "meeting", ID: "m-2026-delib-3"}}})
	y.do("disclose-topic-result", clerk, commands.DiscloseTopicResult{CommunityID: c, TopicID: tp, DisclosureID: "n-topic-07"})
	y.on(time.June, 30)
	y.do("record-topic-feedback", clerk, commands.RecordTopicFeedback{CommunityID: c, TopicID: tp, Feedback: "充电桩已安装并投入使用", Closed: true})

	// A recall in the autumn, and the recalled member's exit audit in December, its result disclosed.
	y.on(time.October, 9)
	y.do("recall-member", clerk, commands.RecallMember{CommunityID: c, ElectionID: e, Person: "p-4", RegisteredVoters: 4000, BallotsCast: 2500, VotesFor: 1800})
	y.do("leave-committee", clerk, commands.LeaveCommittee{CommunityID: c, Person: "p-4", Reason: "recalled"})
	y.on(time.December, 1)
	au := "a-2026-exit-p4"
	y.do("open-audit", clerk, commands.OpenAudit{CommunityID: c, AuditID: au, Kind: "exit", Subject: "p-4", Auditor: "龙湾区农村经济管理站",
		Period: commands.Period{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 10, 9, 0, 0, 0, 0, time.UTC)}})
	y.do("record-audit-finding", clerk, commands.RecordAuditFinding{CommunityID: c, AuditID: au, FindingID: "f-1", Severity: "minor",
		Text: "招待费未附清单", AmountFen: 120000})
	y.on(time.December, 15)
	y.do("close-audit", clerk, commands.CloseAudit{CommunityID: c, AuditID: au, Result: "issues-found", Summary: "发现问题1项，限期整改", ReportSHA256: ySHA})
	y.clock.set(y.clock.Now().Add(3 * time.Hour))
	y.do("publish-disclosure", clerk, commands.PublishDisclosure{CommunityID: c, NoticeID: "n-audit-p4", Category: "audit",
		Period: commands.Period{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 10, 9, 0, 0, 0, 0, time.UTC)},
		Title:  "离任审计结果公开", Text: "审计结论……", Window: commands.Window{Start: y.clock.Now(), End: y.clock.Now().Add(7 * day)},
		Discloses: []commands.DisclosedFact{{Kind: "audit", ID: au}}})

	// The seal register: the committee's seal, a contract sealed with the joint approval of the committee
	// head and the supervision committee, recorded the same day; the custodian hands the seal over.
	y.on(time.December, 16)
	y.do("register-seal", clerk, commands.RegisterSeal{CommunityID: c, SealID: "s-committee", Kind: "committee", Name: "罗西社区居民委员会",
		Custodian: "p-7", CustodianName: "陈文书"})
	y.do("request-seal-use", clerk, commands.RequestSealUse{CommunityID: c, SealID: "s-committee", UseID: "u-1", Document: commands.SealDocument{
		Title: "小区保洁服务合同", Date: y.clock.Now(), Purpose: "签订保洁服务合同", Counterparty: "温州市洁美物业有限公司", AmountFen: 3600000}})
	y.do("approve-seal-use", clerk, commands.ApproveSealUse{CommunityID: c, SealID: "s-committee", UseID: "u-1", Approver: "p-1", ApproverName: "张主任",
		Role: "committee-head"})
	y.do("approve-seal-use", clerk, commands.ApproveSealUse{CommunityID: c, SealID: "s-committee", UseID: "u-1", Approver: "p-9", ApproverName: "李监督",
		Role: "supervision"})
	y.clock.set(y.clock.Now().Add(2 * time.Hour))
	if res := y.do("record-seal-use", clerk, commands.RecordSealUse{CommunityID: c, SealID: "s-committee", UseID: "u-1", DocumentSHA256: ySHA}); len(res.Breaches) != 0 {
		t.Fatalf("a jointly approved use recorded the same day: %+v", res.Breaches)
	}
	y.do("change-seal-custodian", clerk, commands.ChangeSealCustodian{CommunityID: c, SealID: "s-committee", Custodian: "p-8", CustodianName: "王会计",
		Reason: "原保管人调岗"})

	// Collective assets: a shop let out for a year, paid quarterly, the first quarter received; an old
	// storeroom sold under the assembly's resolution.
	y.do("register-asset", clerk, commands.RegisterAsset{CommunityID: c, AssetID: "a-shop", Kind: "fixed", Name: "社区临街店面1号",
		Location: "罗西路18号", ValueFen: 42000000})
	start := y.clock.Now()
	y.do("sign-asset-contract", clerk, commands.SignAssetContract{CommunityID: c, AssetID: "a-shop", ContractID: "c-2027", Counterparty: "罗西便民超市", PartyKind: "organisation",
		From: start, To: start.AddDate(1, 0, 0), RentFen: 600000, Every: "quarter", Method: "public-bidding"})
	y.do("receive-rent", clerk, commands.ReceiveRent{CommunityID: c, AssetID: "a-shop", ContractID: "c-2027", Installment: 1, AmountFen: 600000,
		VoucherNo: "收-2026-121"})
	y.do("register-asset", clerk, commands.RegisterAsset{CommunityID: c, AssetID: "a-store", Kind: "fixed", Name: "旧仓库", Location: "罗西路2号"})
	y.do("dispose-asset", clerk, commands.DisposeAsset{CommunityID: c, AssetID: "a-store", How: "sale", AmountFen: 9000000, MeetingID: m,
		ResolutionID: "r-1"})

	// The district's admission list: a duty listed and one taken off it, a department's task admitted; the
	// community records the admitted task pushed onto it (allowed, with its funding) and one nobody admitted
	// (recorded with the work-admission breach).
	y.do("list-duty", districtAdmin, commands.ListDuty{District: yDistrict, DutyID: "d-01", List: "assists", Title: "协助开展人口普查",
		Basis: "《全国人口普查条例》"})
	y.do("list-duty", districtAdmin, commands.ListDuty{District: yDistrict, DutyID: "d-02", List: "performs", Title: "组织居民议事协商",
		Basis: "《城市居民委员会组织法》"})
	y.do("delist-duty", districtAdmin, commands.DelistDuty{District: yDistrict, DutyID: "d-02", Reason: "并入d-01"})
	y.do("apply-task-admission", districtAdmin, commands.ApplyTaskAdmission{District: yDistrict, TaskID: "t-01", Department: "区市场监管局",
		Title: "协助开展食品安全入户宣传", LegalBasis: "《食品安全法》第十条", FundingFen: 300000})
	y.do("decide-task-admission", districtAdmin, commands.DecideTaskAdmission{District: yDistrict, TaskID: "t-01", Admit: true})
	if res := y.do("record-community-task", clerk, commands.RecordCommunityTask{CommunityID: c, RecordID: "w-1", Department: "区市场监管局",
		Title: "食品安全入户宣传", TaskID: "t-01"}); len(res.Breaches) != 0 {
		t.Fatalf("an admitted task: %+v", res.Breaches)
	}
	if res := y.do("record-community-task", clerk, commands.RecordCommunityTask{CommunityID: c, RecordID: "w-2", Department: "区住建局",
		Title: "统计辖区电梯数量"}); len(res.Breaches) != 1 || res.Breaches[0].Rule != "work-admission" {
		t.Fatalf("a task nobody admitted: %+v", res.Breaches)
	}

	// Community workers: one hired on 16 December as 社区专职工作者5级 (basic pay 4 800 元); December's basic
	// pay at the scale is recorded without a breach, a quarter's performance pay above 30 % of three months'
	// basic pay with pay-scale; a salary naming no worker of the roster is refused and records nothing.
	y.do("hire-worker", clerk, commands.HireWorker{CommunityID: c, WorkerID: "w-01", Person: "p-20", Personal: &commands.Personal{Name: "周晓梅"},
		Post: commands.Post{Series: "staff", Grade: 5}})
	salary := func(id, component, period string, fen int64) []commands.BreachRef {
		y.do("request-expenditure", clerk, commands.RequestExpenditure{CommunityID: c, ExpenditureID: id, FiscalYear: 2026, Category: "salaries",
			Kind: "salary", Purpose: "社区工作者薪酬", AmountFen: fen, Payee: commands.Payee{Kind: "individual", Person: "p-20", Personal: &commands.Personal{Name: "周晓梅"}},
			Payroll: &commands.Payroll{WorkerID: "w-01", Component: worker.Component(component), Period: period}})
		return y.do("pay-expenditure", clerk, commands.PayExpenditure{CommunityID: c, ExpenditureID: id, VoucherNo: "付-" + id}).Breaches
	}
	if b := salary("x-sal-1", "basic", "2026-12", 480000); len(b) != 0 {
		t.Fatalf("basic pay at the scale: %+v", b)
	}
	if b := salary("x-sal-2", "performance", "2026-Q4", 500000); len(b) != 1 || b[0].Rule != "pay-scale" {
		t.Fatalf("performance pay above the scale: %+v", b)
	}
	// The community's rulebook makes each worker's pay public: the next salary records it (the payment line
	// then names the worker, masked).
	y.do("set-rule-override", districtAdmin, commands.SetRuleOverride{Jurisdiction: yPath, Rule: "pay-scale", Parameter: "individual-pay-public",
		Value: "on", Reason: "居民代表会议决定公开社区工作者个人薪酬"})
	salary("x-sal-4", "annual-bonus", "2026", 200000)
	history, herr := y.srv.Executor.Load(context.Background(), funds.ExpenditureStream(kernel.CommunityID(c), "x-sal-4"))
	if r, ok := history[0].(funds.ExpenditureRequested); herr != nil || !ok || r.Payroll == nil || !r.Payroll.Public {
		t.Fatalf("a salary under individual-pay-public: %+v %v", history, herr)
	}
	before = y.srv.Head(t)
	y.post("request-expenditure", clerk, commands.RequestExpenditure{CommunityID: c, ExpenditureID: "x-sal-3", FiscalYear: 2026, Category: "salaries",
		Kind: "salary", Purpose: "社区工作者薪酬", AmountFen: 480000, Payee: commands.Payee{Kind: "individual", Person: "p-21", Personal: &commands.Personal{Name: "某人"}},
		Payroll: &commands.Payroll{WorkerID: "w-99", Component: "basic", Period: "2026-12"}}).WantProblem(t, http.StatusNotFound, "worker-not-found")
	y.srv.WantNothingAppended(t, before)
	y.do("change-worker-post", clerk, commands.ChangeWorkerPost{CommunityID: c, WorkerID: "w-01", Post: commands.Post{Series: "staff", Grade: 6},
		Reason: "年度考核优秀晋级"})
	y.do("record-worker-training", clerk, commands.RecordWorkerTraining{CommunityID: c, WorkerID: "w-01", TrainingID: "2026-12", Course: "区民政局社区工作者岗位培训",
		Hours: 16})
	y.do("record-worker-leave", clerk, commands.RecordWorkerLeave{CommunityID: c, WorkerID: "w-01", Reason: "transferred"})

	// Supervision casework: the district's supervisors inspect the community, order its finding put right by
	// a deadline; the committee reports what it did; the district's bulletin cites the inspection. An audit
	// finding takes the same path. A clerk may not inspect.
	supervisor := y.srv.Token(t, commands.RoleSupervisor, yDistrict)
	y.do("record-inspection", supervisor, commands.RecordInspection{CommunityID: c, InspectionID: "2026-r3", Inspectors: "区民政局督查组",
		Round: "2026年第3轮", Methods: []inspection.Method{"site-visit", "ledger-review"},
		Findings: []commands.InspectionFinding{{FindingID: "f-1", Severity: "minor", Text: "议事协商会议记录未归档"}}})
	y.post("record-inspection", clerk, commands.RecordInspection{CommunityID: c, InspectionID: "2026-r4", Inspectors: "x",
		Methods: []inspection.Method{"site-visit"}}).WantProblem(t, http.StatusForbidden, "")
	y.do("order-rectification", supervisor, commands.OrderRectification{CommunityID: c, RectificationID: "z-1",
		Source: commands.RectificationSource{Kind: "inspection", ID: "2026-r3", FindingID: "f-1"}, Requirement: "一周内归档并报告",
		Due: y.clock.Now().Add(7 * day)})
	y.post("order-rectification", supervisor, commands.OrderRectification{CommunityID: c, RectificationID: "z-2",
		Source: commands.RectificationSource{Kind: "inspection", ID: "2026-r3", FindingID: "f-9"}, Requirement: "x",
		Due: y.clock.Now().Add(7 * day)}).WantProblem(t, http.StatusNotFound, "finding-not-found")
	y.do("order-rectification", supervisor, commands.OrderRectification{CommunityID: c, RectificationID: "z-audit",
		Source: commands.RectificationSource{Kind: "audit", ID: au, FindingID: "f-1"}, Requirement: "补齐签收手续", Due: y.clock.Now().Add(30 * day)})
	y.do("report-rectification", clerk, commands.ReportRectification{CommunityID: c, RectificationID: "z-1", Response: "已归档并上墙公开"})
	y.do("publish-bulletin", supervisor, commands.PublishBulletin{Jurisdiction: yDistrict, BulletinID: "2026-3", Title: "2026年第3轮督查通报",
		Text: "本轮督查发现问题1个，已整改1个。", Cites: []commands.BulletinCite{{CommunityID: c, InspectionID: "2026-r3"}}})

	// The district's assessment year (年度目标考核): defined once by its supervisors; an assessor's item
	// scored with a reason, a fact item not; the year frozen only once it ended; a month's rating only
	// once the month ended.
	y.do("define-assessment", supervisor, commands.DefineAssessment{Jurisdiction: yDistrict, Year: 2026, Items: []commands.AssessmentItem{
		{Code: "A1", Title: "村(居)务按时公开", Measure: "disclosures", Points: 20}, {Code: "C1", Title: "年度重点工作", Measure: "assessor", Points: 10}}})
	y.post("define-assessment", supervisor, commands.DefineAssessment{Jurisdiction: yDistrict, Year: 2026, Items: []commands.AssessmentItem{
		{Code: "A1", Title: "x", Measure: "meetings", Points: 5}}}).WantProblem(t, http.StatusConflict, "assessment-already-defined")
	y.post("define-assessment", clerk, commands.DefineAssessment{Jurisdiction: yDistrict, Year: 2027, Items: []commands.AssessmentItem{
		{Code: "A1", Title: "x", Measure: "meetings", Points: 5}}}).WantProblem(t, http.StatusForbidden, "")
	y.do("score-assessment", supervisor, commands.ScoreAssessment{CommunityID: c, Year: 2026, ItemCode: "C1", Points: -3, Reason: "垃圾分类推进滞后"})
	y.post("score-assessment", supervisor, commands.ScoreAssessment{CommunityID: c, Year: 2026, ItemCode: "A1", Points: 3, Reason: "x"}).
		WantProblem(t, http.StatusBadRequest, "item-not-assessed")
	y.post("freeze-assessment", supervisor, commands.FreezeAssessment{CommunityID: c, Year: 2026}).
		WantProblem(t, http.StatusBadRequest, "year-not-ended")
	y.post("record-rating", supervisor, commands.RecordRating{CommunityID: c, Period: "2026-Q4"}).
		WantProblem(t, http.StatusBadRequest, "period-not-ended")

	// The year's satisfaction survey and the second half year's democratic evaluation of the committee: a
	// member found 不称职 by a third of the evaluations is recorded with cadre-incompetent; someone not on
	// the committee cannot be evaluated.
	y.do("open-survey", clerk, commands.OpenSurvey{CommunityID: c, SurveyID: "2026", Title: "2026年度居民满意度测评", Audience: []survey.Audience{"residents"},
		Questions: []commands.SurveyQuestion{{QuestionID: "q1", Text: "对居委会工作总体评价", Scale: "satisfaction"}, {QuestionID: "q2", Text: "环境卫生", Scale: "five-point"}}})
	// A survey of every community of the district at once needs the read models' list of communities.
	y.post("open-street-survey", districtAdmin, commands.OpenStreetSurvey{Jurisdiction: yDistrict, SurveyID: "2026-all", Title: "全区测评",
		Audience: []survey.Audience{"residents"}, Questions: []commands.SurveyQuestion{{QuestionID: "q1", Text: "总体评价", Scale: "satisfaction"}}}).
		WantProblem(t, http.StatusUnprocessableEntity, "standings-unavailable")
	y.post("open-street-survey", clerk, commands.OpenStreetSurvey{Jurisdiction: yDistrict, SurveyID: "2026-all", Title: "全区测评",
		Audience: []survey.Audience{"residents"}, Questions: []commands.SurveyQuestion{{QuestionID: "q1", Text: "总体评价", Scale: "satisfaction"}}}).
		WantProblem(t, http.StatusForbidden, "")
	y.do("close-survey", clerk, commands.CloseSurvey{CommunityID: c, SurveyID: "2026", Respondents: 180, Tallies: []commands.SurveyTally{
		{QuestionID: "q1", Counts: []int{120, 50, 10}}, {QuestionID: "q2", Counts: []int{2, 8, 30, 70, 70}}}})
	if res := y.do("hold-evaluation", clerk, commands.HoldEvaluation{CommunityID: c, EvaluationID: "2026-H2", Period: "2026-H2", Evaluators: 30,
		Results: []commands.EvaluationTally{{Person: "p-1", Competent: 28, Basically: 2}, {Person: "p-2", Competent: 15, Basically: 5, Incompetent: 10}}}); len(res.Breaches) != 1 ||
		res.Breaches[0].Rule != "cadre-incompetent" {
		t.Fatalf("a member found 不称职 by a third: %+v", res.Breaches)
	}
	y.post("hold-evaluation", clerk, commands.HoldEvaluation{CommunityID: c, EvaluationID: "2026-H2b", Period: "2026-H2", Evaluators: 30,
		Results: []commands.EvaluationTally{{Person: "p-99", Competent: 30}}}).WantProblem(t, http.StatusBadRequest, "not-a-committee-member")

	// Every command of the catalogue was given.
	var called []string
	for n := range y.called {
		called = append(called, n)
	}
	slices.Sort(called)
	if registered := httpapi.CommandNames(y.srv.Commands); !slices.Equal(called, registered) {
		t.Fatalf("called %d commands, %d registered:\n called     %v\n registered %v", len(called), len(registered), called, registered)
	}

	// The record: every stream is an intact hash chain, every event of the community says whose it is.
	streams := map[string][]eventlog.Recorded{}
	err := y.srv.Store.ReadAll(context.Background(), eventlog.Start, 0, func(r eventlog.Recorded) error {
		streams[r.Stream] = append(streams[r.Stream], r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for s, recs := range streams {
		if err := eventlog.VerifyStream(recs); err != nil {
			t.Errorf("%s: %v", s, err)
		}
		for _, r := range recs {
			if r.Meta.CommunityID == c && r.Meta.Jurisdiction != yPath && r.Meta.Jurisdiction != yPath+"/g01" {
				t.Errorf("%s: event of %s with jurisdiction %s", s, c, r.Meta.Jurisdiction)
			}
			if r.Meta.Actor == "" || r.Meta.CommandID == "" || r.Meta.SchemaVersion < 1 {
				t.Errorf("%s revision %d: metadata %+v", s, r.Revision, r.Meta)
			}
		}
	}
	// The stream names as stored (domain/events TestStreamNamesAreStable pins the functions that make them).
	expenditure := "expenditure-" + c + "-" + x
	for _, s := range []string{"community-" + c + "-profile", "election-" + c + "-" + e, "meeting-" + c + "-" + m,
		expenditure, "disclosure-" + c + "-" + q1, "audit-" + c + "-" + au, "topic-" + c + "-" + tp,
		"budget-" + c + "-2026", "jurisdiction-" + path.Base(yStreet) + "-node", "rulebook-" + path.Base(yDistrict) + "-overrides"} {
		if len(streams[s]) == 0 {
			t.Errorf("stream %s is missing", s)
		}
	}
	paid := streams[expenditure]
	if got := paid[len(paid)-1]; got.Type != "funds.expenditure-paid" || got.Meta.Actor != "clerk:test-clerk" {
		t.Errorf("the expenditure ends %s by %s", got.Type, got.Meta.Actor)
	}
}

// TestMajorExpenditureWithoutResolutionIs422: through HTTP, approving a major expenditure without citing
// a resolution is refused with the rule's code, and so is citing one that does not exist (404) or one of
// another community's meetings; an actor out of scope is refused (403); nothing is appended.
func TestMajorExpenditureWithoutResolutionIs422(t *testing.T) {
	t.Parallel()
	y := startYear(t)
	admin := y.srv.Token(t, commands.RoleAdmin, "*")
	clerk := y.srv.Token(t, commands.RoleClerk, yPath)
	neighbour := y.srv.Token(t, commands.RoleClerk, yStreet+"/330303001002")
	y.on(time.March, 1)
	for _, path := range []string{"33", "33/3303", yDistrict, yStreet} {
		y.do("register-jurisdiction", admin, commands.RegisterJurisdiction{Path: path, Name: "辖区" + path})
	}
	y.do("register-community", admin, commands.RegisterCommunity{CommunityID: yCommunity, Name: "罗西社区", Kind: "urban", Jurisdiction: yPath,
		Households: 2400, Adults: 5200})
	y.do("seat-committee", clerk, commands.SeatCommittee{CommunityID: yCommunity, Term: "2021-2026", Members: []commands.CommitteeSeat{
		{Person: "p-1", Role: "chair", FullTime: true, Source: "elected"}, {Person: "p-2", Role: "vice-chair", FullTime: true, Source: "elected"},
		{Person: "p-3", Role: "member", FullTime: true, Source: "elected"}, {Person: "p-4", Role: "member", Source: "elected"},
		{Person: "p-5", Role: "member", Source: "elected"}}})
	y.do("request-expenditure", clerk, commands.RequestExpenditure{CommunityID: yCommunity, ExpenditureID: "x-1", FiscalYear: 2026,
		Category: "project", Kind: "other", Purpose: "路灯改造", AmountFen: yMajor, Payee: commands.Payee{Kind: "organisation", Organisation: "某公司"}})
	before := y.srv.Head(t)

	// The approver must sit on the community's committee: "nobody-at-all" is refused, naming the field.
	if p := y.post("approve-expenditure", clerk, commands.ApproveExpenditure{CommunityID: yCommunity, ExpenditureID: "x-1", By: "nobody-at-all"}).
		WantProblem(t, http.StatusBadRequest, "approver-not-on-committee"); p.Field != "by" {
		t.Errorf("an approver off the committee: field %q", p.Field)
	}
	y.srv.WantNothingAppended(t, before)

	approve := commands.ApproveExpenditure{CommunityID: yCommunity, ExpenditureID: "x-1", By: "p-1"}
	y.post("approve-expenditure", clerk, approve).WantProblem(t, http.StatusUnprocessableEntity, "major-spending-needs-resolution")
	cite := approve
	cite.MeetingID, cite.ResolutionID = "m-9", "r-1"
	if p := y.post("approve-expenditure", clerk, cite).WantProblem(t, http.StatusNotFound, "meeting-not-found"); p.Field != "meeting_id" {
		t.Errorf("the 404 must name meeting_id, named %q", p.Field)
	}
	y.post("approve-expenditure", neighbour, approve).WantProblem(t, http.StatusForbidden, "")
	if p := y.post("approve-expenditure", clerk, map[string]any{"community_id": yCommunity + "-x", "expenditure_id": "x-1", "by": "p"}).
		WantProblem(t, http.StatusBadRequest, ""); p.Field != "community_id" {
		t.Errorf("a forged community id must be a 400 naming community_id, named %q", p.Field)
	}
	y.srv.WantNothingAppended(t, before)
}
