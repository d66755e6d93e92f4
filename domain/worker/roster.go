package worker

import (
	"fmt"
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// Roster is the workers of one community. The zero value is an empty roster.
type Roster struct {
	workers   map[string]*employee
	trainings map[string]bool // worker id + "/" + training id
}

// employee is one worker as the roster keeps it.
type employee struct {
	person kernel.PersonID
	posts  []held
	hired  time.Time
	left   time.Time // zero while on the roster
}

// held is a post from a time on.
type held struct {
	post Post
	from time.Time
}

func (e *employee) post() Post   { return e.posts[len(e.posts)-1].post }
func (e *employee) active() bool { return e.left.IsZero() }

// Rehydrate rebuilds a roster from its history.
func Rehydrate(history []kernel.Event) *Roster { return kernel.Rehydrate(&Roster{}, history) }

// Apply changes state only.
func (r *Roster) Apply(e kernel.Event) {
	if r.workers == nil {
		r.workers, r.trainings = map[string]*employee{}, map[string]bool{}
	}
	switch e := e.(type) {
	case Hired:
		r.workers[e.WorkerID] = &employee{person: e.Person, posts: []held{{e.Post, e.HiredAt}}, hired: e.HiredAt}
	case PostChanged:
		if w := r.workers[e.WorkerID]; w != nil {
			w.posts = append(w.posts, held{e.To, e.ChangedAt})
		}
	case Trained:
		r.trainings[e.WorkerID+"/"+e.TrainingID] = true
	case Left:
		if w := r.workers[e.WorkerID]; w != nil {
			w.left = e.LeftAt
		}
	}
}

// Active is the number of workers on the roster.
func (r *Roster) Active() int {
	n := 0
	for _, w := range r.workers {
		if w.active() {
			n++
		}
	}
	return n
}

// Errors of the roster.
var (
	ErrWorkerNotFound  = kernel.NotFound("worker-not-found", "该社区工作者不在花名册上").WithField("worker_id")
	ErrWorkerExists    = kernel.Conflict("worker-already-hired", "该工作者编号已使用")
	ErrPersonOnRoster  = kernel.Conflict("person-already-on-roster", "此人已在本社区工作者花名册上")
	ErrWorkerLeft      = kernel.Rejected("worker-already-left", "该工作者已离职")
	ErrSamePost        = kernel.Invalid("same-post", "post", "新岗位与现岗位相同")
	ErrTrainingExists  = kernel.Conflict("training-already-recorded", "这次培训已登记")
	ErrNotEmployed     = kernel.Rejected("worker-not-employed", "该工作者在所付期间不在岗，不能发放薪酬")
	ErrBeforeHire      = kernel.Invalid("before-hire", "", "时间不能早于入职时间")
	ErrPayeeNotWorker  = kernel.Invalid("payee-not-worker", "payee.person", "薪酬须付给该工作者本人")
	ErrPayrollCategory = kernel.Invalid("payroll-not-salaries", "category", "社区工作者薪酬须列支于 salaries(社区工作者薪酬) 类别")
)

// Posts is the number of workers (职数) a community of households may have under staffing-limit: the
// rulebook's posts, or one per households-per-post when that is more.
func Posts(households int, p rulebook.Params) int {
	per := max(p.Count(rulebook.StaffingLimit, rulebook.ParamHouseholdsPerPost), 1)
	return max(p.Count(rulebook.StaffingLimit, rulebook.ParamPosts), (households+per-1)/per)
}

// staffing is the staffing-limit breach of a roster of n workers in a community of households, or nil.
func staffing(n, households int, p rulebook.Params) *kernel.Breach {
	limit := Posts(households, p)
	if n <= limit {
		return nil
	}
	return &kernel.Breach{Rule: rulebook.StaffingLimit, Detail: fmt.Sprintf("在岗社区工作者%d人，超过核定职数%d人(服务%d户)", n, limit, households)}
}

// Hire is the command to put a worker on the roster. HiredAt defaults to now.
type Hire struct {
	WorkerID string
	Person   kernel.PersonID
	Personal *kernel.PersonalData
	Post     Post
	Member   bool
	HiredAt  time.Time
}

// Hire records the hire at now, in a community of households; the event carries staffing-limit.
func (r *Roster) Hire(cmd Hire, households int, p rulebook.Params, now time.Time) ([]kernel.Event, error) {
	if err := kernel.Required(cmd.WorkerID, "worker_id", "工作者编号"); err != nil {
		return nil, err
	}
	if _, ok := r.workers[cmd.WorkerID]; ok {
		return nil, ErrWorkerExists
	}
	if err := kernel.Required(string(cmd.Person), "person", "工作者"); err != nil {
		return nil, err
	}
	if cmd.Personal == nil || cmd.Personal.Name == "" {
		return nil, kernel.Invalid("required", "personal.name", "工作者姓名不能为空")
	}
	if cmd.Personal.Subject != cmd.Person {
		return nil, kernel.Invalid("personal-data-subject-mismatch", "personal.subject", "个人信息须属于工作者本人")
	}
	for _, w := range r.workers {
		if w.person == cmd.Person && w.active() {
			return nil, ErrPersonOnRoster
		}
	}
	if err := cmd.Post.check(); err != nil {
		return nil, err
	}
	at, err := kernel.At(cmd.HiredAt, now, "hired_at")
	if err != nil {
		return nil, err
	}
	personal := *cmd.Personal
	e := Hired{WorkerID: cmd.WorkerID, Person: cmd.Person, Personal: &personal, Post: cmd.Post, Member: cmd.Member, HiredAt: at,
		Posts: Posts(households, p)}
	e.Breaches = kernel.Breaches(staffing(r.Active()+1, households, p))
	return []kernel.Event{e}, nil
}

// on returns an active worker, or the error that says why not.
func (r *Roster) on(id string) (*employee, error) {
	w := r.workers[id]
	switch {
	case w == nil:
		return nil, ErrWorkerNotFound
	case !w.active():
		return nil, ErrWorkerLeft
	}
	return w, nil
}

// since checks a time given for a fact about w (default now) and that it is not before the hire.
func since(w *employee, at, now time.Time, field string) (time.Time, error) {
	t, err := kernel.At(at, now, field)
	if err != nil {
		return t, err
	}
	if t.Before(w.posts[len(w.posts)-1].from) {
		return t, ErrBeforeHire.WithField(field)
	}
	return t, nil
}

// ChangePost moves a worker to another post or grade, from at (default now).
func (r *Roster) ChangePost(id string, to Post, reason string, at, now time.Time) ([]kernel.Event, error) {
	w, err := r.on(id)
	if err != nil {
		return nil, err
	}
	if err := to.check(); err != nil {
		return nil, err
	}
	if to == w.post() {
		return nil, ErrSamePost
	}
	if err := kernel.Required(reason, "reason", "调整原因"); err != nil {
		return nil, err
	}
	t, err := since(w, at, now, "changed_at")
	if err != nil {
		return nil, err
	}
	return []kernel.Event{PostChanged{WorkerID: id, From: w.post(), To: to, Reason: reason, ChangedAt: t}}, nil
}

// MaxTrainingHours is the most hours one course may record.
const MaxTrainingHours = 400

// RecordTraining records a course a worker attended, at at (default now).
func (r *Roster) RecordTraining(id, trainingID, course string, hours int, at, now time.Time) ([]kernel.Event, error) {
	w, err := r.on(id)
	if err != nil {
		return nil, err
	}
	if err := kernel.Required(trainingID, "training_id", "培训编号"); err != nil {
		return nil, err
	}
	if r.trainings[id+"/"+trainingID] {
		return nil, ErrTrainingExists
	}
	if err := kernel.Required(course, "course", "培训内容"); err != nil {
		return nil, err
	}
	if hours < 1 || hours > MaxTrainingHours {
		return nil, kernel.Invalid("invalid-training-hours", "hours", fmt.Sprintf("培训学时须为1—%d", MaxTrainingHours))
	}
	t, err := since(w, at, now, "trained_at")
	if err != nil {
		return nil, err
	}
	return []kernel.Event{Trained{WorkerID: id, TrainingID: trainingID, Course: course, Hours: hours, TrainedAt: t}}, nil
}

// Leave takes a worker off the roster at at (default now), in a community of households; the event
// carries staffing-limit as it stands after.
func (r *Roster) Leave(id string, reason LeaveReason, at time.Time, households int, p rulebook.Params, now time.Time) ([]kernel.Event, error) {
	w, err := r.on(id)
	if err != nil {
		return nil, err
	}
	if !reason.Valid() {
		return nil, kernel.Invalid("invalid-leave-reason", "reason", "离职原因须为 resigned、dismissed、retired、transferred 或 term-ended")
	}
	t, err := since(w, at, now, "left_at")
	if err != nil {
		return nil, err
	}
	e := Left{WorkerID: id, Reason: reason, LeftAt: t, Posts: Posts(households, p)}
	e.Breaches = kernel.Breaches(staffing(r.Active()-1, households, p))
	return []kernel.Event{e}, nil
}

// Payee checks a payment of component c for period to worker id, as a salary expenditure names it: the
// worker is on this community's roster and was employed during the period. It returns the worker's
// person, whom the expenditure must pay.
func (r *Roster) Payee(id string, c Component, period string) (kernel.PersonID, error) {
	w := r.workers[id]
	if w == nil {
		return "", ErrWorkerNotFound.WithField("payroll.worker_id")
	}
	pd, err := ParsePeriod(c, period)
	if err != nil {
		return "", err
	}
	if !w.hired.Before(pd.To) || !w.left.IsZero() && !w.left.After(pd.From) {
		return "", ErrNotEmployed.WithMsg("该工作者在%s不在岗，不能发放%s", pd.Text, c.Chinese())
	}
	return w.person, nil
}

// Band is the grade scale of a payment of component c for period to worker id, under the rulebook p of
// the community (pay-scale). The worker must have been employed during the period (see Payee).
func (r *Roster) Band(id string, c Component, period string, p rulebook.Params) (Band, error) {
	if _, err := r.Payee(id, c, period); err != nil {
		return Band{}, err
	}
	w := r.workers[id]
	pd, _ := ParsePeriod(c, period)
	from, to := w.hired, w.left
	if from.Before(pd.From) {
		from = pd.From
	}
	if to.IsZero() || to.After(pd.To) {
		to = pd.To
	}
	var posts []Post
	for i, h := range w.posts {
		until := pd.To
		if i+1 < len(w.posts) {
			until = w.posts[i+1].from
		}
		if h.from.Before(to) && until.After(from) {
			posts = append(posts, h.post)
		}
	}
	if len(posts) == 0 {
		posts = []Post{w.post()}
	}
	return band(c, pd, from, to, posts, p), nil
}
