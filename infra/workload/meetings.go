package workload

import (
	"fmt"
	"strings"
	"time"

	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// motionPlan is a motion put to a meeting. A motion with a subject becomes a resolution when it passes.
type motionPlan struct {
	title, text string
	fail        bool
	subject     meeting.Subject
	ceiling     kernel.Fen
	project     *project
}

// meetingPlan is a meeting to hold.
type meetingPlan struct {
	id, title string
	kind      meeting.Kind
	basis     meeting.Basis
	expected  int // for assemblies, the registered households at the time
	topicID   string
	motions   []motionPlan
	disclose  bool                          // publish the resolutions (assemblies, representatives' meetings)
	closed    func(id string, at time.Time) // called when the meeting has closed
}

// nextMeetingID numbers a year's meetings of one kind: "2025-assembly-1".
func (c *comm) nextMeetingID(y int, kind string) string {
	key := fmt.Sprintf("%d-%s", y, kind)
	c.meetingSeq[key]++
	return fmt.Sprintf("%s-%d", key, c.meetingSeq[key])
}

// atLeast is the smallest part of whole that meets t.
func atLeast(t rulebook.Threshold, whole int) int {
	n := int(int64(whole) * t.Num / t.Den)
	for n > 0 && t.Met(int64(n-1), int64(whole)) {
		n--
	}
	for !t.Met(int64(n), int64(whole)) {
		n++
	}
	return n
}

// attendance draws how many came: a quorum with some margin where the rulebook requires one.
func (c *comm) attendance(p meetingPlan) int {
	var least int
	switch p.basis {
	case meeting.BasisHouseholds:
		least = atLeast(c.params.Threshold(rulebook.MeetingQuorum, rulebook.ParamAssemblyHouseholds), p.expected)
	case meeting.BasisAdults:
		least = atLeast(c.params.Threshold(rulebook.MeetingQuorum, rulebook.ParamAssemblyAdults), p.expected)
	case meeting.BasisMembers:
		least = atLeast(c.params.Threshold(rulebook.MeetingQuorum, rulebook.ParamRepresentativesPresent), p.expected)
	default:
		least = p.expected * 6 / 10
	}
	extra := (p.expected - least) * c.between(10, 75) / 100
	return min(p.expected, max(1, least+extra))
}

// votes draws a vote among present: passed by a majority, or failed without one.
func (c *comm) votes(present int, fail bool) (yes, no, abstain int) {
	majority := atLeast(c.params.Threshold(rulebook.MeetingQuorum, rulebook.ParamDecision), present)
	if fail {
		yes = min(majority-1, present*c.between(15, 45)/100)
	} else {
		yes = max(majority, present*c.between(62, 97)/100)
	}
	yes = max(0, min(yes, present))
	rest := present - yes
	no = rest * c.between(30, 80) / 100
	abstain = (rest - no) * c.between(50, 100) / 100
	return yes, no, abstain
}

// holdMeeting records a meeting now: convened, attendance, motions with their votes and resolutions,
// closed; the minutes follow within 48 hours (or late, or never, when planted); an assembly's or
// representatives' meeting's resolutions are disclosed within 24 hours.
func (c *comm) holdMeeting(p meetingPlan) {
	stream := meeting.Stream(c.info.ID, p.id)
	m := &meeting.Meeting{}
	var deps []string
	if p.topicID != "" {
		deps = []string{meeting.TopicStream(c.info.ID, p.topicID)}
	}
	if p.kind == meeting.Assembly {
		p.expected = c.households // the registered figure, as the handler takes it
	}
	heldAt := c.now
	evs, err := m.Convene(meeting.Convene{
		MeetingID: p.id, Kind: p.kind, Title: p.title, Basis: p.basis, Expected: p.expected, TopicID: p.topicID, HeldAt: heldAt,
	}, c.now)
	apply(m, c.record(c.clerk, stream, deps, evs, err))
	c.quarter.meetings++
	present := c.attendance(p)
	c.advance(minutes(10))
	evs, err = m.RecordAttendance(present, c.now)
	apply(m, c.record(c.clerk, stream, nil, evs, err))
	var resolutions []meeting.ResolutionAdopted
	type decided struct {
		pr  *project
		res meeting.ResolutionAdopted
	}
	var projects []decided
	for i, mo := range p.motions {
		motionID := fmt.Sprintf("m%d", i+1)
		c.advance(minutes(15 + c.pick(20)))
		evs, err = m.TableMotion(motionID, mo.title, mo.text, c.now)
		apply(m, c.record(c.clerk, stream, nil, evs, err))
		c.advance(minutes(10 + c.pick(25)))
		yes, no, abstain := c.votes(present, mo.fail)
		outcome := meeting.Passed
		if mo.fail {
			outcome = meeting.Failed
		}
		evs, err = m.RecordVote(meeting.RecordVote{MotionID: motionID, For: yes, Against: no, Abstain: abstain, Outcome: outcome}, c.params, c.now)
		apply(m, c.record(c.clerk, stream, nil, evs, err))
		if mo.fail || mo.subject == "" {
			continue
		}
		c.advance(minutes(2))
		projectName := ""
		if mo.project != nil {
			projectName = mo.project.name
		}
		evs, err = m.AdoptResolution(meeting.AdoptResolution{
			ResolutionID: fmt.Sprintf("r%d", len(resolutions)+1), MotionID: motionID, Subject: mo.subject,
			Ceiling: mo.ceiling, Project: projectName, Text: fmt.Sprintf("会议表决通过（到会%d，赞成%d，反对%d，弃权%d）：同意%s。", present, yes, no, abstain, strings.TrimPrefix(mo.title, "关于")),
		}, c.now)
		for _, e := range c.record(c.clerk, stream, nil, evs, err) {
			m.Apply(e)
			if r, ok := e.(meeting.ResolutionAdopted); ok {
				resolutions = append(resolutions, r)
				if mo.project != nil {
					projects = append(projects, decided{mo.project, r})
				}
			}
		}
	}
	c.advance(minutes(20 + c.pick(40)))
	evs, err = m.Close(time.Time{}, c.now)
	apply(m, c.record(c.clerk, stream, nil, evs, err))
	closedAt := c.now
	c.minutes(m, p.id, stream, len(projects) > 0)
	if p.disclose && len(resolutions) > 0 {
		c.discloseResolutions(p, heldAt, resolutions)
	}
	for _, d := range projects {
		c.carryOut(d.pr, d.res, m, stream)
	}
	if p.closed != nil {
		p.closed(p.id, closedAt)
	}
}

// minutes records the meeting's minutes within 48 hours, or late or never when planted. The stream of a
// meeting that decided projects stays open: the approvals of their instalments reserve its ceilings.
func (c *comm) minutes(m *meeting.Meeting, id, stream string, open bool) {
	done := func() {
		if !open {
			c.done(stream)
		}
	}
	delay := hours(2 + c.pick(36))
	switch {
	case c.planted(plantMissingMinutes) || c.chance(0.2):
		c.plant(plantMissingMinutes)
		done()
		return
	case c.planted(plantLateMinutes) || c.chance(1):
		c.plant(plantLateMinutes)
		delay = hours(60 + c.pick(100))
	}
	c.after(delay, func() {
		evs, err := m.RecordMinutes(c.document("minutes", id), c.params, c.now)
		apply(m, c.record(c.clerk, stream, nil, evs, err))
		done()
	})
}

// discloseResolutions publishes a meeting's resolutions (决议公开), within 24 hours: major matters must be
// disclosed at once. Planted or now and then, it comes days late (a disclosure-frequency breach).
func (c *comm) discloseResolutions(p meetingPlan, heldAt time.Time, rs []meeting.ResolutionAdopted) {
	delay := hours(3 + c.pick(17))
	if c.planted(plantLateResolution) || c.chance(1) {
		c.plant(plantLateResolution)
		delay = hours(30 + c.pick(40))
	}
	c.after(delay, func() {
		refs := []disclosure.Ref{{Kind: disclosure.RefMeeting, ID: p.id, OccurredAt: heldAt.UTC()}}
		var b strings.Builder
		fmt.Fprintf(&b, "%s于%s召开，形成决议如下：\n", p.title, heldAt.In(cst).Format("2006年1月2日"))
		for _, r := range rs {
			refs = append(refs, disclosure.Ref{Kind: disclosure.RefResolution, ID: r.ResolutionID, OccurredAt: r.AdoptedAt})
			b.WriteString(r.Text)
			if r.Subject == meeting.MajorSpending {
				fmt.Fprintf(&b, "（重大开支，金额上限%s）", r.Ceiling)
			}
			b.WriteString("\n")
		}
		n := c.publish(noticePlan{
			id: p.id + "-resolutions", category: disclosure.Resolution, from: heldAt, to: heldAt,
			title: p.title + "决议公告", text: b.String(), windowDays: 7,
			refs: refs, deps: []string{meeting.Stream(c.info.ID, p.id)}, attachment: "会议决议",
		})
		c.objections(n, 3)
	})
}

// scheduleAssemblies schedules the year's two residents' (villagers') assemblies: one at the start of
// the year (after the vote in an election year) and one at its end, with the year's major projects on
// their agendas; villages also decide projects in representatives' meetings. Planted, an urban
// community skips its year-end assembly once.
func (c *comm) scheduleAssemblies(y int) {
	h1 := c.office(day(y, time.February, 10, 0, 0).Add(days(c.pick(48))))
	if v, ok := c.voteDay(y); ok {
		h1 = c.office(v.Add(days(25 + c.pick(30))))
	}
	h2 := c.office(day(y, time.November, 1, 0, 0).Add(days(c.pick(50))))
	var first, second []*project
	for range []int{0, 1, 1, 1, 2, 2, 3}[c.pick(7)] {
		pr := c.newProject()
		switch {
		case c.info.Kind == kernel.Rural && c.chance(60):
			at := c.office(day(y, time.March, 1, 0, 0).Add(days(c.pick(220))))
			if c.future(at) {
				c.at(at, func() { c.representatives(y, pr) })
			}
		case c.future(h1) && c.chance(60):
			first = append(first, pr)
		default:
			second = append(second, pr)
		}
	}
	if c.future(h1) {
		c.at(h1, func() { c.assembly(y, 1, first) })
	}
	skip := c.info.Kind == kernel.Urban && c.future(h2) && c.planted(plantSkippedAssembly)
	if skip {
		c.plant(plantSkippedAssembly)
		for _, pr := range second {
			at := c.office(h2.Add(-days(20)))
			c.at(at, func() { c.representatives(y, pr) })
		}
	} else if c.future(h2) {
		c.at(h2, func() { c.assembly(y, 2, second) })
	}
	if at := c.office(day(y, time.April, 1, 0, 0).Add(days(c.pick(200)))); c.future(at) && (c.planted(plantUnauthorizedMajor) || c.chance(0.5)) {
		c.at(at, c.unauthorizedMajor)
	}
}

// future reports whether t is still to come.
func (c *comm) future(t time.Time) bool { return !t.Before(c.now) && t.Before(c.g.plan.end) }

func (c *comm) assemblyName() string {
	if c.info.Kind == kernel.Rural {
		return "村民会议"
	}
	return "居民会议"
}

func (c *comm) assembly(y, half int, projects []*project) {
	name := c.assemblyName()
	work := c.committeeName()
	p := meetingPlan{
		id: c.nextMeetingID(y, "assembly"), kind: meeting.Assembly, basis: meeting.BasisHouseholds, disclose: true,
		title: fmt.Sprintf("%s%d年第%d次%s", c.info.Name, y, half, name),
	}
	if half == 1 {
		p.motions = append(p.motions,
			motionPlan{title: fmt.Sprintf("关于审议%d年度%s工作报告和财务收支情况报告的议案", y-1, work), text: "听取并审议上年度工作报告及财务收支情况。", subject: meeting.OtherSubject},
			motionPlan{title: fmt.Sprintf("关于%d年度经费预算和重点工作安排的议案", y), text: "审议本年度经费预算方案和重点工作安排。", subject: meeting.OtherSubject})
	} else {
		p.motions = append(p.motions,
			motionPlan{title: fmt.Sprintf("关于审议%d年度%s工作总结的议案", y, work), text: "听取本年度工作总结，评议公开事项落实情况。", subject: meeting.OtherSubject})
	}
	p.motions = append(p.motions, c.projectMotions(projects)...)
	if c.chance(8) {
		p.motions = append(p.motions, motionPlan{title: failedMotions[c.pick(len(failedMotions))], text: "提请会议表决。", fail: true})
	}
	c.holdMeeting(p)
}

func (c *comm) projectMotions(projects []*project) []motionPlan {
	var out []motionPlan
	for _, pr := range projects {
		fail := c.chance(5)
		out = append(out, motionPlan{
			title:   fmt.Sprintf("关于实施%s的议案", pr.name),
			text:    fmt.Sprintf("项目预算%s，由%s按程序组织实施，资金来源为上级补助和集体资金。", pr.total, c.committeeName()+"委员会"),
			fail:    fail,
			subject: meeting.MajorSpending, ceiling: pr.total * kernel.Fen(100+c.pick(11)) / 100 / 100 * 100, project: pr,
		})
	}
	return out
}

// representatives holds a representatives' meeting (村民代表会议/居民代表会议) to decide a major project.
func (c *comm) representatives(y int, pr *project) {
	name := "居民代表会议"
	if c.info.Kind == kernel.Rural {
		name = "村民代表会议"
	}
	c.holdMeeting(meetingPlan{
		id: c.nextMeetingID(y, "reps"), kind: meeting.Representatives, basis: meeting.BasisMembers, disclose: true,
		expected: 25 + c.households/40, title: fmt.Sprintf("%s%d年%s（%s）", c.info.Name, y, name, pr.name),
		motions: c.projectMotions([]*project{pr}),
	})
}

// scheduleJointMeetings schedules the quarterly joint meetings of the two committees (两委联席会议).
func (c *comm) scheduleJointMeetings(y int) {
	for _, m := range []time.Month{time.February, time.May, time.August, time.November} {
		at := c.office(day(y, m, 3+c.pick(24), 0, 0))
		if !c.future(at) {
			continue
		}
		c.at(at, func() {
			p := meetingPlan{
				id: c.nextMeetingID(y, "joint"), kind: meeting.Joint, basis: meeting.BasisInvitees,
				expected: len(c.term.members) + 4 + c.pick(4), title: fmt.Sprintf("%s%d年%d月两委联席会议", c.info.Name, y, m),
			}
			for range 1 + c.pick(2) {
				t := jointMotions[c.pick(len(jointMotions))]
				p.motions = append(p.motions, motionPlan{title: t, text: "经两委研究讨论。", subject: meeting.OtherSubject})
			}
			c.holdMeeting(p)
		})
	}
}
