// Package asset is the register of a community's collective assets and resources (三资: 资金、资产、资源;
// the funds are domain/funds): a fixed asset (房屋、厂房、设备) or a resource (土地、山林、水面) is registered,
// let out by contract (发包、租赁: counterparty, term, rent per period, how it was awarded), its rent received
// installment by installment, and a fixed asset disposed of (出售、报废、转让). A contract whose total is at
// or above the major-matter threshold, and any disposal of a fixed asset, needs a prior resolution of a
// residents' (representatives') meeting (enforced); a contract awarded without public bidding above
// public-bidding's threshold is watched, and so is rent not received within rent-collected's grace after
// it fell due.
//
// One stream per asset: asset-<communityID>-<assetID>; its contracts live in it.
package asset

import (
	"slices"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
)

// Kind of asset.
type Kind string

const (
	Fixed    Kind = "fixed"    // 固定资产: 房屋、厂房、设备
	Resource Kind = "resource" // 资源性资产: 土地、山林、水面、滩涂
)

// Kinds lists the kinds of asset, in the order the API documents them.
func Kinds() []Kind { return []Kind{Fixed, Resource} }

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds(), k) }

// Method is how a contract was awarded.
type Method string

const (
	PublicBidding Method = "public-bidding" // 公开招标、竞价
	Negotiated    Method = "negotiated"     // 协商、议标
)

// Methods lists the ways of awarding a contract, in the order the API documents them.
func Methods() []Method { return []Method{PublicBidding, Negotiated} }

// Valid reports whether m is a known method.
func (m Method) Valid() bool { return slices.Contains(Methods(), m) }

// Period is how often rent falls due.
type Period string

const (
	Monthly   Period = "month"
	Quarterly Period = "quarter"
	Yearly    Period = "year"
)

// Periods lists the rent periods, in the order the API documents them.
func Periods() []Period { return []Period{Monthly, Quarterly, Yearly} }

// Valid reports whether p is a known period.
func (p Period) Valid() bool { return slices.Contains(Periods(), p) }

// months is the length of the period in months.
func (p Period) months() int {
	switch p {
	case Monthly:
		return 1
	case Quarterly:
		return 3
	}
	return 12
}

// Party is who takes a contract.
type Party string

const (
	Organisation Party = "organisation" // 单位、企业、合作社: named
	Individual   Party = "individual"   // 个人(承包户): recorded by masked name only (张*)
)

// Parties lists the kinds of counterparty, in the order the API documents them.
func Parties() []Party { return []Party{Organisation, Individual} }

// Valid reports whether p is a known kind.
func (p Party) Valid() bool { return slices.Contains(Parties(), p) }

// Disposal is how a fixed asset leaves the register.
type Disposal string

const (
	Sale     Disposal = "sale"     // 出售
	Scrap    Disposal = "scrap"    // 报废
	Transfer Disposal = "transfer" // 无偿转让、划转
)

// Disposals lists the ways of disposing of an asset, in the order the API documents them.
func Disposals() []Disposal { return []Disposal{Sale, Scrap, Transfer} }

// Valid reports whether d is a known way.
func (d Disposal) Valid() bool { return slices.Contains(Disposals(), d) }

// Resolution is the resolution that authorises a large contract or a disposal, as the handler read it.
type Resolution = meeting.Authority

// Installment is one rent payment a contract asks for: due at the start of its period.
type Installment struct {
	Due    time.Time  `json:"due"`
	Amount kernel.Fen `json:"amount_fen"`
}

// Registered records an asset or resource on the register.
type Registered struct {
	AssetID      string     `json:"asset_id"`
	Kind         Kind       `json:"kind"`
	Name         string     `json:"name"`
	Location     string     `json:"location"`
	Value        kernel.Fen `json:"value_fen"`
	RegisteredAt time.Time  `json:"registered_at"`
}

func (Registered) EventName() string  { return "asset.registered" }
func (Registered) SchemaVersion() int { return 1 }

// ContractSigned records the asset let out by contract, with its installments. It carries a
// public-bidding breach when it was awarded without public bidding above the rule's threshold.
type ContractSigned struct {
	AssetID    string `json:"asset_id"`
	ContractID string `json:"contract_id"`
	// Counterparty is an organisation's name, or an individual's masked name (张*): never a person's name.
	Counterparty     string        `json:"counterparty"`
	CounterpartyKind Party         `json:"counterparty_kind"`
	From             time.Time     `json:"from"`
	To               time.Time     `json:"to"`
	Rent             kernel.Fen    `json:"rent_fen"`
	Every            Period        `json:"every"`
	Total            kernel.Fen    `json:"total_fen"`
	Method           Method        `json:"method"`
	Resolution       *Resolution   `json:"resolution,omitempty"`
	Installments     []Installment `json:"installments"`
	SignedAt         time.Time     `json:"signed_at"`
	kernel.Watch
}

func (ContractSigned) EventName() string  { return "asset.contract-signed" }
func (ContractSigned) SchemaVersion() int { return 1 }

// RentReceived records an installment of a contract's rent received (1 is the first).
type RentReceived struct {
	AssetID     string     `json:"asset_id"`
	ContractID  string     `json:"contract_id"`
	Installment int        `json:"installment"`
	Amount      kernel.Fen `json:"amount_fen"`
	VoucherNo   string     `json:"voucher_no"`
	ReceivedAt  time.Time  `json:"received_at"`
}

func (RentReceived) EventName() string  { return "asset.rent-received" }
func (RentReceived) SchemaVersion() int { return 1 }

// Disposed records a fixed asset leaving the register.
type Disposed struct {
	AssetID    string      `json:"asset_id"`
	How        Disposal    `json:"how"`
	Amount     kernel.Fen  `json:"amount_fen"`
	Resolution *Resolution `json:"resolution,omitempty"`
	DisposedAt time.Time   `json:"disposed_at"`
}

func (Disposed) EventName() string  { return "asset.disposed" }
func (Disposed) SchemaVersion() int { return 1 }

// RegisterEvents adds the package's events to r.
func RegisterEvents(r *kernel.Registry) error {
	return kernel.RegisterAll(r,
		kernel.Register[Registered],
		kernel.Register[ContractSigned],
		kernel.Register[RentReceived],
		kernel.Register[Disposed],
	)
}

// Stream is the stream of one asset, asset-<communityID>-<assetID>.
func Stream(c kernel.CommunityID, assetID string) string {
	return eventlog.StreamName("asset", string(c), assetID)
}
