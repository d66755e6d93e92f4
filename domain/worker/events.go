// Package worker is the roster of a community's workers (社区工作者, seeds 000, 001, 004): not only the
// committee members but everyone the community pays to work for it, each on a post of the “三岗十八级”
// structure (a post series — 社区正职, 社区副职, 社区专职工作者 — and a grade from 1 to 18), hired, moved
// between posts, trained and leaving. Their pay is 基本工资 + 绩效工资 + 年度奖励: the salary expenditures
// of the funds ledger name the worker, the component and the period they pay (funds.Payroll), and the
// grade scale of the rulebook (pay-scale, per jurisdiction) says what the worker's post earns — a payment
// outside it is watched. The number of workers is watched against the posts (职数) the community's size
// allows (staffing-limit).
//
// One stream per community: worker-<communityID>-roster. A community has a handful of workers, so the
// whole roster decides each command: the staffing count is exact, never a lagging read model.
package worker

import (
	"fmt"
	"slices"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// Series is the post series of “三岗”.
type Series string

const (
	Head   Series = "head"   // 社区正职
	Deputy Series = "deputy" // 社区副职
	Staff  Series = "staff"  // 社区专职工作者
)

// SeriesList lists the post series, in the order the API documents them.
func SeriesList() []Series { return []Series{Head, Deputy, Staff} }

// Valid reports whether s is a known series.
func (s Series) Valid() bool { return slices.Contains(SeriesList(), s) }

// Chinese names the series.
func (s Series) Chinese() string {
	switch s {
	case Head:
		return "社区正职"
	case Deputy:
		return "社区副职"
	case Staff:
		return "社区专职工作者"
	}
	return string(s)
}

// Grades is the number of grades of each series (“十八级”).
const Grades = 18

// Post is a worker's place in the structure: the series and the grade (1–18).
type Post struct {
	Series Series `json:"series"`
	Grade  int    `json:"grade"`
}

// Chinese names the post: "社区专职工作者5级".
func (p Post) Chinese() string { return fmt.Sprintf("%s%d级", p.Series.Chinese(), p.Grade) }

func (p Post) check() error {
	if !p.Series.Valid() {
		return kernel.Invalid("invalid-post-series", "post.series", "岗位须为 head(社区正职)、deputy(社区副职) 或 staff(社区专职工作者)")
	}
	if p.Grade < 1 || p.Grade > Grades {
		return kernel.Invalid("invalid-post-grade", "post.grade", fmt.Sprintf("岗位等级须为1—%d级", Grades))
	}
	return nil
}

// LeaveReason says why a worker left.
type LeaveReason string

const (
	Resigned    LeaveReason = "resigned"    // 辞职
	Dismissed   LeaveReason = "dismissed"   // 解聘
	Retired     LeaveReason = "retired"     // 退休
	Transferred LeaveReason = "transferred" // 调任(招录为公务员、事业编等)
	TermEnded   LeaveReason = "term-ended"  // 合同期满(或未连任)
)

// LeaveReasons lists the reasons, in the order the API documents them.
func LeaveReasons() []LeaveReason {
	return []LeaveReason{Resigned, Dismissed, Retired, Transferred, TermEnded}
}

// Valid reports whether r is a known reason.
func (r LeaveReason) Valid() bool { return slices.Contains(LeaveReasons(), r) }

// Chinese names the reason.
func (r LeaveReason) Chinese() string {
	switch r {
	case Resigned:
		return "辞职"
	case Dismissed:
		return "解聘"
	case Retired:
		return "退休"
	case Transferred:
		return "调任"
	case TermEnded:
		return "合同期满"
	}
	return string(r)
}

// Hired records a worker joining the roster on a post. The worker is a private person: the name is
// personal data (sealed, never public); the public sees the number of workers and their posts. Member
// says whether the worker is also a member of the committee (a full-time member is paid as a worker). It
// carries staffing-limit: whether the roster, with this worker, exceeds the community's posts.
type Hired struct {
	WorkerID string               `json:"worker_id"`
	Person   kernel.PersonID      `json:"person"`
	Personal *kernel.PersonalData `json:"personal,omitempty"`
	Post     Post                 `json:"post"`
	Member   bool                 `json:"member,omitempty"`
	HiredAt  time.Time            `json:"hired_at"`
	// Posts is the community's posts (职数) under staffing-limit when the hire was recorded.
	Posts int `json:"posts"`
	kernel.Watch
}

func (Hired) EventName() string  { return "worker.hired" }
func (Hired) SchemaVersion() int { return 1 }

// PostChanged records a worker moved to another post or grade (晋级, 转岗), from when.
type PostChanged struct {
	WorkerID  string    `json:"worker_id"`
	From      Post      `json:"from"`
	To        Post      `json:"to"`
	Reason    string    `json:"reason"`
	ChangedAt time.Time `json:"changed_at"`
}

func (PostChanged) EventName() string  { return "worker.post-changed" }
func (PostChanged) SchemaVersion() int { return 1 }

// Trained records a course a worker attended (培训) and its hours.
type Trained struct {
	WorkerID   string    `json:"worker_id"`
	TrainingID string    `json:"training_id"`
	Course     string    `json:"course"`
	Hours      int       `json:"hours"`
	TrainedAt  time.Time `json:"trained_at"`
}

func (Trained) EventName() string  { return "worker.trained" }
func (Trained) SchemaVersion() int { return 1 }

// Left records a worker leaving the roster. It carries staffing-limit: whether the roster is still over
// the community's posts without the worker.
type Left struct {
	WorkerID string      `json:"worker_id"`
	Reason   LeaveReason `json:"reason"`
	LeftAt   time.Time   `json:"left_at"`
	// Posts is the community's posts (职数) under staffing-limit when the leave was recorded.
	Posts int `json:"posts"`
	kernel.Watch
}

func (Left) EventName() string  { return "worker.left" }
func (Left) SchemaVersion() int { return 1 }

// RegisterEvents adds the package's events to r.
func RegisterEvents(r *kernel.Registry) error {
	return kernel.RegisterAll(r,
		kernel.Register[Hired],
		kernel.Register[PostChanged],
		kernel.Register[Trained],
		kernel.Register[Left],
	)
}

// Stream is the roster of a community, worker-<communityID>-roster.
func Stream(c kernel.CommunityID) string { return eventlog.StreamName("worker", string(c), "roster") }
