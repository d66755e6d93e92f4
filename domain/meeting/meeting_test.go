package meeting_test

import (
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/internal/domaintest"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

var (
	t0       = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	defaults = rulebook.Defaults()
	sha      = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
)

func samples() []kernel.Event {
	return []kernel.Event{
		meeting.Convened{MeetingID: "m-1", Kind: meeting.Assembly, Title: "2026年第一次社区居民会议", Basis: meeting.BasisAdults, Expected: 5200, TopicID: "t-1", HeldAt: t0},
		meeting.AttendanceRecorded{MeetingID: "m-1", Present: 2700, RecordedAt: t0},
		meeting.MotionTabled{MeetingID: "m-1", MotionID: "mo-1", Title: "老旧小区改造", Text: "改造水晶城小区，预算不超过60万元", TabledAt: t0},
		meeting.VoteRecorded{MeetingID: "m-1", MotionID: "mo-1", For: 2400, Against: 200, Abstain: 100, Present: 2700, Outcome: meeting.Passed, RecordedAt: t0},
		meeting.ResolutionAdopted{MeetingID: "m-1", MeetingKind: meeting.Assembly, ResolutionID: "r-1", MotionID: "mo-1",
			Subject: meeting.MajorSpending, Ceiling: kernel.Yuan(600000), Text: "同意改造，上限60万元", AdoptedAt: t0},
		meeting.CeilingReserved{MeetingID: "m-1", ResolutionID: "r-1", ExpenditureID: "x-1", Amount: kernel.Yuan(200000), ReservedAt: t0.Add(3 * 24 * time.Hour)},
		meeting.CeilingReleased{MeetingID: "m-1", ResolutionID: "r-1", ExpenditureID: "x-1", Reason: "支出已被驳回，审批未记录", ReleasedAt: t0.Add(3*24*time.Hour + time.Second)},
		meeting.MinutesRecorded{MeetingID: "m-1", DocumentSHA256: sha, RecordedAt: t0,
			Watch: kernel.Watch{Breaches: []kernel.Breach{{Rule: rulebook.MinutesKept, Detail: "超过48小时"}}}},
		meeting.Closed{MeetingID: "m-1", ClosedAt: t0},
		meeting.TopicCollected{TopicID: "t-1", Channel: meeting.QRCode, Summary: "小区路灯不亮", CollectedAt: t0,
			Raiser: &kernel.PersonalData{Subject: "p-r1", Name: "周九", Phone: "13600000000"}},
		meeting.TopicScreened{TopicID: "t-1", Accepted: true, Reason: "涉及居民切身利益，属于协商范围", ScreenedAt: t0},
		meeting.TopicPlanDrafted{TopicID: "t-1", Plan: "邀请物业、业委会和居民代表协商", PlanSHA256: sha, DraftedAt: t0},
		meeting.TopicNoticeGiven{TopicID: "t-1", Notice: "3月10日晚7点在居民议事室协商", DeliberationAt: t0.Add(8 * 24 * time.Hour), GivenAt: t0},
		meeting.TopicDeliberationHeld{TopicID: "t-1", MeetingID: "m-2", Outcome: "物业一周内修复", HeldAt: t0},
		meeting.TopicResultDisclosed{TopicID: "t-1", DisclosureID: "n-9", DisclosedAt: t0},
		meeting.TopicFeedbackRecorded{TopicID: "t-1", Feedback: "已修复，居民满意", Closed: true, RecordedAt: t0},
	}
}

func TestGoldens(t *testing.T) {
	domaintest.Goldens(t, domaintest.Registry(t, meeting.RegisterEvents), "testdata", samples())
}

func run(t *testing.T, cases []domaintest.Case[*meeting.Meeting]) {
	t.Helper()
	domaintest.Run(t, domaintest.Registry(t, meeting.RegisterEvents), func() *meeting.Meeting { return &meeting.Meeting{} }, cases)
}

func convened(kind meeting.Kind, basis meeting.Basis, expected int) meeting.Convened {
	return meeting.Convened{MeetingID: "m-1", Kind: kind, Title: "会议", Basis: basis, Expected: expected, HeldAt: t0}
}

func present(n int) meeting.AttendanceRecorded {
	return meeting.AttendanceRecorded{MeetingID: "m-1", Present: n, RecordedAt: t0}
}

var motion = meeting.MotionTabled{MeetingID: "m-1", MotionID: "mo-1", Title: "议案", TabledAt: t0}

func vote(forVotes int, outcome meeting.Outcome) func(*meeting.Meeting) ([]kernel.Event, error) {
	return func(m *meeting.Meeting) ([]kernel.Event, error) {
		return m.RecordVote(meeting.RecordVote{MotionID: "mo-1", For: forVotes, Outcome: outcome}, defaults, t0)
	}
}

func TestMeeting(t *testing.T) {
	assembly := convened(meeting.Assembly, meeting.BasisAdults, 1000)
	passed := meeting.VoteRecorded{MeetingID: "m-1", MotionID: "mo-1", For: 400, Present: 600, Outcome: meeting.Passed, RecordedAt: t0}
	run(t, []domaintest.Case[*meeting.Meeting]{
		{
			Name: "convene",
			When: func(m *meeting.Meeting) ([]kernel.Event, error) {
				return m.Convene(meeting.Convene{MeetingID: "m-1", Kind: meeting.Assembly, Title: "会议", Basis: meeting.BasisAdults, Expected: 1000, HeldAt: t0}, t0)
			},
			Then: []kernel.Event{assembly},
		},
		{
			Name: "an assembly counted in members",
			When: func(m *meeting.Meeting) ([]kernel.Event, error) {
				return m.Convene(meeting.Convene{MeetingID: "m-1", Kind: meeting.Assembly, Title: "会议", Basis: meeting.BasisMembers, Expected: 10}, t0)
			},
			ThenErr: meeting.ErrBasisMismatch,
		},
		{
			Name:  "attendance above expected",
			Given: []kernel.Event{assembly},
			When: func(m *meeting.Meeting) ([]kernel.Event, error) {
				return m.RecordAttendance(1001, t0)
			},
			ThenErr: meeting.ErrAttendanceExceeds,
		},
		{
			Name:  "vote on an unknown motion",
			Given: []kernel.Event{assembly, present(600)},
			When: func(m *meeting.Meeting) ([]kernel.Event, error) {
				return m.RecordVote(meeting.RecordVote{MotionID: "nope", For: 1, Outcome: meeting.Failed}, defaults, t0)
			},
			ThenErr: meeting.ErrMotionNotFound,
		},
		{
			Name:    "passed without attendance",
			Given:   []kernel.Event{assembly, motion},
			When:    vote(400, meeting.Passed),
			ThenErr: meeting.ErrAttendanceNotRecorded,
		},
		{
			Name:  "passed",
			Given: []kernel.Event{assembly, present(600), motion},
			When:  vote(400, meeting.Passed),
			Then:  []kernel.Event{passed},
		},
		{
			Name:    "failed although quorate with a majority",
			Given:   []kernel.Event{assembly, present(600), motion},
			When:    vote(400, meeting.Failed),
			ThenErr: meeting.ErrOutcomeInconsistent,
		},
		{
			Name:      "a failed vote is always recorded",
			Given:     []kernel.Event{assembly, present(100), motion},
			When:      vote(20, meeting.Failed),
			ThenNames: []string{"meeting.vote-recorded"},
		},
		{
			Name:    "votes twice",
			Given:   []kernel.Event{assembly, present(600), motion, passed},
			When:    vote(400, meeting.Passed),
			ThenErr: meeting.ErrMotionAlreadyVoted,
		},
		{
			Name:  "resolution on a failed motion",
			Given: []kernel.Event{assembly, present(100), motion, meeting.VoteRecorded{MeetingID: "m-1", MotionID: "mo-1", For: 10, Present: 100, Outcome: meeting.Failed, RecordedAt: t0}},
			When: func(m *meeting.Meeting) ([]kernel.Event, error) {
				return m.AdoptResolution(meeting.AdoptResolution{ResolutionID: "r-1", MotionID: "mo-1", Subject: meeting.OtherSubject, Text: "x"}, t0)
			},
			ThenErr: meeting.ErrMotionNotPassed,
		},
		{
			Name:  "major spending resolution without ceiling",
			Given: []kernel.Event{assembly, present(600), motion, passed},
			When: func(m *meeting.Meeting) ([]kernel.Event, error) {
				return m.AdoptResolution(meeting.AdoptResolution{ResolutionID: "r-1", MotionID: "mo-1", Subject: meeting.MajorSpending, Text: "x"}, t0)
			},
			ThenErr: kernel.Invalid("invalid-ceiling", "ceiling_fen", ""),
		},
		{
			Name:  "adopt a resolution",
			Given: []kernel.Event{assembly, present(600), motion, passed},
			When: func(m *meeting.Meeting) ([]kernel.Event, error) {
				return m.AdoptResolution(meeting.AdoptResolution{ResolutionID: "r-1", MotionID: "mo-1", Subject: meeting.MajorSpending, Ceiling: kernel.Yuan(80000), Text: "同意"}, t0.Add(time.Hour))
			},
			Then: []kernel.Event{meeting.ResolutionAdopted{MeetingID: "m-1", MeetingKind: meeting.Assembly, ResolutionID: "r-1", MotionID: "mo-1",
				Subject: meeting.MajorSpending, Ceiling: kernel.Yuan(80000), Text: "同意", AdoptedAt: t0}},
		},
		{
			Name:  "motion after close",
			Given: []kernel.Event{assembly, meeting.Closed{MeetingID: "m-1", ClosedAt: t0}},
			When: func(m *meeting.Meeting) ([]kernel.Event, error) {
				return m.TableMotion("mo-2", "x", "", t0)
			},
			ThenErr: meeting.ErrMeetingClosed,
		},
		{
			Name:  "minutes after close, in time",
			Given: []kernel.Event{assembly, meeting.Closed{MeetingID: "m-1", ClosedAt: t0.Add(3 * time.Hour)}},
			When: func(m *meeting.Meeting) ([]kernel.Event, error) {
				return m.RecordMinutes(sha, defaults, t0.Add(50*time.Hour))
			},
			ThenNames: []string{"meeting.minutes-recorded"},
		},
		{
			Name:  "minutes with a bad hash",
			Given: []kernel.Event{assembly},
			When: func(m *meeting.Meeting) ([]kernel.Event, error) {
				return m.RecordMinutes("ABC", defaults, t0)
			},
			ThenErr: kernel.Invalid("invalid-sha256", "document_sha256", ""),
		},
	})
}

// TestRule_MeetingQuorum: 会议法定人数与表决 (enforce when a vote is recorded as passed).
func TestRule_MeetingQuorum(t *testing.T) {
	run(t, []domaintest.Case[*meeting.Meeting]{
		{
			Name:    "assembly of adults: exactly half present",
			Given:   []kernel.Event{convened(meeting.Assembly, meeting.BasisAdults, 1000), present(500), motion},
			When:    vote(400, meeting.Passed),
			ThenErr: meeting.ErrQuorumNotMet,
		},
		{
			Name:    "assembly of household representatives: short of two thirds",
			Given:   []kernel.Event{convened(meeting.Assembly, meeting.BasisHouseholds, 300), present(199), motion},
			When:    vote(150, meeting.Passed),
			ThenErr: meeting.ErrQuorumNotMet,
		},
		{
			Name:      "assembly of household representatives: exactly two thirds",
			Given:     []kernel.Event{convened(meeting.Assembly, meeting.BasisHouseholds, 300), present(200), motion},
			When:      vote(150, meeting.Passed),
			ThenNames: []string{"meeting.vote-recorded"},
		},
		{
			Name:    "representatives' meeting: short of two thirds of members",
			Given:   []kernel.Event{convened(meeting.Representatives, meeting.BasisMembers, 30), present(19), motion},
			When:    vote(19, meeting.Passed),
			ThenErr: meeting.ErrQuorumNotMet,
		},
		{
			Name:    "decision by exactly half of those present",
			Given:   []kernel.Event{convened(meeting.Representatives, meeting.BasisMembers, 30), present(24), motion},
			When:    vote(12, meeting.Passed),
			ThenErr: meeting.ErrMajorityNotReached,
		},
		{
			Name:    "a joint meeting has no quorum but still needs a majority",
			Given:   []kernel.Event{convened(meeting.Joint, meeting.BasisInvitees, 9), present(4), motion},
			When:    vote(2, meeting.Passed),
			ThenErr: meeting.ErrMajorityNotReached,
		},
	})
}

// TestRule_MinutesKept: 会议记录 within 48 h (watch).
func TestRule_MinutesKept(t *testing.T) {
	run(t, []domaintest.Case[*meeting.Meeting]{
		{
			Name:  "minutes 49 hours after a meeting never closed",
			Given: []kernel.Event{convened(meeting.Deliberation, meeting.BasisInvitees, 12)},
			When: func(m *meeting.Meeting) ([]kernel.Event, error) {
				return m.RecordMinutes(sha, defaults, t0.Add(49*time.Hour))
			},
			ThenBreaches: []kernel.RuleID{rulebook.MinutesKept},
		},
		{
			Name:  "minutes three days after close",
			Given: []kernel.Event{convened(meeting.Hearing, meeting.BasisInvitees, 12), meeting.Closed{MeetingID: "m-1", ClosedAt: t0.Add(2 * time.Hour)}},
			When: func(m *meeting.Meeting) ([]kernel.Event, error) {
				return m.RecordMinutes(sha, defaults, t0.Add(74*time.Hour))
			},
			ThenBreaches: []kernel.RuleID{rulebook.MinutesKept},
		},
	})
	m := meeting.Rehydrate([]kernel.Event{convened(meeting.Hearing, meeting.BasisInvitees, 12)})
	if due, ok := m.MinutesDue(defaults); !ok || !due.Equal(t0.Add(48*time.Hour)) {
		t.Fatalf("minutes due %v %v", due, ok)
	}
}

// TestRule_ResidentsMeetingFrequency: 每年年初、年末至少分别召开一次社区居民会议 (watch).
func TestRule_ResidentsMeetingFrequency(t *testing.T) {
	cst := kernel.ChinaTime()
	march := time.Date(2026, 3, 10, 9, 0, 0, 0, cst)
	december := time.Date(2026, 12, 20, 9, 0, 0, 0, cst)
	endOfYear := time.Date(2027, 1, 1, 0, 0, 0, 0, cst)
	if b := meeting.CheckResidentsMeetings(kernel.Urban, 2026, []time.Time{march, december}, endOfYear, defaults); b != nil {
		t.Fatalf("two meetings, one in each half: %v", b)
	}
	b := meeting.CheckResidentsMeetings(kernel.Urban, 2026, []time.Time{march}, endOfYear, defaults)
	if len(b) != 1 || b[0].Rule != rulebook.ResidentsMeetingFrequency {
		t.Fatalf("one meeting in the year: %v", b)
	}
	b = meeting.CheckResidentsMeetings(kernel.Urban, 2026, []time.Time{december.AddDate(-1, 0, 0)}, time.Date(2026, 7, 1, 0, 0, 0, 0, cst), defaults)
	if len(b) != 1 || b[0].Rule != rulebook.ResidentsMeetingFrequency {
		t.Fatalf("first half over without a meeting: %v", b)
	}
	if b := meeting.CheckResidentsMeetings(kernel.Urban, 2026, nil, time.Date(2026, 6, 30, 0, 0, 0, 0, cst), defaults); b != nil {
		t.Fatalf("first half not over yet: %v", b)
	}
	if b := meeting.CheckResidentsMeetings(kernel.Rural, 2026, nil, endOfYear, defaults); b != nil {
		t.Fatalf("villages are not concerned: %v", b)
	}
}

func TestTopicFlow(t *testing.T) {
	collected := meeting.TopicCollected{TopicID: "t-1", Channel: meeting.Hotline, Summary: "路灯", CollectedAt: t0}
	screened := meeting.TopicScreened{TopicID: "t-1", Accepted: true, Reason: "r", ScreenedAt: t0}
	drafted := meeting.TopicPlanDrafted{TopicID: "t-1", Plan: "p", DraftedAt: t0}
	noticed := meeting.TopicNoticeGiven{TopicID: "t-1", Notice: "n", DeliberationAt: t0, GivenAt: t0}
	held := meeting.TopicDeliberationHeld{TopicID: "t-1", MeetingID: "m-1", Outcome: "o", HeldAt: t0}
	disclosed := meeting.TopicResultDisclosed{TopicID: "t-1", DisclosureID: "n-1", DisclosedAt: t0}
	domaintest.Run(t, domaintest.Registry(t, meeting.RegisterEvents), func() *meeting.Topic { return &meeting.Topic{} },
		[]domaintest.Case[*meeting.Topic]{
			{Name: "collect", When: func(tp *meeting.Topic) ([]kernel.Event, error) {
				return tp.Collect("t-1", meeting.Hotline, "路灯", nil, t0)
			}, Then: []kernel.Event{collected}},
			{Name: "bad channel", When: func(tp *meeting.Topic) ([]kernel.Event, error) {
				return tp.Collect("t-1", "pigeon", "路灯", nil, t0)
			}, ThenErr: kernel.Invalid("invalid-channel", "channel", "")},
			{Name: "screen before collecting", When: func(tp *meeting.Topic) ([]kernel.Event, error) {
				return tp.Screen(true, "r", t0)
			}, ThenErr: meeting.ErrTopicNotFound},
			{Name: "draft a plan before screening", Given: []kernel.Event{collected}, When: func(tp *meeting.Topic) ([]kernel.Event, error) {
				return tp.DraftPlan("p", "", t0)
			}, ThenErr: meeting.ErrStepOutOfOrder},
			{Name: "deliberate without notice", Given: []kernel.Event{collected, screened, drafted}, When: func(tp *meeting.Topic) ([]kernel.Event, error) {
				return tp.HoldDeliberation("m-1", "o", t0)
			}, ThenErr: meeting.ErrStepOutOfOrder},
			{Name: "feedback before the result is disclosed", Given: []kernel.Event{collected, screened, drafted, noticed, held}, When: func(tp *meeting.Topic) ([]kernel.Event, error) {
				return tp.RecordFeedback("f", true, t0)
			}, ThenErr: meeting.ErrStepOutOfOrder},
			{Name: "a rejected topic stops", Given: []kernel.Event{collected, meeting.TopicScreened{TopicID: "t-1", Reason: "不属于协商范围", ScreenedAt: t0}}, When: func(tp *meeting.Topic) ([]kernel.Event, error) {
				return tp.DraftPlan("p", "", t0)
			}, ThenErr: meeting.ErrTopicNotAccepted},
			{Name: "the whole loop", Given: []kernel.Event{collected, screened, drafted, noticed, held}, When: func(tp *meeting.Topic) ([]kernel.Event, error) {
				e1, err := tp.DiscloseResult("n-1", t0)
				if err != nil {
					return nil, err
				}
				tp.Apply(e1[0])
				e2, err := tp.RecordFeedback("进行中", false, t0)
				if err != nil {
					return nil, err
				}
				tp.Apply(e2[0])
				e3, err := tp.RecordFeedback("已办结", true, t0)
				return append(append(e1, e2...), e3...), err
			}, ThenNames: []string{"meeting.topic-result-disclosed", "meeting.topic-feedback-recorded", "meeting.topic-feedback-recorded"}},
			{Name: "nothing after closing", Given: []kernel.Event{collected, screened, drafted, noticed, held, disclosed,
				meeting.TopicFeedbackRecorded{TopicID: "t-1", Feedback: "f", Closed: true, RecordedAt: t0}}, When: func(tp *meeting.Topic) ([]kernel.Event, error) {
				return tp.RecordFeedback("again", false, t0)
			}, ThenErr: meeting.ErrTopicClosed},
		})
}

// TestResolutionCeilingIsCumulative (major-matter-resolution, 四议两公开): the expenditures approved under
// one resolution never exceed its ceiling together; an expenditure cites only a resolution on its own
// project; a retry is not charged twice; a released reservation gives its amount back.
func TestResolutionCeilingIsCumulative(t *testing.T) {
	adopted := func(project string) meeting.ResolutionAdopted {
		return meeting.ResolutionAdopted{MeetingID: "m-1", MeetingKind: meeting.Assembly, ResolutionID: "r-1", MotionID: "mo-1",
			Subject: meeting.MajorSpending, Ceiling: kernel.Yuan(100000), Project: project, Text: "同意，上限10万元", AdoptedAt: t0}
	}
	reserved := func(x string, yuan int64) meeting.CeilingReserved {
		return meeting.CeilingReserved{MeetingID: "m-1", ResolutionID: "r-1", ExpenditureID: x, Amount: kernel.Yuan(yuan), ReservedAt: t0}
	}
	held := []kernel.Event{convened(meeting.Assembly, meeting.BasisAdults, 5200), present(2700), motion,
		meeting.VoteRecorded{MeetingID: "m-1", MotionID: "mo-1", For: 2400, Present: 2700, Outcome: meeting.Passed, RecordedAt: t0}}
	reserve := func(x string, yuan int64, project string) func(*meeting.Meeting) ([]kernel.Event, error) {
		return func(m *meeting.Meeting) ([]kernel.Event, error) {
			return m.ReserveCeiling(meeting.Reserve{ResolutionID: "r-1", ExpenditureID: x, Amount: kernel.Yuan(yuan), Project: project}, t0)
		}
	}
	run(t, []domaintest.Case[*meeting.Meeting]{
		{Name: "the first expenditure takes its share", Given: append(held[:4:4], adopted("")), When: reserve("x-1", 100000, ""),
			Then: []kernel.Event{reserved("x-1", 100000)}},
		{Name: "a second expenditure finds the ceiling used up", Given: append(held[:4:4], adopted(""), reserved("x-1", 100000)),
			When: reserve("x-2", 100000, ""), ThenErr: meeting.ErrCeilingExhausted},
		{Name: "the last yuan", Given: append(held[:4:4], adopted(""), reserved("x-1", 99999)),
			When: reserve("x-2", 1, ""), Then: []kernel.Event{reserved("x-2", 1)}},
		{Name: "one yuan beyond it", Given: append(held[:4:4], adopted(""), reserved("x-1", 99999)),
			When: reserve("x-2", 2, ""), ThenErr: meeting.ErrCeilingExhausted},
		{Name: "a retry of the same expenditure is not charged twice", Given: append(held[:4:4], adopted(""), reserved("x-1", 100000)),
			When: reserve("x-1", 100000, "")},
		{Name: "another project's resolution", Given: append(held[:4:4], adopted("养老照料中心")),
			When: reserve("x-1", 1000, "村道硬化"), ThenErr: meeting.ErrResolutionProjectMismatch},
		{Name: "an expenditure naming no project cites a project's resolution", Given: append(held[:4:4], adopted("养老照料中心")),
			When: reserve("x-1", 1000, ""), ThenErr: meeting.ErrResolutionProjectMismatch},
		{Name: "its own project's resolution", Given: append(held[:4:4], adopted("养老照料中心")),
			When: reserve("x-1", 1000, "养老照料中心"), Then: []kernel.Event{reserved("x-1", 1000)}},
		{Name: "a released reservation gives its amount back",
			Given: append(held[:4:4], adopted(""), reserved("x-1", 100000),
				meeting.CeilingReleased{MeetingID: "m-1", ResolutionID: "r-1", ExpenditureID: "x-1", Reason: "驳回", ReleasedAt: t0}),
			When: reserve("x-2", 100000, ""), Then: []kernel.Event{reserved("x-2", 100000)}},
		{Name: "an unknown resolution", Given: held[:4:4], When: reserve("x-1", 1, ""), ThenErr: kernel.NotFound("resolution-not-found", "")},
	})
}

// TestLateRecordingOfMeetings (late-recording): a meeting convened or closed at a time more than 72 hours
// before it is recorded carries the breach; within 72 hours it does not.
func TestLateRecordingOfMeetings(t *testing.T) {
	p := rulebook.Defaults()
	late := t0.Add(5 * 24 * time.Hour)
	run(t, []domaintest.Case[*meeting.Meeting]{
		{Name: "convened five days before it is recorded", When: func(m *meeting.Meeting) ([]kernel.Event, error) {
			return m.Convene(meeting.Convene{MeetingID: "m-1", Kind: meeting.Joint, Title: "两委联席会议", Basis: meeting.BasisInvitees, Expected: 7, HeldAt: t0, Params: &p}, late)
		}, ThenBreaches: []kernel.RuleID{rulebook.LateRecording}},
		{Name: "convened a day before it is recorded", When: func(m *meeting.Meeting) ([]kernel.Event, error) {
			return m.Convene(meeting.Convene{MeetingID: "m-1", Kind: meeting.Joint, Title: "两委联席会议", Basis: meeting.BasisInvitees, Expected: 7, HeldAt: late.Add(-24 * time.Hour), Params: &p}, late)
		}, ThenNames: []string{"meeting.convened"}},
		{Name: "closed five days before it is recorded", Given: []kernel.Event{convened(meeting.Joint, meeting.BasisInvitees, 7)},
			When:         func(m *meeting.Meeting) ([]kernel.Event, error) { return m.Close(t0.Add(time.Hour), late, p) },
			ThenBreaches: []kernel.RuleID{rulebook.LateRecording}},
	})
}
