package commands_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/election"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/events"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// requested records an expenditure of amount fen to an organisation.
func (l *ledger) requested(id string, amount int64) {
	l.t.Helper()
	l.must(l.h.RequestExpenditure(context.Background(), l.as(clerk), commands.RequestExpenditure{
		CommunityID: cid, ExpenditureID: id, FiscalYear: 2026, Category: "project", Kind: "other",
		Purpose: "路灯改造", AmountFen: amount, Payee: commands.Payee{Kind: "organisation", Organisation: "某照明工程有限公司"},
	}))
}

func approve(id string) commands.ApproveExpenditure {
	return commands.ApproveExpenditure{CommunityID: cid, ExpenditureID: id, By: "p-chair"}
}

// TestRetryReturnsTheFirstResult: the same command id given again returns the first result, marked
// replayed, and appends nothing — even after the aggregate moved on, and even when the facts the command
// looked up have changed since, because look-ups happen only when the command is new.
func TestRetryReturnsTheFirstResult(t *testing.T) {
	ctx := context.Background()
	l := newLedger(t)
	l.registered()

	m := l.as(clerk)
	req := commands.RequestExpenditure{CommunityID: cid, ExpenditureID: "x-1", FiscalYear: 2026, Category: "project", Kind: "other",
		Purpose: "路灯改造", AmountFen: 800000, Payee: commands.Payee{Kind: "organisation", Organisation: "某公司"}}
	first := l.must(l.h.RequestExpenditure(ctx, m, req))
	if first.Replayed || len(first.Events) != 1 || first.Stream != funds.ExpenditureStream(kernel.CommunityID(cid), "x-1") {
		t.Fatalf("first result: %+v", first)
	}
	l.must(l.h.ApproveExpenditure(ctx, l.as(clerk), approve("x-1")))

	again, err := l.h.RequestExpenditure(ctx, m, req)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if !again.Replayed {
		t.Fatal("a retry must say it was replayed")
	}
	again.Replayed = false
	if !reflect.DeepEqual(again, first) {
		t.Fatalf("retry returned %+v, first was %+v", again, first)
	}
	if got := names(l.stream(funds.ExpenditureStream(kernel.CommunityID(cid), "x-1"))); !slices.Equal(got, []string{"funds.expenditure-requested", "funds.expenditure-approved"}) {
		t.Fatalf("stream holds %v", got)
	}

	// The assembly's expected attendance is looked up from the registry; a retry after the figures
	// changed is still the first result, not a refusal.
	mc := l.as(clerk)
	convene := commands.ConveneMeeting{CommunityID: cid, MeetingID: "m-1", Kind: "assembly", Title: "居民会议", Basis: "adults", Expected: 5200}
	first = l.must(l.h.ConveneMeeting(ctx, mc, convene))
	l.must(l.h.UpdateCommunityFigures(ctx, l.as(admin), commands.UpdateCommunityFigures{CommunityID: cid, Households: 2500, Adults: 5600, Reason: "年度统计"}))
	again, err = l.h.ConveneMeeting(ctx, mc, convene)
	if err != nil || !again.Replayed || again.Revision != first.Revision {
		t.Fatalf("retry after the figures changed: %+v, %v", again, err)
	}
	if _, err := l.h.ConveneMeeting(ctx, l.as(clerk), commands.ConveneMeeting{CommunityID: cid, MeetingID: "m-2", Kind: "assembly",
		Title: "居民会议", Basis: "adults", Expected: 5200}); err == nil {
		t.Fatal("a new command with the old figure must be refused")
	}
}

// gate lets two commands load a stream before either may append to it, so that they race for sure.
type gate struct {
	commands.EventStore
	armed  atomic.Bool
	stream atomic.Value
	loads  atomic.Int32
	ready  chan struct{}
}

func (g *gate) arm(stream string) {
	g.stream.Store(stream)
	g.loads.Store(0)
	g.ready = make(chan struct{})
	g.armed.Store(true)
}

func (g *gate) Load(ctx context.Context, s string) ([]eventlog.Recorded, error) {
	recs, err := g.EventStore.Load(ctx, s)
	if g.armed.Load() && s == g.stream.Load() && g.loads.Add(1) == 2 {
		close(g.ready)
	}
	return recs, err
}

func (g *gate) Append(ctx context.Context, s string, exp eventlog.Expected, evs []eventlog.Event) (eventlog.AppendResult, error) {
	if g.armed.Load() && s == g.stream.Load() {
		select {
		case <-g.ready:
		case <-ctx.Done():
			return eventlog.AppendResult{}, ctx.Err()
		case <-time.After(10 * time.Second):
			return eventlog.AppendResult{}, errors.New("gate: the other command never loaded the stream")
		}
	}
	return g.EventStore.Append(ctx, s, exp, evs)
}

// race runs a and b at once and returns their errors.
func race(a, b func() error) (errA, errB error) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); errA = a() }()
	go func() { defer wg.Done(); errB = b() }()
	wg.Wait()
	return errA, errB
}

// TestRacingCommandsOnOneStream: two different commands decided on the same state of a stream: one is
// appended, the other is a conflict (reload and retry) and leaves nothing behind, not even part of a
// multi-event decision.
func TestRacingCommandsOnOneStream(t *testing.T) {
	ctx := context.Background()
	g := &gate{}
	l := newLedgerWith(t, func(s commands.EventStore) commands.EventStore { g.EventStore = s; return g })
	l.registered()

	t.Run("approve against reject", func(t *testing.T) {
		l.requested("x-1", 800000)
		stream := funds.ExpenditureStream(kernel.CommunityID(cid), "x-1")
		g.arm(stream)
		rejectMeta := l.as(clerk)
		reject := commands.RejectExpenditure{CommunityID: cid, ExpenditureID: "x-1", By: "p-chair", Reason: "用途不明"}
		errA, errB := race(
			func() error { _, err := l.h.ApproveExpenditure(ctx, l.as(clerk), approve("x-1")); return err },
			func() error { _, err := l.h.RejectExpenditure(ctx, rejectMeta, reject); return err },
		)
		g.armed.Store(false)
		// The approval reads the expenditure more than once (a check, its budget, the decision): the loser
		// gets a conflict, or, having read the winner's decision, the domain's refusal.
		if errors.Is(errA, funds.ErrNotAwaitingApproval) && errB == nil {
			errA = eventlog.ErrConflict
		}
		wantOneConflict(t, errA, errB)
		recs := l.stream(stream)
		if len(recs) != 2 {
			t.Fatalf("want the request and one decision, got %v", names(recs))
		}
		if err := eventlog.VerifyStream(recs); err != nil {
			t.Fatal(err)
		}
		if errB != nil { // the loser reloads and decides again, on the new state
			_, err := l.h.RejectExpenditure(ctx, rejectMeta, reject)
			wantErr(t, err, funds.ErrNotAwaitingApproval, "")
		}
	})

	t.Run("a two-event nomination loses or wins whole", func(t *testing.T) {
		l.must(l.h.FormElectionCommittee(ctx, l.as(clerk), commands.FormElectionCommittee{CommunityID: cid, ElectionID: "e-1", Term: "2026-2031", Seats: 5,
			Members: []commands.ElectionCommitteeMember{{Person: "p-e1", Role: "chair"}, {Person: "p-e2", Role: "member"}}}))
		l.must(l.h.NominateCandidate(ctx, l.as(clerk), commands.NominateCandidate{CommunityID: cid, ElectionID: "e-1", Candidate: "p-1", ResidenceSince: t0.AddDate(-5, 0, 0)}))
		stream := election.Stream(kernel.CommunityID(cid), "e-1")
		g.arm(stream)
		errA, errB := race(
			func() error {
				_, err := l.h.NominateCandidate(ctx, l.as(clerk), commands.NominateCandidate{CommunityID: cid, ElectionID: "e-1", Candidate: "p-e2", ResidenceSince: t0.AddDate(-5, 0, 0)})
				return err
			},
			func() error {
				_, err := l.h.PublicizeCandidateList(ctx, l.as(clerk), commands.PublicizeCandidateList{CommunityID: cid, ElectionID: "e-1"})
				return err
			},
		)
		g.armed.Store(false)
		wantOneConflict(t, errA, errB)
		got := names(l.stream(stream))[2:]
		want := []string{"election.committee-member-left", "election.candidate-nominated"}
		if errA != nil {
			want = []string{"election.candidate-list-publicized"}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("after the race the stream continues with %v, want %v", got, want)
		}
	})

	t.Run("eight approvals at once", func(t *testing.T) {
		l.requested("x-8", 800000)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = l.h.ApproveExpenditure(ctx, l.as(clerk), approve("x-8"))
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, eventlog.ErrConflict), errors.Is(err, funds.ErrNotAwaitingApproval):
			default:
				t.Fatalf("unexpected error: %v", err)
			}
		}
		if recs := l.stream(funds.ExpenditureStream(kernel.CommunityID(cid), "x-8")); ok != 1 || len(recs) != 2 {
			t.Fatalf("%d approvals succeeded, stream %v", ok, names(recs))
		}
	})
}

func wantOneConflict(t *testing.T, errA, errB error) {
	t.Helper()
	if (errA == nil) == (errB == nil) {
		t.Fatalf("want exactly one to succeed: %v / %v", errA, errB)
	}
	if err := errors.Join(errA, errB); !errors.Is(err, eventlog.ErrConflict) {
		t.Fatalf("the loser must get a conflict, got %v", err)
	}
}

// TestRefusalsAppendNothing: a domain rejection, a failed look-up, bad input and an unregistered
// community change nothing.
func TestRefusalsAppendNothing(t *testing.T) {
	ctx := context.Background()
	l := newLedger(t)
	l.registered()
	l.requested("x-1", 6000000) // 60 000 元: a major expenditure
	before := l.head()

	_, err := l.h.ApproveExpenditure(ctx, l.as(clerk), approve("x-1"))
	wantErr(t, err, funds.ErrMajorNeedsResolution, "")
	a := approve("x-1")
	a.MeetingID, a.ResolutionID = "m-9", "r-1"
	_, err = l.h.ApproveExpenditure(ctx, l.as(clerk), a)
	wantErr(t, err, errCode("meeting-not-found"), "meeting_id")
	_, err = l.h.ApproveExpenditure(ctx, commands.Meta{CommandID: "bad key!", Actor: clerk}, approve("x-1"))
	wantErr(t, err, errCode("command-id-invalid"), "command_id")
	_, err = l.h.ApproveExpenditure(ctx, commands.Meta{CommandID: "good-key", CorrelationID: "a b", Actor: clerk}, approve("x-1"))
	wantErr(t, err, errCode("correlation-id-invalid"), "correlation_id")
	_, err = l.h.ApproveExpenditure(ctx, l.as(clerk), commands.ApproveExpenditure{CommunityID: "999", ExpenditureID: "x-1", By: "p"})
	wantErr(t, err, errCode("community-not-found"), "community_id")

	if after := l.head(); after != before {
		t.Fatalf("$all grew from %d to %d events", before, after)
	}
}

// TestOutOfScopeActorsLearnNothing: an actor outside the community's scope, or without the right, is
// refused before anything about the command's subject is read, and nothing is appended.
func TestOutOfScopeActorsLearnNothing(t *testing.T) {
	ctx := context.Background()
	l := newLedger(t)
	l.registered()
	l.requested("x-1", 6000000)
	before := l.head()

	_, err := l.h.ApproveExpenditure(ctx, l.as(otherClerk), approve("x-1"))
	wantForbidden(t, err)
	// An actor in scope would learn the meeting does not exist; one out of scope only that it may not ask.
	cite := approve("x-1")
	cite.MeetingID, cite.ResolutionID = "m-9", "r-9"
	_, err = l.h.ApproveExpenditure(ctx, l.as(otherClerk), cite)
	wantForbidden(t, err)
	_, err = l.h.RequestExpenditure(ctx, l.as(otherClerk), commands.RequestExpenditure{CommunityID: cid, ExpenditureID: "x-1"})
	wantForbidden(t, err)
	// Auditors write nothing: refused before even the community is looked up.
	_, err = l.h.ApproveExpenditure(ctx, l.as(auditor), commands.ApproveExpenditure{CommunityID: "999", ExpenditureID: "x-1", By: "p"})
	wantForbidden(t, err)
	// Registry and rulebook: Administer on the path concerned.
	_, err = l.h.UpdateCommunityFigures(ctx, l.as(clerk), commands.UpdateCommunityFigures{CommunityID: cid, Households: 1, Adults: 1, Reason: "x"})
	wantForbidden(t, err)
	_, err = l.h.RegisterJurisdiction(ctx, l.as(otherDistAdm), commands.RegisterJurisdiction{Path: street + "2", Name: "x"})
	wantForbidden(t, err)
	_, err = l.h.SetRuleOverride(ctx, l.as(districtAdm), commands.SetRuleOverride{Jurisdiction: city, Rule: "major-matter-resolution",
		Parameter: "threshold", Value: "1", Reason: "x"})
	wantForbidden(t, err)
	_, err = l.h.RegisterCommunity(ctx, l.as(otherDistAdm), commands.RegisterCommunity{CommunityID: "330303001009", Name: "x", Kind: "urban",
		Jurisdiction: street + "/330303001009", Households: 1, Adults: 1})
	wantForbidden(t, err)
	if after := l.head(); after != before {
		t.Fatalf("$all grew from %d to %d events", before, after)
	}

	// The district's own admin may.
	l.must(l.h.RegisterJurisdiction(ctx, l.as(districtAdm), commands.RegisterJurisdiction{Path: "33/3303/330303/330303002", Name: "状元街道"}))
}

// TestEventsCarryMetadataAndChain: every event says who, which command, which community and
// jurisdiction, its schema version and when; every stream verifies as a hash chain.
func TestEventsCarryMetadataAndChain(t *testing.T) {
	ctx := context.Background()
	l := newLedger(t)
	l.registered()
	reg := events.MustRegistry()

	var ids []string
	for _, step := range []func(commands.Meta) (commands.Result, error){
		func(m commands.Meta) (commands.Result, error) {
			return l.h.RequestExpenditure(ctx, m, commands.RequestExpenditure{CommunityID: cid, ExpenditureID: "x-1", FiscalYear: 2026, Category: "salaries",
				Kind: "allowance", Purpose: "3月误工补贴", AmountFen: 123456, Payee: commands.Payee{Kind: "individual", Person: "p-1",
					Personal: &commands.Personal{Name: "张三", NationalID: "330303199001011234"}}})
		},
		func(m commands.Meta) (commands.Result, error) { return l.h.ApproveExpenditure(ctx, m, approve("x-1")) },
		func(m commands.Meta) (commands.Result, error) {
			return l.h.PayExpenditure(ctx, m, commands.PayExpenditure{CommunityID: cid, ExpenditureID: "x-1", VoucherNo: "记-2026-03-017"})
		},
	} {
		m := l.as(clerk)
		m.CorrelationID = "req-" + m.CommandID
		l.clock.Advance(time.Hour)
		l.must(step(m))
		ids = append(ids, m.CommandID)
	}
	recs := l.stream(funds.ExpenditureStream(kernel.CommunityID(cid), "x-1"))
	if len(recs) != 3 {
		t.Fatalf("stream: %v", names(recs))
	}
	for i, r := range recs {
		latest, _ := reg.Latest(r.Type)
		want := eventlog.Metadata{SchemaVersion: latest, CommunityID: cid, Jurisdiction: cpath, Actor: "clerk:clerk-1",
			CommandID: ids[i], CorrelationID: "req-" + ids[i], CausationID: ids[i], OccurredAt: t0.Add(time.Duration(i+1) * time.Hour),
			PrevHash: r.Meta.PrevHash, Hash: r.Meta.Hash}
		if !reflect.DeepEqual(r.Meta, want) {
			t.Errorf("event %d metadata\n got %+v\nwant %+v", i, r.Meta, want)
		}
		if r.ID != eventlog.DeriveID(ids[i], 0) {
			t.Errorf("event %d id %s is not derived from its command id", i, r.ID)
		}
	}
	for _, s := range []string{funds.ExpenditureStream(kernel.CommunityID(cid), "x-1"), community.ProfileStream(kernel.CommunityID(cid)), community.JurisdictionStream(street)} {
		if err := eventlog.VerifyStream(l.stream(s)); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	node := l.stream(community.JurisdictionStream(district))[0].Meta
	if node.Jurisdiction != district || node.CommunityID != "" || node.Actor != "admin:admin-1" {
		t.Errorf("a jurisdiction node's metadata: %+v", node)
	}
}
