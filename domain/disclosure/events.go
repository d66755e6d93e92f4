// Package disclosure is the public board (村务公开/居务公开): notices published
// with a category, the period they cover, their text, the SHA-256 of attached
// documents and a publicity window; corrected (a new version — the old one
// stays in history); withdrawn (with a reason); and residents' objections
// during the window, with their answers.
//
// One stream per notice. A notice names what it discloses (Refs), so that
// the alert engine can clear "not yet disclosed" deadlines of payments,
// election results, audit results and resolutions.
package disclosure

import (
	"slices"
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// Category of a notice.
type Category string

const (
	Finance    Category = "finance"    // 财务公开
	Affairs    Category = "affairs"    // 村(居)务公开
	Election   Category = "election"   // 选举
	Resolution Category = "resolution" // 决议
	Audit      Category = "audit"      // 审计
	Party      Category = "party"      // 党务公开
)

// Categories lists the categories of notice, in the order the API documents them.
func Categories() []Category { return []Category{Finance, Affairs, Election, Resolution, Audit, Party} }

// Valid reports whether c is a known category.
func (c Category) Valid() bool { return slices.Contains(Categories(), c) }

// Period is the span of time a notice covers (e.g. a month of accounts).
type Period struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Window is the publicity window (公示期), during which residents may object.
type Window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Contains reports whether t lies within the window (both ends included).
func (w Window) Contains(t time.Time) bool { return !t.Before(w.Start) && !t.After(w.End) }

// Attachment is a document attached to a notice, by name and SHA-256.
type Attachment struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// RefKind is the kind of fact a notice discloses.
type RefKind string

const (
	RefPayment    RefKind = "payment"    // an expenditure paid (ID: expenditure ID)
	RefBudget     RefKind = "budget"     // an allocation (ID: allocation ID)
	RefElection   RefKind = "election"   // a certified election result (ID: election ID)
	RefAudit      RefKind = "audit"      // a closed audit (ID: audit ID)
	RefResolution RefKind = "resolution" // a resolution on a major matter (ID: resolution ID)
	RefMeeting    RefKind = "meeting"    // a meeting record (ID: meeting ID)
	RefTopic      RefKind = "topic"      // a deliberation outcome (ID: topic ID)
)

// RefKinds lists the kinds of disclosed fact, in the order the API documents them.
func RefKinds() []RefKind {
	return []RefKind{RefPayment, RefBudget, RefElection, RefAudit, RefResolution, RefMeeting, RefTopic}
}

// Valid reports whether k is a known kind.
func (k RefKind) Valid() bool { return slices.Contains(RefKinds(), k) }

// Ref names a fact the notice discloses, and when that fact happened (paid
// at, certified at, closed at, adopted at), as the handler looked it up, so
// that a late disclosure is marked.
type Ref struct {
	Kind       RefKind   `json:"kind"`
	ID         string    `json:"id"`
	OccurredAt time.Time `json:"occurred_at"`
}

// Published records a notice put on the public board. It carries
// payment-disclosed, results-disclosed and disclosure-frequency breaches when
// it came later than the rules allow.
type Published struct {
	NoticeID    string       `json:"notice_id"`
	Category    Category     `json:"category"`
	Period      Period       `json:"period"`
	Title       string       `json:"title"`
	Text        string       `json:"text"`
	Attachments []Attachment `json:"attachments,omitempty"`
	Window      Window       `json:"window"`
	Refs        []Ref        `json:"refs,omitempty"`
	PublishedAt time.Time    `json:"published_at"`
	kernel.Watch
}

func (Published) EventName() string  { return "disclosure.published" }
func (Published) SchemaVersion() int { return 1 }

// Corrected records a new version of a notice; the earlier versions stay in
// history. Window, when set, replaces the publicity window.
type Corrected struct {
	NoticeID    string       `json:"notice_id"`
	Version     int          `json:"version"`
	Title       string       `json:"title"`
	Text        string       `json:"text"`
	Attachments []Attachment `json:"attachments,omitempty"`
	Window      *Window      `json:"window,omitempty"`
	Reason      string       `json:"reason"`
	CorrectedAt time.Time    `json:"corrected_at"`
}

func (Corrected) EventName() string  { return "disclosure.corrected" }
func (Corrected) SchemaVersion() int { return 1 }

// Withdrawn records a notice taken off the board; it stays in the audit trail.
type Withdrawn struct {
	NoticeID string `json:"notice_id"`
	Reason   string `json:"reason"`
	// Category and Refs repeat what the notice was and disclosed: a withdrawn notice no longer meets the
	// deadlines it met, and the alert engine reopens them (absent in withdrawals recorded before).
	Category    Category  `json:"category,omitempty"`
	Refs        []Ref     `json:"refs,omitempty"`
	WithdrawnAt time.Time `json:"withdrawn_at"`
}

func (Withdrawn) EventName() string  { return "disclosure.withdrawn" }
func (Withdrawn) SchemaVersion() int { return 1 }

// ObjectionRaised records a resident's objection during the window. The
// objector's identity is personal data and never public.
type ObjectionRaised struct {
	NoticeID    string              `json:"notice_id"`
	ObjectionID string              `json:"objection_id"`
	Text        string              `json:"text"`
	Objector    kernel.PersonalData `json:"personal"`
	RaisedAt    time.Time           `json:"raised_at"`
}

func (ObjectionRaised) EventName() string  { return "disclosure.objection-raised" }
func (ObjectionRaised) SchemaVersion() int { return 1 }

// ObjectionAnswered records the answer to an objection.
type ObjectionAnswered struct {
	NoticeID    string    `json:"notice_id"`
	ObjectionID string    `json:"objection_id"`
	Answer      string    `json:"answer"`
	AnsweredAt  time.Time `json:"answered_at"`
}

func (ObjectionAnswered) EventName() string  { return "disclosure.objection-answered" }
func (ObjectionAnswered) SchemaVersion() int { return 1 }

// RegisterEvents adds the package's events to r.
func RegisterEvents(r *kernel.Registry) error {
	return kernel.RegisterAll(r,
		kernel.Register[Published],
		kernel.Register[Corrected],
		kernel.Register[Withdrawn],
		kernel.Register[ObjectionRaised],
		kernel.Register[ObjectionAnswered],
	)
}
