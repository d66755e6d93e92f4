package portal

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/grassroots-ledger/ledger/domain/audit"
	"github.com/grassroots-ledger/ledger/projections/board"
	"github.com/grassroots-ledger/ledger/projections/directory"
	"github.com/grassroots-ledger/ledger/projections/elections"
	"github.com/grassroots-ledger/ledger/projections/finances"
	"github.com/grassroots-ledger/ledger/projections/meetings"
	alerts "github.com/grassroots-ledger/ledger/projections/supervision"
)

// No raw ids in sentences: an alert's detail was written with the ids of what it is about ("支出2024-0030
// (¥480.83)于…支付", "会议2025-joint-4于…结束", "审计2026-exit-p1于…结束"); the portal names them instead — an
// expenditure by its purpose, a meeting by its title, a resolution by its motion's title, an audit by its
// kind and month (审计（离任，2026年2月）) — and puts the id in a link only.

// refPattern finds a kind word and the id(s) after it: 支出2024-0030、2024-0031 · 会议2025-joint-4 · 决议r-7 ·
// 审计2026-exit-p1 · 选举e-2026 · 公开事项n-7 · 委员p-3.
var refPattern = regexp.MustCompile(`(支出|会议|决议|审计|选举|公开事项|委员)([A-Za-z0-9][A-Za-z0-9._-]*(?:、[A-Za-z0-9][A-Za-z0-9._-]*)*)`)

// auditKinds are the kinds of audit as a sentence names them.
var auditKinds = map[audit.Kind]string{audit.PreTerm: "任前", audit.Regular: "定期", audit.Exit: "离任"}

// namer names the records of one community that sentences refer to by id.
type namer struct {
	purposes              map[string]string
	meetings, resolutions map[string]meetings.Named
	audits                map[string]directory.Audit
	terms, people, titles map[string]string // elections by term, people by public name, notices by title
}

// namerFor looks up, in one community, every record the texts refer to (two statements).
func (p *Portal) namerFor(ctx context.Context, communityID string, texts []string) (namer, error) {
	var expenditures, audits, elects, people, notices, others []string
	for _, t := range texts {
		for _, m := range refPattern.FindAllStringSubmatch(t, -1) {
			ids := strings.Split(m[2], "、")
			switch m[1] {
			case "支出":
				expenditures = append(expenditures, ids...)
			case "审计":
				audits = append(audits, ids...)
			case "选举":
				elects = append(elects, ids...)
			case "委员":
				people = append(people, ids...)
			case "公开事项":
				notices = append(notices, ids...)
			default:
				others = append(others, ids...)
			}
		}
	}
	var n namer
	var err error
	if len(expenditures) > 0 {
		if n.purposes, err = finances.Purposes(ctx, p.db, communityID, expenditures); err != nil {
			return n, err
		}
	}
	if len(others) > 0 {
		if n.meetings, n.resolutions, err = meetings.Names(ctx, p.db, communityID, others); err != nil {
			return n, err
		}
	}
	if len(audits) > 0 {
		if n.audits, err = directory.Audits(ctx, p.db, communityID, audits); err != nil {
			return n, err
		}
	}
	if len(elects) > 0 || len(people) > 0 {
		if n.terms, n.people, err = elections.Names(ctx, p.db, communityID, elects, people); err != nil {
			return n, err
		}
	}
	if len(notices) > 0 {
		if n.titles, err = board.Titles(ctx, p.db, communityID, notices); err != nil {
			return n, err
		}
	}
	return n, nil
}

// sentence is text with every record it refers to named: 支出“误工补贴”, 会议“2025年第四次联席会议”.
// An id the community has no such record of stays as written.
func (n namer) sentence(text string) string {
	return refPattern.ReplaceAllStringFunc(text, func(m string) string {
		sub := refPattern.FindStringSubmatch(m)
		ids := strings.Split(sub[2], "、")
		for i, id := range ids {
			if a, ok := n.audits[id]; ok && sub[1] == "审计" {
				ids[i] = auditName(a)
			} else if name := n.name(sub[1], id); name != "" {
				ids[i] = "“" + Redact(name) + "”"
			}
		}
		return sub[1] + strings.Join(ids, "、")
	})
}

// auditName is an audit as a sentence names it after the word 审计: its kind and the month it was opened,
// in Asia/Shanghai: （离任，2026年2月）.
func auditName(a directory.Audit) string {
	kind := auditKinds[a.Kind]
	if kind == "" {
		kind = string(a.Kind)
	}
	at := local(a.Opened.At)
	return fmt.Sprintf("（%s，%d年%d月）", kind, at.Year(), at.Month())
}

func (n namer) name(kind, id string) string {
	switch kind {
	case "支出":
		return n.purposes[id]
	case "会议":
		return n.meetings[id].Title
	case "决议":
		return n.resolutions[id].Title
	case "选举":
		if term := n.terms[id]; term != "" {
			return term + "届换届选举"
		}
	case "委员":
		return n.people[id]
	case "公开事项":
		return n.titles[id]
	}
	return ""
}

// subjectHref is the page of what an alert is about, from its subject (a stream name, <kind>-<community>-<id>):
// a meeting's record, the payments, a resolution's meeting; "" for the community as a whole.
func (n namer) subjectHref(subject string) string {
	kind, rest, _ := strings.Cut(subject, "-")
	community, id, ok := strings.Cut(rest, "-")
	if !ok {
		return ""
	}
	switch kind {
	case "meeting":
		return communityHref(community) + "/meetings/" + url.PathEscape(id)
	case "expenditure":
		return communityHref(community) + "/payments"
	case "resolution":
		if r, ok := n.resolutions[id]; ok {
			return communityHref(community) + "/meetings/" + url.PathEscape(r.MeetingID)
		}
	case "seal": // a use of a seal: the community's seal register
		return communityHref(community) + "/seals"
	case "worklist": // a task pushed onto the community
		return communityHref(community) + "/tasks"
	case "asset": // a contract or its rent: the community's assets
		return communityHref(community) + "/assets"
	case "worker": // the roster against its posts: the community's workers
		return communityHref(community) + "/workers"
	case "rectification": // a rectification order: the community's casework
		return communityHref(community) + "/inspections"
	case "evaluation": // a democratic evaluation (or its rhythm): the community's evaluations
		return communityHref(community) + "/evaluations"
	case "audit": // no page of its own: the event that opened it, with what it recorded
		if a, ok := n.audits[id]; ok {
			return eventHref(a.Opened.Commit)
		}
	}
	return ""
}

// subjectRefs are the resolutions and audits alerts are about, as references the namer looks up (for their
// links).
func subjectRefs(as []alerts.Alert) []string {
	var out []string
	for _, a := range as {
		kind, rest, _ := strings.Cut(a.Subject, "-")
		_, id, ok := strings.Cut(rest, "-")
		switch {
		case ok && kind == "resolution":
			out = append(out, "决议"+id)
		case ok && kind == "audit":
			out = append(out, "审计"+id)
		}
	}
	return out
}
