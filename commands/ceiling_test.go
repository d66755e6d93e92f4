package commands_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
)

func cite(id string) commands.ApproveExpenditure {
	a := approve(id)
	a.MeetingID, a.ResolutionID = "m-1", "r-1"
	return a
}

// budgetSteps counts the commitments and releases of expenditure id on the 2026 budget line.
func (l *ledger) budgetSteps(id string) (committed, released int) {
	l.t.Helper()
	for _, e := range l.history(funds.BudgetStream(kernel.CommunityID(cid), 2026)) {
		switch e := e.(type) {
		case funds.BudgetCommitted:
			if e.ExpenditureID == id {
				committed++
			}
		case funds.BudgetReleased:
			if e.ExpenditureID == id {
				released++
			}
		}
	}
	return committed, released
}

// underResolution is a registered community whose assembly adopted resolution r-1 (meeting m-1) with a
// ceiling of 100 000 元, and expenditures ids of 60 000 元 each requested an hour later.
func underResolution(t *testing.T, ids ...string) *ledger {
	t.Helper()
	l := newLedger(t)
	l.registered()
	l.assemblyResolution(cid, clerk, "m-1", 10_000_000)
	l.clock.Advance(time.Hour)
	for _, id := range ids {
		l.requested(id, 6_000_000)
	}
	return l
}

func (l *ledger) reservations() (sum int64, n int) {
	l.t.Helper()
	held := map[string]int64{}
	for _, e := range l.history(meeting.Stream(kernel.CommunityID(cid), "m-1")) {
		switch e := e.(type) {
		case meeting.CeilingReserved:
			held[e.ExpenditureID] = int64(e.Amount)
			n++
		case meeting.CeilingReleased:
			delete(held, e.ExpenditureID)
		}
	}
	for _, a := range held {
		sum += a
	}
	return sum, n
}

// TestCeilingIsCumulativeUnderRacingApprovals (major-matter-resolution): eight approvals of 60 000 元 race
// under one resolution with a ceiling of 100 000 元: exactly one is recorded, the others are refused
// (resolution-ceiling-exhausted) or told to retry, and the reservations never exceed the ceiling. Retrying
// the refused ones changes nothing.
func TestCeilingIsCumulativeUnderRacingApprovals(t *testing.T) {
	ctx := context.Background()
	ids := []string{"x-1", "x-2", "x-3", "x-4", "x-5", "x-6", "x-7", "x-8"}
	l := underResolution(t, ids...)
	var wg sync.WaitGroup
	errs := make([]error, len(ids))
	metas := make([]commands.Meta, len(ids))
	for i, id := range ids {
		metas[i] = l.as(clerk)
		wg.Go(func() { _, errs[i] = l.h.ApproveExpenditure(ctx, metas[i], cite(id)) })
	}
	wg.Wait()
	approved := 0
	for i, err := range errs {
		switch {
		case err == nil:
			approved++
		case errors.Is(err, meeting.ErrCeilingExhausted), errors.Is(err, eventlog.ErrConflict):
		default:
			t.Errorf("%s: %v", ids[i], err)
		}
	}
	// The ones told to retry retry, with their keys.
	for i, err := range errs {
		if errors.Is(err, eventlog.ErrConflict) {
			if _, err := l.h.ApproveExpenditure(ctx, metas[i], cite(ids[i])); err == nil {
				approved++
			} else if !errors.Is(err, meeting.ErrCeilingExhausted) {
				t.Errorf("%s retried: %v", ids[i], err)
			}
		}
	}
	if approved != 1 {
		t.Fatalf("%d approvals recorded under a ceiling that holds one", approved)
	}
	if sum, n := l.reservations(); sum != 6_000_000 || n != 1 {
		t.Fatalf("reservations sum to %d in %d events, want 6000000 in 1", sum, n)
	}
	statuses := 0
	for _, id := range ids {
		if funds.RehydrateExpenditure(l.history(funds.ExpenditureStream(kernel.CommunityID(cid), id))).Status() == funds.Approved {
			statuses++
		}
	}
	if statuses != 1 {
		t.Fatalf("%d expenditures approved", statuses)
	}
}

// failApprovals fails the first append of an approval to an expenditure stream, after the reservation was
// appended: a crash between the two appends.
type failApprovals struct {
	commands.EventStore
	mu     sync.Mutex
	failed bool
}

func (f *failApprovals) Append(ctx context.Context, stream string, exp eventlog.Expected, evs []eventlog.Event) (eventlog.AppendResult, error) {
	f.mu.Lock()
	fail := !f.failed && strings.HasPrefix(stream, "expenditure-") && len(evs) == 1 && evs[0].Type == "funds.expenditure-approved"
	if fail {
		f.failed = true
	}
	f.mu.Unlock()
	if fail {
		return eventlog.AppendResult{}, errors.New("connection reset by peer")
	}
	return f.EventStore.Append(ctx, stream, exp, evs)
}

// TestCeilingReservationSurvivesACrashBetweenAppends: the reservation is appended, then the approval's
// append fails (the process died, the network broke). The retry with the same key finds its reservation,
// records the approval, and charges the ceiling once; a second expenditure then finds the ceiling used.
func TestCeilingReservationSurvivesACrashBetweenAppends(t *testing.T) {
	ctx := context.Background()
	var f *failApprovals
	l := newLedgerWith(t, func(s commands.EventStore) commands.EventStore { f = &failApprovals{EventStore: s}; return f })
	l.registered()
	l.assemblyResolution(cid, clerk, "m-1", 10_000_000)
	l.clock.Advance(time.Hour)
	l.requested("x-1", 6_000_000)
	l.requested("x-2", 6_000_000)
	m := l.as(clerk)
	if _, err := l.h.ApproveExpenditure(ctx, m, cite("x-1")); err == nil {
		t.Fatal("the approval's append was made to fail")
	}
	if sum, n := l.reservations(); sum != 6_000_000 || n != 1 {
		t.Fatalf("after the failed append: reservations %d in %d events", sum, n)
	}
	res, err := l.h.ApproveExpenditure(ctx, m, cite("x-1"))
	if err != nil || res.Replayed {
		t.Fatalf("the retry: %+v, %v", res, err)
	}
	again, err := l.h.ApproveExpenditure(ctx, m, cite("x-1"))
	if err != nil || !again.Replayed || again.Position != res.Position {
		t.Fatalf("a second retry: %+v, %v; want the first result replayed", again, err)
	}
	if sum, n := l.reservations(); sum != 6_000_000 || n != 1 {
		t.Fatalf("after the retries: reservations %d in %d events, want one of 6000000", sum, n)
	}
	// The budget line was charged once too.
	if commitments, _ := l.budgetSteps("x-1"); commitments != 1 {
		t.Fatalf("x-1 was committed to the budget %d times", commitments)
	}
	if _, err := l.h.ApproveExpenditure(ctx, l.as(clerk), cite("x-2")); !errors.Is(err, meeting.ErrCeilingExhausted) {
		t.Fatalf("a second expenditure under the used ceiling: %v", err)
	}
}

// TestRefusedApprovalTakesNothing: an approval the domain refuses (here: the approver is not on the
// committee) is decided before anything is reserved, and takes nothing of the ceiling.
func TestRefusedApprovalTakesNothing(t *testing.T) {
	ctx := context.Background()
	l := underResolution(t, "x-1")
	bad := cite("x-1")
	bad.By = "nobody-at-all"
	if _, err := l.h.ApproveExpenditure(ctx, l.as(clerk), bad); !errors.Is(err, funds.ErrApproverNotOnCommittee) {
		t.Fatalf("an approver off the committee: %v", err)
	}
	if sum, n := l.reservations(); sum != 0 || n != 0 {
		t.Fatalf("a refused approval reserved %d in %d events", sum, n)
	}
}

// TestCancelledApprovalGivesBack: cancelling an approved expenditure releases its reservation on the
// resolution's ceiling and its commitment on the budget, so another expenditure may use them; a retry of
// the cancellation releases nothing twice.
func TestCancelledApprovalGivesBack(t *testing.T) {
	ctx := context.Background()
	l := underResolution(t, "x-1", "x-2")
	l.must(l.h.ApproveExpenditure(ctx, l.as(clerk), cite("x-1")))
	if _, err := l.h.ApproveExpenditure(ctx, l.as(clerk), cite("x-2")); !errors.Is(err, meeting.ErrCeilingExhausted) {
		t.Fatalf("x-2 while x-1 holds the ceiling: %v", err)
	}
	m := l.as(clerk)
	cancel := commands.CancelExpenditure{CommunityID: cid, ExpenditureID: "x-1", Reason: "供应商无法按期供货"}
	l.must(l.h.CancelExpenditure(ctx, m, cancel))
	if res := l.must(l.h.CancelExpenditure(ctx, m, cancel)); !res.Replayed {
		t.Fatalf("the retried cancellation was not replayed: %+v", res)
	}
	if sum, _ := l.reservations(); sum != 0 {
		t.Fatalf("after the cancellation %d is still reserved", sum)
	}
	if _, released := l.budgetSteps("x-1"); released != 1 {
		t.Fatalf("x-1's commitment released %d times, want once", released)
	}
	l.must(l.h.ApproveExpenditure(ctx, l.as(clerk), cite("x-2")))
}

// TestBudgetBalanceUnderRacingApprovals (budget-balance): eight approvals of 30 000 元 race on a project
// line of 100 000 元. Each commitment is appended to the budget stream at the exact revision it read, so
// the balances they see are those of one order: exactly three fit (100 000, 70 000, 40 000 left), the
// other five are recorded with a budget-balance breach, and each is committed exactly once.
func TestBudgetBalanceUnderRacingApprovals(t *testing.T) {
	ctx := context.Background()
	l := newLedger(t)
	l.registered()
	l.must(l.h.AllocateBudget(ctx, l.as(clerk), commands.AllocateBudget{CommunityID: cid, FiscalYear: 2026, AllocationID: "p-1",
		Source: "county-finance", Category: "project", AmountFen: 10_000_000}))
	ids := []string{"y-1", "y-2", "y-3", "y-4", "y-5", "y-6", "y-7", "y-8"}
	for _, id := range ids {
		l.requested(id, 3_000_000)
	}
	var wg sync.WaitGroup
	results := make([]commands.Result, len(ids))
	errs := make([]error, len(ids))
	for i, id := range ids {
		m := l.as(clerk)
		wg.Go(func() {
			for range 5 { // told to retry after repeated conflicts: the same key, as a client would
				if results[i], errs[i] = l.h.ApproveExpenditure(ctx, m, approve(id)); !errors.Is(errs[i], eventlog.ErrConflict) {
					return
				}
			}
		})
	}
	wg.Wait()
	fits := 0
	for i, id := range ids {
		if errs[i] != nil {
			t.Fatalf("%s: %v", id, errs[i])
		}
		over := false
		for _, b := range results[i].Breaches {
			over = over || b.Rule == "budget-balance"
		}
		if !over {
			fits++
		}
		if committed, _ := l.budgetSteps(id); committed != 1 {
			t.Fatalf("%s committed %d times", id, committed)
		}
	}
	if fits != 3 {
		t.Fatalf("%d approvals fit the line of 100 000 元, want 3", fits)
	}
}
