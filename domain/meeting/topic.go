package meeting

import (
	"slices"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// Channel through which a deliberation topic was collected (征集协商议题).
type Channel string

const (
	HomeVisit   Channel = "home-visit" // 入户走访(民情问事)
	Hotline     Channel = "hotline"    // 热线服务电话
	WeChat      Channel = "wechat"     // 微信公众号
	QRCode      Channel = "qr-code"    // 码上协商
	Forum       Channel = "forum"      // 座谈会、民情恳谈会
	Portal      Channel = "portal"     // 居民在公开门户上提出(群众说事)
	OtherSource Channel = "other"
)

// Channels lists the channels a topic is collected through, in the order the API documents them.
func Channels() []Channel {
	return []Channel{HomeVisit, Hotline, WeChat, QRCode, Forum, Portal, OtherSource}
}

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool { return slices.Contains(Channels(), c) }

// TopicCollected is step 1: a topic collected from residents. The resident
// who raised it, if recorded, is personal data.
type TopicCollected struct {
	TopicID     string               `json:"topic_id"`
	Channel     Channel              `json:"channel"`
	Summary     string               `json:"summary"`
	Raiser      *kernel.PersonalData `json:"personal,omitempty"`
	CollectedAt time.Time            `json:"collected_at"`
}

func (TopicCollected) EventName() string  { return "meeting.topic-collected" }
func (TopicCollected) SchemaVersion() int { return 1 }

// TopicScreened is step 2: the two committees screen the topic (三议三不议).
// A topic not accepted ends here.
type TopicScreened struct {
	TopicID    string    `json:"topic_id"`
	Accepted   bool      `json:"accepted"`
	Reason     string    `json:"reason"`
	ScreenedAt time.Time `json:"screened_at"`
}

func (TopicScreened) EventName() string  { return "meeting.topic-screened" }
func (TopicScreened) SchemaVersion() int { return 1 }

// TopicPlanDrafted is step 3: the deliberation plan (议事方案).
type TopicPlanDrafted struct {
	TopicID    string    `json:"topic_id"`
	Plan       string    `json:"plan"`
	PlanSHA256 string    `json:"plan_sha256,omitempty"`
	DraftedAt  time.Time `json:"drafted_at"`
}

func (TopicPlanDrafted) EventName() string  { return "meeting.topic-plan-drafted" }
func (TopicPlanDrafted) SchemaVersion() int { return 1 }

// TopicNoticeGiven is step 4: participants are told when and what will be
// deliberated (告知协商事宜).
type TopicNoticeGiven struct {
	TopicID        string    `json:"topic_id"`
	Notice         string    `json:"notice"`
	DeliberationAt time.Time `json:"deliberation_at"`
	GivenAt        time.Time `json:"given_at"`
}

func (TopicNoticeGiven) EventName() string  { return "meeting.topic-notice-given" }
func (TopicNoticeGiven) SchemaVersion() int { return 1 }

// TopicDeliberationHeld is step 5: the deliberation meeting took place.
type TopicDeliberationHeld struct {
	TopicID   string    `json:"topic_id"`
	MeetingID string    `json:"meeting_id"`
	Outcome   string    `json:"outcome"`
	HeldAt    time.Time `json:"held_at"`
}

func (TopicDeliberationHeld) EventName() string  { return "meeting.topic-deliberation-held" }
func (TopicDeliberationHeld) SchemaVersion() int { return 1 }

// TopicResultDisclosed records the disclosure of the outcome (协商结果告知公开).
type TopicResultDisclosed struct {
	TopicID      string    `json:"topic_id"`
	DisclosureID string    `json:"disclosure_id"`
	DisclosedAt  time.Time `json:"disclosed_at"`
}

func (TopicResultDisclosed) EventName() string  { return "meeting.topic-result-disclosed" }
func (TopicResultDisclosed) SchemaVersion() int { return 1 }

// TopicFeedbackRecorded records implementation and feedback to residents
// (处置办理、回复反馈); it may be recorded several times, and Closed ends the
// loop.
type TopicFeedbackRecorded struct {
	TopicID    string    `json:"topic_id"`
	Feedback   string    `json:"feedback"`
	Closed     bool      `json:"closed"`
	RecordedAt time.Time `json:"recorded_at"`
}

func (TopicFeedbackRecorded) EventName() string  { return "meeting.topic-feedback-recorded" }
func (TopicFeedbackRecorded) SchemaVersion() int { return 1 }

// Step is a stage of the deliberation of a topic, in order.
type Step int

const (
	StepNone Step = iota
	StepCollected
	StepScreened
	StepPlanDrafted
	StepNoticeGiven
	StepDeliberationHeld
	StepResultDisclosed
	StepFeedbackRecorded
)

var stepNames = [...]string{"未征集", "征集议题", "筛选议题", "拟定议事方案", "告知协商事宜", "组织协商", "公开协商结果", "落实反馈"}

// String returns the step's Chinese name.
func (s Step) String() string {
	if s < 0 || int(s) >= len(stepNames) {
		return "?"
	}
	return stepNames[s]
}

// Topic is the deliberation of one topic (议题). The zero value is a topic
// not yet collected.
type Topic struct {
	id       string
	step     Step
	rejected bool
	closed   bool
}

// TopicStream is the stream of one deliberation topic, topic-<communityID>-<topicID>.
func TopicStream(c kernel.CommunityID, topicID string) string {
	return eventlog.StreamName("topic", string(c), topicID)
}

// RehydrateTopic rebuilds a topic from its history.
func RehydrateTopic(history []kernel.Event) *Topic { return kernel.Rehydrate(&Topic{}, history) }

// Apply changes state only.
func (t *Topic) Apply(e kernel.Event) {
	switch e := e.(type) {
	case TopicCollected:
		t.id, t.step = e.TopicID, StepCollected
	case TopicScreened:
		t.step, t.rejected = StepScreened, !e.Accepted
	case TopicPlanDrafted:
		t.step = StepPlanDrafted
	case TopicNoticeGiven:
		t.step = StepNoticeGiven
	case TopicDeliberationHeld:
		t.step = StepDeliberationHeld
	case TopicResultDisclosed:
		t.step = StepResultDisclosed
	case TopicFeedbackRecorded:
		t.step, t.closed = StepFeedbackRecorded, e.Closed
	}
}

// Step returns the last step taken.
func (t *Topic) Step() Step { return t.step }

// Errors of the deliberation flow.
var (
	ErrTopicNotFound    = kernel.NotFound("topic-not-found", "该议题尚未征集")
	ErrTopicExists      = kernel.Conflict("topic-already-collected", "该议题已征集")
	ErrStepOutOfOrder   = kernel.Rejected("topic-step-out-of-order", "议事协商须按五步顺序进行")
	ErrTopicNotAccepted = kernel.Rejected("topic-not-accepted", "该议题筛选未通过，不再协商")
	ErrTopicClosed      = kernel.Conflict("topic-closed", "该议题已办结")
)

// next checks that step s is the next one (feedback may repeat until closed).
func (t *Topic) next(s Step) error {
	if t.step == StepNone {
		return ErrTopicNotFound
	}
	if t.rejected {
		return ErrTopicNotAccepted
	}
	if t.closed {
		return ErrTopicClosed
	}
	if s == t.step+1 || (s == StepFeedbackRecorded && t.step == StepFeedbackRecorded) {
		return nil
	}
	return ErrStepOutOfOrder.WithMsg("议事协商须按顺序进行：当前已完成“%s”，下一步应为“%s”，不能进行“%s”", t.step, t.step+1, s)
}

// Collect records a topic (step 1).
func (t *Topic) Collect(id string, ch Channel, summary string, raiser *kernel.PersonalData, now time.Time) ([]kernel.Event, error) {
	if t.step != StepNone {
		return nil, ErrTopicExists
	}
	if err := kernel.Required(id, "topic_id", "议题编号"); err != nil {
		return nil, err
	}
	if !ch.Valid() {
		return nil, kernel.Invalid("invalid-channel", "channel", "议题来源须为 home-visit、hotline、wechat、qr-code、forum 或 other")
	}
	if err := kernel.Required(summary, "summary", "议题内容"); err != nil {
		return nil, err
	}
	if raiser != nil && raiser.Subject == "" {
		return nil, kernel.Invalid("required", "personal.subject", "提出人不能为空")
	}
	return []kernel.Event{TopicCollected{TopicID: id, Channel: ch, Summary: summary, Raiser: raiser, CollectedAt: now.UTC()}}, nil
}

// Screen records the screening (step 2); a reason is required either way.
func (t *Topic) Screen(accepted bool, reason string, now time.Time) ([]kernel.Event, error) {
	if err := t.next(StepScreened); err != nil {
		return nil, err
	}
	if err := kernel.Required(reason, "reason", "筛选理由"); err != nil {
		return nil, err
	}
	return []kernel.Event{TopicScreened{TopicID: t.id, Accepted: accepted, Reason: reason, ScreenedAt: now.UTC()}}, nil
}

// DraftPlan records the plan (step 3); planSHA256 is optional.
func (t *Topic) DraftPlan(plan, planSHA256 string, now time.Time) ([]kernel.Event, error) {
	if err := t.next(StepPlanDrafted); err != nil {
		return nil, err
	}
	if err := kernel.Required(plan, "plan", "议事方案"); err != nil {
		return nil, err
	}
	if planSHA256 != "" {
		if err := kernel.CheckSHA256(planSHA256, "plan_sha256"); err != nil {
			return nil, err
		}
	}
	return []kernel.Event{TopicPlanDrafted{TopicID: t.id, Plan: plan, PlanSHA256: planSHA256, DraftedAt: now.UTC()}}, nil
}

// GiveNotice records the notice (step 4) of a deliberation at deliberationAt.
func (t *Topic) GiveNotice(notice string, deliberationAt, now time.Time) ([]kernel.Event, error) {
	if err := t.next(StepNoticeGiven); err != nil {
		return nil, err
	}
	if err := kernel.Required(notice, "notice", "告知内容"); err != nil {
		return nil, err
	}
	if deliberationAt.IsZero() {
		return nil, kernel.Invalid("required", "deliberation_at", "协商时间不能为空")
	}
	return []kernel.Event{TopicNoticeGiven{TopicID: t.id, Notice: notice, DeliberationAt: deliberationAt.UTC(), GivenAt: now.UTC()}}, nil
}

// HoldDeliberation records the deliberation (step 5) in meeting meetingID.
func (t *Topic) HoldDeliberation(meetingID, outcome string, now time.Time) ([]kernel.Event, error) {
	if err := t.next(StepDeliberationHeld); err != nil {
		return nil, err
	}
	if err := kernel.Required(meetingID, "meeting_id", "协商会议"); err != nil {
		return nil, err
	}
	if err := kernel.Required(outcome, "outcome", "协商结果"); err != nil {
		return nil, err
	}
	return []kernel.Event{TopicDeliberationHeld{TopicID: t.id, MeetingID: meetingID, Outcome: outcome, HeldAt: now.UTC()}}, nil
}

// DiscloseResult records the disclosure of the outcome by disclosureID.
func (t *Topic) DiscloseResult(disclosureID string, now time.Time) ([]kernel.Event, error) {
	if err := t.next(StepResultDisclosed); err != nil {
		return nil, err
	}
	if err := kernel.Required(disclosureID, "disclosure_id", "公开记录"); err != nil {
		return nil, err
	}
	return []kernel.Event{TopicResultDisclosed{TopicID: t.id, DisclosureID: disclosureID, DisclosedAt: now.UTC()}}, nil
}

// RecordFeedback records implementation and feedback; closed ends the loop.
func (t *Topic) RecordFeedback(feedback string, closed bool, now time.Time) ([]kernel.Event, error) {
	if err := t.next(StepFeedbackRecorded); err != nil {
		return nil, err
	}
	if err := kernel.Required(feedback, "feedback", "落实反馈"); err != nil {
		return nil, err
	}
	return []kernel.Event{TopicFeedbackRecorded{TopicID: t.id, Feedback: feedback, Closed: closed, RecordedAt: now.UTC()}}, nil
}
