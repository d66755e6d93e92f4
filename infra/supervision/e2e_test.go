package supervision_test

import (
	"context"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	policy "github.com/grassroots-ledger/ledger/domain/supervision"
	"github.com/grassroots-ledger/ledger/infra/supervision/supervisiontest"
)

// TestThroughTheCommandHandlers: the facts come from the real command handlers (the domain decides the
// breaches), not from hand-made events: a payment made without approval above the threshold is red at
// once; a payment not disclosed within 24 h is yellow, then cleared by the notice that discloses it.
func TestThroughTheCommandHandlers(t *testing.T) {
	t.Parallel()
	h := supervisiontest.New(t, supervisiontest.Options{})
	ctx := context.Background()
	hs := commands.NewHandlers(h.Server.Executor, nil)
	n := 0
	meta := func(role commands.Role) commands.Meta {
		n++
		return commands.Meta{CommandID: "e2e-" + string(rune('a'+n/26)) + string(rune('a'+n%26)), Actor: commands.Actor{Subject: "t", Role: role, Scope: "*"}}
	}
	must := func(_ commands.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, j := range []struct{ path, name string }{{"33", "浙江省"}, {"33/3303", "温州市"}, {"33/3303/330303", "龙湾区"}, {"33/3303/330303/330303001", "永中街道"}} {
		must(hs.RegisterJurisdiction(ctx, meta(commands.RoleAdmin), commands.RegisterJurisdiction{Path: j.path, Name: j.name}))
	}
	c := supervisiontest.NewCommunity(supervisiontest.DistrictX, 1)
	must(hs.RegisterCommunity(ctx, meta(commands.RoleAdmin), commands.RegisterCommunity{CommunityID: string(c.ID), Name: "罗西社区",
		Kind: "urban", Jurisdiction: string(c.Path), Households: 1800, Adults: 3600}))
	must(hs.SeatCommittee(ctx, meta(commands.RoleClerk), commands.SeatCommittee{CommunityID: string(c.ID), Term: "2021-2026", Members: []commands.CommitteeSeat{
		{Person: "p-chair", Role: "chair", FullTime: true, Source: "elected"}, {Person: "p-2", Role: "vice-chair", FullTime: true, Source: "elected"},
		{Person: "p-3", Role: "member", FullTime: true, Source: "elected"}, {Person: "p-4", Role: "member", Source: "elected"},
		{Person: "p-5", Role: "member", Source: "elected"}}}))
	payee := commands.Payee{Kind: "organisation", Organisation: "某工程公司"}
	must(hs.RequestExpenditure(ctx, meta(commands.RoleClerk), commands.RequestExpenditure{CommunityID: string(c.ID), ExpenditureID: "2026-0001",
		FiscalYear: 2026, Category: "project", Kind: "other", Purpose: "修路", AmountFen: 8_000_000, Payee: payee}))
	must(hs.PayExpenditure(ctx, meta(commands.RoleClerk), commands.PayExpenditure{CommunityID: string(c.ID), ExpenditureID: "2026-0001", VoucherNo: "记-1"}))
	big := h.WaitAlert(rulebook.MajorMatterResolution, c.Stream("expenditure", "2026-0001"), supervisiontest.RedOpen)
	waitRating(t, h, c, policy.Red)
	if big.Trigger != policy.ByBreach {
		t.Fatalf("%+v", big)
	}

	must(hs.RequestExpenditure(ctx, meta(commands.RoleClerk), commands.RequestExpenditure{CommunityID: string(c.ID), ExpenditureID: "2026-0002",
		FiscalYear: 2026, Category: "operating", Kind: "other", Purpose: "办公用品", AmountFen: 120_000, Payee: payee}))
	must(hs.ApproveExpenditure(ctx, meta(commands.RoleCommittee), commands.ApproveExpenditure{CommunityID: string(c.ID), ExpenditureID: "2026-0002", By: "p-chair"}))
	must(hs.PayExpenditure(ctx, meta(commands.RoleClerk), commands.PayExpenditure{CommunityID: string(c.ID), ExpenditureID: "2026-0002", VoucherNo: "记-2"}))
	h.Advance(25 * time.Hour)
	small := c.Stream("expenditure", "2026-0002")
	h.WaitAlert(rulebook.PaymentDisclosed, small, supervisiontest.Open)
	now := h.Clock.Now()
	must(hs.PublishDisclosure(ctx, meta(commands.RoleClerk), commands.PublishDisclosure{CommunityID: string(c.ID), NoticeID: "2026-03-finance",
		Category: "finance", Period: commands.Period{From: now.AddDate(0, 0, -2), To: now}, Title: "三月财务公开", Text: "支出明细",
		Window:    commands.Window{Start: now, End: now.AddDate(0, 0, 7)},
		Discloses: []commands.DisclosedFact{{Kind: "payment", ID: "2026-0002"}, {Kind: "payment", ID: "2026-0001"}}}))
	h.WaitAlert(rulebook.PaymentDisclosed, small, supervisiontest.Cleared)
	h.WaitAlert(rulebook.PaymentDisclosed, c.Stream("expenditure", "2026-0001"), supervisiontest.Cleared)
	// The unauthorised payment stays red until a supervisor resolves it: disclosing it is not authorising it.
	h.Quiesce()
	waitRating(t, h, c, policy.Red)

	// Back-dating shows: a payment recorded five days after its voucher's date is a late-recording alert,
	// and the clerk is told at once.
	must(hs.RequestExpenditure(ctx, meta(commands.RoleClerk), commands.RequestExpenditure{CommunityID: string(c.ID), ExpenditureID: "2026-0003",
		FiscalYear: 2026, Category: "operating", Kind: "other", Purpose: "办公用品", AmountFen: 30_000, Payee: payee}))
	res, err := hs.PayExpenditure(ctx, meta(commands.RoleClerk), commands.PayExpenditure{CommunityID: string(c.ID), ExpenditureID: "2026-0003",
		VoucherNo: "记-3", PaidAt: h.Clock.Now().Add(-5 * 24 * time.Hour)})
	if err != nil || len(res.Breaches) != 1 || res.Breaches[0].Rule != string(rulebook.LateRecording) {
		t.Fatalf("a back-dated payment: %+v, %v", res, err)
	}
	h.WaitAlert(rulebook.LateRecording, c.Stream("expenditure", "2026-0003"), supervisiontest.Open)

	// A member resigns through the command API: no exit audit within 90 days raises the alert; the exit
	// audit of that member, opened through the command API, clears it.
	must(hs.LeaveCommittee(ctx, meta(commands.RoleClerk), commands.LeaveCommittee{CommunityID: string(c.ID), Person: "p-5", Reason: "resigned"}))
	h.Advance(91 * 24 * time.Hour)
	exit := policy.ExitAuditSubject(c.ID, "p-5")
	h.WaitAlert(rulebook.ExitAudit, exit, supervisiontest.Open)
	now = h.Clock.Now()
	must(hs.OpenAudit(ctx, meta(commands.RoleClerk), commands.OpenAudit{CommunityID: string(c.ID), AuditID: "exit-p5", Kind: "exit",
		Subject: "p-5", Auditor: "龙湾区农村经济管理站", Period: commands.Period{From: now.AddDate(-1, 0, 0), To: now.AddDate(0, 0, -91)}}))
	h.WaitAlert(rulebook.ExitAudit, exit, supervisiontest.Cleared)

	// Operating funds at year end: this fiscal year's operating funds, allocated through the command API,
	// stay below the tier of 1 800 households by 31 December: the check on 1 January raises the alert; the
	// rest, allocated through the command API in January, clears it.
	cst := kernel.ChinaTime()
	fy := h.Clock.Now().In(cst).Year()
	allocate := func(id string, fen int64) {
		t.Helper()
		must(hs.AllocateBudget(ctx, meta(commands.RoleClerk), commands.AllocateBudget{CommunityID: string(c.ID), FiscalYear: fy,
			AllocationID: id, Source: "street-finance", Category: "operating", AmountFen: fen}))
	}
	allocate("op-1", 3_000_000)
	h.SetClock(time.Date(fy+1, 1, 1, 0, 30, 0, 0, cst))
	funds := policy.OperatingFundsSubject(c.ID, fy)
	if a := h.WaitAlert(rulebook.OperatingFunds, funds, supervisiontest.Open); a.Trigger != policy.ByCalendar {
		t.Fatalf("the year-end alert: %+v", a)
	}
	allocate("op-2", int64(rulebook.Defaults().OperatingFundsRequired(1800)))
	h.WaitAlert(rulebook.OperatingFunds, funds, supervisiontest.Cleared)

	// The finance notice that disclosed payment 2026-0002 is withdrawn through the command API: the
	// payment's 24-hour disclosure is open again, long overdue, and raised at once, and so is the monthly
	// finance rhythm; a new notice disclosing it clears both.
	must(hs.WithdrawDisclosure(ctx, meta(commands.RoleClerk), commands.WithdrawDisclosure{CommunityID: string(c.ID),
		NoticeID: "2026-03-finance", Reason: "金额有误"}))
	h.WaitAlert(rulebook.PaymentDisclosed, small, supervisiontest.Open)
	h.WaitAlert(rulebook.DisclosureFrequency, policy.FinanceBoardSubject(c.ID), supervisiontest.Open)
	now = h.Clock.Now()
	must(hs.PublishDisclosure(ctx, meta(commands.RoleClerk), commands.PublishDisclosure{CommunityID: string(c.ID), NoticeID: "2026-03-finance-r",
		Category: "finance", Period: commands.Period{From: now.AddDate(0, -10, 0), To: now}, Title: "三月财务公开(更正)", Text: "支出明细",
		Window:    commands.Window{Start: now, End: now.AddDate(0, 0, 7)},
		Discloses: []commands.DisclosedFact{{Kind: "payment", ID: "2026-0002"}}}))
	h.WaitAlert(rulebook.PaymentDisclosed, small, supervisiontest.Cleared)
	h.WaitAlert(rulebook.DisclosureFrequency, policy.FinanceBoardSubject(c.ID), supervisiontest.Cleared)
}
