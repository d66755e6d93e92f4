// Package inspection is supervision casework (督查, seed 000): a supervisors' group (督查组) inspects a
// community — visits it (实地走访), talks to its cadres one by one (一对一谈话), reviews its books (查看台账) —
// and records what it found, each finding with its severity. Each finding may then be ordered rectified
// (package rectification), and a street or district publishes bulletins (package bulletin) citing the
// inspections.
//
// One stream per inspection: inspection-<communityID>-<inspectionID>.
package inspection

import (
	"fmt"
	"slices"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// Method is how an inspection was carried out.
type Method string

const (
	SiteVisit    Method = "site-visit"    // 实地走访
	Interview    Method = "interview"     // 一对一谈话
	LedgerReview Method = "ledger-review" // 查看台账
)

// Methods lists the methods, in the order the API documents them.
func Methods() []Method { return []Method{SiteVisit, Interview, LedgerReview} }

// Valid reports whether m is a known method.
func (m Method) Valid() bool { return slices.Contains(Methods(), m) }

// Chinese names the method.
func (m Method) Chinese() string {
	switch m {
	case SiteVisit:
		return "实地走访"
	case Interview:
		return "一对一谈话"
	case LedgerReview:
		return "查看台账"
	}
	return string(m)
}

// Severity of a finding.
type Severity string

const (
	Minor   Severity = "minor"   // 一般问题
	Major   Severity = "major"   // 较重问题
	Serious Severity = "serious" // 严重问题
)

// Severities lists the severities, in the order the API documents them.
func Severities() []Severity { return []Severity{Minor, Major, Serious} }

// Valid reports whether s is a known severity.
func (s Severity) Valid() bool { return slices.Contains(Severities(), s) }

// Chinese names the severity.
func (s Severity) Chinese() string {
	switch s {
	case Minor:
		return "一般问题"
	case Major:
		return "较重问题"
	case Serious:
		return "严重问题"
	}
	return string(s)
}

// Finding is one problem an inspection found. Its text is public: it describes the community's affairs,
// never a private person.
type Finding struct {
	FindingID string   `json:"finding_id"`
	Severity  Severity `json:"severity"`
	Text      string   `json:"text"`
}

// Conducted records an inspection of a community: by whom (the group, public), in which round (e.g.
// 2026年第1轮), how, when, and what it found (perhaps nothing).
type Conducted struct {
	InspectionID string    `json:"inspection_id"`
	Inspectors   string    `json:"inspectors"`
	Round        string    `json:"round,omitempty"`
	Methods      []Method  `json:"methods"`
	Findings     []Finding `json:"findings,omitempty"`
	HeldAt       time.Time `json:"held_at"`
	kernel.Watch
}

func (Conducted) EventName() string  { return "inspection.conducted" }
func (Conducted) SchemaVersion() int { return 1 }

// RegisterEvents adds the package's events to r.
func RegisterEvents(r *kernel.Registry) error {
	return kernel.RegisterAll(r, kernel.Register[Conducted])
}

// Stream is the stream of one inspection, inspection-<communityID>-<inspectionID>.
func Stream(c kernel.CommunityID, inspectionID string) string {
	return eventlog.StreamName("inspection", string(c), inspectionID)
}

// Inspection is one inspection. The zero value is one not yet recorded.
type Inspection struct {
	id       string
	findings map[string]Finding
}

// Rehydrate rebuilds an inspection from its history.
func Rehydrate(history []kernel.Event) *Inspection { return kernel.Rehydrate(&Inspection{}, history) }

// Apply changes state only.
func (i *Inspection) Apply(e kernel.Event) {
	if c, ok := e.(Conducted); ok {
		i.id, i.findings = c.InspectionID, map[string]Finding{}
		for _, f := range c.Findings {
			i.findings[f.FindingID] = f
		}
	}
}

// Exists reports whether the inspection was recorded.
func (i *Inspection) Exists() bool { return i.id != "" }

// Finding returns one finding of the inspection.
func (i *Inspection) Finding(id string) (Finding, bool) {
	f, ok := i.findings[id]
	return f, ok
}

// Errors of inspections.
var (
	ErrInspectionNotFound = kernel.NotFound("inspection-not-found", "没有这次督查记录")
	ErrInspectionExists   = kernel.Conflict("inspection-already-recorded", "这次督查已记录")
)

// MaxFindings is the most findings one inspection records.
const MaxFindings = 50

// Conduct is the command to record an inspection. HeldAt defaults to now.
type Conduct struct {
	InspectionID string
	Inspectors   string
	Round        string
	Methods      []Method
	Findings     []Finding
	HeldAt       time.Time
}

// Conduct records the inspection at now; one recorded long after it was held carries late-recording.
func (i *Inspection) Conduct(cmd Conduct, p rulebook.Params, now time.Time) ([]kernel.Event, error) {
	if i.Exists() {
		return nil, ErrInspectionExists
	}
	if err := kernel.Required(cmd.InspectionID, "inspection_id", "督查编号"); err != nil {
		return nil, err
	}
	if err := kernel.Required(cmd.Inspectors, "inspectors", "督查组"); err != nil {
		return nil, err
	}
	if len(cmd.Methods) == 0 {
		return nil, kernel.Invalid("required", "methods", "请填写督查方式")
	}
	seenMethod := map[Method]bool{}
	for n, m := range cmd.Methods {
		if !m.Valid() || seenMethod[m] {
			return nil, kernel.Invalid("invalid-method", fmt.Sprintf("methods[%d]", n), "督查方式须为 site-visit、interview 或 ledger-review，且不重复")
		}
		seenMethod[m] = true
	}
	if len(cmd.Findings) > MaxFindings {
		return nil, kernel.Invalid("too-many-findings", "findings", fmt.Sprintf("一次督查至多记录%d个问题", MaxFindings))
	}
	seen := map[string]bool{}
	for n, f := range cmd.Findings {
		field := fmt.Sprintf("findings[%d]", n)
		if err := kernel.Required(f.FindingID, field+".finding_id", "问题编号"); err != nil {
			return nil, err
		}
		if seen[f.FindingID] {
			return nil, kernel.Invalid("duplicate-finding", field+".finding_id", "问题编号重复")
		}
		seen[f.FindingID] = true
		if !f.Severity.Valid() {
			return nil, kernel.Invalid("invalid-severity", field+".severity", "问题等级须为 minor、major 或 serious")
		}
		if err := kernel.Required(f.Text, field+".text", "问题描述"); err != nil {
			return nil, err
		}
	}
	at, err := kernel.At(cmd.HeldAt, now, "held_at")
	if err != nil {
		return nil, err
	}
	e := Conducted{InspectionID: cmd.InspectionID, Inspectors: cmd.Inspectors, Round: cmd.Round, Methods: slices.Clone(cmd.Methods),
		Findings: slices.Clone(cmd.Findings), HeldAt: at}
	e.Breaches = kernel.Breaches(p.CheckLateRecording("督查"+cmd.InspectionID, at, now))
	return []kernel.Event{e}, nil
}
