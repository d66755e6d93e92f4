package workload

import (
	"fmt"
	"strings"
	"time"

	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	wk "github.com/grassroots-ledger/ledger/domain/worker"
)

// expenditure is one expenditure in flight.
type expenditure struct {
	id, stream   string
	x            *funds.Expenditure
	amount       kernel.Fen
	purpose      string
	public       string // the payee as the public board shows it: an organisation, or a masked name
	salary       bool
	readyAt      time.Time // paid at the first payday after this
	unauthorized bool      // a major expenditure paid without approval or resolution
	paidAt       time.Time
}

// request records a request to spend, charged to the current fiscal year, and returns the expenditure in
// flight.
func (c *comm) request(cat funds.Category, kind funds.Kind, purpose string, amount kernel.Fen, payee funds.Payee, project ...string) *expenditure {
	return c.requestIn(c.now.In(cst).Year(), cat, kind, purpose, amount, payee, project...)
}

// requestIn records a request to spend charged to fiscal year fy.
func (c *comm) requestIn(fy int, cat funds.Category, kind funds.Kind, purpose string, amount kernel.Fen, payee funds.Payee, project ...string) *expenditure {
	return c.requestWith(fy, funds.Request{Category: cat, Kind: kind, Purpose: purpose, Amount: amount, Payee: payee,
		Project: strings.Join(project, "")})
}

// requestWith records the request r (its id and fiscal year set here) after the streams deps.
func (c *comm) requestWith(fy int, r funds.Request, deps ...string) *expenditure {
	c.expSeq[fy]++
	e := &expenditure{id: fmt.Sprintf("%d-%04d", fy, c.expSeq[fy]), x: &funds.Expenditure{}, amount: r.Amount, purpose: r.Purpose}
	e.stream = funds.ExpenditureStream(c.info.ID, e.id)
	switch {
	case r.Payroll != nil && !r.Payroll.Public:
		e.public = wk.PublicPayee // one worker's pay is not public by name
	case r.Payee.Kind == funds.Organisation:
		e.public = r.Payee.Organisation
	default:
		e.public = kernel.MaskName(r.Payee.Personal.Name)
	}
	r.ExpenditureID, r.FiscalYear = e.id, fy
	evs, err := e.x.Request(r, c.now)
	apply(e.x, c.record(c.clerk, e.stream, deps, evs, err))
	return e
}

// left is what is left of e's budget line (its fiscal year and category) before e is approved.
func (c *comm) left(e *expenditure) kernel.Fen {
	return c.budget(e.x.FiscalYear()).Left(e.x.Category())
}
func individual(p *person) funds.Payee {
	return funds.Payee{Kind: funds.Individual, Person: p.id, Personal: p.personal(true)}
}

func organisation(name string) funds.Payee {
	return funds.Payee{Kind: funds.Organisation, Organisation: name}
}

// approve approves e (by the chair) the way approve-expenditure does: a reservation on the ceiling of the
// project's resolution (when it cites one), a commitment on the fiscal year's budget line, then the
// approval with what the budget said (budget-balance, split-spending). The expenditure then waits for the
// next payday.
func (c *comm) approve(e *expenditure, pr *project) {
	var ref *funds.ResolutionRef
	var deps []string
	if pr != nil && pr.resolution != nil {
		ref = funds.RefTo(*pr.resolution)
		deps = []string{pr.stream}
		evs, err := pr.meeting.ReserveCeiling(meeting.Reserve{ResolutionID: pr.resolution.ResolutionID, ExpenditureID: e.id,
			Amount: e.amount, Project: e.x.Project()}, c.now)
		apply(pr.meeting, c.record(c.clerk, pr.stream, nil, evs, err))
	}
	fy := e.x.FiscalYear()
	b := c.budget(fy)
	evs, got, err := b.Commit(funds.Commit{FiscalYear: fy, ExpenditureID: e.id, Category: e.x.Category(), Amount: e.amount,
		Payee: e.x.PayeeKey()}, c.params, c.now)
	apply(b, c.record(c.clerk, funds.BudgetStream(c.info.ID, fy), nil, evs, err))
	var committee []kernel.PersonID
	for _, m := range c.term.members {
		committee = append(committee, m.p.id)
	}
	evs, err = e.x.Approve(funds.Approve{By: c.term.chair().id, Committee: committee, Resolution: ref,
		Available: &got.Left, Splits: got.Splits}, c.params, c.now)
	apply(e.x, c.record(c.clerk, e.stream, deps, evs, err))
	e.readyAt = c.now
	c.payQueue = append(c.payQueue, e)
}

// cancel withdraws an approved expenditure before payment and gives its commitment back to the budget,
// as cancel-expenditure does.
func (c *comm) cancel(e *expenditure, reason string) {
	evs, err := e.x.Cancel(c.term.chair().id, reason, c.now)
	apply(e.x, c.record(c.clerk, e.stream, nil, evs, err))
	fy := e.x.FiscalYear()
	evs, err = c.budget(fy).Release(fy, e.id, "支出已撤销："+reason, c.now)
	apply(c.budget(fy), c.record(c.clerk, funds.BudgetStream(c.info.ID, fy), nil, evs, err))
	c.dropQueued(e)
	c.done(e.stream)
}

// reject refuses e.
func (c *comm) reject(e *expenditure, reason string) {
	evs, err := e.x.Reject(c.term.chair().id, reason, c.now)
	apply(e.x, c.record(c.clerk, e.stream, nil, evs, err))
	c.done(e.stream)
}

// decide approves e a few days after the request, or now and then rejects or (after approval) cancels it.
func (c *comm) decide(e *expenditure, rejectable bool) {
	c.after(days(1+c.pick(3))+hours(c.pick(6)), func() {
		switch {
		case rejectable && c.left(e) < e.amount:
			c.reject(e, "超出预算余额，暂缓支出") // the committee does not overspend a budget line
		case rejectable && c.chance(2.5):
			c.reject(e, []string{"附件不全，请补充发票后重新申请", "超出本月预算安排，暂缓支出", "用途不属于经费使用范围"}[c.pick(3)])
		default:
			c.approve(e, nil)
			if rejectable && c.chance(1.2) {
				c.after(hours(20+c.pick(30)), func() {
					if e.x.Status() == funds.Approved {
						c.cancel(e, "供应商无法按期供货，取消本次采购")
					}
				})
			}
		}
	})
}

func (c *comm) dropQueued(e *expenditure) {
	for i, q := range c.payQueue {
		if q == e {
			c.payQueue = append(c.payQueue[:i:i], c.payQueue[i+1:]...)
			return
		}
	}
}

// scheduleSalaries requests the month's basic pay on the 5th (with, in the first month of a quarter, the
// performance pay and bonuses that fall due), approves them by the 8th; they are paid on the 10th (one
// expenditure per worker and component: the payee is a person with personal data).
func (c *comm) scheduleSalaries(y int, m time.Month) {
	c.at(c.office(day(y, m, 5, 0, 0)), func() {
		label := fmt.Sprintf("%d年%d月社区工作者工资", y, m)
		if c.info.Kind == kernel.Rural {
			label = fmt.Sprintf("%d年%d月村工作人员工资", y, m)
		}
		var batch []*expenditure
		for _, w := range c.workers {
			batch = append(batch, c.requestPay(label, c.basicPay(w), w, c.payroll(w, wk.Basic, fmt.Sprintf("%d-%02d", y, m))))
			c.advance(minutes(2))
		}
		batch = append(batch, c.bonuses(y, m)...)
		c.at(c.office(day(y, m, 6+c.pick(3), 0, 0)), func() {
			c.topUpPayroll(y, batch)
			for _, e := range batch {
				c.approve(e, nil)
				c.advance(minutes(1))
			}
		})
	})
}

// topUpPayroll asks for a supplementary payroll allocation (薪酬追加) when the month's salaries exceed what
// is left of the year's: salaries are paid, and not beyond the budget.
func (c *comm) topUpPayroll(y int, batch []*expenditure) {
	need := kernel.Fen(0)
	for _, e := range batch {
		need += e.amount
	}
	if len(batch) == 0 {
		return
	}
	if short := need - c.left(batch[0]); short > 0 {
		c.allocate(y, fmt.Sprintf("salaries-%s", batch[0].id), funds.CountyFinance, funds.Salaries,
			(short+kernel.Yuan(10000)-1)/kernel.Yuan(10000)*kernel.Yuan(10000), fmt.Sprintf("%d年度社区工作者薪酬追加", y))
	}
}

// scheduleSpending draws the month's everyday expenditures from the operating and party-building funds,
// about a twelfth of the year's operating funds.
func (c *comm) scheduleSpending(y int, m time.Month) {
	budget := c.operatingFunds() / 12
	spent := kernel.Fen(0)
	for spent < budget {
		it := operatingItems[c.pick(len(operatingItems))]
		if it.rural && c.info.Kind != kernel.Rural || it.urban && c.info.Kind != kernel.Urban {
			continue
		}
		amount := c.yuan(it.min, it.max)
		spent += amount
		c.spendLater(y, m, funds.Operating, it, amount)
	}
	if c.chance(35) {
		it := partyItems[c.pick(len(partyItems))]
		c.spendLater(y, m, funds.PartyBuilding, it, c.yuan(it.min, it.max))
	}
}

// scheduleBudgetAnomaly schedules, in a community assigned one, the month's try at an expenditure
// approved beyond its budget line or a major expenditure split into parts.
func (c *comm) scheduleBudgetAnomaly(y int, m time.Month) {
	if !c.plants[plantOverBudget] && !c.plants[plantSplit] {
		return
	}
	c.at(c.office(day(y, m, 2+c.pick(18), 0, 0)), func() {
		switch {
		case c.planted(plantOverBudget):
			c.overspend()
		case c.planted(plantSplit):
			c.splitMajor()
		}
	})
}

// overspend requests more than is left of the party-building line, and the chair approves it anyway: the
// approval carries a budget-balance breach.
func (c *comm) overspend() {
	it := partyItems[c.pick(len(partyItems))]
	fy := c.now.In(cst).Year()
	amount := max(0, c.budget(fy).Left(funds.PartyBuilding)) + c.yuan(800, 3000)
	e := c.request(funds.PartyBuilding, funds.OtherKind, it.purpose, amount, organisation(fmt.Sprintf(it.payee, c.district.placeName())))
	c.after(days(1+c.pick(2)), func() {
		c.approve(e, nil)
		c.plant(plantOverBudget)
	})
}

// splitMajor splits a repair above the major threshold into three contracts with one contractor, each
// below it, approved within days of each other without a resolution: the third approval carries a
// split-spending breach naming the other two. The money itself was allocated (a special grant), so
// only the splitting is wrong.
func (c *comm) splitMajor() {
	y := c.now.In(cst).Year()
	what := []string{"村道破损路面修补", "小区围墙修缮", "排水沟渠清淤修复"}[c.pick(3)]
	payee := organisation(fmt.Sprintf(contractors[c.pick(len(contractors))], c.district.placeName()))
	parts := []kernel.Fen{c.yuan(17000, 24000), c.yuan(17000, 24000), c.yuan(17000, 24000)}
	sum := parts[0] + parts[1] + parts[2]
	c.allocate(y, fmt.Sprintf("repair-%s", c.now.In(cst).Format("0102")), funds.StreetFinance, funds.Project,
		(sum+kernel.Yuan(100)-1)/kernel.Yuan(100)*kernel.Yuan(100), what+"专项资金")
	for i, amount := range parts {
		c.after(days(1+3*i)+hours(c.pick(6)), func() {
			e := c.requestIn(y, funds.Project, funds.OtherKind, fmt.Sprintf("%s（第%d段）", what, i+1), amount, payee)
			c.after(days(1), func() {
				c.approve(e, nil)
				if i == len(parts)-1 {
					c.plant(plantSplit)
				}
			})
		})
	}
}

func (c *comm) spendLater(y int, m time.Month, cat funds.Category, it expenseItem, amount kernel.Fen) {
	c.at(c.office(day(y, m, 1+c.pick(24), 0, 0)), func() {
		var kind funds.Kind
		var payee funds.Payee
		if it.individual {
			kind, payee = funds.Allowance, individual(c.newPerson(c.now, 20, 70))
		} else {
			kind, payee = funds.OtherKind, organisation(fmt.Sprintf(it.payee, c.district.placeName()))
		}
		c.decide(c.request(cat, kind, it.purpose, amount, payee), true)
	})
}

// placeName is the short name shops and companies of the district carry ("龙湾").
func (d *District) placeName() string {
	return strings.TrimRight(strings.TrimSuffix(strings.TrimSuffix(d.Name, "区"), "县"), "市")
}

// payday pays, one after the other, what is approved (and, planted, a major expenditure nobody
// approved), then discloses the payments on the public board within 24 hours: salaries on their own
// notice.
func (c *comm) payday() {
	var due, keep []*expenditure
	for _, e := range c.payQueue {
		if e.readyAt.After(c.now) {
			keep = append(keep, e)
		} else {
			due = append(due, e)
		}
	}
	c.payQueue = keep
	c.pay(due, nil, nil)
}

func (c *comm) pay(due, paid, salaries []*expenditure) {
	if len(due) == 0 {
		t := c.now.In(cst)
		if len(salaries) > 0 {
			c.disclosePayments(salaries, fmt.Sprintf("%d年%d月工资发放公示", t.Year(), t.Month()),
				fmt.Sprintf("%d-%02d-payroll", t.Year(), t.Month()))
		}
		if len(paid) > 0 {
			c.disclosePayments(paid, fmt.Sprintf("%d年%d月%d日经费支出公示", t.Year(), t.Month(), t.Day()),
				fmt.Sprintf("%d-%02d%02d-payments", t.Year(), t.Month(), t.Day()))
		}
		return
	}
	e := due[0]
	if s := e.x.Status(); s == funds.Approved || s == funds.Requested && e.unauthorized {
		t := c.now.In(cst)
		c.voucherSeq++
		scale, deps := c.scale(e)
		evs, err := e.x.Pay(funds.Pay{VoucherNo: fmt.Sprintf("记-%d%02d-%04d", t.Year(), t.Month(), c.voucherSeq), Scale: scale}, c.params, c.now)
		apply(e.x, c.record(c.clerk, e.stream, deps, evs, err))
		e.paidAt = c.now.UTC()
		c.quarter.spent += e.amount
		if e.salary {
			salaries = append(salaries, e)
		} else {
			paid = append(paid, e)
		}
		c.done(e.stream)
	}
	c.after(minutes(1+c.pick(3)), func() { c.pay(due[1:], paid, salaries) })
}

// disclosePayments puts paid expenditures on the board, normally 2–20 hours after payment; planted or
// now and then, days late (a payment-disclosed breach), or one of them is left off (a deadline for the
// alert engine).
func (c *comm) disclosePayments(es []*expenditure, title, id string) {
	delay := hours(2 + c.pick(18))
	if c.planted(plantLatePayment) || c.chance(0.5) {
		delay = hours(50 + c.pick(40))
		c.plant(plantLatePayment)
	}
	if len(es) > 1 && (c.planted(plantUndisclosedPaid) || c.chance(0.05)) {
		es = es[:len(es)-1]
		c.plant(plantUndisclosedPaid)
	}
	c.after(delay, func() {
		var b strings.Builder
		refs := make([]disclosure.Ref, 0, len(es))
		deps := make([]string, 0, len(es))
		total := kernel.Fen(0)
		for _, e := range es {
			fmt.Fprintf(&b, "%s（%s） %s %s\n", e.purpose, e.id, e.public, e.amount)
			refs = append(refs, disclosure.Ref{Kind: disclosure.RefPayment, ID: e.id, OccurredAt: e.paidAt})
			deps = append(deps, e.stream)
			total += e.amount
		}
		fmt.Fprintf(&b, "合计 %s。如有异议，请于公示期内向%s监督委员会反映。", total, c.committeeName())
		from := es[0].paidAt
		n := c.publish(noticePlan{
			id: id, category: disclosure.Finance, from: from, to: es[len(es)-1].paidAt, title: title, text: b.String(),
			windowDays: 7, refs: refs, deps: deps, attachment: "支出凭证",
		})
		c.objections(n, 2)
	})
}

// project is a major expenditure (重大开支) decided by the assembly or the representatives' meeting
// (四议两公开), then funded, contracted and paid in one or two instalments.
type project struct {
	name       string
	total      kernel.Fen
	contractor string
	resolution *meeting.ResolutionAdopted
	meeting    *meeting.Meeting // the meeting that adopted it, whose stream holds the ceiling's reservations
	stream     string
	year       int // the fiscal year its funds were allocated to, which its instalments are charged to
}

// newProject draws a project for the year.
func (c *comm) newProject() *project {
	names := urbanProjects
	if c.info.Kind == kernel.Rural {
		names = ruralProjects
	}
	return &project{
		name:       names[c.pick(len(names))],
		total:      c.roundYuan(62000, 480000),
		contractor: fmt.Sprintf(contractors[c.pick(len(contractors))], c.district.placeName()),
	}
}

// carryOut follows an adopted major-spending resolution (the meeting discloses it within 24 hours):
// funds are allocated, and the instalments are requested, approved against the resolution and paid.
func (c *comm) carryOut(pr *project, res meeting.ResolutionAdopted, m *meeting.Meeting, stream string) {
	pr.resolution, pr.meeting, pr.stream = &res, m, stream
	c.after(days(5+c.pick(15)), func() {
		y := c.now.In(cst).Year()
		pr.year = y
		src := []funds.Source{funds.CountyFinance, funds.CountyFinance, funds.CentralProject, funds.Department, funds.SelfRaised, funds.AssetSwap}[c.pick(6)]
		c.allocate(y, fmt.Sprintf("proj-%s-%s", res.MeetingID, res.ResolutionID), src, funds.Project, pr.total, pr.name+"项目资金")
		first := pr.total
		if pr.total >= kernel.Yuan(150000) {
			first = pr.total * 6 / 10 / 100 * 100
		}
		c.after(days(10+c.pick(30)), func() { c.instalment(pr, first, "首期款") })
		if first < pr.total {
			c.after(days(70+c.pick(60)), func() { c.instalment(pr, pr.total-first, "尾款") })
		}
	})
}

func (c *comm) instalment(pr *project, amount kernel.Fen, what string) {
	e := c.requestIn(pr.year, funds.Project, funds.OtherKind, pr.name+what, amount, organisation(pr.contractor), pr.name)
	c.after(days(2+c.pick(3)), func() { c.approve(e, pr) })
}

// unauthorizedMajor is a major expenditure paid without a resolution: an urgent repair the committee
// paid before asking anyone. The payment is recorded with a major-matter-resolution breach.
func (c *comm) unauthorizedMajor() {
	what := []string{"办公楼屋面紧急抢修", "排涝泵站应急维修", "台风受损围墙紧急修复"}[c.pick(3)]
	e := c.request(funds.Operating, funds.OtherKind, what, c.roundYuan(52000, 95000),
		organisation(fmt.Sprintf(contractors[c.pick(len(contractors))], c.district.placeName())))
	e.unauthorized = true
	e.readyAt = c.now.Add(days(1))
	c.payQueue = append(c.payQueue, e)
	c.plant(plantUnauthorizedMajor)
}

func (c *comm) committeeName() string {
	if c.info.Kind == kernel.Rural {
		return "村务"
	}
	return "居务"
}
