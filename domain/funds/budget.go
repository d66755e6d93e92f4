package funds

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
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
	allocated   map[Category]kernel.Fen
	committed   map[string]BudgetCommitted // by expenditure
}

// BudgetStream is the stream of one fiscal year's allocations and commitments,
// budget-<communityID>-<fiscalYear>.
func BudgetStream(c kernel.CommunityID, fiscalYear int) string {
	return eventlog.StreamName("budget", string(c), strconv.Itoa(fiscalYear))
}

// RehydrateBudget rebuilds a budget from its history.
func RehydrateBudget(history []kernel.Event) *Budget { return kernel.Rehydrate(&Budget{}, history) }

// Apply changes state only.
func (b *Budget) Apply(e kernel.Event) {
	if b.allocations == nil {
		b.allocations = map[string]bool{}
		b.allocated = map[Category]kernel.Fen{}
		b.committed = map[string]BudgetCommitted{}
	}
	switch e := e.(type) {
	case BudgetAllocated:
		b.year = e.FiscalYear
		b.allocations[e.AllocationID] = true
		b.total += e.Amount
		b.allocated[e.Category] += e.Amount
		if e.Category == Operating {
			b.operating += e.Amount
		}
	case BudgetCommitted:
		b.year = e.FiscalYear
		b.committed[e.ExpenditureID] = e
	case BudgetReleased:
		delete(b.committed, e.ExpenditureID)
	}
}

// Release gives back an expenditure's commitment; nothing when it holds none.
func (b *Budget) Release(fiscalYear int, expenditureID, reason string, now time.Time) ([]kernel.Event, error) {
	if _, ok := b.committed[expenditureID]; !ok {
		return nil, nil
	}
	return []kernel.Event{BudgetReleased{FiscalYear: fiscalYear, ExpenditureID: expenditureID, Reason: reason, ReleasedAt: now.UTC()}}, nil
}

// Commit is the command committing an expenditure's amount to the budget at its approval.
type Commit struct {
	FiscalYear    int
	ExpenditureID string
	Category      Category
	Amount        kernel.Fen
	Payee         string
}

// Commitment is what Commit found: what was left of the category before the expenditure (budget-balance)
// and the recent expenditures to the same payee that, with it, reach the major threshold while each
// stays below it (split-spending).
type Commitment struct {
	Left   kernel.Fen
	Splits []string
}

// Commit takes the expenditure's amount from its fiscal year's category, and tells what was left and
// whether it splits a major expenditure. An expenditure committed already (a retry) is not taken twice:
// no event, and the same answer as the first time.
func (b *Budget) Commit(cmd Commit, p rulebook.Params, now time.Time) ([]kernel.Event, Commitment, error) {
	if b.allocations == nil {
		b.Apply(nil)
	}
	_, again := b.committed[cmd.ExpenditureID]
	e := BudgetCommitted{FiscalYear: cmd.FiscalYear, ExpenditureID: cmd.ExpenditureID, Category: cmd.Category, Amount: cmd.Amount,
		Payee: cmd.Payee, CommittedAt: now.UTC()}
	if again {
		e = b.committed[cmd.ExpenditureID]
	}
	c := Commitment{Left: b.allocated[cmd.Category] - b.spent(cmd.Category, cmd.ExpenditureID), Splits: b.splits(e, p)}
	if again {
		return nil, c, nil
	}
	if err := kernel.CheckTotal(b.spent(cmd.Category, ""), cmd.Amount, "amount_fen"); err != nil {
		return nil, Commitment{}, err
	}
	return []kernel.Event{e}, c, nil
}

// spent sums the commitments of a category, but for one expenditure.
func (b *Budget) spent(cat Category, except string) kernel.Fen {
	var sum kernel.Fen
	for id, c := range b.committed {
		if c.Category == cat && id != except {
			sum += c.Amount
		}
	}
	return sum
}

// splits returns the expenditures to e's payee within the split-spending window before e, when they and e
// together reach the major threshold while each of them stays below it.
func (b *Budget) splits(e BudgetCommitted, p rulebook.Params) []string {
	if e.Payee == "" || p.IsMajor(e.Amount) {
		return nil
	}
	window := p.Span(rulebook.SplitSpending, rulebook.ParamWindow)
	var ids []string
	sum := e.Amount
	for id, c := range b.committed {
		if id == e.ExpenditureID || c.Payee != e.Payee || p.IsMajor(c.Amount) || c.CommittedAt.After(e.CommittedAt) ||
			window.After(c.CommittedAt).Before(e.CommittedAt) {
			continue
		}
		ids = append(ids, id)
		sum += c.Amount
	}
	if len(ids) == 0 || !p.IsMajor(sum) {
		return nil
	}
	slices.Sort(ids)
	return ids
}

// Total returns everything allocated for the year.
func (b *Budget) Total() kernel.Fen { return b.total }

// Left returns what is left of the year's allocations to a category once the committed expenditures
// are taken (negative when it is overspent).
func (b *Budget) Left(cat Category) kernel.Fen { return b.allocated[cat] - b.spent(cat, "") }

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
	if err := kernel.CheckTotal(b.total, cmd.Amount, "amount_fen"); err != nil {
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
