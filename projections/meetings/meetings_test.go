package meetings_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/projections/internal/decode/decodetest"
	"github.com/grassroots-ledger/ledger/projections/internal/readmodeltest"
	"github.com/grassroots-ledger/ledger/projections/meetings"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

var (
	t0    = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	hour  = time.Hour
	day   = 24 * hour
	luoxi = decodetest.Community("33/3303/330303/330303001", "330303001001")
	sha   = strings.Repeat("9f", 32)
)

func ms(id string) string { return eventlog.StreamName("meeting", luoxi.ID, id) }
func ts(id string) string { return eventlog.StreamName("topic", luoxi.ID, id) }

var raiser = &kernel.PersonalData{Subject: "p-41", Name: "许四一", NationalID: "330303199212120041", Phone: "13612340041", Address: "罗西社区41幢"}

func sample() (*decodetest.History, map[string]eventlog.Recorded) {
	h := &decodetest.History{}
	ev := map[string]eventlog.Recorded{}
	rec := func(name, stream string, at time.Duration, e kernel.Event) {
		ev[name] = h.Record(stream, luoxi, t0.Add(at), e)[0]
	}
	rec("t-1 collected", ts("t-1"), 0, meeting.TopicCollected{TopicID: "t-1", Channel: meeting.QRCode, Summary: "小区停车难", Raiser: raiser, CollectedAt: t0})
	rec("m-1 convened", ms("m-1"), hour, meeting.Convened{MeetingID: "m-1", Kind: meeting.Assembly, Title: "2026年第一次居民会议",
		Basis: meeting.BasisAdults, Expected: 5200, HeldAt: t0.Add(hour)})
	rec("m-1 attendance 1", ms("m-1"), hour, meeting.AttendanceRecorded{MeetingID: "m-1", Present: 2700, RecordedAt: t0.Add(hour)})
	rec("mo-1 tabled", ms("m-1"), 2*hour, meeting.MotionTabled{MeetingID: "m-1", MotionID: "mo-1", Title: "道路硬化工程", Text: "拟投入…", TabledAt: t0.Add(2 * hour)})
	rec("t-1 screened", ts("t-1"), 2*hour, meeting.TopicScreened{TopicID: "t-1", Accepted: true, Reason: "涉及多数居民利益", ScreenedAt: t0.Add(2 * hour)})
	rec("m-1 attendance 2", ms("m-1"), 2*hour, meeting.AttendanceRecorded{MeetingID: "m-1", Present: 2800, RecordedAt: t0.Add(2 * hour)})
	rec("mo-2 tabled", ms("m-1"), 2*hour, meeting.MotionTabled{MeetingID: "m-1", MotionID: "mo-2", Title: "更换物业", TabledAt: t0.Add(2 * hour)})
	rec("mo-1 vote", ms("m-1"), 3*hour, meeting.VoteRecorded{MeetingID: "m-1", MotionID: "mo-1", For: 2000, Against: 500, Abstain: 300,
		Present: 2800, Outcome: meeting.Passed, RecordedAt: t0.Add(3 * hour)})
	rec("mo-2 vote", ms("m-1"), 3*hour, meeting.VoteRecorded{MeetingID: "m-1", MotionID: "mo-2", For: 900, Against: 1500, Abstain: 400,
		Present: 2800, Outcome: meeting.Failed, RecordedAt: t0.Add(3 * hour)})
	rec("r-1", ms("m-1"), 3*hour, meeting.ResolutionAdopted{MeetingID: "m-1", MeetingKind: meeting.Assembly, ResolutionID: "r-1", MotionID: "mo-1",
		Subject: meeting.MajorSpending, Ceiling: 9_000_000, Text: "同意道路硬化，上限9万元", AdoptedAt: t0.Add(3 * hour)})
	rec("m-1 closed", ms("m-1"), 4*hour, meeting.Closed{MeetingID: "m-1", ClosedAt: t0.Add(4 * hour)})
	rec("t-1 plan", ts("t-1"), day, meeting.TopicPlanDrafted{TopicID: "t-1", Plan: "划线增设车位", PlanSHA256: sha, DraftedAt: t0.Add(day)})
	rec("m-1 minutes", ms("m-1"), day, meeting.MinutesRecorded{MeetingID: "m-1", DocumentSHA256: sha, RecordedAt: t0.Add(day)})
	rec("t-1 notice", ts("t-1"), 2*day, meeting.TopicNoticeGiven{TopicID: "t-1", Notice: "3月9日议事", DeliberationAt: t0.Add(7 * day), GivenAt: t0.Add(2 * day)})
	rec("m-2 convened", ms("m-2"), 7*day, meeting.Convened{MeetingID: "m-2", Kind: meeting.Deliberation, Title: "停车议事会",
		Basis: meeting.BasisInvitees, Expected: 15, TopicID: "t-1", HeldAt: t0.Add(7 * day)})
	rec("t-1 held", ts("t-1"), 7*day, meeting.TopicDeliberationHeld{TopicID: "t-1", MeetingID: "m-2", Outcome: "增设30个车位", HeldAt: t0.Add(7 * day)})
	rec("t-2 collected", ts("t-2"), 7*day, meeting.TopicCollected{TopicID: "t-2", Channel: meeting.Hotline, Summary: "广场舞噪音", CollectedAt: t0.Add(7 * day)})
	rec("t-1 disclosed", ts("t-1"), 8*day, meeting.TopicResultDisclosed{TopicID: "t-1", DisclosureID: "n-9", DisclosedAt: t0.Add(8 * day)})
	rec("t-2 screened", ts("t-2"), 8*day, meeting.TopicScreened{TopicID: "t-2", Accepted: false, Reason: "属执法事项", ScreenedAt: t0.Add(8 * day)})
	rec("t-1 feedback 1", ts("t-1"), 20*day, meeting.TopicFeedbackRecorded{TopicID: "t-1", Feedback: "已施工一半", RecordedAt: t0.Add(20 * day)})
	rec("t-1 feedback 2", ts("t-1"), 40*day, meeting.TopicFeedbackRecorded{TopicID: "t-1", Feedback: "已完工", Closed: true, RecordedAt: t0.Add(40 * day)})
	return h, ev
}

func TestRegisterVotesResolutionsMinutesTopics(t *testing.T) {
	t.Parallel()
	h, ev := sample()
	pool := readmodeltest.Projected(t, meetings.New(), h.Events, 0)
	ctx := context.Background()
	is := func(s *meetings.Step, name string) bool {
		return s != nil && s.EventID == ev[name].ID && s.Commit == ev[name].Position.Commit
	}

	reg, err := meetings.Register(ctx, pool, luoxi.ID, 0)
	if err != nil || len(reg) != 2 || reg[0].MeetingID != "m-2" || reg[1].MeetingID != "m-1" {
		t.Fatalf("register: %+v %v", reg, err)
	}
	if m2 := reg[0]; m2.Kind != meeting.Deliberation || m2.TopicID != "t-1" || m2.Present != nil || m2.Minutes != nil ||
		m2.MinutesSHA256 != "" || m2.Status != meetings.Convened || m2.Closed != nil {
		t.Fatalf("m-2: %+v", m2)
	}
	rec, err := meetings.MeetingRecord(ctx, pool, luoxi.ID, "m-1")
	if err != nil {
		t.Fatal(err)
	}
	m1 := rec.Meeting
	if m1.Kind != meeting.Assembly || m1.Basis != meeting.BasisAdults || m1.Expected != 5200 || m1.Present == nil || *m1.Present != 2800 ||
		!is(m1.Attendance, "m-1 attendance 2") || m1.Motions != 2 || m1.Resolutions != 1 || m1.MinutesSHA256 != sha ||
		!is(m1.Minutes, "m-1 minutes") || m1.Status != meetings.Closed || !is(m1.Closed, "m-1 closed") ||
		m1.Convened.EventID != ev["m-1 convened"].ID || !m1.Convened.At.Equal(t0.Add(hour)) || m1.Jurisdiction != luoxi.Path {
		t.Fatalf("m-1: %+v", m1)
	}
	if len(rec.Motions) != 2 {
		t.Fatalf("motions: %+v", rec.Motions)
	}
	mo1, mo2 := rec.Motions[0], rec.Motions[1]
	if mo1.MotionID != "mo-1" || mo1.Title != "道路硬化工程" || mo1.Vote == nil || mo1.Vote.For != 2000 || mo1.Vote.Against != 500 ||
		mo1.Vote.Abstain != 300 || mo1.Vote.Present != 2800 || mo1.Vote.Outcome != meeting.Passed || !is(&mo1.Vote.Step, "mo-1 vote") ||
		mo1.Tabled.EventID != ev["mo-1 tabled"].ID {
		t.Fatalf("mo-1: %+v", mo1)
	}
	if mo2.Vote == nil || mo2.Vote.Outcome != meeting.Failed || mo2.Vote.Against != 1500 {
		t.Fatalf("mo-2: %+v", mo2)
	}
	if len(rec.Resolutions) != 1 || rec.Resolutions[0].Subject != meeting.MajorSpending || rec.Resolutions[0].Ceiling != 9_000_000 ||
		!is(&rec.Resolutions[0].Adopted, "r-1") || rec.Resolutions[0].MotionID != "mo-1" {
		t.Fatalf("resolutions: %+v", rec.Resolutions)
	}
	if rs, err := meetings.Resolutions(ctx, pool, luoxi.ID, 0); err != nil || len(rs) != 1 {
		t.Fatalf("resolutions of the community: %+v %v", rs, err)
	}
	if _, err := meetings.MeetingRecord(ctx, pool, luoxi.ID, "m-9"); !errors.Is(err, meetings.ErrNotFound) {
		t.Fatalf("unknown meeting: %v", err)
	}

	topics, err := meetings.Topics(ctx, pool, luoxi.ID, 0)
	if err != nil || len(topics) != 2 {
		t.Fatalf("topics: %+v %v", topics, err)
	}
	t2, t1 := topics[0], topics[1]
	if t1.TopicID != "t-1" || t1.Channel != meeting.QRCode || t1.Step != meeting.StepFeedbackRecorded || t1.StepName != "落实反馈" ||
		t1.Status != meetings.Done || t1.FeedbackCount != 2 || t1.MeetingID != "m-2" || t1.DisclosureID != "n-9" || !t1.Accepted ||
		!is(&t1.Current, "t-1 feedback 2") || t1.Summary != "小区停车难" || !t1.CollectedAt.Equal(t0) {
		t.Fatalf("t-1: %+v", t1)
	}
	if t2.TopicID != "t-2" || t2.Step != meeting.StepScreened || t2.StepName != "筛选议题" || t2.Status != meetings.NotAccepted ||
		t2.Accepted || !is(&t2.Current, "t-2 screened") {
		t.Fatalf("t-2: %+v", t2)
	}
	hist, err := meetings.TopicHistory(ctx, pool, luoxi.ID, "t-1")
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, st := range hist.Steps {
		steps = append(steps, fmt.Sprintf("%d:%s:%s", st.Step, st.StepName, st.Detail))
	}
	if want := "1:征集议题:小区停车难 2:筛选议题:涉及多数居民利益 3:拟定议事方案:划线增设车位 4:告知协商事宜:3月9日议事 5:组织协商:增设30个车位 " +
		"6:公开协商结果: 7:落实反馈:已施工一半 7:落实反馈:已完工"; strings.Join(steps, " ") != want {
		t.Fatalf("steps:\n got %s\nwant %s", strings.Join(steps, " "), want)
	}
	if p, n, d := hist.Steps[2], hist.Steps[3], hist.Steps[5]; p.DocumentSHA256 != sha || !is(&p.Taken, "t-1 plan") ||
		!n.DeliberationAt.Equal(t0.Add(7*day)) || d.DisclosureID != "n-9" || !hist.Steps[7].Closed || hist.Steps[6].Closed ||
		hist.Steps[4].MeetingID != "m-2" || !hist.Steps[1].Accepted {
		t.Fatalf("step details: %+v", hist.Steps)
	}
	if r, err := meetings.TopicHistory(ctx, pool, luoxi.ID, "t-2"); err != nil || len(r.Steps) != 2 || r.Steps[1].Detail != "属执法事项" || r.Steps[1].Accepted {
		t.Fatalf("t-2 history: %+v %v", r, err)
	}
	if _, err := meetings.TopicHistory(ctx, pool, luoxi.ID, "t-9"); !errors.Is(err, meetings.ErrNotFound) {
		t.Fatalf("unknown topic: %v", err)
	}

}

// TestContract: the read-model contract (readmodeltest) over the sample and a generated district. The
// model halts on a poison event.
func TestContract(t *testing.T) {
	h, _ := sample()
	readmodeltest.Run(t, readmodeltest.Model{New: func() runtime.ReadModel { return meetings.New() }, Sample: h.Events,
		Redelivery: decodetest.Idempotent, Handles: "meeting.vote-recorded", SampleSecrets: sampleSecrets})
}

// sampleSecrets are the personal data and private texts of the sample that no row may hold (the contract
// checks them).
var sampleSecrets = []string{"许四一", "330303199212120041", "13612340041", "罗西社区41幢", "p-41"}
