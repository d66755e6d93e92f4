// Package worklist is the admission list for work entering communities (社区工作事项准入, seed 001; 权责清单,
// seeds 001 and 004): a district publishes the duties a community performs (履职事项) and the tasks it
// assists the government with (协助事项); a department that wants to push another task onto communities
// applies for admission (准入审批: department, task, legal basis, the funding that follows the task — 费随事转)
// and the district admits or refuses it. A task a community records as pushed onto it that is neither on
// the list nor admitted breaks work-admission (watched: "不得转嫁给社区").
//
// One stream per district, worklist-<district code>-list; a community's tasks in
// worklist-<communityID>-tasks.
package worklist

import (
	"slices"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// List is which list a duty is on.
type List string

const (
	Performs List = "performs" // 依法履职事项
	Assists  List = "assists"  // 协助政府工作事项
)

// Lists lists the lists, in the order the API documents them.
func Lists() []List { return []List{Performs, Assists} }

// Valid reports whether l is a known list.
func (l List) Valid() bool { return slices.Contains(Lists(), l) }

// DutyListed records a duty put on the district's list.
type DutyListed struct {
	District kernel.JurisdictionPath `json:"district"`
	DutyID   string                  `json:"duty_id"`
	List     List                    `json:"list"`
	Title    string                  `json:"title"`
	Basis    string                  `json:"basis"`
	ListedAt time.Time               `json:"listed_at"`
}

func (DutyListed) EventName() string  { return "worklist.duty-listed" }
func (DutyListed) SchemaVersion() int { return 1 }

// DutyDelisted records a duty taken off the list.
type DutyDelisted struct {
	District   kernel.JurisdictionPath `json:"district"`
	DutyID     string                  `json:"duty_id"`
	Reason     string                  `json:"reason"`
	DelistedAt time.Time               `json:"delisted_at"`
}

func (DutyDelisted) EventName() string  { return "worklist.duty-delisted" }
func (DutyDelisted) SchemaVersion() int { return 1 }

// TaskApplied records a department's application to push a task onto the district's communities.
type TaskApplied struct {
	District   kernel.JurisdictionPath `json:"district"`
	TaskID     string                  `json:"task_id"`
	Department string                  `json:"department"`
	Title      string                  `json:"title"`
	LegalBasis string                  `json:"legal_basis"`
	Funding    kernel.Fen              `json:"funding_fen"` // per community per year: 费随事转
	AppliedAt  time.Time               `json:"applied_at"`
}

func (TaskApplied) EventName() string  { return "worklist.task-applied" }
func (TaskApplied) SchemaVersion() int { return 1 }

// TaskDecided records the district's decision on an application: admitted, or refused with the reason.
type TaskDecided struct {
	District  kernel.JurisdictionPath `json:"district"`
	TaskID    string                  `json:"task_id"`
	Admitted  bool                    `json:"admitted"`
	Reason    string                  `json:"reason"`
	DecidedAt time.Time               `json:"decided_at"`
}

func (TaskDecided) EventName() string  { return "worklist.task-decided" }
func (TaskDecided) SchemaVersion() int { return 1 }

// TaskReceived records a task a department pushed onto a community, as the community's clerk records it,
// with what allows it: a duty on the list, or an admitted task. One allowed by neither carries the
// work-admission breach.
type TaskReceived struct {
	RecordID   string     `json:"record_id"`
	Department string     `json:"department"`
	Title      string     `json:"title"`
	DutyID     string     `json:"duty_id,omitempty"`
	TaskID     string     `json:"task_id,omitempty"`
	Funding    kernel.Fen `json:"funding_fen,omitempty"` // what the admission says follows the task
	ReceivedAt time.Time  `json:"received_at"`
	kernel.Watch
}

func (TaskReceived) EventName() string  { return "worklist.task-received" }
func (TaskReceived) SchemaVersion() int { return 1 }

// RegisterEvents adds the package's events to r.
func RegisterEvents(r *kernel.Registry) error {
	return kernel.RegisterAll(r,
		kernel.Register[DutyListed],
		kernel.Register[DutyDelisted],
		kernel.Register[TaskApplied],
		kernel.Register[TaskDecided],
		kernel.Register[TaskReceived],
	)
}

// ListStream is a district's list, worklist-<district code>-list.
func ListStream(district kernel.JurisdictionPath) string {
	return eventlog.StreamName("worklist", district.Last(), "list")
}

// DistrictOf is the district (区/县) a community's path lies in; false above the district level.
func DistrictOf(path kernel.JurisdictionPath) (kernel.JurisdictionPath, bool) {
	if path.Depth() < kernel.LevelDistrict {
		return "", false
	}
	return path.Ancestors()[kernel.LevelDistrict-1], true
}

// TasksStream is a community's received tasks, worklist-<communityID>-tasks.
func TasksStream(c kernel.CommunityID) string {
	return eventlog.StreamName("worklist", string(c), "tasks")
}
