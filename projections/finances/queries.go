package finances

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/worker"
	"github.com/grassroots-ledger/ledger/projections/internal/tables"
)

// Querier is a pool, connection or transaction (the portal's read-only pool).
type Querier = tables.Querier

// ErrNotFound means the model has no such expenditure: the portal answers 404.
var ErrNotFound = errors.New("finances: not found")

// CategoryTotals is one category of a community's fiscal year: what was allocated (by funding source),
// requested, approved and paid. Requested counts requests not rejected or cancelled (approved and paid
// ones included); Approved counts approvals not cancelled (paid ones included).
type CategoryTotals struct {
	Category          funds.Category
	Allocated         kernel.Fen
	AllocatedBySource []SourceAmount
	Allocations       int
	Requested         kernel.Fen
	Approved          kernel.Fen
	Paid              kernel.Fen
	Payments          int
	// LastEventID and LastCommit are the newest event that changed these totals; the lines behind them
	// (Payments, allocations) each carry their own event.
	LastEventID eventlog.ID
	LastCommit  uint64
}

// SourceAmount is an amount allocated from one funding source.
type SourceAmount struct {
	Source funds.Source
	Amount kernel.Fen
}

// YearSummary returns a community's fiscal year by category, in category order (for a chart).
func YearSummary(ctx context.Context, q Querier, communityID string, fiscalYear int) ([]CategoryTotals, error) {
	rows, err := q.Query(ctx, `SELECT category, source, allocated_fen, allocations, requested_fen, approved_fen, paid_fen, payments,
		last_event_id, last_commit_pos FROM `+pgx.Identifier{Schema, "budget_summary"}.Sanitize()+`
		WHERE community_id = $1 AND fiscal_year = $2 ORDER BY category, source`, communityID, fiscalYear)
	if err != nil {
		return nil, fmt.Errorf("finances: %s %d: %w", communityID, fiscalYear, err)
	}
	defer rows.Close()
	var out []CategoryTotals
	for rows.Next() {
		var cat, src string
		var alloc, req, appr, paid, pos int64
		var allocs, pays int
		var ev pgtype.UUID
		if err := rows.Scan(&cat, &src, &alloc, &allocs, &req, &appr, &paid, &pays, &ev, &pos); err != nil {
			return nil, fmt.Errorf("finances: %s %d: %w", communityID, fiscalYear, err)
		}
		if len(out) == 0 || string(out[len(out)-1].Category) != cat {
			out = append(out, CategoryTotals{Category: funds.Category(cat)})
		}
		t := &out[len(out)-1]
		t.Allocated += kernel.Fen(alloc)
		t.Allocations += allocs
		if src != "" && alloc != 0 {
			t.AllocatedBySource = append(t.AllocatedBySource, SourceAmount{Source: funds.Source(src), Amount: kernel.Fen(alloc)})
		}
		t.Requested, t.Approved, t.Paid, t.Payments = t.Requested+kernel.Fen(req), t.Approved+kernel.Fen(appr), t.Paid+kernel.Fen(paid), t.Payments+pays
		if uint64(pos) >= t.LastCommit {
			t.LastEventID, t.LastCommit = ev.Bytes, uint64(pos)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("finances: %s %d: %w", communityID, fiscalYear, err)
	}
	return out, nil
}

// Payment is one payment line of the public list.
type Payment struct {
	CommunityID   string
	ExpenditureID string
	FiscalYear    int
	Category      funds.Category
	Kind          funds.Kind
	Purpose       string
	Amount        kernel.Fen
	PayeeKind     funds.PayeeKind
	// Payee is the organisation's name, or the individual's masked name (张*).
	Payee     string
	VoucherNo string
	PaidAt    time.Time
	// ResolutionID and MeetingID name the authorising resolution, when there is one.
	ResolutionID string
	MeetingID    string
	WasApproved  bool
	// EventID and Commit are the funds.expenditure-paid event and its $all commit position.
	EventID eventlog.ID
	Commit  uint64
}

// PaymentCursor is where a page of payments ends: the next page starts after it.
type PaymentCursor struct {
	PaidAt        time.Time
	ExpenditureID string
}

// IsZero reports whether the cursor is unset (the first page).
func (c PaymentCursor) IsZero() bool { return c.PaidAt.IsZero() && c.ExpenditureID == "" }

// PaymentFilter selects payments of one community, newest first.
type PaymentFilter struct {
	CommunityID string
	// FiscalYear, when not 0, keeps one fiscal year.
	FiscalYear int
	// After is the previous page's Next (zero for the first page).
	After PaymentCursor
	// Limit is the page size; default 50, at most 500.
	Limit int
}

// PaymentPage is one page of payments, newest first.
type PaymentPage struct {
	Payments []Payment
	// Next is the cursor of the following page; meaningful when More.
	Next PaymentCursor
	More bool
}

// Payments returns one page of a community's payment lines, newest payment first (keyset paging on
// paid_at and expenditure id, so pages stay stable while payments are added).
func Payments(ctx context.Context, q Querier, f PaymentFilter) (PaymentPage, error) {
	limit := tables.Limit(f.Limit, 50, 500)
	args := []any{f.CommunityID}
	where := "community_id = $1 AND paid_at IS NOT NULL"
	if f.FiscalYear != 0 {
		if f.FiscalYear < 0 || f.FiscalYear > math.MaxInt32 {
			return PaymentPage{}, fmt.Errorf("finances: fiscal year %d out of range", f.FiscalYear)
		}
		args = append(args, f.FiscalYear)
		where += fmt.Sprintf(" AND fiscal_year = $%d", len(args))
	}
	if !f.After.IsZero() {
		args = append(args, f.After.PaidAt.UTC(), f.After.ExpenditureID)
		where += fmt.Sprintf(" AND (paid_at, expenditure_id) < ($%d, $%d)", len(args)-1, len(args))
	}
	args = append(args, limit+1)
	rows, err := q.Query(ctx, `SELECT community_id, expenditure_id, fiscal_year, category, kind, purpose, paid_amount_fen, payee_kind,
		payee_name, voucher_no, paid_at, coalesce(resolution_id, ''), coalesce(resolution_meeting_id, ''), was_approved, paid_event_id,
		paid_commit_pos FROM `+pgx.Identifier{Schema, "expenditures"}.Sanitize()+` WHERE `+where+
		fmt.Sprintf(` ORDER BY paid_at DESC, expenditure_id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return PaymentPage{}, fmt.Errorf("finances: payments of %s: %w", f.CommunityID, err)
	}
	defer rows.Close()
	var page PaymentPage
	for rows.Next() {
		var p Payment
		var cat, kind, pk string
		var amount, pos int64
		var ev pgtype.UUID
		if err := rows.Scan(&p.CommunityID, &p.ExpenditureID, &p.FiscalYear, &cat, &kind, &p.Purpose, &amount, &pk, &p.Payee,
			&p.VoucherNo, &p.PaidAt, &p.ResolutionID, &p.MeetingID, &p.WasApproved, &ev, &pos); err != nil {
			return PaymentPage{}, fmt.Errorf("finances: payments of %s: %w", f.CommunityID, err)
		}
		p.Category, p.Kind, p.PayeeKind, p.Amount = funds.Category(cat), funds.Kind(kind), funds.PayeeKind(pk), kernel.Fen(amount)
		p.PaidAt, p.EventID, p.Commit = p.PaidAt.UTC(), ev.Bytes, uint64(pos)
		page.Payments = append(page.Payments, p)
	}
	if err := rows.Err(); err != nil {
		return PaymentPage{}, fmt.Errorf("finances: payments of %s: %w", f.CommunityID, err)
	}
	if len(page.Payments) > limit {
		page.Payments, page.More = page.Payments[:limit], true
	}
	if n := len(page.Payments); n > 0 {
		last := page.Payments[n-1]
		page.Next = PaymentCursor{PaidAt: last.PaidAt, ExpenditureID: last.ExpenditureID}
	}
	return page, nil
}

// Step is when something happened and the event that recorded it, with its $all commit position.
type Step = tables.Step

// Expenditure is one expenditure and where it stands.
type Expenditure struct {
	CommunityID   string
	ExpenditureID string
	FiscalYear    int
	Category      funds.Category
	Kind          funds.Kind
	Purpose       string
	Amount        kernel.Fen
	PayeeKind     funds.PayeeKind
	Payee         string // organisation name, or masked name
	Status        Status
	Requested     Step
	Approved      *Step // nil until approved
	Paid          *Step // nil until paid
	Closed        *Step // nil unless rejected or cancelled
	CloseReason   string
	VoucherNo     string
	PaidAmount    kernel.Fen
	WasApproved   bool
	ResolutionID  string
	MeetingID     string
}

// ExpenditureByID returns one expenditure; ErrNotFound when the model has none with that id.
func ExpenditureByID(ctx context.Context, q Querier, communityID, expenditureID string) (Expenditure, error) {
	rows, err := q.Query(ctx, `SELECT community_id, expenditure_id, fiscal_year, category, kind, purpose, amount_fen, payee_kind,
		payee_name, status, requested_at, requested_event_id, requested_commit_pos, approved_at, approved_event_id, approved_commit_pos,
		paid_at, paid_event_id, paid_commit_pos, closed_at, closed_event_id, closed_commit_pos, coalesce(close_reason, ''),
		coalesce(voucher_no, ''), coalesce(paid_amount_fen, 0), coalesce(was_approved, false), coalesce(resolution_id, ''),
		coalesce(resolution_meeting_id, '')
		FROM `+pgx.Identifier{Schema, "expenditures"}.Sanitize()+` WHERE community_id = $1 AND expenditure_id = $2`, communityID, expenditureID)
	if err != nil {
		return Expenditure{}, fmt.Errorf("finances: expenditure %s: %w", expenditureID, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return Expenditure{}, fmt.Errorf("finances: expenditure %s: %w", expenditureID, err)
		}
		return Expenditure{}, fmt.Errorf("expenditure %s of %s: %w", expenditureID, communityID, ErrNotFound)
	}
	var x Expenditure
	var cat, kind, pk, status string
	var amount, rPos, paid int64
	var rEv, aEv, pEv, cEv pgtype.UUID
	var aPos, pPos, cPos pgtype.Int8
	var aAt, pAt, cAt pgtype.Timestamptz
	if err := rows.Scan(&x.CommunityID, &x.ExpenditureID, &x.FiscalYear, &cat, &kind, &x.Purpose, &amount, &pk, &x.Payee, &status,
		&x.Requested.At, &rEv, &rPos, &aAt, &aEv, &aPos, &pAt, &pEv, &pPos, &cAt, &cEv, &cPos, &x.CloseReason, &x.VoucherNo,
		&paid, &x.WasApproved, &x.ResolutionID, &x.MeetingID); err != nil {
		return Expenditure{}, fmt.Errorf("finances: expenditure %s: %w", expenditureID, err)
	}
	x.Category, x.Kind, x.PayeeKind, x.Status = funds.Category(cat), funds.Kind(kind), funds.PayeeKind(pk), Status(status)
	x.Amount, x.PaidAmount = kernel.Fen(amount), kernel.Fen(paid)
	x.Requested.At, x.Requested.EventID, x.Requested.Commit = x.Requested.At.UTC(), rEv.Bytes, uint64(rPos)
	x.Approved, x.Paid, x.Closed = tables.StepOf(aAt, aEv, aPos), tables.StepOf(pAt, pEv, pPos), tables.StepOf(cAt, cEv, cPos)
	return x, nil
}

// FingerprintSQL is a text expression that changes whenever the expenditures or the budget figures of
// community $1 change, an erasure of a payee's personal data included (it changes no revision).
var FingerprintSQL = tables.ChangeMark(Schema, "expenditures") + " || '/' || (SELECT count(*) || '.' || coalesce(max(last_commit_pos), 0) FROM " +
	pgx.Identifier{Schema, "budget_summary"}.Sanitize() + " WHERE community_id = $1) || '/' || (SELECT count(*) FROM " +
	pgx.Identifier{Schema, "expenditures"}.Sanitize() + " WHERE community_id = $1 AND payee_name = '" + kernel.ErasedText + "')"

// FiscalYears lists the fiscal years a community has figures for, the latest first.
func FiscalYears(ctx context.Context, q Querier, communityID string) ([]int, error) {
	return tables.Collect(ctx, q, "finances", "fiscal years of "+communityID, `SELECT DISTINCT fiscal_year FROM `+
		pgx.Identifier{Schema, "budget_summary"}.Sanitize()+` WHERE community_id = $1 ORDER BY fiscal_year DESC`, tables.One[int], communityID)
}

// Purposes looks up the purposes of a community's expenditures by id: so that an alert can say
// 支出“…” instead of an id.
func Purposes(ctx context.Context, q Querier, communityID string, ids []string) (map[string]string, error) {
	return tables.CollectMap(ctx, q, "finances", "purposes in "+communityID, `SELECT expenditure_id, purpose
		FROM `+pgx.Identifier{Schema, "expenditures"}.Sanitize()+` WHERE community_id = $1 AND expenditure_id = ANY($2)`,
		func(rs pgx.Rows) (id, purpose string, err error) {
			err = rs.Scan(&id, &purpose)
			return id, purpose, err
		}, communityID, ids)
}

// PayTotal is what a community paid its workers in a fiscal year for one component of their pay
// (基本工资, 绩效工资, 年度奖励): the total and the number of payments.
type PayTotal struct {
	Component worker.Component
	Paid      kernel.Fen
	Payments  int
}

// PayTotals returns a community's payments to its workers by fiscal year (newest first) and component
// (in the order of worker.Components): the aggregates the public sees, never one worker's pay.
func PayTotals(ctx context.Context, q Querier, communityID string) (map[int][]PayTotal, []int, error) {
	rows, err := q.Query(ctx, `SELECT fiscal_year, pay_component, sum(paid_amount_fen), count(*)
		FROM `+pgx.Identifier{Schema, "expenditures"}.Sanitize()+`
		WHERE community_id = $1 AND pay_component IS NOT NULL AND paid_at IS NOT NULL
		GROUP BY fiscal_year, pay_component`, communityID)
	if err != nil {
		return nil, nil, fmt.Errorf("finances: pay of %s: %w", communityID, err)
	}
	byYear := map[int][]PayTotal{}
	var y int
	var c string
	var paid int64
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&y, &c, &paid, &n}, func() error {
		byYear[y] = append(byYear[y], PayTotal{Component: worker.Component(c), Paid: kernel.Fen(paid), Payments: n})
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("finances: pay of %s: %w", communityID, err)
	}
	years := make([]int, 0, len(byYear))
	for y, ts := range byYear {
		years = append(years, y)
		slices.SortFunc(ts, func(a, b PayTotal) int {
			return slices.Index(worker.Components(), a.Component) - slices.Index(worker.Components(), b.Component)
		})
	}
	slices.Sort(years)
	slices.Reverse(years)
	return byYear, years, nil
}

// PayFingerprint changes whenever a community's salaries to its workers do: their number and the sum of
// their last revisions.
func PayFingerprint(ctx context.Context, q Querier, communityID string) (string, error) {
	marks, err := tables.Collect(ctx, q, "finances", "pay fingerprint of "+communityID, `SELECT count(*) || '.' || coalesce(sum(last_revision), 0)
		FROM `+pgx.Identifier{Schema, "expenditures"}.Sanitize()+` WHERE community_id = $1 AND pay_component IS NOT NULL`, tables.One[string], communityID)
	if err != nil || len(marks) == 0 {
		return "", err
	}
	return marks[0], nil
}
