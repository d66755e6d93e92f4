package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/worker"
)

// Community workers (社区工作者): one roster stream per community, worker-<communityID>-roster.

// Post is a place in the “三岗十八级” structure.
type Post struct {
	Series worker.Series `json:"series" doc:"head 社区正职, deputy 社区副职, staff 社区专职工作者"`
	Grade  int           `json:"grade" minimum:"1" maximum:"18" doc:"Grade 1–18 (十八级); the grade's basic pay is the rulebook's pay-scale"`
}

func (p Post) of() worker.Post { return worker.Post{Series: p.Series, Grade: p.Grade} }

// onRoster runs a decision on the community's roster with the rulebook in force and the community's
// households (the staffing limit is counted from them).
func onRoster(ctx context.Context, h *Handlers, m Meta, communityID string,
	decide func(r *worker.Roster, f Facts, p rulebook.Params, households int) ([]kernel.Event, error)) (Result, error) {
	return onCommunity(ctx, h, m, RecordAffairs, communityID, worker.Stream, worker.Rehydrate,
		ruled(func(r *worker.Roster, f Facts, p rulebook.Params) ([]kernel.Event, error) {
			return decide(r, f, p, f.Community.Figures().Households)
		}))
}

// HireWorker puts a worker on the community's roster (聘用) on a post. The worker's name is personal data:
// sealed in the log, never public; the public sees how many workers hold which posts.
type HireWorker struct {
	CommunityID string    `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	WorkerID    string    `json:"worker_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"Id of the worker on the roster"`
	Person      string    `json:"person" minLength:"1" maxLength:"128" doc:"Person id of the worker (the payee of the worker's salaries)"`
	Personal    *Personal `json:"personal" doc:"The worker's personal data; name required"`
	Post        Post      `json:"post" doc:"The post the worker is hired on"`
	Member      bool      `json:"member,omitempty" doc:"The worker is also a (full-time) member of the committee"`
	HiredAt     time.Time `json:"hired_at,omitzero" doc:"When the employment starts (RFC 3339); default now"`
}

// HireWorker handles hire-worker. The hire that takes the roster past the community's posts (职数) is
// recorded with staffing-limit.
func (h *Handlers) HireWorker(ctx context.Context, m Meta, c HireWorker) (Result, error) {
	if err := checkID(c.WorkerID, "worker_id"); err != nil {
		return Result{}, err
	}
	return onRoster(ctx, h, m, c.CommunityID, func(r *worker.Roster, f Facts, p rulebook.Params, households int) ([]kernel.Event, error) {
		return r.Hire(worker.Hire{WorkerID: c.WorkerID, Person: kernel.PersonID(c.Person), Personal: c.Personal.of(c.Person), Post: c.Post.of(),
			Member: c.Member, HiredAt: c.HiredAt}, households, p, f.Now)
	})
}

// ChangeWorkerPost moves a worker to another post or grade (晋级, 转岗).
type ChangeWorkerPost struct {
	CommunityID string    `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	WorkerID    string    `json:"worker_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The worker"`
	Post        Post      `json:"post" doc:"The new post"`
	Reason      string    `json:"reason" minLength:"1" maxLength:"500" doc:"Why (年度考核晋级, 竞聘, 转岗 …)"`
	ChangedAt   time.Time `json:"changed_at,omitzero" doc:"From when (RFC 3339); default now"`
}

// ChangeWorkerPost handles change-worker-post.
func (h *Handlers) ChangeWorkerPost(ctx context.Context, m Meta, c ChangeWorkerPost) (Result, error) {
	return onRoster(ctx, h, m, c.CommunityID, func(r *worker.Roster, f Facts, _ rulebook.Params, _ int) ([]kernel.Event, error) {
		return r.ChangePost(c.WorkerID, c.Post.of(), c.Reason, c.ChangedAt, f.Now)
	})
}

// RecordWorkerTraining records a course a worker attended (培训) and its hours.
type RecordWorkerTraining struct {
	CommunityID string    `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	WorkerID    string    `json:"worker_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The worker"`
	TrainingID  string    `json:"training_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"Id of the training within the worker's record"`
	Course      string    `json:"course" minLength:"1" maxLength:"200" doc:"The course (培训内容) and who held it"`
	Hours       int       `json:"hours" minimum:"1" maximum:"400" doc:"Hours of training (学时)"`
	TrainedAt   time.Time `json:"trained_at,omitzero" doc:"When (RFC 3339); default now"`
}

// RecordWorkerTraining handles record-worker-training.
func (h *Handlers) RecordWorkerTraining(ctx context.Context, m Meta, c RecordWorkerTraining) (Result, error) {
	return onRoster(ctx, h, m, c.CommunityID, func(r *worker.Roster, f Facts, _ rulebook.Params, _ int) ([]kernel.Event, error) {
		return r.RecordTraining(c.WorkerID, c.TrainingID, c.Course, c.Hours, c.TrainedAt, f.Now)
	})
}

// RecordWorkerLeave takes a worker off the roster (离职).
type RecordWorkerLeave struct {
	CommunityID string             `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	WorkerID    string             `json:"worker_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The worker"`
	Reason      worker.LeaveReason `json:"reason" doc:"resigned 辞职, dismissed 解聘, retired 退休, transferred 调任, term-ended 合同期满"`
	LeftAt      time.Time          `json:"left_at,omitzero" doc:"When the employment ends (RFC 3339); default now"`
}

// RecordWorkerLeave handles record-worker-leave.
func (h *Handlers) RecordWorkerLeave(ctx context.Context, m Meta, c RecordWorkerLeave) (Result, error) {
	return onRoster(ctx, h, m, c.CommunityID, func(r *worker.Roster, f Facts, p rulebook.Params, households int) ([]kernel.Event, error) {
		return r.Leave(c.WorkerID, c.Reason, c.LeftAt, households, p, f.Now)
	})
}

// Payroll is what a salary pays: the worker, the component and its period.
type Payroll struct {
	WorkerID  string           `json:"worker_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The worker on the community's roster"`
	Component worker.Component `json:"component" doc:"basic 基本工资 (period 2026-11), performance 绩效工资 (period 2026-Q4), annual-bonus 年度奖励 (period 2026)"`
	Period    string           `json:"period" minLength:"4" maxLength:"7" doc:"The month, quarter or year paid for"`
}

// roster reads the community's roster, for a salary's checks.
func (h *Handlers) roster(ctx context.Context, c kernel.CommunityID) (*worker.Roster, error) {
	history, err := h.x.Load(ctx, worker.Stream(c))
	if err != nil {
		return nil, fmt.Errorf("look up the roster of %s: %w", c, err)
	}
	return worker.Rehydrate(history), nil
}
