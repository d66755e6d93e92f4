package supervision_test

import (
	"context"
	"github.com/grassroots-ledger/ledger/domain/assessment"
	"github.com/grassroots-ledger/ledger/domain/survey"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/asset"
	"github.com/grassroots-ledger/ledger/domain/audit"
	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/election"
	"github.com/grassroots-ledger/ledger/domain/evaluation"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/domain/rectification"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/seal"
	policy "github.com/grassroots-ledger/ledger/domain/supervision"
	"github.com/grassroots-ledger/ledger/domain/worker"
	"github.com/grassroots-ledger/ledger/domain/worklist"
	"github.com/grassroots-ledger/ledger/infra/httpapi/apitest"
	"github.com/grassroots-ledger/ledger/infra/supervision"
	"github.com/grassroots-ledger/ledger/infra/supervision/supervisiontest"
	alerts "github.com/grassroots-ledger/ledger/projections/supervision"
)

// Every watch rule of the rulebook has a scenario that raises its alert and one that clears it, on the
// real node, runtime, PostgreSQL and engine, with the test driving the clock. The rule each subtest is
// about is in its name.

var ruleScenarios = map[kernel.RuleID]string{
	rulebook.CandidateListPublicity:    "TestRuleCandidateListPublicity",
	rulebook.CommitteeSize:             "TestRuleCommitteeSize",
	rulebook.FullTimeShare:             "TestRuleFullTimeShare",
	rulebook.MajorMatterResolution:     "TestRuleMajorMatterResolution",
	rulebook.ResidentsMeetingFrequency: "TestRuleResidentsMeetingFrequency",
	rulebook.MinutesKept:               "TestRuleMinutesKept",
	rulebook.DisclosureFrequency:       "TestRuleDisclosureFrequency",
	rulebook.PaymentDisclosed:          "TestRulePaymentDisclosed",
	rulebook.ResultsDisclosed:          "TestRuleResultsDisclosed",
	rulebook.OperatingFunds:            "TestRuleOperatingFunds",
	rulebook.CadreAudit:                "TestRuleCadreAudit",
	rulebook.BudgetBalance:             "TestRuleBudgetBalance",
	rulebook.LateRecording:             "TestRuleLateRecording",
	rulebook.ExitAudit:                 "TestRuleExitAudit",
	rulebook.ObjectionAnswered:         "TestRuleObjectionAnswered",
	rulebook.SplitSpending:             "TestRuleSplitSpending",
	rulebook.SealUse:                   "TestRuleSealUse",
	rulebook.PublicBidding:             "TestRulePublicBidding",
	rulebook.RentCollected:             "TestRuleRentCollected",
	rulebook.WorkAdmission:             "TestRuleWorkAdmission",
	rulebook.PayScale:                  "TestRulePayScale",
	rulebook.StaffingLimit:             "TestRuleStaffingLimit",
	rulebook.RectificationDue:          "TestRuleRectificationDue",
	rulebook.CadreEvaluation:           "TestRuleCadreEvaluation",
	rulebook.CadreIncompetent:          "TestRuleCadreIncompetent",
	rulebook.AnnualAssessment:          "TestRuleAnnualAssessment",
	rulebook.Satisfaction:              "TestRuleSatisfaction",
}

// TestEveryWatchRuleHasAScenario: a reviewer reads DOMAIN.md's watch rules against ruleScenarios.
func TestEveryWatchRuleHasAScenario(t *testing.T) {
	for _, r := range rulebook.Rules() {
		if r.Kind != rulebook.Watch {
			continue
		}
		if _, ok := ruleScenarios[r.ID]; !ok {
			t.Errorf("watch rule %s has no raise/clear scenario", r.ID)
		}
	}
	// Enforced at approval, watched at payment.
	if _, ok := ruleScenarios[rulebook.MajorMatterResolution]; !ok {
		t.Error("major-matter-resolution is watched at payment")
	}
}

// harness starts a harness for a test running in parallel with the others, with its community n of
// district X.
func harness(t *testing.T, n int) (*supervisiontest.Harness, supervisiontest.Community) {
	t.Parallel()
	return supervisiontest.New(t, supervisiontest.Options{}), supervisiontest.NewCommunity(supervisiontest.DistrictX, n)
}

func breach(rule kernel.RuleID, detail string) kernel.Watch {
	return kernel.Watch{Breaches: []kernel.Breach{{Rule: rule, Detail: detail}}}
}

func rating(t *testing.T, h *supervisiontest.Harness, c supervisiontest.Community) policy.Rating {
	t.Helper()
	r, err := alerts.RatingOf(context.Background(), h.Server.Pool, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return r.Rating
}

func waitRating(t *testing.T, h *supervisiontest.Harness, c supervisiontest.Community, want policy.Rating) {
	t.Helper()
	h.Wait("rating "+string(want), 10*time.Second, func() (bool, string) {
		got := rating(t, h, c)
		return got == want, string(got)
	})
}

func TestRulePaymentDisclosed(t *testing.T) {
	h, c := harness(t, 1)
	x := c.Stream("expenditure", "2026-0042")
	paidAt := h.Clock.Now()
	h.Record(c, x, funds.ExpenditurePaid{ExpenditureID: "2026-0042", VoucherNo: "v1", Amount: 120000, WasApproved: true, PaidAt: paidAt})

	h.Advance(23 * time.Hour)
	noAlerts(t, h, c, "%d alerts before the deadline")
	h.Advance(2 * time.Hour)
	a := h.WaitAlert(rulebook.PaymentDisclosed, x, supervisiontest.Open)
	if a.Severity != rulebook.Yellow || a.Trigger != policy.ByDeadline || a.DueAt == nil || !a.DueAt.Equal(paidAt.Add(24*time.Hour)) {
		t.Fatalf("raised %+v", a)
	}
	waitRating(t, h, c, policy.Yellow)

	// A missing disclosure older than 7 days turns red (red-after).
	h.Advance(7 * 24 * time.Hour)
	h.WaitAlert(rulebook.PaymentDisclosed, x, supervisiontest.RedOpen)
	waitRating(t, h, c, policy.Red)

	h.Record(c, c.Stream("disclosure", "n-1"), disclosure.Published{NoticeID: "n-1", Category: disclosure.Finance,
		Period: disclosure.Period{From: paidAt, To: paidAt}, Title: "支出公开", Text: "…", PublishedAt: h.Clock.Now(),
		Window: disclosure.Window{Start: h.Clock.Now(), End: h.Clock.Now().Add(7 * 24 * time.Hour)},
		Refs:   []disclosure.Ref{{Kind: disclosure.RefPayment, ID: "2026-0042", OccurredAt: paidAt}},
		Watch:  breach(rulebook.PaymentDisclosed, "late")})
	cl := h.WaitAlert(rulebook.PaymentDisclosed, x, supervisiontest.Cleared)
	if cl.ID != a.ID || cl.ClearReason != string(policy.FactArrived) {
		t.Fatalf("cleared %+v", cl)
	}
	h.Quiesce()
	waitRating(t, h, c, policy.Green)
	// The late notice's own breach raised nothing more; the escalation was one event, not a second alert.
	if ev := h.AlertEvents(); ev["supervision.alert-raised"] != 2 || ev["supervision.alert-cleared"] != 1 {
		t.Fatalf("alert events %v", ev)
	}
}

func TestRuleResultsDisclosed(t *testing.T) {
	h, c := harness(t, 2)
	el, au := c.Stream("election", "e-2026"), c.Stream("audit", "a-1")
	now := h.Clock.Now()
	h.Record(c, el, election.ResultCertified{ElectionID: "e-2026", RegisteredVoters: 100, BallotsCast: 80, CertifiedAt: now})
	h.Record(c, au, audit.Closed{AuditID: "a-1", Result: audit.Clean, Summary: "无问题", ClosedAt: now})
	h.Advance(24*time.Hour + time.Minute)
	h.WaitAlert(rulebook.ResultsDisclosed, el, supervisiontest.Open)
	h.WaitAlert(rulebook.ResultsDisclosed, au, supervisiontest.Open)

	h.Record(c, c.Stream("disclosure", "n-e"), disclosure.Published{NoticeID: "n-e", Category: disclosure.Election, PublishedAt: h.Clock.Now(),
		Title: "选举结果", Text: "…", Refs: []disclosure.Ref{{Kind: disclosure.RefElection, ID: "e-2026", OccurredAt: now}}})
	h.WaitAlert(rulebook.ResultsDisclosed, el, supervisiontest.Cleared)
	stillOpen(t, h, rulebook.ResultsDisclosed, au, "the audit result is still undisclosed")
	h.Record(c, c.Stream("disclosure", "n-a"), disclosure.Published{NoticeID: "n-a", Category: disclosure.Audit, PublishedAt: h.Clock.Now(),
		Title: "审计结果", Text: "…", Refs: []disclosure.Ref{{Kind: disclosure.RefAudit, ID: "a-1", OccurredAt: now}}})
	h.WaitAlert(rulebook.ResultsDisclosed, au, supervisiontest.Cleared)
	waitRating(t, h, c, policy.Green)
}

func TestRuleDisclosureFrequency(t *testing.T) {
	h, c := harness(t, 3)
	start := h.Clock.Now()
	h.Register(c, kernel.Urban, 1500, 3000)
	m := c.Stream("meeting", "m-1")
	h.Record(c, m, meeting.ResolutionAdopted{MeetingID: "m-1", MeetingKind: meeting.Assembly, ResolutionID: "r-1", MotionID: "mo-1",
		Subject: meeting.MajorSpending, Ceiling: kernel.Yuan(80000), Text: "修路", AdoptedAt: start})
	h.Record(c, c.Stream("expenditure", "x-1"), funds.ExpenditurePaid{ExpenditureID: "x-1", VoucherNo: "v", Amount: 100, WasApproved: true, PaidAt: start})

	t.Run("major matters within 24 h", func(t *testing.T) {
		h.Advance(25 * time.Hour)
		h.WaitAlert(rulebook.DisclosureFrequency, policy.ResolutionSubject(c.ID, "r-1"), supervisiontest.Open)
		h.Record(c, c.Stream("disclosure", "n-r"), disclosure.Published{NoticeID: "n-r", Category: disclosure.Resolution, PublishedAt: h.Clock.Now(),
			Title: "决议公开", Text: "…", Refs: []disclosure.Ref{{Kind: disclosure.RefResolution, ID: "r-1", OccurredAt: start}}})
		h.WaitAlert(rulebook.DisclosureFrequency, policy.ResolutionSubject(c.ID, "r-1"), supervisiontest.Cleared)
	})
	t.Run("finances monthly once there are payments", func(t *testing.T) {
		h.SetClock(start.AddDate(0, 1, 0).Add(time.Hour))
		h.WaitAlert(rulebook.DisclosureFrequency, policy.FinanceBoardSubject(c.ID), supervisiontest.Open)
		h.Record(c, c.Stream("disclosure", "n-f"), disclosure.Published{NoticeID: "n-f", Category: disclosure.Finance, PublishedAt: h.Clock.Now(),
			Title: "三月财务", Text: "…", Refs: []disclosure.Ref{{Kind: disclosure.RefPayment, ID: "x-1", OccurredAt: start}}})
		h.WaitAlert(rulebook.DisclosureFrequency, policy.FinanceBoardSubject(c.ID), supervisiontest.Cleared)
		h.WaitAlert(rulebook.PaymentDisclosed, c.Stream("expenditure", "x-1"), supervisiontest.Cleared)
	})
	t.Run("affairs quarterly", func(t *testing.T) {
		h.SetClock(start.AddDate(0, 3, 0).Add(time.Hour))
		a := h.WaitAlert(rulebook.DisclosureFrequency, policy.AffairsBoardSubject(c.ID), supervisiontest.Open)
		h.Record(c, c.Stream("disclosure", "n-q"), disclosure.Published{NoticeID: "n-q", Category: disclosure.Affairs, PublishedAt: h.Clock.Now(),
			Title: "一季度村务", Text: "…"})
		h.WaitAlert(rulebook.DisclosureFrequency, policy.AffairsBoardSubject(c.ID), func(x alerts.Alert) bool { return x.ID == a.ID && !x.Open() })
		// The notice started the next quarter's deadline.
		h.SetClock(h.Clock.Now().AddDate(0, 3, 0).Add(time.Hour))
		h.WaitAlert(rulebook.DisclosureFrequency, policy.AffairsBoardSubject(c.ID), func(x alerts.Alert) bool { return x.ID != a.ID && x.Open() })
	})
}

func TestRuleMinutesKept(t *testing.T) {
	h, c := harness(t, 4)
	m := c.Stream("meeting", "m-7")
	held := h.Clock.Now()
	h.Record(c, m, meeting.Convened{MeetingID: "m-7", Kind: meeting.Joint, Title: "两委联席会", Basis: meeting.BasisInvitees, Expected: 9, HeldAt: held})
	h.Advance(2 * time.Hour)
	h.Record(c, m, meeting.Closed{MeetingID: "m-7", ClosedAt: held.Add(2 * time.Hour)})
	h.Advance(47 * time.Hour) // 49 h after it was held, 47 h after it closed: not yet due
	noAlerts(t, h, c, "minutes are due 48 h after the close, got %d alerts")
	h.Advance(2 * time.Hour)
	a := h.WaitAlert(rulebook.MinutesKept, m, supervisiontest.Open)
	if !a.DueAt.Equal(held.Add(50 * time.Hour)) {
		t.Fatalf("due %v", a.DueAt)
	}
	h.Record(c, m, meeting.MinutesRecorded{MeetingID: "m-7", DocumentSHA256: strings.Repeat("a", 64), RecordedAt: h.Clock.Now(),
		Watch: breach(rulebook.MinutesKept, "late")})
	h.WaitAlert(rulebook.MinutesKept, m, supervisiontest.Cleared)
	waitRating(t, h, c, policy.Green)
}

func TestRuleResidentsMeetingFrequency(t *testing.T) {
	t.Parallel()
	cst := kernel.ChinaTime()
	clock := supervisiontest.NewClock(time.Date(2025, 12, 1, 9, 0, 0, 0, cst))
	h := supervisiontest.New(t, supervisiontest.Options{Clock: clock})
	c := supervisiontest.NewCommunity(supervisiontest.DistrictX, 5)
	v := supervisiontest.NewCommunity(supervisiontest.DistrictX, 6)
	h.Register(c, kernel.Urban, 1500, 3000)
	h.Register(v, kernel.Rural, 300, 800)
	h.Quiesce()
	// No assembly in the first half of 2026.
	h.SetClock(time.Date(2026, 7, 1, 0, 30, 0, 0, cst))
	subject := policy.AssembliesSubject(c.ID, 2026, true)
	a := h.WaitAlert(rulebook.ResidentsMeetingFrequency, subject, supervisiontest.Open)
	if a.Trigger != policy.ByCalendar || !strings.Contains(a.Detail, "上半年") {
		t.Fatalf("%+v", a)
	}
	h.Quiesce()
	for _, x := range h.Alerts(v.ID) {
		if x.Rule == rulebook.ResidentsMeetingFrequency {
			t.Fatal("a village is not concerned by the residents'-meeting rule")
		}
	}
	// A make-up assembly clears it.
	h.Record(c, c.Stream("meeting", "asm-1"), meeting.Convened{MeetingID: "asm-1", Kind: meeting.Assembly, Title: "居民会议",
		Basis: meeting.BasisAdults, Expected: 3000, HeldAt: clock.Now()})
	h.WaitAlert(rulebook.ResidentsMeetingFrequency, subject, supervisiontest.Cleared)
	// One assembly in 2026 is fewer than two: the year-end checkpoint raises again.
	h.SetClock(time.Date(2027, 1, 1, 0, 30, 0, 0, cst))
	h.WaitAlert(rulebook.ResidentsMeetingFrequency, policy.AssembliesSubject(c.ID, 2026, false), supervisiontest.Open)
}

func TestRuleCadreAudit(t *testing.T) {
	h, c := harness(t, 7)
	start := h.Clock.Now()
	h.Register(c, kernel.Rural, 300, 800)
	h.SetClock(start.AddDate(0, 6, 0).Add(time.Hour))
	a := h.WaitAlert(rulebook.CadreAudit, policy.CadreAuditSubject(c.ID), supervisiontest.Open)
	h.Record(c, c.Stream("audit", "a-9"), audit.Opened{AuditID: "a-9", Kind: audit.Regular, Auditor: "经管站",
		Period: audit.Period{From: start, To: h.Clock.Now()}, OpenedAt: h.Clock.Now(), Watch: breach(rulebook.CadreAudit, "late")})
	h.WaitAlert(rulebook.CadreAudit, policy.CadreAuditSubject(c.ID), func(x alerts.Alert) bool { return x.ID == a.ID && !x.Open() })
	h.Quiesce()
	for _, x := range h.Alerts(c.ID) {
		if x.Rule == rulebook.CadreAudit && x.Open() {
			t.Fatalf("the audit's late breach raised another alert: %+v", x)
		}
	}
}

func TestRuleMajorMatterResolution(t *testing.T) {
	h, c := harness(t, 8)
	x := c.Stream("expenditure", "big-1")
	h.Record(c, x, funds.ExpenditurePaid{ExpenditureID: "big-1", VoucherNo: "v", Amount: kernel.Yuan(90000), PaidAt: h.Clock.Now(),
		Watch: breach(rulebook.MajorMatterResolution, "重大开支未经决议即支付")})
	a := h.WaitAlert(rulebook.MajorMatterResolution, x, supervisiontest.RedOpen)
	waitRating(t, h, c, policy.Red)

	// No later fact undoes a payment: a supervisor of the district resolves it, with a reason.
	other := h.Token(commands.RoleSupervisor, supervisiontest.DistrictY)
	resp := resolve(t, h, other, a.ID, "x")
	resp.WantProblem(t, http.StatusForbidden, "out-of-scope")
	sup := h.Token(commands.RoleSupervisor, supervisiontest.DistrictX)
	resp = resolve(t, h, sup, a.ID, "")
	resp.WantProblem(t, http.StatusBadRequest, "required")
	mustResolve(t, h, sup, a.ID, "已补开村民代表会议追认，经督查组核实")
	cl := h.WaitAlert(rulebook.MajorMatterResolution, x, supervisiontest.Cleared)
	if cl.ClearReason != string(policy.ResolvedBySupervisor) {
		t.Fatalf("%+v", cl)
	}
	waitRating(t, h, c, policy.Green)
	resp = resolve(t, h, sup, a.ID, "again")
	resp.WantProblem(t, http.StatusConflict, "alert-already-cleared")
}

func TestRuleCandidateListPublicity(t *testing.T) {
	h, c := harness(t, 9)
	el := c.Stream("election", "e-1")
	h.Record(c, el, election.VotingHeld{ElectionID: "e-1", RegisteredVoters: 100, BallotsCast: 70, HeldAt: h.Clock.Now(),
		Watch: breach(rulebook.CandidateListPublicity, "候选人名单公示不足7天")})
	a := h.WaitAlert(rulebook.CandidateListPublicity, el, supervisiontest.Open)
	if a.Severity != rulebook.Yellow {
		t.Fatal(a.Severity)
	}
	sup := h.Token(commands.RoleSupervisor, c.Path)
	mustResolve(t, h, sup, a.ID, "已责令重新选举")
	h.WaitAlert(rulebook.CandidateListPublicity, el, supervisiontest.Cleared)
}

func TestRuleCommitteeSize(t *testing.T) {
	h, c := harness(t, 10)
	profile := c.Stream("community", "profile")
	subject := policy.CommitteeSubject(c.ID)
	// Certified with too few winners (on the election's stream), then seated (on the profile): one alert.
	h.Record(c, c.Stream("election", "e-1"), election.ResultCertified{ElectionID: "e-1", CertifiedAt: h.Clock.Now(),
		Watch: breach(rulebook.CommitteeSize, "委员会现有3人，应为5—7人")})
	h.Record(c, profile, community.CommitteeSeated{CommunityID: c.ID, Term: "2026", SeatedAt: h.Clock.Now(),
		Watch: breach(rulebook.CommitteeSize, "委员会现有3人，应为5—7人")})
	a := h.WaitAlert(rulebook.CommitteeSize, subject, supervisiontest.Open)
	h.Quiesce()
	if ev := h.AlertEvents(); ev["supervision.alert-raised"] != 1 {
		t.Fatalf("a committee still too small is one alert: %v", ev)
	}
	h.Record(c, profile, community.MemberJoined{CommunityID: c.ID, JoinedAt: h.Clock.Now(),
		Member: community.Seat{Person: "p-4", Role: community.Member, Source: community.Appointed}})
	cl := h.WaitAlert(rulebook.CommitteeSize, subject, supervisiontest.Cleared)
	if cl.ID != a.ID || cl.ClearReason != string(policy.ConditionEnded) {
		t.Fatalf("%+v", cl)
	}
	// Broken again: a new alert.
	h.Record(c, profile, community.MemberLeft{CommunityID: c.ID, Person: "p-4", Reason: community.Resigned, LeftAt: h.Clock.Now(),
		Watch: breach(rulebook.CommitteeSize, "委员会现有3人")})
	h.WaitAlert(rulebook.CommitteeSize, subject, func(x alerts.Alert) bool { return x.Open() && x.ID != a.ID })
}

func TestRuleFullTimeShare(t *testing.T) {
	h, c := harness(t, 11)
	profile := c.Stream("community", "profile")
	subject := policy.CommitteeSubject(c.ID)
	h.Record(c, profile, community.MemberJoined{CommunityID: c.ID, JoinedAt: h.Clock.Now(),
		Member: community.Seat{Person: "p-9", Role: community.Member, Source: community.Appointed},
		Watch:  breach(rulebook.FullTimeShare, "专职成员3人，占6人的比例未达到不少于2/3")})
	h.WaitAlert(rulebook.FullTimeShare, subject, supervisiontest.Open)
	// Figures updated re-checks the size only: the full-time alert stays.
	h.Record(c, profile, community.FiguresUpdated{CommunityID: c.ID, Households: 2400, Adults: 5000, Reason: "普查", UpdatedAt: h.Clock.Now()})
	h.Quiesce()
	stillOpen(t, h, rulebook.FullTimeShare, subject, "figures do not check the full-time share")
	h.Record(c, profile, community.CommitteeSeated{CommunityID: c.ID, Term: "2026", SeatedAt: h.Clock.Now()})
	h.WaitAlert(rulebook.FullTimeShare, subject, supervisiontest.Cleared)
}

func TestRuleOperatingFunds(t *testing.T) {
	h, c := harness(t, 12)
	b := c.Stream("budget", "2026")
	h.Record(c, b, funds.BudgetAllocated{FiscalYear: 2026, AllocationID: "al-1", Source: funds.StreetFinance, Category: funds.Operating,
		Amount: kernel.Yuan(20000), AllocatedAt: h.Clock.Now(), Watch: breach(rulebook.OperatingFunds, "工作经费已拨付2万元，应不少于4万元")})
	h.WaitAlert(rulebook.OperatingFunds, b, supervisiontest.Open)
	// A project allocation does not count.
	h.Record(c, b, funds.BudgetAllocated{FiscalYear: 2026, AllocationID: "al-2", Source: funds.CountyFinance, Category: funds.Project,
		Amount: kernel.Yuan(90000), AllocatedAt: h.Clock.Now()})
	h.Quiesce()
	stillOpen(t, h, rulebook.OperatingFunds, b, "project funds are not operating funds")
	h.Record(c, b, funds.BudgetAllocated{FiscalYear: 2026, AllocationID: "al-3", Source: funds.StreetFinance, Category: funds.Operating,
		Amount: kernel.Yuan(20000), AllocatedAt: h.Clock.Now()})
	h.WaitAlert(rulebook.OperatingFunds, b, supervisiontest.Cleared)
}

func TestRuleBudgetBalance(t *testing.T) {
	h, c := harness(t, 13)
	x := c.Stream("expenditure", "x-9")
	h.Record(c, x, funds.ExpenditureApproved{ExpenditureID: "x-9", By: "p-1", ApprovedAt: h.Clock.Now(),
		Watch: breach(rulebook.BudgetBalance, "超出预算余额")})
	h.WaitAlert(rulebook.BudgetBalance, x, supervisiontest.Open)
	h.Record(c, x, funds.ExpenditureCancelled{ExpenditureID: "x-9", By: "p-1", Reason: "超预算", CancelledAt: h.Clock.Now()})
	h.WaitAlert(rulebook.BudgetBalance, x, supervisiontest.Cleared)
}

func bearer(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }

// resolve asks for alert id to be resolved with reason, as the supervisor holding token.
func resolve(t *testing.T, h *supervisiontest.Harness, token, id, reason string) apitest.Response {
	t.Helper()
	return h.Server.Do(t, http.MethodPost, supervision.AlertsPath+"/"+id+"/resolve", bearer(token), map[string]string{"reason": reason})
}

// mustResolve resolves alert id, failing the test unless the answer is 200.
func mustResolve(t *testing.T, h *supervisiontest.Harness, token, id, reason string) {
	t.Helper()
	if resp := resolve(t, h, token, id, reason); resp.Status != http.StatusOK {
		t.Fatalf("resolve %s: %d %s", id, resp.Status, resp.Body)
	}
}

// resolvedInDistrict has a supervisor of DistrictX resolve alert a with reason and waits for it to be
// cleared as resolved.
func resolvedInDistrict(t *testing.T, h *supervisiontest.Harness, a alerts.Alert, reason string) {
	t.Helper()
	mustResolve(t, h, h.Token(commands.RoleSupervisor, supervisiontest.DistrictX), a.ID, reason)
	if cl := h.WaitAlert(a.Rule, a.Subject, supervisiontest.Cleared); cl.ClearReason != string(policy.ResolvedBySupervisor) {
		t.Fatalf("cleared %+v", cl)
	}
}

// noAlerts fails the test with msg (a format of the count) when community c has any alert once the
// pipeline is quiet.
func noAlerts(t *testing.T, h *supervisiontest.Harness, c supervisiontest.Community, msg string) {
	t.Helper()
	h.Quiesce()
	if n := len(h.Alerts(c.ID)); n != 0 {
		t.Fatalf(msg, n)
	}
}

// stillOpen fails the test with why unless the alert of rule about subject is open.
func stillOpen(t *testing.T, h *supervisiontest.Harness, rule kernel.RuleID, subject, why string) {
	t.Helper()
	if a := h.WaitAlert(rule, subject, func(alerts.Alert) bool { return true }); !a.Open() {
		t.Fatal(why)
	}
}

// TestRuleLateRecording: a payment recorded days after it was made (back-dated) raises a yellow alert that
// shows both times; no later fact undoes it, a supervisor resolves it with a reason.
func TestRuleLateRecording(t *testing.T) {
	h, c := harness(t, 3)
	x := c.Stream("expenditure", "2026-0077")
	now := h.Clock.Now()
	b := rulebook.Defaults().CheckLateRecording("支出2026-0077的支付", now.Add(-5*24*time.Hour), now)
	h.Record(c, x, funds.ExpenditurePaid{ExpenditureID: "2026-0077", VoucherNo: "v7", Amount: 30000, PaidAt: now.Add(-5 * 24 * time.Hour),
		Watch: kernel.Watch{Breaches: []kernel.Breach{*b}}})
	a := h.WaitAlert(rulebook.LateRecording, x, supervisiontest.Open)
	if a.Severity != rulebook.Yellow || a.Trigger != policy.ByBreach || !strings.Contains(a.Detail, "记录") {
		t.Fatalf("raised %+v", a)
	}
	resolvedInDistrict(t, h, a, "凭证原件已核对，系出差期间延迟入账")
}

// TestWithdrawnNoticeReopensItsDeadlines (payment-disclosed, results-disclosed): a notice that met the
// 24-hour disclosure of a payment is withdrawn two days later: the deadline is open again, overdue, and
// its alert is raised at once; a new notice that discloses the payment clears it.
func TestWithdrawnNoticeReopensItsDeadlines(t *testing.T) {
	h, c := harness(t, 4)
	x := c.Stream("expenditure", "2026-0099")
	paidAt := h.Clock.Now()
	h.Record(c, x, funds.ExpenditurePaid{ExpenditureID: "2026-0099", VoucherNo: "v9", Amount: 120000, WasApproved: true, PaidAt: paidAt})
	ref := []disclosure.Ref{{Kind: disclosure.RefPayment, ID: "2026-0099", OccurredAt: paidAt}}
	notice := func(id string) disclosure.Published {
		now := h.Clock.Now()
		return disclosure.Published{NoticeID: id, Category: disclosure.Finance, Period: disclosure.Period{From: paidAt, To: paidAt},
			Title: "支出公开", Text: "…", PublishedAt: now, Window: disclosure.Window{Start: now, End: now.Add(7 * 24 * time.Hour)}, Refs: ref}
	}
	h.Advance(time.Hour)
	h.Record(c, c.Stream("disclosure", "n-1"), notice("n-1"))
	h.Advance(2 * 24 * time.Hour)
	noAlerts(t, h, c, "%d alerts while the payment is disclosed")
	h.Record(c, c.Stream("disclosure", "n-1"), disclosure.Withdrawn{NoticeID: "n-1", Reason: "内容有误", Category: disclosure.Finance,
		Refs: ref, WithdrawnAt: h.Clock.Now()})
	a := h.WaitAlert(rulebook.PaymentDisclosed, x, supervisiontest.Open)
	if !strings.Contains(a.Detail, "撤回") {
		t.Fatalf("the alert does not say the notice was withdrawn: %+v", a)
	}
	h.Record(c, c.Stream("disclosure", "n-2"), notice("n-2"))
	h.WaitAlert(rulebook.PaymentDisclosed, x, supervisiontest.Cleared)
}

// TestWithdrawnNoticeReopensTheRhythm (disclosure-frequency): the affairs notice that met the quarterly
// rhythm is withdrawn after the quarter since the one before it ended: the rhythm is due again from the
// earlier notice, overdue, and raised at once; the finance notice covering a payment is withdrawn after
// the month: the monthly rhythm is raised. New notices clear both.
func TestWithdrawnNoticeReopensTheRhythm(t *testing.T) {
	h, c := harness(t, 6)
	start := h.Clock.Now()
	h.Register(c, kernel.Urban, 1500, 3000)
	affairs := func(id string) disclosure.Published {
		return disclosure.Published{NoticeID: id, Category: disclosure.Affairs, PublishedAt: h.Clock.Now(), Title: "村务公开", Text: "…"}
	}
	h.Record(c, c.Stream("disclosure", "a-1"), affairs("a-1"))
	paidAt := h.Clock.Now()
	h.Record(c, c.Stream("expenditure", "x-1"), funds.ExpenditurePaid{ExpenditureID: "x-1", VoucherNo: "v", Amount: 100, WasApproved: true, PaidAt: paidAt})
	ref := []disclosure.Ref{{Kind: disclosure.RefPayment, ID: "x-1", OccurredAt: paidAt}}
	h.Advance(time.Hour)
	h.Record(c, c.Stream("disclosure", "f-1"), disclosure.Published{NoticeID: "f-1", Category: disclosure.Finance, PublishedAt: h.Clock.Now(),
		Title: "财务公开", Text: "…", Refs: ref})
	h.SetClock(start.AddDate(0, 2, 15))
	h.Record(c, c.Stream("disclosure", "a-2"), affairs("a-2"))
	h.SetClock(start.AddDate(0, 3, 10))
	noAlerts(t, h, c, "%d alerts while the notices are up")

	h.Record(c, c.Stream("disclosure", "a-2"), disclosure.Withdrawn{NoticeID: "a-2", Reason: "内容有误", Category: disclosure.Affairs,
		WithdrawnAt: h.Clock.Now()})
	a := h.WaitAlert(rulebook.DisclosureFrequency, policy.AffairsBoardSubject(c.ID), supervisiontest.Open)
	if !strings.Contains(a.Detail, "a-2") || !strings.Contains(a.Detail, "撤回") {
		t.Fatalf("the alert does not name the withdrawn notice: %+v", a)
	}
	h.Record(c, c.Stream("disclosure", "f-1"), disclosure.Withdrawn{NoticeID: "f-1", Reason: "内容有误", Category: disclosure.Finance,
		Refs: ref, WithdrawnAt: h.Clock.Now()})
	h.WaitAlert(rulebook.DisclosureFrequency, policy.FinanceBoardSubject(c.ID), supervisiontest.Open)

	h.Record(c, c.Stream("disclosure", "a-3"), affairs("a-3"))
	h.WaitAlert(rulebook.DisclosureFrequency, policy.AffairsBoardSubject(c.ID), supervisiontest.Cleared)
	h.Record(c, c.Stream("disclosure", "f-2"), disclosure.Published{NoticeID: "f-2", Category: disclosure.Finance, PublishedAt: h.Clock.Now(),
		Title: "财务公开", Text: "…", Refs: ref})
	h.WaitAlert(rulebook.DisclosureFrequency, policy.FinanceBoardSubject(c.ID), supervisiontest.Cleared)
}

// TestRuleExitAudit: a member who resigned is not audited within 90 days: the alert is raised; the exit
// audit of that member clears it.
func TestRuleExitAudit(t *testing.T) {
	h, c := harness(t, 5)
	left := h.Clock.Now()
	h.Record(c, c.Stream("community", "profile"), community.MemberLeft{CommunityID: c.ID, Person: "p-7", Reason: community.Resigned, LeftAt: left})
	h.Advance(89 * 24 * time.Hour)
	noAlerts(t, h, c, "%d alerts before the deadline")
	h.Advance(2 * 24 * time.Hour)
	subject := policy.ExitAuditSubject(c.ID, "p-7")
	h.WaitAlert(rulebook.ExitAudit, subject, supervisiontest.Open)
	h.Record(c, c.Stream("audit", "a-exit"), audit.Opened{AuditID: "a-exit", Kind: audit.Exit, Subject: "p-7", Auditor: "经管站",
		Period: audit.Period{From: left.AddDate(-1, 0, 0), To: left}, OpenedAt: h.Clock.Now()})
	h.WaitAlert(rulebook.ExitAudit, subject, supervisiontest.Cleared)
}

// TestRuleObjectionAnswered: a resident's objection to a notice unanswered for 7 days raises an alert;
// the answer clears it.
func TestRuleObjectionAnswered(t *testing.T) {
	h, c := harness(t, 6)
	n := c.Stream("disclosure", "n-obj")
	h.Record(c, n, disclosure.ObjectionRaised{NoticeID: "n-obj", ObjectionID: "o-1", Text: "支出金额偏高", Objector: kernel.PersonalData{Subject: "p-r"},
		RaisedAt: h.Clock.Now()})
	h.Advance(6 * 24 * time.Hour)
	noAlerts(t, h, c, "%d alerts before the deadline")
	h.Advance(2 * 24 * time.Hour)
	subject := policy.ObjectionSubject(n, "o-1")
	h.WaitAlert(rulebook.ObjectionAnswered, subject, supervisiontest.Open)
	h.Record(c, n, disclosure.ObjectionAnswered{NoticeID: "n-obj", ObjectionID: "o-1", Answer: "已按三家比价确定", AnsweredAt: h.Clock.Now()})
	h.WaitAlert(rulebook.ObjectionAnswered, subject, supervisiontest.Cleared)
}

// TestRuleSplitSpending: an approval that splits a major expenditure raises a red alert naming the
// others; a supervisor resolves it.
func TestRuleSplitSpending(t *testing.T) {
	h, c := harness(t, 7)
	x := c.Stream("expenditure", "y-3")
	h.Record(c, x, funds.ExpenditureApproved{ExpenditureID: "y-3", By: "p-chair", ApprovedAt: h.Clock.Now(),
		Watch: breach(rulebook.SplitSpending, "支出y-3与同一收款方近期的支出y-1、y-2合计达到重大事项标准")})
	a := h.WaitAlert(rulebook.SplitSpending, x, supervisiontest.RedOpen)
	if !strings.Contains(a.Detail, "y-1") {
		t.Fatalf("raised %+v", a)
	}
	waitRating(t, h, c, policy.Red)
	resolvedInDistrict(t, h, a, "三笔为不同工程，已核实")
}

// TestRuleSealUse (seal-use, late-recording): every use of a seal recorded without the joint approval
// raises its own red alert (two uses of one seal, two alerts), and one recorded days after the document's
// date a late-recording alert beside it; the community turns red; a supervisor resolves one, the other
// stays open.
func TestRuleSealUse(t *testing.T) {
	h, c := harness(t, 14)
	s := c.Stream("seal", "s-committee")
	now := h.Clock.Now()
	doc := seal.Document{Title: "厂房租赁合同", Date: now, Purpose: "出租厂房", Counterparty: "某机械有限公司", Amount: 3000000}
	h.Record(c, s, seal.Registered{SealID: "s-committee", Kind: seal.CommitteeSeal, Name: "某村民委员会", Custodian: "p-7", CustodianName: "陈文书",
		RegisteredAt: now})
	h.Record(c, s, seal.Used{SealID: "s-committee", UseID: "u-1", Document: doc, DocumentSHA256: strings.Repeat("a", 64), UsedAt: now,
		Watch: breach(rulebook.SealUse, "印章用于《厂房租赁合同》，未经审批：缺监督委员会审批")})
	late := doc
	late.Date = now.Add(-72 * time.Hour)
	h.Record(c, s, seal.Used{SealID: "s-committee", UseID: "u-2", Document: late, DocumentSHA256: strings.Repeat("b", 64), UsedAt: now,
		Watch: kernel.Watch{Breaches: []kernel.Breach{{Rule: rulebook.SealUse, Detail: "未经审批"}, {Rule: rulebook.LateRecording, Detail: "补登"}}}})
	u1 := h.WaitAlert(rulebook.SealUse, policy.SealUseSubject(s, "u-1"), supervisiontest.RedOpen)
	if u1.Trigger != policy.ByBreach || !strings.Contains(u1.Detail, "缺监督委员会审批") {
		t.Fatalf("raised %+v", u1)
	}
	h.WaitAlert(rulebook.SealUse, policy.SealUseSubject(s, "u-2"), supervisiontest.RedOpen)
	if l := h.WaitAlert(rulebook.LateRecording, policy.SealUseSubject(s, "u-2"), supervisiontest.Open); l.Severity != rulebook.Yellow {
		t.Fatalf("late recording %+v", l)
	}
	waitRating(t, h, c, policy.Red)
	resolvedInDistrict(t, h, u1, "已补办审批手续，合同经两委和监委会追认")
	h.WaitAlert(rulebook.SealUse, policy.SealUseSubject(s, "u-2"), supervisiontest.RedOpen)
}

// TestRulePublicBidding: a contract awarded without public bidding above the threshold raises an alert
// naming the counterparty; a supervisor resolves it.
func TestRulePublicBidding(t *testing.T) {
	h, c := harness(t, 15)
	a := c.Stream("asset", "a-1")
	from := h.Clock.Now()
	h.Record(c, a, asset.Registered{AssetID: "a-1", Kind: asset.Resource, Name: "西塘鱼塘", Location: "西塘", RegisteredAt: from})
	h.Record(c, a, asset.ContractSigned{AssetID: "a-1", ContractID: "c-1", Counterparty: "某养殖场", From: from, To: from.AddDate(1, 0, 0),
		Rent: kernel.Yuan(40000), Every: asset.Yearly, Total: kernel.Yuan(40000), Method: asset.Negotiated,
		Installments: asset.Installments(from, from.AddDate(1, 0, 0), kernel.Yuan(40000), asset.Yearly), SignedAt: from,
		Watch: breach(rulebook.PublicBidding, "与某养殖场的合同总金额¥40,000.00，达到¥30,000.00却未公开招标(竞价)")})
	al := h.WaitAlert(rulebook.PublicBidding, a, supervisiontest.Open)
	if al.Trigger != policy.ByBreach || !strings.Contains(al.Detail, "某养殖场") {
		t.Fatalf("raised %+v", al)
	}
	resolvedInDistrict(t, h, al, "系原承包户续包，经村民代表会议同意")
}

// TestRuleRentCollected: each installment of a contract's rent not received within 30 days of falling
// due raises its own alert; receiving it clears that one; an installment received in time raises none.
func TestRuleRentCollected(t *testing.T) {
	h, c := harness(t, 16)
	a := c.Stream("asset", "a-shop")
	from := h.Clock.Now()
	h.Record(c, a, asset.ContractSigned{AssetID: "a-shop", ContractID: "c-1", Counterparty: "便民超市", From: from, To: from.AddDate(0, 6, 0),
		Rent: kernel.Yuan(6000), Every: asset.Quarterly, Total: kernel.Yuan(12000), Method: asset.PublicBidding,
		Installments: asset.Installments(from, from.AddDate(0, 6, 0), kernel.Yuan(6000), asset.Quarterly), SignedAt: from})
	h.Record(c, a, asset.RentReceived{AssetID: "a-shop", ContractID: "c-1", Installment: 1, Amount: kernel.Yuan(6000), VoucherNo: "收-1",
		ReceivedAt: from.Add(time.Hour)})
	h.Advance(3*30*24*time.Hour + 29*24*time.Hour)
	noAlerts(t, h, c, "%d alerts before the second installment is overdue")
	h.Advance(5 * 24 * time.Hour)
	second := policy.RentSubject(a, "c-1", 2)
	al := h.WaitAlert(rulebook.RentCollected, second, supervisiontest.Open)
	if !strings.Contains(al.Detail, "第2期") || !strings.Contains(al.Detail, "便民超市") {
		t.Fatalf("raised %+v", al)
	}
	h.Record(c, a, asset.RentReceived{AssetID: "a-shop", ContractID: "c-1", Installment: 2, Amount: kernel.Yuan(6000), VoucherNo: "收-2",
		ReceivedAt: h.Clock.Now()})
	h.WaitAlert(rulebook.RentCollected, second, supervisiontest.Cleared)
}

// TestRuleWorkAdmission: every task a community records that neither the district's list nor an admission
// allows raises its own alert; a supervisor resolves one, the other stays.
func TestRuleWorkAdmission(t *testing.T) {
	h, c := harness(t, 17)
	s := c.Stream("worklist", "tasks")
	for _, id := range []string{"w-1", "w-2"} {
		h.Record(c, s, worklist.TaskReceived{RecordID: id, Department: "区住建局", Title: "统计辖区电梯数量" + id, ReceivedAt: h.Clock.Now(),
			Watch: breach(rulebook.WorkAdmission, "区住建局交办的“统计辖区电梯数量”既不在社区工作事项清单上，也未经准入，不得转嫁给社区")})
	}
	first := h.WaitAlert(rulebook.WorkAdmission, s+"/task/w-1", supervisiontest.Open)
	h.WaitAlert(rulebook.WorkAdmission, s+"/task/w-2", supervisiontest.Open)
	if !strings.Contains(first.Detail, "不得转嫁给社区") {
		t.Fatalf("raised %+v", first)
	}
	resolvedInDistrict(t, h, first, "已退回区住建局，由其自行组织统计")
	h.WaitAlert(rulebook.WorkAdmission, s+"/task/w-2", supervisiontest.Open)
}

// TestOperatingFundsAtYearEnd (operating-funds): on 1 January, a community allocated less than its
// household tier's operating funds for the year that ended raises an alert — also one allocated nothing
// — and one allocated enough does not.
func TestOperatingFundsAtYearEnd(t *testing.T) {
	t.Parallel()
	cst := kernel.ChinaTime()
	clock := supervisiontest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, cst))
	h := supervisiontest.New(t, supervisiontest.Options{Clock: clock})
	short, none, enough := supervisiontest.NewCommunity(supervisiontest.DistrictX, 8), supervisiontest.NewCommunity(supervisiontest.DistrictX, 9),
		supervisiontest.NewCommunity(supervisiontest.DistrictX, 10)
	for _, c := range []supervisiontest.Community{short, none, enough} {
		h.Register(c, kernel.Urban, 2500, 5000)
	}
	allocate := func(c supervisiontest.Community, id string, yuan int64) {
		h.Record(c, c.Stream("budget", "2026-"+id), funds.BudgetAllocated{FiscalYear: 2026, AllocationID: id, Source: funds.CountyFinance,
			Category: funds.Operating, Amount: kernel.Yuan(yuan), AllocatedAt: clock.Now()})
	}
	allocate(short, "a-1", 30000)
	allocate(enough, "a-1", 30000)
	allocate(enough, "a-2", 20000)
	h.Quiesce()
	h.SetClock(time.Date(2027, 1, 1, 0, 30, 0, 0, cst))
	for _, c := range []supervisiontest.Community{short, none} {
		a := h.WaitAlert(rulebook.OperatingFunds, policy.OperatingFundsSubject(c.ID, 2026), supervisiontest.Open)
		if a.Trigger != policy.ByCalendar || !strings.Contains(a.Detail, "2026年度") {
			t.Fatalf("%+v", a)
		}
	}
	h.Quiesce()
	for _, a := range h.Alerts(enough.ID) {
		if a.Subject == policy.OperatingFundsSubject(enough.ID, 2026) {
			t.Fatalf("a community allocated its tier's funds: %+v", a)
		}
	}
}

// TestRulePayScale: a salary paid outside the worker's grade scale raises an alert on its expenditure; a
// supervisor resolves it once the difference is explained.
func TestRulePayScale(t *testing.T) {
	h, c := harness(t, 18)
	x := c.Stream("expenditure", "sal-1")
	h.Record(c, x, funds.ExpenditurePaid{ExpenditureID: "sal-1", VoucherNo: "付-1", Amount: kernel.Yuan(5200), PaidAt: h.Clock.Now(),
		Watch: breach(rulebook.PayScale, "2026年11月基本工资实发¥5,200.00，高于社区专职工作者5级(基本工资¥4,800.00/月)的标准上限¥4,800.00")})
	al := h.WaitAlert(rulebook.PayScale, x, supervisiontest.Open)
	if al.Trigger != policy.ByBreach || !strings.Contains(al.Detail, "社区专职工作者5级") {
		t.Fatalf("raised %+v", al)
	}
	resolvedInDistrict(t, h, al, "多发部分已于次月工资中扣回")
}

// TestRuleStaffingLimit: the hire that takes a roster past its posts opens one alert on the roster; the
// leave that brings it back within clears it (the condition ended); a hire within the posts raises none.
func TestRuleStaffingLimit(t *testing.T) {
	h, c := harness(t, 19)
	roster := c.Stream("worker", "roster")
	hire := func(id string, over bool) {
		e := worker.Hired{WorkerID: id, Person: kernel.PersonID("p-" + id), Post: worker.Post{Series: worker.Staff, Grade: 3}, HiredAt: h.Clock.Now()}
		if over {
			e.Watch = breach(rulebook.StaffingLimit, "在岗社区工作者8人，超过核定职数7人(服务1200户)")
		}
		h.Record(c, roster, e)
	}
	hire("w-1", false)
	noAlerts(t, h, c, "%d alerts for a hire within the posts")
	hire("w-2", true)
	a := h.WaitAlert(rulebook.StaffingLimit, roster, supervisiontest.Open)
	if !strings.Contains(a.Detail, "核定职数7人") {
		t.Fatalf("raised %+v", a)
	}
	h.Record(c, roster, worker.Left{WorkerID: "w-2", Reason: worker.Resigned, LeftAt: h.Clock.Now()})
	cl := h.WaitAlert(rulebook.StaffingLimit, roster, supervisiontest.Cleared)
	if cl.ID != a.ID || cl.ClearReason != string(policy.ConditionEnded) {
		t.Fatalf("%+v", cl)
	}
}

// TestRuleRectificationDue: a rectification not reported by its deadline raises an alert; the committee's
// report clears it. One reported in time raises none.
func TestRuleRectificationDue(t *testing.T) {
	h, c := harness(t, 20)
	late, kept := c.Stream("rectification", "z-1"), c.Stream("rectification", "z-2")
	due := h.Clock.Now().Add(7 * 24 * time.Hour)
	for _, s := range []string{late, kept} {
		h.Record(c, s, rectification.Ordered{RectificationID: s, Source: rectification.Source{Kind: rectification.Inspection, ID: "2026-r1",
			FindingID: "f-1", Finding: "议事协商会议记录未归档"}, Requirement: "归档并报告", Due: due, OrderedAt: h.Clock.Now()})
	}
	h.Advance(6 * 24 * time.Hour)
	h.Record(c, kept, rectification.Reported{RectificationID: kept, Response: "已归档", ReportedAt: h.Clock.Now()})
	noAlerts(t, h, c, "%d alerts before the deadline")
	h.Advance(2 * 24 * time.Hour)
	al := h.WaitAlert(rulebook.RectificationDue, late, supervisiontest.Open)
	if al.Trigger != policy.ByDeadline || !strings.Contains(al.Detail, "议事协商会议记录未归档") {
		t.Fatalf("raised %+v", al)
	}
	h.Record(c, late, rectification.Reported{RectificationID: late, Response: "已归档", Late: true, ReportedAt: h.Clock.Now()})
	h.WaitAlert(rulebook.RectificationDue, late, supervisiontest.Cleared)
	h.Quiesce()
	for _, a := range h.Alerts(c.ID) {
		if a.Subject == kept {
			t.Fatalf("a rectification reported in time raised %+v", a)
		}
	}
}

// TestRuleCadreEvaluation: a committee not evaluated within six months of its seating raises an alert; the
// evaluation clears it and opens the next six months.
func TestRuleCadreEvaluation(t *testing.T) {
	h, c := harness(t, 21)
	start := h.Clock.Now()
	h.Record(c, c.Stream("community", "profile"), community.CommitteeSeated{CommunityID: c.ID, Term: "2026-2031", SeatedAt: start,
		Members: []community.Seat{{Person: "p-1", Role: community.Chair, Source: community.Elected, PublicName: "张建国"}}})
	h.SetClock(start.AddDate(0, 6, 0).Add(time.Hour))
	subject := policy.CadreEvaluationSubject(c.ID)
	a := h.WaitAlert(rulebook.CadreEvaluation, subject, supervisiontest.Open)
	if a.Trigger != policy.ByDeadline || !strings.Contains(a.Detail, "民主评议") {
		t.Fatalf("raised %+v", a)
	}
	h.Record(c, c.Stream("evaluation", "2026-H2-1"), evaluation.Held{EvaluationID: "2026-H2-1", Period: "2026-H2", Evaluators: 40, HeldAt: h.Clock.Now(),
		Results: []evaluation.Result{{Person: "p-1", PublicName: "张建国", Role: community.Chair, Competent: 38, Basically: 2}}})
	h.WaitAlert(rulebook.CadreEvaluation, subject, func(x alerts.Alert) bool { return x.ID == a.ID && !x.Open() })
}

// TestRuleCadreIncompetent: an evaluation that finds a member 不称职 by a third raises a red alert on it; a
// supervisor resolves it once the township has talked to the member.
func TestRuleCadreIncompetent(t *testing.T) {
	h, c := harness(t, 22)
	s := c.Stream("evaluation", "2026-H1-1")
	h.Record(c, s, evaluation.Held{EvaluationID: "2026-H1-1", Period: "2026-H1", Evaluators: 30, HeldAt: h.Clock.Now(),
		Results: []evaluation.Result{{Person: "p-2", PublicName: "李秀英", Role: community.Member, Competent: 18, Incompetent: 12}},
		Watch:   breach(rulebook.CadreIncompetent, "2026-H1民主评议中，李秀英被12人(共30票)评为不称职")})
	a := h.WaitAlert(rulebook.CadreIncompetent, s, supervisiontest.RedOpen)
	if !strings.Contains(a.Detail, "李秀英") {
		t.Fatalf("raised %+v", a)
	}
	resolvedInDistrict(t, h, a, "街道已约谈，限期改进")
}

// TestRuleAnnualAssessment: a year frozen below the pass score raises a yellow alert on the community's
// scorecard; a supervisor resolves it with the rectification plan.
func TestRuleAnnualAssessment(t *testing.T) {
	h, c := harness(t, 23)
	s := assessment.ScorecardStream(c.ID, 2025)
	h.Record(c, s, assessment.Frozen{Year: 2025, Jurisdiction: supervisiontest.DistrictX, Base: 100, Total: 72, FrozenAt: h.Clock.Now(),
		Lines: []assessment.Line{{Code: "B1", Title: "预警未消除", Measure: assessment.OpenAlerts, Facts: 14, Points: -28}},
		Watch: breach(rulebook.AnnualAssessment, "2025年度考核得分72，低于合格分80")})
	a := h.WaitAlert(rulebook.AnnualAssessment, s, supervisiontest.YellowOpen)
	if !strings.Contains(a.Detail, "72") {
		t.Fatalf("raised %+v", a)
	}
	mustResolve(t, h, h.Token(commands.RoleSupervisor, supervisiontest.DistrictX), a.ID, "已制定整改方案")
	h.WaitAlert(rulebook.AnnualAssessment, s, supervisiontest.Cleared)
}

// TestRuleSatisfaction: a survey closed with a low satisfied share raises a yellow alert on the survey; a
// supervisor resolves it.
func TestRuleSatisfaction(t *testing.T) {
	h, c := harness(t, 24)
	s := survey.Stream(c.ID, "2026")
	h.Record(c, s, survey.Closed{SurveyID: "2026", Respondents: 100, Tallies: []survey.Tally{{QuestionID: "q1", Counts: []int{40, 30, 30}}},
		ClosedAt: h.Clock.Now(), Watch: breach(rulebook.Satisfaction, "满意度测评满意(含基本满意)率70.0%，低于80.0%")})
	a := h.WaitAlert(rulebook.Satisfaction, s, supervisiontest.YellowOpen)
	mustResolve(t, h, h.Token(commands.RoleSupervisor, supervisiontest.DistrictX), a.ID, "已入户走访，制定改进措施")
	h.WaitAlert(rulebook.Satisfaction, s, supervisiontest.Cleared)
}
