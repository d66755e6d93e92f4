package workload

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/bulletin"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/inspection"
	"github.com/grassroots-ledger/ledger/domain/rectification"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// Supervision casework (督查, seed 000: Longwan's 督查组 inspects 18 communities a round, three rounds a
// year, and publishes two bulletins): in March, June and October the district's supervisors inspect a
// rotating eighteen of its communities (实地走访、一对一谈话、查看台账), find up to three problems, and order
// each put right within 30 days; the committee reports, now and then late. The district's bulletins
// follow at the end of June (the spring rounds) and of October (the autumn round), citing every inspection
// they cover. The assigned anomaly: a rectification never reported (rectification-due). Choices draw on a
// random stream of their own, as the seals' do.

const (
	plantUnrectified   = string(rulebook.RectificationDue) + ":missing"
	inspectedPerRound  = 18
	rectificationDays  = 30
	bulletinDeadlineCN = "请各街道督促相关村(社区)按期完成整改，整改情况纳入年度考核。"
)

// inspectionRounds are the months of a year's rounds.
var inspectionRounds = []time.Month{time.March, time.June, time.October}

// bulletinMonths are the months at whose end the district publishes a bulletin of the year's rounds not
// yet reported on.
var bulletinMonths = []time.Month{time.June, time.October}

// findingCatalogue is what inspections find, with its severity and the rectification asked.
var findingCatalogue = []struct {
	severity          inspection.Severity
	text, requirement string
}{
	{inspection.Minor, "村(居)务公开栏未按季度更新", "补齐应公开内容并按季度更新"},
	{inspection.Minor, "议事协商会议记录未及时归档", "整理归档近半年的议事协商记录"},
	{inspection.Minor, "便民服务台账登记不全", "完善便民服务登记台账"},
	{inspection.Major, "重大事项未按“四议两公开”程序留存决议", "补充完善决议材料，今后严格履行程序"},
	{inspection.Major, "财务票据报销审批手续不全", "补齐审批签字手续，完善报销流程"},
	{inspection.Minor, "民情恳谈会未按计划召开", "制定计划并按月召开民情恳谈会"},
	{inspection.Serious, "集体资产出租合同未经集体讨论", "重新履行民主决策程序并公开"},
}

// caseState is the community's casework as the generator keeps it.
type caseState struct {
	rng *rand.Rand
	// uncited are the inspections no bulletin cited yet, with their appends (a bulletin waits for them).
	uncited []citedInspection
}

type citedInspection struct {
	id  string
	seg *segment
}

func (c *comm) caseworkState() *caseState {
	if c.casework == nil {
		c.casework = &caseState{rng: rand.New(rand.NewPCG(c.g.plan.seed, streamKey("inspection/"+string(c.info.ID))))}
	}
	return c.casework
}

// supervisor is the district's supervisors' group, as an actor.
func (c *comm) supervisor() commands.Actor {
	return commands.Actor{Subject: "demo-supervisor-" + c.district.Code, Role: commands.RoleSupervisor, Scope: string(c.district.Path)}
}

// inspectedIn reports whether the community is among the eighteen of round r of year y: the rounds rotate
// over the district's communities.
func (c *comm) inspectedIn(y, r int) bool {
	n := c.inDistrict.count
	per := min(inspectedPerRound, n)
	offset := ((y*len(inspectionRounds) + r) * per) % n
	return (c.inDistrict.index-offset+n)%n < per
}

// scheduleInspections schedules the year's inspections of the community.
func (c *comm) scheduleInspections(y int) {
	for r, m := range inspectionRounds {
		if !c.inspectedIn(y, r) {
			continue
		}
		s := c.caseworkState()
		at := c.office(day(y, m, 8+s.rng.IntN(16), 0, 0))
		if at.Before(c.now) {
			continue // a round before the ledger started
		}
		c.at(at, func() { c.inspect(y, r) })
	}
}

// inspect records round r's inspection, orders each finding put right and schedules the reports.
func (c *comm) inspect(y, r int) {
	s := c.caseworkState()
	id := fmt.Sprintf("%d-r%d", y, r+1)
	stream := inspection.Stream(c.info.ID, id)
	methods := []inspection.Method{inspection.SiteVisit, inspection.LedgerReview}
	if s.rng.IntN(2) == 0 {
		methods = append(methods, inspection.Interview)
	}
	var findings []inspection.Finding
	n := s.rng.IntN(4)
	if n == 0 && c.plants[plantUnrectified] {
		n = 1 // the community planted to leave one unrectified has something to rectify
	}
	for k := 0; k < n; k++ {
		f := findingCatalogue[s.rng.IntN(len(findingCatalogue))]
		findings = append(findings, inspection.Finding{FindingID: fmt.Sprintf("f-%d", k+1), Severity: f.severity, Text: f.text})
	}
	i := &inspection.Inspection{}
	evs, err := i.Conduct(inspection.Conduct{InspectionID: id, Inspectors: c.district.Name + "民政局督查组", Round: fmt.Sprintf("%d年第%d轮", y, r+1),
		Methods: methods, Findings: findings}, c.params, c.now)
	apply(i, c.record(c.supervisor(), stream, nil, evs, err))
	if c.err != nil {
		return
	}
	s.uncited = append(s.uncited, citedInspection{id: id, seg: c.streams[stream].last})
	c.done(stream)
	for k, f := range findings {
		c.advance(minutes(10))
		c.orderRectification(fmt.Sprintf("%s-%d", id, k+1), stream, rectification.Source{Kind: rectification.Inspection, ID: id, FindingID: f.FindingID,
			Finding: f.Text}, requirementOf(f.Text))
	}
}

func requirementOf(text string) string {
	for _, f := range findingCatalogue {
		if f.text == text {
			return f.requirement
		}
	}
	return "限期整改"
}

// orderRectification orders a finding put right within 30 days (the order reads the finding's record,
// on stream from) and schedules the committee's report: within the term, now and then late, never where
// the anomaly was planted.
func (c *comm) orderRectification(id, from string, src rectification.Source, requirement string) {
	s := c.caseworkState()
	r := &rectification.Rectification{}
	stream := rectification.Stream(c.info.ID, id)
	evs, err := r.Order(rectification.Order{RectificationID: id, Source: src, Requirement: requirement,
		Due: c.now.Add(days(rectificationDays))}, c.now)
	apply(r, c.record(c.supervisor(), stream, []string{from}, evs, err))
	if c.err != nil {
		return
	}
	if c.planted(plantUnrectified) {
		c.plant(plantUnrectified)
		c.done(stream)
		return
	}
	after := days(5 + s.rng.IntN(rectificationDays-8))
	if s.rng.IntN(100) < 8 {
		after = days(rectificationDays + 3 + s.rng.IntN(10)) // reported late
	}
	c.after(after, func() {
		c.at(c.office(c.now), func() {
			evs, err := r.Report("已按要求完成整改："+requirement, "", c.now)
			apply(r, c.record(c.clerk, stream, nil, evs, err))
			c.done(stream)
		})
	})
}

// bulletins publishes, at the end of a window that closes a bulletin month, each district's bulletin of
// the inspections not yet cited: after their appends (between windows no community runs, so their state
// is read safely).
func (g *gen) bulletins(comms []*comm, end time.Time, w *window) error {
	t := end.In(cst).Add(-time.Minute)
	if t.Day() != time.Date(t.Year(), t.Month()+1, 0, 0, 0, 0, 0, cst).Day() || !slices.Contains(bulletinMonths, t.Month()) {
		return nil
	}
	byDistrict := map[string][]*comm{}
	var order []string
	for _, c := range comms {
		if byDistrict[c.district.Code] == nil {
			order = append(order, c.district.Code)
		}
		byDistrict[c.district.Code] = append(byDistrict[c.district.Code], c)
	}
	phase := 0
	for _, s := range w.segs {
		phase = max(phase, s.phase+1)
	}
	at := time.Date(t.Year(), t.Month(), t.Day(), 16, 0, 0, 0, cst).UTC()
	for _, code := range order {
		cs := byDistrict[code]
		d := cs[0].district
		cmd := bulletin.Publish{BulletinID: fmt.Sprintf("%d-%02d", t.Year(), t.Month()), Jurisdiction: d.Path}
		var deps []*segment
		for _, c := range cs {
			if c.casework == nil {
				continue
			}
			for _, i := range c.casework.uncited {
				cmd.Cites = append(cmd.Cites, bulletin.Cite{CommunityID: c.info.ID, InspectionID: i.id})
				cmd.Paths = append(cmd.Paths, c.info.Path)
				deps = append(deps, i.seg)
			}
			c.casework.uncited = nil
		}
		if len(cmd.Cites) == 0 {
			continue
		}
		cmd.Title = fmt.Sprintf("关于%d年%d月村(社区)督查情况的通报", t.Year(), t.Month())
		cmd.Text = fmt.Sprintf("%s民政局督查组近期采取实地走访、一对一谈话、查看台账等方式，对%d个村(社区)开展督查，发现的问题已逐一下达整改通知、限期整改。%s",
			d.Name, len(cmd.Cites), bulletinDeadlineCN)
		evs, err := (&bulletin.Bulletin{}).Publish(cmd, at)
		if err != nil {
			return fmt.Errorf("workload: bulletin of %s refused: %w", d.Path, err)
		}
		actor := commands.Actor{Subject: "demo-supervisor-" + d.Code, Role: commands.RoleSupervisor, Scope: string(d.Path)}
		stream := bulletin.Stream(d.Path, cmd.BulletinID)
		m := commands.Meta{CommandID: fmt.Sprintf("demo-%d-%s-bulletin-%s", g.plan.seed, d.Code, cmd.BulletinID), Actor: actor}
		envs, err := commands.Envelope(g.reg, m, commands.Target{Stream: stream, Path: d.Path}, evs, at)
		if err != nil {
			return err
		}
		w.segs = append(w.segs, &segment{stream: stream, phase: phase, expected: eventlog.NoStream(), deps: deps, events: envs, n: len(envs),
			done: make(chan struct{})})
		g.stats.Commands++
		for _, e := range evs {
			g.stats.ByType[e.EventName()]++
		}
	}
	return nil
}
