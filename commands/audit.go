package commands

import (
	"context"

	"github.com/grassroots-ledger/ledger/domain/audit"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// Audits of cadres (干部审计): one stream per audit, audit-<communityID>-<auditID>.

// audits are the audit streams of a community.
var audits = kind[*audit.Audit]{"audit_id", audit.Stream, audit.Rehydrate}

// OpenAudit records an audit starting (开始审计): pre-term 任前, regular 定期 (semi-annual) or exit 离任.
type OpenAudit struct {
	CommunityID string     `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	AuditID     string     `json:"audit_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"Id of the new audit"`
	Kind        audit.Kind `json:"kind" doc:"pre-term 任前审计, regular 定期审计, exit 离任审计"`
	Subject     string     `json:"subject,omitempty" maxLength:"128" doc:"Person id of the cadre audited; required for pre-term and exit audits"`
	Personal    *Personal  `json:"personal,omitempty" doc:"The audited cadre's personal data (never public)"`
	Auditor     string     `json:"auditor" minLength:"1" maxLength:"256" doc:"Who audits, e.g. 龙湾区农村经济管理站 (经管站)"`
	Period      Period     `json:"period" doc:"The accounts period audited"`
}

// OpenAudit handles open-audit. The time of the community's previous audit is not looked up
// (PreviousAuditAt stays nil: it would need an index that cannot be written atomically with the audit);
// the alert engine watches the six-monthly interval by deadline.
func (h *Handlers) OpenAudit(ctx context.Context, m Meta, c OpenAudit) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, audits, c.AuditID, ruled(func(a *audit.Audit, f Facts, p rulebook.Params) ([]kernel.Event, error) {
		return a.Open(audit.Open{
			AuditID: c.AuditID, Kind: c.Kind, Subject: kernel.PersonID(c.Subject), Personal: c.Personal.of(c.Subject),
			Auditor: c.Auditor, Period: audit.Period{From: c.Period.From, To: c.Period.To},
		}, p, f.Now)
	}))
}

// RecordAuditFinding records one finding of an open audit (审计发现), with the amount concerned if any.
type RecordAuditFinding struct {
	CommunityID string                `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	AuditID     string                `json:"audit_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The audit"`
	FindingID   string                `json:"finding_id" minLength:"1" maxLength:"64" doc:"Id of the finding within the audit"`
	Severity    audit.FindingSeverity `json:"severity" doc:"observation, minor or major"`
	Text        string                `json:"text" minLength:"1" maxLength:"20000" doc:"The finding"`
	AmountFen   int64                 `json:"amount_fen,omitempty" minimum:"0" maximum:"10000000000000" doc:"Amount concerned, in fen (分)"`
}

// RecordAuditFinding handles record-audit-finding.
func (h *Handlers) RecordAuditFinding(ctx context.Context, m Meta, c RecordAuditFinding) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, audits, c.AuditID, func(a *audit.Audit, f Facts) ([]kernel.Event, error) {
		return a.RecordFinding(c.FindingID, c.Severity, c.Text, kernel.Fen(c.AmountFen), f.Now)
	})
}

// CloseAudit closes the audit with its result (审计结论); the result must then be disclosed within 24 h
// by default.
type CloseAudit struct {
	CommunityID  string       `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	AuditID      string       `json:"audit_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The audit"`
	Result       audit.Result `json:"result" doc:"clean 未发现问题, issues-found 发现问题限期整改, referred 移交纪检监察"`
	Summary      string       `json:"summary" minLength:"1" maxLength:"20000" doc:"Conclusion"`
	ReportSHA256 string       `json:"report_sha256,omitempty" pattern:"^[0-9a-f]{64}$" doc:"SHA-256 of the audit report, if there is one"`
}

// CloseAudit handles close-audit.
func (h *Handlers) CloseAudit(ctx context.Context, m Meta, c CloseAudit) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, audits, c.AuditID, func(a *audit.Audit, f Facts) ([]kernel.Event, error) {
		return a.Close(c.Result, c.Summary, c.ReportSHA256, f.Now)
	})
}
