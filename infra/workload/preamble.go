package workload

import (
	"fmt"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/worklist"
)

// preamble registers the jurisdiction tree above the communities (province, cities, districts, streets),
// parents first, and the first district's rule override, on the morning the ledger starts.
func (g *gen) preamble() (*window, error) {
	w := &window{}
	now := g.plan.start.Add(8 * time.Hour).UTC()
	root := commands.Actor{Subject: "demo-admin", Role: commands.RoleAdmin}
	seq := 0
	var err error
	byPath := map[kernel.JurisdictionPath]*segment{}
	add := func(phase int, actor commands.Actor, path kernel.JurisdictionPath, stream string, evs []kernel.Event, derr error) {
		if err != nil {
			return
		}
		if derr != nil {
			err = fmt.Errorf("workload: registering %s refused: %w", path, derr)
			return
		}
		seq++
		m := commands.Meta{CommandID: fmt.Sprintf("demo-%d-%s-%d", g.plan.seed, path.Last(), seq), Actor: actor}
		envs, eerr := commands.Envelope(g.reg, m, commands.Target{Stream: stream, Path: path}, evs, now)
		if eerr != nil {
			err = eerr
			return
		}
		seg := &segment{stream: stream, phase: phase, expected: eventlog.NoStream(), events: envs, n: len(envs), done: make(chan struct{})}
		if parent, ok := path.Parent(); ok && byPath[parent] != nil { // parents first
			seg.deps = []*segment{byPath[parent]}
		}
		if byPath[path] == nil {
			byPath[path] = seg
		} else { // the override: after the node it is set on
			seg.deps = append(seg.deps, byPath[path])
		}
		w.segs = append(w.segs, seg)
		g.stats.Commands++
		for _, e := range evs {
			g.stats.ByType[e.EventName()]++
		}
		if g.stats.From.IsZero() {
			g.stats.From = now
		}
		g.stats.To = now
	}
	node := func(phase int, path kernel.JurisdictionPath, name string) {
		evs, derr := (&community.Jurisdiction{}).Register(path, name, phase > 0, now)
		add(phase, root, path, community.JurisdictionStream(path), evs, derr)
	}
	node(0, provinceCode, provinceName)
	seen := map[string]bool{}
	for _, d := range g.tree {
		if !seen[d.CityCode] {
			seen[d.CityCode] = true
			node(1, kernel.JurisdictionPath(provinceCode+"/"+d.CityCode), d.CityName)
		}
	}
	for _, d := range g.tree {
		node(2, d.Path, d.Name)
	}
	for _, d := range g.tree {
		for _, s := range d.Streets {
			node(3, s.Path, s.Name)
		}
	}
	// The first district tightens one alert colour, as districts may: every override is an event.
	d := g.tree[0]
	o := &rulebook.Overrides{}
	evs, derr := o.Set(rulebook.SetOverride{
		Jurisdiction: d.Path, Rule: rulebook.DisclosureFrequency, Param: rulebook.ParamRedAfter, Value: "5d",
		Reason: "区民政局要求：应公开事项逾期5天即列为红色预警", By: kernel.PersonID("demo-admin-" + d.Code),
	}, now)
	admin := commands.Actor{Subject: "demo-admin-" + d.Code, Role: commands.RoleAdmin, Scope: string(d.Path)}
	add(3, admin, d.Path, rulebook.OverridesStream(d.Path), evs, derr)
	for _, e := range evs {
		g.rulebook.Apply(e)
	}
	// Its first street raises the basic pay of its community workers (seed 000: 待遇系数由1.2倍提高至1.4倍):
	// the grade scale is rulebook data, per jurisdiction.
	if len(d.Streets) > 0 {
		st := d.Streets[0]
		evs, derr := (&rulebook.Overrides{}).Set(rulebook.SetOverride{
			Jurisdiction: st.Path, Rule: rulebook.PayScale, Param: rulebook.ParamBasicStaff, Value: "460000",
			Reason: "街道落实专职社区工作者待遇系数提高，社区专职工作者基本工资起点提至4600元", By: kernel.PersonID("demo-admin-" + d.Code),
		}, now)
		add(3, admin, st.Path, rulebook.OverridesStream(st.Path), evs, derr)
		for _, e := range evs {
			g.rulebook.Apply(e)
		}
	}
	// Every district publishes its list of community work and decides the departments' applications.
	g.worklists = map[kernel.JurisdictionPath]*worklist.District{}
	for _, d := range g.tree {
		evs, dl, derr := publishWorklist(d, now)
		add(3, worklistAdmin(d), d.Path, worklist.ListStream(d.Path), evs, derr)
		g.worklists[d.Path] = dl
	}
	return w, err
}
