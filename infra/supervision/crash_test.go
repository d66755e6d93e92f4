package supervision_test

import (
	"context"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	policy "github.com/grassroots-ledger/ledger/domain/supervision"
	"github.com/grassroots-ledger/ledger/infra/supervision/supervisiontest"
	alerts "github.com/grassroots-ledger/ledger/projections/supervision"
)

// TestCrashBetweenAppendAndCheckpoint: the engine appended an alert event and died before the read model
// recorded it. After the restart the outbox still holds the event; the engine must find it already in
// the store (by waiting for the read model to catch up) and append nothing more.
func TestCrashBetweenAppendAndCheckpoint(t *testing.T) {
	t.Parallel()
	h := supervisiontest.New(t, supervisiontest.Options{NoEngine: true})
	ctx := context.Background()
	c := supervisiontest.NewCommunity(supervisiontest.DistrictX, 1)
	x := c.Stream("expenditure", "big")
	h.Record(c, x, funds.ExpenditurePaid{ExpenditureID: "big", VoucherNo: "v", Amount: kernel.Yuan(90000), PaidAt: h.Clock.Now(),
		Watch: breach(rulebook.MajorMatterResolution, "未经决议")})
	var pending []alerts.Pending
	h.Wait("the raise in the outbox", 10*time.Second, func() (bool, string) {
		var err error
		pending, err = alerts.NewRunner(h.Server.Pool).Outbox(ctx, 10)
		return err == nil && len(pending) == 1, ""
	})
	h.StopRuntime()
	// What the engine did before it died: the append.
	if _, err := h.Server.Store.Append(ctx, pending[0].Stream, eventlog.Any(), []eventlog.Event{pending[0].Event}); err != nil {
		t.Fatal(err)
	}
	// And another alert of the district after it, so that the event is not the stream's tail (where the
	// adapter would recognise a retry by itself).
	other := policy.AlertRaised{AlertID: policy.AlertID(rulebook.BudgetBalance, "expenditure-x-y", "z"), Rule: rulebook.BudgetBalance,
		Severity: rulebook.Yellow, Community: c.ID, Jurisdiction: c.Path, Subject: "expenditure-x-y", Trigger: policy.ByBreach,
		Detail: "d", RaisedAt: h.Clock.Now()}
	stream, ev, err := alerts.Envelope(other, alerts.Actor, alerts.Cause{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Server.Store.Append(ctx, stream, eventlog.Any(), []eventlog.Event{ev}); err != nil {
		t.Fatal(err)
	}
	h.StartEngine()
	time.Sleep(200 * time.Millisecond) // the engine waits: the read model is behind the store
	h.StartRuntime()
	h.WaitAlert(rulebook.MajorMatterResolution, x, supervisiontest.Open)
	h.Quiesce()
	h.Advance(time.Second)
	h.Quiesce()
	if ev := h.AlertEvents(); ev["supervision.alert-raised"] != 2 || len(ev) != 1 {
		t.Fatalf("alert events %v, want exactly the two raises", ev)
	}
	// The store would refuse the id again (the embedded node's id index); the engine must not even try.
	if n := counter(t, h, "ledger_alert_engine_errors_total"); n != 0 {
		t.Fatalf("%v engine cycles failed: it tried to append the event again", n)
	}
}

// counter sums a metric's samples in the harness's registry.
func counter(t *testing.T, h *supervisiontest.Harness, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := h.Metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					found = found || (lp.GetName() == labels[i] && lp.GetValue() == labels[i+1])
				}
				if !found {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			case m.Histogram != nil:
				sum += float64(m.Histogram.GetSampleCount()) // how many were observed
			}
		}
	}
	return sum
}

// TestCrashAfterDecisionBeforeAppend: the read model decided (outbox row committed) and the engine was
// down; when it comes up, it appends exactly once.
func TestCrashAfterDecisionBeforeAppend(t *testing.T) {
	t.Parallel()
	h := supervisiontest.New(t, supervisiontest.Options{NoEngine: true})
	c := supervisiontest.NewCommunity(supervisiontest.DistrictX, 2)
	x := c.Stream("expenditure", "big")
	h.Record(c, x, funds.ExpenditurePaid{ExpenditureID: "big", VoucherNo: "v", Amount: kernel.Yuan(90000), PaidAt: h.Clock.Now(),
		Watch: breach(rulebook.MajorMatterResolution, "未经决议")})
	time.Sleep(300 * time.Millisecond)
	h.StartEngine()
	h.WaitAlert(rulebook.MajorMatterResolution, x, supervisiontest.Open)
	h.Quiesce()
	if ev := h.AlertEvents(); ev["supervision.alert-raised"] != 1 {
		t.Fatalf("alert events %v", ev)
	}
}

// TestReplayRaisesNothingTwice: the read model is dropped and rebuilt from the whole history (alert events
// included) while the engine runs: it ends in the same state, and not one alert event is appended.
func TestReplayRaisesNothingTwice(t *testing.T) {
	t.Parallel()
	h := supervisiontest.New(t, supervisiontest.Options{})
	ctx := context.Background()
	c := supervisiontest.NewCommunity(supervisiontest.DistrictX, 3)
	start := h.Clock.Now()
	// A deadline raised, escalated and cleared; one raised and open; a breach open; a breach cleared.
	h.Record(c, c.Stream("expenditure", "x-1"), funds.ExpenditurePaid{ExpenditureID: "x-1", VoucherNo: "v", Amount: 100, PaidAt: start})
	h.Record(c, c.Stream("meeting", "m-1"), meeting.Convened{MeetingID: "m-1", Kind: meeting.Joint, Title: "t", Basis: meeting.BasisInvitees, Expected: 5, HeldAt: start})
	h.Record(c, c.Stream("expenditure", "x-2"), funds.ExpenditureApproved{ExpenditureID: "x-2", By: "p", ApprovedAt: start,
		Watch: breach(rulebook.BudgetBalance, "超预算")})
	h.Record(c, c.Stream("budget", "2026"), funds.BudgetAllocated{FiscalYear: 2026, AllocationID: "a", Source: funds.StreetFinance,
		Category: funds.Operating, Amount: 100, AllocatedAt: start, Watch: breach(rulebook.OperatingFunds, "不足")})
	h.Advance(9 * 24 * time.Hour)
	h.WaitAlert(rulebook.PaymentDisclosed, c.Stream("expenditure", "x-1"), supervisiontest.RedOpen)
	h.WaitAlert(rulebook.MinutesKept, c.Stream("meeting", "m-1"), supervisiontest.Open)
	h.Record(c, c.Stream("disclosure", "n"), disclosure.Published{NoticeID: "n", Category: disclosure.Finance, PublishedAt: h.Clock.Now(),
		Title: "t", Text: "t", Refs: []disclosure.Ref{{Kind: disclosure.RefPayment, ID: "x-1", OccurredAt: start}}})
	h.Record(c, c.Stream("expenditure", "x-2"), funds.ExpenditureCancelled{ExpenditureID: "x-2", By: "p", Reason: "r", CancelledAt: h.Clock.Now()})
	h.WaitAlert(rulebook.PaymentDisclosed, c.Stream("expenditure", "x-1"), supervisiontest.Cleared)
	h.WaitAlert(rulebook.BudgetBalance, c.Stream("expenditure", "x-2"), supervisiontest.Cleared)
	h.WaitAlert(rulebook.OperatingFunds, c.Stream("budget", "2026"), supervisiontest.Open)
	h.Quiesce()
	before := h.AlertEvents()
	want := h.Snapshot()

	h.StopEngine()
	h.StopRuntime()
	if _, err := h.Server.Pool.Exec(ctx, `DROP SCHEMA rm_alerts CASCADE`); err != nil {
		t.Fatal(err)
	}
	h.StartEngine()
	h.StartRuntime()
	h.Quiesce()
	h.Advance(time.Minute)
	h.Quiesce()
	if got := h.AlertEvents(); len(got) != len(before) || got["supervision.alert-raised"] != before["supervision.alert-raised"] ||
		got["supervision.alert-cleared"] != before["supervision.alert-cleared"] {
		t.Fatalf("the rebuild appended alert events: before %v, after %v", before, got)
	}
	if got := h.Snapshot(); got != want {
		t.Fatalf("rebuilt state differs\n got:\n%s\nwant:\n%s", got, want)
	}
}
