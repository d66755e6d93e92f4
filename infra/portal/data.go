package portal

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/infra/httpapi"
	"github.com/grassroots-ledger/ledger/infra/tlog"
	"github.com/grassroots-ledger/ledger/projections/audittrail"
	"github.com/grassroots-ledger/ledger/projections/board"
	"github.com/grassroots-ledger/ledger/projections/directory"
	"github.com/grassroots-ledger/ledger/projections/elections"
	"github.com/grassroots-ledger/ledger/projections/finances"
	"github.com/grassroots-ledger/ledger/projections/meetings"
	alerts "github.com/grassroots-ledger/ledger/projections/supervision"
	ptlog "github.com/grassroots-ledger/ledger/projections/tlog"
)

// errNotFound is a community, notice, meeting, election or event the models do not have: a 404.
var errNotFound = errors.New("not found")

func notFound(err error) bool {
	return errors.Is(err, errNotFound) || errors.Is(err, directory.ErrNotFound) || errors.Is(err, board.ErrNotFound) ||
		errors.Is(err, finances.ErrNotFound) || errors.Is(err, elections.ErrNotFound) || errors.Is(err, meetings.ErrNotFound)
}

func communityHref(id string) string    { return "/c/" + url.PathEscape(id) }
func communityAPIHref(id string) string { return apiPrefix + "/communities/" + url.PathEscape(id) }
func nodeHref(path string) string {
	if path == "" {
		return "/"
	}
	return "/j/" + path
}

func withQuery(path string, kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Set(kv[i], kv[i+1])
		}
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

func ratingOf(r alerts.CommunityRating) *Rating {
	out := &Rating{Rating: string(r.Rating), Label: label(ratingLabels, string(r.Rating)), OpenRed: r.OpenRed, OpenYellow: r.OpenYellow,
		ChangedAt: localPtr(r.ChangedAt)}
	if out.Rating == "" {
		out.Rating, out.Label = "green", ratingLabels["green"]
	}
	return out
}

func crumbsOf(cs []directory.Node) []Crumb {
	out := make([]Crumb, 0, len(cs))
	for _, c := range cs {
		out = append(out, Crumb{Path: c.Path, Name: c.Name, Href: nodeHref(c.Path)})
	}
	return out
}

// loadChildren is a page of the jurisdiction tree under parent.
func (p *Portal) loadChildren(ctx context.Context, s *snapshot, parent, after string, limit int) (NodeList, error) {
	out := NodeList{Parent: parent, Nodes: []Node{}, Breadcrumbs: []Crumb{}, RatingsEnabled: s.alerts}
	if parent != "" {
		if _, ok, err := directory.NodeAt(ctx, p.db, parent); err != nil {
			return out, err
		} else if !ok {
			return out, fmt.Errorf("jurisdiction %s: %w", parent, errNotFound)
		}
		cs, err := directory.Ancestors(ctx, p.db, parent)
		if err != nil {
			return out, err
		}
		out.Breadcrumbs = crumbsOf(cs)
	}
	ns, err := children(ctx, p.db, parent, after, limit+1)
	if err != nil {
		return out, err
	}
	if len(ns) > limit {
		ns = ns[:limit]
		out.Next = withQuery(apiPrefix+"/jurisdictions", "parent", parent, "after", ns[len(ns)-1].Path, "limit", strconv.Itoa(limit))
	}
	ratings := map[string]alerts.CommunityRating{}
	hasCommunities := false
	for _, n := range ns {
		hasCommunities = hasCommunities || n.Community
	}
	if s.alerts && hasCommunities {
		rs, err := alerts.Ratings(ctx, p.db, kernel.JurisdictionPath(parent))
		if err != nil {
			return out, err
		}
		for _, r := range rs {
			ratings[string(r.Community)] = r
		}
	}
	dash, err := p.dashboards(ctx, s, parent, ns)
	if err != nil {
		return out, err
	}
	if s.alerts {
		if out.Flagged, err = p.flagged(ctx, parent, 50); err != nil {
			return out, err
		}
	}
	for _, n := range ns {
		node := Node{Path: n.Path, Code: n.Code, Name: n.Name, Level: n.Level, LevelName: levelNames[n.Level], Community: n.Community,
			Href: nodeHref(n.Path), APIHref: withQuery(apiPrefix+"/jurisdictions", "parent", n.Path), Source: src(n.EventID, n.Commit),
			Dashboard: dash[n.Path]}
		if n.CommunityID != "" {
			node.CommunityID, node.Kind, node.KindName = n.CommunityID, n.Kind, label(communityKinds, n.Kind)
			node.Households, node.Adults = n.Households, n.Adults
			node.Href, node.APIHref = communityHref(n.CommunityID), communityAPIHref(n.CommunityID)
			if s.alerts {
				node.Rating = ratingOf(ratings[n.CommunityID]) // a community without a row has no open alert: green
			}
		}
		out.Nodes = append(out.Nodes, node)
	}
	return out, nil
}

// dashboards counts, for each child of parent that is not a community, its communities by rating and its
// open alerts (a community without a rating row has no open alert: green); by rating only while ratings
// are enabled.
func (p *Portal) dashboards(ctx context.Context, s *snapshot, parent string, ns []treeNode) (map[string]*Dashboard, error) {
	counts, err := directory.CommunityCounts(ctx, p.db, parent)
	if err != nil {
		return nil, err
	}
	var byChild map[string]alerts.ChildRatings
	if s.alerts {
		if byChild, err = alerts.RatingsByChild(ctx, p.db, kernel.JurisdictionPath(parent)); err != nil {
			return nil, err
		}
	}
	out := map[string]*Dashboard{}
	for _, n := range ns {
		if n.Community {
			continue
		}
		d := &Dashboard{Communities: counts[n.Path]}
		if s.alerts {
			r := byChild[n.Path]
			d.Red, d.Yellow, d.OpenAlerts = r.Red, r.Yellow, r.OpenAlerts
			d.Green = d.Communities - d.Red - d.Yellow
		}
		out[n.Path] = d
	}
	return out, nil
}

// flagged lists the communities under parent rated red or yellow, red first, at most limit: one click
// from the district's or street's page to each.
func (p *Portal) flagged(ctx context.Context, parent string, limit int) ([]Flagged, error) {
	rs, err := alerts.Flagged(ctx, p.db, kernel.JurisdictionPath(parent), limit)
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	paths := make([]string, len(rs))
	for i, r := range rs {
		paths[i] = string(r.Jurisdiction)
	}
	names, err := directory.Names(ctx, p.db, paths)
	if err != nil {
		return nil, err
	}
	out := make([]Flagged, 0, len(rs))
	for _, r := range rs {
		out = append(out, Flagged{CommunityID: string(r.Community), Name: names[string(r.Jurisdiction)], Href: communityHref(string(r.Community)),
			Rating: ratingOf(r)})
	}
	return out, nil
}

// loadCommunity is a community's summary: figures, committee by counts, rating and open alerts.
func (p *Portal) loadCommunity(ctx context.Context, s *snapshot, id string) (Community, error) {
	c, err := directory.CommunityByID(ctx, p.db, id)
	if err != nil {
		return Community{}, err
	}
	cs, err := directory.Ancestors(ctx, p.db, c.Path)
	if err != nil {
		return Community{}, err
	}
	out := Community{ID: c.ID, Name: c.Name, Kind: string(c.Kind), KindName: label(communityKinds, string(c.Kind)), Path: c.Path,
		Breadcrumbs: crumbsOf(cs), Households: c.Households, Adults: c.Adults, FiguresAt: local(c.FiguresAt),
		Figures: src(c.FiguresEventID.String(), c.FiguresCommit), Registered: src(c.RegisteredEventID.String(), c.RegisteredCommit),
		Committee: Committee{Term: c.Committee.Term, Members: c.Committee.Members, FullTime: c.Committee.FullTime,
			Chairs: c.Committee.Chairs, ViceChairs: c.Committee.ViceChairs, Source: src(c.Committee.EventID.String(), c.Committee.Commit)},
		RatingsOn: s.alerts, OpenAlerts: []Alert{}}
	roster, err := directory.Roster(ctx, p.db, id)
	if err != nil {
		return Community{}, err
	}
	out.Committee.Roster = make([]RosterMember, 0, len(roster))
	for _, m := range roster {
		out.Committee.Roster = append(out.Committee.Roster, RosterMember{Office: officeOf(m.PersonID, m.PublicName, m.Role, m.FullTime),
			Since: local(m.Since), Source: src(m.EventID.String(), m.Commit)})
	}
	base := communityAPIHref(id)
	out.Links = CommunityLinks{Page: communityHref(id), Notices: base + "/notices", Finances: base + "/finances", Payments: base + "/payments",
		Elections: base + "/elections", Meetings: base + "/meetings", Topics: base + "/topics", Alerts: base + "/alerts"}
	if s.alerts {
		al, err := p.loadAlerts(ctx, s, id, c.Path)
		if err != nil {
			return Community{}, err
		}
		out.Rating, out.OpenAlerts = al.Rating, al.Alerts
	}
	return out, nil
}

// loadAlerts is a community's rating and open alerts (path: the community's jurisdiction path).
func (p *Portal) loadAlerts(ctx context.Context, s *snapshot, id, path string) (AlertList, error) {
	out := AlertList{CommunityID: id, RatingsEnabled: s.alerts, Alerts: []Alert{}}
	if !s.alerts {
		return out, nil
	}
	r, err := alerts.RatingOf(ctx, p.db, kernel.CommunityID(id))
	if err != nil {
		return out, err
	}
	out.Rating = ratingOf(r)
	as, err := alerts.OpenAlerts(ctx, p.db, kernel.JurisdictionPath(path), 100)
	if err != nil {
		return out, err
	}
	var ids, details []string
	for _, a := range as {
		ids = append(ids, a.ID)
		if string(a.Community) == id {
			details = append(details, a.Detail)
		}
	}
	sources, err := alertSources(ctx, p.db, ids)
	if err != nil && !schemaMismatch(err) {
		return out, err
	}
	names, err := p.namerFor(ctx, id, append(details, subjectRefs(as)...))
	if err != nil {
		return out, err
	}
	for _, a := range as {
		if string(a.Community) != id {
			continue
		}
		title := ruleTitles[string(a.Rule)]
		if title == "" {
			title = string(a.Rule)
		}
		al := Alert{AlertID: a.ID, Rule: string(a.Rule), Title: title, Severity: string(a.Severity), Detail: names.sentence(Redact(a.Detail)),
			Href: names.subjectHref(a.Subject), RaisedAt: local(a.RaisedAt), Source: src(a.ID, sources[a.ID])}
		if a.DueAt != nil {
			al.DueAt = localPtr(*a.DueAt)
		}
		out.Alerts = append(out.Alerts, al)
	}
	return out, nil
}

func noticeOf(community string, n board.Notice, now time.Time) Notice {
	c := n.Current
	out := Notice{NoticeID: n.NoticeID, Category: string(n.Category), CategoryName: label(noticeCategories, string(n.Category)),
		Status: string(n.Status), StatusName: label(noticeStatuses, string(n.Status)), Title: Redact(c.Title), Text: Redact(c.Text),
		PeriodFrom: local(n.Period.From), PeriodTo: local(n.Period.To), PublishedAt: local(n.PublishedAt), Version: c.Version,
		VersionAt: local(c.At), Correction: Redact(c.Reason), WindowStart: local(c.Window.Start), WindowEnd: local(c.Window.End),
		Source:     src(c.EventID.String(), c.Commit),
		Objections: Objections{Raised: n.Objections.Raised, Answered: n.Objections.Answered, Source: src(n.Objections.EventID.String(), n.Objections.Commit)},
		Href:       communityHref(community) + "/notices/" + url.PathEscape(n.NoticeID),
		APIHref:    communityAPIHref(community) + "/notices/" + url.PathEscape(n.NoticeID)}
	if w := n.Withdrawal; w != nil {
		out.WithdrawnAt, out.Withdrawal, out.WithdrawnSrc = localPtr(w.At), Redact(w.Reason), src(w.EventID.String(), w.Commit)
	}
	out.WindowOpen = n.Status != board.Withdrawn && c.Window.Contains(now)
	return out
}

// allNotices is every notice of a community, withdrawn ones included, newest published first: the board
// now (one indexed query) and the withdrawn notices, which are few.
func (p *Portal) allNotices(ctx context.Context, id string) ([]board.Notice, error) {
	ns, err := board.CurrentNotices(ctx, p.db, id, 1000)
	if err != nil {
		return nil, err
	}
	ids, err := board.WithdrawnNoticeIDs(ctx, p.db, id, 200)
	if err != nil {
		return nil, err
	}
	for _, nid := range ids {
		h, err := board.NoticeHistory(ctx, p.db, id, nid)
		if err != nil {
			return nil, err
		}
		ns = append(ns, h.Notice)
	}
	slices.SortStableFunc(ns, func(a, b board.Notice) int {
		if c := b.PublishedAt.Compare(a.PublishedAt); c != 0 {
			return c
		}
		return strings.Compare(b.NoticeID, a.NoticeID)
	})
	return ns, nil
}

// keyset returns the items of a list ordered newest first that come after the cursor, at most limit, and
// the cursor of the next page ("" when there is none). at and id give an item's keyset position.
func keyset[T any](items []T, after cursor, limit int, at func(T) time.Time, id func(T) string, idAsc bool) ([]T, string) {
	start := 0
	if !after.IsZero() {
		start = len(items)
		for i, it := range items {
			t := at(it)
			if t.Before(after.At) || (t.Equal(after.At) && ((!idAsc && id(it) < after.ID) || (idAsc && id(it) > after.ID))) {
				start = i
				break
			}
		}
	}
	end := min(len(items), start+limit)
	out := items[start:end]
	if end < len(items) && len(out) > 0 {
		last := out[len(out)-1]
		return out, cursor{At: at(last), ID: id(last)}.String()
	}
	return out, ""
}

// noticeFilter picks notices by category and by the year (Asia/Shanghai) they were published; zero
// values pick all.
type noticeFilter struct {
	Category string
	Year     int
}

func (f noticeFilter) keep(n board.Notice) bool {
	return (f.Category == "" || string(n.Category) == f.Category) && (f.Year == 0 || n.PublishedAt.In(cst).Year() == f.Year)
}

// noticeFilterOf reads ?category= and ?year= (a problem naming the parameter when one is not valid).
func noticeFilterOf(category, year string) (noticeFilter, *httpapi.Problem) {
	var f noticeFilter
	if category != "" {
		if _, ok := noticeCategories[category]; !ok {
			return f, httpapi.NewProblem(http.StatusBadRequest, httpapi.CodeInvalidValue, "category 应为 finance、affairs、election、resolution、audit 或 party", "category")
		}
		f.Category = category
	}
	if year != "" {
		y, err := strconv.Atoi(year)
		if err != nil || y < 1949 || y > 9999 {
			return f, httpapi.NewProblem(http.StatusBadRequest, httpapi.CodeInvalidValue, "year 应为四位年份，例如 2026", "year")
		}
		f.Year = y
	}
	return f, nil
}

// yearText is a year for a query string ("" for none).
func yearText(y int) string {
	if y == 0 {
		return ""
	}
	return strconv.Itoa(y)
}

// noticeCategoryList is the categories in the order the filter offers them.
var noticeCategoryList = []Crumb{{Path: "finance", Name: "财务公开"}, {Path: "affairs", Name: "事务公开"}, {Path: "election", Name: "选举公开"},
	{Path: "resolution", Name: "决议公开"}, {Path: "audit", Name: "审计公开"}, {Path: "party", Name: "党务公开"}}

func (p *Portal) loadNotices(ctx context.Context, id string, after cursor, limit int, f noticeFilter) (NoticeList, error) {
	all, err := p.allNotices(ctx, id)
	if err != nil {
		return NoticeList{}, err
	}
	years := map[int]bool{}
	kept := all[:0:0]
	for _, n := range all {
		years[n.PublishedAt.In(cst).Year()] = true
		if f.keep(n) {
			kept = append(kept, n)
		}
	}
	ns, next := keyset(kept, after, limit, func(n board.Notice) time.Time { return n.PublishedAt }, func(n board.Notice) string { return n.NoticeID }, false)
	out := NoticeList{CommunityID: id, Notices: make([]Notice, 0, len(ns)), Next: next, Category: f.Category, Year: f.Year}
	for y := range years {
		out.Years = append(out.Years, y)
	}
	slices.Sort(out.Years)
	slices.Reverse(out.Years)
	now := p.cfg.Now()
	for _, n := range ns {
		out.Notices = append(out.Notices, noticeOf(id, n, now))
	}
	return out, nil
}

func (p *Portal) communityName(ctx context.Context, id string) (string, error) {
	c, err := directory.CommunityByID(ctx, p.db, id)
	if err != nil {
		return "", err
	}
	return c.Name, nil
}

func (p *Portal) loadNoticeHistory(ctx context.Context, s *snapshot, id, noticeID string) (NoticeHistory, error) {
	name, err := p.communityName(ctx, id)
	if err != nil {
		return NoticeHistory{}, err
	}
	h, err := board.NoticeHistory(ctx, p.db, id, noticeID)
	if err != nil {
		return NoticeHistory{}, err
	}
	out := NoticeHistory{CommunityID: id, CommunityName: name, Notice: noticeOf(id, h.Notice, p.cfg.Now()),
		Versions: []NoticeVersion{}, Objections: []ObjectionTimes{}}
	for _, v := range h.Versions {
		nv := NoticeVersion{Version: v.Version, Title: Redact(v.Title), Text: Redact(v.Text), Attachments: []Attachment{},
			WindowStart: local(v.Window.Start), WindowEnd: local(v.Window.End), Reason: Redact(v.Reason), At: local(v.At),
			Source: src(v.EventID.String(), v.Commit)}
		for _, a := range v.Attachments {
			nv.Attachments = append(nv.Attachments, Attachment{Name: Redact(a.Name), SHA256: a.SHA256})
		}
		if s.audit && s.has(ptlog.Name) {
			if nv.Log, err = p.versionInLog(ctx, v.EventID.String(), v.Commit); err != nil {
				return NoticeHistory{}, err
			}
		}
		out.Versions = append(out.Versions, nv)
	}
	for _, o := range h.Objections {
		var answered *elections.Step
		if !o.AnsweredAt.IsZero() {
			answered = &elections.Step{At: o.AnsweredAt, EventID: o.AnsweredEventID, Commit: o.AnsweredCommit}
		}
		out.Objections = append(out.Objections, objectionTimes(o.RaisedAt, o.RaisedEventID.String(), o.RaisedCommit, answered, o.Answer))
	}
	return out, nil
}

// objectionTimes is an objection as the public sees it: when it was raised and answered, and the answer.
func objectionTimes(raisedAt time.Time, raisedEvent string, raisedCommit uint64, answered *elections.Step, answer string) ObjectionTimes {
	ot := ObjectionTimes{RaisedAt: local(raisedAt), Raised: src(raisedEvent, raisedCommit)}
	if answered != nil {
		ot.AnsweredAt, ot.Answered, ot.Answer = localPtr(answered.At), src(answered.EventID.String(), answered.Commit), Redact(answer)
	}
	return ot
}

// loadFinances is a fiscal year by category; year 0 picks the latest year with figures.
func (p *Portal) loadFinances(ctx context.Context, id string, year int) (Finances, error) {
	years, err := finances.FiscalYears(ctx, p.db, id)
	if err != nil {
		return Finances{}, err
	}
	if year == 0 {
		year = p.cfg.Now().In(cst).Year()
		if len(years) > 0 {
			year = years[0]
		}
	}
	out := Finances{CommunityID: id, FiscalYear: year, Years: years, Categories: []CategoryTotals{},
		Payments: withQuery(communityAPIHref(id)+"/payments", "year", strconv.Itoa(year))}
	if out.Years == nil {
		out.Years = []int{}
	}
	cats, err := finances.YearSummary(ctx, p.db, id, year)
	if err != nil {
		return Finances{}, err
	}
	var alloc, paid int64
	for _, c := range cats {
		ct := CategoryTotals{Category: string(c.Category), CategoryName: label(fundCategories, string(c.Category)),
			Allocated: money(int64(c.Allocated)), BySource: []SourceAmount{}, Requested: money(int64(c.Requested)),
			Approved: money(int64(c.Approved)), Paid: money(int64(c.Paid)), Payments: c.Payments,
			Source: src(c.LastEventID.String(), c.LastCommit)}
		for _, s := range c.AllocatedBySource {
			ct.BySource = append(ct.BySource, SourceAmount{Source: string(s.Source), SourceName: label(fundSources, string(s.Source)), Amount: money(int64(s.Amount))})
		}
		alloc += int64(c.Allocated)
		paid += int64(c.Paid)
		out.Categories = append(out.Categories, ct)
	}
	out.Allocated, out.Paid = money(alloc), money(paid)
	return out, nil
}

func (p *Portal) loadPayments(ctx context.Context, id string, year int, after cursor, limit int) (PaymentList, error) {
	page, err := finances.Payments(ctx, p.db, finances.PaymentFilter{CommunityID: id, FiscalYear: year,
		After: finances.PaymentCursor{PaidAt: after.At, ExpenditureID: after.ID}, Limit: limit})
	if err != nil {
		return PaymentList{}, err
	}
	out := PaymentList{CommunityID: id, FiscalYear: year, Payments: make([]Payment, 0, len(page.Payments))}
	var refs []string
	for _, x := range page.Payments {
		if x.ResolutionID != "" {
			refs = append(refs, "决议"+x.ResolutionID)
		}
	}
	names, err := p.namerFor(ctx, id, refs)
	if err != nil {
		return PaymentList{}, err
	}
	for _, x := range page.Payments {
		out.Payments = append(out.Payments, Payment{ExpenditureID: x.ExpenditureID, FiscalYear: x.FiscalYear, Category: string(x.Category),
			CategoryName: label(fundCategories, string(x.Category)), Kind: string(x.Kind), KindName: label(expenditureKinds, string(x.Kind)),
			Purpose: Redact(x.Purpose), Amount: money(int64(x.Amount)), PayeeKind: string(x.PayeeKind),
			Payee: Redact(finances.PublicPayee(x.PayeeKind, x.Payee)), VoucherNo: Redact(x.VoucherNo), PaidAt: local(x.PaidAt),
			ResolutionID: x.ResolutionID, MeetingID: x.MeetingID, WasApproved: x.WasApproved, Source: src(x.EventID.String(), x.Commit)})
		if r, ok := names.resolutions[x.ResolutionID]; ok && x.ResolutionID != "" {
			pay := &out.Payments[len(out.Payments)-1]
			pay.Resolution, pay.ResolutionHref = Redact(r.Title), communityHref(id)+"/meetings/"+url.PathEscape(r.MeetingID)
		}
	}
	if page.More {
		out.Next = cursor{At: page.Next.PaidAt, ID: page.Next.ExpenditureID}.String()
	}
	return out, nil
}

func stepSrc(s *elections.Step) (*time.Time, *Source) {
	if s == nil {
		return nil, nil
	}
	return localPtr(s.At), src(s.EventID.String(), s.Commit)
}

func electionOf(id string, e elections.Election) Election {
	out := Election{ElectionID: e.ElectionID, Term: e.Term, Seats: e.Seats, Phase: string(e.Phase), PhaseName: label(electionPhases, string(e.Phase)),
		Formed: local(e.Formed.At), FormedSource: src(e.Formed.EventID.String(), e.Formed.Commit), Candidates: e.Candidates,
		RegisteredVoters: e.RegisteredVoters, BallotsCast: e.BallotsCast, Turnout: e.Turnout, Winners: e.Winners,
		ObjectionsRaised: e.ObjectionsRaised, ObjectionsDone: e.ObjectionsAnswered, Recalled: e.MembersRecalled,
		ByElected: e.MembersByElected, Resigned: e.MembersResigned,
		Href:    communityHref(id) + "/elections/" + url.PathEscape(e.ElectionID),
		APIHref: communityAPIHref(id) + "/elections/" + url.PathEscape(e.ElectionID)}
	out.ListPublicized, out.ListSource = stepSrc(e.ListPublicized)
	out.VotingAt, out.VotingSource = stepSrc(e.Voting)
	out.CertifiedAt, out.CertifiedSource = stepSrc(e.Certified)
	return out
}

// officeOf is a person in an office, by public display name.
func officeOf(id, name, role string, fullTime bool) Office {
	return Office{PersonID: id, Name: nameOr(name, id), Role: role, RoleName: label(roles, role), FullTime: fullTime}
}

// nameOr is a person's public display name, or their id when none was recorded.
func nameOr(name, id string) string {
	if name == "" {
		return id
	}
	return Redact(name)
}

func winnersOf(t elections.Timeline, onlyElected bool) []Winner {
	out := []Winner{}
	for _, c := range t.Candidates {
		if onlyElected && c.Status != elections.Elected {
			continue
		}
		w := Winner{Office: officeOf(c.PersonID, c.PublicName, c.Role, c.FullTime), Votes: c.Votes,
			Status: label(candidateStatues, string(c.Status)), Standing: c.Status != elections.Withdrawn}
		if c.Result != nil {
			w.Source = src(c.Result.EventID.String(), c.Result.Commit)
		} else if c.Votes != nil {
			w.Source = src(c.VotesEventID.String(), c.VotesCommit)
		}
		out = append(out, w)
	}
	return out
}

// loadElections is a community's elections; the latest three certified ones carry their results.
func (p *Portal) loadElections(ctx context.Context, id string) (ElectionList, error) {
	es, err := elections.Elections(ctx, p.db, id)
	if err != nil {
		return ElectionList{}, err
	}
	out := ElectionList{CommunityID: id, Elections: make([]Election, 0, len(es))}
	detailed := 0
	for _, e := range es {
		el := electionOf(id, e)
		if e.Certified != nil && detailed < 3 {
			detailed++
			t, err := elections.ElectionTimeline(ctx, p.db, id, e.ElectionID)
			if err != nil {
				return ElectionList{}, err
			}
			el.Results = winnersOf(t, true)
		}
		out.Elections = append(out.Elections, el)
	}
	return out, nil
}

func (p *Portal) loadElection(ctx context.Context, id, electionID string) (ElectionDetail, error) {
	name, err := p.communityName(ctx, id)
	if err != nil {
		return ElectionDetail{}, err
	}
	t, err := elections.ElectionTimeline(ctx, p.db, id, electionID)
	if err != nil {
		return ElectionDetail{}, err
	}
	out := ElectionDetail{CommunityID: id, CommunityName: name, Election: electionOf(id, t.Election), Candidates: winnersOf(t, false),
		Changes: []MemberChange{}, Objections: []ObjectionTimes{},
		ObjectionsOpen: t.Election.ListPublicized != nil && t.Election.Certified == nil}
	if t.Election.Certified != nil {
		out.Election.Results = winnersOf(t, true)
	}
	names := map[string]string{}
	for _, c := range t.Candidates {
		names[c.PersonID] = c.PublicName
	}
	for _, o := range t.Objections {
		ot := objectionTimes(o.Raised.At, o.Raised.EventID.String(), o.Raised.Commit, o.Answered, o.Answer)
		if o.Concerning != "" {
			ot.Concerning = nameOr(names[o.Concerning], o.Concerning)
		}
		out.Objections = append(out.Objections, ot)
	}
	for _, c := range t.Changes {
		out.Changes = append(out.Changes, MemberChange{Change: string(c.Change), ChangeName: label(memberChanges, string(c.Change)),
			PersonID: c.PersonID, Name: nameOr(names[c.PersonID], c.PersonID), Role: label(roles, c.Role), Votes: c.Votes, VotesFor: c.VotesFor, At: local(c.At),
			Source: src(c.EventID.String(), c.Commit)})
	}
	return out, nil
}

func meetingOf(id string, m meetings.Meeting) Meeting {
	return Meeting{MeetingID: m.MeetingID, Kind: string(m.Kind), KindName: label(meetingKinds, string(m.Kind)), Title: Redact(m.Title),
		HeldAt: local(m.Convened.At), Basis: string(m.Basis), BasisName: label(meetingBases, string(m.Basis)), Expected: m.Expected,
		Present: m.Present, Motions: m.Motions, Resolutions: m.Resolutions, MinutesKept: m.MinutesSHA256 != "", Status: string(m.Status),
		Source:  src(m.Convened.EventID.String(), m.Convened.Commit),
		Href:    communityHref(id) + "/meetings/" + url.PathEscape(m.MeetingID),
		APIHref: communityAPIHref(id) + "/meetings/" + url.PathEscape(m.MeetingID)}
}

func voteOf(m meetings.Meeting, mo meetings.Motion, href string) Vote {
	v := Vote{MeetingID: m.MeetingID, MotionID: mo.MotionID, Title: Redact(mo.Title), Text: Redact(mo.Text), OutcomeName: "未表决",
		Source: src(mo.Tabled.EventID.String(), mo.Tabled.Commit), Href: href}
	if vt := mo.Vote; vt != nil {
		v.Voted, v.For, v.Against, v.Abstain, v.Present = true, vt.For, vt.Against, vt.Abstain, vt.Present
		v.Outcome, v.OutcomeName, v.VotedAt = string(vt.Outcome), label(outcomes, string(vt.Outcome)), localPtr(vt.At)
		v.Source = src(vt.EventID.String(), vt.Commit)
	}
	return v
}

func resolutionOf(id string, r meetings.Resolution) Resolution {
	out := Resolution{MeetingID: r.MeetingID, ResolutionID: r.ResolutionID, MotionID: r.MotionID, Subject: string(r.Subject),
		SubjectName: label(subjects, string(r.Subject)), Text: Redact(r.Text), AdoptedAt: local(r.Adopted.At),
		Source: src(r.Adopted.EventID.String(), r.Adopted.Commit), Href: communityHref(id) + "/meetings/" + url.PathEscape(r.MeetingID)}
	if r.Ceiling > 0 {
		m := money(int64(r.Ceiling))
		out.Ceiling = &m
	}
	return out
}

// loadMeetings is a page of the register; recent adds the votes of the latest meetings and the latest
// resolutions (the page's section and the first page of the API).
func (p *Portal) loadMeetings(ctx context.Context, id string, after cursor, limit int, recent bool) (MeetingList, error) {
	all, err := meetings.Register(ctx, p.db, id, 1000)
	if err != nil {
		return MeetingList{}, err
	}
	ms, next := keyset(all, after, limit, func(m meetings.Meeting) time.Time { return m.Convened.At },
		func(m meetings.Meeting) string { return m.MeetingID }, true)
	out := MeetingList{CommunityID: id, Meetings: make([]Meeting, 0, len(ms)), Next: next}
	for _, m := range ms {
		out.Meetings = append(out.Meetings, meetingOf(id, m))
	}
	if !recent {
		return out, nil
	}
	out.Votes = []Vote{}
	for _, m := range all {
		if len(out.Votes) >= 8 {
			break
		}
		if m.Motions == 0 {
			continue
		}
		r, err := meetings.MeetingRecord(ctx, p.db, id, m.MeetingID)
		if err != nil {
			return MeetingList{}, err
		}
		for _, mo := range r.Motions {
			v := voteOf(m, mo, communityHref(id)+"/meetings/"+url.PathEscape(m.MeetingID))
			v.MeetingTitle = Redact(m.Title)
			out.Votes = append(out.Votes, v)
		}
	}
	rs, err := meetings.Resolutions(ctx, p.db, id, 10)
	if err != nil {
		return MeetingList{}, err
	}
	out.Resolutions = []Resolution{}
	for _, r := range rs {
		out.Resolutions = append(out.Resolutions, resolutionOf(id, r))
	}
	return out, nil
}

func (p *Portal) loadMeeting(ctx context.Context, id, meetingID string) (MeetingDetail, error) {
	name, err := p.communityName(ctx, id)
	if err != nil {
		return MeetingDetail{}, err
	}
	r, err := meetings.MeetingRecord(ctx, p.db, id, meetingID)
	if err != nil {
		return MeetingDetail{}, err
	}
	m := r.Meeting
	out := MeetingDetail{CommunityID: id, CommunityName: name, Meeting: meetingOf(id, m), Motions: []Vote{}, Resolutions: []Resolution{},
		MinutesSHA256: m.MinutesSHA256}
	if m.Minutes != nil {
		out.Minutes = src(m.Minutes.EventID.String(), m.Minutes.Commit)
	}
	for _, mo := range r.Motions {
		out.Motions = append(out.Motions, voteOf(m, mo, out.Meeting.Href))
	}
	for _, res := range r.Resolutions {
		out.Resolutions = append(out.Resolutions, resolutionOf(id, res))
	}
	return out, nil
}

func (p *Portal) loadTopics(ctx context.Context, id string, after cursor, limit int) (TopicList, error) {
	all, err := meetings.Topics(ctx, p.db, id, 1000)
	if err != nil {
		return TopicList{}, err
	}
	ts, next := keyset(all, after, limit, func(t meetings.Topic) time.Time { return t.CollectedAt },
		func(t meetings.Topic) string { return t.TopicID }, true)
	out := TopicList{CommunityID: id, Topics: make([]Topic, 0, len(ts)), Next: next}
	for _, t := range ts {
		out.Topics = append(out.Topics, Topic{TopicID: t.TopicID, Channel: string(t.Channel), ChannelName: label(channels, string(t.Channel)),
			Summary: Redact(t.Summary), Step: int(t.Step), StepName: t.StepName, StepAt: local(t.Current.At), Status: string(t.Status),
			StatusName: label(topicStatuses, string(t.Status)), MeetingID: t.MeetingID, Feedbacks: t.FeedbackCount,
			CollectedAt: local(t.CollectedAt), Source: src(t.Current.EventID.String(), t.Current.Commit)})
	}
	return out, nil
}

// loadEvents is the public part of the events at a position.
func (p *Portal) loadEvents(ctx context.Context, s *snapshot, position uint64) (EventList, error) {
	if !s.audit {
		return EventList{}, fmt.Errorf("event %d: the event index is not available: %w", position, errNotFound)
	}
	es, err := audittrail.EventsAt(ctx, p.db, position)
	if err != nil {
		return EventList{}, err
	}
	if len(es) == 0 {
		return EventList{}, fmt.Errorf("event %d: %w", position, errNotFound)
	}
	out := EventList{Position: position}
	for _, e := range es {
		ev := Event{Position: e.Position.Commit, Prepare: e.Position.Prepare, EventID: e.EventID.String(), Type: e.Type,
			TypeName: label(eventTypes, e.Type), Stream: e.Stream, Revision: int64(e.Revision), CommunityID: e.CommunityID, Jurisdiction: e.Jurisdiction,
			OccurredAt: localPtr(e.OccurredAt), RecordedAt: local(e.RecordedAt), Hash: e.Hash, PrevHash: e.PrevHash,
			SchemaVersion: e.SchemaVersion}
		ev.Content, ev.ContentNote = p.eventContent(ctx, e)
		if e.CommunityID != "" && s.has("directory") {
			if name, err := p.communityName(ctx, e.CommunityID); err == nil {
				ev.CommunityName, ev.CommunityHref = name, communityHref(e.CommunityID)
			} else if !notFound(err) {
				return EventList{}, err
			}
		}
		if s.has(ptlog.Name) {
			if ev.Log, err = p.logInclusion(ctx, e.Position); err != nil {
				return EventList{}, err
			}
		}
		out.Events = append(out.Events, ev)
	}
	return out, nil
}

// versionInLog is where the event of a notice's version (its id, at commit position commit) stands in the
// transparency log: nil when the ledger keeps no log or the event is no leaf yet.
func (p *Portal) versionInLog(ctx context.Context, eventID string, commit uint64) (*LogInclusion, error) {
	if commit == 0 {
		return nil, nil
	}
	es, err := audittrail.EventsAt(ctx, p.db, commit)
	if err != nil {
		return nil, err
	}
	for _, e := range es {
		if e.EventID.String() == eventID {
			return p.logInclusion(ctx, e.Position)
		}
	}
	return nil, nil
}

// logMark changes whenever a new checkpoint of the transparency log is signed: it is part of the validity
// of the cached pages that say whether a checkpoint includes an event. "" when the ledger keeps no log.
func (p *Portal) logMark(ctx context.Context, s *snapshot) string {
	if !s.has(ptlog.Name) {
		return ""
	}
	latest, err := tlog.Latest(ctx, p.db)
	if err != nil {
		return ""
	}
	return strconv.FormatUint(latest.Size, 10)
}

// logInclusion is the event's place in the transparency log: nil when it is no leaf yet.
func (p *Portal) logInclusion(ctx context.Context, pos eventlog.Position) (*LogInclusion, error) {
	leaf, err := ptlog.NewTree(p.db).LeafOf(ctx, pos)
	if errors.Is(err, ptlog.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	li := &LogInclusion{LeafIndex: leaf.Index, Position: pos.String(), EventHash: hex.EncodeToString(leaf.Data)}
	latest, err := tlog.Latest(ctx, p.db)
	switch {
	case errors.Is(err, tlog.ErrNoCheckpoint):
	case err != nil:
		return nil, err
	case leaf.Index < latest.Size:
		li.Included, li.CheckpointSize = true, latest.Size
		li.ProofURL = tlog.InclusionPath + "?" + url.Values{"position": {pos.String()}, "tree_size": {strconv.FormatUint(latest.Size, 10)}}.Encode()
		li.VerifyURL = "/static/verify.html?" + url.Values{"position": {pos.String()}, "hash": {hex.EncodeToString(leaf.Data)}}.Encode()
	}
	return li, nil
}
