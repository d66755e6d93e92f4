package funds_test

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/internal/domaintest"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/worker"
)

var (
	t0       = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	day      = 24 * time.Hour
	defaults = rulebook.Defaults()
)

func resolution(ceiling kernel.Fen, adoptedAt time.Time) *funds.ResolutionRef {
	return &funds.ResolutionRef{ID: "r-1", MeetingID: "m-1", MeetingKind: meeting.Representatives,
		Subject: meeting.MajorSpending, AdoptedAt: adoptedAt, Ceiling: ceiling}
}

func samples() []kernel.Event {
	return []kernel.Event{
		funds.BudgetCommitted{FiscalYear: 2026, ExpenditureID: "x-1", Category: funds.Operating, Amount: kernel.Yuan(8000), Payee: "某照明工程有限公司", CommittedAt: t0},
		funds.BudgetReleased{FiscalYear: 2026, ExpenditureID: "x-1", Reason: "审批未记录", ReleasedAt: t0},
		funds.BudgetAllocated{FiscalYear: 2026, AllocationID: "a-1", Source: funds.CountyFinance, Category: funds.Operating,
			Amount: kernel.Yuan(30000), Note: "第一批工作运行经费", AllocatedAt: t0,
			Watch: kernel.Watch{Breaches: []kernel.Breach{{Rule: rulebook.OperatingFunds, Detail: "工作经费不足"}}}},
		funds.ExpenditureRequested{ExpenditureID: "x-1", FiscalYear: 2026, Category: funds.Salaries, Kind: funds.Allowance,
			Purpose: "3月误工补贴", Amount: 123456, RequestedAt: t0, Payee: funds.Payee{Kind: funds.Individual, Person: "p-1", MaskedName: "张*",
				Personal: &kernel.PersonalData{Subject: "p-1", Name: "张三", NationalID: "330303199001011234", Phone: "13800000000"}}},
		funds.ExpenditureApproved{ExpenditureID: "x-1", By: "p-chair", Resolution: resolution(kernel.Yuan(80000), t0.Add(-day)), ApprovedAt: t0,
			Watch: kernel.Watch{Breaches: []kernel.Breach{{Rule: rulebook.BudgetBalance, Detail: "超过预算余额"}}}},
		funds.ExpenditurePaid{ExpenditureID: "x-1", VoucherNo: "记-2026-03-017", Amount: 123456, Resolution: resolution(kernel.Yuan(80000), t0.Add(-day)),
			WasApproved: true, PaidAt: t0, Watch: kernel.Watch{Breaches: []kernel.Breach{{Rule: rulebook.MajorMatterResolution, Detail: "无决议"}}}},
		funds.ExpenditureRejected{ExpenditureID: "x-1", By: "p-chair", Reason: "用途不明", RejectedAt: t0},
		funds.ExpenditureCancelled{ExpenditureID: "x-1", By: "p-clerk", Reason: "重复申请", CancelledAt: t0},
	}
}

func TestGoldens(t *testing.T) {
	domaintest.Goldens(t, domaintest.Registry(t, funds.RegisterEvents), "testdata", samples())
}

// TestExpenditureRequestedV1Upcast: v1 stored the amount as a decimal yuan
// string and had no kind; it decodes into the v2 struct exactly.
func TestExpenditureRequestedV1Upcast(t *testing.T) {
	reg := domaintest.Registry(t, funds.RegisterEvents)
	data, err := os.ReadFile("testdata/funds.expenditure-requested.v1.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := reg.Decode("funds.expenditure-requested", 1, data)
	if err != nil {
		t.Fatal(err)
	}
	want := funds.ExpenditureRequested{
		ExpenditureID: "x-2019-0042", FiscalYear: 2019, Category: funds.Project, Kind: funds.OtherKind,
		Purpose: "村道路灯维修", Amount: 1234560, RequestedAt: time.Date(2019, 5, 6, 1, 30, 0, 0, time.UTC),
		Payee: funds.Payee{Kind: funds.Organisation, Organisation: "龙湾区某照明工程有限公司"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}
	for _, bad := range []string{`{"amount_yuan":"12.345"}`, `{"amount_yuan":12.3}`, `{"amount_fen":1}`} {
		if _, err := reg.Decode("funds.expenditure-requested", 1, []byte(bad)); err == nil {
			t.Errorf("v1 %s decoded", bad)
		}
	}
}

func runX(t *testing.T, cases []domaintest.Case[*funds.Expenditure]) {
	t.Helper()
	domaintest.Run(t, domaintest.Registry(t, funds.RegisterEvents), func() *funds.Expenditure { return &funds.Expenditure{} }, cases)
}

func requested(amount kernel.Fen) funds.ExpenditureRequested {
	return funds.ExpenditureRequested{ExpenditureID: "x-1", FiscalYear: 2026, Category: funds.Project, Kind: funds.OtherKind,
		Purpose: "路灯改造", Amount: amount, RequestedAt: t0, Payee: funds.Payee{Kind: funds.Organisation, Organisation: "某照明公司"}}
}

func approved(ref *funds.ResolutionRef) funds.ExpenditureApproved {
	return funds.ExpenditureApproved{ExpenditureID: "x-1", By: "p-chair", Resolution: ref, ApprovedAt: t0.Add(day)}
}

func TestExpenditure(t *testing.T) {
	small := requested(kernel.Yuan(8000))
	runX(t, []domaintest.Case[*funds.Expenditure]{
		{
			Name: "request",
			When: func(x *funds.Expenditure) ([]kernel.Event, error) {
				return x.Request(funds.Request{ExpenditureID: "x-1", FiscalYear: 2026, Category: funds.Project, Kind: funds.OtherKind,
					Purpose: "路灯改造", Amount: kernel.Yuan(8000), Payee: funds.Payee{Kind: funds.Organisation, Organisation: "某照明公司"}}, t0)
			},
			Then: []kernel.Event{small},
		},
		{
			Name: "an individual payee is recorded by personal data only (the name is masked from it when shown)",
			When: func(x *funds.Expenditure) ([]kernel.Event, error) {
				return x.Request(funds.Request{ExpenditureID: "x-1", FiscalYear: 2026, Category: funds.Salaries, Kind: funds.Salary, Purpose: "3月工资",
					Amount: kernel.Yuan(5000), Payee: funds.Payee{Kind: funds.Individual, Person: "p-1", MaskedName: "ignored",
						Personal: &kernel.PersonalData{Subject: "p-1", Name: "欧阳娜娜"}}}, t0)
			},
			Then: []kernel.Event{funds.ExpenditureRequested{ExpenditureID: "x-1", FiscalYear: 2026, Category: funds.Salaries, Kind: funds.Salary,
				Purpose: "3月工资", Amount: kernel.Yuan(5000), RequestedAt: t0, Payee: funds.Payee{Kind: funds.Individual, Person: "p-1",
					Personal: &kernel.PersonalData{Subject: "p-1", Name: "欧阳娜娜"}}}},
		},
		{
			Name: "amount must be positive",
			When: func(x *funds.Expenditure) ([]kernel.Event, error) {
				return x.Request(funds.Request{ExpenditureID: "x-1", FiscalYear: 2026, Category: funds.Project, Kind: funds.OtherKind,
					Purpose: "p", Amount: 0, Payee: funds.Payee{Kind: funds.Organisation, Organisation: "o"}}, t0)
			},
			ThenErr: kernel.Invalid("amount-not-positive", "amount_fen", ""),
		},
		{
			Name: "an individual payee without a name",
			When: func(x *funds.Expenditure) ([]kernel.Event, error) {
				return x.Request(funds.Request{ExpenditureID: "x-1", FiscalYear: 2026, Category: funds.Project, Kind: funds.OtherKind,
					Purpose: "p", Amount: 1, Payee: funds.Payee{Kind: funds.Individual, Person: "p-1"}}, t0)
			},
			ThenErr: kernel.Invalid("required", "payee.personal.name", ""),
		},
		{
			Name: "approve what was never requested",
			When: func(x *funds.Expenditure) ([]kernel.Event, error) {
				return x.Approve(funds.Approve{By: "p-chair"}, defaults, t0)
			},
			ThenErr: funds.ErrExpenditureNotFound,
		},
		{
			Name:  "approve a small expenditure",
			Given: []kernel.Event{small},
			When: func(x *funds.Expenditure) ([]kernel.Event, error) {
				return x.Approve(funds.Approve{By: "p-chair"}, defaults, t0.Add(day))
			},
			Then: []kernel.Event{approved(nil)},
		},
		{
			Name:  "the approver is a sitting member of the committee",
			Given: []kernel.Event{small},
			When: func(x *funds.Expenditure) ([]kernel.Event, error) {
				return x.Approve(funds.Approve{By: "p-chair", Committee: []kernel.PersonID{"p-1", "p-chair"}}, defaults, t0.Add(day))
			},
			Then: []kernel.Event{approved(nil)},
		},
		{
			Name:  "an approver who is not on the committee",
			Given: []kernel.Event{small},
			When: func(x *funds.Expenditure) ([]kernel.Event, error) {
				return x.Approve(funds.Approve{By: "nobody-at-all", Committee: []kernel.PersonID{"p-1", "p-chair"}}, defaults, t0.Add(day))
			},
			ThenErr: kernel.Invalid("approver-not-on-committee", "by", ""),
		},
		{
			Name:  "no committee is seated: nobody may approve",
			Given: []kernel.Event{small},
			When: func(x *funds.Expenditure) ([]kernel.Event, error) {
				return x.Approve(funds.Approve{By: "p-chair", Committee: []kernel.PersonID{}}, defaults, t0.Add(day))
			},
			ThenErr: funds.ErrApproverNotOnCommittee,
		},
		{
			Name:  "approve twice",
			Given: []kernel.Event{small, approved(nil)},
			When: func(x *funds.Expenditure) ([]kernel.Event, error) {
				return x.Approve(funds.Approve{By: "p-chair"}, defaults, t0.Add(day))
			},
			ThenErr: funds.ErrNotAwaitingApproval,
		},
		{
			Name:  "pay",
			Given: []kernel.Event{small, approved(nil)},
			When: func(x *funds.Expenditure) ([]kernel.Event, error) {
				return x.Pay(funds.Pay{VoucherNo: "记-17", PaidAt: t0.Add(2 * day)}, defaults, t0.Add(3*day))
			},
			Then: []kernel.Event{funds.ExpenditurePaid{ExpenditureID: "x-1", VoucherNo: "记-17", Amount: kernel.Yuan(8000), WasApproved: true, PaidAt: t0.Add(2 * day)}},
		},
		{
			Name:  "pay twice",
			Given: []kernel.Event{small, approved(nil), funds.ExpenditurePaid{ExpenditureID: "x-1", VoucherNo: "记-17", Amount: kernel.Yuan(8000), PaidAt: t0}},
			When: func(x *funds.Expenditure) ([]kernel.Event, error) {
				return x.Pay(funds.Pay{VoucherNo: "记-18"}, defaults, t0.Add(3*day))
			},
			ThenErr: funds.ErrNotPayable,
		},
		{
			Name:  "reject needs a reason",
			Given: []kernel.Event{small},
			When: func(x *funds.Expenditure) ([]kernel.Event, error) {
				return x.Reject("p-chair", "", t0)
			},
			ThenErr: kernel.Invalid("required", "reason", ""),
		},
		{
			Name:  "cancel after approval",
			Given: []kernel.Event{small, approved(nil)},
			When: func(x *funds.Expenditure) ([]kernel.Event, error) {
				return x.Cancel("p-clerk", "项目取消", t0.Add(2*day))
			},
			ThenNames: []string{"funds.expenditure-cancelled"},
		},
		{
			Name:  "cancel after rejection",
			Given: []kernel.Event{small, funds.ExpenditureRejected{ExpenditureID: "x-1", By: "p", Reason: "r", RejectedAt: t0}},
			When: func(x *funds.Expenditure) ([]kernel.Event, error) {
				return x.Cancel("p-clerk", "r", t0)
			},
			ThenErr: funds.ErrNotCancellable,
		},
	})
}

// TestRule_MajorMatterResolution: 重大开支须先经村(居)民会议或代表会议决议
// (enforce at approval; watch at payment).
func TestRule_MajorMatterResolution(t *testing.T) {
	major := requested(kernel.Yuan(60000))
	approveAt := t0.Add(day)
	approveWith := func(ref *funds.ResolutionRef) func(*funds.Expenditure) ([]kernel.Event, error) {
		return func(x *funds.Expenditure) ([]kernel.Event, error) {
			return x.Approve(funds.Approve{By: "p-chair", Resolution: ref}, defaults, approveAt)
		}
	}
	jointMeeting := resolution(kernel.Yuan(80000), t0)
	jointMeeting.MeetingKind = meeting.Joint
	wrongSubject := resolution(kernel.Yuan(80000), t0)
	wrongSubject.Subject = meeting.HomesteadAllocation
	threshold3w, err := defaults.With(rulebook.MajorMatterResolution, rulebook.ParamThreshold, "3000000")
	if err != nil {
		t.Fatal(err)
	}
	runX(t, []domaintest.Case[*funds.Expenditure]{
		{Name: "major without resolution", Given: []kernel.Event{major}, When: approveWith(nil), ThenErr: funds.ErrMajorNeedsResolution},
		{Name: "exactly the threshold is major", Given: []kernel.Event{requested(kernel.Yuan(50000))}, When: approveWith(nil), ThenErr: funds.ErrMajorNeedsResolution},
		{Name: "a joint meeting cannot authorise", Given: []kernel.Event{major}, When: approveWith(jointMeeting), ThenErr: funds.ErrResolutionWrongMeeting},
		{Name: "a resolution on another subject", Given: []kernel.Event{major}, When: approveWith(wrongSubject), ThenErr: funds.ErrResolutionWrongSubject},
		{Name: "a resolution adopted after the approval", Given: []kernel.Event{major}, When: approveWith(resolution(kernel.Yuan(80000), approveAt.Add(time.Hour))), ThenErr: funds.ErrResolutionNotBefore},
		{Name: "the amount above the ceiling", Given: []kernel.Event{major}, When: approveWith(resolution(kernel.Yuan(55000), t0)), ThenErr: funds.ErrResolutionCeilingExceeded},
		{Name: "with a proper resolution", Given: []kernel.Event{major}, When: approveWith(resolution(kernel.Yuan(80000), t0)), Then: []kernel.Event{approved(resolution(kernel.Yuan(80000), t0))}},
		{
			Name:  "a jurisdiction's lower threshold makes 40 000 major",
			Given: []kernel.Event{requested(kernel.Yuan(40000))},
			When: func(x *funds.Expenditure) ([]kernel.Event, error) {
				return x.Approve(funds.Approve{By: "p-chair"}, threshold3w, approveAt)
			},
			ThenErr: funds.ErrMajorNeedsResolution,
		},
		{
			Name:  "paid without approval nor resolution: recorded, with a breach",
			Given: []kernel.Event{major},
			When: func(x *funds.Expenditure) ([]kernel.Event, error) {
				return x.Pay(funds.Pay{VoucherNo: "记-9"}, defaults, approveAt)
			},
			ThenBreaches: []kernel.RuleID{rulebook.MajorMatterResolution},
		},
		{
			Name:  "approved under a higher threshold, paid after the jurisdiction lowered it",
			Given: []kernel.Event{requested(kernel.Yuan(40000)), approved(nil)},
			When: func(x *funds.Expenditure) ([]kernel.Event, error) {
				return x.Pay(funds.Pay{VoucherNo: "记-9"}, threshold3w, approveAt.Add(day))
			},
			ThenBreaches: []kernel.RuleID{rulebook.MajorMatterResolution},
		},
		{
			Name:  "paid after approval with a resolution: no breach",
			Given: []kernel.Event{major, approved(resolution(kernel.Yuan(80000), t0))},
			When: func(x *funds.Expenditure) ([]kernel.Event, error) {
				return x.Pay(funds.Pay{VoucherNo: "记-9"}, defaults, approveAt.Add(day))
			},
			ThenNames: []string{"funds.expenditure-paid"},
		},
	})
}

// TestRule_BudgetBalance: an approval beyond the budget balance (watch; not in DOMAIN.md's table).
func TestRule_BudgetBalance(t *testing.T) {
	left := kernel.Yuan(5000)
	runX(t, []domaintest.Case[*funds.Expenditure]{{
		Name:  "8 000 approved with 5 000 left",
		Given: []kernel.Event{requested(kernel.Yuan(8000))},
		When: func(x *funds.Expenditure) ([]kernel.Event, error) {
			return x.Approve(funds.Approve{By: "p-chair", Available: &left}, defaults, t0)
		},
		ThenBreaches: []kernel.RuleID{rulebook.BudgetBalance},
	}})
}

// TestRule_OperatingFunds: 社区工作经费 by household tier (watch: under-funding).
func TestRule_OperatingFunds(t *testing.T) {
	first := funds.BudgetAllocated{FiscalYear: 2026, AllocationID: "a-1", Source: funds.CountyFinance, Category: funds.Operating,
		Amount: kernel.Yuan(30000), AllocatedAt: t0, Watch: kernel.Watch{Breaches: []kernel.Breach{{Rule: rulebook.OperatingFunds,
			Detail: "2026年度工作经费已拨付¥30,000.00，按2500户应不少于¥50,000.00"}}}}
	alloc := func(id string, cat funds.Category, amount kernel.Fen, households int) func(*funds.Budget) ([]kernel.Event, error) {
		return func(b *funds.Budget) ([]kernel.Event, error) {
			return b.Allocate(funds.Allocate{AllocationID: id, FiscalYear: 2026, Source: funds.CountyFinance, Category: cat, Amount: amount, Households: households}, defaults, t0)
		}
	}
	domaintest.Run(t, domaintest.Registry(t, funds.RegisterEvents), func() *funds.Budget { return &funds.Budget{} },
		[]domaintest.Case[*funds.Budget]{
			{Name: "30 000 for 2 500 households", When: alloc("a-1", funds.Operating, kernel.Yuan(30000), 2500), Then: []kernel.Event{first}},
			{Name: "topped up to 50 000: no breach", Given: []kernel.Event{first}, When: alloc("a-2", funds.Operating, kernel.Yuan(20000), 2500), ThenNames: []string{"funds.budget-allocated"}},
			{Name: "50 000 for 3 500 households", When: alloc("a-1", funds.Operating, kernel.Yuan(50000), 3500), ThenBreaches: []kernel.RuleID{rulebook.OperatingFunds}},
			{Name: "project funds are not operating funds", When: alloc("a-1", funds.Project, kernel.Yuan(1000), 3500), ThenNames: []string{"funds.budget-allocated"}},
			{Name: "the same allocation twice", Given: []kernel.Event{first}, When: alloc("a-1", funds.Operating, kernel.Yuan(1), 2500), ThenErr: funds.ErrAllocationExists},
			{Name: "another year's allocation", Given: []kernel.Event{first}, When: func(b *funds.Budget) ([]kernel.Event, error) {
				return b.Allocate(funds.Allocate{AllocationID: "a-9", FiscalYear: 2027, Source: funds.CountyFinance, Category: funds.Operating, Amount: 1}, defaults, t0)
			}, ThenErr: funds.ErrWrongFiscalYear},
		})
}

// TestRule_LateRecording: a payment recorded more than 72 hours after its voucher's date carries a
// late-recording breach showing both times; within 72 hours, none.
func TestRule_LateRecording(t *testing.T) {
	pay := func(paid time.Time) func(x *funds.Expenditure) ([]kernel.Event, error) {
		return func(x *funds.Expenditure) ([]kernel.Event, error) {
			return x.Pay(funds.Pay{VoucherNo: "记-1", PaidAt: paid}, defaults, t0.Add(10*24*time.Hour))
		}
	}
	runX(t, []domaintest.Case[*funds.Expenditure]{
		{Name: "paid ten days before it was recorded", Given: []kernel.Event{requested(kernel.Yuan(800))}, When: pay(t0),
			ThenBreaches: []kernel.RuleID{rulebook.LateRecording}},
		{Name: "paid two days before it was recorded", Given: []kernel.Event{requested(kernel.Yuan(800))}, When: pay(t0.Add(8 * 24 * time.Hour)),
			ThenNames: []string{"funds.expenditure-paid"}},
	})
	b := defaults.CheckLateRecording("支出x-1的支付", t0, t0.Add(10*24*time.Hour))
	if b == nil || !strings.Contains(b.Detail, t0.In(kernel.ChinaTime()).Format("2006-01-02 15:04")) {
		t.Fatalf("the breach does not show when it happened: %+v", b)
	}
	if !strings.Contains(b.Detail, t0.Add(10*24*time.Hour).In(kernel.ChinaTime()).Format("2006-01-02 15:04")) {
		t.Fatalf("the breach does not show when it was recorded: %+v", b)
	}
}

// TestBudgetCommitments (budget-balance, split-spending): commitments take from their category's
// allocations, so the balance an approval sees is what is left; a retry is not taken twice; a release
// gives it back; expenditures to one payee within 30 days that reach the major threshold while each
// stays below it are named as splitting one.
func TestBudgetCommitments(t *testing.T) {
	alloc := funds.BudgetAllocated{FiscalYear: 2026, AllocationID: "a-1", Source: funds.CountyFinance, Category: funds.Operating,
		Amount: kernel.Yuan(100000), AllocatedAt: t0}
	commit := func(id string, yuan int64, payee string, at time.Time) funds.BudgetCommitted {
		return funds.BudgetCommitted{FiscalYear: 2026, ExpenditureID: id, Category: funds.Operating, Amount: kernel.Yuan(yuan), Payee: payee, CommittedAt: at}
	}
	b := funds.RehydrateBudget([]kernel.Event{alloc, commit("x-1", 30000, "甲公司", t0), commit("x-2", 45000, "乙公司", t0.Add(day))})
	evs, c, err := b.Commit(funds.Commit{FiscalYear: 2026, ExpenditureID: "x-3", Category: funds.Operating, Amount: kernel.Yuan(40000), Payee: "丙公司"}, defaults, t0.Add(2*day))
	if err != nil || len(evs) != 1 || c.Left != kernel.Yuan(25000) || len(c.Splits) != 0 {
		t.Fatalf("a third commitment: %v, %+v, %v; want 25 000 left and no split", evs, c, err)
	}
	// Approving 40 000 with 25 000 left is a budget-balance breach.
	left := c.Left
	runX(t, []domaintest.Case[*funds.Expenditure]{{Name: "40 000 approved with 25 000 left", Given: []kernel.Event{requested(kernel.Yuan(40000))},
		When: func(x *funds.Expenditure) ([]kernel.Event, error) {
			return x.Approve(funds.Approve{By: "p-chair", Available: &left}, defaults, t0)
		}, ThenBreaches: []kernel.RuleID{rulebook.BudgetBalance}}})
	// A retry: nothing new, the same answer.
	b.Apply(evs[0])
	again, c2, err := b.Commit(funds.Commit{FiscalYear: 2026, ExpenditureID: "x-3", Category: funds.Operating, Amount: kernel.Yuan(40000), Payee: "丙公司"}, defaults, t0.Add(3*day))
	if err != nil || len(again) != 0 || c2.Left != c.Left {
		t.Fatalf("a retry: %v, %+v, %v", again, c2, err)
	}
	// Released, it gives the amount back.
	rel, _ := b.Release(2026, "x-3", "驳回", t0)
	b.Apply(rel[0])
	if _, c3, _ := b.Commit(funds.Commit{FiscalYear: 2026, ExpenditureID: "x-4", Category: funds.Operating, Amount: 1, Payee: "丁"}, defaults, t0); c3.Left != kernel.Yuan(25000) {
		t.Fatalf("after the release %v left, want 25 000", c3.Left)
	}
	// Splitting: three payments of 20 000 to one payee within 30 days reach the 50 000 threshold.
	s := funds.RehydrateBudget([]kernel.Event{alloc, commit("y-1", 20000, "戊公司", t0), commit("y-2", 20000, "戊公司", t0.Add(10*day)),
		commit("y-0", 20000, "戊公司", t0.Add(-40*day)), commit("z-1", 20000, "己公司", t0.Add(day))})
	_, c4, _ := s.Commit(funds.Commit{FiscalYear: 2026, ExpenditureID: "y-3", Category: funds.Operating, Amount: kernel.Yuan(20000), Payee: "戊公司"}, defaults, t0.Add(20*day))
	if !slices.Equal(c4.Splits, []string{"y-1", "y-2"}) {
		t.Fatalf("splits %v, want y-1 and y-2 (y-0 is older than 30 days, z-1 another payee)", c4.Splits)
	}
	runX(t, []domaintest.Case[*funds.Expenditure]{{Name: "the third of three 20 000 payments to one payee", Given: []kernel.Event{requested(kernel.Yuan(20000))},
		When: func(x *funds.Expenditure) ([]kernel.Event, error) {
			return x.Approve(funds.Approve{By: "p-chair", Splits: c4.Splits}, defaults, t0)
		}, ThenBreaches: []kernel.RuleID{rulebook.SplitSpending}}})
	_, c5, _ := s.Commit(funds.Commit{FiscalYear: 2026, ExpenditureID: "y-4", Category: funds.Operating, Amount: kernel.Yuan(5000), Payee: "庚公司"}, defaults, t0.Add(20*day))
	if len(c5.Splits) != 0 {
		t.Fatalf("another payee: splits %v", c5.Splits)
	}
}

// TestTotalsAreBounded: a fiscal year's allocations and a budget line's commitments stay within
// kernel.MaxTotal (10^15 fen): one more is refused naming amount_fen, so no sum overflows anywhere.
func TestTotalsAreBounded(t *testing.T) {
	var history []kernel.Event
	for i := range 100 {
		history = append(history, funds.BudgetAllocated{FiscalYear: 2026, AllocationID: fmt.Sprint("a-", i), Source: funds.CountyFinance,
			Category: funds.Project, Amount: kernel.MaxAmount, AllocatedAt: t0})
		history = append(history, funds.BudgetCommitted{FiscalYear: 2026, ExpenditureID: fmt.Sprint("x-", i), Category: funds.Project,
			Amount: kernel.MaxAmount, CommittedAt: t0})
	}
	b := funds.RehydrateBudget(history)
	_, err := b.Allocate(funds.Allocate{AllocationID: "a-more", FiscalYear: 2026, Source: funds.CountyFinance, Category: funds.Project, Amount: 1}, defaults, t0)
	var ke kernel.Error
	if !errors.As(err, &ke) || ke.Code != "total-too-large" || ke.Field != "amount_fen" {
		t.Fatalf("an allocation past the year's total: %v", err)
	}
	_, _, err = b.Commit(funds.Commit{FiscalYear: 2026, ExpenditureID: "x-more", Category: funds.Project, Amount: 1}, defaults, t0)
	if !errors.As(err, &ke) || ke.Code != "total-too-large" {
		t.Fatalf("a commitment past the line's total: %v", err)
	}
}

// TestRule_PayScale (funds' side): a salary names the worker, component and period it pays; it must be
// charged to salaries and paid to the worker; at payment the amount is checked against the band the
// handler read from the roster, and one outside it carries pay-scale.
func TestRule_PayScale(t *testing.T) {
	payroll := &funds.Payroll{WorkerID: "w-1", Component: worker.Basic, Period: "2026-03"}
	person := funds.Payee{Kind: funds.Individual, Person: "p-1", Personal: &kernel.PersonalData{Subject: "p-1", Name: "欧阳娜娜"}}
	request := func(c funds.Category, payee funds.Payee, worker kernel.PersonID) func(x *funds.Expenditure) ([]kernel.Event, error) {
		return func(x *funds.Expenditure) ([]kernel.Event, error) {
			return x.Request(funds.Request{ExpenditureID: "x-1", FiscalYear: 2026, Category: c, Kind: funds.Salary, Purpose: "2026年3月基本工资",
				Amount: kernel.Yuan(4800), Payee: payee, Payroll: payroll, PayrollPerson: worker}, t0)
		}
	}
	salary := funds.ExpenditureRequested{ExpenditureID: "x-1", FiscalYear: 2026, Category: funds.Salaries, Kind: funds.Salary,
		Purpose: "2026年3月基本工资", Amount: kernel.Yuan(4800), Payee: person, Payroll: payroll, RequestedAt: t0}
	band := func(lo, hi kernel.Fen) *worker.Band {
		return &worker.Band{Component: worker.Basic, Period: "2026年3月", Min: lo, Max: hi, Basis: "社区专职工作者5级(基本工资¥4,800.00/月)"}
	}
	pay := func(b *worker.Band) func(x *funds.Expenditure) ([]kernel.Event, error) {
		return func(x *funds.Expenditure) ([]kernel.Event, error) {
			return x.Pay(funds.Pay{VoucherNo: "付-1", PaidAt: t0, Scale: b}, defaults, t0)
		}
	}
	runX(t, []domaintest.Case[*funds.Expenditure]{
		{Name: "a worker's basic pay", When: request(funds.Salaries, person, "p-1"), Then: []kernel.Event{salary}},
		{Name: "charged to operating funds", When: request(funds.Operating, person, "p-1"), ThenErr: worker.ErrPayrollCategory},
		{Name: "paid to someone else", When: request(funds.Salaries, person, "p-2"), ThenErr: worker.ErrPayeeNotWorker},
		{Name: "paid to an organisation", When: request(funds.Salaries, funds.Payee{Kind: funds.Organisation, Organisation: "某劳务公司"}, "p-1"),
			ThenErr: worker.ErrPayeeNotWorker},
		{Name: "paid at the scale", Given: []kernel.Event{salary}, When: pay(band(kernel.Yuan(4800), kernel.Yuan(4800)))},
		{Name: "paid above the scale", Given: []kernel.Event{salary}, When: pay(band(kernel.Yuan(4350), kernel.Yuan(4350))),
			ThenBreaches: []kernel.RuleID{rulebook.PayScale}},
		{Name: "paid below the scale", Given: []kernel.Event{salary}, When: pay(band(kernel.Yuan(5000), kernel.Yuan(5000))),
			ThenBreaches: []kernel.RuleID{rulebook.PayScale}},
	})
	x := funds.RehydrateExpenditure([]kernel.Event{salary})
	if got := x.Payroll(); got == nil || *got != *payroll {
		t.Fatalf("payroll kept as %+v", got)
	}
}
