package audit_test

import (
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/audit"
	"github.com/grassroots-ledger/ledger/domain/internal/domaintest"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

var (
	t0       = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	defaults = rulebook.Defaults()
	sha      = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	period   = audit.Period{From: time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)}
)

func samples() []kernel.Event {
	return []kernel.Event{
		audit.Opened{AuditID: "a-1", Kind: audit.Exit, Subject: "p-1", Personal: &kernel.PersonalData{Subject: "p-1", Name: "张三", NationalID: "330303199001011234"},
			Auditor: "龙湾区农村经济管理站", Period: period, OpenedAt: t0,
			Watch: kernel.Watch{Breaches: []kernel.Breach{{Rule: rulebook.CadreAudit, Detail: "上次审计超过6个月"}}}},
		audit.FindingRecorded{AuditID: "a-1", FindingID: "f-1", Severity: audit.Minor, Text: "招待费未附清单", Amount: kernel.Yuan(1200), RecordedAt: t0},
		audit.Closed{AuditID: "a-1", Result: audit.IssuesFound, Summary: "发现问题1项，限期整改", ReportSHA256: sha, ClosedAt: t0},
	}
}

func TestGoldens(t *testing.T) {
	domaintest.Goldens(t, domaintest.Registry(t, audit.RegisterEvents), "testdata", samples())
}

func run(t *testing.T, cases []domaintest.Case[*audit.Audit]) {
	t.Helper()
	domaintest.Run(t, domaintest.Registry(t, audit.RegisterEvents), func() *audit.Audit { return &audit.Audit{} }, cases)
}

func open(kind audit.Kind, subject kernel.PersonID, prev *time.Time) func(*audit.Audit) ([]kernel.Event, error) {
	return func(a *audit.Audit) ([]kernel.Event, error) {
		return a.Open(audit.Open{AuditID: "a-1", Kind: kind, Subject: subject, Auditor: "经管站", Period: period, PreviousAuditAt: prev}, defaults, t0)
	}
}

var opened = audit.Opened{AuditID: "a-1", Kind: audit.Regular, Auditor: "经管站", Period: period, OpenedAt: t0}

func TestAudit(t *testing.T) {
	major := audit.FindingRecorded{AuditID: "a-1", FindingID: "f-1", Severity: audit.Major, Text: "x", RecordedAt: t0}
	run(t, []domaintest.Case[*audit.Audit]{
		{Name: "open a regular audit", When: open(audit.Regular, "", nil), Then: []kernel.Event{opened}},
		{Name: "an exit audit needs its subject", When: open(audit.Exit, "", nil), ThenErr: kernel.Invalid("required", "subject", "")},
		{Name: "open twice", Given: []kernel.Event{opened}, When: open(audit.Regular, "", nil), ThenErr: audit.ErrAuditExists},
		{Name: "finding before opening", When: func(a *audit.Audit) ([]kernel.Event, error) {
			return a.RecordFinding("f-1", audit.Minor, "x", 0, t0)
		}, ThenErr: audit.ErrAuditNotFound},
		{Name: "finding", Given: []kernel.Event{opened}, When: func(a *audit.Audit) ([]kernel.Event, error) {
			return a.RecordFinding("f-1", audit.Major, "x", 0, t0)
		}, Then: []kernel.Event{major}},
		{Name: "clean after a major finding", Given: []kernel.Event{opened, major}, When: func(a *audit.Audit) ([]kernel.Event, error) {
			return a.Close(audit.Clean, "无问题", "", t0)
		}, ThenErr: audit.ErrCleanWithMajor},
		{Name: "close", Given: []kernel.Event{opened, major}, When: func(a *audit.Audit) ([]kernel.Event, error) {
			return a.Close(audit.Referred, "移交纪检", sha, t0)
		}, ThenNames: []string{"audit.closed"}},
		{Name: "finding after close", Given: []kernel.Event{opened, audit.Closed{AuditID: "a-1", Result: audit.Clean, Summary: "s", ClosedAt: t0}},
			When: func(a *audit.Audit) ([]kernel.Event, error) {
				return a.RecordFinding("f-2", audit.Minor, "x", 0, t0)
			}, ThenErr: audit.ErrAuditClosed},
	})
}

// TestRule_CadreAudit: 经管站每半年对村干部进行一次审计 (watch).
func TestRule_CadreAudit(t *testing.T) {
	sevenMonthsAgo := t0.AddDate(0, -7, 0)
	fiveMonthsAgo := t0.AddDate(0, -5, 0)
	run(t, []domaintest.Case[*audit.Audit]{
		{Name: "seven months after the last audit", When: open(audit.Regular, "", &sevenMonthsAgo), ThenBreaches: []kernel.RuleID{rulebook.CadreAudit}},
		{Name: "five months after the last audit", When: open(audit.Regular, "", &fiveMonthsAgo), ThenNames: []string{"audit.opened"}},
	})
	if b := audit.CheckInterval(sevenMonthsAgo, t0, defaults); b == nil || b.Rule != rulebook.CadreAudit {
		t.Fatalf("no audit for seven months: %v", b)
	}
}
