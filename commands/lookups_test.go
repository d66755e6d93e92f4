package commands_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/election"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// The domain's rules are tested in domain/; these tests are about what the handlers look up and pass
// in, and how they name what they cannot find.

const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// assemblyResolution records an assembly of community c that passes a resolution r-1 on major spending
// with the given ceiling.
func (l *ledger) assemblyResolution(c string, actor commands.Actor, meetingID string, ceiling int64) {
	l.t.Helper()
	ctx := context.Background()
	l.must(l.h.ConveneMeeting(ctx, l.as(actor), commands.ConveneMeeting{CommunityID: c, MeetingID: meetingID, Kind: "assembly", Title: "居民会议", Basis: "adults"}))
	l.must(l.h.RecordAttendance(ctx, l.as(actor), commands.RecordAttendance{CommunityID: c, MeetingID: meetingID, Present: 3000}))
	l.must(l.h.TableMotion(ctx, l.as(actor), commands.TableMotion{CommunityID: c, MeetingID: meetingID, MotionID: "mo-1", Title: "路灯改造"}))
	l.must(l.h.RecordVote(ctx, l.as(actor), commands.RecordVote{CommunityID: c, MeetingID: meetingID, MotionID: "mo-1", For: 2000, Against: 500, Abstain: 500, Outcome: "passed"}))
	l.must(l.h.AdoptResolution(ctx, l.as(actor), commands.AdoptResolution{CommunityID: c, MeetingID: meetingID, ResolutionID: "r-1", MotionID: "mo-1",
		Subject: "major-spending", CeilingFen: ceiling, Text: "同意路灯改造"}))
}

// lastEvent decodes the last event of a stream.
func (l *ledger) lastEvent(stream string) kernel.Event {
	l.t.Helper()
	h := l.history(stream)
	if len(h) == 0 {
		l.t.Fatalf("%s is empty", stream)
	}
	return h[len(h)-1]
}

func breaches(e kernel.Event) []kernel.RuleID {
	w, ok := e.(kernel.Watched)
	if !ok {
		return nil
	}
	var out []kernel.RuleID
	for _, b := range w.Breached() {
		out = append(out, b.Rule)
	}
	return out
}

// TestRegistryLookups: nodes need their registered parent; codes are unique; a community's id is its
// path's code.
func TestRegistryLookups(t *testing.T) {
	ctx := context.Background()
	l := newLedger(t)
	l.registered()
	reg := func(path string) error {
		_, err := l.h.RegisterJurisdiction(ctx, l.as(admin), commands.RegisterJurisdiction{Path: path, Name: "x"})
		return err
	}
	comm := func(id, path string) error {
		_, err := l.h.RegisterCommunity(ctx, l.as(admin), commands.RegisterCommunity{CommunityID: id, Name: "x", Kind: "rural", Jurisdiction: path, Households: 300, Adults: 800})
		return err
	}

	wantErr(t, reg("34/3401"), community.ErrParentNotFound, "path")
	wantErr(t, reg(street+"/330303001003"), errCode("community-level-path"), "path")
	l.must(l.h.RegisterJurisdiction(ctx, l.as(admin), commands.RegisterJurisdiction{Path: "34", Name: "安徽省"}))
	wantErr(t, reg("34/330303"), errCode("jurisdiction-code-taken"), "path")
	wantErr(t, reg(district), community.ErrJurisdictionExists, "")
	wantErr(t, reg("33/33-03"), errCode("invalid-code"), "path")

	wantErr(t, comm("330303001003", street+"/330303001004"), errCode("community-id-not-path-code"), "community_id")
	wantErr(t, comm("330303009001", "33/3303/330303/330303009/330303009001"), community.ErrParentNotFound, "jurisdiction")
	wantErr(t, comm("3303-03", street+"/3303-03"), errCode("invalid-code"), "community_id")
	wantErr(t, comm(cid, cpath), community.ErrCommunityExists, "")
	wantErr(t, comm("330303001", street), community.ErrNotCommunityLevel, "jurisdiction")

	// Grids hang under the community itself.
	l.must(l.h.RegisterJurisdiction(ctx, l.as(admin), commands.RegisterJurisdiction{Path: cpath + "/g01", Name: "第一网格"}))
	if md := l.stream(community.JurisdictionStream(cpath + "/g01"))[0].Meta; md.CommunityID != cid || md.Jurisdiction != cpath+"/g01" {
		t.Fatalf("a grid belongs to its community: %+v", md)
	}
}

// TestRulebookLookups: the rule parameters in force are the defaults overlaid by the overrides of every
// ancestor, the most specific winning, read at decision time.
func TestRulebookLookups(t *testing.T) {
	ctx := context.Background()
	l := newLedger(t)
	l.registered()
	set := func(path, value string) commands.Result {
		return l.must(l.h.SetRuleOverride(ctx, l.as(admin), commands.SetRuleOverride{Jurisdiction: path, Rule: string(rulebook.MajorMatterResolution),
			Parameter: rulebook.ParamThreshold, Value: value, Reason: "本区标准"}))
	}
	approveNew := func(id string, amount int64) error {
		l.requested(id, amount)
		_, err := l.h.ApproveExpenditure(ctx, l.as(clerk), approve(id))
		return err
	}

	if err := approveNew("x-1", 4000000); err != nil {
		t.Fatalf("40 000 元 is not major by default: %v", err)
	}
	set(district, "3000000")
	wantErr(t, approveNew("x-2", 4000000), funds.ErrMajorNeedsResolution, "")

	set(cpath, "5000000") // the community's own override is more specific than the district's
	if err := approveNew("x-3", 4000000); err != nil {
		t.Fatalf("the most specific override must win: %v", err)
	}
	if res := set(cpath, "5000000"); len(res.Events) != 0 {
		t.Fatalf("setting the value in force records nothing, got %+v", res)
	}
	set(otherPath, "1") // another community's override does not apply here
	if err := approveNew("x-4", 4000000); err != nil {
		t.Fatalf("another community's override leaked: %v", err)
	}

	l.must(l.h.RemoveRuleOverride(ctx, l.as(admin), commands.RemoveRuleOverride{Jurisdiction: cpath, Rule: string(rulebook.MajorMatterResolution),
		Parameter: rulebook.ParamThreshold, Reason: "恢复区标准"}))
	wantErr(t, approveNew("x-5", 4000000), funds.ErrMajorNeedsResolution, "")

	_, err := l.h.SetRuleOverride(ctx, l.as(admin), commands.SetRuleOverride{Jurisdiction: "33/3399", Rule: string(rulebook.MajorMatterResolution),
		Parameter: rulebook.ParamThreshold, Value: "1", Reason: "x"})
	wantErr(t, err, errCode("jurisdiction-not-found"), "jurisdiction")
	_, err = l.h.SetRuleOverride(ctx, l.as(admin), commands.SetRuleOverride{Jurisdiction: district, Rule: "no-such-rule", Parameter: "x", Value: "1", Reason: "x"})
	wantErr(t, err, rulebook.ErrUnknownRule, "rule")

	if md := l.stream(rulebook.OverridesStream(cpath))[0].Meta; md.CommunityID != cid || md.Jurisdiction != cpath {
		t.Fatalf("a community's override belongs to it: %+v", md)
	}
}

// TestResolutionLookups: an approval or payment cites a resolution by meeting and id; the handler reads
// it from that meeting of the same community and passes the domain what was actually adopted.
func TestResolutionLookups(t *testing.T) {
	ctx := context.Background()
	l := newLedger(t)
	l.registered()
	l.assemblyResolution(cid, clerk, "m-1", 8000000)
	l.assemblyResolution(otherCID, otherClerk, "m-o", 8000000)
	l.clock.Advance(time.Hour)
	l.requested("x-1", 6000000)
	cite := func(meetingID, resolutionID string) commands.ApproveExpenditure {
		a := approve("x-1")
		a.MeetingID, a.ResolutionID = meetingID, resolutionID
		return a
	}

	_, err := l.h.ApproveExpenditure(ctx, l.as(clerk), cite("m-1", "r-9"))
	wantErr(t, err, errCode("resolution-not-found"), "resolution_id")
	_, err = l.h.ApproveExpenditure(ctx, l.as(clerk), cite("m-o", "r-1")) // another community's meeting
	wantErr(t, err, meeting.ErrMeetingNotFound, "meeting_id")
	_, err = l.h.ApproveExpenditure(ctx, l.as(clerk), cite("m-1", ""))
	wantErr(t, err, errCode("required"), "resolution_id")
	_, err = l.h.ApproveExpenditure(ctx, l.as(clerk), cite("", "r-1"))
	wantErr(t, err, errCode("required"), "meeting_id")

	l.must(l.h.ApproveExpenditure(ctx, l.as(clerk), cite("m-1", "r-1")))
	var adopted meeting.ResolutionAdopted
	var reserved []meeting.CeilingReserved
	for _, e := range l.history(meeting.Stream(kernel.CommunityID(cid), "m-1")) {
		switch e := e.(type) {
		case meeting.ResolutionAdopted:
			adopted = e
		case meeting.CeilingReserved:
			reserved = append(reserved, e)
		}
	}
	if len(reserved) != 1 || reserved[0].ExpenditureID != "x-1" || reserved[0].Amount != 6000000 {
		t.Fatalf("the approval reserved %+v of the resolution's ceiling, want 6000000 for x-1", reserved)
	}
	approved := l.lastEvent(funds.ExpenditureStream(kernel.CommunityID(cid), "x-1")).(funds.ExpenditureApproved)
	if !reflect.DeepEqual(approved.Resolution, funds.RefTo(adopted)) {
		t.Fatalf("the approval cites %+v, the meeting adopted %+v", approved.Resolution, adopted)
	}

	l.must(l.h.PayExpenditure(ctx, l.as(clerk), commands.PayExpenditure{CommunityID: cid, ExpenditureID: "x-1", VoucherNo: "记-1"}))
	if paid := l.lastEvent(funds.ExpenditureStream(kernel.CommunityID(cid), "x-1")).(funds.ExpenditurePaid); len(paid.Breaches) != 0 {
		t.Fatalf("paid after an approval with a resolution: %v", paid.Breaches)
	}
}

// TestFiguresLookups: the registered figures of the community feed the committee-size watch at
// certification, the operating-funds watch at allocation, and an assembly's expected attendance.
func TestFiguresLookups(t *testing.T) {
	ctx := context.Background()
	l := newLedger(t)
	l.registered() // urban, 2 400 households, 5 200 adults

	t.Run("certification checks the committee against the figures", func(t *testing.T) {
		l.must(l.h.FormElectionCommittee(ctx, l.as(clerk), commands.FormElectionCommittee{CommunityID: cid, ElectionID: "e-1", Term: "2026-2031", Seats: 5,
			Members: []commands.ElectionCommitteeMember{{Person: "p-e1", Role: "chair"}}}))
		var tally []commands.Tally
		var winners []commands.Winner
		for _, p := range []string{"p-1", "p-2", "p-3"} {
			l.must(l.h.NominateCandidate(ctx, l.as(clerk), commands.NominateCandidate{CommunityID: cid, ElectionID: "e-1", Candidate: p, ResidenceSince: t0.AddDate(-3, 0, 0)}))
			tally = append(tally, commands.Tally{Candidate: p, Votes: 2000})
			winners = append(winners, commands.Winner{Person: p, Role: "member", FullTime: true})
		}
		l.must(l.h.PublicizeCandidateList(ctx, l.as(clerk), commands.PublicizeCandidateList{CommunityID: cid, ElectionID: "e-1"}))
		l.clock.Advance(8 * 24 * time.Hour)
		l.must(l.h.HoldVoting(ctx, l.as(clerk), commands.HoldVoting{CommunityID: cid, ElectionID: "e-1", RegisteredVoters: 4000, BallotsCast: 2500, Tally: tally}))
		l.must(l.h.CertifyElectionResult(ctx, l.as(clerk), commands.CertifyElectionResult{CommunityID: cid, ElectionID: "e-1", Winners: winners}))
		certified := l.lastEvent(election.Stream(kernel.CommunityID(cid), "e-1")).(election.ResultCertified)
		if got := breaches(certified); !slices.Equal(got, []kernel.RuleID{rulebook.CommitteeSize}) {
			t.Fatalf("three members for 2 400 households: breaches %v", got)
		}
	})

	t.Run("allocation checks operating funds against the households", func(t *testing.T) {
		l.must(l.h.AllocateBudget(ctx, l.as(clerk), commands.AllocateBudget{CommunityID: cid, FiscalYear: 2026, AllocationID: "a-1",
			Source: "county-finance", Category: "operating", AmountFen: 3000000}))
		if got := breaches(l.lastEvent(funds.BudgetStream(kernel.CommunityID(cid), 2026))); !slices.Equal(got, []kernel.RuleID{rulebook.OperatingFunds}) {
			t.Fatalf("30 000 元 for 2 400 households: breaches %v", got)
		}
		l.must(l.h.AllocateBudget(ctx, l.as(clerk), commands.AllocateBudget{CommunityID: cid, FiscalYear: 2026, AllocationID: "a-2",
			Source: "county-finance", Category: "operating", AmountFen: 2000000}))
		if got := breaches(l.lastEvent(funds.BudgetStream(kernel.CommunityID(cid), 2026))); got != nil {
			t.Fatalf("topped up to 50 000 元: breaches %v", got)
		}
	})

	t.Run("an assembly is expected to be the registered adults or households", func(t *testing.T) {
		l.must(l.h.ConveneMeeting(ctx, l.as(clerk), commands.ConveneMeeting{CommunityID: cid, MeetingID: "m-a", Kind: "assembly", Title: "居民会议", Basis: "adults"}))
		l.must(l.h.ConveneMeeting(ctx, l.as(clerk), commands.ConveneMeeting{CommunityID: cid, MeetingID: "m-h", Kind: "assembly", Title: "户代表会议", Basis: "households", Expected: 2400}))
		if got := l.lastEvent(meeting.Stream(kernel.CommunityID(cid), "m-a")).(meeting.Convened).Expected; got != 5200 {
			t.Fatalf("expected adults %d", got)
		}
		if got := l.lastEvent(meeting.Stream(kernel.CommunityID(cid), "m-h")).(meeting.Convened).Expected; got != 2400 {
			t.Fatalf("expected households %d", got)
		}
		_, err := l.h.ConveneMeeting(ctx, l.as(clerk), commands.ConveneMeeting{CommunityID: cid, MeetingID: "m-x", Kind: "assembly", Title: "居民会议", Basis: "adults", Expected: 3000})
		wantErr(t, err, errCode("expected-not-registered-figure"), "expected")
		l.must(l.h.ConveneMeeting(ctx, l.as(clerk), commands.ConveneMeeting{CommunityID: cid, MeetingID: "m-j", Kind: "joint", Title: "两委联席会议", Basis: "invitees", Expected: 12}))
	})
}

// TestDisclosedFactLookups: a notice names the facts it discloses; when each happened is read from its
// own stream, so a late disclosure is marked whatever the clerk writes.
func TestDisclosedFactLookups(t *testing.T) {
	ctx := context.Background()
	l := newLedger(t)
	l.registered()
	l.requested("x-1", 800000)
	publish := func(id string, facts ...commands.DisclosedFact) error {
		now := l.clock.Now()
		_, err := l.h.PublishDisclosure(ctx, l.as(clerk), commands.PublishDisclosure{CommunityID: cid, NoticeID: id, Category: "finance",
			Period: commands.Period{From: now.AddDate(0, -1, 0), To: now}, Title: "财务公开", Text: "支出明细",
			Window: commands.Window{Start: now, End: now.Add(7 * 24 * time.Hour)}, Discloses: facts})
		return err
	}

	wantErr(t, publish("n-1", commands.DisclosedFact{Kind: "payment", ID: "x-1"}), commands.ErrFactNotYet, "discloses[0].id")
	wantErr(t, publish("n-1", commands.DisclosedFact{Kind: "payment", ID: "x-9"}), commands.ErrFactNotFound, "discloses[0].id")
	wantErr(t, publish("n-1", commands.DisclosedFact{Kind: "budget", ID: "a-1"}), errCode("invalid-fiscal-year"), "discloses[0].fiscal_year")
	wantErr(t, publish("n-1", commands.DisclosedFact{Kind: "resolution", ID: "r-1"}), errCode("required"), "discloses[0].meeting_id")
	wantErr(t, publish("n-1", commands.DisclosedFact{Kind: "resolution", ID: "r-1", MeetingID: "m-9"}), meeting.ErrMeetingNotFound, "discloses[0].meeting_id")
	wantErr(t, publish("n-1", commands.DisclosedFact{Kind: "gossip", ID: "x"}), errCode("invalid-ref-kind"), "discloses[0].kind")

	l.must(l.h.PayExpenditure(ctx, l.as(clerk), commands.PayExpenditure{CommunityID: cid, ExpenditureID: "x-1", VoucherNo: "记-1"}))
	paidAt := l.clock.Now()
	l.assemblyResolution(cid, clerk, "m-1", 8000000)
	l.clock.Advance(25 * time.Hour)
	if err := publish("n-1", commands.DisclosedFact{Kind: "payment", ID: "x-1"}, commands.DisclosedFact{Kind: "resolution", ID: "r-1", MeetingID: "m-1"}); err != nil {
		t.Fatal(err)
	}
	published := l.lastEvent(disclosure.Stream(kernel.CommunityID(cid), "n-1")).(disclosure.Published)
	want := []disclosure.Ref{{Kind: disclosure.RefPayment, ID: "x-1", OccurredAt: paidAt}, {Kind: disclosure.RefResolution, ID: "r-1", OccurredAt: paidAt}}
	if !reflect.DeepEqual(published.Refs, want) {
		t.Fatalf("refs %+v, want %+v", published.Refs, want)
	}
	if got := breaches(published); !slices.Equal(got, []kernel.RuleID{rulebook.PaymentDisclosed, rulebook.DisclosureFrequency}) {
		t.Fatalf("disclosed 25 h late: breaches %v", got)
	}
}

// TestTopicLookups: the meeting, topic and notice a deliberation step names must exist in the
// community.
func TestTopicLookups(t *testing.T) {
	ctx := context.Background()
	l := newLedger(t)
	l.registered()
	_, err := l.h.ConveneMeeting(ctx, l.as(clerk), commands.ConveneMeeting{CommunityID: cid, MeetingID: "m-1", Kind: "deliberation", Title: "议事协商会",
		Basis: "invitees", Expected: 20, TopicID: "t-9"})
	wantErr(t, err, meeting.ErrTopicNotFound, "topic_id")
	_, err = l.h.HoldTopicDeliberation(ctx, l.as(clerk), commands.HoldTopicDeliberation{CommunityID: cid, TopicID: "t-1", MeetingID: "m-9", Outcome: "o"})
	wantErr(t, err, meeting.ErrTopicNotFound, "") // the topic itself comes first

	l.must(l.h.CollectTopic(ctx, l.as(clerk), commands.CollectTopic{CommunityID: cid, TopicID: "t-1", Channel: "hotline", Summary: "路灯不亮"}))
	l.must(l.h.ScreenTopic(ctx, l.as(clerk), commands.ScreenTopic{CommunityID: cid, TopicID: "t-1", Accepted: true, Reason: "属于协商范围"}))
	l.must(l.h.DraftTopicPlan(ctx, l.as(clerk), commands.DraftTopicPlan{CommunityID: cid, TopicID: "t-1", Plan: "更换路灯", PlanSHA256: sha}))
	l.must(l.h.GiveTopicNotice(ctx, l.as(clerk), commands.GiveTopicNotice{CommunityID: cid, TopicID: "t-1", Notice: "周五协商", DeliberationAt: t0.Add(72 * time.Hour)}))
	_, err = l.h.HoldTopicDeliberation(ctx, l.as(clerk), commands.HoldTopicDeliberation{CommunityID: cid, TopicID: "t-1", MeetingID: "m-9", Outcome: "o"})
	wantErr(t, err, meeting.ErrMeetingNotFound, "meeting_id")
	l.must(l.h.ConveneMeeting(ctx, l.as(clerk), commands.ConveneMeeting{CommunityID: cid, MeetingID: "m-1", Kind: "deliberation", Title: "议事协商会",
		Basis: "invitees", Expected: 20, TopicID: "t-1"}))
	l.must(l.h.HoldTopicDeliberation(ctx, l.as(clerk), commands.HoldTopicDeliberation{CommunityID: cid, TopicID: "t-1", MeetingID: "m-1", Outcome: "同意更换"}))
	_, err = l.h.DiscloseTopicResult(ctx, l.as(clerk), commands.DiscloseTopicResult{CommunityID: cid, TopicID: "t-1", DisclosureID: "n-9"})
	wantErr(t, err, disclosure.ErrNoticeNotFound, "disclosure_id")
}

// TestIdentifiersCannotForgeStreams: identifiers are checked before anything is read, so a command can
// only ever name its own community's streams.
func TestIdentifiersCannotForgeStreams(t *testing.T) {
	ctx := context.Background()
	l := newLedger(t)
	l.registered()
	before := l.head()
	for _, c := range []struct {
		community, election, field, code string
	}{
		{cid + "-2026", "1", "community_id", "invalid-code"}, // would read as election "2026-1" of community cid
		{"", "1", "community_id", "required"},
		{cid, "../x", "election_id", "invalid-id"},
		{cid, "a b", "election_id", "invalid-id"},
		{cid, "", "election_id", "required"},
		{cid, strings.Repeat("9", 65), "election_id", "id-too-long"},
	} {
		_, err := l.h.WithdrawCandidate(ctx, l.as(admin), commands.WithdrawCandidate{CommunityID: c.community, ElectionID: c.election, Candidate: "p", Reason: "r"})
		wantErr(t, err, errCode(c.code), c.field)
	}
	if after := l.head(); after != before {
		t.Fatalf("$all grew from %d to %d events", before, after)
	}
	kind, community, id, err := eventlog.SplitStreamName(election.Stream(kernel.CommunityID(cid), "2026-1"))
	if err != nil || kind != "election" || community != cid || id != "2026-1" {
		t.Fatalf("split %s %s %s %v", kind, community, id, err)
	}
}
