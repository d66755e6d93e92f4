package supervision_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/asset"
	"github.com/grassroots-ledger/ledger/domain/audit"
	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/election"
	"github.com/grassroots-ledger/ledger/domain/evaluation"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/internal/domaintest"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/domain/rectification"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/supervision"
)

var (
	t0   = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	path = kernel.JurisdictionPath("33/3303/330303/330303001/330303001001")
	cid  = kernel.CommunityID("330303001001")
)

func samples() []kernel.Event {
	due := t0.Add(24 * time.Hour)
	id := supervision.AlertID(rulebook.PaymentDisclosed, "expenditure-330303001001-2026-0042", supervision.Anchor(due))
	return []kernel.Event{
		supervision.AlertRaised{AlertID: id, Rule: rulebook.PaymentDisclosed, Severity: rulebook.Yellow, Community: cid,
			Jurisdiction: path, Subject: "expenditure-330303001001-2026-0042", Trigger: supervision.ByDeadline,
			Detail: "支出2026-0042于2026-03-02 09:00支付，应在24小时内上墙公开，至今未公开", DueAt: &due,
			Source:   &supervision.Source{EventID: "9b1c7d0e-5a4f-5b7e-8c2d-1f3e4a5b6c7d", Stream: "expenditure-330303001001-2026-0042", Type: "funds.expenditure-paid"},
			RaisedAt: due},
		supervision.AlertCleared{AlertID: id, Rule: rulebook.PaymentDisclosed, Community: cid, Jurisdiction: path,
			Subject: "expenditure-330303001001-2026-0042", Reason: supervision.ResolvedBySupervisor, Detail: "已核实，系补录",
			Source: &supervision.Source{EventID: "1c2d3e4f-5a6b-5c7d-8e9f-0a1b2c3d4e5f", Stream: "disclosure-330303001001-n-7", Type: "disclosure.published"},
			By:     "supervisor:district-team", ClearedAt: due.Add(time.Hour)},
		supervision.PoisonEventSkipped{Model: "finances", Position: "1234/1234", EventID: "9b1c7d0e-5a4f-5b7e-8c2d-1f3e4a5b6c7d",
			EventType: "funds.expenditure-requested", Stream: "expenditure-330303001001-2026-0042",
			Reason: "金额超出列宽，已核实为录入错误，另行更正", By: "admin:ops", SkippedAt: due},
	}
}

func TestGoldens(t *testing.T) {
	domaintest.Goldens(t, domaintest.Registry(t, supervision.RegisterEvents), "testdata", samples())
}

func TestRoundTrip(t *testing.T) {
	reg := domaintest.Registry(t, supervision.RegisterEvents)
	for _, e := range samples() {
		domaintest.RoundTrip(t, reg, e)
	}
}

func TestRate(t *testing.T) {
	for _, c := range []struct {
		red, yellow int
		want        supervision.Rating
	}{{0, 0, supervision.Green}, {0, 3, supervision.Yellow}, {1, 0, supervision.Red}, {2, 5, supervision.Red}} {
		if got := supervision.Rate(c.red, c.yellow); got != c.want {
			t.Errorf("Rate(%d, %d) = %s, want %s", c.red, c.yellow, got, c.want)
		}
	}
	if !supervision.Worse(rulebook.Red, rulebook.Yellow) || supervision.Worse(rulebook.Yellow, rulebook.Red) || supervision.Worse(rulebook.Red, rulebook.Red) {
		t.Fatal("Worse")
	}
}

func TestDistrictAndIDs(t *testing.T) {
	if got := supervision.Stream(path); got != "alerts-330303" {
		t.Fatalf("stream %s", got)
	}
	if got := supervision.District("33"); got != "33" {
		t.Fatalf("short path: %s", got)
	}
	a := supervision.AlertID(rulebook.MinutesKept, "meeting-1-m", supervision.Anchor(t0))
	if a != supervision.AlertID(rulebook.MinutesKept, "meeting-1-m", supervision.Anchor(t0.In(kernel.ChinaTime()))) {
		t.Fatal("the anchor of a due time must not depend on its zone")
	}
	if a == supervision.AlertID(rulebook.MinutesKept, "meeting-1-m", supervision.Anchor(t0.Add(time.Nanosecond))) {
		t.Fatal("another deadline is another alert")
	}
	ids := []string{supervision.RaisedEventID(a, rulebook.Yellow).String(), supervision.RaisedEventID(a, rulebook.Red).String(), supervision.ClearedEventID(a).String()}
	if ids[0] == ids[1] || ids[1] == ids[2] || ids[0] == ids[2] {
		t.Fatal("raise, escalation and clear must have distinct event ids")
	}
}

func rec(stream string) supervision.Recorded {
	return supervision.Recorded{Community: cid, Stream: stream}
}

func TestEffects(t *testing.T) {
	p := rulebook.Defaults()
	exp := "expenditure-330303001001-x-1"
	breach := func(rule kernel.RuleID) kernel.Watch {
		return kernel.Watch{Breaches: []kernel.Breach{{Rule: rule, Detail: "d"}}}
	}

	t.Run("payment opens its disclosure deadline and the finance rhythm", func(t *testing.T) {
		fx := supervision.EffectsOf(funds.ExpenditurePaid{ExpenditureID: "x-1", Amount: 100, PaidAt: t0}, rec(exp), p)
		if len(fx.Open) != 1 || fx.Open[0].Key != (supervision.Key{rulebook.PaymentDisclosed, exp}) || !fx.Open[0].Due.Equal(t0.Add(24*time.Hour)) {
			t.Fatalf("%+v", fx.Open)
		}
		if len(fx.OpenIfAbsent) != 1 || fx.OpenIfAbsent[0].Subject != supervision.FinanceBoardSubject(cid) || !fx.OpenIfAbsent[0].Due.Equal(t0.AddDate(0, 1, 0)) {
			t.Fatalf("%+v", fx.OpenIfAbsent)
		}
		if len(fx.Breaches) != 0 {
			t.Fatal(fx.Breaches)
		}
	})
	t.Run("payment without resolution raises a breach alert", func(t *testing.T) {
		fx := supervision.EffectsOf(funds.ExpenditurePaid{ExpenditureID: "x-1", PaidAt: t0, Watch: breach(rulebook.MajorMatterResolution)}, rec(exp), p)
		if len(fx.Breaches) != 1 || fx.Breaches[0].Key != (supervision.Key{rulebook.MajorMatterResolution, exp}) {
			t.Fatalf("%+v", fx.Breaches)
		}
	})
	t.Run("a notice meets the deadlines of what it discloses", func(t *testing.T) {
		fx := supervision.EffectsOf(disclosure.Published{Category: disclosure.Finance, PublishedAt: t0, Refs: []disclosure.Ref{
			{Kind: disclosure.RefPayment, ID: "x-1"}, {Kind: disclosure.RefElection, ID: "e-1"}, {Kind: disclosure.RefAudit, ID: "a-1"}, {Kind: disclosure.RefResolution, ID: "r-1"},
		}, Watch: breach(rulebook.PaymentDisclosed)}, rec("disclosure-330303001001-n-1"), p)
		want := []supervision.Key{
			{rulebook.PaymentDisclosed, exp},
			{rulebook.ResultsDisclosed, "election-330303001001-e-1"},
			{rulebook.ResultsDisclosed, "audit-330303001001-a-1"},
			{rulebook.DisclosureFrequency, supervision.ResolutionSubject(cid, "r-1")},
			{rulebook.DisclosureFrequency, supervision.FinanceBoardSubject(cid)},
		}
		if !slices.Equal(fx.Met, want) {
			t.Fatalf("met %v", fx.Met)
		}
		if len(fx.Breaches) != 0 {
			t.Fatalf("a late notice's breach is covered by the deadline's alert: %v", fx.Breaches)
		}
	})
	t.Run("an affairs notice restarts the quarterly rhythm", func(t *testing.T) {
		fx := supervision.EffectsOf(disclosure.Published{Category: disclosure.Affairs, PublishedAt: t0}, rec("disclosure-330303001001-n-2"), p)
		if len(fx.Open) != 1 || fx.Open[0].Subject != supervision.AffairsBoardSubject(cid) || !fx.Open[0].Due.Equal(t0.AddDate(0, 3, 0)) {
			t.Fatalf("%+v", fx.Open)
		}
	})
	t.Run("committee events evaluate the committee rules", func(t *testing.T) {
		fx := supervision.EffectsOf(community.CommitteeSeated{SeatedAt: t0, Watch: breach(rulebook.FullTimeShare)}, rec("community-330303001001-profile"), p)
		want := []supervision.Evaluation{
			{Key: supervision.Key{rulebook.CommitteeSize, supervision.CommitteeSubject(cid)}},
			{Key: supervision.Key{rulebook.FullTimeShare, supervision.CommitteeSubject(cid)}, Broken: true, Detail: "d"},
		}
		if !slices.Equal(fx.Evaluated, want) || len(fx.Breaches) != 0 {
			t.Fatalf("%+v %+v", fx.Evaluated, fx.Breaches)
		}
		fx = supervision.EffectsOf(election.ResultCertified{CertifiedAt: t0, Watch: breach(rulebook.CommitteeSize)}, rec("election-330303001001-e-1"), p)
		if !fx.Evaluated[0].Broken || fx.Evaluated[0].Subject != supervision.CommitteeSubject(cid) || len(fx.Open) != 1 {
			t.Fatalf("%+v", fx)
		}
	})
	t.Run("only operating allocations evaluate operating funds", func(t *testing.T) {
		if fx := supervision.EffectsOf(funds.BudgetAllocated{Category: funds.Project}, rec("budget-330303001001-2026"), p); len(fx.Evaluated) != 0 {
			t.Fatal(fx.Evaluated)
		}
		fx := supervision.EffectsOf(funds.BudgetAllocated{Category: funds.Operating, Watch: breach(rulebook.OperatingFunds)}, rec("budget-330303001001-2026"), p)
		if len(fx.Evaluated) != 1 || !fx.Evaluated[0].Broken || fx.Evaluated[0].Subject != "budget-330303001001-2026" {
			t.Fatal(fx.Evaluated)
		}
	})
	t.Run("meetings: minutes due, rescheduled at close, met when recorded; assemblies", func(t *testing.T) {
		s := "meeting-330303001001-m-1"
		fx := supervision.EffectsOf(meeting.Convened{MeetingID: "m-1", Kind: meeting.Assembly, HeldAt: t0}, rec(s), p)
		if len(fx.Open) != 1 || !fx.Open[0].Due.Equal(t0.Add(48*time.Hour)) || fx.Assembly == nil || !fx.Assembly.Equal(t0) {
			t.Fatalf("%+v", fx)
		}
		fx = supervision.EffectsOf(meeting.Closed{MeetingID: "m-1", ClosedAt: t0.Add(3 * time.Hour)}, rec(s), p)
		if len(fx.Reschedule) != 1 || !fx.Reschedule[0].Due.Equal(t0.Add(51*time.Hour)) {
			t.Fatalf("%+v", fx)
		}
		fx = supervision.EffectsOf(meeting.MinutesRecorded{MeetingID: "m-1", Watch: breach(rulebook.MinutesKept)}, rec(s), p)
		if !slices.Equal(fx.Met, []supervision.Key{{rulebook.MinutesKept, s}}) || len(fx.Breaches) != 0 {
			t.Fatalf("%+v", fx)
		}
		if fx := supervision.EffectsOf(meeting.ResolutionAdopted{ResolutionID: "r-1", Subject: meeting.OtherSubject}, rec(s), p); len(fx.Open) != 0 {
			t.Fatal("an ordinary resolution has no 24 h disclosure deadline")
		}
	})
	t.Run("audits: rhythm restarted when opened, result due when closed", func(t *testing.T) {
		fx := supervision.EffectsOf(audit.Opened{AuditID: "a-1", OpenedAt: t0, Watch: breach(rulebook.CadreAudit)}, rec("audit-330303001001-a-1"), p)
		if len(fx.Open) != 1 || fx.Open[0].Subject != supervision.CadreAuditSubject(cid) || !fx.Open[0].Due.Equal(t0.AddDate(0, 6, 0)) || len(fx.Breaches) != 0 {
			t.Fatalf("%+v", fx)
		}
		fx = supervision.EffectsOf(audit.Closed{AuditID: "a-1", ClosedAt: t0}, rec("audit-330303001001-a-1"), p)
		if len(fx.Open) != 1 || fx.Open[0].Rule != rulebook.ResultsDisclosed {
			t.Fatalf("%+v", fx)
		}
	})
	t.Run("a cancelled expenditure ends its budget-balance alert", func(t *testing.T) {
		fx := supervision.EffectsOf(funds.ExpenditureCancelled{ExpenditureID: "x-1"}, rec(exp), p)
		if !slices.Equal(fx.Ends, []supervision.Key{{rulebook.BudgetBalance, exp}}) {
			t.Fatal(fx.Ends)
		}
	})
	t.Run("overridden parameters move the deadlines", func(t *testing.T) {
		q, err := p.With(rulebook.PaymentDisclosed, rulebook.ParamWithin, "48h")
		if err != nil {
			t.Fatal(err)
		}
		fx := supervision.EffectsOf(funds.ExpenditurePaid{ExpenditureID: "x-1", PaidAt: t0}, rec(exp), q)
		if !fx.Open[0].Due.Equal(t0.Add(48 * time.Hour)) {
			t.Fatal(fx.Open[0].Due)
		}
	})
}

func TestCheckpoints(t *testing.T) {
	loc := kernel.ChinaTime()
	after := time.Date(2025, 6, 1, 0, 0, 0, 0, loc)
	upTo := time.Date(2026, 7, 1, 0, 0, 0, 0, loc)
	got := supervision.Checkpoints(after, upTo)
	want := []supervision.Checkpoint{
		{At: time.Date(2025, 7, 1, 0, 0, 0, 0, loc).UTC(), Year: 2025, FirstHalf: true},
		{At: time.Date(2026, 1, 1, 0, 0, 0, 0, loc).UTC(), Year: 2025},
		{At: time.Date(2026, 7, 1, 0, 0, 0, 0, loc).UTC(), Year: 2026, FirstHalf: true},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%v", got)
	}
	p := rulebook.Defaults()
	held := []time.Time{time.Date(2025, 9, 1, 0, 0, 0, 0, loc)}
	if b := supervision.CheckAssemblies(want[0], kernel.Urban, held, p); b == nil {
		t.Fatal("no assembly in the first half of 2025")
	}
	if b := supervision.CheckAssemblies(want[1], kernel.Urban, held, p); b == nil || b.Rule != rulebook.ResidentsMeetingFrequency {
		t.Fatal("one assembly in 2025 is fewer than two")
	}
	if b := supervision.CheckAssemblies(want[1], kernel.Urban, append(held, time.Date(2025, 3, 1, 0, 0, 0, 0, loc)), p); b != nil {
		t.Fatal(b)
	}
	if b := supervision.CheckAssemblies(want[1], kernel.Rural, nil, p); b != nil {
		t.Fatal("villages are not concerned")
	}
}

// TestRule_ExitAudit (离任审计): a member leaving the committee (not by death) opens the exit-audit
// deadline, 90 days by default; an exit audit of that member meets it; another kind of audit does not.
func TestRule_ExitAudit(t *testing.T) {
	p := rulebook.Defaults()
	profile := "community-330303001001-profile"
	key := supervision.Key{Rule: rulebook.ExitAudit, Subject: supervision.ExitAuditSubject(cid, "p-7")}
	fx := supervision.EffectsOf(community.MemberLeft{CommunityID: cid, Person: "p-7", Reason: community.Resigned, LeftAt: t0}, rec(profile), p)
	if len(fx.Open) != 1 || fx.Open[0].Key != key || !fx.Open[0].Due.Equal(t0.Add(90*24*time.Hour)) {
		t.Fatalf("a resignation opens %+v", fx.Open)
	}
	if fx := supervision.EffectsOf(community.MemberLeft{CommunityID: cid, Person: "p-7", Reason: community.Deceased, LeftAt: t0}, rec(profile), p); len(fx.Open) != 0 {
		t.Fatalf("a death opens %+v", fx.Open)
	}
	fx = supervision.EffectsOf(audit.Opened{AuditID: "a-9", Kind: audit.Exit, Subject: "p-7", Auditor: "经管站", OpenedAt: t0}, rec("audit-330303001001-a-9"), p)
	if !slices.Contains(fx.Met, key) {
		t.Fatalf("the exit audit of p-7 meets %+v", fx.Met)
	}
	fx = supervision.EffectsOf(audit.Opened{AuditID: "a-10", Kind: audit.Regular, Auditor: "经管站", OpenedAt: t0}, rec("audit-330303001001-a-10"), p)
	if slices.Contains(fx.Met, key) {
		t.Fatal("a regular audit met the exit audit")
	}
}

// TestRule_RentCollected (watch): a contract opens a deadline for every installment of its rent, due
// plus 30 days; receiving an installment meets its own deadline, not the others.
func TestRule_RentCollected(t *testing.T) {
	p := rulebook.Defaults()
	stream := "asset-330303001001-a-1"
	from := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	signed := asset.ContractSigned{AssetID: "a-1", ContractID: "c-1", Counterparty: "某机械有限公司", From: from, To: from.AddDate(1, 0, 0),
		Rent: kernel.Yuan(5000), Every: asset.Quarterly, Method: asset.PublicBidding,
		Installments: asset.Installments(from, from.AddDate(1, 0, 0), kernel.Yuan(5000), asset.Quarterly), SignedAt: t0}
	fx := supervision.EffectsOf(signed, rec(stream), p)
	if len(fx.Open) != 4 || fx.Open[1].Key != (supervision.Key{Rule: rulebook.RentCollected, Subject: supervision.RentSubject(stream, "c-1", 2)}) ||
		!fx.Open[1].Due.Equal(from.AddDate(0, 3, 30)) {
		t.Fatalf("a year's lease paid quarterly opens %+v", fx.Open)
	}
	fx = supervision.EffectsOf(asset.RentReceived{AssetID: "a-1", ContractID: "c-1", Installment: 2, Amount: kernel.Yuan(5000), VoucherNo: "v",
		ReceivedAt: t0}, rec(stream), p)
	if len(fx.Met) != 1 || fx.Met[0] != (supervision.Key{Rule: rulebook.RentCollected, Subject: supervision.RentSubject(stream, "c-1", 2)}) {
		t.Fatalf("the second installment meets %+v", fx.Met)
	}
}

// TestRule_ObjectionAnswered (watch): an objection to a notice or a candidate list opens a 7-day answer
// deadline; its answer meets it.
func TestRule_ObjectionAnswered(t *testing.T) {
	p := rulebook.Defaults()
	for _, c := range []struct {
		stream         string
		raised, answer kernel.Event
	}{
		{"disclosure-330303001001-n-1",
			disclosure.ObjectionRaised{NoticeID: "n-1", ObjectionID: "o-1", Text: "x", RaisedAt: t0},
			disclosure.ObjectionAnswered{NoticeID: "n-1", ObjectionID: "o-1", Answer: "y", AnsweredAt: t0}},
		{"election-330303001001-e-1",
			election.ObjectionRaised{ElectionID: "e-1", ObjectionID: "o-1", Text: "x", RaisedAt: t0},
			election.ObjectionAnswered{ElectionID: "e-1", ObjectionID: "o-1", Answer: "y", AnsweredAt: t0}},
	} {
		key := supervision.Key{Rule: rulebook.ObjectionAnswered, Subject: supervision.ObjectionSubject(c.stream, "o-1")}
		fx := supervision.EffectsOf(c.raised, rec(c.stream), p)
		if len(fx.Open) != 1 || fx.Open[0].Key != key || !fx.Open[0].Due.Equal(t0.Add(7*24*time.Hour)) {
			t.Fatalf("%s: an objection opens %+v", c.stream, fx.Open)
		}
		if fx := supervision.EffectsOf(c.answer, rec(c.stream), p); !slices.Contains(fx.Met, key) {
			t.Fatalf("%s: the answer meets %+v", c.stream, fx.Met)
		}
	}
}

// TestRule_OperatingFundsAtYearEnd: at the end of the fiscal year, less than the household tier's
// operating funds — nothing included — breaks operating-funds; the tier's amount does not.
func TestRule_OperatingFundsAtYearEnd(t *testing.T) {
	p := rulebook.Defaults()
	if b := supervision.CheckOperatingFunds(2026, 2500, 0, p); b == nil || b.Rule != rulebook.OperatingFunds {
		t.Fatalf("nothing allocated to 2 500 households: %+v", b)
	}
	if b := supervision.CheckOperatingFunds(2026, 2500, kernel.Yuan(30000), p); b == nil {
		t.Fatal("30 000 元 for 2 500 households")
	}
	if b := supervision.CheckOperatingFunds(2026, 2500, kernel.Yuan(50000), p); b != nil {
		t.Fatalf("50 000 元 for 2 500 households: %+v", b)
	}
}

// TestReopen: a withdrawn notice with a rhythm reopens it from the latest notice of its category left on
// the board, but not when a later one still meets it, nor for a finance notice that disclosed no payment
// after the latest one left.
func TestReopen(t *testing.T) {
	p := rulebook.Defaults()
	c := kernel.CommunityID("330303001001")
	jan := time.Date(2026, 1, 10, 2, 0, 0, 0, time.UTC)
	mar := jan.AddDate(0, 2, 0)
	may := jan.AddDate(0, 4, 0)
	affairs := supervision.Board{Category: disclosure.Affairs, NoticeID: "a-2", At: may, Withdrawn: true}
	d, ok := supervision.Reopen(c, affairs, mar, jan, p)
	if !ok || d.Key != (supervision.Key{Rule: rulebook.DisclosureFrequency, Subject: supervision.AffairsBoardSubject(c)}) ||
		!d.Due.Equal(jan.AddDate(0, 3, 0)) {
		t.Fatalf("affairs notice of March withdrawn, January's left: %+v %v; want due three months after January", d, ok)
	}
	if _, ok := supervision.Reopen(c, affairs, jan, mar, p); ok {
		t.Fatal("a withdrawal reopened the rhythm while a later notice meets it")
	}
	if _, ok := supervision.Reopen(c, supervision.Board{Category: disclosure.Affairs, NoticeID: "a-2", At: may}, mar, jan, p); ok {
		t.Fatal("a publication reopened the rhythm")
	}
	finance := supervision.Board{Category: disclosure.Finance, NoticeID: "f-2", At: may, Withdrawn: true, Paid: []time.Time{jan.AddDate(0, 0, 5), mar}}
	d, ok = supervision.Reopen(c, finance, mar, jan.AddDate(0, 0, 20), p)
	if !ok || d.Subject != supervision.FinanceBoardSubject(c) || !d.Due.Equal(mar.AddDate(0, 1, 0)) {
		t.Fatalf("finance notice withdrawn: %+v %v; want due a month after the first payment not covered", d, ok)
	}
	finance.Paid = []time.Time{jan}
	if _, ok := supervision.Reopen(c, finance, mar, jan.AddDate(0, 0, 20), p); ok {
		t.Fatal("a finance withdrawal reopened the rhythm for payments a notice left still covers")
	}
}

// TestRule_RectificationDue (watch): a rectification order opens a deadline at its own due date, red 30
// days past it; the committee's report meets it.
func TestRule_RectificationDue(t *testing.T) {
	p := rulebook.Defaults()
	stream := "rectification-330303001001-r-1"
	due := t0.AddDate(0, 0, 30)
	fx := supervision.EffectsOf(rectification.Ordered{RectificationID: "r-1", Source: rectification.Source{Kind: rectification.Inspection, ID: "i-1",
		FindingID: "f-1", Finding: "村务公开栏未按季度更新"}, Requirement: "补齐公开", Due: due, OrderedAt: t0}, rec(stream), p)
	if len(fx.Open) != 1 || fx.Open[0].Key != (supervision.Key{Rule: rulebook.RectificationDue, Subject: stream}) || !fx.Open[0].Due.Equal(due) ||
		!strings.Contains(fx.Open[0].Detail, "村务公开栏未按季度更新") {
		t.Fatalf("an order opens %+v", fx.Open)
	}
	if s := p.SeverityAt(rulebook.RectificationDue, due, due.AddDate(0, 0, 31)); s != rulebook.Red {
		t.Fatalf("a month overdue: %s", s)
	}
	fx = supervision.EffectsOf(rectification.Reported{RectificationID: "r-1", Response: "已补齐", ReportedAt: t0}, rec(stream), p)
	if len(fx.Met) != 1 || fx.Met[0] != (supervision.Key{Rule: rulebook.RectificationDue, Subject: stream}) {
		t.Fatalf("the report meets %+v", fx.Met)
	}
}

// TestRule_CadreEvaluation (watch): the seating of a committee opens its six-month evaluation rhythm (a
// later seating keeps the rhythm it found); each evaluation moves the deadline six months on.
func TestRule_CadreEvaluation(t *testing.T) {
	p := rulebook.Defaults()
	c := kernel.CommunityID("330303001001")
	subject := supervision.CadreEvaluationSubject(c)
	fx := supervision.EffectsOf(community.CommitteeSeated{CommunityID: c, Term: "2026-2031", SeatedAt: t0}, rec("community-330303001001-profile"), p)
	if len(fx.OpenIfAbsent) != 1 || fx.OpenIfAbsent[0].Key != (supervision.Key{Rule: rulebook.CadreEvaluation, Subject: subject}) ||
		!fx.OpenIfAbsent[0].Due.Equal(t0.AddDate(0, 6, 0)) {
		t.Fatalf("a seating opens %+v", fx.OpenIfAbsent)
	}
	held := t0.AddDate(0, 5, 0)
	fx = supervision.EffectsOf(evaluation.Held{EvaluationID: "2026-H1", Period: "2026-H1", Evaluators: 40, HeldAt: held}, rec("evaluation-330303001001-2026-H1"), p)
	if len(fx.Open) != 1 || fx.Open[0].Key.Subject != subject || !fx.Open[0].Due.Equal(held.AddDate(0, 6, 0)) {
		t.Fatalf("an evaluation renews %+v", fx.Open)
	}
}
