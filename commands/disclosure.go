package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/grassroots-ledger/ledger/domain/audit"
	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/election"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// The public board (村务公开/居务公开): one stream per notice, disclosure-<communityID>-<noticeID>.

// notices are the notice streams of a community's public board.
var notices = kind[*disclosure.Notice]{"notice_id", disclosure.Stream, disclosure.Rehydrate}

// DisclosedFact names a fact of the community's record that a notice discloses. The ledger reads when
// it happened from that fact's own stream (paid, allocated, certified, closed, adopted, held), so a late
// disclosure is marked whatever the clerk writes.
type DisclosedFact struct {
	Kind       disclosure.RefKind `json:"kind" doc:"payment (id: expenditure id, must be paid), budget (id: allocation id, with fiscal_year), election (id: election id, result certified), audit (id: audit id, closed), resolution (id: resolution id, with meeting_id), meeting (id: meeting id), topic (id: topic id, deliberation held)"`
	ID         string             `json:"id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"Id of the fact, as its kind says"`
	MeetingID  string             `json:"meeting_id,omitempty" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"For a resolution: the meeting that adopted it"`
	FiscalYear int                `json:"fiscal_year,omitempty" minimum:"1949" maximum:"9999" doc:"For a budget allocation: its fiscal year"`
}

// PublishDisclosure puts a notice on the community's public board (发布公开事项) with its category, the
// period it covers, its text, the SHA-256 of attached documents and a publicity window. Watched, for
// each disclosed fact: paid expenditures within 24 h, election and audit results within 24 h, major
// resolutions within 24 h (defaults; the rulebook in force decides).
type PublishDisclosure struct {
	CommunityID string              `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	NoticeID    string              `json:"notice_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"Id of the new notice, e.g. 2026-q1-finance"`
	Category    disclosure.Category `json:"category" doc:"finance 财务, affairs 村(居)务, election 选举, resolution 决议, audit 审计, party 党务"`
	Period      Period              `json:"period" doc:"The period the notice covers (所属期间)"`
	Title       string              `json:"title" minLength:"1" maxLength:"256" doc:"Title on the board"`
	Text        string              `json:"text" minLength:"1" maxLength:"100000" doc:"Text of the notice"`
	Attachments []Attachment        `json:"attachments,omitempty" doc:"Attached documents by SHA-256"`
	Window      Window              `json:"window" doc:"The publicity window (公示期)"`
	Discloses   []DisclosedFact     `json:"discloses,omitempty" doc:"The facts of the record this notice discloses"`
}

// PublishDisclosure handles publish-disclosure. The time of the previous notice of the same category
// is not looked up (PreviousInCategory stays nil: it would need an index that cannot be written
// atomically with the notice); the alert engine watches the monthly and quarterly rhythm by deadline.
func (h *Handlers) PublishDisclosure(ctx context.Context, m Meta, c PublishDisclosure) (Result, error) {
	for i, f := range c.Discloses {
		if err := checkFact(f, fmt.Sprintf("discloses[%d]", i)); err != nil {
			return Result{}, err
		}
	}
	return affair(ctx, h, m, c.CommunityID, notices, c.NoticeID, ruled(func(n *disclosure.Notice, f Facts, p rulebook.Params) ([]kernel.Event, error) {
		var refs []disclosure.Ref
		if !n.Exists() { // publishing twice is the domain's conflict, not a look-up's
			for i, fact := range c.Discloses {
				ref, err := h.occurred(ctx, f.Community.ID(), fact, fmt.Sprintf("discloses[%d]", i))
				if err != nil {
					return nil, err
				}
				refs = append(refs, ref)
			}
		}
		return n.Publish(disclosure.Publish{
			NoticeID: c.NoticeID, Category: c.Category,
			Period: disclosure.Period{From: c.Period.From, To: c.Period.To}, Title: c.Title, Text: c.Text,
			Attachments: attachments(c.Attachments), Window: disclosure.Window{Start: c.Window.Start, End: c.Window.End},
			Refs: refs,
		}, p, f.Now)
	}))
}

// CorrectDisclosure publishes a new version of a notice (更正); earlier versions stay in the record.
type CorrectDisclosure struct {
	CommunityID string       `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	NoticeID    string       `json:"notice_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The notice"`
	Title       string       `json:"title" minLength:"1" maxLength:"256" doc:"Title of the new version"`
	Text        string       `json:"text" minLength:"1" maxLength:"100000" doc:"Text of the new version"`
	Attachments []Attachment `json:"attachments,omitempty" doc:"Attached documents of the new version"`
	Window      *Window      `json:"window,omitempty" doc:"A new publicity window; omitted keeps the current one"`
	Reason      string       `json:"reason" minLength:"1" maxLength:"1000" doc:"What was wrong (更正理由)"`
}

// CorrectDisclosure handles correct-disclosure.
func (h *Handlers) CorrectDisclosure(ctx context.Context, m Meta, c CorrectDisclosure) (Result, error) {
	var w *disclosure.Window
	if c.Window != nil {
		w = &disclosure.Window{Start: c.Window.Start, End: c.Window.End}
	}
	return affair(ctx, h, m, c.CommunityID, notices, c.NoticeID, func(n *disclosure.Notice, f Facts) ([]kernel.Event, error) {
		return n.Correct(disclosure.Correct{Title: c.Title, Text: c.Text, Attachments: attachments(c.Attachments), Window: w, Reason: c.Reason}, f.Now)
	})
}

// WithdrawDisclosure takes a notice off the board (撤回); it stays in the audit trail.
type WithdrawDisclosure struct {
	CommunityID string `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	NoticeID    string `json:"notice_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The notice"`
	Reason      string `json:"reason" minLength:"1" maxLength:"1000" doc:"Why it is withdrawn (撤回理由)"`
}

// WithdrawDisclosure handles withdraw-disclosure.
func (h *Handlers) WithdrawDisclosure(ctx context.Context, m Meta, c WithdrawDisclosure) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, notices, c.NoticeID, func(n *disclosure.Notice, f Facts) ([]kernel.Event, error) {
		return n.Withdraw(c.Reason, f.Now)
	})
}

// RaiseDisclosureObjection records a resident's objection to a notice during its publicity window
// (公示异议). The objector's identity is never public.
type RaiseDisclosureObjection struct {
	CommunityID string   `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	NoticeID    string   `json:"notice_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The notice"`
	ObjectionID string   `json:"objection_id" minLength:"1" maxLength:"64" doc:"Id of the objection within the notice"`
	Text        string   `json:"text" minLength:"1" maxLength:"4000" doc:"The objection"`
	Objector    Personal `json:"personal" doc:"The resident objecting (subject required); never public"`
}

// RaiseDisclosureObjection handles raise-disclosure-objection.
func (h *Handlers) RaiseDisclosureObjection(ctx context.Context, m Meta, c RaiseDisclosureObjection) (Result, error) {
	return affairAs(ctx, h, m, ResidentInput, c.CommunityID, notices, c.NoticeID, func(n *disclosure.Notice, f Facts) ([]kernel.Event, error) {
		return n.RaiseObjection(c.ObjectionID, c.Text, c.Objector.value(""), f.Now)
	})
}

// AnswerDisclosureObjection records the answer to a resident's objection (答复异议), also after the window.
type AnswerDisclosureObjection struct {
	CommunityID string `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	NoticeID    string `json:"notice_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The notice"`
	ObjectionID string `json:"objection_id" minLength:"1" maxLength:"64" doc:"The objection answered"`
	Answer      string `json:"answer" minLength:"1" maxLength:"4000" doc:"The answer"`
}

// AnswerDisclosureObjection handles answer-disclosure-objection.
func (h *Handlers) AnswerDisclosureObjection(ctx context.Context, m Meta, c AnswerDisclosureObjection) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, notices, c.NoticeID, func(n *disclosure.Notice, f Facts) ([]kernel.Event, error) {
		return n.AnswerObjection(c.ObjectionID, c.Answer, f.Now)
	})
}

// notice looks up a published notice of the community, or a NotFound error naming field.
func (h *Handlers) notice(ctx context.Context, communityID kernel.CommunityID, noticeID, field string) ([]kernel.Event, error) {
	history, err := h.x.Load(ctx, disclosure.Stream(communityID, noticeID))
	if err != nil {
		return nil, fmt.Errorf("look up notice %s: %w", noticeID, err)
	}
	if !disclosure.Rehydrate(history).Exists() {
		return nil, disclosure.ErrNoticeNotFound.WithField(field).WithMsg("公开事项 %s 不存在", noticeID)
	}
	return history, nil
}

func attachments(as []Attachment) []disclosure.Attachment {
	if len(as) == 0 {
		return nil
	}
	out := make([]disclosure.Attachment, len(as))
	for i, a := range as {
		out[i] = disclosure.Attachment{Name: a.Name, SHA256: a.SHA256}
	}
	return out
}

// checkFact checks the identifiers of a disclosed fact, which name streams to read.
func checkFact(f DisclosedFact, field string) error {
	if !f.Kind.Valid() {
		return kernel.Invalid("invalid-ref-kind", field+".kind", "公开依据类型须为 payment、budget、election、audit、resolution、meeting 或 topic")
	}
	if err := checkID(f.ID, field+".id"); err != nil {
		return err
	}
	switch f.Kind {
	case disclosure.RefResolution:
		return checkID(f.MeetingID, field+".meeting_id")
	case disclosure.RefBudget:
		if f.FiscalYear < 1949 || f.FiscalYear > 9999 {
			return kernel.Invalid("invalid-fiscal-year", field+".fiscal_year", "预算拨款须写明年度")
		}
	}
	return nil
}

// Errors of disclosed facts.
var (
	// ErrFactNotFound: a notice names a fact the community's record does not have.
	ErrFactNotFound = kernel.NotFound("disclosed-fact-not-found", "所公开的事项在记录中不存在")
	// ErrFactNotYet: a notice names a fact that has not happened yet (an expenditure not paid, an
	// election not certified, an audit not closed, a topic not deliberated).
	ErrFactNotYet = kernel.Rejected("disclosed-fact-not-yet", "所公开的事项尚未发生")
)

// occurred reads when a disclosed fact happened from its own stream.
func (h *Handlers) occurred(ctx context.Context, cid kernel.CommunityID, f DisclosedFact, field string) (disclosure.Ref, error) {
	kind := f.Kind
	if kind == disclosure.RefResolution {
		r, err := h.resolution(ctx, cid, f.MeetingID, f.ID, field+".meeting_id", field+".id")
		if err != nil {
			return disclosure.Ref{}, err
		}
		return disclosure.Ref{Kind: kind, ID: f.ID, OccurredAt: r.AdoptedAt}, nil
	}
	stream := funds.BudgetStream(cid, f.FiscalYear)
	if kind != disclosure.RefBudget {
		stream = map[disclosure.RefKind]func(kernel.CommunityID, string) string{
			disclosure.RefPayment: expenditures.stream, disclosure.RefElection: elections.stream, disclosure.RefAudit: audits.stream,
			disclosure.RefMeeting: meetings.stream, disclosure.RefTopic: topics.stream,
		}[kind](cid, f.ID)
	}
	history, err := h.x.Load(ctx, stream)
	if err != nil {
		return disclosure.Ref{}, fmt.Errorf("look up disclosed %s %s: %w", f.Kind, f.ID, err)
	}
	at, exists := factTime(kind, f.ID, history)
	switch {
	case !exists:
		return disclosure.Ref{}, ErrFactNotFound.WithField(field+".id").WithMsg("所公开的%s %s 在记录中不存在", f.Kind, f.ID)
	case at.IsZero():
		return disclosure.Ref{}, ErrFactNotYet.WithField(field+".id").WithMsg("所公开的%s %s 尚未发生", f.Kind, f.ID)
	}
	return disclosure.Ref{Kind: kind, ID: f.ID, OccurredAt: at}, nil
}

// factTime finds in a stream's history whether the fact's subject exists and when the fact happened
// (zero when it has not yet).
func factTime(kind disclosure.RefKind, id string, history []kernel.Event) (at time.Time, exists bool) {
	for _, e := range history {
		switch e := e.(type) {
		case funds.ExpenditureRequested, election.CommitteeFormed, audit.Opened, meeting.TopicCollected:
			exists = true
		case funds.ExpenditurePaid:
			at = e.PaidAt
		case funds.BudgetAllocated:
			if e.AllocationID == id {
				return e.AllocatedAt, true
			}
		case election.ResultCertified:
			at = e.CertifiedAt
		case audit.Closed:
			at = e.ClosedAt
		case meeting.Convened:
			if kind == disclosure.RefMeeting {
				return e.HeldAt, true
			}
		case meeting.TopicDeliberationHeld:
			at = e.HeldAt
		}
	}
	return at, exists
}
