package portal

import (
	"context"
	"net/http"
	"reflect"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/worklist"
	"github.com/grassroots-ledger/ledger/infra/httpapi"
	"github.com/grassroots-ledger/ledger/projections/directory"
)

// The admission list for work entering communities (社区工作事项准入): a district's duties and its decisions
// on departments' applications, and the tasks each community received with what allowed them (or the
// mark that nothing did: 未经准入).

// WorkList is a district's list and decisions.
type WorkList struct {
	District     string      `json:"district"`
	DistrictName string      `json:"district_name"`
	Duties       []DutyInfo  `json:"duties"`
	Admissions   []Admission `json:"admissions" doc:"The latest application first"`
}

// DutyInfo is one duty of the list.
type DutyInfo struct {
	DutyID     string     `json:"duty_id"`
	ListName   string     `json:"list_name" doc:"依法履职事项 or 协助政府工作事项"`
	Title      string     `json:"title"`
	Basis      string     `json:"basis"`
	ListedAt   time.Time  `json:"listed_at"`
	DelistedAt *time.Time `json:"delisted_at,omitempty"`
	Reason     string     `json:"reason,omitempty" doc:"Why it left the list"`
	Source     *Source    `json:"source"`
}

// Admission is a department's application and the district's decision.
type Admission struct {
	TaskID     string     `json:"task_id"`
	Department string     `json:"department"`
	Title      string     `json:"title"`
	LegalBasis string     `json:"legal_basis"`
	Funding    Money      `json:"funding" doc:"The funding that follows the task, per community per year (费随事转)"`
	Status     string     `json:"status" enum:"applied,admitted,refused"`
	StatusName string     `json:"status_name"`
	Reason     string     `json:"reason,omitempty"`
	AppliedAt  time.Time  `json:"applied_at"`
	DecidedAt  *time.Time `json:"decided_at,omitempty"`
	Source     *Source    `json:"source"`
}

// CommunityTasks are the tasks a community received.
type CommunityTasks struct {
	CommunityID   string         `json:"community_id"`
	CommunityName string         `json:"community_name"`
	WorklistHref  string         `json:"worklist_href" doc:"The district's list"`
	Tasks         []ReceivedTask `json:"tasks" doc:"The latest first, at most 200"`
}

// ReceivedTask is one task a department pushed onto the community.
type ReceivedTask struct {
	Department string    `json:"department"`
	Title      string    `json:"title"`
	Allowed    bool      `json:"allowed" doc:"A duty on the district's list or an admitted task allows it"`
	Basis      string    `json:"basis" doc:"What allows it, or 未经准入"`
	Funding    *Money    `json:"funding,omitempty" doc:"The funding its admission says follows it"`
	ReceivedAt time.Time `json:"received_at"`
	Source     *Source   `json:"source"`
}

var (
	listNames       = map[string]string{string(worklist.Performs): "依法履职事项", string(worklist.Assists): "协助政府工作事项"}
	admissionStates = map[string]string{"applied": "审批中", "admitted": "准予准入", "refused": "不予准入"}
)

func (p *Portal) loadWorkList(ctx context.Context, district string) (WorkList, error) {
	path := kernel.JurisdictionPath(district)
	if path.Validate("district") != nil || path.Depth() != kernel.LevelDistrict {
		return WorkList{}, errNotFound
	}
	names, err := directory.Names(ctx, p.db, []string{district})
	if err != nil {
		return WorkList{}, err
	}
	if names[district] == "" {
		return WorkList{}, errNotFound
	}
	duties, admissions, err := directory.WorkList(ctx, p.db, district)
	if err != nil {
		return WorkList{}, err
	}
	out := WorkList{District: district, DistrictName: names[district], Duties: make([]DutyInfo, 0, len(duties)), Admissions: make([]Admission, 0, len(admissions))}
	for _, d := range duties {
		info := DutyInfo{DutyID: d.DutyID, ListName: label(listNames, string(d.List)), Title: Redact(d.Title), Basis: Redact(d.Basis),
			ListedAt: local(d.ListedAt), Reason: Redact(d.Reason), Source: src(d.EventID.String(), d.Commit)}
		if d.DelistedAt != nil {
			info.DelistedAt = localPtr(*d.DelistedAt)
		}
		out.Duties = append(out.Duties, info)
	}
	for _, a := range admissions {
		ad := Admission{TaskID: a.TaskID, Department: Redact(a.Department), Title: Redact(a.Title), LegalBasis: Redact(a.LegalBasis),
			Funding: money(a.FundingFen), Status: a.Status, StatusName: label(admissionStates, a.Status), Reason: Redact(a.Reason),
			AppliedAt: local(a.AppliedAt), Source: src(a.EventID.String(), a.Commit)}
		if a.DecidedAt != nil {
			ad.DecidedAt = localPtr(*a.DecidedAt)
		}
		out.Admissions = append(out.Admissions, ad)
	}
	return out, nil
}

// worklistHref is the page of the list of the district a community path lies in.
func worklistHref(path string) string {
	district, ok := worklist.DistrictOf(kernel.JurisdictionPath(path))
	if !ok {
		return ""
	}
	return "/worklist/" + string(district)
}

func (p *Portal) loadCommunityTasks(ctx context.Context, id string) (CommunityTasks, error) {
	c, err := directory.CommunityByID(ctx, p.db, id)
	if err != nil {
		return CommunityTasks{}, err
	}
	tasks, err := directory.CommunityTasks(ctx, p.db, id, 200)
	if err != nil {
		return CommunityTasks{}, err
	}
	out := CommunityTasks{CommunityID: id, CommunityName: c.Name, WorklistHref: worklistHref(c.Path), Tasks: make([]ReceivedTask, 0, len(tasks))}
	for _, t := range tasks {
		rt := ReceivedTask{Department: Redact(t.Department), Title: Redact(t.Title), Allowed: t.Allowed, ReceivedAt: local(t.ReceivedAt),
			Source: src(t.EventID.String(), t.Commit)}
		switch {
		case !t.Allowed:
			rt.Basis = "未经准入"
		case t.TaskID != "":
			rt.Basis = "准入事项 " + t.TaskID
		default:
			rt.Basis = "清单事项 " + t.DutyID
		}
		if t.FundingFen > 0 {
			m := money(t.FundingFen)
			rt.Funding = &m
		}
		out.Tasks = append(out.Tasks, rt)
	}
	return out, nil
}

// worklistPage is GET /worklist/{path...}, not cached (as the registers).
func (p *Portal) worklistPage(w http.ResponseWriter, r *http.Request) {
	p.nodePage(w, r, "社区工作事项清单与准入", "worklist-page", func(ctx context.Context, path string) (any, string, string, error) {
		l, err := p.loadWorkList(ctx, path)
		return l, l.DistrictName, l.District, err
	})
}

// tasksPage is GET /c/{id}/tasks.
func (p *Portal) tasksPage(w http.ResponseWriter, r *http.Request) {
	p.registerPage(w, r, "交办工作事项", "tasks-page", func(ctx context.Context, id string) (any, error) { return p.loadCommunityTasks(ctx, id) })
}

type worklistIn struct {
	ConditionalParams
	District string `query:"district" maxLength:"64" doc:"The district's path, e.g. 33/3303/330303"`
}

// registerWorklistAPI registers the lists' JSON; op makes a public GET operation (registerAPI's).
func (p *Portal) registerWorklistAPI(api huma.API, op func(id, path, summary, desc string, body reflect.Type) huma.Operation) {
	registerNodeAPI(p, api, op("public-worklist", "/worklist", "A district's list of community work and its admission decisions (社区工作事项准入)",
		"The duties a community performs and those it assists the government with, and every department's application to push a task "+
			"onto communities with the district's decision and the funding that follows the task.", reflect.TypeFor[WorkList]()),
		"worklist", "没有这个区(县)的清单", "district",
		func(in *worklistIn) (ConditionalParams, string) { return in.ConditionalParams, in.District },
		func(ctx context.Context, path string) (any, error) { return p.loadWorkList(ctx, path) })
	huma.Register(api, op("public-community-tasks", "/communities/{id}/tasks", "The tasks pushed onto a community (交办工作事项)",
		"Each task a department pushed onto the community, with the duty or admission that allows it, or 未经准入.", reflect.TypeFor[CommunityTasks]()),
		func(ctx context.Context, in *CommunityParams) (*jsonOut, error) {
			if _, _, err := p.community(ctx, in.ID); err != nil {
				return nil, err
			}
			s := p.snapshot(ctx)
			return p.respond(ctx, in.ConditionalParams, "tasks|"+in.ID, s.FreshnessText(), func() (any, string, error) {
				t, err := p.loadCommunityTasks(ctx, in.ID)
				return t, "", err
			})
		})
}

// registerNodeAPI registers the JSON of a page of a node of the tree (a district's list, a street's or
// district's bulletins): of reads the request's conditions and path; a path the page does not exist for is
// a 404 naming field.
func registerNodeAPI[I any](p *Portal, api huma.API, o huma.Operation, name, missing, field string, of func(*I) (ConditionalParams, string),
	load func(ctx context.Context, path string) (any, error)) {
	huma.Register(api, o, func(ctx context.Context, in *I) (*jsonOut, error) {
		cond, path := of(in)
		s := p.snapshot(ctx)
		return p.respond(ctx, cond, name+"|"+path, s.FreshnessText(), func() (any, string, error) {
			v, err := load(ctx, path)
			if notFound(err) {
				return nil, "", httpapi.NewProblem(http.StatusNotFound, httpapi.CodeNotFound, missing, field)
			}
			return v, "", err
		})
	})
}
