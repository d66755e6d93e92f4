package funds

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/worker"
)

// Status of an expenditure.
type Status int

const (
	NotRequested Status = iota
	Requested
	Approved
	Paid
	Rejected
	Cancelled
)

// Expenditure is one expenditure (支出). The zero value is one not yet
// requested.
type Expenditure struct {
	id         string
	status     Status
	amount     kernel.Fen
	project    string
	fiscalYear int
	category   Category
	payee      string
	resolution *ResolutionRef
	payroll    *Payroll
}

// ExpenditureStream is the stream of one expenditure from request to payment,
// expenditure-<communityID>-<expenditureID>.
func ExpenditureStream(c kernel.CommunityID, expenditureID string) string {
	return eventlog.StreamName("expenditure", string(c), expenditureID)
}

// RehydrateExpenditure rebuilds an expenditure from its history.
func RehydrateExpenditure(history []kernel.Event) *Expenditure {
	return kernel.Rehydrate(&Expenditure{}, history)
}

// Apply changes state only.
func (x *Expenditure) Apply(e kernel.Event) {
	switch e := e.(type) {
	case ExpenditureRequested:
		x.id, x.status, x.amount, x.project = e.ExpenditureID, Requested, e.Amount, e.Project
		x.fiscalYear, x.category, x.payee = e.FiscalYear, e.Category, e.Payee.Organisation
		x.payroll = e.Payroll
		if e.Payee.Kind == Individual {
			x.payee = "person:" + string(e.Payee.Person)
		}
	case ExpenditureApproved:
		x.status, x.resolution = Approved, e.Resolution
	case ExpenditurePaid:
		x.status = Paid
	case ExpenditureRejected:
		x.status = Rejected
	case ExpenditureCancelled:
		x.status = Cancelled
	}
}

// Status returns where the expenditure stands.
func (x *Expenditure) Status() Status { return x.status }

// FiscalYear, Category and PayeeKey say which budget line the expenditure is charged to and whom it
// pays (an organisation's name or a person's id).
func (x *Expenditure) FiscalYear() int    { return x.fiscalYear }
func (x *Expenditure) Category() Category { return x.category }
func (x *Expenditure) PayeeKey() string   { return x.payee }

// Resolution returns the resolution cited at approval (nil when none, or before approval).
func (x *Expenditure) Resolution() *ResolutionRef { return x.resolution }

// Payroll is the worker, component and period a salary pays, or nil.
func (x *Expenditure) Payroll() *Payroll { return x.payroll }

// Project returns the project the expenditure belongs to ("" when none).
func (x *Expenditure) Project() string { return x.project }

// ID returns the expenditure's id.
func (x *Expenditure) ID() string { return x.id }

// Amount returns the requested amount.
func (x *Expenditure) Amount() kernel.Fen { return x.amount }

// Errors of expenditures. The rule each enforces is named in its comment.
var (
	ErrExpenditureNotFound = kernel.NotFound("expenditure-not-found", "该支出尚未申请")
	ErrExpenditureExists   = kernel.Conflict("expenditure-already-requested", "该支出已申请")
	ErrNotAwaitingApproval = kernel.Rejected("expenditure-not-awaiting-approval", "该支出不在待审批状态")
	// ErrApproverNotOnCommittee: the approver named is not a sitting member of the community's committee.
	ErrApproverNotOnCommittee = kernel.Invalid("approver-not-on-committee", "by", "审批人须为本社区（村）现任委员会成员")
	ErrNotPayable             = kernel.Rejected("expenditure-not-payable", "该支出已支付、已驳回或已撤销，不能支付")
	ErrNotCancellable         = kernel.Rejected("expenditure-not-cancellable", "该支出已支付、已驳回或已撤销，不能撤销")
	// rule major-matter-resolution
	ErrMajorNeedsResolution = kernel.Rejected("major-spending-needs-resolution", "支出达到重大开支标准，须先经村(居)民会议或代表会议决议")
	// rule major-matter-resolution
	ErrResolutionWrongMeeting = kernel.Rejected("resolution-wrong-meeting-kind", "重大开支须由村(居)民会议或村(居)民代表会议决议，其他会议的决定不能替代")
	// rule major-matter-resolution
	ErrResolutionWrongSubject = kernel.Rejected("resolution-wrong-subject", "所引用的决议不是关于重大开支的决议")
	// rule major-matter-resolution
	ErrResolutionNotBefore = kernel.Rejected("resolution-not-adopted-before", "决议须在审批之前通过")
	// rule major-matter-resolution
	ErrResolutionCeilingExceeded = kernel.Rejected("resolution-ceiling-exceeded", "支出金额超过决议批准的上限")
)

// Request is the command to request an expenditure.
type Request struct {
	ExpenditureID string
	FiscalYear    int
	Category      Category
	Kind          Kind
	Purpose       string
	Amount        kernel.Fen
	// Project is the project (工程/项目) the expenditure belongs to, if any: a resolution on a project
	// authorises only that project's expenditures.
	Project string
	// Payee: for an individual, Person and Personal (with Name) are
	// required (MaskedName is not recorded: the name is masked when shown).
	Payee Payee
	// Payroll, for a worker's salary, and PayrollPerson, the worker's person the handler read from the
	// roster (worker.Roster.Payee): the payee must be that person, the category salaries.
	Payroll       *Payroll
	PayrollPerson kernel.PersonID
}

// Request records a request to spend.
func (x *Expenditure) Request(cmd Request, now time.Time) ([]kernel.Event, error) {
	if x.status != NotRequested {
		return nil, ErrExpenditureExists
	}
	if err := kernel.Required(cmd.ExpenditureID, "expenditure_id", "支出编号"); err != nil {
		return nil, err
	}
	if cmd.FiscalYear < 1949 || cmd.FiscalYear > 9999 {
		return nil, kernel.Invalid("invalid-fiscal-year", "fiscal_year", "年度不正确")
	}
	if !cmd.Category.Valid() {
		return nil, kernel.Invalid("invalid-category", "category", "经费类别不正确")
	}
	if !cmd.Kind.Valid() {
		return nil, kernel.Invalid("invalid-kind", "kind", "支出类型须为 salary、allowance 或 other")
	}
	if err := kernel.Required(cmd.Purpose, "purpose", "支出用途"); err != nil {
		return nil, err
	}
	if err := kernel.CheckAmount(cmd.Amount, "amount_fen", false); err != nil {
		return nil, err
	}
	payee, err := checkPayee(cmd.Payee)
	if err != nil {
		return nil, err
	}
	if cmd.Payroll != nil {
		if cmd.Category != Salaries {
			return nil, worker.ErrPayrollCategory
		}
		if payee.Kind != Individual || payee.Person != cmd.PayrollPerson {
			return nil, worker.ErrPayeeNotWorker
		}
	}
	return []kernel.Event{ExpenditureRequested{
		ExpenditureID: cmd.ExpenditureID, FiscalYear: cmd.FiscalYear, Category: cmd.Category, Kind: cmd.Kind,
		Purpose: cmd.Purpose, Amount: cmd.Amount, Project: cmd.Project, Payee: payee, Payroll: cmd.Payroll, RequestedAt: now.UTC(),
	}}, nil
}

func checkPayee(p Payee) (Payee, error) {
	switch p.Kind {
	case Organisation:
		if err := kernel.Required(p.Organisation, "payee.organisation", "收款单位"); err != nil {
			return p, err
		}
		if p.Person != "" || p.Personal != nil {
			return p, kernel.Invalid("organisation-payee-with-person", "payee.person", "收款单位不应填写个人信息")
		}
		return Payee{Kind: Organisation, Organisation: p.Organisation}, nil
	case Individual:
		if err := kernel.Required(string(p.Person), "payee.person", "收款人"); err != nil {
			return p, err
		}
		if p.Personal == nil || p.Personal.Name == "" {
			return p, kernel.Invalid("required", "payee.personal.name", "收款人姓名不能为空")
		}
		if p.Personal.Subject != p.Person {
			return p, kernel.Invalid("personal-data-subject-mismatch", "payee.personal.subject", "个人信息须属于收款人本人")
		}
		if p.Organisation != "" {
			return p, kernel.Invalid("individual-payee-with-organisation", "payee.organisation", "个人收款不应填写收款单位")
		}
		personal := *p.Personal
		return Payee{Kind: Individual, Person: p.Person, Personal: &personal}, nil
	}
	return p, kernel.Invalid("invalid-payee-kind", "payee.kind", "收款方类型须为 organisation 或 individual")
}

// resolutionProblem says why ref does not authorise a major expenditure of
// amount carried out at `at`, or nil when it does.
func resolutionProblem(ref *ResolutionRef, amount kernel.Fen, at time.Time, p rulebook.Params) error {
	switch {
	case ref == nil:
		return ErrMajorNeedsResolution.WithMsg("支出%s达到重大开支标准(%s)，须先经村(居)民会议或代表会议决议", amount, p.MajorThreshold())
	case !ref.MeetingKind.CanDecideMajorMatters():
		return ErrResolutionWrongMeeting
	case ref.Subject != meeting.MajorSpending:
		return ErrResolutionWrongSubject
	case ref.AdoptedAt.IsZero() || ref.AdoptedAt.After(at):
		return ErrResolutionNotBefore.WithMsg("决议%s须在%s之前通过", ref.ID, at.Format(time.RFC3339))
	case amount > ref.Ceiling:
		return ErrResolutionCeilingExceeded.WithMsg("支出%s超过决议%s批准的上限%s", amount, ref.ID, ref.Ceiling)
	}
	return nil
}

// Approve is the command to approve an expenditure.
type Approve struct {
	By kernel.PersonID
	// Committee is the community's sitting committee (its roster) the handler looked up: the approver
	// must be one of them. Nil when the caller did not look (the demo generator approves as the chair).
	Committee []kernel.PersonID
	// Resolution is the authorising resolution the handler looked up, if any.
	Resolution *ResolutionRef
	// Available is the remaining balance of the budget the handler looked
	// up, or nil when it did not check.
	Available *kernel.Fen
	// Splits are recent expenditures to the same payee that, with this one, reach the major threshold
	// while each stays below it (Budget.Commit finds them): split-spending.
	Splits []string
}

// Approve approves an expenditure. Enforces major-matter-resolution: an
// amount at or above the major threshold needs a resolution of an assembly or
// representatives' meeting on major spending, adopted before now, whose
// ceiling covers the amount. Watches budget-balance.
func (x *Expenditure) Approve(cmd Approve, p rulebook.Params, now time.Time) ([]kernel.Event, error) {
	if x.status == NotRequested {
		return nil, ErrExpenditureNotFound
	}
	if x.status != Requested {
		return nil, ErrNotAwaitingApproval
	}
	if err := kernel.Required(string(cmd.By), "by", "审批人"); err != nil {
		return nil, err
	}
	if cmd.Committee != nil && !slices.Contains(cmd.Committee, cmd.By) {
		return nil, ErrApproverNotOnCommittee.WithMsg("审批人 %s 不是本社区（村）现任委员会成员，无权审批支出", cmd.By)
	}
	now = now.UTC()
	if p.IsMajor(x.amount) {
		if err := resolutionProblem(cmd.Resolution, x.amount, now, p); err != nil {
			return nil, err
		}
	}
	e := ExpenditureApproved{ExpenditureID: x.id, By: cmd.By, Resolution: cmd.Resolution, ApprovedAt: now}
	if cmd.Available != nil && x.amount > *cmd.Available {
		e.Breaches = []kernel.Breach{{Rule: rulebook.BudgetBalance, Detail: fmt.Sprintf(
			"支出%s超过预算余额%s", x.amount, *cmd.Available)}}
	}
	if len(cmd.Splits) > 0 {
		e.Breaches = append(e.Breaches, kernel.Breach{Rule: rulebook.SplitSpending, Detail: fmt.Sprintf(
			"支出%s(%s)与同一收款方近期的支出%s合计达到重大事项标准%s，疑似拆分规避决议", x.id, x.amount,
			strings.Join(cmd.Splits, "、"), p.Fen(rulebook.MajorMatterResolution, rulebook.ParamThreshold))})
	}
	return []kernel.Event{e}, nil
}

// Pay is the command recording a payment.
type Pay struct {
	VoucherNo string
	PaidAt    time.Time // the voucher's date; zero: now
	// Resolution, when set, is the authorising resolution the handler looked
	// up; otherwise the one given at approval counts.
	Resolution *ResolutionRef
	// Scale is the grade scale of a salary's worker, component and period that the handler read from
	// the roster (worker.Roster.Band); a payment outside it carries pay-scale.
	Scale *worker.Band
}

// Pay records the payment. A payment is a fact: it is recorded even without
// approval. Watches major-matter-resolution: a major expenditure paid
// without a resolution adopted before the payment carries a breach.
func (x *Expenditure) Pay(cmd Pay, p rulebook.Params, now time.Time) ([]kernel.Event, error) {
	if x.status == NotRequested {
		return nil, ErrExpenditureNotFound
	}
	if x.status != Requested && x.status != Approved {
		return nil, ErrNotPayable
	}
	if err := kernel.Required(cmd.VoucherNo, "voucher_no", "凭证号"); err != nil {
		return nil, err
	}
	at, err := kernel.At(cmd.PaidAt, now, "paid_at")
	if err != nil {
		return nil, err
	}
	ref := cmd.Resolution
	if ref == nil {
		ref = x.resolution
	}
	e := ExpenditurePaid{
		ExpenditureID: x.id, VoucherNo: cmd.VoucherNo, Amount: x.amount, Resolution: cmd.Resolution,
		WasApproved: x.status == Approved, PaidAt: at,
	}
	if p.IsMajor(x.amount) {
		if problem := resolutionProblem(ref, x.amount, at, p); problem != nil {
			var de kernel.Error
			detail := problem.Error()
			if errors.As(problem, &de) {
				detail = de.Msg
			}
			e.Breaches = []kernel.Breach{{Rule: rulebook.MajorMatterResolution, Detail: detail}}
		}
	}
	if b := p.CheckLateRecording("支出"+x.id+"的支付", at, now); b != nil {
		e.Breaches = append(e.Breaches, *b)
	}
	if cmd.Scale != nil {
		e.Breaches = append(e.Breaches, kernel.Breaches(cmd.Scale.Breach(x.amount))...)
	}
	return []kernel.Event{e}, nil
}

// Reject refuses a requested expenditure.
func (x *Expenditure) Reject(by kernel.PersonID, reason string, now time.Time) ([]kernel.Event, error) {
	if x.status == NotRequested {
		return nil, ErrExpenditureNotFound
	}
	if x.status != Requested {
		return nil, ErrNotAwaitingApproval
	}
	if err := kernel.Required(string(by), "by", "审批人"); err != nil {
		return nil, err
	}
	if err := kernel.Required(reason, "reason", "驳回理由"); err != nil {
		return nil, err
	}
	return []kernel.Event{ExpenditureRejected{ExpenditureID: x.id, By: by, Reason: reason, RejectedAt: now.UTC()}}, nil
}

// Cancel withdraws a requested or approved expenditure before payment.
func (x *Expenditure) Cancel(by kernel.PersonID, reason string, now time.Time) ([]kernel.Event, error) {
	if x.status == NotRequested {
		return nil, ErrExpenditureNotFound
	}
	if x.status != Requested && x.status != Approved {
		return nil, ErrNotCancellable
	}
	if err := kernel.Required(reason, "reason", "撤销理由"); err != nil {
		return nil, err
	}
	return []kernel.Event{ExpenditureCancelled{ExpenditureID: x.id, By: by, Reason: reason, CancelledAt: now.UTC()}}, nil
}
