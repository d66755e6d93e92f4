package workload

import (
	"fmt"
	"time"

	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	wk "github.com/grassroots-ledger/ledger/domain/worker"
)

// The anomalies the generator plants. Those named after a rule show as a breach of that rule on an event
// (the ledger records the fact and marks it); those with a suffix are deadlines the alert engine must
// notice by itself (nothing was recorded in time).
const (
	plantShortPublicity    = string(rulebook.CandidateListPublicity)
	plantUndersized        = string(rulebook.CommitteeSize)
	plantFewFullTime       = string(rulebook.FullTimeShare)
	plantLateMinutes       = string(rulebook.MinutesKept)
	plantUnderfunded       = string(rulebook.OperatingFunds)
	plantUnauthorizedMajor = string(rulebook.MajorMatterResolution)
	plantLatePayment       = string(rulebook.PaymentDisclosed)
	plantLateResults       = string(rulebook.ResultsDisclosed)
	plantLateResolution    = string(rulebook.DisclosureFrequency)
	plantOverBudget        = string(rulebook.BudgetBalance)
	plantSplit             = string(rulebook.SplitSpending)

	plantMissingMinutes  = string(rulebook.MinutesKept) + ":missing"
	plantUndisclosedPaid = string(rulebook.PaymentDisclosed) + ":missing"
	plantUndisclosedRes  = string(rulebook.ResultsDisclosed) + ":missing"
	plantSkippedAffairs  = string(rulebook.DisclosureFrequency) + ":affairs-skipped"
	plantSkippedAssembly = string(rulebook.ResidentsMeetingFrequency) + ":assembly-skipped"
	plantSkippedAudit    = string(rulebook.CadreAudit) + ":audit-skipped"
)

// Not anomalies but the board's less common moves, which every district shows at least once whatever the
// span (the portal shows them, and its tests look for them): a corrected and a withdrawn notice.
const (
	showCorrection = "notice:corrected"
	showWithdrawal = "notice:withdrawn"
)

// assigned lists the anomalies every district gets at least once (when its span allows: the election
// ones need an election in the span), each in a different community as far as there are enough.
var assigned = []string{
	plantShortPublicity, plantUndersized, plantFewFullTime, plantLateMinutes, plantUnderfunded,
	plantUnauthorizedMajor, plantLatePayment, plantLateResults, plantLateResolution, plantOverBudget, plantSplit,
	plantMissingMinutes, plantUndisclosedPaid, plantUndisclosedRes, plantSkippedAffairs,
	plantSkippedAssembly, plantSkippedAudit, plantUnapprovedSeal, plantLateSeal, plantUnbidContract, plantUnpaidRent,
	plantUnadmittedTask, plantOverpaid, plantOverstaffed, plantUnrectified, plantSkippedEvaluation, plantIncompetent,
	showCorrection, showWithdrawal,
}

// urbanOnly anomalies concern residents' committees only.
func urbanOnly(a string) bool { return a == plantSkippedAssembly || a == plantFewFullTime }

// member is a seat on the sitting committee.
type member struct {
	p        *person
	role     community.Role
	fullTime bool
}

// termState is the sitting committee and the election that produced it (nil when it was elected before
// the ledger started).
type termState struct {
	term     string
	election *electionRun
	members  []*member
}

func (t *termState) chair() *person {
	for _, m := range t.members {
		if m.role == community.Chair {
			return m.p
		}
	}
	return t.members[0].p
}

// worker is a salaried community worker (社区工作者): the full-time committee members and the social
// workers the street hires.
type worker struct {
	p       *person
	id      string
	post    wk.Post
	monthly kernel.Fen // for the payroll budget
	member  bool
}

// start registers the community and schedules its life.
func (c *comm) start() {
	c.at(c.g.plan.start.Add(hours(9)+minutes(c.index%240)), func() {
		c.register()
		c.after(minutes(20), c.seatInitialCommittee)
		c.after(minutes(40), c.registerSeals)
		c.after(minutes(50), c.registerAssets)
		c.after(hours(1), func() { c.year(c.now.In(cst).Year(), true) })
		c.after(hours(1)+minutes(5), func() {
			t := c.now.In(cst)
			c.month(t.Year(), t.Month(), true)
		})
	})
}

func (c *comm) register() {
	evs, err := c.profile.Register(community.Register{
		CommunityID: c.info.ID, Name: c.info.Name, Kind: c.info.Kind, Jurisdiction: c.info.Path,
		Households: c.info.Households, Adults: c.info.Adults,
	}, c.now)
	apply(c.profile, c.record(c.admin, c.profileStream(), nil, evs, err))
	c.households, c.adults = c.info.Households, c.info.Adults
}

// committeeSize is the size the rulebook suggests for the community's committee.
func (c *comm) committeeSize() int {
	lo, hi := c.params.CommitteeSizeFor(c.info.Kind, c.households, c.adults)
	if c.info.Kind == kernel.Rural {
		return lo
	}
	per := c.params.Count(rulebook.CommitteeSize, rulebook.ParamHouseholdsPerMember)
	return min(max((c.households+per/2)/per, lo), hi)
}

// fullTimeFor is how many of size members are full-time: two thirds or more in a residents' committee,
// one or two in a village committee.
func (c *comm) fullTimeFor(size int) int {
	if c.info.Kind == kernel.Rural {
		return min(size, 1+c.pick(2))
	}
	return min(size, (2*size+2)/3+c.pick(2))
}

// seatInitialCommittee seats the committee in office when the ledger started: elected at the last
// general election before it, which the ledger did not record.
func (c *comm) seatInitialCommittee() {
	y := c.initialTermYear()
	size := c.committeeSize()
	full := c.fullTimeFor(size)
	t := &termState{term: fmt.Sprintf("%d-%d", y, y+5)}
	seats := make([]community.Seat, size)
	for i := range size {
		p := c.newPerson(c.now, 32, 58)
		m := &member{p: p, role: roleFor(i), fullTime: i < full}
		t.members = append(t.members, m)
		seats[i] = community.Seat{Person: p.id, Role: m.role, FullTime: m.fullTime, Source: community.Elected, Personal: p.personal(false), PublicName: p.name}
	}
	evs, err := c.profile.SeatCommittee(t.term, seats, c.params, c.now)
	apply(c.profile, c.record(c.clerk, c.profileStream(), nil, evs, err))
	c.term = t
	c.staff()
	c.scheduleEvaluation(c.now)
}

func roleFor(i int) community.Role {
	switch i {
	case 0:
		return community.Chair
	case 1:
		return community.ViceChair
	}
	return community.Member
}

// year schedules the affairs of calendar year y; first is the year the ledger started in.
func (c *comm) year(y int, first bool) {
	next := day(y+1, time.January, 1, 0, 0)
	if !first {
		c.at(c.office(day(y, time.January, 15+c.pick(10), 0, 0)), c.updateFigures)
	}
	c.scheduleBudget(y, first)
	c.scheduleTrainings(y)
	c.scheduleInspections(y)
	c.scheduleSurvey(y)
	c.scheduleAssemblies(y)
	c.scheduleAudits(y)
	c.scheduleJointMeetings(y)
	c.scheduleTopics(y, next)
	if y%5 == 1 {
		c.scheduleElection(y)
	}
	c.at(next, func() { c.year(y+1, false) })
}

// month schedules the payroll and everyday spending of a month, the paydays (10th and 25th) and, in the
// first month of a quarter, the quarterly notices.
func (c *comm) month(y int, m time.Month, first bool) {
	c.scheduleSalaries(y, m)
	c.scheduleSpending(y, m)
	c.scheduleBudgetAnomaly(y, m)
	c.scheduleSealUse(y, m)
	c.scheduleTasks(y, m)
	c.at(day(y, m, 10, 14, c.pick(90)), c.payday)
	c.at(day(y, m, 25, 14, c.pick(90)), c.payday)
	if (m-1)%3 == 0 && !first {
		c.scheduleQuarterly(y, m)
	}
	nm := day(y, m+1, 1, 0, 0)
	c.at(nm, func() {
		t := nm.In(cst)
		c.month(t.Year(), t.Month(), false)
	})
}

// updateFigures records the annual statistics (年度人口统计): households and adults change a little.
func (c *comm) updateFigures() {
	h := c.households * (1000 + c.between(-8, 30)) / 1000
	a := c.adults * (1000 + c.between(-6, 25)) / 1000
	if h == c.households && a == c.adults {
		h++
	}
	evs, err := c.profile.UpdateFigures(max(1, h), max(1, a), "年度人口统计", c.params, c.now)
	if apply(c.profile, c.record(c.admin, c.profileStream(), nil, evs, err)); c.err == nil {
		c.households, c.adults = c.profile.Figures().Households, c.profile.Figures().Adults
	}
}

// scheduleBudget schedules the year's allocations (经费拨付): operating funds in two batches (January,
// July), the payroll, party-building funds. In the year the ledger started, what was already allocated is
// recorded as a catch-up (补录) on the second day.
func (c *comm) scheduleBudget(y int, first bool) {
	operating := c.operatingFunds()
	payroll := kernel.Fen(0)
	for _, w := range c.workers {
		payroll += w.monthly
	}
	payroll = payroll * 12 * 102 / 100 / 10000 * 10000
	party := c.roundYuan(12000, 30000)
	jan := c.office(day(y, time.January, 5+c.pick(8), 0, 0))
	jul := c.office(day(y, time.July, 5+c.pick(8), 0, 0))
	if first && c.now.After(jan) {
		jan = c.office(c.now.Add(days(1)))
	}
	batch1 := operating * 6 / 10 / 100 * 100
	if c.planted(plantUnderfunded) {
		c.plant(plantUnderfunded)
		batch1 = kernel.Yuan(30000)
	}
	c.at(jan, func() {
		src := funds.StreetFinance
		if c.pick(3) == 0 {
			src = funds.CountyFinance
		}
		c.allocate(y, "op-1", src, funds.Operating, batch1, fmt.Sprintf("%d年度工作运行经费第一批", y))
		c.allocate(y, "salaries", funds.CountyFinance, funds.Salaries, payroll, fmt.Sprintf("%d年度社区工作者薪酬", y))
		c.allocate(y, "party", funds.Department, funds.PartyBuilding, party, fmt.Sprintf("%d年度党组织建设工作专项经费", y))
	})
	second := func() {
		c.allocate(y, "op-2", funds.StreetFinance, funds.Operating, operating-batch1, fmt.Sprintf("%d年度工作运行经费第二批", y))
	}
	if jul.After(jan) {
		c.at(jul, second)
	} else {
		c.at(jan.Add(days(20)), second)
	}
}

// operatingFunds is the community's yearly operating funds: about 190 000 yuan on average, so that a
// district of 78 gets about 15 million a year (龙湾区 in the seeds).
func (c *comm) operatingFunds() kernel.Fen {
	base := int64(80000 + c.households*45)
	if c.info.Kind == kernel.Rural {
		base = int64(110000 + c.households*85)
	}
	return kernel.Yuan(base * int64(90+c.pick(21)) / 100 / 1000 * 1000)
}

func (c *comm) budget(y int) *funds.Budget {
	b := c.budgets[y]
	if b == nil {
		b = &funds.Budget{}
		c.budgets[y] = b
	}
	return b
}

// allocate records an allocation; it returns the allocation's time (zero if refused).
func (c *comm) allocate(y int, id string, src funds.Source, cat funds.Category, amount kernel.Fen, note string) {
	b := c.budget(y)
	evs, err := b.Allocate(funds.Allocate{
		AllocationID: id, FiscalYear: y, Source: src, Category: cat, Amount: amount, Note: note,
		Households: c.households,
	}, c.params, c.now)
	apply(b, c.record(c.clerk, funds.BudgetStream(c.info.ID, y), nil, evs, err))
	c.quarter.allocated += amount
	c.quarter.allocations = append(c.quarter.allocations, allocationRef{year: y, id: id, at: c.now.UTC()})
}
