package workload

import (
	"fmt"
	"time"

	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
)

var channels = []meeting.Channel{meeting.HomeVisit, meeting.Hotline, meeting.WeChat, meeting.QRCode, meeting.Forum, meeting.OtherSource}

// scheduleTopics schedules the year's deliberation topics (three to six a community).
func (c *comm) scheduleTopics(y int, next time.Time) {
	for range 3 + c.pick(4) {
		at := c.office(day(y, time.January, 2, 0, 0).Add(days(c.pick(360))))
		if c.future(at) && at.Before(next) {
			c.at(at, func() { c.topic(y) })
		}
	}
}

// topic walks one topic through the five steps of deliberation (五步议事): collected, screened (some are
// not accepted), plan drafted, notice given, deliberated in a meeting; then the outcome is disclosed on
// the board and implementation fed back to residents until the topic is closed.
func (c *comm) topic(y int) {
	c.topicSeq[y]++
	id := fmt.Sprintf("%d-t%02d", y, c.topicSeq[y])
	stream := meeting.TopicStream(c.info.ID, id)
	t := &meeting.Topic{}
	issue := topicIssues[c.pick(len(topicIssues))]
	var raiser *kernel.PersonalData
	if c.chance(55) {
		raiser = c.newPerson(c.now, 20, 80).personal(false)
	}
	evs, err := t.Collect(id, channels[c.pick(len(channels))], issue.summary, raiser, c.now)
	apply(t, c.record(c.clerk, stream, nil, evs, err))
	c.quarter.topics++
	c.after(days(2+c.pick(6)), func() {
		if c.chance(12) {
			evs, err := t.Screen(false, topicRejections[c.pick(len(topicRejections))], c.now)
			apply(t, c.record(c.clerk, stream, nil, evs, err))
			c.done(stream)
			return
		}
		evs, err := t.Screen(true, "符合“三议三不议”要求，列入议事协商", c.now)
		apply(t, c.record(c.clerk, stream, nil, evs, err))
		c.after(days(3+c.pick(8)), func() {
			plan := fmt.Sprintf("议题：%s。参加人员：居民代表、物业、共建单位代表。协商方式：议事协商会。", issue.summary)
			evs, err := t.DraftPlan(plan, c.document("plan", id), c.now)
			apply(t, c.record(c.clerk, stream, nil, evs, err))
			c.after(days(2+c.pick(4)), func() {
				at := c.office(c.now.Add(days(5 + c.pick(6))))
				evs, err := t.GiveNotice(fmt.Sprintf("定于%s召开议事协商会，协商“%s”，请相关人员参加。", at.In(cst).Format("1月2日15:04"), issue.summary), at, c.now)
				apply(t, c.record(c.clerk, stream, nil, evs, err))
				c.at(at, func() { c.deliberate(y, id, t, stream, issue.summary, issue.outcome) })
			})
		})
	})
}

func (c *comm) deliberate(y int, id string, t *meeting.Topic, stream, summary, outcome string) {
	c.holdMeeting(meetingPlan{
		id: c.nextMeetingID(y, "deliberation"), kind: meeting.Deliberation, basis: meeting.BasisInvitees,
		expected: 15 + c.pick(26), topicID: id, title: "议事协商会：" + summary,
		closed: func(meetingID string, _ time.Time) {
			c.after(hours(1), func() {
				evs, err := t.HoldDeliberation(meetingID, outcome, c.now)
				apply(t, c.record(c.clerk, stream, []string{meeting.Stream(c.info.ID, meetingID)}, evs, err))
				held := c.now.UTC()
				c.after(days(1+c.pick(3)), func() { c.discloseTopic(id, t, stream, summary, outcome, held) })
			})
		},
	})
}

func (c *comm) discloseTopic(id string, t *meeting.Topic, stream, summary, outcome string, held time.Time) {
	n := c.publish(noticePlan{
		id: id + "-outcome", category: disclosure.Affairs, from: held, to: held,
		title: "议事协商结果公开：" + summary, text: "协商结果：" + outcome + "。", windowDays: 7,
		refs: []disclosure.Ref{{Kind: disclosure.RefTopic, ID: id, OccurredAt: held}}, deps: []string{stream},
	})
	c.after(hours(1+c.pick(4)), func() {
		evs, err := t.DiscloseResult(n.id, c.now)
		apply(t, c.record(c.clerk, stream, []string{n.stream}, evs, err))
		feedback := func(closed bool) {
			text := "已按协商结果组织实施，并向提出议题的居民反馈。"
			if !closed {
				text = "已启动实施，进展情况将在公开栏持续更新。"
			}
			evs, err := t.RecordFeedback(text, closed, c.now)
			apply(t, c.record(c.clerk, stream, nil, evs, err))
			if closed {
				c.done(stream)
			}
		}
		if c.chance(40) {
			c.after(days(10+c.pick(20)), func() {
				feedback(false)
				c.after(days(20+c.pick(40)), func() { feedback(true) })
			})
			return
		}
		c.after(days(10+c.pick(30)), func() { feedback(true) })
	})
}
