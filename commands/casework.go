package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/grassroots-ledger/ledger/domain/audit"
	"github.com/grassroots-ledger/ledger/domain/bulletin"
	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/inspection"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rectification"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// Supervision casework (督查): inspections and rectification orders (Inspect on the community: supervisors
// and admins), the committee's rectification reports (RecordAffairs), and the bulletins of a street or
// district (Inspect on it).

var (
	inspections    = kind[*inspection.Inspection]{"inspection_id", inspection.Stream, inspection.Rehydrate}
	rectifications = kind[*rectification.Rectification]{"rectification_id", rectification.Stream, rectification.Rehydrate}
)

// InspectionFinding is one problem an inspection found. Its text is public: it describes the
// community's affairs, never a private person.
type InspectionFinding struct {
	FindingID string              `json:"finding_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"Id of the finding within the inspection"`
	Severity  inspection.Severity `json:"severity" doc:"minor 一般问题, major 较重问题, serious 严重问题"`
	Text      string              `json:"text" minLength:"1" maxLength:"1000" doc:"What was found (public)"`
}

// RecordInspection records an inspection of a community by a supervisors' group (督查).
type RecordInspection struct {
	CommunityID  string              `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	InspectionID string              `json:"inspection_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"Id of the inspection, e.g. 2026-r1"`
	Inspectors   string              `json:"inspectors" minLength:"1" maxLength:"200" doc:"The group that inspected (督查组), public"`
	Round        string              `json:"round,omitempty" maxLength:"64" doc:"The round it belongs to, e.g. 2026年第1轮"`
	Methods      []inspection.Method `json:"methods" minItems:"1" maxItems:"3" doc:"site-visit 实地走访, interview 一对一谈话, ledger-review 查看台账"`
	Findings     []InspectionFinding `json:"findings,omitempty" maxItems:"50" doc:"What it found; none when nothing"`
	HeldAt       time.Time           `json:"held_at,omitzero" doc:"When (RFC 3339); default now"`
}

// RecordInspection handles record-inspection.
func (h *Handlers) RecordInspection(ctx context.Context, m Meta, c RecordInspection) (Result, error) {
	findings := make([]inspection.Finding, len(c.Findings))
	for i, f := range c.Findings {
		findings[i] = inspection.Finding{FindingID: f.FindingID, Severity: f.Severity, Text: f.Text}
	}
	return affairAs(ctx, h, m, Inspect, c.CommunityID, inspections, c.InspectionID,
		ruled(func(i *inspection.Inspection, f Facts, p rulebook.Params) ([]kernel.Event, error) {
			return i.Conduct(inspection.Conduct{InspectionID: c.InspectionID, Inspectors: c.Inspectors, Round: c.Round, Methods: c.Methods,
				Findings: findings, HeldAt: c.HeldAt}, p, f.Now)
		}))
}

// RectificationSource names the finding a rectification puts right: of an inspection or an audit of the
// same community.
type RectificationSource struct {
	Kind      rectification.Kind `json:"kind" doc:"inspection 督查, audit 审计"`
	ID        string             `json:"id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The inspection's or the audit's id"`
	FindingID string             `json:"finding_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The finding"`
}

// OrderRectification orders a finding put right by a deadline (整改通知).
type OrderRectification struct {
	CommunityID     string              `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	RectificationID string              `json:"rectification_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"Id of the order"`
	Source          RectificationSource `json:"source" doc:"The finding to put right"`
	Requirement     string              `json:"requirement" minLength:"1" maxLength:"1000" doc:"What must be done (整改要求)"`
	Due             time.Time           `json:"due" doc:"The deadline (RFC 3339): in the future, within a year; rectification-due watches it"`
}

// OrderRectification handles order-rectification; the finding is read from its inspection or audit once
// the command is admitted.
func (h *Handlers) OrderRectification(ctx context.Context, m Meta, c OrderRectification) (Result, error) {
	return affairAs(ctx, h, m, Inspect, c.CommunityID, rectifications, c.RectificationID,
		func(r *rectification.Rectification, f Facts) ([]kernel.Event, error) {
			src, err := h.finding(ctx, f.Community.ID(), c.Source)
			if err != nil {
				return nil, err
			}
			return r.Order(rectification.Order{RectificationID: c.RectificationID, Source: src, Requirement: c.Requirement, Due: c.Due}, f.Now)
		})
}

// finding reads the finding a rectification names, with its text.
func (h *Handlers) finding(ctx context.Context, cid kernel.CommunityID, s RectificationSource) (rectification.Source, error) {
	out := rectification.Source{Kind: s.Kind, ID: s.ID, FindingID: s.FindingID}
	if !s.Kind.Valid() {
		return out, nil // the domain names the field
	}
	if err := checkID(s.ID, "source.id"); err != nil {
		return out, err
	}
	switch s.Kind {
	case rectification.Inspection:
		history, err := h.x.Load(ctx, inspection.Stream(cid, s.ID))
		if err != nil {
			return out, fmt.Errorf("look up inspection %s: %w", s.ID, err)
		}
		i := inspection.Rehydrate(history)
		if !i.Exists() {
			return out, inspection.ErrInspectionNotFound.WithField("source.id")
		}
		if f, ok := i.Finding(s.FindingID); ok {
			out.Finding = f.Text
		}
	case rectification.Audit:
		history, err := h.x.Load(ctx, audit.Stream(cid, s.ID))
		if err != nil {
			return out, fmt.Errorf("look up audit %s: %w", s.ID, err)
		}
		if !audit.Rehydrate(history).Exists() {
			return out, audit.ErrAuditNotFound.WithField("source.id")
		}
		// An audit's findings are not public (they may concern a cadre): the order names the finding by
		// what it is, not by its text.
		if audit.Rehydrate(history).HasFinding(s.FindingID) {
			out.Finding = "审计发现的一项问题"
		}
	}
	return out, nil
}

// ReportRectification records what the committee did about an order (整改情况).
type ReportRectification struct {
	CommunityID     string `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	RectificationID string `json:"rectification_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The order"`
	Response        string `json:"response" minLength:"1" maxLength:"2000" doc:"What was done (public)"`
	DocumentSHA256  string `json:"document_sha256,omitempty" pattern:"^([0-9a-f]{64})?$" doc:"SHA-256 of a document showing it, if any"`
}

// ReportRectification handles report-rectification.
func (h *Handlers) ReportRectification(ctx context.Context, m Meta, c ReportRectification) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, rectifications, c.RectificationID, func(r *rectification.Rectification, f Facts) ([]kernel.Event, error) {
		return r.Report(c.Response, c.DocumentSHA256, f.Now)
	})
}

// BulletinCite is an inspection a bulletin cites.
type BulletinCite struct {
	CommunityID  string `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"The community inspected"`
	InspectionID string `json:"inspection_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The inspection"`
}

// PublishBulletin publishes a street's or district's supervision bulletin (督查通报).
type PublishBulletin struct {
	Jurisdiction string         `json:"jurisdiction" minLength:"1" maxLength:"512" pattern:"^[A-Za-z0-9_]+(/[A-Za-z0-9_]+){0,6}$" doc:"The street's or district's path"`
	BulletinID   string         `json:"bulletin_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"Id of the bulletin, e.g. 2026-1"`
	Title        string         `json:"title" minLength:"1" maxLength:"200" doc:"The title"`
	Text         string         `json:"text" minLength:"1" maxLength:"20000" doc:"The bulletin (public)"`
	Cites        []BulletinCite `json:"cites,omitempty" maxItems:"500" doc:"The inspections it reports on, of communities under the jurisdiction"`
}

// PublishBulletin handles publish-bulletin: the cited inspections are read once the command is admitted.
func (h *Handlers) PublishBulletin(ctx context.Context, m Meta, c PublishBulletin) (Result, error) {
	path := kernel.JurisdictionPath(c.Jurisdiction)
	return h.x.execute(ctx, m, Inspect, func() (Target, error) {
		if err := checkPath(path, "jurisdiction"); err != nil {
			return Target{}, err
		}
		if err := checkID(c.BulletinID, "bulletin_id"); err != nil {
			return Target{}, err
		}
		return Target{Stream: bulletin.Stream(path, c.BulletinID), Path: path}, nil
	}, func(history []kernel.Event, now time.Time) ([]kernel.Event, error) {
		if err := h.requireNode(ctx, path, "jurisdiction"); err != nil {
			return nil, err
		}
		cmd := bulletin.Publish{BulletinID: c.BulletinID, Jurisdiction: path, Title: c.Title, Text: c.Text}
		for i, ct := range c.Cites {
			field := fmt.Sprintf("cites[%d]", i)
			if err := checkCode(ct.CommunityID, field+".community_id"); err != nil {
				return nil, err
			}
			cid := kernel.CommunityID(ct.CommunityID)
			profile, err := h.x.Load(ctx, community.ProfileStream(cid))
			if err != nil {
				return nil, fmt.Errorf("look up community %s: %w", cid, err)
			}
			cm := community.RehydrateCommunity(profile)
			if !cm.Exists() || !path.Contains(cm.Path()) { // a community elsewhere is not this jurisdiction's to cite: as unknown
				return nil, community.ErrCommunityNotFound.WithField(field + ".community_id")
			}
			if err := checkID(ct.InspectionID, field+".inspection_id"); err != nil {
				return nil, err
			}
			insp, err := h.x.Load(ctx, inspection.Stream(cid, ct.InspectionID))
			if err != nil {
				return nil, fmt.Errorf("look up inspection %s: %w", ct.InspectionID, err)
			}
			if !inspection.Rehydrate(insp).Exists() {
				return nil, inspection.ErrInspectionNotFound.WithField(field + ".inspection_id")
			}
			cmd.Cites = append(cmd.Cites, bulletin.Cite{CommunityID: cid, InspectionID: ct.InspectionID})
			cmd.Paths = append(cmd.Paths, cm.Path())
		}
		return bulletin.Rehydrate(history).Publish(cmd, now)
	})
}
