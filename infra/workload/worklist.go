package workload

import (
	"fmt"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/worklist"
)

// The admission list for work entering communities: every district publishes its list on the morning the
// ledger starts (the duties Nanchang's and Longwan's lists name) and decides four departments'
// applications (three admitted, one refused); every community records a task pushed onto it every two
// months or so, under a listed duty or an admitted task. The assigned anomaly: a task nobody admitted
// (work-admission).

const plantUnadmittedTask = string(rulebook.WorkAdmission)

var demoDuties = []struct {
	list         worklist.List
	title, basis string
	department   string
}{
	{worklist.Performs, "组织居民会议、居民代表会议", "《城市居民委员会组织法》", "区民政局"},
	{worklist.Performs, "开展居务公开和民主评议", "《城市居民委员会组织法》", "区民政局"},
	{worklist.Performs, "调解民间纠纷", "《人民调解法》", "区司法局"},
	{worklist.Assists, "协助开展人口普查和统计调查", "《统计法》", "区统计局"},
	{worklist.Assists, "协助开展社会救助申请受理", "《社会救助暂行办法》", "区民政局"},
	{worklist.Assists, "协助开展征兵宣传和登记", "《兵役法》", "区人武部"},
	{worklist.Assists, "协助开展爱国卫生和健康宣传", "《基本医疗卫生与健康促进法》", "区卫健局"},
	{worklist.Assists, "协助开展防汛防台应急转移", "《防洪法》", "区应急管理局"},
}

var demoTasks = []struct {
	department, title, basis string
	funding                  int64 // yuan per community per year
	admit                    bool
	reason                   string
}{
	{"区市场监管局", "协助开展食品安全入户宣传", "《食品安全法》第十条", 3000, true, ""},
	{"区消防救援大队", "协助开展高层住宅消防安全排查", "《消防法》第三十二条", 5000, true, ""},
	{"区生态环境局", "协助开展垃圾分类入户指导", "《固体废物污染环境防治法》", 4000, true, ""},
	{"区住建局", "统计辖区电梯数量和使用年限", "无", 0, false, "属部门自身职责，不得转嫁社区"},
}

// unadmittedTasks are what a department pushes onto a community without admission (the planted anomaly).
var unadmittedTasks = []struct{ department, title string }{
	{"区住建局", "统计辖区电梯数量和使用年限"}, {"区文旅局", "上门统计居民文化消费情况"}, {"区商务局", "组织居民参加促销活动"},
}

// publishWorklist is a district's list and decisions as one command's events, and the list as the
// communities' commands read it.
func publishWorklist(d District, now time.Time) ([]kernel.Event, *worklist.District, error) {
	dl := &worklist.District{}
	var out []kernel.Event
	for i, x := range demoDuties {
		evs, err := dl.ListDuty(d.Path, fmt.Sprintf("d-%02d", i+1), x.list, x.title, x.basis, now)
		if err != nil {
			return nil, nil, err
		}
		apply(dl, evs)
		out = append(out, evs...)
	}
	for i, x := range demoTasks {
		id := fmt.Sprintf("t-%02d", i+1)
		evs, err := dl.ApplyTask(d.Path, worklist.ApplyTask{TaskID: id, Department: x.department, Title: x.title, LegalBasis: x.basis,
			Funding: kernel.Yuan(x.funding)}, now)
		if err != nil {
			return nil, nil, err
		}
		apply(dl, evs)
		out = append(out, evs...)
		evs, err = dl.DecideTask(d.Path, id, x.admit, x.reason, now)
		if err != nil {
			return nil, nil, err
		}
		apply(dl, evs)
		out = append(out, evs...)
	}
	return out, dl, nil
}

// worklistAdmin is the district's administrator who records its list.
func worklistAdmin(d District) commands.Actor {
	return commands.Actor{Subject: "demo-admin-" + d.Code, Role: commands.RoleAdmin, Scope: string(d.Path)}
}

// scheduleTasks schedules the tasks pushed onto the community this month (one every two months or so).
func (c *comm) scheduleTasks(y int, m time.Month) {
	if c.g.worklists[c.district.Path] == nil || c.assets == nil || c.assets.rng.IntN(2) == 0 {
		return
	}
	at := c.office(day(y, m, 2+c.assets.rng.IntN(25), 0, 0))
	if c.future(at) {
		c.at(at, c.receiveTask)
	}
}

// receiveTask records a task pushed onto the community: under a listed duty or an admitted task, or, where
// planted, under nothing.
func (c *comm) receiveTask() {
	r := c.assets.rng
	c.received++
	cmd := worklist.Receive{RecordID: fmt.Sprintf("w-%d", c.received)}
	switch n := r.IntN(10); {
	case c.planted(plantUnadmittedTask):
		c.plant(plantUnadmittedTask)
		x := unadmittedTasks[r.IntN(len(unadmittedTasks))]
		cmd.Department, cmd.Title = x.department, x.title
	case n < 6:
		i := r.IntN(len(demoDuties))
		cmd.Department, cmd.Title, cmd.DutyID = demoDuties[i].department, demoDuties[i].title, fmt.Sprintf("d-%02d", i+1)
	default:
		i := r.IntN(3) // the admitted ones
		cmd.Department, cmd.Title, cmd.TaskID = demoTasks[i].department, demoTasks[i].title, fmt.Sprintf("t-%02d", i+1)
	}
	t := &worklist.Tasks{}
	evs, err := t.Receive(cmd, c.g.worklists[c.district.Path], c.now)
	c.record(c.clerk, worklist.TasksStream(c.info.ID), nil, evs, err)
}
