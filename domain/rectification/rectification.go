// Package rectification is the path a finding takes to be put right (限期整改, seeds 000 and 003): a
// supervisor orders a finding of an inspection or of an audit rectified by a deadline (整改通知), and the
// committee records what it did (整改情况). A rectification not reported by its deadline is watched
// (rectification-due).
//
// One stream per order: rectification-<communityID>-<rectificationID>.
package rectification

import (
	"fmt"
	"slices"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// Kind is what kind of record the finding belongs to.
type Kind string

const (
	Inspection Kind = "inspection" // 督查
	Audit      Kind = "audit"      // 审计
)

// Kinds lists the kinds, in the order the API documents them.
func Kinds() []Kind { return []Kind{Inspection, Audit} }

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds(), k) }

// Chinese names the kind.
func (k Kind) Chinese() string {
	if k == Audit {
		return "审计"
	}
	return "督查"
}

// Source is the finding a rectification puts right: of an inspection or an audit of the same community,
// with its text as the handler read it (so the order shows what it is about).
type Source struct {
	Kind      Kind   `json:"kind"`
	ID        string `json:"id"`
	FindingID string `json:"finding_id"`
	Finding   string `json:"finding"`
}

// Ordered records a rectification order (整改通知): the finding, what must be done, and by when.
type Ordered struct {
	RectificationID string    `json:"rectification_id"`
	Source          Source    `json:"source"`
	Requirement     string    `json:"requirement"`
	Due             time.Time `json:"due"`
	OrderedAt       time.Time `json:"ordered_at"`
}

func (Ordered) EventName() string  { return "rectification.ordered" }
func (Ordered) SchemaVersion() int { return 1 }

// Reported records what the committee did (整改情况), with a document's hash if it gave one. Late says it
// came after the deadline.
type Reported struct {
	RectificationID string    `json:"rectification_id"`
	Response        string    `json:"response"`
	DocumentSHA256  string    `json:"document_sha256,omitempty"`
	Late            bool      `json:"late,omitempty"`
	ReportedAt      time.Time `json:"reported_at"`
}

func (Reported) EventName() string  { return "rectification.reported" }
func (Reported) SchemaVersion() int { return 1 }

// RegisterEvents adds the package's events to r.
func RegisterEvents(r *kernel.Registry) error {
	return kernel.RegisterAll(r, kernel.Register[Ordered], kernel.Register[Reported])
}

// Stream is the stream of one rectification, rectification-<communityID>-<rectificationID>.
func Stream(c kernel.CommunityID, id string) string {
	return eventlog.StreamName("rectification", string(c), id)
}

// Rectification is one order. The zero value is one not yet ordered.
type Rectification struct {
	id       string
	due      time.Time
	reported bool
}

// Rehydrate rebuilds a rectification from its history.
func Rehydrate(history []kernel.Event) *Rectification {
	return kernel.Rehydrate(&Rectification{}, history)
}

// Apply changes state only.
func (r *Rectification) Apply(e kernel.Event) {
	switch e := e.(type) {
	case Ordered:
		r.id, r.due = e.RectificationID, e.Due
	case Reported:
		r.reported = true
	}
}

// Exists reports whether the rectification was ordered.
func (r *Rectification) Exists() bool { return r.id != "" }

// Errors of rectifications.
var (
	ErrNotFound       = kernel.NotFound("rectification-not-found", "没有这项整改通知")
	ErrExists         = kernel.Conflict("rectification-already-ordered", "这项整改已下达")
	ErrReported       = kernel.Conflict("rectification-already-reported", "这项整改已报告")
	ErrFindingMissing = kernel.NotFound("finding-not-found", "所引用的问题不存在").WithField("source.finding_id")
)

// Order is the command to order a finding rectified. Source carries the finding's text as the handler
// read it from the inspection or audit.
type Order struct {
	RectificationID string
	Source          Source
	Requirement     string
	Due             time.Time
}

// MaxTerm is the longest a rectification may be given.
const MaxTerm = 366 * 24 * time.Hour

// Order records the order at now. The deadline must be in the future and within a year.
func (r *Rectification) Order(cmd Order, now time.Time) ([]kernel.Event, error) {
	if r.Exists() {
		return nil, ErrExists
	}
	if err := kernel.Required(cmd.RectificationID, "rectification_id", "整改编号"); err != nil {
		return nil, err
	}
	if !cmd.Source.Kind.Valid() {
		return nil, kernel.Invalid("invalid-source-kind", "source.kind", "问题来源须为 inspection(督查) 或 audit(审计)")
	}
	if cmd.Source.Finding == "" {
		return nil, ErrFindingMissing
	}
	if err := kernel.Required(cmd.Requirement, "requirement", "整改要求"); err != nil {
		return nil, err
	}
	if !cmd.Due.After(now) || cmd.Due.Sub(now) > MaxTerm {
		return nil, kernel.Invalid("invalid-due", "due", fmt.Sprintf("整改期限须晚于现在，且不超过%d天", int(MaxTerm.Hours()/24)))
	}
	return []kernel.Event{Ordered{RectificationID: cmd.RectificationID, Source: cmd.Source, Requirement: cmd.Requirement,
		Due: cmd.Due.UTC(), OrderedAt: now.UTC()}}, nil
}

// Report records what the committee did, at now.
func (r *Rectification) Report(response, documentSHA256 string, now time.Time) ([]kernel.Event, error) {
	if !r.Exists() {
		return nil, ErrNotFound.WithField("rectification_id")
	}
	if r.reported {
		return nil, ErrReported
	}
	if err := kernel.Required(response, "response", "整改情况"); err != nil {
		return nil, err
	}
	if documentSHA256 != "" {
		if err := kernel.CheckSHA256(documentSHA256, "document_sha256"); err != nil {
			return nil, err
		}
	}
	return []kernel.Event{Reported{RectificationID: r.id, Response: response, DocumentSHA256: documentSHA256, Late: now.After(r.due),
		ReportedAt: now.UTC()}}, nil
}
