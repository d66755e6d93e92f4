package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
)

// Deliberation topics (五步议事: 征集、筛选、拟定方案、告知、协商 → 结果公开 → 落实反馈): one stream per topic,
// topic-<communityID>-<topicID>. The steps must come in order; the domain refuses a step out of order.

// topics are the deliberation topic streams of a community.
var topics = kind[*meeting.Topic]{"topic_id", meeting.TopicStream, meeting.RehydrateTopic}

// CollectTopic is step 1: a topic collected from residents (征集议题).
type CollectTopic struct {
	CommunityID string          `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	TopicID     string          `json:"topic_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"Id of the new topic"`
	Channel     meeting.Channel `json:"channel" doc:"How it was collected: home-visit 入户走访, hotline 热线, wechat 微信, qr-code 码上协商, forum 座谈会, portal 公开门户, other"`
	Summary     string          `json:"summary" minLength:"1" maxLength:"4000" doc:"What residents raised"`
	Raiser      *Personal       `json:"personal,omitempty" doc:"The resident who raised it, if recorded (subject required); never public"`
}

// CollectTopic handles collect-topic.
func (h *Handlers) CollectTopic(ctx context.Context, m Meta, c CollectTopic) (Result, error) {
	return affairAs(ctx, h, m, ResidentInput, c.CommunityID, topics, c.TopicID, func(t *meeting.Topic, f Facts) ([]kernel.Event, error) {
		return t.Collect(c.TopicID, c.Channel, c.Summary, c.Raiser.of(""), f.Now)
	})
}

// ScreenTopic is step 2: the two committees screen the topic (筛选议题, 三议三不议); a topic not accepted
// ends here.
type ScreenTopic struct {
	CommunityID string `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	TopicID     string `json:"topic_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The topic"`
	Accepted    bool   `json:"accepted" doc:"Whether the topic goes on to deliberation"`
	Reason      string `json:"reason" minLength:"1" maxLength:"4000" doc:"Why, either way"`
}

// ScreenTopic handles screen-topic.
func (h *Handlers) ScreenTopic(ctx context.Context, m Meta, c ScreenTopic) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, topics, c.TopicID, func(t *meeting.Topic, f Facts) ([]kernel.Event, error) {
		return t.Screen(c.Accepted, c.Reason, f.Now)
	})
}

// DraftTopicPlan is step 3: the deliberation plan (拟定议事方案).
type DraftTopicPlan struct {
	CommunityID string `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	TopicID     string `json:"topic_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The topic"`
	Plan        string `json:"plan" minLength:"1" maxLength:"20000" doc:"The plan"`
	PlanSHA256  string `json:"plan_sha256,omitempty" pattern:"^[0-9a-f]{64}$" doc:"SHA-256 of the plan document, if there is one"`
}

// DraftTopicPlan handles draft-topic-plan.
func (h *Handlers) DraftTopicPlan(ctx context.Context, m Meta, c DraftTopicPlan) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, topics, c.TopicID, func(t *meeting.Topic, f Facts) ([]kernel.Event, error) {
		return t.DraftPlan(c.Plan, c.PlanSHA256, f.Now)
	})
}

// GiveTopicNotice is step 4: participants are told when and what will be deliberated (告知协商事宜).
type GiveTopicNotice struct {
	CommunityID    string    `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	TopicID        string    `json:"topic_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The topic"`
	Notice         string    `json:"notice" minLength:"1" maxLength:"4000" doc:"What participants were told"`
	DeliberationAt time.Time `json:"deliberation_at" doc:"When the deliberation will take place (RFC 3339)"`
}

// GiveTopicNotice handles give-topic-notice.
func (h *Handlers) GiveTopicNotice(ctx context.Context, m Meta, c GiveTopicNotice) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, topics, c.TopicID, func(t *meeting.Topic, f Facts) ([]kernel.Event, error) {
		return t.GiveNotice(c.Notice, c.DeliberationAt, f.Now)
	})
}

// HoldTopicDeliberation is step 5: the deliberation took place (组织协商) in a meeting already recorded
// with convene-meeting.
type HoldTopicDeliberation struct {
	CommunityID string `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	TopicID     string `json:"topic_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The topic"`
	MeetingID   string `json:"meeting_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The deliberation meeting (must be convened)"`
	Outcome     string `json:"outcome" minLength:"1" maxLength:"20000" doc:"What was agreed"`
}

// HoldTopicDeliberation handles hold-topic-deliberation; the meeting must exist in the community.
func (h *Handlers) HoldTopicDeliberation(ctx context.Context, m Meta, c HoldTopicDeliberation) (Result, error) {
	if err := checkID(c.MeetingID, "meeting_id"); err != nil {
		return Result{}, err
	}
	return affair(ctx, h, m, c.CommunityID, topics, c.TopicID, func(t *meeting.Topic, f Facts) ([]kernel.Event, error) {
		if t.Step() != meeting.StepNone { // an unknown topic is the domain's error, not the meeting's
			if _, err := h.convened(ctx, f.Community.ID(), c.MeetingID, "meeting_id"); err != nil {
				return nil, err
			}
		}
		return t.HoldDeliberation(c.MeetingID, c.Outcome, f.Now)
	})
}

// DiscloseTopicResult records that the outcome was disclosed (协商结果公开) by a notice already published
// with publish-disclosure.
type DiscloseTopicResult struct {
	CommunityID  string `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	TopicID      string `json:"topic_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The topic"`
	DisclosureID string `json:"disclosure_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The notice that discloses the outcome (must be published)"`
}

// DiscloseTopicResult handles disclose-topic-result; the notice must exist in the community.
func (h *Handlers) DiscloseTopicResult(ctx context.Context, m Meta, c DiscloseTopicResult) (Result, error) {
	if err := checkID(c.DisclosureID, "disclosure_id"); err != nil {
		return Result{}, err
	}
	return affair(ctx, h, m, c.CommunityID, topics, c.TopicID, func(t *meeting.Topic, f Facts) ([]kernel.Event, error) {
		if t.Step() != meeting.StepNone {
			if _, err := h.notice(ctx, f.Community.ID(), c.DisclosureID, "disclosure_id"); err != nil {
				return nil, err
			}
		}
		return t.DiscloseResult(c.DisclosureID, f.Now)
	})
}

// RecordTopicFeedback records implementation and feedback to residents (落实反馈); it may be recorded
// several times, and closed ends the loop (办结).
type RecordTopicFeedback struct {
	CommunityID string `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	TopicID     string `json:"topic_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The topic"`
	Feedback    string `json:"feedback" minLength:"1" maxLength:"20000" doc:"What was done and told to residents"`
	Closed      bool   `json:"closed" doc:"Whether this closes the topic"`
}

// RecordTopicFeedback handles record-topic-feedback.
func (h *Handlers) RecordTopicFeedback(ctx context.Context, m Meta, c RecordTopicFeedback) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, topics, c.TopicID, func(t *meeting.Topic, f Facts) ([]kernel.Event, error) {
		return t.RecordFeedback(c.Feedback, c.Closed, f.Now)
	})
}

// topic looks up a collected topic of the community, or a NotFound error naming field.
func (h *Handlers) topic(ctx context.Context, communityID kernel.CommunityID, topicID, field string) ([]kernel.Event, error) {
	history, err := h.x.Load(ctx, meeting.TopicStream(communityID, topicID))
	if err != nil {
		return nil, fmt.Errorf("look up topic %s: %w", topicID, err)
	}
	if meeting.RehydrateTopic(history).Step() == meeting.StepNone {
		return nil, meeting.ErrTopicNotFound.WithField(field).WithMsg("议题 %s 尚未征集", topicID)
	}
	return history, nil
}
