package workload_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/grassroots-ledger/ledger/domain/assessment"
	"github.com/grassroots-ledger/ledger/domain/audit"
	"github.com/grassroots-ledger/ledger/domain/bulletin"
	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/election"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/events"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/inspection"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/domain/rectification"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/worker"
	"github.com/grassroots-ledger/ledger/domain/worklist"
	"github.com/grassroots-ledger/ledger/infra/esdbnode/nodetest"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
	"github.com/grassroots-ledger/ledger/infra/workload"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// openStore starts an embedded node in a temporary directory and dials it through the real adapter.
func openStore(tb testing.TB) *eventstore.Store {
	tb.Helper()
	_, st := nodetest.Start(tb, quiet())
	return st
}

// TestEmbeddedNode writes a district into the real embedded node through the real adapter, then reads
// everything back: every event decodes with the registry, $all holds exactly what was generated with
// every looked-up fact before the events that depend on it, and every stream verifies as a hash chain.
func TestEmbeddedNode(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	stats := generate(t, workload.Options{Seed: 11, Communities: 8, Years: 3}, st)
	t.Logf("%d events, %d streams, %d appends in %s: %.0f events/s", stats.Events, stats.Streams, stats.Appends, stats.Elapsed, stats.EventsPerSecond())

	reg := events.MustRegistry()
	chains := map[string]*eventlog.ChainVerifier{}
	var names []string
	n := 0
	causes := causality{seen: map[string]bool{}}
	err := st.ReadAll(ctx, eventlog.Start, 0, func(r eventlog.Recorded) error {
		n++
		ev, err := reg.Decode(r.Type, r.Meta.SchemaVersion, r.Data)
		if err != nil {
			return fmt.Errorf("%s revision %d: %w", r.Stream, r.Revision, err)
		}
		if err := causes.check(r.Meta.CommunityID, ev); err != nil {
			return fmt.Errorf("%s revision %d (%s) at %s: %w", r.Stream, r.Revision, r.Type, r.Position, err)
		}
		v := chains[r.Stream]
		if v == nil {
			v = &eventlog.ChainVerifier{}
			chains[r.Stream] = v
			names = append(names, r.Stream)
		}
		return v.Next(r)
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != stats.Events || len(chains) != stats.Streams {
		t.Fatalf("$all holds %d events in %d streams, generated %d in %d", n, len(chains), stats.Events, stats.Streams)
	}
	for _, s := range names {
		recs, err := st.Load(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if err := eventlog.VerifyStream(recs); err != nil {
			t.Fatal(err)
		}
	}
	holds, first, err := workload.HoldsLedgerEvents(ctx, st)
	if err != nil || !holds || first != "jurisdiction-33-node" {
		t.Fatalf("HoldsLedgerEvents = %v, %q, %v", holds, first, err)
	}
}

// causality checks, reading $all in order, that every fact a command's handler would have looked up was
// in the store before the command's events: what several appends in flight must not break.
type causality struct{ seen map[string]bool }

func (c causality) check(cid string, ev kernel.Event) error {
	need := func(keys ...string) error {
		for _, k := range keys {
			if !c.seen[k] {
				return fmt.Errorf("depends on %s, not yet in $all", k)
			}
		}
		return nil
	}
	var err error
	switch e := ev.(type) {
	case community.Registered:
		c.seen["community/"+cid] = true
		return nil
	case community.JurisdictionRegistered:
		return nil
	case rulebook.OverrideSet:
		return nil
	case worklist.DutyListed, worklist.DutyDelisted, worklist.TaskApplied, worklist.TaskDecided: // a district's list
		c.seen["worklist"] = true
		return nil
	case assessment.Defined: // a district's assessment year
		c.seen[fmt.Sprintf("assessment/%s/%d", e.Jurisdiction, e.Year)] = true
		return nil
	case bulletin.Published: // a district's bulletin: after every inspection it cites
		for _, ct := range e.Cites {
			err = errors.Join(err, need("inspection/"+string(ct.CommunityID)+"/"+ct.InspectionID))
		}
		return err
	}
	if err = need("community/" + cid); err != nil {
		return err
	}
	switch e := ev.(type) {
	case meeting.Convened:
		if e.TopicID != "" {
			err = need("topic/" + cid + "/" + e.TopicID)
		}
		c.seen["meeting/"+cid+"/"+e.MeetingID] = true
	case meeting.ResolutionAdopted:
		c.seen["resolution/"+cid+"/"+e.MeetingID+"/"+e.ResolutionID] = true
	case meeting.TopicCollected:
		c.seen["topic/"+cid+"/"+e.TopicID] = true
	case meeting.TopicDeliberationHeld:
		err = need("meeting/" + cid + "/" + e.MeetingID)
		c.seen["topic-held/"+cid+"/"+e.TopicID] = true
	case meeting.TopicResultDisclosed:
		err = need("notice/" + cid + "/" + e.DisclosureID)
	case funds.ExpenditureApproved:
		if e.Resolution != nil {
			err = need("resolution/" + cid + "/" + e.Resolution.MeetingID + "/" + e.Resolution.ID)
		}
	case funds.ExpenditureRequested:
		if e.Payroll != nil {
			err = need("worker/" + cid + "/" + e.Payroll.WorkerID)
		}
	case worker.Hired:
		c.seen["worker/"+cid+"/"+e.WorkerID] = true
	case assessment.Scored: // an assessor's score: after the year's items
		err = need(fmt.Sprintf("assessment/%s/%d", e.Jurisdiction, e.Year))
	case inspection.Conducted:
		c.seen["inspection/"+cid+"/"+e.InspectionID] = true
	case rectification.Ordered:
		if e.Source.Kind == rectification.Inspection {
			err = need("inspection/" + cid + "/" + e.Source.ID)
		} else {
			err = need("audit/" + cid + "/" + e.Source.ID)
		}
	case funds.ExpenditurePaid:
		c.seen["payment/"+cid+"/"+e.ExpenditureID] = true
	case funds.BudgetAllocated:
		c.seen["budget/"+cid+"/"+e.AllocationID] = true
	case election.ResultCertified:
		c.seen["election/"+cid+"/"+e.ElectionID] = true
	case community.CommitteeSeated:
		for _, m := range e.Members {
			if m.ElectionID != "" {
				err = errors.Join(err, need("election/"+cid+"/"+m.ElectionID))
			}
		}
	case audit.Closed:
		c.seen["audit/"+cid+"/"+e.AuditID] = true
	case worklist.TaskReceived:
		err = need("worklist")
	case disclosure.Published:
		c.seen["notice/"+cid+"/"+e.NoticeID] = true
		for _, r := range e.Refs {
			switch r.Kind {
			case disclosure.RefPayment:
				err = errors.Join(err, need("payment/"+cid+"/"+r.ID))
			case disclosure.RefBudget:
				err = errors.Join(err, need("budget/"+cid+"/"+r.ID))
			case disclosure.RefElection:
				err = errors.Join(err, need("election/"+cid+"/"+r.ID))
			case disclosure.RefAudit:
				err = errors.Join(err, need("audit/"+cid+"/"+r.ID))
			case disclosure.RefMeeting:
				err = errors.Join(err, need("meeting/"+cid+"/"+r.ID))
			case disclosure.RefTopic:
				err = errors.Join(err, need("topic-held/"+cid+"/"+r.ID))
			}
		}
	}
	return err
}

// SeedIfEmpty seeds an empty store once and leaves a store with events alone.
func TestSeedIfEmpty(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	if holds, _, err := workload.HoldsLedgerEvents(ctx, st); err != nil || holds {
		t.Fatalf("empty store: holds %v, %v", holds, err)
	}
	opts := workload.Options{Seed: 2, Communities: 2, Years: 1}
	seeded, stats, err := workload.SeedIfEmpty(ctx, st, opts)
	if err != nil || !seeded || stats.Events == 0 {
		t.Fatalf("first SeedIfEmpty: %v, %d events, %v", seeded, stats.Events, err)
	}
	seeded, _, err = workload.SeedIfEmpty(ctx, st, opts)
	if err != nil || seeded {
		t.Fatalf("second SeedIfEmpty: %v, %v", seeded, err)
	}
	count := func() int {
		n := 0
		if err := st.ReadAll(ctx, eventlog.Start, 0, func(eventlog.Recorded) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != stats.Events {
		t.Fatalf("store holds %d events after seeding %d", n, stats.Events)
	}
	// Writing the same history again (ledger demo --force) is a retry the store recognises: nothing new.
	again := generate(t, opts, st)
	if n := count(); n != stats.Events || again.Digest != stats.Digest {
		t.Fatalf("after writing the same history twice the store holds %d events (want %d); digests %s, %s", n, stats.Events, again.Digest, stats.Digest)
	}
	// Another history collides with the streams already there and fails, changing nothing.
	opts.Seed = 3
	if _, err := workload.Generate(ctx, opts, st); !errors.Is(err, eventlog.ErrConflict) {
		t.Fatalf("another seed on a seeded store: %v, want a conflict", err)
	}
}

// BenchmarkGenerate writes b.N events (a Target) into a fresh embedded node and reports events/s; run
// with -benchtime 1000000x for the million-event figure.
func BenchmarkGenerate(b *testing.B) {
	st := openStore(b)
	b.ResetTimer()
	stats, err := workload.Generate(context.Background(), workload.Options{Seed: 1, Target: max(b.N, 1000)}, st)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(stats.EventsPerSecond(), "events/s")
	b.ReportMetric(float64(stats.Events)/float64(stats.Appends), "events/append")
}

// BenchmarkGenerateMemory is the generator alone: b.N events into a sink that only seals them.
func BenchmarkGenerateMemory(b *testing.B) {
	stats, err := workload.Generate(context.Background(), workload.Options{Seed: 1, Target: max(b.N, 1000)}, sealSink{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(stats.EventsPerSecond(), "events/s")
}

// sealSink seals and forgets; it does not check expectations.
type sealSink struct{}

func (sealSink) Append(_ context.Context, stream string, exp eventlog.Expected, evs []eventlog.Event) (eventlog.AppendResult, error) {
	eventlog.Seal(stream, exp.TailHash, evs)
	return eventlog.AppendResult{}, nil
}

// The store adapter is a Store (and so a Sink).
var _ workload.Store = (*eventstore.Store)(nil)
