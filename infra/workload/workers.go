package workload

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	wk "github.com/grassroots-ledger/ledger/domain/worker"
)

// Community workers (社区工作者): the full-time members of the sitting committee and the social workers the
// street hires, each on a post of 三岗十八级 — the chair on the head series, the vice-chair on the deputy
// series, everyone else on the staff series, at a grade drawn for their experience — never more than the
// community's posts (staffing-limit). Their basic pay is the scale's figure for the post, paid each month;
// performance pay follows each quarter (60–100 % of its ceiling), the annual bonus each January; everyone
// attends a training course or two a year. The assigned anomalies: a month's basic pay above the scale
// (pay-scale) and one hire more than the posts (staffing-limit). Their choices draw on a random stream of
// their own, as the seals' do.

const (
	plantOverpaid     = string(rulebook.PayScale)
	plantOverstaffed  = string(rulebook.StaffingLimit)
	overpaymentInYuan = 600
)

// rosterState is the community's roster as the generator keeps it.
type rosterState struct {
	rng    *rand.Rand
	roster *wk.Roster
	seq    int
	// over is set in the community planted to hire one worker more than its posts.
	over bool
}

func (c *comm) rosterStream() string { return wk.Stream(c.info.ID) }

// staffRoster returns the roster, created on first use.
func (c *comm) staffRoster() *rosterState {
	if c.roster == nil {
		c.roster = &rosterState{rng: rand.New(rand.NewPCG(c.g.plan.seed, streamKey("worker/"+string(c.info.ID)))), roster: &wk.Roster{}}
	}
	return c.roster
}

// seriesOf is the post series of a committee role.
func seriesOf(r community.Role) wk.Series {
	switch r {
	case community.Chair:
		return wk.Head
	case community.ViceChair:
		return wk.Deputy
	}
	return wk.Staff
}

// postFor draws a post of series s: heads and deputies from the middle grades, staff from the lower ones;
// a village's grades are lower.
func (c *comm) postFor(s wk.Series) wk.Post {
	rs := c.staffRoster()
	grades := map[wk.Series][2]int{wk.Head: {6, 14}, wk.Deputy: {4, 12}, wk.Staff: {1, 10}}[s]
	lo, hi := grades[0], grades[1]
	if c.info.Kind == kernel.Rural {
		lo, hi = max(1, lo-3), hi-4
	}
	return wk.Post{Series: s, Grade: lo + rs.rng.IntN(hi-lo+1)}
}

// hire puts w on the roster on a post of series s.
func (c *comm) hire(w *worker, s wk.Series) {
	rs := c.staffRoster()
	rs.seq++
	w.id, w.post = fmt.Sprintf("w-%03d", rs.seq), c.postFor(s)
	evs, err := rs.roster.Hire(wk.Hire{WorkerID: w.id, Person: w.p.id, Personal: w.p.personal(false), Post: w.post, Member: w.member},
		c.households, c.params, c.now)
	apply(rs.roster, c.record(c.clerk, c.rosterStream(), nil, evs, err))
	w.monthly = c.monthlyOf(w.post)
}

// monthlyOf is what a worker on post costs a month on average, for the payroll budget: the basic pay
// and a share of the performance pay and the annual bonus.
func (c *comm) monthlyOf(post wk.Post) kernel.Fen {
	return wk.BasicPay(post, c.params) * 4 / 3
}

// moveTo moves w to a post of series s (a member re-elected to another role).
func (c *comm) moveTo(w *worker, s wk.Series) {
	rs := c.staffRoster()
	post := c.postFor(s)
	if post == w.post {
		return
	}
	evs, err := rs.roster.ChangePost(w.id, post, "换届后任新职", time.Time{}, c.now)
	apply(rs.roster, c.record(c.clerk, c.rosterStream(), nil, evs, err))
	w.post, w.monthly = post, c.monthlyOf(post)
}

// release takes w off the roster.
func (c *comm) release(w *worker, why wk.LeaveReason) {
	rs := c.staffRoster()
	evs, err := rs.roster.Leave(w.id, why, time.Time{}, c.households, c.params, c.now)
	apply(rs.roster, c.record(c.clerk, c.rosterStream(), nil, evs, err))
}

// staff makes the payroll after the committee changed: the full-time members of the sitting committee
// (those no longer on it leave the roster, new ones are hired) and enough social workers to make about
// eight workers in a residents' committee, five or six in a village — within the community's posts,
// social workers leaving first when the committee grows.
func (c *comm) staff() {
	rs := c.staffRoster()
	want := 8 + c.pick(3) - 1
	if c.info.Kind == kernel.Rural {
		want = 5 + c.pick(2)
	}
	posts := wk.Posts(c.households, c.params)
	if c.planted(plantOverstaffed) {
		c.plant(plantOverstaffed)
		rs.over = true
		want = posts + 1
	}
	limit := posts
	if rs.over {
		limit = posts + 1
	}
	want = min(want, limit)
	if rs.over {
		want = limit // the community planted over its posts stays one over them
	}
	sitting := map[*person]*member{}
	for _, m := range c.term.members {
		if m.fullTime {
			sitting[m.p] = m
		}
	}
	var members, social []*worker
	have := map[*person]bool{}
	for _, w := range c.workers {
		switch m := sitting[w.p]; {
		case !w.member:
			social = append(social, w)
		case m == nil:
			c.release(w, wk.TermEnded)
		default:
			c.moveTo(w, seriesOf(m.role))
			members, have[w.p] = append(members, w), true
		}
	}
	var joining []*member
	for _, m := range c.term.members {
		if m.fullTime && !have[m.p] {
			joining = append(joining, m)
		}
	}
	for len(social) > 0 && len(members)+len(joining)+len(social) > limit {
		c.release(social[len(social)-1], wk.Resigned)
		social = social[:len(social)-1]
	}
	for _, m := range joining {
		w := &worker{p: m.p, member: true}
		c.hire(w, seriesOf(m.role))
		members = append(members, w)
	}
	for len(members)+len(social) < want {
		w := &worker{p: c.newPerson(c.now, 24, 50)}
		c.hire(w, wk.Staff)
		social = append(social, w)
	}
	c.workers = append(members, social...)
}

// payroll is what a salary pays, for a request, public by name as the rulebook says.
func (c *comm) payroll(w *worker, comp wk.Component, period string) *funds.Payroll {
	return &funds.Payroll{WorkerID: w.id, Component: comp, Period: period, Public: c.params.On(rulebook.PayScale, rulebook.ParamIndividualPay)}
}

// basicPay is w's basic pay for a month: the scale's figure (the one community planted to,
// once, pays more).
func (c *comm) basicPay(w *worker) kernel.Fen {
	amount := wk.BasicPay(w.post, c.params)
	if c.planted(plantOverpaid) {
		c.plant(plantOverpaid)
		amount += kernel.Yuan(overpaymentInYuan)
	}
	return amount
}

// bonuses requests, on the 5th of the first month of a quarter, the performance pay of the
// quarter that ended and, in January, the annual bonus of the year that ended, for the workers employed
// then; they are approved with the month's salaries.
func (c *comm) bonuses(y int, m time.Month) []*expenditure {
	if (m-1)%3 != 0 {
		return nil
	}
	rs := c.staffRoster()
	prev := day(y, m, 1, 0, 0).AddDate(0, -3, 0).In(cst)
	quarter := fmt.Sprintf("%d-Q%d", prev.Year(), (int(prev.Month())+2)/3)
	var out []*expenditure
	// Each payment is 60–100 % of the ceiling the scale gives the worker's posts of the period.
	pay := func(w *worker, comp wk.Component, period, label string) {
		b, err := rs.roster.Band(w.id, comp, period, c.params)
		if err != nil {
			return // not employed then
		}
		amount := b.Max * kernel.Fen(60+rs.rng.IntN(41)) / 100 / 100 * 100
		if amount <= 0 {
			return
		}
		out = append(out, c.requestPay(label, amount, w, c.payroll(w, comp, period)))
		c.advance(minutes(2))
	}
	for _, w := range c.workers {
		pay(w, wk.Performance, quarter, fmt.Sprintf("%d年第%d季度绩效工资", prev.Year(), (int(prev.Month())+2)/3))
		if m == time.January {
			pay(w, wk.AnnualBonus, fmt.Sprint(y-1), fmt.Sprintf("%d年度奖励", y-1))
		}
	}
	return out
}

// trainings are the courses workers attend: the district's post training and the street's topic training.
var trainings = []struct {
	course string
	hours  int
}{
	{"区民政局社区工作者岗位培训", 16},
	{"街道基层民主议事协商专题培训", 8},
	{"社区工作者信息化应用能力培训", 8},
	{"领雁讲坛·村社干部年度知识更新培训", 12},
}

// scheduleTrainings sends every worker on the roster to a course in April and another in October.
func (c *comm) scheduleTrainings(y int) {
	for i, m := range []time.Month{time.April, time.October} {
		c.at(c.office(day(y, m, 10+c.staffRoster().rng.IntN(10), 0, 0)), func() {
			rs := c.staffRoster()
			t := trainings[(2*y+i)%len(trainings)]
			for _, w := range c.workers {
				evs, err := rs.roster.RecordTraining(w.id, fmt.Sprintf("%d-%d", y, i+1), t.course, t.hours, time.Time{}, c.now)
				apply(rs.roster, c.record(c.clerk, c.rosterStream(), nil, evs, err))
			}
		})
	}
}

// requestPay records a request to pay worker w what pr says, charged to salaries of the current fiscal
// year (the handler reads the roster: the request lands after it).
func (c *comm) requestPay(purpose string, amount kernel.Fen, w *worker, pr *funds.Payroll) *expenditure {
	e := c.requestWith(c.now.In(cst).Year(), funds.Request{Category: funds.Salaries, Kind: funds.Salary, Purpose: purpose, Amount: amount,
		Payee: individual(w.p), Payroll: pr, PayrollPerson: w.p.id}, c.rosterStream())
	e.salary = true
	return e
}

// scale is the grade scale of a salary's payment, as the pay handler reads it from the roster; nil for
// other expenditures.
func (c *comm) scale(e *expenditure) (*wk.Band, []string) {
	pr := e.x.Payroll()
	if pr == nil {
		return nil, nil
	}
	b, err := c.staffRoster().roster.Band(pr.WorkerID, pr.Component, pr.Period, c.params)
	if err != nil {
		c.err = fmt.Errorf("community %s: the scale of %s: %w", c.info.ID, e.id, err)
		return nil, nil
	}
	return &b, []string{c.rosterStream()}
}
