package workload

import (
	"fmt"
	"time"

	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// noticePlan is a notice to put on the public board.
type noticePlan struct {
	id         string
	category   disclosure.Category
	from, to   time.Time // the period covered
	title      string
	text       string
	windowDays int
	refs       []disclosure.Ref // the facts disclosed, with when they happened as their streams say
	deps       []string         // the streams of those facts
	attachment string           // name of an attached document, if any
}

// notice is a published notice the community may still correct, withdraw or receive objections on.
type notice struct {
	id, stream string
	n          *disclosure.Notice
	title      string
	text       string
	windowEnd  time.Time
	objections int
}

// publish puts a notice on the board now.
func (c *comm) publish(p noticePlan) *notice {
	n := &notice{id: p.id, stream: disclosure.Stream(c.info.ID, p.id), n: &disclosure.Notice{}, title: p.title, text: p.text}
	var atts []disclosure.Attachment
	if p.attachment != "" {
		atts = []disclosure.Attachment{{Name: p.attachment + ".pdf", SHA256: c.document("notice", p.id, p.attachment)}}
	}
	if p.to.Before(p.from) {
		p.to = p.from
	}
	w := disclosure.Window{Start: c.now, End: c.now.Add(days(p.windowDays))}
	n.windowEnd = w.End
	evs, err := n.n.Publish(disclosure.Publish{
		NoticeID: p.id, Category: p.category, Period: disclosure.Period{From: p.from, To: p.to}, Title: p.title,
		Text: p.text, Attachments: atts, Window: w, Refs: p.refs,
	}, c.params, c.now)
	apply(n.n, c.record(c.clerk, n.stream, p.deps, evs, err))
	// Objections come within the window and are answered within days; then the notice is history.
	c.at(w.End.Add(days(15)), func() { c.done(n.stream) })
	return n
}

var objectionTexts = []struct{ text, answer string }{
	{"部分支出金额偏高，请说明采购方式", "该项采购经两委联席会议研究，按三家比价确定供应商，比价记录已存档，可到社区查阅"},
	{"请公开保洁服务合同的签订情况", "保洁服务合同经居民代表会议同意后签订，合同文本已在公开栏补充公示"},
	{"补贴发放名单与实际人员不符", "经核实，名单中一人已于上月离岗，补贴已停发，本次公示内容无误"},
	{"公示内容不够详细，看不懂", "已在公开栏补充明细说明，并安排工作人员现场解答"},
	{"工程款支付进度是否符合合同约定", "工程款按合同约定的进度节点支付，监理单位已出具进度确认单"},
}

// objections raises, with the given probability in percent, a resident's objection during the notice's
// window and answers it some days later.
func (c *comm) objections(n *notice, percent float64) {
	if !c.chance(percent) {
		return
	}
	left := int(n.windowEnd.Sub(c.now) / (24 * time.Hour))
	if left < 2 {
		return
	}
	o := objectionTexts[c.pick(len(objectionTexts))]
	c.after(days(1+c.pick(left-1))+hours(c.pick(8)), func() {
		n.objections++
		id := fmt.Sprintf("o%d", n.objections)
		objector := c.newPerson(c.now, 25, 75)
		evs, err := n.n.RaiseObjection(id, o.text, *objector.personal(false), c.now)
		apply(n.n, c.record(c.clerk, n.stream, nil, evs, err))
		c.after(days(2+c.pick(6))+hours(c.pick(6)), func() {
			evs, err := n.n.AnswerObjection(id, o.answer, c.now)
			apply(n.n, c.record(c.clerk, n.stream, nil, evs, err))
		})
	})
}

// allocationRef is an allocation of the current quarter, for the quarterly statement.
type allocationRef struct {
	year int
	id   string
	at   time.Time
}

// quarterTotals accumulate what the quarterly notices report.
type quarterTotals struct {
	allocated, spent kernel.Fen
	allocations      []allocationRef
	meetings, topics int
}

// scheduleQuarterly publishes, early in the first month of a quarter, the notices about the quarter
// that ended: the financial statement (财务收支公开), the affairs notice (村务/居务公开) and the party
// affairs notice (党务公开).
func (c *comm) scheduleQuarterly(y int, m time.Month) {
	q := c.quarter
	c.quarter = quarterTotals{}
	py, pq := y, (int(m)-1)/3 // the quarter that ended: 0 means the fourth of last year
	if pq == 0 {
		py, pq = y-1, 4
	}
	from := day(py, time.Month(3*pq-2), 1, 0, 0)
	if from.Before(c.g.plan.start) {
		from = c.g.plan.start
	}
	to := day(y, m, 1, 0, 0).Add(-time.Second)
	label := fmt.Sprintf("%d年第%s季度", py, []string{"", "一", "二", "三", "四"}[pq])
	c.at(c.office(day(y, m, 5+c.pick(8), 0, 0)), func() {
		refs := make([]disclosure.Ref, 0, len(q.allocations))
		var deps []string
		for _, a := range q.allocations {
			refs = append(refs, disclosure.Ref{Kind: disclosure.RefBudget, ID: a.id, OccurredAt: a.at})
			deps = append(deps, funds.BudgetStream(c.info.ID, a.year))
		}
		text := fmt.Sprintf("%s财务收支情况：本季度收到拨款%s，支出%s。收支明细及凭证已在公开栏公示，欢迎监督。", label, q.allocated, q.spent)
		n := c.publish(noticePlan{
			id: fmt.Sprintf("%d-q%d-finance", py, pq), category: disclosure.Finance, from: from, to: to,
			title: label + "财务收支公开", text: text, windowDays: 10, refs: refs, deps: deps, attachment: "财务收支明细表",
		})
		c.objections(n, 12)
		shown := c.planted(showCorrection)
		if c.chance(4) || shown {
			c.after(days(1+c.pick(3)), func() {
				evs, err := n.n.Correct(disclosure.Correct{
					Title: n.title, Text: n.text + "（更正：原公示支出合计有笔误，以本版为准）", Reason: "支出合计笔误",
				}, c.now)
				apply(n.n, c.record(c.clerk, n.stream, nil, evs, err))
			})
		}
	})
	if c.affairsNotices > 0 && c.planted(plantSkippedAffairs) {
		c.plant(plantSkippedAffairs)
	} else {
		c.affairsNotices++
		c.at(c.office(day(y, m, 8+c.pick(8), 0, 0)), func() {
			name := c.committeeName()
			text := fmt.Sprintf("%s%s事项：召开各类会议%d次，收集居民议题%d件，均已按程序办理。详见公开栏。", label, name, q.meetings, q.topics)
			id := fmt.Sprintf("%d-q%d-affairs", py, pq)
			n := c.publish(noticePlan{id: id, category: disclosure.Affairs, from: from, to: to, title: label + name + "公开", text: text, windowDays: 30})
			shown := c.planted(showWithdrawal)
			if c.chance(1.5) || shown {
				c.after(hours(3+c.pick(20)), func() {
					evs, err := n.n.Withdraw("内容有误，撤回后重新发布", c.now)
					apply(n.n, c.record(c.clerk, n.stream, nil, evs, err))
					c.after(hours(2), func() {
						c.publish(noticePlan{id: id + "-r", category: disclosure.Affairs, from: from, to: to,
							title: label + name + "公开（重新发布）", text: text, windowDays: 30})
					})
				})
			}
		})
	}
	if c.chance(80) {
		c.at(c.office(day(y, m, 10+c.pick(8), 0, 0)), func() {
			c.publish(noticePlan{
				id: fmt.Sprintf("%d-q%d-party", py, pq), category: disclosure.Party, from: from, to: to,
				title: label + "党务公开", text: label + "党组织开展主题党日活动、发展党员、党费收缴等情况，详见公开栏。", windowDays: 15,
			})
		})
	}
}
