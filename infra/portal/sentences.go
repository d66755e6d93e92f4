package portal

import (
	"context"
	"net/url"
	"regexp"
	"strings"

	"github.com/grassroots-ledger/ledger/projections/finances"
	"github.com/grassroots-ledger/ledger/projections/meetings"
	alerts "github.com/grassroots-ledger/ledger/projections/supervision"
)

// No raw ids in sentences: an alert's detail was written with the ids of what it is about ("支出2024-0030
// (¥480.83)于…支付", "会议2025-joint-4于…结束"); the portal names them instead — an expenditure by its
// purpose, a meeting by its title, a resolution by its motion's title — and puts the id in a link only.

// refPattern finds a kind word and the id(s) after it: 支出2024-0030、2024-0031 · 会议2025-joint-4 · 决议r-7.
var refPattern = regexp.MustCompile(`(支出|会议|决议)([A-Za-z0-9][A-Za-z0-9._-]*(?:、[A-Za-z0-9][A-Za-z0-9._-]*)*)`)

// namer names the records of one community that sentences refer to by id.
type namer struct {
	purposes              map[string]string
	meetings, resolutions map[string]meetings.Named
}

// namerFor looks up, in one community, every record the texts refer to (two statements).
func (p *Portal) namerFor(ctx context.Context, communityID string, texts []string) (namer, error) {
	var expenditures, others []string
	for _, t := range texts {
		for _, m := range refPattern.FindAllStringSubmatch(t, -1) {
			ids := strings.Split(m[2], "、")
			if m[1] == "支出" {
				expenditures = append(expenditures, ids...)
			} else {
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
	return n, nil
}

// sentence is text with every record it refers to named: 支出“误工补贴”, 会议“2025年第四次联席会议”.
// An id the community has no such record of stays as written.
func (n namer) sentence(text string) string {
	return refPattern.ReplaceAllStringFunc(text, func(m string) string {
		sub := refPattern.FindStringSubmatch(m)
		ids := strings.Split(sub[2], "、")
		for i, id := range ids {
			if name := n.name(sub[1], id); name != "" {
				ids[i] = "“" + Redact(name) + "”"
			}
		}
		return sub[1] + strings.Join(ids, "、")
	})
}

func (n namer) name(kind, id string) string {
	switch kind {
	case "支出":
		return n.purposes[id]
	case "会议":
		return n.meetings[id].Title
	case "决议":
		return n.resolutions[id].Title
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
	}
	return ""
}

// subjectRefs are the resolutions alerts are about, as references the namer looks up (for their links).
func subjectRefs(as []alerts.Alert) []string {
	var out []string
	for _, a := range as {
		if kind, rest, _ := strings.Cut(a.Subject, "-"); kind == "resolution" {
			if _, id, ok := strings.Cut(rest, "-"); ok {
				out = append(out, "决议"+id)
			}
		}
	}
	return out
}
