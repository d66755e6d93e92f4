package directory

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/grassroots-ledger/ledger/domain/bulletin"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/inspection"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rectification"
	"github.com/grassroots-ledger/ledger/projections/internal/decode"
	"github.com/grassroots-ledger/ledger/projections/internal/tables"
)

// Supervision casework (督查) as the public sees it: inspections and their findings, rectification orders
// and reports, bulletins. Every row is written once by the event that makes it.

var (
	inspectionsTable = tables.New("inspections", []string{"community_id", "inspection_id"}, "nothing",
		"community_id text", "inspection_id text", "inspectors text", "round text", "methods text", "findings int4", "held_at timestamptz",
		"event_id uuid", "commit_pos int8")
	findingsTable = tables.New("inspection_findings", []string{"community_id", "inspection_id", "finding_id"}, "nothing",
		"community_id text", "inspection_id text", "finding_id text", "severity text", "text text")
	rectificationsTable = tables.New("rectifications", []string{"community_id", "rectification_id"}, "nothing",
		"community_id text", "rectification_id text", "source_kind text", "source_id text", "finding_id text", "finding text",
		"requirement text", "due timestamptz", "ordered_at timestamptz", "event_id uuid", "commit_pos int8")
	reportsTable = tables.New("rectification_reports", []string{"community_id", "rectification_id"}, "nothing",
		"community_id text", "rectification_id text", "response text", "document_sha256 text", "late bool", "reported_at timestamptz",
		"event_id uuid", "commit_pos int8")
	bulletinsTable = tables.New("bulletins", []string{"jurisdiction", "bulletin_id"}, "nothing",
		"jurisdiction text", "bulletin_id text", "title text", "text text", "cites int4", "published_at timestamptz", "event_id uuid",
		"commit_pos int8")
	citesTable = tables.New("bulletin_cites", []string{"jurisdiction", "bulletin_id", "community_id", "inspection_id"}, "nothing",
		"jurisdiction text", "bulletin_id text", "community_id text", "inspection_id text")
)

func isCasework(p any) bool {
	switch p.(type) {
	case inspection.Conducted, rectification.Ordered, rectification.Reported, bulletin.Published:
		return true
	}
	return false
}

// writeCasework folds a batch's casework events into rows (each written once: a batch applied twice
// changes nothing).
func writeCasework(w *tables.Writer, evs []decode.Event) error {
	if len(evs) == 0 {
		return nil
	}
	insp, finds, recs, reps, buls, cites := inspectionsTable.Rows(), findingsTable.Rows(), rectificationsTable.Rows(), reportsTable.Rows(),
		bulletinsTable.Rows(), citesTable.Rows()
	for _, e := range evs {
		src := e.Source()
		switch p := e.Payload.(type) {
		case inspection.Conducted:
			if err := checkCommunityStream(e, "inspection", p.InspectionID); err != nil {
				return err
			}
			methods := make([]string, len(p.Methods))
			for i, m := range p.Methods {
				methods[i] = string(m)
			}
			c := e.Community()
			insp.Row().Text(c).Text(p.InspectionID).Text(p.Inspectors).NullText(tables.Text(p.Round)).Text(strings.Join(methods, ",")).
				Int4(int32(len(p.Findings))).Time(p.HeldAt).UUID(src.ID).Int8(src.Commit)
			for _, f := range p.Findings {
				finds.Row().Text(c).Text(p.InspectionID).Text(f.FindingID).Text(string(f.Severity)).Text(f.Text)
			}
		case rectification.Ordered:
			if err := checkCommunityStream(e, "rectification", p.RectificationID); err != nil {
				return err
			}
			recs.Row().Text(e.Community()).Text(p.RectificationID).Text(string(p.Source.Kind)).Text(p.Source.ID).Text(p.Source.FindingID).
				Text(p.Source.Finding).Text(p.Requirement).Time(p.Due).Time(p.OrderedAt).UUID(src.ID).Int8(src.Commit)
		case rectification.Reported:
			if err := checkCommunityStream(e, "rectification", p.RectificationID); err != nil {
				return err
			}
			reps.Row().Text(e.Community()).Text(p.RectificationID).Text(p.Response).NullText(tables.Text(p.DocumentSHA256)).Bool(p.Late).
				Time(p.ReportedAt).UUID(src.ID).Int8(src.Commit)
		case bulletin.Published:
			if p.Jurisdiction.Validate("jurisdiction") != nil || e.Rec.Stream != bulletin.Stream(p.Jurisdiction, p.BulletinID) {
				return e.Poison(fmt.Errorf("a bulletin of %q in stream %q: %w", p.Jurisdiction, e.Rec.Stream, decode.ErrEnvelope))
			}
			j := string(p.Jurisdiction)
			buls.Row().Text(j).Text(p.BulletinID).Text(p.Title).Text(p.Text).Int4(int32(len(p.Cites))).Time(p.PublishedAt).UUID(src.ID).Int8(src.Commit)
			for _, c := range p.Cites {
				cites.Row().Text(j).Text(p.BulletinID).Text(string(c.CommunityID)).Text(c.InspectionID)
			}
		}
	}
	for _, r := range []*tables.Rows{insp, finds, recs, reps, buls, cites} {
		w.Upsert(r)
	}
	return nil
}

// checkCommunityStream checks that a community's casework event is on its own stream.
func checkCommunityStream(e decode.Event, kind, id string) error {
	if err := decode.RequireCommunity(e); err != nil {
		return err
	}
	return decode.CheckStream(e, kind, id)
}

// ---- queries --------------------------------------------------------------------------------------------

// Inspection is one inspection of a community, with its findings and what became of them.
type Inspection struct {
	InspectionID string
	Inspectors   string
	Round        string
	Methods      []inspection.Method
	HeldAt       time.Time
	Findings     []Finding
	EventID      eventlog.ID
	Commit       uint64
}

// Finding is one finding of an inspection, with its rectification if one was ordered.
type Finding struct {
	FindingID     string
	Severity      inspection.Severity
	Text          string
	Rectification *Rectification
}

// Rectification is an order on a finding (of an inspection or an audit) and the committee's report.
type Rectification struct {
	RectificationID string
	Kind            rectification.Kind
	SourceID        string
	FindingID       string
	Finding         string
	Requirement     string
	Due             time.Time
	OrderedAt       time.Time
	Ordered         Ref
	// Reported is set once the committee reported, with what it said; Late says after the deadline.
	Reported       *time.Time
	Response       string
	DocumentSHA256 string
	Late           bool
	Report         *Ref
}

// Ref is the event that recorded a fact: its id and $all commit position.
type Ref struct {
	EventID eventlog.ID
	Commit  uint64
}

// Overdue reports whether the rectification is unreported past its deadline at now.
func (r Rectification) Overdue(now time.Time) bool { return r.Reported == nil && now.After(r.Due) }

// Casework returns a community's inspections (the latest first, each with its findings and their
// rectifications) and the rectifications of its audit findings.
func Casework(ctx context.Context, q Querier, communityID string) ([]Inspection, []Rectification, error) {
	rects, err := tables.Collect(ctx, q, "directory", "rectifications of "+communityID, `SELECT r.rectification_id, r.source_kind, r.source_id,
		r.finding_id, r.finding, r.requirement, r.due, r.ordered_at, r.event_id, r.commit_pos, p.reported_at, p.response, p.document_sha256,
		coalesce(p.late, false), p.event_id, p.commit_pos
		FROM `+pgx.Identifier{Schema, "rectifications"}.Sanitize()+` r LEFT JOIN `+pgx.Identifier{Schema, "rectification_reports"}.Sanitize()+` p
		ON p.community_id = r.community_id AND p.rectification_id = r.rectification_id
		WHERE r.community_id = $1 ORDER BY r.ordered_at, r.rectification_id`, func(rs pgx.Rows) (Rectification, error) {
		var r Rectification
		var kind string
		var ev, pev pgtype.UUID
		var pos int64
		var reported pgtype.Timestamptz
		var response, sha pgtype.Text
		var ppos pgtype.Int8
		err := rs.Scan(&r.RectificationID, &kind, &r.SourceID, &r.FindingID, &r.Finding, &r.Requirement, &r.Due, &r.OrderedAt, &ev, &pos,
			&reported, &response, &sha, &r.Late, &pev, &ppos)
		r.Kind, r.Ordered = rectification.Kind(kind), Ref{ev.Bytes, uint64(pos)}
		if reported.Valid {
			at := reported.Time
			r.Reported, r.Response, r.DocumentSHA256 = &at, response.String, sha.String
			r.Report = &Ref{pev.Bytes, uint64(ppos.Int64)}
		}
		return r, err
	}, communityID)
	if err != nil {
		return nil, nil, err
	}
	byFinding := map[[2]string]*Rectification{}
	var audits []Rectification
	for i := range rects {
		r := &rects[i]
		if r.Kind == rectification.Audit {
			audits = append(audits, *r)
			continue
		}
		byFinding[[2]string{r.SourceID, r.FindingID}] = r
	}
	findings := map[string][]Finding{}
	if _, err := tables.Collect(ctx, q, "directory", "findings of "+communityID, `SELECT inspection_id, finding_id, severity, text
		FROM `+pgx.Identifier{Schema, "inspection_findings"}.Sanitize()+` WHERE community_id = $1 ORDER BY inspection_id, finding_id`,
		func(rs pgx.Rows) (struct{}, error) {
			var id, sev string
			var f Finding
			err := rs.Scan(&id, &f.FindingID, &sev, &f.Text)
			f.Severity, f.Rectification = inspection.Severity(sev), byFinding[[2]string{id, f.FindingID}]
			findings[id] = append(findings[id], f)
			return struct{}{}, err
		}, communityID); err != nil {
		return nil, nil, err
	}
	insps, err := tables.Collect(ctx, q, "directory", "inspections of "+communityID, `SELECT inspection_id, inspectors, coalesce(round, ''),
		methods, held_at, event_id, commit_pos FROM `+pgx.Identifier{Schema, "inspections"}.Sanitize()+`
		WHERE community_id = $1 ORDER BY held_at DESC, inspection_id DESC`, func(rs pgx.Rows) (Inspection, error) {
		var i Inspection
		var methods string
		var ev pgtype.UUID
		var pos int64
		err := rs.Scan(&i.InspectionID, &i.Inspectors, &i.Round, &methods, &i.HeldAt, &ev, &pos)
		for _, m := range strings.Split(methods, ",") {
			i.Methods = append(i.Methods, inspection.Method(m))
		}
		i.EventID, i.Commit, i.Findings = ev.Bytes, uint64(pos), findings[i.InspectionID]
		return i, err
	}, communityID)
	return insps, audits, err
}

// CaseworkFingerprint changes whenever a community's casework does.
func CaseworkFingerprint(ctx context.Context, q Querier, id string) (string, error) {
	marks, err := tables.Collect(ctx, q, "directory", "casework fingerprint of "+id, `SELECT
		(SELECT count(*) || '.' || coalesce(max(commit_pos), 0) FROM `+pgx.Identifier{Schema, "inspections"}.Sanitize()+` WHERE community_id = $1)
		|| '/' || (SELECT count(*) || '.' || coalesce(max(commit_pos), 0) FROM `+pgx.Identifier{Schema, "rectifications"}.Sanitize()+` WHERE community_id = $1)
		|| '/' || (SELECT count(*) || '.' || coalesce(max(commit_pos), 0) FROM `+pgx.Identifier{Schema, "rectification_reports"}.Sanitize()+` WHERE community_id = $1)
		|| '/' || (SELECT count(*) || '.' || coalesce(max(c.bulletin_id), '') FROM `+pgx.Identifier{Schema, "bulletin_cites"}.Sanitize()+` c WHERE community_id = $1)`,
		tables.One[string], id)
	if err != nil || len(marks) == 0 {
		return "", err
	}
	return marks[0], nil
}

// Bulletin is a street's or district's supervision bulletin.
type Bulletin struct {
	Jurisdiction kernel.JurisdictionPath
	BulletinID   string
	Title, Text  string
	PublishedAt  time.Time
	Cites        []bulletin.Cite
	EventID      eventlog.ID
	Commit       uint64
}

// Bulletins returns the bulletins published by the jurisdiction at path (when citing is "") or citing the
// community citing (when path is ""), the latest first.
func Bulletins(ctx context.Context, q Querier, path, citing string) ([]Bulletin, error) {
	where, arg := "b.jurisdiction = $1", path
	if citing != "" {
		where, arg = `EXISTS (SELECT 1 FROM `+pgx.Identifier{Schema, "bulletin_cites"}.Sanitize()+` c WHERE c.jurisdiction = b.jurisdiction
			AND c.bulletin_id = b.bulletin_id AND c.community_id = $1)`, citing
	}
	out, err := tables.Collect(ctx, q, "directory", "bulletins", `SELECT b.jurisdiction, b.bulletin_id, b.title, b.text, b.published_at,
		b.event_id, b.commit_pos, coalesce((SELECT array_agg(c.community_id || '/' || c.inspection_id ORDER BY c.community_id, c.inspection_id)
			FROM `+pgx.Identifier{Schema, "bulletin_cites"}.Sanitize()+` c WHERE c.jurisdiction = b.jurisdiction AND c.bulletin_id = b.bulletin_id), '{}')
		FROM `+pgx.Identifier{Schema, "bulletins"}.Sanitize()+` b WHERE `+where+` ORDER BY b.published_at DESC, b.bulletin_id DESC`,
		func(rs pgx.Rows) (Bulletin, error) {
			var b Bulletin
			var j string
			var ev pgtype.UUID
			var pos int64
			var cites []string
			err := rs.Scan(&j, &b.BulletinID, &b.Title, &b.Text, &b.PublishedAt, &ev, &pos, &cites)
			b.Jurisdiction, b.EventID, b.Commit = kernel.JurisdictionPath(j), ev.Bytes, uint64(pos)
			for _, c := range cites {
				cid, iid, _ := strings.Cut(c, "/")
				b.Cites = append(b.Cites, bulletin.Cite{CommunityID: kernel.CommunityID(cid), InspectionID: iid})
			}
			return b, err
		}, arg)
	return out, err
}

// Coverage is how much of a jurisdiction supervision reached in a year: communities under it, those
// inspected, the rectifications ordered and those reported.
type Coverage struct {
	Year                int
	Communities         int
	Inspected           int
	Inspections         int
	Findings            int
	Ordered, Reported   int
	ReportedLate, Unmet int
}

// CoverageOf returns the coverage of the jurisdiction at path in calendar year (China time); Unmet counts
// the rectifications unreported past their deadline at now.
func CoverageOf(ctx context.Context, q Querier, path string, year int, now time.Time) (Coverage, error) {
	like := path + "/%"
	if path == "" {
		like = "%"
	}
	byScope, err := coverage(ctx, q, "coverage of "+path, "''", "path LIKE $4", year, now, like)
	if c, ok := byScope[""]; ok {
		return c, err
	}
	return Coverage{Year: year}, err
}

// CoverageByDistrict returns the coverage of every district in calendar year (China time), by district
// path: one statement, for the metrics.
func CoverageByDistrict(ctx context.Context, q Querier, year int, now time.Time) (map[string]Coverage, error) {
	return coverage(ctx, q, "coverage by district", "substring(path from '^[^/]+/[^/]+/[^/]+')", "true", year, now)
}

// CoverageByStreet is CoverageByDistrict by street (the first four segments of the path).
func CoverageByStreet(ctx context.Context, q Querier, year int, now time.Time) (map[string]Coverage, error) {
	return coverage(ctx, q, "coverage by street", "substring(path from '^[^/]+/[^/]+/[^/]+/[^/]+')", "true", year, now)
}

// coverage counts the year's casework of the communities that match filter (a condition on communities,
// whose parameters follow $3), grouped by scope (an expression on communities).
func coverage(ctx context.Context, q Querier, what, scope, filter string, year int, now time.Time, args ...any) (map[string]Coverage, error) {
	cst := kernel.ChinaTime()
	from, to := time.Date(year, 1, 1, 0, 0, 0, 0, cst), time.Date(year+1, 1, 1, 0, 0, 0, 0, cst)
	return tables.CollectMap(ctx, q, "directory", what, `WITH c AS (
			SELECT community_id, `+scope+` AS scope FROM `+pgx.Identifier{Schema, "communities"}.Sanitize()+` WHERE `+filter+`),
		i AS (SELECT c.scope, i.community_id, i.findings FROM `+pgx.Identifier{Schema, "inspections"}.Sanitize()+` i JOIN c USING (community_id)
			WHERE i.held_at >= $1 AND i.held_at < $2),
		r AS (SELECT c.scope, r.due, p.reported_at, coalesce(p.late, false) AS late FROM `+pgx.Identifier{Schema, "rectifications"}.Sanitize()+` r
			JOIN c USING (community_id) LEFT JOIN `+pgx.Identifier{Schema, "rectification_reports"}.Sanitize()+` p
			USING (community_id, rectification_id) WHERE r.ordered_at >= $1 AND r.ordered_at < $2)
		SELECT s.scope, (SELECT count(*) FROM c WHERE c.scope = s.scope),
			(SELECT count(DISTINCT community_id) FROM i WHERE i.scope = s.scope), (SELECT count(*) FROM i WHERE i.scope = s.scope),
			(SELECT coalesce(sum(findings), 0) FROM i WHERE i.scope = s.scope), (SELECT count(*) FROM r WHERE r.scope = s.scope),
			(SELECT count(*) FROM r WHERE r.scope = s.scope AND reported_at IS NOT NULL),
			(SELECT count(*) FROM r WHERE r.scope = s.scope AND late),
			(SELECT count(*) FROM r WHERE r.scope = s.scope AND reported_at IS NULL AND due < $3)
		FROM (SELECT DISTINCT scope FROM c WHERE scope IS NOT NULL) s`,
		func(rs pgx.Rows) (scope string, c Coverage, err error) {
			c.Year = year
			err = rs.Scan(&scope, &c.Communities, &c.Inspected, &c.Inspections, &c.Findings, &c.Ordered, &c.Reported, &c.ReportedLate, &c.Unmet)
			return scope, c, err
		}, append([]any{from, to, now}, args...)...)
}

// Overdue is a rectification unreported past its deadline.
type Overdue struct {
	CommunityID     string
	CommunityName   string
	RectificationID string
	Kind            rectification.Kind
	Finding         string
	Requirement     string
	Due             time.Time
}

// OverdueRectifications returns the rectifications under path unreported past their deadline at now, the
// longest overdue first, at most limit.
func OverdueRectifications(ctx context.Context, q Querier, path string, now time.Time, limit int) ([]Overdue, error) {
	like := path + "/%"
	if path == "" {
		like = "%"
	}
	return tables.Collect(ctx, q, "directory", "overdue rectifications under "+path, `SELECT r.community_id, c.name, r.rectification_id,
		r.source_kind, r.finding, r.requirement, r.due FROM `+pgx.Identifier{Schema, "rectifications"}.Sanitize()+` r
		JOIN `+pgx.Identifier{Schema, "communities"}.Sanitize()+` c USING (community_id)
		LEFT JOIN `+pgx.Identifier{Schema, "rectification_reports"}.Sanitize()+` p USING (community_id, rectification_id)
		WHERE c.path LIKE $1 AND p.rectification_id IS NULL AND r.due < $2 ORDER BY r.due, r.community_id, r.rectification_id LIMIT $3`,
		func(rs pgx.Rows) (Overdue, error) {
			var o Overdue
			var kind string
			err := rs.Scan(&o.CommunityID, &o.CommunityName, &o.RectificationID, &kind, &o.Finding, &o.Requirement, &o.Due)
			o.Kind = rectification.Kind(kind)
			return o, err
		}, like, now, limit)
}
