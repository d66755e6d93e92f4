// Package privacy is the erasure of a person's personal data on a lawful request (个人信息保护法 第四十七条,
// GDPR art. 17) by crypto-shredding: the history is never rewritten; the erasure is itself a fact of the
// ledger, and the person's data keys are destroyed after it is recorded, so every sealed copy of their
// personal data in the store, in exports and in backups becomes unreadable at once while every hash stays
// valid.
//
// What is erased is the personal data DOMAIN.md names: full names of private persons (individual payees,
// objectors, respondents), national ID numbers, phone numbers, addresses, contact details. What the law
// keeps public is not: a committee member's or candidate's public role and the acts of their office, and
// everything else in the events, which names people only by an opaque id.
package privacy

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// Stream is the stream of the erasures of one person's data: "privacy-<subject>" (like a district's
// alerts stream, it belongs to no one community: a person's data may be held by several).
func Stream(subject kernel.PersonID) string { return "privacy-" + string(subject) }

// PersonalDataErased records that a person's personal data was erased: on whose request, on what legal
// basis, why, and how many data keys were live when it was decided. It carries no personal data.
type PersonalDataErased struct {
	Subject    kernel.PersonID `json:"subject"`
	LegalBasis string          `json:"legal_basis"`
	Request    string          `json:"request_reference"`
	Reason     string          `json:"reason"`
	// Keys are the ids of the data keys destroyed (random ids: they name no one), so that the read models
	// find what they derived from the data those keys sealed.
	Keys     []string  `json:"keys"`
	ErasedAt time.Time `json:"erased_at"`
}

func (PersonalDataErased) EventName() string  { return "privacy.personal-data-erased" }
func (PersonalDataErased) SchemaVersion() int { return 1 }

// RegisterEvents registers the package's events.
func RegisterEvents(r *kernel.Registry) error {
	return kernel.RegisterAll(r, kernel.Register[PersonalDataErased], kernel.Register[StoreSealed])
}

// Erase is the command to erase a person's personal data.
type Erase struct {
	Subject    kernel.PersonID
	LegalBasis string
	Request    string
	Reason     string
}

// Errors of an erasure.
var (
	// ErrNothingRecorded: the ledger never sealed personal data of the subject.
	ErrNothingRecorded = kernel.NotFound("no-personal-data", "没有此人的个人信息记录")
)

func text(s, field, what string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", kernel.Invalid("required", field, what+"不能为空")
	}
	if utf8.RuneCountInString(s) > max {
		return "", kernel.Invalid("too-long", field, what+"过长")
	}
	return s, nil
}

// Decide erases the subject's data: history is the subject's erasure stream, live the ids of its data
// keys not destroyed yet, held whether the ledger ever sealed data of it. With nothing live and an
// erasure recorded before, it decides nothing: the data is already erased (the caller says so). The keys
// are destroyed by the caller after the event is appended, and again on a retry.
func Decide(history []kernel.Event, cmd Erase, live []string, held bool, now time.Time) ([]kernel.Event, error) {
	if cmd.Subject == "" {
		return nil, kernel.Invalid("required", "subject", "须注明要删除谁的个人信息")
	}
	basis, err := text(cmd.LegalBasis, "legal_basis", "法律依据", 200)
	if err != nil {
		return nil, err
	}
	req, err := text(cmd.Request, "request_reference", "申请编号", 128)
	if err != nil {
		return nil, err
	}
	reason, err := text(cmd.Reason, "reason", "理由", 1000)
	if err != nil {
		return nil, err
	}
	if !held {
		return nil, ErrNothingRecorded.WithField("subject")
	}
	if len(live) == 0 && len(history) > 0 {
		return nil, nil
	}
	return []kernel.Event{PersonalDataErased{Subject: cmd.Subject, LegalBasis: basis, Request: req, Reason: reason,
		Keys: append([]string{}, live...), ErasedAt: now.UTC()}}, nil
}

// MigrationStream is the stream of the record that a store holding personal data in clear was copied
// into this one with that data sealed (ledger copy-store --encrypt).
const MigrationStream = "migrations-personal-data"

// StoreSealed records a migration: every event of a source store copied in order, with the same ids,
// and its personal data sealed. The events holding personal data, and those after them in their
// streams, got new hashes; every other event kept its hash. The source's transparency log at the copy
// (its size and RFC 6962 root over the source's event hashes) and the SHA-256 of the file mapping each
// old hash to its new one let an auditor tie the two histories together.
type StoreSealed struct {
	SourceEvents  uint64    `json:"source_events"`
	SourceLogRoot string    `json:"source_log_root"`
	Resealed      uint64    `json:"resealed"`
	MappingSHA256 string    `json:"mapping_sha256"`
	SealedAt      time.Time `json:"sealed_at"`
}

func (StoreSealed) EventName() string  { return "privacy.store-sealed" }
func (StoreSealed) SchemaVersion() int { return 1 }
