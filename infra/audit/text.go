package audit

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// localTime renders an instant in China time for people.
func localTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(kernel.ChinaTime()).Format("2006-01-02 15:04")
}

// WriteText writes a snapshot as a summary for people (ledger replay --format text).
func (s *Snapshot) WriteText(w io.Writer) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	sum := s.summary

	p("Community %s (%s)", s.Community, s.Jurisdiction)
	if c := sum.Community; c != nil {
		p(": %s, %s", c.Name, c.Kind)
	}
	p("\nState as of %s (%s China time), by %s time", s.AsOf.Format(time.RFC3339), s.AsOfLocal, s.By)
	if s.Until != nil {
		p(", up to $all position %s", s.Until)
	}
	p("\nEvents applied: %d (%d of the community, %d of the jurisdictions above it) from %d streams; %d later events left out\n",
		s.Events, s.OwnEvents, s.Events-s.OwnEvents, s.Streams, s.Later)
	if s.Hint != "" {
		p("Note: %s\n", s.Hint)
	}
	if e := s.LastEvent; e != nil {
		p("Last event applied: %s@%d %s (%s) at $all %s, recorded %s\n", e.Stream, e.Revision, e.Type, e.EventID, e.Position,
			e.RecordedAt.Format(time.RFC3339))
	}
	if c := sum.Community; c != nil {
		p("Households %d, adults %d; committee", c.Households, c.Adults)
		if c.Committee.Term == "" {
			p(" not seated\n")
		} else {
			p(" of term %s: %d members (%d full-time, %d chairs, %d vice-chairs)\n", c.Committee.Term, c.Committee.Members,
				c.Committee.FullTime, c.Committee.Chairs, c.Committee.ViceChairs)
		}
	}

	p("\nPublic board (公开栏): %d notices\n", len(sum.Disclosures))
	for _, n := range sum.Disclosures {
		p("  %s  %-10s %-9s %s", localTime(n.PublishedAt), n.Category, n.Status, n.Current.Title)
		if n.Current.Version > 1 {
			p(" (version %d)", n.Current.Version)
		}
		if n.Objections.Raised > 0 {
			p(" [objections %d, answered %d]", n.Objections.Raised, n.Objections.Answered)
		}
		p("\n")
	}

	p("\nFinances (经费):")
	if len(sum.Finances) == 0 {
		p(" none\n")
	} else {
		p("\n")
	}
	for _, y := range sum.Finances {
		var alloc, req, appr, paid kernel.Fen
		pays := 0
		for _, c := range y.Categories {
			alloc, req, appr, paid, pays = alloc+c.Allocated, req+c.Requested, appr+c.Approved, paid+c.Paid, pays+c.Payments
		}
		p("  %d: allocated %s, requested %s, approved %s, paid %s in %d payments\n", y.Year, alloc, req, appr, paid, pays)
		for _, c := range y.Categories {
			p("      %-16s allocated %s, paid %s\n", c.Category, c.Allocated, c.Paid)
		}
	}

	p("\nElections (换届选举): %d\n", len(sum.Elections))
	for _, e := range sum.Elections {
		p("  %s term %s: %s, %d candidates", e.ElectionID, e.Term, e.Phase, e.Candidates)
		if e.Turnout != "" {
			p(", turnout %s%%", e.Turnout)
		}
		if e.Certified != nil {
			p(", %d elected, certified %s", e.Winners, localTime(e.Certified.At))
		}
		p("\n")
	}

	p("\nMeetings (会议): %d, resolutions %d\n", len(sum.Meetings), len(sum.Resolutions))
	for _, m := range sum.Meetings {
		p("  %s  %-14s %-8s %s", localTime(m.Convened.At), m.Kind, m.Status, m.Title)
		if m.Present != nil {
			p(" (%d of %d present)", *m.Present, m.Expected)
		}
		p("\n")
	}

	if sum.Rating != nil {
		p("\nSupervision (督查预警): rating %s, %d open alerts\n", sum.Rating.Rating, len(sum.OpenAlerts))
		for _, a := range sum.OpenAlerts {
			p("  %s  %-6s %s: %s\n", localTime(a.RaisedAt), a.Severity, a.Rule, a.Detail)
		}
	}

	p("\nRead models:\n")
	for _, m := range s.Models {
		tables := make([]string, 0, len(m.Rows))
		for t := range m.Rows {
			tables = append(tables, t)
		}
		slices.Sort(tables)
		parts := make([]string, len(tables))
		for i, t := range tables {
			parts[i] = fmt.Sprintf("%s %d", t, m.Rows[t])
		}
		p("  %-12s %s\n", m.Name, strings.Join(parts, ", "))
		for _, e := range m.Poison {
			p("      could not apply %s@%d %s at %s: %s\n", e.Stream, e.Revision, e.Type, e.Position, e.Reason)
		}
		if m.Halted {
			p("      halted at the first of them (policy halt): its tables show the state before it\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
