package portal

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"slices"

	"github.com/danielgtaylor/huma/v2"

	"github.com/grassroots-ledger/ledger/projections/directory"
	"github.com/grassroots-ledger/ledger/projections/finances"
)

// A community's workers (社区工作者) as the public sees them: how many, on which posts of 三岗十八级, against
// the posts (职数) the community has; each year's hires, departures and training; and what the community
// paid its workers by component (基本工资、绩效工资、年度奖励) — aggregates only, never a worker's name or
// one worker's pay.

// WorkerRoster is a community's workers.
type WorkerRoster struct {
	CommunityID   string       `json:"community_id"`
	CommunityName string       `json:"community_name"`
	Active        int          `json:"active" doc:"Workers on the roster"`
	Members       int          `json:"members" doc:"Of them, members of the committee"`
	Posts         int          `json:"posts" doc:"The community's posts (职数) under staffing-limit; 0 when no roster was recorded"`
	Over          bool         `json:"over" doc:"More workers than posts"`
	ByPost        []PostLine   `json:"by_post" doc:"Workers on the roster by post, the head first, then by grade"`
	Years         []WorkerYear `json:"years" doc:"The newest year first"`
	Source        *Source      `json:"source,omitempty" doc:"The roster's last event"`
}

// PostLine is how many workers hold one post.
type PostLine struct {
	Series   string `json:"series" enum:"head,deputy,staff"`
	Grade    int    `json:"grade"`
	PostName string `json:"post_name"`
	Count    int    `json:"count"`
}

// WorkerYear is one year of a community's workers.
type WorkerYear struct {
	Year          int       `json:"year"`
	Hired         int       `json:"hired"`
	Left          int       `json:"left"`
	TrainingHours int       `json:"training_hours"`
	Trainings     int       `json:"trainings" doc:"Courses attended (one per worker and course)"`
	Attendees     int       `json:"attendees" doc:"Workers who attended at least one course"`
	Pay           []PayLine `json:"pay" doc:"Paid to the workers in the fiscal year, by component"`
	PayTotal      Money     `json:"pay_total"`
}

// PayLine is what a community paid its workers in a year for one component.
type PayLine struct {
	Component     string `json:"component" enum:"basic,performance,annual-bonus"`
	ComponentName string `json:"component_name"`
	Paid          Money  `json:"paid"`
	Payments      int    `json:"payments"`
}

func (p *Portal) loadWorkers(ctx context.Context, id string) (WorkerRoster, error) {
	name, err := p.communityName(ctx, id)
	if err != nil {
		return WorkerRoster{}, err
	}
	out := WorkerRoster{CommunityID: id, CommunityName: name, ByPost: []PostLine{}, Years: []WorkerYear{}}
	wf, err := directory.WorkforceOf(ctx, p.db, id)
	switch {
	case errors.Is(err, directory.ErrNotFound):
	case err != nil:
		return WorkerRoster{}, err
	default:
		out.Active, out.Members, out.Posts, out.Over = wf.Active, wf.Members, wf.Posts, wf.Active > wf.Posts
		out.Source = src(wf.EventID.String(), wf.Commit)
	}
	for _, pc := range wf.ByPost {
		out.ByPost = append(out.ByPost, PostLine{Series: string(pc.Post.Series), Grade: pc.Post.Grade, PostName: pc.Post.Chinese(), Count: pc.Count})
	}
	pay, payYears, err := finances.PayTotals(ctx, p.db, id)
	if err != nil {
		return WorkerRoster{}, err
	}
	years := map[int]*WorkerYear{}
	var order []int
	year := func(y int) *WorkerYear {
		if years[y] == nil {
			years[y] = &WorkerYear{Year: y, Pay: []PayLine{}}
			order = append(order, y)
		}
		return years[y]
	}
	for _, wy := range wf.Years {
		y := year(wy.Year)
		y.Hired, y.Left, y.TrainingHours, y.Trainings, y.Attendees = wy.Hired, wy.Left, wy.TrainingHours, wy.Trainings, wy.Attendees
	}
	for _, py := range payYears {
		y, total := year(py), int64(0)
		for _, t := range pay[py] {
			y.Pay = append(y.Pay, PayLine{Component: string(t.Component), ComponentName: t.Component.Chinese(), Paid: money(int64(t.Paid)), Payments: t.Payments})
			total += int64(t.Paid)
		}
		y.PayTotal = money(total)
	}
	slices.Sort(order)
	slices.Reverse(order)
	for _, y := range order {
		out.Years = append(out.Years, *years[y])
	}
	return out, nil
}

// workersPage is GET /c/{id}/workers.
func (p *Portal) workersPage(w http.ResponseWriter, r *http.Request) {
	p.registerPage(w, r, "社区工作者", "workers-page", func(ctx context.Context, id string) (any, error) { return p.loadWorkers(ctx, id) })
}

// registerWorkerAPI registers the workers' JSON; op makes a public GET operation (registerAPI's).
func (p *Portal) registerWorkerAPI(api huma.API, op func(id, path, summary, desc string, body reflect.Type) huma.Operation) {
	p.registerRegisterAPI(api, op("public-workers", "/communities/{id}/workers", "A community's workers (社区工作者)",
		"How many workers, on which posts of 三岗十八级, against the community's posts (职数); each year's hires, departures and "+
			"training; and what the community paid its workers by component (基本工资、绩效工资、年度奖励). Aggregates only: never a "+
			"worker's name or one worker's pay.",
		reflect.TypeFor[WorkerRoster]()), "workers", func(ctx context.Context, q directory.Querier, id string) (string, error) {
		roster, err := directory.WorkersFingerprint(ctx, q, id)
		if err != nil {
			return "", err
		}
		pay, err := finances.PayFingerprint(ctx, q, id)
		return roster + "|" + pay, err
	}, func(ctx context.Context, id string) (any, error) { return p.loadWorkers(ctx, id) })
}
