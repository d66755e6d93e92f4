package commands

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/worklist"
)

// The admission list for work entering communities (社区工作事项准入): a district's list (Administer on the
// district: worklist-<code>-list) and the tasks each community records as pushed onto it (RecordAffairs:
// worklist-<communityID>-tasks).

// ListDuty puts a duty on a district's list (列入清单).
type ListDuty struct {
	District string        `json:"district" minLength:"1" maxLength:"512" pattern:"^[A-Za-z0-9_]+(/[A-Za-z0-9_]+){0,6}$" doc:"The district's path (区/县), e.g. 33/3303/330303"`
	DutyID   string        `json:"duty_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"Id of the duty"`
	List     worklist.List `json:"list" doc:"performs 依法履职事项, assists 协助政府工作事项"`
	Title    string        `json:"title" minLength:"1" maxLength:"200" doc:"The duty (事项名称)"`
	Basis    string        `json:"basis" minLength:"1" maxLength:"500" doc:"What sets it (设定依据)"`
}

// ListDuty handles list-duty.
func (h *Handlers) ListDuty(ctx context.Context, m Meta, c ListDuty) (Result, error) {
	return h.onWorklist(ctx, m, c.District, func(d *worklist.District, path kernel.JurisdictionPath, now time.Time) ([]kernel.Event, error) {
		return d.ListDuty(path, c.DutyID, c.List, c.Title, c.Basis, now)
	})
}

// DelistDuty takes a duty off a district's list (移出清单).
type DelistDuty struct {
	District string `json:"district" minLength:"1" maxLength:"512" pattern:"^[A-Za-z0-9_]+(/[A-Za-z0-9_]+){0,6}$" doc:"The district's path (区/县), e.g. 33/3303/330303"`
	DutyID   string `json:"duty_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The duty"`
	Reason   string `json:"reason" minLength:"1" maxLength:"500" doc:"Why it leaves the list"`
}

// DelistDuty handles delist-duty.
func (h *Handlers) DelistDuty(ctx context.Context, m Meta, c DelistDuty) (Result, error) {
	return h.onWorklist(ctx, m, c.District, func(d *worklist.District, path kernel.JurisdictionPath, now time.Time) ([]kernel.Event, error) {
		return d.DelistDuty(path, c.DutyID, c.Reason, now)
	})
}

// ApplyTaskAdmission records a department's application to push a task onto the district's communities
// (准入申请), recorded by the district.
type ApplyTaskAdmission struct {
	District   string `json:"district" minLength:"1" maxLength:"512" pattern:"^[A-Za-z0-9_]+(/[A-Za-z0-9_]+){0,6}$" doc:"The district's path (区/县), e.g. 33/3303/330303"`
	TaskID     string `json:"task_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"Id of the task"`
	Department string `json:"department" minLength:"1" maxLength:"200" doc:"The department applying"`
	Title      string `json:"title" minLength:"1" maxLength:"200" doc:"The task"`
	LegalBasis string `json:"legal_basis" minLength:"1" maxLength:"500" doc:"Its legal basis (法律依据)"`
	FundingFen int64  `json:"funding_fen" minimum:"0" maximum:"10000000000000" doc:"The funding that follows the task, per community per year, in fen (费随事转)"`
}

// ApplyTaskAdmission handles apply-task-admission.
func (h *Handlers) ApplyTaskAdmission(ctx context.Context, m Meta, c ApplyTaskAdmission) (Result, error) {
	return h.onWorklist(ctx, m, c.District, func(d *worklist.District, path kernel.JurisdictionPath, now time.Time) ([]kernel.Event, error) {
		return d.ApplyTask(path, worklist.ApplyTask{TaskID: c.TaskID, Department: c.Department, Title: c.Title, LegalBasis: c.LegalBasis,
			Funding: kernel.Fen(c.FundingFen)}, now)
	})
}

// DecideTaskAdmission admits or refuses an application (准入审批).
type DecideTaskAdmission struct {
	District string `json:"district" minLength:"1" maxLength:"512" pattern:"^[A-Za-z0-9_]+(/[A-Za-z0-9_]+){0,6}$" doc:"The district's path (区/县), e.g. 33/3303/330303"`
	TaskID   string `json:"task_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The task applied for"`
	Admit    bool   `json:"admit" doc:"true admits it; false refuses it (with the reason)"`
	Reason   string `json:"reason,omitempty" maxLength:"500" doc:"Why it is refused (required then)"`
}

// DecideTaskAdmission handles decide-task-admission.
func (h *Handlers) DecideTaskAdmission(ctx context.Context, m Meta, c DecideTaskAdmission) (Result, error) {
	return h.onWorklist(ctx, m, c.District, func(d *worklist.District, path kernel.JurisdictionPath, now time.Time) ([]kernel.Event, error) {
		return d.DecideTask(path, c.TaskID, c.Admit, strings.TrimSpace(c.Reason), now)
	})
}

// onWorklist runs a command on a district's list, admitted for Administer on the district.
func (h *Handlers) onWorklist(ctx context.Context, m Meta, district string,
	decide func(d *worklist.District, path kernel.JurisdictionPath, now time.Time) ([]kernel.Event, error)) (Result, error) {
	path := kernel.JurisdictionPath(district)
	return h.x.execute(ctx, m, Administer, func() (Target, error) {
		if err := checkPath(path, "district"); err != nil {
			return Target{}, err
		}
		return Target{Stream: worklist.ListStream(path), Path: path}, nil
	}, func(history []kernel.Event, now time.Time) ([]kernel.Event, error) {
		if err := h.requireNode(ctx, path, "district"); err != nil {
			return nil, err
		}
		return decide(worklist.RehydrateDistrict(history), path, now)
	})
}

// RecordCommunityTask records a task a department pushed onto the community (工作事项登记), with the duty on
// the district's list or the admitted task that allows it, as its paperwork says; one allowed by neither is
// recorded with a work-admission breach.
type RecordCommunityTask struct {
	CommunityID string `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	RecordID    string `json:"record_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"Id of this record"`
	Department  string `json:"department" minLength:"1" maxLength:"200" doc:"The department that pushed it (交办部门)"`
	Title       string `json:"title" minLength:"1" maxLength:"200" doc:"The task"`
	DutyID      string `json:"duty_id,omitempty" maxLength:"64" doc:"The duty of the district's list it falls under, if any"`
	TaskID      string `json:"task_id,omitempty" maxLength:"64" doc:"The admitted task it is, if any"`
}

// communityTasks is a community's one stream of received tasks.
var communityTasks = kind[*worklist.Tasks]{"record_id", func(c kernel.CommunityID, _ string) string { return worklist.TasksStream(c) },
	worklist.RehydrateTasks}

// RecordCommunityTask handles record-community-task; the district's list is read once the command is
// admitted.
func (h *Handlers) RecordCommunityTask(ctx context.Context, m Meta, c RecordCommunityTask) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, communityTasks, c.RecordID, func(t *worklist.Tasks, f Facts) ([]kernel.Event, error) {
		district, ok := worklist.DistrictOf(f.Community.Path())
		if !ok {
			return nil, fmt.Errorf("community %s lies above any district", f.Community.ID())
		}
		history, err := h.x.Load(ctx, worklist.ListStream(district))
		if err != nil {
			return nil, fmt.Errorf("read the list of %s: %w", district, err)
		}
		return t.Receive(worklist.Receive{RecordID: c.RecordID, Department: c.Department, Title: c.Title, DutyID: c.DutyID, TaskID: c.TaskID},
			worklist.RehydrateDistrict(history), f.Now)
	})
}
