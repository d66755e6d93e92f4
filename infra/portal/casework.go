package portal

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/projections/directory"
)

// Supervision casework (督查) as the public sees it: a community's inspections with what they found and
// what became of each finding (整改: ordered by when, reported, late, overdue), the rectifications of its
// audit findings (never the audit finding's text), and the bulletins of its street and district; and a
// street's or district's bulletins with the year's coverage.

// Casework is a community's inspections and rectifications.
type Casework struct {
	CommunityID   string           `json:"community_id"`
	CommunityName string           `json:"community_name"`
	Inspections   []InspectionInfo `json:"inspections" doc:"The latest first"`
	Audit         []RectInfo       `json:"audit_rectifications" doc:"Rectifications of its audit findings"`
	Bulletins     []BulletinInfo   `json:"bulletins" doc:"Bulletins citing the community, the latest first"`
}

// InspectionInfo is one inspection.
type InspectionInfo struct {
	InspectionID string        `json:"inspection_id"`
	Inspectors   string        `json:"inspectors"`
	Round        string        `json:"round,omitempty"`
	Methods      string        `json:"methods" doc:"How, in Chinese: 实地走访、一对一谈话、查看台账"`
	HeldAt       time.Time     `json:"held_at"`
	Findings     []FindingInfo `json:"findings"`
	Source       *Source       `json:"source"`
}

// FindingInfo is one finding and its rectification.
type FindingInfo struct {
	FindingID     string    `json:"finding_id"`
	Severity      string    `json:"severity" enum:"minor,major,serious"`
	SeverityName  string    `json:"severity_name"`
	Text          string    `json:"text"`
	Rectification *RectInfo `json:"rectification,omitempty"`
}

// RectInfo is a rectification order and the committee's report.
type RectInfo struct {
	RectificationID string     `json:"rectification_id"`
	Finding         string     `json:"finding"`
	Requirement     string     `json:"requirement"`
	Due             time.Time  `json:"due"`
	Status          string     `json:"status" enum:"open,overdue,reported,reported-late"`
	StatusName      string     `json:"status_name"`
	ReportedAt      *time.Time `json:"reported_at,omitempty"`
	Response        string     `json:"response,omitempty"`
	Source          *Source    `json:"source"`
}

// BulletinInfo is one bulletin.
type BulletinInfo struct {
	BulletinID   string       `json:"bulletin_id"`
	Jurisdiction string       `json:"jurisdiction"`
	Publisher    string       `json:"publisher" doc:"The street or district that published it"`
	Title        string       `json:"title"`
	Text         string       `json:"text"`
	PublishedAt  time.Time    `json:"published_at"`
	Cites        []CitedVisit `json:"cites"`
	Source       *Source      `json:"source"`
}

// CitedVisit is an inspection a bulletin cites.
type CitedVisit struct {
	CommunityID   string `json:"community_id"`
	CommunityName string `json:"community_name"`
	InspectionID  string `json:"inspection_id"`
	Href          string `json:"href"`
}

// Bulletins is a street's or district's bulletins and its supervision coverage this year.
type Bulletins struct {
	Jurisdiction string         `json:"jurisdiction"`
	Name         string         `json:"name"`
	Coverage     CoverageInfo   `json:"coverage"`
	Bulletins    []BulletinInfo `json:"bulletins" doc:"The latest first"`
}

// CoverageInfo is how far supervision reached this year.
type CoverageInfo struct {
	Year         int `json:"year"`
	Communities  int `json:"communities"`
	Inspected    int `json:"inspected" doc:"Communities inspected at least once"`
	Inspections  int `json:"inspections"`
	Findings     int `json:"findings"`
	Ordered      int `json:"ordered" doc:"Rectifications ordered"`
	Reported     int `json:"reported"`
	ReportedLate int `json:"reported_late"`
	Overdue      int `json:"overdue" doc:"Unreported past the deadline"`
}

var (
	severityNames = map[string]string{"minor": "一般问题", "major": "较重问题", "serious": "严重问题"}
	methodNames   = map[string]string{"site-visit": "实地走访", "interview": "一对一谈话", "ledger-review": "查看台账"}
	rectStates    = map[string]string{"open": "整改中", "overdue": "逾期未整改", "reported": "已整改", "reported-late": "逾期后整改"}
)

func (p *Portal) rectInfo(r directory.Rectification, now time.Time) *RectInfo {
	ri := &RectInfo{RectificationID: r.RectificationID, Finding: Redact(r.Finding), Requirement: Redact(r.Requirement), Due: local(r.Due),
		Response: Redact(r.Response), Source: src(r.Ordered.EventID.String(), r.Ordered.Commit)}
	switch {
	case r.Reported != nil && r.Late:
		ri.Status, ri.ReportedAt = "reported-late", localPtr(*r.Reported)
	case r.Reported != nil:
		ri.Status, ri.ReportedAt = "reported", localPtr(*r.Reported)
	case r.Overdue(now):
		ri.Status = "overdue"
	default:
		ri.Status = "open"
	}
	ri.StatusName = label(rectStates, ri.Status)
	return ri
}

func (p *Portal) bulletinInfos(ctx context.Context, bs []directory.Bulletin) ([]BulletinInfo, error) {
	var paths, ids []string
	for _, b := range bs {
		paths = append(paths, string(b.Jurisdiction))
		for _, c := range b.Cites {
			ids = append(ids, string(c.CommunityID))
		}
	}
	names, err := directory.Names(ctx, p.db, paths)
	if err != nil {
		return nil, err
	}
	communities, err := directory.CommunityNames(ctx, p.db, ids)
	if err != nil {
		return nil, err
	}
	out := make([]BulletinInfo, 0, len(bs))
	for _, b := range bs {
		bi := BulletinInfo{BulletinID: b.BulletinID, Jurisdiction: string(b.Jurisdiction), Publisher: names[string(b.Jurisdiction)], Title: Redact(b.Title),
			Text: Redact(b.Text), PublishedAt: local(b.PublishedAt), Cites: []CitedVisit{}, Source: src(b.EventID.String(), b.Commit)}
		for _, c := range b.Cites {
			bi.Cites = append(bi.Cites, CitedVisit{CommunityID: string(c.CommunityID), CommunityName: communities[string(c.CommunityID)],
				InspectionID: c.InspectionID, Href: communityHref(string(c.CommunityID)) + "/inspections"})
		}
		out = append(out, bi)
	}
	return out, nil
}

func (p *Portal) loadCasework(ctx context.Context, id string) (Casework, error) {
	name, err := p.communityName(ctx, id)
	if err != nil {
		return Casework{}, err
	}
	insps, audits, err := directory.Casework(ctx, p.db, id)
	if err != nil {
		return Casework{}, err
	}
	now := p.cfg.Now()
	out := Casework{CommunityID: id, CommunityName: name, Inspections: make([]InspectionInfo, 0, len(insps)), Audit: make([]RectInfo, 0, len(audits))}
	for _, i := range insps {
		methods := make([]string, len(i.Methods))
		for k, m := range i.Methods {
			methods[k] = label(methodNames, string(m))
		}
		ii := InspectionInfo{InspectionID: i.InspectionID, Inspectors: Redact(i.Inspectors), Round: Redact(i.Round), Methods: strings.Join(methods, "、"),
			HeldAt: local(i.HeldAt), Findings: make([]FindingInfo, 0, len(i.Findings)), Source: src(i.EventID.String(), i.Commit)}
		for _, f := range i.Findings {
			fi := FindingInfo{FindingID: f.FindingID, Severity: string(f.Severity), SeverityName: label(severityNames, string(f.Severity)), Text: Redact(f.Text)}
			if f.Rectification != nil {
				fi.Rectification = p.rectInfo(*f.Rectification, now)
			}
			ii.Findings = append(ii.Findings, fi)
		}
		out.Inspections = append(out.Inspections, ii)
	}
	for _, r := range audits {
		out.Audit = append(out.Audit, *p.rectInfo(r, now))
	}
	bs, err := directory.Bulletins(ctx, p.db, "", id)
	if err != nil {
		return Casework{}, err
	}
	if out.Bulletins, err = p.bulletinInfos(ctx, bs); err != nil {
		return Casework{}, err
	}
	return out, nil
}

func (p *Portal) loadBulletins(ctx context.Context, path string) (Bulletins, error) {
	jp := kernel.JurisdictionPath(path)
	if jp.Validate("jurisdiction") != nil || jp.Depth() != kernel.LevelDistrict && jp.Depth() != kernel.LevelStreet {
		return Bulletins{}, errNotFound
	}
	names, err := directory.Names(ctx, p.db, []string{path})
	if err != nil {
		return Bulletins{}, err
	}
	if names[path] == "" {
		return Bulletins{}, errNotFound
	}
	now := p.cfg.Now()
	cov, err := directory.CoverageOf(ctx, p.db, path, now.In(kernel.ChinaTime()).Year(), now)
	if err != nil {
		return Bulletins{}, err
	}
	bs, err := directory.Bulletins(ctx, p.db, path, "")
	if err != nil {
		return Bulletins{}, err
	}
	infos, err := p.bulletinInfos(ctx, bs)
	if err != nil {
		return Bulletins{}, err
	}
	return Bulletins{Jurisdiction: path, Name: names[path], Bulletins: infos, Coverage: CoverageInfo{Year: cov.Year, Communities: cov.Communities,
		Inspected: cov.Inspected, Inspections: cov.Inspections, Findings: cov.Findings, Ordered: cov.Ordered, Reported: cov.Reported,
		ReportedLate: cov.ReportedLate, Overdue: cov.Unmet}}, nil
}

// caseworkPage is GET /c/{id}/inspections.
func (p *Portal) caseworkPage(w http.ResponseWriter, r *http.Request) {
	p.registerPage(w, r, "督查与整改", "casework-page", func(ctx context.Context, id string) (any, error) { return p.loadCasework(ctx, id) })
}

// bulletinsPage is GET /bulletins/{path...}, not cached (as the registers).
func (p *Portal) bulletinsPage(w http.ResponseWriter, r *http.Request) {
	p.nodePage(w, r, "督查通报", "bulletins-page", func(ctx context.Context, path string) (any, string, string, error) {
		b, err := p.loadBulletins(ctx, path)
		return b, b.Name, b.Jurisdiction, err
	})
}

type bulletinsIn struct {
	ConditionalParams
	Jurisdiction string `query:"jurisdiction" maxLength:"64" doc:"The street's or district's path, e.g. 33/3303/330303"`
}

// registerCaseworkAPI registers the casework JSON; op makes a public GET operation (registerAPI's).
func (p *Portal) registerCaseworkAPI(api huma.API, op func(id, path, summary, desc string, body reflect.Type) huma.Operation) {
	p.registerRegisterAPI(api, op("public-inspections", "/communities/{id}/inspections", "A community's inspections and rectifications (督查与整改)",
		"Each inspection of the community with what it found and what became of each finding (ordered put right by when, reported, late, "+
			"overdue); the rectifications of its audit findings (never the audit finding's text); the bulletins citing it.",
		reflect.TypeFor[Casework]()), "inspections", directory.CaseworkFingerprint,
		func(ctx context.Context, id string) (any, error) { return p.loadCasework(ctx, id) })
	registerNodeAPI(p, api, op("public-bulletins", "/bulletins", "A street's or district's supervision bulletins (督查通报)",
		"The bulletins the street or district published, with the inspections they cite, and this year's coverage: communities inspected, "+
			"findings, rectifications ordered, reported, late and overdue.", reflect.TypeFor[Bulletins]()), "bulletins", "没有这个街道(乡镇)或区(县)", "jurisdiction",
		func(in *bulletinsIn) (ConditionalParams, string) { return in.ConditionalParams, in.Jurisdiction },
		func(ctx context.Context, path string) (any, error) { return p.loadBulletins(ctx, path) })
}
