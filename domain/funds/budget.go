package funds

import (
	"fmt"
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// Budget is a community's funds for one fiscal year. The zero value is a
// year with nothing allocated.
type Budget struct {
	year        int
	allocations map[string]bool
	operating   kernel.Fen
	total       kernel.Fen
}

// RehydrateBudget rebuilds a budget from its history.
func RehydrateBudget(history []kernel.Event) *Budget { return kernel.Rehydrate(&Budget{}, history) }

// Apply changes state only.
func (b *Budget) Apply(e kernel.Event) {
	if b.allocations == nil {
		b.allocations = map[string]bool{}
	}
	if e, ok := e.(BudgetAllocated); ok {
		b.year = e.FiscalYear
		b.allocations[e.AllocationID] = true
		b.total += e.Amount
		if e.Category == Operating {
			b.operating += e.Amount
		}
	}
}

// Total returns everything allocated for the year.
func (b *Budget) Total() kernel.Fen { return b.total }

// Operating returns the operating funds allocated for the year.
func (b *Budget) Operating() kernel.Fen { return b.operating }

// Errors of budgets.
var (
	ErrAllocationExists = kernel.Conflict("allocation-already-recorded", "该笔拨款已登记")
	ErrWrongFiscalYear  = kernel.Invalid("fiscal-year-mismatch", "fiscal_year", "拨款年度与该预算年度不符")
)

// Allocate is the command recording an allocation.
type Allocate struct {
	AllocationID string
	FiscalYear   int
	Source       Source
	Category     Category
	Amount       kernel.Fen
	Note         string
	// Households is the community's registered household count, looked up
	// by the handler, for the operating-funds watch.
	Households int
}

// Allocate records funds allocated. Watches operating-funds: an operating
// allocation that leaves the year's operating funds below the tier of the
// community's household count carries a breach (an under-funding alert that
// a later allocation without breach clears).
func (b *Budget) Allocate(cmd Allocate, p rulebook.Params, now time.Time) ([]kernel.Event, error) {
	if err := kernel.Required(cmd.AllocationID, "allocation_id", "拨款编号"); err != nil {
		return nil, err
	}
	if b.allocations[cmd.AllocationID] {
		return nil, ErrAllocationExists
	}
	if cmd.FiscalYear < 1949 || cmd.FiscalYear > 9999 {
		return nil, kernel.Invalid("invalid-fiscal-year", "fiscal_year", "年度不正确")
	}
	if b.year != 0 && cmd.FiscalYear != b.year {
		return nil, ErrWrongFiscalYear
	}
	if !cmd.Source.Valid() {
		return nil, kernel.Invalid("invalid-source", "source", "资金来源不正确")
	}
	if !cmd.Category.Valid() {
		return nil, kernel.Invalid("invalid-category", "category", "经费类别不正确")
	}
	if err := kernel.CheckAmount(cmd.Amount, "amount_fen", false); err != nil {
		return nil, err
	}
	e := BudgetAllocated{
		FiscalYear: cmd.FiscalYear, AllocationID: cmd.AllocationID, Source: cmd.Source,
		Category: cmd.Category, Amount: cmd.Amount, Note: cmd.Note, AllocatedAt: now.UTC(),
	}
	if cmd.Category == Operating {
		e.Breaches = kernel.Breaches(CheckOperatingFunds(cmd.FiscalYear, b.operating+cmd.Amount, cmd.Households, p))
	}
	return []kernel.Event{e}, nil
}

// CheckOperatingFunds returns an operating-funds breach when a year's
// operating funds fall short of the tier for households; the alert engine
// may also call it at any time.
func CheckOperatingFunds(year int, operating kernel.Fen, households int, p rulebook.Params) *kernel.Breach {
	due := p.OperatingFundsRequired(households)
	if operating >= due {
		return nil
	}
	return &kernel.Breach{Rule: rulebook.OperatingFunds, Detail: fmt.Sprintf(
		"%d年度工作经费已拨付%s，按%d户应不少于%s", year, operating, households, due)}
}
