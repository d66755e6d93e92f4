package asset

import (
	"fmt"
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// Asset is one asset or resource of the register. The zero value is one not yet registered.
type Asset struct {
	id        string
	kind      Kind
	disposed  bool
	contracts map[string]*contract
}

type contract struct {
	from, to     time.Time
	installments []Installment
	received     map[int]bool
}

// Rehydrate rebuilds an asset from its history.
func Rehydrate(history []kernel.Event) *Asset { return kernel.Rehydrate(&Asset{}, history) }

// Apply changes state only.
func (a *Asset) Apply(e kernel.Event) {
	if a.contracts == nil {
		a.contracts = map[string]*contract{}
	}
	switch e := e.(type) {
	case Registered:
		a.id, a.kind = e.AssetID, e.Kind
	case ContractSigned:
		a.contracts[e.ContractID] = &contract{from: e.From, to: e.To, installments: e.Installments, received: map[int]bool{}}
	case RentReceived:
		if c := a.contracts[e.ContractID]; c != nil {
			c.received[e.Installment] = true
		}
	case Disposed:
		a.disposed = true
	}
}

// Exists reports whether the asset was registered.
func (a *Asset) Exists() bool { return a.id != "" }

// Errors of the asset register.
var (
	ErrAssetNotFound     = kernel.NotFound("asset-not-found", "该资产尚未登记")
	ErrAssetExists       = kernel.Conflict("asset-already-registered", "该资产已登记")
	ErrAssetDisposed     = kernel.Rejected("asset-disposed", "该资产已处置")
	ErrContractExists    = kernel.Conflict("contract-already-signed", "该合同已登记")
	ErrContractNotFound  = kernel.NotFound("contract-not-found", "没有这份合同")
	ErrInstallmentNone   = kernel.Invalid("installment-invalid", "installment", "合同没有这一期租金")
	ErrInstallmentPaid   = kernel.Conflict("installment-already-received", "这一期租金已登记收取")
	ErrContractOverlaps  = kernel.Rejected("contract-overlaps", "该资产在这段期间已有合同")
	ErrContractRunning   = kernel.Rejected("contract-running", "该资产尚有未到期的合同，不能处置")
	ErrOnlyFixedDisposed = kernel.Invalid("only-fixed-assets-disposed", "how", "资源性资产(土地、山林、水面)不能出售或报废")
	// ErrNeedsResolution (enforces major-matter-resolution): a contract at or above the threshold and any
	// disposal of a fixed asset need a prior resolution of a residents' (representatives') meeting.
	ErrNeedsResolution = kernel.Rejected("asset-matter-needs-resolution", "须先经村(居)民会议或代表会议决议")
)

// Register is the command to put an asset on the register.
type Register struct {
	AssetID  string
	Kind     Kind
	Name     string
	Location string
	Value    kernel.Fen
}

// Register puts the asset on the register at now.
func (a *Asset) Register(cmd Register, now time.Time) ([]kernel.Event, error) {
	if a.Exists() {
		return nil, ErrAssetExists
	}
	if err := kernel.Required(cmd.AssetID, "asset_id", "资产编号"); err != nil {
		return nil, err
	}
	if !cmd.Kind.Valid() {
		return nil, kernel.Invalid("invalid-asset-kind", "kind", "资产类别须为 fixed 或 resource")
	}
	if err := kernel.Required(cmd.Name, "name", "资产名称"); err != nil {
		return nil, err
	}
	if err := kernel.Required(cmd.Location, "location", "坐落位置"); err != nil {
		return nil, err
	}
	if err := kernel.CheckAmount(cmd.Value, "value_fen", true); err != nil {
		return nil, err
	}
	return []kernel.Event{Registered{AssetID: cmd.AssetID, Kind: cmd.Kind, Name: cmd.Name, Location: cmd.Location, Value: cmd.Value,
		RegisteredAt: now.UTC()}}, nil
}

// resolutionProblem says why r does not authorise a matter decided at `at` (what: the clerk's words), or
// nil when it does.
func resolutionProblem(r *Resolution, what string, at time.Time) error {
	if r == nil {
		return ErrNeedsResolution.WithMsg("%s须先经村(居)民会议或代表会议决议", what)
	}
	return r.Problem(at)
}

// Sign is the command to let the asset out by contract.
type Sign struct {
	ContractID   string
	Counterparty string
	// CounterpartyKind says whether Counterparty is an organisation or an individual, whose name is
	// recorded masked (张*).
	CounterpartyKind Party
	From, To         time.Time
	Rent             kernel.Fen
	Every            Period
	Method           Method
	Resolution       *Resolution
}

// Installments are the rent payments of a contract from `from` to `to` at rent every period: one at the
// start of each period that begins before `to`.
func Installments(from, to time.Time, rent kernel.Fen, every Period) []Installment {
	var out []Installment
	for i := 0; ; i++ {
		due := from.AddDate(0, i*every.months(), 0)
		if !due.Before(to) {
			return out
		}
		out = append(out, Installment{Due: due.UTC(), Amount: rent})
	}
}

// maxInstallments bounds a contract's schedule (a 30-year land contract paid monthly).
const maxInstallments = 360

// Sign records the contract at now. A total at or above the major-matter threshold needs its resolution
// (enforced); one awarded without public bidding at or above public-bidding's threshold carries the breach.
func (a *Asset) Sign(cmd Sign, p rulebook.Params, now time.Time) ([]kernel.Event, error) {
	if !a.Exists() {
		return nil, ErrAssetNotFound
	}
	if a.disposed {
		return nil, ErrAssetDisposed
	}
	if err := kernel.Required(cmd.ContractID, "contract_id", "合同编号"); err != nil {
		return nil, err
	}
	if a.contracts[cmd.ContractID] != nil {
		return nil, ErrContractExists
	}
	if err := kernel.Required(cmd.Counterparty, "counterparty", "承包(承租)方"); err != nil {
		return nil, err
	}
	if !cmd.CounterpartyKind.Valid() {
		return nil, kernel.Invalid("invalid-counterparty-kind", "counterparty_kind", "承包(承租)方类型须为 organisation 或 individual")
	}
	party := cmd.Counterparty
	if cmd.CounterpartyKind == Individual {
		party = kernel.MaskName(party)
	}
	if cmd.From.IsZero() || !cmd.To.After(cmd.From) {
		return nil, kernel.Invalid("invalid-term", "to", "合同期限不正确：结束日期须晚于开始日期")
	}
	if err := kernel.CheckAmount(cmd.Rent, "rent_fen", false); err != nil {
		return nil, err
	}
	if !cmd.Every.Valid() {
		return nil, kernel.Invalid("invalid-rent-period", "every", "租金期间须为 month、quarter 或 year")
	}
	if !cmd.Method.Valid() {
		return nil, kernel.Invalid("invalid-award-method", "method", "发包方式须为 public-bidding 或 negotiated")
	}
	for _, c := range a.contracts {
		if cmd.From.Before(c.to) && c.from.Before(cmd.To) {
			return nil, ErrContractOverlaps
		}
	}
	inst := Installments(cmd.From, cmd.To, cmd.Rent, cmd.Every)
	if len(inst) > maxInstallments {
		return nil, kernel.Invalid("term-too-long", "to", "合同期限过长：租金最多 360 期")
	}
	var total kernel.Fen
	for _, i := range inst {
		total += i.Amount
	}
	if err := kernel.CheckAmount(total, "rent_fen", false); err != nil {
		return nil, err
	}
	if p.IsMajor(total) {
		if err := resolutionProblem(cmd.Resolution, fmt.Sprintf("合同总金额%s达到重大事项标准(%s)，", total, p.MajorThreshold()), now); err != nil {
			return nil, err
		}
	}
	e := ContractSigned{AssetID: a.id, ContractID: cmd.ContractID, Counterparty: party, CounterpartyKind: cmd.CounterpartyKind,
		From: cmd.From.UTC(), To: cmd.To.UTC(),
		Rent: cmd.Rent, Every: cmd.Every, Total: total, Method: cmd.Method, Resolution: cmd.Resolution, Installments: inst, SignedAt: now.UTC()}
	if limit := p.Fen(rulebook.PublicBidding, rulebook.ParamThreshold); cmd.Method != PublicBidding && total >= limit {
		e.Breaches = []kernel.Breach{{Rule: rulebook.PublicBidding, Detail: fmt.Sprintf("与%s的合同总金额%s，达到%s却未公开招标(竞价)",
			party, total, limit)}}
	}
	return []kernel.Event{e}, nil
}

// ReceiveRent records installment n (1 is the first) of a contract's rent received at now.
func (a *Asset) ReceiveRent(contractID string, n int, amount kernel.Fen, voucher string, now time.Time) ([]kernel.Event, error) {
	if !a.Exists() {
		return nil, ErrAssetNotFound
	}
	c := a.contracts[contractID]
	if c == nil {
		return nil, ErrContractNotFound.WithField("contract_id")
	}
	if n < 1 || n > len(c.installments) {
		return nil, ErrInstallmentNone
	}
	if c.received[n] {
		return nil, ErrInstallmentPaid
	}
	if err := kernel.CheckAmount(amount, "amount_fen", false); err != nil {
		return nil, err
	}
	if err := kernel.Required(voucher, "voucher_no", "收款凭证号"); err != nil {
		return nil, err
	}
	return []kernel.Event{RentReceived{AssetID: a.id, ContractID: contractID, Installment: n, Amount: amount, VoucherNo: voucher,
		ReceivedAt: now.UTC()}}, nil
}

// Dispose records a fixed asset leaving the register at now; it needs its resolution (enforced) and no
// contract still running.
func (a *Asset) Dispose(how Disposal, amount kernel.Fen, r *Resolution, now time.Time) ([]kernel.Event, error) {
	if !a.Exists() {
		return nil, ErrAssetNotFound
	}
	if a.disposed {
		return nil, ErrAssetDisposed
	}
	if !how.Valid() {
		return nil, kernel.Invalid("invalid-disposal", "how", "处置方式须为 sale、scrap 或 transfer")
	}
	if a.kind != Fixed {
		return nil, ErrOnlyFixedDisposed
	}
	if err := kernel.CheckAmount(amount, "amount_fen", true); err != nil {
		return nil, err
	}
	for _, c := range a.contracts {
		if c.to.After(now) {
			return nil, ErrContractRunning
		}
	}
	if err := resolutionProblem(r, "处置固定资产", now); err != nil {
		return nil, err
	}
	return []kernel.Event{Disposed{AssetID: a.id, How: how, Amount: amount, Resolution: r, DisposedAt: now.UTC()}}, nil
}
