// Package funds is the money of a community (经费与支出): budget allocations
// by fiscal year and funding source, and expenditures — requested, approved,
// paid (with a voucher), rejected or cancelled. Salaries and allowances of
// community workers are expenditures too.
//
// Streams: one per community and fiscal year (Budget), one per expenditure
// (Expenditure).
package funds

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/domain/worker"
)

// Source of funds (资金来源).
type Source string

const (
	CentralProject Source = "central-project" // 中央项目资金
	CountyFinance  Source = "county-finance"  // 县(区)财政
	Department     Source = "department"      // 部门资金
	AssetSwap      Source = "asset-swap"      // 资产置换
	StreetFinance  Source = "street-finance"  // 街道/镇财政
	SelfRaised     Source = "self-raised"     // 自筹
	OtherFunding   Source = "other"
)

// Sources lists the sources of funds, in the order the API documents them.
func Sources() []Source {
	return []Source{CentralProject, CountyFinance, Department, AssetSwap, StreetFinance, SelfRaised, OtherFunding}
}

// Valid reports whether s is a known source.
func (s Source) Valid() bool { return slices.Contains(Sources(), s) }

// Category of a budget line or expenditure.
type Category string

const (
	Operating     Category = "operating"      // 工作运行经费 (the operating-funds rule concerns this)
	Startup       Category = "startup"        // 建设启动经费
	PartyBuilding Category = "party-building" // 党组织建设工作专项经费
	Project       Category = "project"        // 项目资金
	Salaries      Category = "salaries"       // 社区工作者薪酬
	OtherCategory Category = "other"
)

// Categories lists the budget categories, in the order the API documents them.
func Categories() []Category {
	return []Category{Operating, Startup, PartyBuilding, Project, Salaries, OtherCategory}
}

// Valid reports whether c is a known category.
func (c Category) Valid() bool { return slices.Contains(Categories(), c) }

// BudgetAllocated records funds allocated to the community for a fiscal
// year. It carries an operating-funds breach when the operating funds
// allocated so far this year are below the community's tier.
type BudgetAllocated struct {
	FiscalYear   int        `json:"fiscal_year"`
	AllocationID string     `json:"allocation_id"`
	Source       Source     `json:"source"`
	Category     Category   `json:"category"`
	Amount       kernel.Fen `json:"amount_fen"`
	Note         string     `json:"note,omitempty"`
	AllocatedAt  time.Time  `json:"allocated_at"`
	kernel.Watch
}

func (BudgetAllocated) EventName() string  { return "funds.budget-allocated" }
func (BudgetAllocated) SchemaVersion() int { return 1 }

// BudgetCommitted records that an approved expenditure takes Amount of the fiscal year's Category
// (预算占用). It is appended to the budget's stream, at the exact revision the approval read, before the
// approval: what is left of a budget line, and which expenditures went to one payee lately, are read
// from one stream that racing approvals cannot both read as it was. Payee is the payee's public key (an
// organisation's name, or a person's id).
type BudgetCommitted struct {
	FiscalYear    int        `json:"fiscal_year"`
	ExpenditureID string     `json:"expenditure_id"`
	Category      Category   `json:"category"`
	Amount        kernel.Fen `json:"amount_fen"`
	Payee         string     `json:"payee"`
	CommittedAt   time.Time  `json:"committed_at"`
}

func (BudgetCommitted) EventName() string  { return "funds.budget-committed" }
func (BudgetCommitted) SchemaVersion() int { return 1 }

// BudgetReleased gives back an expenditure's commitment: its approval was not recorded after all.
type BudgetReleased struct {
	FiscalYear    int       `json:"fiscal_year"`
	ExpenditureID string    `json:"expenditure_id"`
	Reason        string    `json:"reason"`
	ReleasedAt    time.Time `json:"released_at"`
}

func (BudgetReleased) EventName() string  { return "funds.budget-released" }
func (BudgetReleased) SchemaVersion() int { return 1 }

// Kind of expenditure.
type Kind string

const (
	Salary    Kind = "salary"    // 工资
	Allowance Kind = "allowance" // 补贴、误工补贴
	OtherKind Kind = "other"
)

// Kinds lists the kinds of expenditure, in the order the API documents them.
func Kinds() []Kind { return []Kind{Salary, Allowance, OtherKind} }

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds(), k) }

// PayeeKind says whether the payee is an organisation or a natural person.
type PayeeKind string

const (
	Organisation PayeeKind = "organisation"
	Individual   PayeeKind = "individual"
)

// PayeeKinds lists the kinds of payee, in the order the API documents them.
func PayeeKinds() []PayeeKind { return []PayeeKind{Organisation, Individual} }

// Payee of an expenditure. An organisation is public by name. An individual
// is a person: their name is personal data (sealed in Personal, erasable),
// and the public sees only its masked form ("张*"), which the finances read
// model derives from the opened personal data. MaskedName is what events
// recorded before personal data was sealed carry; new events leave it empty,
// so no trace of the name stays outside the sealed object.
type Payee struct {
	Kind         PayeeKind            `json:"kind"`
	Organisation string               `json:"organisation,omitempty"`
	Person       kernel.PersonID      `json:"person,omitempty"`
	MaskedName   string               `json:"masked_name,omitempty"`
	Personal     *kernel.PersonalData `json:"personal,omitempty"`
}

// ExpenditureRequested records a request to spend. Version 2: the amount is
// integer fen ("amount_fen") and the kind is explicit; version 1 had
// "amount_yuan" as a decimal string and no kind (see upcastRequestedV1).
type ExpenditureRequested struct {
	ExpenditureID string     `json:"expenditure_id"`
	FiscalYear    int        `json:"fiscal_year"`
	Category      Category   `json:"category"`
	Kind          Kind       `json:"kind"`
	Purpose       string     `json:"purpose"`
	Amount        kernel.Fen `json:"amount_fen"`
	// Project names the project it belongs to; empty when none (and in older events).
	Project string `json:"project,omitempty"`
	Payee   Payee  `json:"payee"`
	// Payroll says which worker, pay component and period a salary pays; nil for other expenditures
	// (and in older events).
	Payroll     *Payroll  `json:"payroll,omitempty"`
	RequestedAt time.Time `json:"requested_at"`
}

// Payroll is what a salary expenditure pays (薪酬): a worker of the community's roster, one component
// of the pay and the period it is for ("2026-11" basic pay, "2026-Q4" performance pay, "2026" the
// annual bonus). At payment the amount is checked against the worker's grade (pay-scale).
type Payroll struct {
	WorkerID  string           `json:"worker_id"`
	Component worker.Component `json:"component"`
	Period    string           `json:"period"`
	// Public says the rulebook in force at the request made each worker's pay public (pay-scale's
	// individual-pay-public): the payment line then names the worker, masked; otherwise 社区工作者.
	Public bool `json:"public,omitempty"`
}

func (ExpenditureRequested) EventName() string  { return "funds.expenditure-requested" }
func (ExpenditureRequested) SchemaVersion() int { return 2 }

// ResolutionRef is the resolution of an assembly or representatives' meeting
// that authorises a major expenditure, as the handler looked it up (from the
// meeting's stream or a read model) and passes it to the command.
type ResolutionRef struct {
	ID          string          `json:"resolution_id"`
	MeetingID   string          `json:"meeting_id"`
	MeetingKind meeting.Kind    `json:"meeting_kind"`
	Subject     meeting.Subject `json:"subject"`
	AdoptedAt   time.Time       `json:"adopted_at"`
	Ceiling     kernel.Fen      `json:"ceiling_fen"`
}

// RefTo returns the reference to an adopted resolution.
func RefTo(r meeting.ResolutionAdopted) *ResolutionRef {
	return &ResolutionRef{ID: r.ResolutionID, MeetingID: r.MeetingID, MeetingKind: r.MeetingKind,
		Subject: r.Subject, AdoptedAt: r.AdoptedAt, Ceiling: r.Ceiling}
}

// ExpenditureApproved records the approval, with the authorising resolution
// when there is one. It carries a budget-balance breach when the amount
// exceeded the balance the handler found.
type ExpenditureApproved struct {
	ExpenditureID string          `json:"expenditure_id"`
	By            kernel.PersonID `json:"by"`
	Resolution    *ResolutionRef  `json:"resolution,omitempty"`
	ApprovedAt    time.Time       `json:"approved_at"`
	kernel.Watch
}

func (ExpenditureApproved) EventName() string  { return "funds.expenditure-approved" }
func (ExpenditureApproved) SchemaVersion() int { return 1 }

// ExpenditurePaid records the payment with its voucher (凭证). It carries a
// major-matter-resolution breach when a major expenditure was paid without a
// resolution adopted before the payment (e.g. paid without approval).
type ExpenditurePaid struct {
	ExpenditureID string         `json:"expenditure_id"`
	VoucherNo     string         `json:"voucher_no"`
	Amount        kernel.Fen     `json:"amount_fen"`
	Resolution    *ResolutionRef `json:"resolution,omitempty"`
	WasApproved   bool           `json:"was_approved"`
	PaidAt        time.Time      `json:"paid_at"`
	kernel.Watch
}

func (ExpenditurePaid) EventName() string  { return "funds.expenditure-paid" }
func (ExpenditurePaid) SchemaVersion() int { return 1 }

// ExpenditureRejected records a refusal.
type ExpenditureRejected struct {
	ExpenditureID string          `json:"expenditure_id"`
	By            kernel.PersonID `json:"by"`
	Reason        string          `json:"reason"`
	RejectedAt    time.Time       `json:"rejected_at"`
}

func (ExpenditureRejected) EventName() string  { return "funds.expenditure-rejected" }
func (ExpenditureRejected) SchemaVersion() int { return 1 }

// ExpenditureCancelled records the withdrawal of a request or approval
// before payment.
type ExpenditureCancelled struct {
	ExpenditureID string          `json:"expenditure_id"`
	By            kernel.PersonID `json:"by"`
	Reason        string          `json:"reason"`
	CancelledAt   time.Time       `json:"cancelled_at"`
}

func (ExpenditureCancelled) EventName() string  { return "funds.expenditure-cancelled" }
func (ExpenditureCancelled) SchemaVersion() int { return 1 }

// RegisterEvents adds the package's events and upcasters to r.
func RegisterEvents(r *kernel.Registry) error {
	if err := kernel.RegisterAll(r,
		kernel.Register[BudgetAllocated],
		kernel.Register[BudgetCommitted],
		kernel.Register[BudgetReleased],
		kernel.Register[ExpenditureRequested],
		kernel.Register[ExpenditureApproved],
		kernel.Register[ExpenditurePaid],
		kernel.Register[ExpenditureRejected],
		kernel.Register[ExpenditureCancelled],
	); err != nil {
		return err
	}
	return r.Upcast(ExpenditureRequested{}.EventName(), 1, upcastRequestedV1)
}

// upcastRequestedV1 turns funds.expenditure-requested v1 into v2: the
// decimal string "amount_yuan" becomes integer "amount_fen" (exactly, no
// float), and the kind, which v1 did not have, becomes "other".
func upcastRequestedV1(raw json.RawMessage) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	yuanRaw, ok := m["amount_yuan"]
	if !ok {
		return nil, fmt.Errorf("v1 payload has no amount_yuan")
	}
	var yuan string
	if err := json.Unmarshal(yuanRaw, &yuan); err != nil {
		return nil, fmt.Errorf("amount_yuan: %w", err)
	}
	fen, err := kernel.ParseYuan(yuan)
	if err != nil {
		return nil, fmt.Errorf("amount_yuan %q: %w", yuan, err)
	}
	delete(m, "amount_yuan")
	m["amount_fen"] = json.RawMessage(fmt.Sprint(int64(fen)))
	if _, ok := m["kind"]; !ok {
		m["kind"] = json.RawMessage(`"other"`)
	}
	return json.Marshal(m)
}
