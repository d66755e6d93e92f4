// Package seal is the seal register (印章管理, seed 003 第三篇 二2(3)): a community's seals (the committee's, the
// party organisation's, the finance seal, the supervision committee's) with their custodians, and every use
// of one — requested (the document, its date, purpose and counterparty), jointly approved by the 两委 and the
// supervision committee, and recorded as used with the document's hash. A large contract (at or above the
// major-matter threshold) may be sealed only after the resolution of a residents' (representatives') meeting
// that authorises it (enforced); a use recorded without that approval breaks seal-use, and a use recorded
// more than a day after the document's date is late (watched).
//
// One stream per seal: seal-<communityID>-<sealID>.
package seal

import (
	"slices"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
)

// Kind of seal.
type Kind string

const (
	CommitteeSeal   Kind = "committee"   // 村(居)民委员会印章
	PartySeal       Kind = "party"       // 党组织印章
	FinanceSeal     Kind = "finance"     // 财务专用章
	SupervisionSeal Kind = "supervision" // 村(居)务监督委员会印章
)

// Kinds lists the kinds of seal, in the order the API documents them.
func Kinds() []Kind { return []Kind{CommitteeSeal, PartySeal, FinanceSeal, SupervisionSeal} }

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds(), k) }

// Role is in what capacity someone approves a use.
type Role string

const (
	CommitteeHead  Role = "committee-head"  // 村(居)民委员会主任
	PartySecretary Role = "party-secretary" // 党组织书记
	Supervision    Role = "supervision"     // 村(居)务监督委员会主任
)

// Roles lists the approving roles, in the order the API documents them.
func Roles() []Role { return []Role{CommitteeHead, PartySecretary, Supervision} }

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles(), r) }

// Resolution is the resolution that authorises sealing a large contract, as the handler read it from the
// meeting's record.
type Resolution = meeting.Authority

// Document is what a seal is put on: public fields only (the title, its date, what it is for, the
// organisation on the other side, the contract amount if it is one).
type Document struct {
	Title        string     `json:"title"`
	Date         time.Time  `json:"date"`
	Purpose      string     `json:"purpose"`
	Counterparty string     `json:"counterparty"`
	Amount       kernel.Fen `json:"amount_fen,omitempty"`
}

// Registered records a seal entering the register with its custodian (保管人), by person id and the public
// name the register shows.
type Registered struct {
	SealID        string          `json:"seal_id"`
	Kind          Kind            `json:"kind"`
	Name          string          `json:"name"`
	Custodian     kernel.PersonID `json:"custodian"`
	CustodianName string          `json:"custodian_name"`
	RegisteredAt  time.Time       `json:"registered_at"`
}

func (Registered) EventName() string  { return "seal.registered" }
func (Registered) SchemaVersion() int { return 1 }

// CustodianChanged records the seal handed to another custodian.
type CustodianChanged struct {
	SealID        string          `json:"seal_id"`
	Custodian     kernel.PersonID `json:"custodian"`
	CustodianName string          `json:"custodian_name"`
	Reason        string          `json:"reason"`
	ChangedAt     time.Time       `json:"changed_at"`
}

func (CustodianChanged) EventName() string  { return "seal.custodian-changed" }
func (CustodianChanged) SchemaVersion() int { return 1 }

// UseRequested records a request to use the seal on a document.
type UseRequested struct {
	SealID      string      `json:"seal_id"`
	UseID       string      `json:"use_id"`
	Document    Document    `json:"document"`
	Resolution  *Resolution `json:"resolution,omitempty"`
	RequestedAt time.Time   `json:"requested_at"`
}

func (UseRequested) EventName() string  { return "seal.use-requested" }
func (UseRequested) SchemaVersion() int { return 1 }

// UseApproved records one approval of a requested use (审批), by person and capacity.
type UseApproved struct {
	SealID       string          `json:"seal_id"`
	UseID        string          `json:"use_id"`
	Approver     kernel.PersonID `json:"approver"`
	ApproverName string          `json:"approver_name"`
	Role         Role            `json:"role"`
	ApprovedAt   time.Time       `json:"approved_at"`
}

func (UseApproved) EventName() string  { return "seal.use-approved" }
func (UseApproved) SchemaVersion() int { return 1 }

// Used records the seal put on the document (用印登记), with the document's hash. Approved says whether the
// use had the joint approval the rulebook asks for when it was recorded; a use without it, or recorded late,
// carries the breach.
type Used struct {
	SealID         string      `json:"seal_id"`
	UseID          string      `json:"use_id"`
	Document       Document    `json:"document"`
	Resolution     *Resolution `json:"resolution,omitempty"`
	DocumentSHA256 string      `json:"document_sha256"`
	Approved       bool        `json:"approved"`
	UsedAt         time.Time   `json:"used_at"`
	kernel.Watch
}

func (Used) EventName() string  { return "seal.used" }
func (Used) SchemaVersion() int { return 1 }

// RegisterEvents adds the package's events to r.
func RegisterEvents(r *kernel.Registry) error {
	return kernel.RegisterAll(r,
		kernel.Register[Registered],
		kernel.Register[CustodianChanged],
		kernel.Register[UseRequested],
		kernel.Register[UseApproved],
		kernel.Register[Used],
	)
}

// Stream is the stream of one seal, seal-<communityID>-<sealID>.
func Stream(c kernel.CommunityID, sealID string) string {
	return eventlog.StreamName("seal", string(c), sealID)
}
