package workload

import (
	"fmt"
	"time"

	"github.com/grassroots-ledger/ledger/domain/audit"
	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rectification"
)

// scheduleAudits schedules the regular audits of the year (定期审计, every six months): in January the
// second half of last year, in July the first half of this one.
func (c *comm) scheduleAudits(y int) {
	for half, m := range []time.Month{time.January, time.July} {
		at := c.office(day(y, m, 10+c.pick(15), 0, 0))
		if c.future(at) {
			c.at(at, func() { c.regularAudit(y, half) })
		}
	}
}

func (c *comm) auditor() string {
	if c.info.Kind == kernel.Rural {
		return c.district.Name + "农村集体经济管理站"
	}
	return c.district.Name + "民政局社区财务审计组"
}

func (c *comm) regularAudit(y, half int) {
	if c.audits > 0 && c.planted(plantSkippedAudit) {
		c.plant(plantSkippedAudit)
		return
	}
	c.audits++
	from, to := day(y-1, time.July, 1, 0, 0), day(y, time.January, 1, 0, 0).Add(-time.Second)
	label := fmt.Sprintf("%d年下半年", y-1)
	if half == 1 {
		from, to = day(y, time.January, 1, 0, 0), day(y, time.July, 1, 0, 0).Add(-time.Second)
		label = fmt.Sprintf("%d年上半年", y)
	}
	id := fmt.Sprintf("%d-regular-%d", y, half+1)
	c.runAudit(audit.Open{AuditID: id, Kind: audit.Regular, Auditor: c.auditor(), Period: audit.Period{From: from, To: to}},
		label+"财务收支定期审计", days(12+c.pick(14)))
}

// exitAudit audits the outgoing chair before the general election (离任审计).
func (c *comm) exitAudit(y int) {
	chair := c.term.chair()
	c.audits++
	c.runAudit(audit.Open{
		AuditID: fmt.Sprintf("%d-exit-%s", y, chair.id), Kind: audit.Exit, Subject: chair.id, Personal: chair.personal(false),
		Auditor: c.district.Name + "审计局", Period: audit.Period{From: day(y-5, time.January, 1, 0, 0), To: c.now.Add(-days(1))},
	}, fmt.Sprintf("%s主任任期经济责任（离任）审计", c.committeeName()), days(15+c.pick(10)))
}

// runAudit opens an audit, records its findings, closes it and discloses the result within 24 hours
// (days late, or never, when planted).
func (c *comm) runAudit(o audit.Open, title string, duration time.Duration) {
	stream := audit.Stream(c.info.ID, o.AuditID)
	a := &audit.Audit{}
	evs, err := a.Open(o, c.params, c.now)
	apply(a, c.record(c.clerk, stream, nil, evs, err))
	c.auditAt = c.now
	nf := []int{0, 0, 1, 1, 1, 2, 2, 3}[c.pick(8)]
	worst := audit.Observation
	for i := range nf {
		f := auditFindings[c.pick(len(auditFindings)-2)]
		if c.chance(6) {
			f = auditFindings[len(auditFindings)-2+c.pick(2)]
		}
		sev := audit.FindingSeverity(f.sev)
		if sev == audit.Major || sev == audit.Minor && worst == audit.Observation {
			worst = sev
		}
		var amount kernel.Fen
		if sev != audit.Observation {
			amount = c.yuan(500, 60000)
		}
		c.after(duration*time.Duration(i+1)/time.Duration(nf+2), func() {
			evs, err := a.RecordFinding(fmt.Sprintf("f%d", i+1), sev, f.text, amount, c.now)
			apply(a, c.record(c.clerk, stream, nil, evs, err))
		})
	}
	c.after(duration, func() {
		result, summary := audit.Clean, "未发现违规问题，财务管理规范。"
		switch {
		case worst == audit.Major && c.chance(30):
			result, summary = audit.Referred, "发现重大问题，已移交纪检监察机关处理。"
		case worst != audit.Observation:
			result, summary = audit.IssuesFound, "发现问题已责令限期整改，整改情况将另行公开。"
		}
		evs, err := a.Close(result, summary, c.document("audit-report", o.AuditID), c.now)
		apply(a, c.record(c.clerk, stream, nil, evs, err))
		closed := c.now.UTC()
		if result == audit.IssuesFound { // 责令限期整改: the same path as an inspection's findings
			c.advance(minutes(30))
			c.orderRectification(o.AuditID+"-z1", stream, rectification.Source{Kind: rectification.Audit, ID: o.AuditID, FindingID: "f1",
				Finding: "审计发现的一项问题"}, "按审计意见限期整改并报告整改情况")
		}
		c.done(stream)
		delay := hours(2 + c.pick(18))
		switch {
		case c.planted(plantUndisclosedRes) || c.chance(0.1):
			c.plant(plantUndisclosedRes)
			return
		case c.planted(plantLateResults) || c.chance(2.5):
			c.plant(plantLateResults)
			delay = hours(30 + c.pick(50))
		}
		c.after(delay, func() {
			c.publish(noticePlan{
				id: o.AuditID + "-audit-result", category: disclosure.Audit, from: o.Period.From, to: o.Period.To,
				title: title + "结果公告", text: fmt.Sprintf("%s：%s审计单位：%s。", title, summary, o.Auditor), windowDays: 7,
				refs: []disclosure.Ref{{Kind: disclosure.RefAudit, ID: o.AuditID, OccurredAt: closed}},
				deps: []string{stream}, attachment: "审计报告",
			})
		})
	})
}
