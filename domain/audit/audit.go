// Package audit is the audit of cadres (干部审计) by the economic management
// station (经管站) or another auditor: pre-term (任前), regular (semi-annual,
// 定期) and exit (离任) audits are opened, findings recorded, and the audit
// closed with a result, which must then be disclosed (results-disclosed).
//
// One stream per audit.
package audit

import (
	"fmt"
	"slices"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// Kind of audit.
type Kind string

const (
	PreTerm Kind = "pre-term" // 任前审计
	Regular Kind = "regular"  // 定期审计(每半年)
	Exit    Kind = "exit"     // 离任审计
)

// Kinds lists the kinds of audit, in the order the API documents them.
func Kinds() []Kind { return []Kind{PreTerm, Regular, Exit} }

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds(), k) }

// Period is the span of accounts an audit covers.
type Period struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Opened records an audit starting. Subject is the cadre audited (required
// for pre-term and exit audits; a regular audit may cover the community's
// cadres as a whole). It carries a cadre-audit-interval breach when the
// previous audit of the community was longer ago than the rule allows.
type Opened struct {
	AuditID  string               `json:"audit_id"`
	Kind     Kind                 `json:"kind"`
	Subject  kernel.PersonID      `json:"subject,omitempty"`
	Personal *kernel.PersonalData `json:"personal,omitempty"`
	Auditor  string               `json:"auditor"`
	Period   Period               `json:"period"`
	OpenedAt time.Time            `json:"opened_at"`
	kernel.Watch
}

func (Opened) EventName() string  { return "audit.opened" }
func (Opened) SchemaVersion() int { return 1 }

// FindingSeverity grades a finding.
type FindingSeverity string

const (
	Observation FindingSeverity = "observation"
	Minor       FindingSeverity = "minor"
	Major       FindingSeverity = "major"
)

// FindingSeverities lists the severities of a finding, in the order the API documents them.
func FindingSeverities() []FindingSeverity { return []FindingSeverity{Observation, Minor, Major} }

// FindingRecorded records one finding, with the amount concerned if any.
type FindingRecorded struct {
	AuditID    string          `json:"audit_id"`
	FindingID  string          `json:"finding_id"`
	Severity   FindingSeverity `json:"severity"`
	Text       string          `json:"text"`
	Amount     kernel.Fen      `json:"amount_fen,omitempty"`
	RecordedAt time.Time       `json:"recorded_at"`
}

func (FindingRecorded) EventName() string  { return "audit.finding-recorded" }
func (FindingRecorded) SchemaVersion() int { return 1 }

// Result of an audit.
type Result string

const (
	Clean       Result = "clean"        // 未发现问题
	IssuesFound Result = "issues-found" // 发现问题，限期整改
	Referred    Result = "referred"     // 移交纪检监察
)

// Results lists the results of an audit, in the order the API documents them.
func Results() []Result { return []Result{Clean, IssuesFound, Referred} }

// Valid reports whether r is a known result.
func (r Result) Valid() bool { return slices.Contains(Results(), r) }

// Closed records the audit's result; it must be disclosed within the
// results-disclosed deadline.
type Closed struct {
	AuditID      string    `json:"audit_id"`
	Result       Result    `json:"result"`
	Summary      string    `json:"summary"`
	ReportSHA256 string    `json:"report_sha256,omitempty"`
	ClosedAt     time.Time `json:"closed_at"`
}

func (Closed) EventName() string  { return "audit.closed" }
func (Closed) SchemaVersion() int { return 1 }

// RegisterEvents adds the package's events to r.
func RegisterEvents(r *kernel.Registry) error {
	return kernel.RegisterAll(r,
		kernel.Register[Opened],
		kernel.Register[FindingRecorded],
		kernel.Register[Closed],
	)
}

// Audit is one audit. The zero value is an audit not yet opened.
type Audit struct {
	id       string
	findings map[string]bool
	major    bool
	closed   bool
}

// Stream is the stream of one audit, audit-<communityID>-<auditID>.
func Stream(c kernel.CommunityID, auditID string) string {
	return eventlog.StreamName("audit", string(c), auditID)
}

// Rehydrate rebuilds an audit from its history.
func Rehydrate(history []kernel.Event) *Audit { return kernel.Rehydrate(&Audit{}, history) }

// Apply changes state only.
func (a *Audit) Apply(e kernel.Event) {
	if a.findings == nil {
		a.findings = map[string]bool{}
	}
	switch e := e.(type) {
	case Opened:
		a.id = e.AuditID
	case FindingRecorded:
		a.findings[e.FindingID] = true
		a.major = a.major || e.Severity == Major
	case Closed:
		a.closed = true
	}
}

// Exists reports whether the audit was opened.
func (a *Audit) Exists() bool { return a.id != "" }

// HasFinding reports whether the audit recorded the finding.
func (a *Audit) HasFinding(id string) bool { return a.findings[id] }

// Errors of audits.
var (
	ErrAuditNotFound  = kernel.NotFound("audit-not-found", "该审计尚未开始")
	ErrAuditExists    = kernel.Conflict("audit-already-opened", "该审计已开始")
	ErrAuditClosed    = kernel.Rejected("audit-closed", "该审计已结束")
	ErrFindingExists  = kernel.Conflict("finding-already-recorded", "该审计发现已登记")
	ErrCleanWithMajor = kernel.Invalid("clean-result-with-major-finding", "result", "存在重大问题的审计结果不能为“未发现问题”")
)

// Open is the command to open an audit.
type Open struct {
	AuditID  string
	Kind     Kind
	Subject  kernel.PersonID
	Personal *kernel.PersonalData
	Auditor  string
	Period   Period
	// PreviousAuditAt is when the community's cadres were last audited,
	// looked up by the handler; nil when never or unknown.
	PreviousAuditAt *time.Time
}

// Open starts an audit, at now. Watches cadre-audit-interval.
func (a *Audit) Open(cmd Open, p rulebook.Params, now time.Time) ([]kernel.Event, error) {
	if a.Exists() {
		return nil, ErrAuditExists
	}
	now = now.UTC()
	if err := kernel.Required(cmd.AuditID, "audit_id", "审计编号"); err != nil {
		return nil, err
	}
	if !cmd.Kind.Valid() {
		return nil, kernel.Invalid("invalid-audit-kind", "kind", "审计类型须为 pre-term、regular 或 exit")
	}
	if cmd.Kind != Regular && cmd.Subject == "" {
		return nil, kernel.Invalid("required", "subject", "任前、离任审计须写明被审计人")
	}
	if cmd.Personal != nil && cmd.Personal.Subject != cmd.Subject {
		return nil, kernel.Invalid("personal-data-subject-mismatch", "personal.subject", "个人信息须属于被审计人本人")
	}
	if err := kernel.Required(cmd.Auditor, "auditor", "审计机构"); err != nil {
		return nil, err
	}
	if cmd.Period.From.IsZero() || cmd.Period.To.Before(cmd.Period.From) {
		return nil, kernel.Invalid("invalid-period", "period", "审计期间不正确")
	}
	e := Opened{
		AuditID: cmd.AuditID, Kind: cmd.Kind, Subject: cmd.Subject, Personal: cmd.Personal, Auditor: cmd.Auditor,
		Period: Period{From: cmd.Period.From.UTC(), To: cmd.Period.To.UTC()}, OpenedAt: now,
	}
	if cmd.PreviousAuditAt != nil {
		e.Breaches = kernel.Breaches(CheckInterval(*cmd.PreviousAuditAt, now, p))
	}
	return []kernel.Event{e}, nil
}

// CheckInterval returns a cadre-audit-interval breach when an audit at `at`
// (or no audit yet, as of `at`) comes longer than the rule allows after the
// previous one; the alert engine may call it with at = now.
func CheckInterval(prev, at time.Time, p rulebook.Params) *kernel.Breach {
	due := p.Due(rulebook.CadreAudit, prev)
	if !at.After(due) {
		return nil
	}
	return &kernel.Breach{Rule: rulebook.CadreAudit, Detail: fmt.Sprintf(
		"上次审计于%s，应于%s前再次审计(每%s)", prev.UTC().Format(time.RFC3339), due.Format(time.RFC3339),
		p.Span(rulebook.CadreAudit, rulebook.ParamEvery).Chinese())}
}

// RecordFinding records a finding of an open audit.
func (a *Audit) RecordFinding(findingID string, sev FindingSeverity, text string, amount kernel.Fen, now time.Time) ([]kernel.Event, error) {
	if !a.Exists() {
		return nil, ErrAuditNotFound
	}
	if a.closed {
		return nil, ErrAuditClosed
	}
	if err := kernel.Required(findingID, "finding_id", "审计发现编号"); err != nil {
		return nil, err
	}
	if a.findings[findingID] {
		return nil, ErrFindingExists
	}
	if sev != Observation && sev != Minor && sev != Major {
		return nil, kernel.Invalid("invalid-severity", "severity", "问题等级须为 observation、minor 或 major")
	}
	if err := kernel.Required(text, "text", "审计发现"); err != nil {
		return nil, err
	}
	if amount < 0 {
		return nil, kernel.Invalid("invalid-amount", "amount_fen", "涉及金额不能为负")
	}
	if err := kernel.CheckAmount(amount, "amount_fen", true); err != nil {
		return nil, err
	}
	return []kernel.Event{FindingRecorded{AuditID: a.id, FindingID: findingID, Severity: sev, Text: text, Amount: amount, RecordedAt: now.UTC()}}, nil
}

// Close closes the audit with its result; a clean result cannot follow a
// major finding. reportSHA256 is optional.
func (a *Audit) Close(result Result, summary, reportSHA256 string, now time.Time) ([]kernel.Event, error) {
	if !a.Exists() {
		return nil, ErrAuditNotFound
	}
	if a.closed {
		return nil, ErrAuditClosed
	}
	if !result.Valid() {
		return nil, kernel.Invalid("invalid-result", "result", "审计结果须为 clean、issues-found 或 referred")
	}
	if result == Clean && a.major {
		return nil, ErrCleanWithMajor
	}
	if err := kernel.Required(summary, "summary", "审计结论"); err != nil {
		return nil, err
	}
	if reportSHA256 != "" {
		if err := kernel.CheckSHA256(reportSHA256, "report_sha256"); err != nil {
			return nil, err
		}
	}
	return []kernel.Event{Closed{AuditID: a.id, Result: result, Summary: summary, ReportSHA256: reportSHA256, ClosedAt: now.UTC()}}, nil
}
