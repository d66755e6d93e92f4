package supervision_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/events"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	policy "github.com/grassroots-ledger/ledger/domain/supervision"
	"github.com/grassroots-ledger/ledger/infra/httpapi/apitest"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/infra/supervision/supervisiontest"
	"github.com/grassroots-ledger/ledger/projections/internal/decode/decodetest"
	"github.com/grassroots-ledger/ledger/projections/internal/readmodeltest"
	"github.com/grassroots-ledger/ledger/projections/runtime"
	alerts "github.com/grassroots-ledger/ledger/projections/supervision"
)

// TestRebuildMatchesLive: rebuilding the read model from the whole history into a shadow schema, while
// the live projector and the engine run, ends with the same rows, and appends no alert event.
func TestRebuildMatchesLive(t *testing.T) {
	h := supervisiontest.New(t, supervisiontest.Options{})
	c := supervisiontest.NewCommunity(supervisiontest.DistrictX, 1)
	start := h.Clock.Now()
	h.Register(c, kernel.Urban, 2500, 5000)
	h.Record(c, c.Stream("rulebook", "overrides"), rulebook.OverrideSet{Jurisdiction: supervisiontest.DistrictX, Rule: rulebook.PaymentDisclosed,
		Param: rulebook.ParamWithin, Value: "48h", Reason: "山区", By: "p", SetAt: start})
	h.Record(c, c.Stream("expenditure", "x-1"), funds.ExpenditurePaid{ExpenditureID: "x-1", VoucherNo: "v", Amount: 100, PaidAt: start})
	h.Record(c, c.Stream("expenditure", "x-2"), funds.ExpenditurePaid{ExpenditureID: "x-2", VoucherNo: "v", Amount: 100, PaidAt: start})
	h.Record(c, c.Stream("budget", "2026"), funds.BudgetAllocated{FiscalYear: 2026, AllocationID: "a", Source: funds.StreetFinance,
		Category: funds.Operating, Amount: 100, AllocatedAt: start, Watch: kernel.Watch{Breaches: []kernel.Breach{{Rule: rulebook.OperatingFunds, Detail: "不足"}}}})
	h.Advance(47 * time.Hour)
	h.Quiesce()
	if len(h.Alerts(c.ID)) != 1 {
		t.Fatalf("the override gives payments 48 h: %+v", h.Alerts(c.ID))
	}
	h.Advance(2 * time.Hour)
	h.WaitAlert(rulebook.PaymentDisclosed, c.Stream("expenditure", "x-1"), supervisiontest.Open)
	h.Advance(8 * 24 * time.Hour)
	h.WaitAlert(rulebook.PaymentDisclosed, c.Stream("expenditure", "x-2"), supervisiontest.RedOpen)
	h.Record(c, c.Stream("disclosure", "n"), disclosure.Published{NoticeID: "n", Category: disclosure.Finance, PublishedAt: h.Clock.Now(),
		Title: "t", Text: "t", Refs: []disclosure.Ref{{Kind: disclosure.RefPayment, ID: "x-1", OccurredAt: start}}})
	h.WaitAlert(rulebook.PaymentDisclosed, c.Stream("expenditure", "x-1"), supervisiontest.Cleared)
	h.Quiesce()
	before, events := h.Snapshot(), h.AlertEvents()

	rt, err := runtime.New(runtime.Config{Pool: h.Server.Pool, Source: h.Server.Store, Migrate: pg.Migrator(h.Server.Pool),
		Models: []runtime.ReadModel{alerts.New(h.Registry)}, Logger: apitest.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Rebuild(context.Background(), alerts.New(h.Registry), nil); err != nil {
		t.Fatal(err)
	}
	h.Advance(time.Minute)
	h.Quiesce()
	if got := h.Snapshot(); got != before {
		t.Fatalf("rebuilt rows differ\n got:\n%s\nwant:\n%s", got, before)
	}
	if got := h.AlertEvents(); got["supervision.alert-raised"] != events["supervision.alert-raised"] ||
		got["supervision.alert-cleared"] != events["supervision.alert-cleared"] {
		t.Fatalf("alert events before %v, after %v", events, got)
	}
}

// TestQueriesUnderAJurisdiction: a path selects itself and what lies under it, never a sibling whose
// code merely starts the same way.
func TestQueriesUnderAJurisdiction(t *testing.T) {
	h := supervisiontest.New(t, supervisiontest.Options{})
	ctx := context.Background()
	a := supervisiontest.Community{ID: "3303030011", Path: "33/3303/330303/330303001/3303030011"}
	b := supervisiontest.Community{ID: "33030300111", Path: "33/3303/330303/330303001/33030300111"}
	for _, c := range []supervisiontest.Community{a, b} {
		h.Record(c, c.Stream("expenditure", "x"), funds.ExpenditureApproved{ExpenditureID: "x", By: "p", ApprovedAt: h.Clock.Now(),
			Watch: kernel.Watch{Breaches: []kernel.Breach{{Rule: rulebook.BudgetBalance, Detail: "超预算"}}}})
	}
	h.WaitAlert(rulebook.BudgetBalance, b.Stream("expenditure", "x"), supervisiontest.Open)
	h.WaitAlert(rulebook.BudgetBalance, a.Stream("expenditure", "x"), supervisiontest.Open)
	got, err := alerts.OpenAlerts(ctx, h.Server.Pool, a.Path, 0)
	if err != nil || len(got) != 1 || got[0].Community != a.ID {
		t.Fatalf("under %s: %+v %v", a.Path, got, err)
	}
	for _, under := range []kernel.JurisdictionPath{"", "*", "33", supervisiontest.DistrictX} {
		if got, err := alerts.OpenAlerts(ctx, h.Server.Pool, under, 0); err != nil || len(got) != 2 {
			t.Fatalf("under %q: %d %v", under, len(got), err)
		}
	}
	if got, _ := alerts.OpenAlerts(ctx, h.Server.Pool, supervisiontest.DistrictY, 0); len(got) != 0 {
		t.Fatalf("district Y: %+v", got)
	}
	feed, err := alerts.Feed(ctx, h.Server.Pool, b.Path, alerts.FeedStart, 10)
	if err != nil || len(feed) != 1 || feed[0].Jurisdiction != b.Path {
		t.Fatalf("feed under %s: %+v %v", b.Path, feed, err)
	}
}

// TestContract: the read-model contract every model runs — the same rows (deadlines, conditions,
// breaches queued for raising, ratings, …) under any batching of a generated district, the poison policy,
// no personal data, rebuild equals live, the declared tables are the migrations'.
func TestContract(t *testing.T) {
	readmodeltest.Run(t, readmodeltest.Model{New: func() runtime.ReadModel { return alerts.New(events.MustRegistry()) },
		Redelivery: decodetest.OnlyOnceEach, Handles: "funds.expenditure-requested"})
}

// TestBreachesWithinOneBatch: a breach raised, broken again, ended and broken once more within one batch
// leaves what the same events leave one batch each — one pending raise, the last breach's — whether the
// batch answers the later breaches from what it queued itself or looks them up.
func TestBreachesWithinOneBatch(t *testing.T) {
	t.Parallel()
	var h decodetest.History
	c := decodetest.Community("33/3303/330303/330303001", "330303001001")
	stream := funds.ExpenditureStream(kernel.CommunityID(c.ID), "x-1")
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	over := kernel.Watch{Breaches: []kernel.Breach{{Rule: rulebook.BudgetBalance, Detail: "超预算"}}}
	h.Record("community-"+c.ID+"-profile", c, at, community.Registered{CommunityID: kernel.CommunityID(c.ID), Name: "社区",
		Kind: kernel.Urban, Jurisdiction: kernel.JurisdictionPath(c.Path), Households: 1500, Adults: 3000, RegisteredAt: at})
	h.Record(stream, c, at.Add(time.Hour), funds.ExpenditureApproved{ExpenditureID: "x-1", By: "p", ApprovedAt: at.Add(time.Hour), Watch: over})
	h.Record(stream, c, at.Add(2*time.Hour), funds.ExpenditureApproved{ExpenditureID: "x-1", By: "p", ApprovedAt: at.Add(2 * time.Hour), Watch: over})
	h.Record(stream, c, at.Add(3*time.Hour), funds.ExpenditureRejected{ExpenditureID: "x-1", By: "p", Reason: "r", RejectedAt: at.Add(3 * time.Hour)})
	last := h.Record(stream, c, at.Add(4*time.Hour), funds.ExpenditureApproved{ExpenditureID: "x-1", By: "p", ApprovedAt: at.Add(4 * time.Hour), Watch: over})
	raises := func(size int) string {
		pool := decodetest.NewPool(t)
		m := alerts.New(events.MustRegistry())
		decodetest.Migrate(t, pg.Migrator(pool), m)
		decodetest.MustApply(t, pool, m, h.Events, size)
		rows := decodetest.RowText(t, pool, alerts.Schema)
		slices.Sort(rows)
		return strings.Join(rows, "\n")
	}
	whole, one := raises(0), raises(1)
	if whole != one {
		t.Fatalf("one batch:\n%s\none batch an event:\n%s", whole, one)
	}
	want := policy.AlertID(rulebook.BudgetBalance, stream, last[0].ID.String())
	if !strings.Contains(whole, want) {
		t.Fatalf("the last breach's raise (alert %s) is not pending:\n%s", want, whole)
	}
	if n := strings.Count(whole, "rm_alerts.outbox "); n != 1 {
		t.Fatalf("%d outbox rows, want the one raise:\n%s", n, whole)
	}
	for _, r := range h.Events[1:3] {
		if id := policy.AlertID(rulebook.BudgetBalance, stream, r.ID.String()); strings.Contains(whole, id) {
			t.Fatalf("the ended breach's raise (alert %s) is still pending:\n%s", id, whole)
		}
	}
}
