package workload_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/asset"
	"github.com/grassroots-ledger/ledger/domain/audit"
	"github.com/grassroots-ledger/ledger/domain/bulletin"
	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/election"
	"github.com/grassroots-ledger/ledger/domain/evaluation"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/inspection"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/domain/rectification"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/seal"
	"github.com/grassroots-ledger/ledger/domain/worker"
	"github.com/grassroots-ledger/ledger/domain/worklist"
	"github.com/grassroots-ledger/ledger/infra/workload"
)

var cst = kernel.ChinaTime()

func generate(t *testing.T, opts workload.Options, sink workload.Sink) workload.Stats {
	t.Helper()
	st, err := workload.Generate(context.Background(), opts, sink)
	if err != nil {
		t.Fatalf("Generate: %v", err) // a domain refusal is reported here: the generator gave an invalid command
	}
	return st
}

// The same seed and options give the same events, ids and order; concurrency changes only the
// interleaving of streams; another seed gives another history.
func TestDeterministic(t *testing.T) {
	opts := workload.Options{Seed: 7, Communities: 10, Years: 2, Concurrency: 1}
	a, b := newMemSink(nil), newMemSink(nil)
	sa, sb := generate(t, opts, a), generate(t, opts, b)
	if a.sequenceDigest() != b.sequenceDigest() || a.streamsDigest() != b.streamsDigest() || sa.Digest != sb.Digest {
		t.Fatalf("same seed, different histories: %s/%s %s/%s", a.sequenceDigest(), b.sequenceDigest(), sa.Digest, sb.Digest)
	}
	if sa.Events != sb.Events || sa.Events != a.events || sa.Streams != len(a.streams) {
		t.Fatalf("counts differ: stats %d/%d, sink %d events; stats %d streams, sink %d", sa.Events, sb.Events, a.events, sa.Streams, len(a.streams))
	}

	opts.Concurrency = 16
	c := newMemSink(nil)
	sc := generate(t, opts, c)
	if c.streamsDigest() != a.streamsDigest() || sc.Digest != sa.Digest {
		t.Fatalf("concurrency changed the content of streams")
	}

	opts.Seed = 8
	d := newMemSink(nil)
	if sd := generate(t, opts, d); d.streamsDigest() == a.streamsDigest() || sd.Digest == sa.Digest {
		t.Fatal("another seed gave the same history")
	}
}

var (
	idPattern    = regexp.MustCompile(`\d{17}[\dX]`)
	idField      = regexp.MustCompile(`"national_id":"([^"]*)"`)
	phonePattern = regexp.MustCompile(`1[3-9]\d{9}`)
)

// TestDefaultDistrict checks the default demo district against the seeds' figures and the rulebook: it
// decodes every event, and walks the history as an auditor would.
func TestDefaultDistrict(t *testing.T) {
	type cy struct {
		cid  string
		year int
	}
	var (
		communities     = map[string]community.Registered{}
		streets         int
		assemblies      = map[cy]int{}
		notices         = map[string]bool{} // community/notice id
		formed          = map[string]bool{}
		certified       = map[string]election.ResultCertified{}
		publicized      = map[string]time.Time{}
		voted           = map[string]election.VotingHeld{}
		electionNotes   = map[string]bool{}
		requested       = map[string]funds.ExpenditureRequested{}
		allocated       = map[budgetLine]kernel.Fen{}
		committed       = map[budgetLine]kernel.Fen{}
		commitments     = map[string]funds.BudgetCommitted{} // community/expenditure id
		overBudget      = map[string]bool{}
		approvals       int
		operating2024   kernel.Fen
		majorApproved   int
		breaches        = map[kernel.RuleID]int{}
		auditKinds      = map[audit.Kind]int{}
		sealUses        int
		unapprovedSeals = map[string]bool{}
		unbid           = map[string]bool{}
		unadmitted      = map[string]bool{}
		overpaid        = map[string]bool{}
		overstaffed     = map[string]bool{}
		onRoster        = map[string]int{}
		inspected       = map[string]bool{}
		reported        = map[string]bool{}
		ordered         = map[string]string{} // rectification stream → community
		orderedDue      = map[string]time.Time{}
		bulletinCites   int
		incompetent     = map[string]bool{}
		evaluatedIn     = map[string][]time.Time{}
		topicSteps      = map[string]int{}
		personal        int
		types           = map[string]int{}
	)
	sink := newMemSink(func(stream string, e eventlog.Event, ev kernel.Event) {
		types[e.Type]++
		cid := e.Meta.CommunityID
		key := cid + "/" + stream
		if w, ok := ev.(kernel.Watched); ok {
			for _, b := range w.Breached() {
				breaches[b.Rule]++
			}
		}
		for _, m := range idField.FindAllSubmatch(e.Data, -1) {
			personal++
			if !workload.ValidNationalID(string(m[1])) {
				t.Errorf("%s: %s is not a valid national id", stream, m[1])
			}
		}
		switch ev := ev.(type) {
		case community.JurisdictionRegistered:
			if ev.Level == kernel.LevelStreet {
				streets++
			}
		case community.Registered:
			communities[string(ev.CommunityID)] = ev
		case meeting.Convened:
			if ev.Kind == meeting.Assembly {
				assemblies[cy{cid, ev.HeldAt.In(cst).Year()}]++
			}
		case disclosure.Published:
			notices[cid+"/"+ev.NoticeID] = true
			if ev.Category == disclosure.Election {
				electionNotes[cid] = true
			}
			if idPattern.MatchString(ev.Text) || phonePattern.MatchString(ev.Text) {
				t.Errorf("%s: a public notice carries personal data: %s", stream, ev.Text)
			}
		case election.CommitteeFormed:
			formed[cid] = true
		case election.CandidateListPublicized:
			publicized[key] = ev.PublicizedAt
		case election.VotingHeld:
			voted[key] = ev
			short := ev.HeldAt.Sub(publicized[key]) < 7*24*time.Hour
			if short != (len(ev.Breaches) > 0) {
				t.Errorf("%s: publicity %s before the vote, breaches %v", stream, ev.HeldAt.Sub(publicized[key]), ev.Breaches)
			}
		case election.ResultCertified:
			if 2*ev.BallotsCast <= ev.RegisteredVoters {
				t.Errorf("%s: turnout %d of %d", stream, ev.BallotsCast, ev.RegisteredVoters)
			}
			certified[cid] = ev
		case funds.BudgetAllocated:
			if ev.Category == funds.Operating && ev.FiscalYear == 2024 {
				operating2024 += ev.Amount
			}
			allocated[budgetLine{cid, ev.FiscalYear, ev.Category}] += ev.Amount
		case funds.BudgetCommitted:
			commitments[cid+"/"+ev.ExpenditureID] = ev
			committed[budgetLine{cid, ev.FiscalYear, ev.Category}] += ev.Amount
		case funds.BudgetReleased:
			c := commitments[cid+"/"+ev.ExpenditureID]
			committed[budgetLine{cid, c.FiscalYear, c.Category}] -= c.Amount
		case funds.ExpenditureRequested:
			requested[key] = ev
			if ev.Payee.Kind == funds.Individual && (ev.Payee.Personal == nil || !workload.ValidNationalID(ev.Payee.Personal.NationalID) ||
				!phonePattern.MatchString(ev.Payee.Personal.Phone) || ev.Payee.MaskedName != "") {
				t.Errorf("%s: individual payee without proper personal data: %+v", stream, ev.Payee)
			}
		case funds.ExpenditureApproved:
			approvals++
			for _, b := range ev.Breaches {
				if b.Rule == rulebook.BudgetBalance {
					overBudget[cid] = true
				}
			}
			if rulebook.Defaults().IsMajor(requested[key].Amount) {
				if ev.Resolution == nil {
					t.Errorf("%s: major expenditure approved without a resolution", stream)
				}
				majorApproved++
			}
		case audit.Opened:
			auditKinds[ev.Kind]++
		case asset.ContractSigned:
			for _, b := range ev.Breaches {
				if b.Rule == rulebook.PublicBidding {
					unbid[cid] = true
				}
			}
			if ev.CounterpartyKind == asset.Individual && !strings.HasSuffix(ev.Counterparty, "*") {
				t.Errorf("%s: a person who took a contract is named: %q", stream, ev.Counterparty)
			}
		case worklist.TaskReceived:
			if len(ev.Breaches) > 0 {
				unadmitted[cid] = true
			}
		case worker.Hired:
			onRoster[cid]++
			if len(ev.Breaches) > 0 {
				overstaffed[cid] = true
			}
		case worker.Left:
			onRoster[cid]--
		case inspection.Conducted:
			inspected[cid] = true
		case evaluation.Held:
			evaluatedIn[cid] = append(evaluatedIn[cid], ev.HeldAt)
			if len(ev.Breaches) > 0 {
				incompetent[cid] = true
			}
		case rectification.Ordered:
			ordered[stream], orderedDue[stream] = cid, ev.Due
		case rectification.Reported:
			reported[stream] = true
		case bulletin.Published:
			bulletinCites += len(ev.Cites)
		case funds.ExpenditurePaid:
			for _, b := range ev.Breaches {
				if b.Rule == rulebook.PayScale {
					overpaid[cid] = true
				}
			}
		case seal.Used:
			sealUses++
			if !ev.Approved {
				unapprovedSeals[cid] = true
			}
		case meeting.TopicCollected, meeting.TopicScreened, meeting.TopicPlanDrafted, meeting.TopicNoticeGiven,
			meeting.TopicDeliberationHeld, meeting.TopicResultDisclosed, meeting.TopicFeedbackRecorded:
			topicSteps[e.Type]++
		}
	})
	stats := generate(t, workload.Options{Seed: 1}, sink)
	t.Logf("%d events, %d streams, %d appends; %s → %s; %d national ids", stats.Events, stats.Streams, stats.Appends, stats.From, stats.To, personal)

	// Longwan: 6 streets, 78 communities, urban and rural, realistic codes and figures.
	if len(communities) != 78 || streets != 6 {
		t.Fatalf("%d communities in %d streets, want 78 in 6", len(communities), streets)
	}
	kinds := map[kernel.CommunityKind]int{}
	for id, c := range communities {
		kinds[c.Kind]++
		suffix := map[kernel.CommunityKind]string{kernel.Urban: "社区", kernel.Rural: "村"}[c.Kind]
		if !strings.HasSuffix(c.Name, suffix) || c.Jurisdiction.Depth() != kernel.LevelCommunity ||
			!strings.HasPrefix(string(c.Jurisdiction), "33/3303/330303/330303") || c.Jurisdiction.Last() != id || len(id) != 12 ||
			c.Households < 200 || c.Adults < c.Households {
			t.Errorf("implausible community %+v", c)
		}
	}
	if kinds[kernel.Urban] < 20 || kinds[kernel.Rural] < 15 {
		t.Errorf("kinds %v: want a mix of 社区 and 村", kinds)
	}

	// Assemblies twice a year, every full year, except where one was planted missing.
	skipped := plantedIn(stats, "residents-meeting-frequency:assembly-skipped")
	for id := range communities {
		for _, y := range []int{2024, 2025} {
			want := 2
			if skipped[id] && assemblies[cy{id, y}] == 1 {
				want = 1
			}
			if n := assemblies[cy{id, y}]; n != want {
				t.Errorf("community %s held %d assemblies in %d", id, n, y)
			}
		}
	}
	if len(skipped) == 0 {
		t.Error("no community skipped an assembly: the alert engine has nothing to find")
	}

	// Quarterly disclosures: the finance statement every quarter, the affairs notice every quarter but the
	// one planted missing.
	affairsSkipped := plantedIn(stats, "disclosure-frequency:affairs-skipped")
	for id := range communities {
		missing := 0
		for _, q := range []string{"2023-q3", "2023-q4", "2024-q1", "2024-q2", "2024-q3", "2024-q4", "2025-q1", "2025-q2", "2025-q3", "2025-q4", "2026-q1"} {
			if !notices[id+"/"+q+"-finance"] {
				t.Errorf("community %s: no finance statement for %s", id, q)
			}
			if !notices[id+"/"+q+"-affairs"] && !notices[id+"/"+q+"-affairs-r"] {
				missing++
			}
		}
		if want := map[bool]int{true: 1, false: 0}[affairsSkipped[id]]; missing != want {
			t.Errorf("community %s: %d affairs notices missing, want %d", id, missing, want)
		}
	}

	// The 2026 general election everywhere: committee, publicity, vote, certification, disclosure.
	for id := range communities {
		if !formed[id] || certified[id].ElectionID != "2026" || !electionNotes[id] {
			t.Errorf("community %s: election incomplete (formed %v, certified %+v, disclosed %v)", id, formed[id], certified[id], electionNotes[id])
		}
	}

	// About 15 million yuan of operating funds a year over the district.
	if operating2024 < kernel.Yuan(11_000_000) || operating2024 > kernel.Yuan(19_000_000) {
		t.Errorf("operating funds 2024: %s, want about ¥15,000,000", operating2024)
	}
	if majorApproved < 50 {
		t.Errorf("only %d major expenditures approved against resolutions", majorApproved)
	}

	// No budget line is overspent but where it was planted: ordinary spending beyond what is left is
	// refused, the payroll topped up, project instalments charged to their project's year.
	over := plantedIn(stats, string(rulebook.BudgetBalance))
	if approvals == 0 || len(commitments) != approvals {
		t.Errorf("%d approvals, %d budget commitments: every approval commits its amount", approvals, len(commitments))
	}
	for l, sum := range committed {
		if sum > allocated[l] && !over[l.community] {
			t.Errorf("budget line %+v: %s committed of %s allocated", l, sum, allocated[l])
		}
	}
	for cid := range overBudget {
		if !over[cid] {
			t.Errorf("community %s approved beyond its budget but was not planted to", cid)
		}
	}

	// Every watch rule a command can mark on an event is breached somewhere.
	for _, r := range []kernel.RuleID{rulebook.CommitteeSize, rulebook.FullTimeShare, rulebook.CandidateListPublicity,
		rulebook.MinutesKept, rulebook.OperatingFunds, rulebook.MajorMatterResolution, rulebook.PaymentDisclosed,
		rulebook.ResultsDisclosed, rulebook.DisclosureFrequency, rulebook.BudgetBalance, rulebook.SplitSpending, rulebook.SealUse,
		rulebook.LateRecording, rulebook.PublicBidding, rulebook.WorkAdmission, rulebook.PayScale, rulebook.StaffingLimit, rulebook.CadreIncompetent} {
		if breaches[r] == 0 {
			t.Errorf("no %s breach in the history", r)
		}
		if stats.Breaches[r] != breaches[r] {
			t.Errorf("stats count %d %s breaches, the events %d", stats.Breaches[r], r, breaches[r])
		}
	}
	// The seal register: every community's seal registered and used most months; a use without approval
	// only where it was planted.
	if types["seal.registered"] != 78 || sealUses < 78*20 {
		t.Errorf("%d seals registered, %d uses: want one seal a community, used most months", types["seal.registered"], sealUses)
	}
	planted := plantedIn(stats, string(rulebook.SealUse))
	if len(unapprovedSeals) == 0 || len(planted) == 0 {
		t.Error("no seal used without approval: the alert engine has nothing to find")
	}
	for cid := range unapprovedSeals {
		if !planted[cid] {
			t.Errorf("community %s used its seal without approval but was not planted to", cid)
		}
	}
	// Collective assets: two or three a community, let out and renewed, the rent received; a contract not
	// bid above the threshold only where it was planted, and an installment left unpaid somewhere.
	if types["asset.registered"] < 78*2 || types["asset.contract-signed"] < types["asset.registered"] || types["asset.rent-received"] < 78*20 {
		t.Errorf("assets %d, contracts %d, rent received %d", types["asset.registered"], types["asset.contract-signed"], types["asset.rent-received"])
	}
	// The admission list: the district's duties and decisions, tasks received in every community, a task
	// nobody admitted only where it was planted.
	if types["worklist.duty-listed"] != 8 || types["worklist.task-decided"] != 4 || types["worklist.task-received"] < 78*8 {
		t.Errorf("duties %d, decisions %d, tasks received %d", types["worklist.duty-listed"], types["worklist.task-decided"], types["worklist.task-received"])
	}
	plantedTask := plantedIn(stats, string(rulebook.WorkAdmission))
	if len(unadmitted) == 0 {
		t.Error("no task pushed onto a community without admission: the alert engine has nothing to find")
	}
	for cid := range unadmitted {
		if !plantedTask[cid] {
			t.Errorf("community %s received a task nobody admitted but was not planted to", cid)
		}
	}
	// Community workers: five to nine on every roster, trained twice a year, paid by component; a salary
	// above the scale and a roster over its posts only where they were planted.
	for cid := range communities {
		if n := onRoster[cid]; n < 5 || n > 10 {
			t.Errorf("community %s has %d workers on its roster", cid, n)
		}
	}
	if types["worker.trained"] < 78*5*4 || types["worker.left"] == 0 {
		t.Errorf("%d trainings, %d workers left", types["worker.trained"], types["worker.left"])
	}
	for rule, seen := range map[string]map[string]bool{string(rulebook.PayScale): overpaid, string(rulebook.StaffingLimit): overstaffed} {
		planted := plantedIn(stats, rule)
		if len(seen) == 0 || len(planted) == 0 {
			t.Errorf("no %s anomaly in the history: the alert engine has nothing to find", rule)
		}
		for cid := range seen {
			if !planted[cid] {
				t.Errorf("community %s breached %s but was not planted to", cid, rule)
			}
		}
	}
	// Casework: three rounds of eighteen inspections a year, every community inspected over the span, two
	// bulletins a year citing them; every rectification reported but where it was planted.
	if n := types["inspection.conducted"]; n < 3*3*inspectedPerRoundInTest-18 || n > 3*3*inspectedPerRoundInTest+18 || len(inspected) != 78 {
		t.Errorf("%d inspections of %d communities", n, len(inspected))
	}
	if types["bulletin.published"] < 5 || bulletinCites < types["inspection.conducted"]-2*inspectedPerRoundInTest {
		t.Errorf("%d bulletins citing %d inspections", types["bulletin.published"], bulletinCites)
	}
	// The annual assessment: the district defines every year of the span, and its assessors score each
	// community at every year end within it.
	if years := stats.To.In(kernel.ChinaTime()).Year() - stats.From.In(kernel.ChinaTime()).Year() + 1; types["assessment.defined"] != years ||
		types["assessment.scored"] != 78*(years-1) {
		t.Errorf("%d assessment years defined, %d scored over %d calendar years", types["assessment.defined"], types["assessment.scored"], years)
	}
	unrectified := plantedIn(stats, string(rulebook.RectificationDue)+":missing")
	if len(ordered) < 100 || len(unrectified) == 0 {
		t.Errorf("%d rectifications ordered, planted unrectified in %v", len(ordered), unrectified)
	}
	for stream, cid := range ordered {
		if !reported[stream] && !unrectified[cid] && orderedDue[stream].Before(stats.To.Add(-30*24*time.Hour)) {
			t.Errorf("%s was never reported but its community was not planted to", stream)
		}
	}
	// Democratic evaluations about every half year, never more than six months apart but where one was
	// planted skipped; a member found 不称职 only where it was planted; a survey every November.
	skippedEval, plantedBad := plantedIn(stats, string(rulebook.CadreEvaluation)+":skipped"), plantedIn(stats, string(rulebook.CadreIncompetent))
	for cid := range communities {
		at := evaluatedIn[cid]
		if len(at) < 5 {
			t.Errorf("community %s evaluated %d times", cid, len(at))
		}
		for i := 1; i < len(at); i++ {
			if at[i].After(at[i-1].AddDate(0, 6, 0)) && !skippedEval[cid] {
				t.Errorf("community %s: evaluations on %s and %s", cid, at[i-1], at[i])
			}
		}
	}
	if len(skippedEval) == 0 || len(plantedBad) == 0 || len(incompetent) == 0 {
		t.Errorf("planted: skipped evaluation %v, incompetent %v; found incompetent %v", skippedEval, plantedBad, incompetent)
	}
	for cid := range incompetent {
		if !plantedBad[cid] {
			t.Errorf("community %s found a member 不称职 but was not planted to", cid)
		}
	}
	if types["survey.opened"] != 78*3 || types["survey.closed"] != 78*3 {
		t.Errorf("%d surveys opened, %d closed: want one a community each November", types["survey.opened"], types["survey.closed"])
	}
	plantedUnbid := plantedIn(stats, string(rulebook.PublicBidding))
	if len(unbid) == 0 || len(plantedIn(stats, string(rulebook.RentCollected)+":missing")) == 0 {
		t.Error("no contract awarded without bidding or no rent left unpaid: the alert engine has nothing to find")
	}
	for cid := range unbid {
		if !plantedUnbid[cid] {
			t.Errorf("community %s let a contract without bidding but was not planted to", cid)
		}
	}
	if auditKinds[audit.Regular] < 78*5 || auditKinds[audit.Exit] != 78 {
		t.Errorf("audits by kind %v: want about six regular audits and one exit audit a community", auditKinds)
	}
	for _, step := range []string{"meeting.topic-collected", "meeting.topic-screened", "meeting.topic-plan-drafted",
		"meeting.topic-notice-given", "meeting.topic-deliberation-held", "meeting.topic-result-disclosed", "meeting.topic-feedback-recorded"} {
		if topicSteps[step] < 78 {
			t.Errorf("only %d %s", topicSteps[step], step)
		}
	}
	for _, typ := range []string{"disclosure.corrected", "disclosure.withdrawn", "disclosure.objection-answered",
		"election.objection-answered", "election.committee-member-left", "funds.expenditure-rejected",
		"funds.expenditure-cancelled", "community.figures-updated", "rulebook.override-set", "meeting.resolution-adopted"} {
		if types[typ] == 0 {
			t.Errorf("no %s in the history", typ)
		}
	}
	for typ, n := range types {
		if stats.ByType[typ] != n {
			t.Errorf("stats count %d %s, the sink %d", stats.ByType[typ], typ, n)
		}
	}
	if personal < 10_000 {
		t.Errorf("only %d national ids in personal data", personal)
	}
}

// budgetLine is a community's fiscal year's category.
type budgetLine struct {
	community string
	year      int
	category  funds.Category
}

// plantedIn returns the communities where an anomaly was planted.
func plantedIn(s workload.Stats, what string) map[string]bool {
	out := map[string]bool{}
	for _, d := range s.Districts {
		for _, st := range d.Streets {
			for _, c := range st.Communities {
				if slices.Contains(c.Planted, what) {
					out[string(c.ID)] = true
				}
			}
		}
	}
	return out
}

// A target sizes the history: communities are added in whole districts, or years when the communities are
// given, and the history stops on the day the target is reached.
func TestTarget(t *testing.T) {
	st := generate(t, workload.Options{Seed: 3, Target: 60_000, Years: 1}, newMemSink(nil))
	t.Logf("target 60000 over a year: %d events, %d communities, %s → %s", st.Events, st.Communities, st.From, st.To)
	if st.Events < 60_000 || st.Events > 60_000*1005/1000 {
		t.Errorf("target 60000: %d events", st.Events)
	}
	if len(st.Districts) != 2 || st.Communities != 2*78 || st.Districts[1].Name == st.Districts[0].Name {
		t.Errorf("target 60000 over a year: %d districts, %d communities; want two whole districts", len(st.Districts), st.Communities)
	}
	st = generate(t, workload.Options{Seed: 3, Target: 20_000, Communities: 5}, newMemSink(nil))
	t.Logf("target 20000 with 5 communities: %d events over %d years", st.Events, st.Years)
	if st.Events < 20_000 || st.Events > 20_000*1005/1000 || st.Years < 5 {
		t.Errorf("target 20000 with 5 communities: %d events over %d years", st.Events, st.Years)
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []workload.Options{{Communities: -1}, {Years: -1}, {Years: 1000}, {Target: -5}, {Concurrency: -2}} {
		if _, err := workload.Generate(context.Background(), o, newMemSink(nil)); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
	if _, err := workload.Generate(context.Background(), workload.Options{Communities: 100_000}, newMemSink(nil)); err == nil {
		t.Error("100000 communities accepted: more districts than the tree has")
	}
}

func TestNationalID(t *testing.T) {
	for _, s := range []string{"11010519491231002X", "440524188001010014"} { // the standard's examples
		if !workload.ValidNationalID(s) {
			t.Errorf("%s rejected", s)
		}
	}
	for _, s := range []string{"110105194912310021", "11010519491331002X", "1101051949123100", "11010519491231002x"} {
		if workload.ValidNationalID(s) {
			t.Errorf("%s accepted", s)
		}
	}
}

// A failing sink stops the run with its error.
func TestSinkErrorStops(t *testing.T) {
	boom := errors.New("disk full")
	_, err := workload.Generate(context.Background(), workload.Options{Communities: 3, Years: 1}, &failingSink{after: 200, err: boom, mem: newMemSink(nil)})
	if !errors.Is(err, boom) {
		t.Fatalf("Generate returned %v, want the sink's error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := workload.Generate(ctx, workload.Options{Communities: 3, Years: 1}, newMemSink(nil)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Generate returned %v", err)
	}
}

type failingSink struct {
	n     atomic.Int64
	after int64
	err   error
	mem   *memSink
}

func (f *failingSink) Append(ctx context.Context, stream string, exp eventlog.Expected, evs []eventlog.Event) (eventlog.AppendResult, error) {
	if f.n.Add(1) > f.after {
		return eventlog.AppendResult{}, f.err
	}
	return f.mem.Append(ctx, stream, exp, evs)
}

// With many appends in flight and a sink whose appends take random time, every looked-up fact still
// reaches the sink before the events that depend on it.
func TestCausalOrderUnderConcurrency(t *testing.T) {
	causes := causality{seen: map[string]bool{}}
	var failed error
	sink := &jitterSink{memSink: newMemSink(func(stream string, e eventlog.Event, ev kernel.Event) {
		if err := causes.check(e.Meta.CommunityID, ev); err != nil && failed == nil {
			failed = fmt.Errorf("%s (%s): %w", stream, e.Type, err)
		}
	})}
	generate(t, workload.Options{Seed: 5, Communities: 6, Years: 2, Concurrency: 64}, sink)
	if failed != nil {
		t.Fatal(failed)
	}
}

type jitterSink struct {
	*memSink
	n atomic.Uint64
}

func (j *jitterSink) Append(ctx context.Context, stream string, exp eventlog.Expected, evs []eventlog.Event) (eventlog.AppendResult, error) {
	if k := j.n.Add(1); k%3 == 0 {
		time.Sleep(time.Duration(k%7) * 50 * time.Microsecond)
	}
	return j.memSink.Append(ctx, stream, exp, evs)
}

// inspectedPerRoundInTest is how many communities a round inspects (Longwan's figure).
const inspectedPerRoundInTest = 18
