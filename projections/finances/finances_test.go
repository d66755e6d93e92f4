package finances_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/domain/worker"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/projections/finances"
	"github.com/grassroots-ledger/ledger/projections/internal/decode/decodetest"
	"github.com/grassroots-ledger/ledger/projections/internal/readmodeltest"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

var (
	t0    = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	day   = 24 * time.Hour
	luoxi = decodetest.Community("33/3303/330303/330303001", "330303001001")
)

func budget(year int) string { return eventlog.StreamName("budget", luoxi.ID, fmt.Sprint(year)) }
func xs(id string) string    { return eventlog.StreamName("expenditure", luoxi.ID, id) }

func allocate(h *decodetest.History, id string, src funds.Source, cat funds.Category, fen kernel.Fen) eventlog.Recorded {
	return h.Record(budget(2026), luoxi, t0, funds.BudgetAllocated{FiscalYear: 2026, AllocationID: id, Source: src, Category: cat,
		Amount: fen, Note: "第一批", AllocatedAt: t0})[0]
}

func request(h *decodetest.History, id string, year int, cat funds.Category, fen kernel.Fen, payee funds.Payee, at time.Time) eventlog.Recorded {
	return h.Record(xs(id), luoxi, at, funds.ExpenditureRequested{ExpenditureID: id, FiscalYear: year, Category: cat, Kind: funds.OtherKind,
		Purpose: "用途" + id, Amount: fen, Payee: payee, RequestedAt: at})[0]
}

var (
	org      = funds.Payee{Kind: funds.Organisation, Organisation: "温州市龙湾区某照明工程有限公司"}
	zhang    = &kernel.PersonalData{Subject: "p-77", Name: "张三丰", NationalID: "330303197001011234", Phone: "13900001111", Address: "罗西社区7幢"}
	person   = funds.Payee{Kind: funds.Individual, Person: "p-77", MaskedName: "张**", Personal: zhang}
	unmasked = funds.Payee{Kind: funds.Individual, Person: "p-78", MaskedName: "李四海", Personal: &kernel.PersonalData{Subject: "p-78", Name: "李四海"}}
	res      = &funds.ResolutionRef{ID: "r-1", MeetingID: "m-1", MeetingKind: meeting.Representatives, Subject: meeting.MajorSpending, AdoptedAt: t0, Ceiling: 9_000_000}
)

// sample is a year of a community's money; see TestSummaryPaymentsAndStatus for what it adds up to.
func sample() (*decodetest.History, map[string]eventlog.Recorded) {
	h := &decodetest.History{}
	ev := map[string]eventlog.Recorded{}
	ev["a-1"] = allocate(h, "a-1", funds.CountyFinance, funds.Operating, 4_000_000)
	ev["a-2"] = allocate(h, "a-2", funds.CentralProject, funds.Project, 1_000_000)
	ev["x-1 requested"] = request(h, "x-1", 2026, funds.Operating, 120_000, org, t0)
	ev["x-2 requested"] = request(h, "x-2", 2026, funds.Salaries, 80_000, person, t0.Add(time.Hour))
	ev["x-1 approved"] = h.Record(xs("x-1"), luoxi, t0.Add(day), funds.ExpenditureApproved{ExpenditureID: "x-1", By: "p-1", Resolution: res, ApprovedAt: t0.Add(day)})[0]
	ev["a-3"] = allocate(h, "a-3", funds.StreetFinance, funds.Operating, 500_000)
	ev["x-3 requested"] = request(h, "x-3", 2026, funds.Operating, 50_000, org, t0.Add(day))
	ev["x-4 requested"] = request(h, "x-4", 2026, funds.Project, 300_000, org, t0.Add(day))
	ev["x-3 rejected"] = h.Record(xs("x-3"), luoxi, t0.Add(2*day), funds.ExpenditureRejected{ExpenditureID: "x-3", By: "p-1", Reason: "无预算", RejectedAt: t0.Add(2 * day)})[0]
	ev["x-4 approved"] = h.Record(xs("x-4"), luoxi, t0.Add(2*day), funds.ExpenditureApproved{ExpenditureID: "x-4", By: "p-1", ApprovedAt: t0.Add(2 * day)})[0]
	ev["x-1 paid"] = h.Record(xs("x-1"), luoxi, t0.Add(3*day), funds.ExpenditurePaid{ExpenditureID: "x-1", VoucherNo: "记-2026-03-017",
		Amount: 120_000, WasApproved: true, PaidAt: t0.Add(3 * day)})[0]
	ev["x-2 paid"] = h.Record(xs("x-2"), luoxi, t0.Add(4*day), funds.ExpenditurePaid{ExpenditureID: "x-2", VoucherNo: "记-2026-03-018",
		Amount: 80_000, WasApproved: false, PaidAt: t0.Add(4 * day)})[0]
	ev["x-4 cancelled"] = h.Record(xs("x-4"), luoxi, t0.Add(4*day), funds.ExpenditureCancelled{ExpenditureID: "x-4", Reason: "项目取消", CancelledAt: t0.Add(4 * day)})[0]
	ev["x-5 requested"] = request(h, "x-5", 2026, funds.Operating, 10_000, unmasked, t0.Add(4*day))
	// A version-1 request: a decimal yuan string, upcast to fen on decode.
	ev["x-6 requested v1"] = h.RecordRaw(xs("x-6"), luoxi, t0.Add(5*day), "funds.expenditure-requested", 1, []byte(
		`{"expenditure_id":"x-6","fiscal_year":2026,"category":"operating","purpose":"路灯维修","amount_yuan":"1200.50",`+
			`"payee":{"kind":"organisation","organisation":"某照明公司"},"requested_at":"2026-03-07T01:00:00Z"}`))
	ev["x-7 requested 2025"] = request(h, "x-7", 2025, funds.Operating, 7_000, org, t0.Add(-300*day))
	ev["x-7 paid"] = h.Record(xs("x-7"), luoxi, t0.Add(-299*day), funds.ExpenditurePaid{ExpenditureID: "x-7", VoucherNo: "记-2025-1",
		Amount: 7_000, PaidAt: t0.Add(-299 * day)})[0]
	return h, ev
}

func TestSummaryPaymentsAndStatus(t *testing.T) {
	t.Parallel()
	h, ev := sample()
	pool := readmodeltest.Projected(t, finances.New(nil), h.Events, 0)
	ctx := context.Background()

	sum, err := finances.YearSummary(ctx, pool, luoxi.ID, 2026)
	if err != nil {
		t.Fatal(err)
	}
	got := map[funds.Category]finances.CategoryTotals{}
	for _, c := range sum {
		got[c.Category] = c
	}
	if len(sum) != 3 {
		t.Fatalf("categories: %+v", sum)
	}
	op := got[funds.Operating]
	if op.Allocated != 4_500_000 || op.Allocations != 2 || op.Requested != 120_000+10_000+120_050 || op.Approved != 120_000 ||
		op.Paid != 120_000 || op.Payments != 1 || fmt.Sprint(op.AllocatedBySource) != "[{county-finance ¥40,000.00} {street-finance ¥5,000.00}]" ||
		op.LastEventID != ev["x-6 requested v1"].ID || op.LastCommit != ev["x-6 requested v1"].Position.Commit {
		t.Errorf("operating: %+v", op)
	}
	if p := got[funds.Project]; p.Allocated != 1_000_000 || p.Requested != 0 || p.Approved != 0 || p.Paid != 0 || p.LastEventID != ev["x-4 cancelled"].ID {
		t.Errorf("project (the request was approved, then cancelled): %+v", p)
	}
	if s := got[funds.Salaries]; s.Allocated != 0 || s.Requested != 80_000 || s.Approved != 0 || s.Paid != 80_000 || s.Payments != 1 {
		t.Errorf("salaries (paid without approval): %+v", s)
	}
	if old, _ := finances.YearSummary(ctx, pool, luoxi.ID, 2025); len(old) != 1 || old[0].Paid != 7_000 {
		t.Errorf("2025: %+v", old)
	}

	// Payments, newest first, one per page.
	var lines []finances.Payment
	f := finances.PaymentFilter{CommunityID: luoxi.ID, FiscalYear: 2026, Limit: 1}
	for pages := 0; ; pages++ {
		page, err := finances.Payments(ctx, pool, f)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, page.Payments...)
		if !page.More {
			break
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		f.After = page.Next
	}
	if len(lines) != 2 {
		t.Fatalf("payments: %+v", lines)
	}
	x2, x1 := lines[0], lines[1]
	if x2.ExpenditureID != "x-2" || x2.Payee != "张**" || x2.PayeeKind != funds.Individual || x2.Amount != 80_000 || x2.WasApproved ||
		x2.EventID != ev["x-2 paid"].ID || x2.Commit != ev["x-2 paid"].Position.Commit || !x2.PaidAt.Equal(t0.Add(4*day)) {
		t.Errorf("individual payment: %+v", x2)
	}
	if x1.ExpenditureID != "x-1" || x1.Payee != org.Organisation || x1.VoucherNo != "记-2026-03-017" || !x1.WasApproved ||
		x1.ResolutionID != "r-1" || x1.MeetingID != "m-1" || x1.Category != funds.Operating || x1.Purpose != "用途x-1" {
		t.Errorf("organisation payment: %+v", x1)
	}
	if all, _ := finances.Payments(ctx, pool, finances.PaymentFilter{CommunityID: luoxi.ID}); len(all.Payments) != 3 || all.More {
		t.Errorf("every year: %+v", all)
	}

	for id, want := range map[string]finances.Status{"x-1": finances.Paid, "x-2": finances.Paid, "x-3": finances.Rejected,
		"x-4": finances.Cancelled, "x-5": finances.Requested} {
		x, err := finances.ExpenditureByID(ctx, pool, luoxi.ID, id)
		if err != nil || x.Status != want {
			t.Errorf("%s: %+v %v, want %s", id, x, err, want)
		}
	}
	x4, _ := finances.ExpenditureByID(ctx, pool, luoxi.ID, "x-4")
	if x4.Approved == nil || x4.Approved.EventID != ev["x-4 approved"].ID || x4.Closed == nil || x4.Closed.EventID != ev["x-4 cancelled"].ID ||
		x4.CloseReason != "项目取消" || x4.Paid != nil || x4.Requested.Commit != ev["x-4 requested"].Position.Commit {
		t.Errorf("x-4 steps: %+v", x4)
	}
	if x5, _ := finances.ExpenditureByID(ctx, pool, luoxi.ID, "x-5"); x5.Payee != "李**" {
		t.Errorf("an unmasked name in masked_name must still show masked: %q", x5.Payee)
	}
	if x6, _ := finances.ExpenditureByID(ctx, pool, luoxi.ID, "x-6"); x6.Amount != 120_050 || x6.Kind != funds.OtherKind {
		t.Errorf("the v1 request, upcast: %+v", x6)
	}
	if _, err := finances.ExpenditureByID(ctx, pool, luoxi.ID, "x-9"); !errors.Is(err, finances.ErrNotFound) {
		t.Errorf("unknown expenditure: %v", err)
	}

}

// TestContract: the read-model contract (readmodeltest) over the sample and a generated district. The
// model halts on a poison event.
func TestContract(t *testing.T) {
	h, _ := sample()
	readmodeltest.Run(t, readmodeltest.Model{New: func() runtime.ReadModel { return finances.New(nil) }, Sample: h.Events,
		Redelivery: decodetest.Idempotent, Handles: "funds.expenditure-requested", SampleSecrets: sampleSecrets})
}

// TestSummaryHoldsHugeSums: requests are bounded one by one, not in number; sums past bigint are held at
// its maximum rather than stopping the model on a poison event.
func TestSummaryHoldsHugeSums(t *testing.T) {
	t.Parallel()
	pool := decodetest.NewPool(t)
	m := finances.New(nil)
	decodetest.Migrate(t, pg.Migrator(pool), m)
	h := &decodetest.History{}
	request(h, "x-1", 2026, funds.Operating, 6_000_000_000_000_000_000, org, t0)
	decodetest.MustApply(t, pool, m, h.Events, 0)
	request(h, "x-2", 2026, funds.Operating, 6_000_000_000_000_000_000, org, t0)
	decodetest.MustApply(t, pool, m, h.Events[1:], 0)
	var requested int64
	if err := pool.QueryRow(context.Background(), `SELECT requested_fen FROM `+finances.Schema+`.budget_summary WHERE community_id = $1`,
		luoxi.ID).Scan(&requested); err != nil {
		t.Fatal(err)
	}
	if requested != math.MaxInt64 {
		t.Fatalf("requested %d, want held at %d", requested, int64(math.MaxInt64))
	}
}

func TestPublicPayee(t *testing.T) {
	if got := finances.PublicPayee(funds.Individual, "张三丰"); got != "张**" {
		t.Errorf("an unmasked individual payee: %q", got)
	}
	if got := finances.PublicPayee(funds.Individual, "张*"); got != "张*" {
		t.Errorf("a masked payee changed: %q", got)
	}
	if got := finances.PublicPayee(funds.Organisation, "温州市龙湾区华联超市"); got != "温州市龙湾区华联超市" {
		t.Errorf("an organisation changed: %q", got)
	}
}

// TestIndividualPayeesAreMasked: over a generated district, every individual paid is there, masked — and
// a worker's salary names no one, not even masked.
func TestIndividualPayeesAreMasked(t *testing.T) {
	t.Parallel()
	pool := readmodeltest.Projected(t, finances.New(nil), readmodeltest.History(t, 4), 1000)
	masked := decodetest.Count(t, pool, `SELECT count(*) FROM rm_finances.expenditures WHERE paid_at IS NOT NULL AND payee_kind = 'individual'
		AND pay_component IS NULL`)
	stars := decodetest.Count(t, pool, `SELECT count(*) FROM rm_finances.expenditures WHERE paid_at IS NOT NULL AND payee_kind = 'individual'
		AND pay_component IS NULL AND payee_name ~ '^.\*+$'`)
	if masked == 0 || stars != masked {
		t.Fatalf("%d individual payments, %d of them with a masked payee name", masked, stars)
	}
	salaries := decodetest.Count(t, pool, `SELECT count(*) FROM rm_finances.expenditures WHERE paid_at IS NOT NULL AND pay_component IS NOT NULL`)
	anonymous := decodetest.Count(t, pool, `SELECT count(*) FROM rm_finances.expenditures WHERE paid_at IS NOT NULL AND pay_component IS NOT NULL
		AND payee_name = '`+worker.PublicPayee+`'`)
	if salaries == 0 || anonymous != salaries {
		t.Fatalf("%d salaries paid, %d of them naming the payee %s", salaries, anonymous, worker.PublicPayee)
	}
}

// sampleSecrets are the personal data and private texts of the sample that no row may hold (the contract
// checks them).
var sampleSecrets = []string{"张三丰", "330303197001011234", "13900001111", "罗西社区7幢", "p-77", "p-78", "李四海"}

// TestWorkersPay: salaries naming a worker's pay add up, per fiscal year and component, to what the public
// sees; a salary requested and not paid counts for nothing; the line of one names the payee 社区工作者,
// never the worker, even masked — unless the rulebook in force made each worker's pay public
// (individual-pay-public), when it names the worker masked.
func TestWorkersPay(t *testing.T) {
	t.Parallel()
	h := &decodetest.History{}
	zhou := funds.Payee{Kind: funds.Individual, Person: "p-90", Personal: &kernel.PersonalData{Subject: "p-90", Name: "周晓梅"}}
	public := false
	salary := func(id string, year int, c worker.Component, period string, fen kernel.Fen, paid bool) {
		h.Record(xs(id), luoxi, t0, funds.ExpenditureRequested{ExpenditureID: id, FiscalYear: year, Category: funds.Salaries, Kind: funds.Salary,
			Purpose: "社区工作者薪酬", Amount: fen, Payee: zhou, Payroll: &funds.Payroll{WorkerID: "w-1", Component: c, Period: period, Public: public},
			RequestedAt: t0})
		if paid {
			h.Record(xs(id), luoxi, t0.Add(day), funds.ExpenditurePaid{ExpenditureID: id, VoucherNo: "付-" + id, Amount: fen, PaidAt: t0.Add(day)})
		}
	}
	salary("s-1", 2026, worker.Basic, "2026-02", 480_000, true)
	salary("s-2", 2026, worker.Basic, "2026-03", 480_000, true)
	salary("s-3", 2026, worker.Performance, "2026-Q1", 300_000, true)
	salary("s-4", 2026, worker.Basic, "2026-04", 480_000, false)
	salary("s-5", 2025, worker.AnnualBonus, "2025", 960_000, true)
	public = true // a jurisdiction whose rulebook makes each worker's pay public (individual-pay-public on)
	salary("s-6", 2024, worker.Basic, "2024-12", 450_000, true)
	request(h, "x-1", 2026, funds.Operating, 120_000, org, t0)
	pool := readmodeltest.Projected(t, finances.New(nil), h.Events, 0)
	byYear, years, err := finances.PayTotals(context.Background(), pool, luoxi.ID)
	if err != nil || !slices.Equal(years, []int{2026, 2025, 2024}) {
		t.Fatalf("years %v %v", years, err)
	}
	want := []finances.PayTotal{{Component: worker.Basic, Paid: 960_000, Payments: 2}, {Component: worker.Performance, Paid: 300_000, Payments: 1}}
	if !slices.Equal(byYear[2026], want) || !slices.Equal(byYear[2025], []finances.PayTotal{{Component: worker.AnnualBonus, Paid: 960_000, Payments: 1}}) {
		t.Fatalf("totals %+v", byYear)
	}
	for _, row := range decodetest.RowText(t, pool, finances.Schema) {
		if strings.Contains(row, "周晓梅") || strings.Contains(row, "p-90") {
			t.Fatalf("a row names the worker: %s", row)
		}
		if strings.Contains(row, "周*") != strings.Contains(row, "s-6") {
			t.Fatalf("only the salary made public names the worker, masked: %s", row)
		}
	}
	if n := decodetest.Count(t, pool, `SELECT count(*) FROM rm_finances.expenditures WHERE payee_name = '`+worker.PublicPayee+`'`); n != 5 {
		t.Fatalf("%d salaries name the payee %s, want 5", n, worker.PublicPayee)
	}
}
