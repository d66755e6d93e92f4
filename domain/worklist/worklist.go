package worklist

import (
	"fmt"
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// District is a district's admission list. The zero value is a district with no list yet.
type District struct {
	path   kernel.JurisdictionPath
	duties map[string]bool // listed (true) or delisted (false)
	tasks  map[string]*task
}

type task struct {
	decided, admitted bool
	funding           kernel.Fen
}

// RehydrateDistrict rebuilds a district's list from its history.
func RehydrateDistrict(history []kernel.Event) *District {
	return kernel.Rehydrate(&District{}, history)
}

// Apply changes state only.
func (d *District) Apply(e kernel.Event) {
	if d.duties == nil {
		d.duties, d.tasks = map[string]bool{}, map[string]*task{}
	}
	switch e := e.(type) {
	case DutyListed:
		d.path, d.duties[e.DutyID] = e.District, true
	case DutyDelisted:
		d.duties[e.DutyID] = false
	case TaskApplied:
		d.path, d.tasks[e.TaskID] = e.District, &task{funding: e.Funding}
	case TaskDecided:
		if t := d.tasks[e.TaskID]; t != nil {
			t.decided, t.admitted = true, e.Admitted
		}
	}
}

// Errors of the admission list.
var (
	ErrNotADistrict  = kernel.Invalid("not-a-district", "district", "准入清单由区(县)发布：请给出区(县)一级的辖区")
	ErrDutyExists    = kernel.Conflict("duty-already-listed", "该事项已在清单上")
	ErrDutyNotFound  = kernel.NotFound("duty-not-found", "清单上没有该事项")
	ErrTaskExists    = kernel.Conflict("task-already-applied", "该事项已申请准入")
	ErrTaskNotFound  = kernel.NotFound("task-not-found", "没有该准入申请")
	ErrTaskDecided   = kernel.Conflict("task-already-decided", "该准入申请已作出决定")
	ErrRefusalReason = kernel.Invalid("required", "reason", "不予准入须说明理由")
)

// ListDuty puts a duty on the list of district path at now.
func (d *District) ListDuty(path kernel.JurisdictionPath, id string, list List, title, basis string, now time.Time) ([]kernel.Event, error) {
	if path.Depth() != kernel.LevelDistrict {
		return nil, ErrNotADistrict
	}
	if err := kernel.Required(id, "duty_id", "事项编号"); err != nil {
		return nil, err
	}
	if d.duties[id] {
		return nil, ErrDutyExists
	}
	if !list.Valid() {
		return nil, kernel.Invalid("invalid-list", "list", "清单须为 performs(依法履职事项) 或 assists(协助政府工作事项)")
	}
	if err := kernel.Required(title, "title", "事项名称"); err != nil {
		return nil, err
	}
	if err := kernel.Required(basis, "basis", "设定依据"); err != nil {
		return nil, err
	}
	return []kernel.Event{DutyListed{District: path, DutyID: id, List: list, Title: title, Basis: basis, ListedAt: now.UTC()}}, nil
}

// DelistDuty takes a duty off the list at now.
func (d *District) DelistDuty(path kernel.JurisdictionPath, id, reason string, now time.Time) ([]kernel.Event, error) {
	if !d.duties[id] {
		return nil, ErrDutyNotFound.WithField("duty_id")
	}
	if err := kernel.Required(reason, "reason", "移出清单的理由"); err != nil {
		return nil, err
	}
	return []kernel.Event{DutyDelisted{District: path, DutyID: id, Reason: reason, DelistedAt: now.UTC()}}, nil
}

// ApplyTask is the command to apply for a task's admission.
type ApplyTask struct {
	TaskID, Department, Title, LegalBasis string
	Funding                               kernel.Fen
}

// ApplyTask records a department's application at now.
func (d *District) ApplyTask(path kernel.JurisdictionPath, cmd ApplyTask, now time.Time) ([]kernel.Event, error) {
	if path.Depth() != kernel.LevelDistrict {
		return nil, ErrNotADistrict
	}
	if err := kernel.Required(cmd.TaskID, "task_id", "事项编号"); err != nil {
		return nil, err
	}
	if d.tasks[cmd.TaskID] != nil {
		return nil, ErrTaskExists
	}
	for _, f := range []struct{ v, field, what string }{{cmd.Department, "department", "申请部门"}, {cmd.Title, "title", "事项名称"},
		{cmd.LegalBasis, "legal_basis", "法律依据"}} {
		if err := kernel.Required(f.v, f.field, f.what); err != nil {
			return nil, err
		}
	}
	if err := kernel.CheckAmount(cmd.Funding, "funding_fen", true); err != nil {
		return nil, err
	}
	return []kernel.Event{TaskApplied{District: path, TaskID: cmd.TaskID, Department: cmd.Department, Title: cmd.Title,
		LegalBasis: cmd.LegalBasis, Funding: cmd.Funding, AppliedAt: now.UTC()}}, nil
}

// DecideTask admits or refuses (with the reason) an application at now.
func (d *District) DecideTask(path kernel.JurisdictionPath, id string, admit bool, reason string, now time.Time) ([]kernel.Event, error) {
	t := d.tasks[id]
	if t == nil {
		return nil, ErrTaskNotFound.WithField("task_id")
	}
	if t.decided {
		return nil, ErrTaskDecided
	}
	if !admit && reason == "" {
		return nil, ErrRefusalReason
	}
	return []kernel.Event{TaskDecided{District: path, TaskID: id, Admitted: admit, Reason: reason, DecidedAt: now.UTC()}}, nil
}

// Receive is the command recording a task pushed onto a community.
type Receive struct {
	RecordID, Department, Title string
	// DutyID or TaskID is what allows it, as the clerk reads the task's paperwork (both may be empty).
	DutyID, TaskID string
}

// Tasks is a community's received tasks. The zero value has none.
type Tasks struct{ records map[string]bool }

// RehydrateTasks rebuilds a community's received tasks from their history.
func RehydrateTasks(history []kernel.Event) *Tasks { return kernel.Rehydrate(&Tasks{}, history) }

// Apply changes state only.
func (t *Tasks) Apply(e kernel.Event) {
	if t.records == nil {
		t.records = map[string]bool{}
	}
	if e, ok := e.(TaskReceived); ok {
		t.records[e.RecordID] = true
	}
}

// ErrRecordExists: the record id was used.
var ErrRecordExists = kernel.Conflict("task-already-recorded", "该工作事项已登记")

// Receive records a task pushed onto the community at now, checked against its district's list d: a
// duty on the list or an admitted task allows it; otherwise it carries the work-admission breach. A duty or
// task named that the district never had is refused (a typo would hide the breach).
func (t *Tasks) Receive(cmd Receive, d *District, now time.Time) ([]kernel.Event, error) {
	if err := kernel.Required(cmd.RecordID, "record_id", "登记编号"); err != nil {
		return nil, err
	}
	if t.records[cmd.RecordID] {
		return nil, ErrRecordExists
	}
	if err := kernel.Required(cmd.Department, "department", "交办部门"); err != nil {
		return nil, err
	}
	if err := kernel.Required(cmd.Title, "title", "事项名称"); err != nil {
		return nil, err
	}
	e := TaskReceived{RecordID: cmd.RecordID, Department: cmd.Department, Title: cmd.Title, DutyID: cmd.DutyID, TaskID: cmd.TaskID,
		ReceivedAt: now.UTC()}
	if d == nil {
		d = &District{}
	}
	allowed := false
	if cmd.DutyID != "" {
		listed, known := d.duties[cmd.DutyID]
		if !known {
			return nil, ErrDutyNotFound.WithField("duty_id")
		}
		allowed = listed
	}
	if cmd.TaskID != "" {
		tk := d.tasks[cmd.TaskID]
		if tk == nil {
			return nil, ErrTaskNotFound.WithField("task_id")
		}
		if tk.admitted {
			allowed, e.Funding = true, tk.funding
		}
	}
	if !allowed {
		e.Breaches = []kernel.Breach{{Rule: rulebook.WorkAdmission, Detail: fmt.Sprintf("%s交办的“%s”既不在社区工作事项清单上，也未经准入，不得转嫁给社区",
			cmd.Department, cmd.Title)}}
	}
	return []kernel.Event{e}, nil
}
