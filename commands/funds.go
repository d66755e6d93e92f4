package commands

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/meeting"

	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// Funds (经费与支出): budget-<communityID>-<fiscalYear> holds a year's allocations;
// expenditure-<communityID>-<expenditureID> one expenditure from request to payment.

// expenditures are the expenditure streams of a community.
var expenditures = kind[*funds.Expenditure]{"expenditure_id", funds.ExpenditureStream, funds.RehydrateExpenditure}

// AllocateBudget records funds allocated to the community for a fiscal year (拨款), with their source
// (资金来源). Watched: the year's operating funds reach the tier of the community's registered household
// count (社区工作经费).
type AllocateBudget struct {
	CommunityID  string         `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	FiscalYear   int            `json:"fiscal_year" minimum:"1949" maximum:"9999" doc:"Fiscal year (年度)"`
	AllocationID string         `json:"allocation_id" minLength:"1" maxLength:"64" doc:"Id of the allocation within the year"`
	Source       funds.Source   `json:"source" doc:"Funding source: central-project 中央项目资金, county-finance 县(区)财政, department 部门资金, asset-swap 资产置换, street-finance 街道/镇财政, self-raised 自筹, other"`
	Category     funds.Category `json:"category" doc:"operating 工作运行经费, startup 建设启动经费, party-building 党建专项经费, project 项目资金, salaries 薪酬, other"`
	AmountFen    int64          `json:"amount_fen" minimum:"1" maximum:"10000000000000" doc:"Amount in fen (分)"`
	Note         string         `json:"note,omitempty" maxLength:"1000" doc:"Note, e.g. 第一批工作运行经费"`
}

// AllocateBudget handles allocate-budget; the household count comes from the community's profile, the
// tiers from the rulebook in force.
func (h *Handlers) AllocateBudget(ctx context.Context, m Meta, c AllocateBudget) (Result, error) {
	if c.FiscalYear < 1949 || c.FiscalYear > 9999 {
		return Result{}, kernel.Invalid("invalid-fiscal-year", "fiscal_year", "年度不正确")
	}
	return onCommunity(ctx, h, m, RecordAffairs, c.CommunityID, budgetOf(c.FiscalYear), funds.RehydrateBudget,
		ruled(func(b *funds.Budget, f Facts, p rulebook.Params) ([]kernel.Event, error) {
			return b.Allocate(funds.Allocate{
				AllocationID: c.AllocationID, FiscalYear: c.FiscalYear, Source: c.Source,
				Category: c.Category, Amount: kernel.Fen(c.AmountFen), Note: c.Note,
				Households: f.Community.Figures().Households,
			}, p, f.Now)
		}))
}

// budgetOf names the budget stream of a fiscal year of a community.
func budgetOf(fiscalYear int) func(kernel.CommunityID) string {
	return func(c kernel.CommunityID) string { return funds.BudgetStream(c, fiscalYear) }
}

// Payee is who receives the money: an organisation by name, or a person, whose name is personal data
// and appears on the public board only masked (张*).
type Payee struct {
	Kind         funds.PayeeKind `json:"kind" doc:"organisation or individual"`
	Organisation string          `json:"organisation,omitempty" maxLength:"256" doc:"Name of the receiving organisation (收款单位)"`
	Person       string          `json:"person,omitempty" maxLength:"128" doc:"Person id of an individual payee"`
	Personal     *Personal       `json:"personal,omitempty" doc:"An individual payee's personal data; name required"`
}

// RequestExpenditure records a request to spend (支出申请). Salaries and allowances of community workers
// are expenditures too.
type RequestExpenditure struct {
	CommunityID   string         `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	ExpenditureID string         `json:"expenditure_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"Id of the new expenditure, e.g. 2026-0042"`
	FiscalYear    int            `json:"fiscal_year" minimum:"1949" maximum:"9999" doc:"Fiscal year charged (年度)"`
	Category      funds.Category `json:"category" doc:"Budget category charged"`
	Kind          funds.Kind     `json:"kind" doc:"salary 工资, allowance 补贴, other"`
	Purpose       string         `json:"purpose" minLength:"1" maxLength:"1000" doc:"What the money is for (用途)"`
	AmountFen     int64          `json:"amount_fen" minimum:"1" maximum:"10000000000000" doc:"Amount in fen (分); at or above the major threshold (5 000 000 fen by default) approval needs a resolution"`
	Project       string         `json:"project,omitempty" maxLength:"128" doc:"The project (工程/项目) it belongs to, if any; a resolution on a project authorises only that project's expenditures"`
	Payee         Payee          `json:"payee" doc:"Who receives the money"`
	Payroll       *Payroll       `json:"payroll,omitempty" doc:"For a worker's salary: the worker, the component and the period it pays; checked at payment against the worker's grade (pay-scale)"`
}

// RequestExpenditure handles request-expenditure.
func (h *Handlers) RequestExpenditure(ctx context.Context, m Meta, c RequestExpenditure) (Result, error) {
	payee := funds.Payee{
		Kind: c.Payee.Kind, Organisation: c.Payee.Organisation, Person: kernel.PersonID(c.Payee.Person),
		Personal: c.Payee.Personal.of(c.Payee.Person),
	}
	return affair(ctx, h, m, c.CommunityID, expenditures, c.ExpenditureID, func(x *funds.Expenditure, f Facts) ([]kernel.Event, error) {
		req := funds.Request{
			ExpenditureID: c.ExpenditureID, FiscalYear: c.FiscalYear, Category: c.Category,
			Kind: c.Kind, Purpose: c.Purpose, Amount: kernel.Fen(c.AmountFen), Project: c.Project, Payee: payee,
		}
		if c.Payroll != nil {
			r, err := h.roster(ctx, f.Community.ID())
			if err != nil {
				return nil, err
			}
			person, err := r.Payee(c.Payroll.WorkerID, c.Payroll.Component, c.Payroll.Period)
			if err != nil {
				return nil, err
			}
			p, err := f.Rules()
			if err != nil {
				return nil, err
			}
			req.Payroll = &funds.Payroll{WorkerID: c.Payroll.WorkerID, Component: c.Payroll.Component, Period: c.Payroll.Period,
				Public: p.On(rulebook.PayScale, rulebook.ParamIndividualPay)}
			req.PayrollPerson = person
		}
		return x.Request(req, f.Now)
	})
}

// ApproveExpenditure approves a requested expenditure (审批支出). Enforced (四议两公开): an amount at or
// above the jurisdiction's major threshold needs a resolution on major spending of an assembly or
// representatives' meeting of the same community, adopted before the approval, whose ceiling covers the
// amount; the command names it by meeting_id and resolution_id and the ledger reads it from that
// meeting's record.
type ApproveExpenditure struct {
	CommunityID   string `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	ExpenditureID string `json:"expenditure_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The expenditure"`
	By            string `json:"by" minLength:"1" maxLength:"128" doc:"Person id of the approver (审批人)"`
	MeetingID     string `json:"meeting_id,omitempty" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"Meeting that adopted the authorising resolution; with resolution_id"`
	ResolutionID  string `json:"resolution_id,omitempty" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The authorising resolution (决议); with meeting_id"`
}

// ApproveExpenditure handles approve-expenditure. The command is admitted once; its steps (a dry run,
// the reservation, the budget commitment, the approval, the releases after a refusal) run under that
// admission.
//
// The ceiling of the cited resolution is cumulative: before the approval is appended, a reservation of
// the amount is appended to the resolution's meeting stream at the exact revision read (CeilingReserved,
// with an event id derived from the command id). Two approvals racing for the last yuan: one appends its
// reservation, the other conflicts, reads again and is refused. A crash between the two appends: the
// retry (same Idempotency-Key) finds its reservation and records the approval; nothing is charged twice.
// An approval refused after its reservation (the expenditure was rejected meanwhile) releases it.
func (h *Handlers) ApproveExpenditure(ctx context.Context, m Meta, c ApproveExpenditure) (Result, error) {
	if err := checkResolutionIDs(c.MeetingID, c.ResolutionID); err != nil {
		return Result{}, err
	}
	cm, stream, err := enterOne(ctx, h, m, RecordAffairs, c.CommunityID, expenditures, c.ExpenditureID)
	if err != nil {
		return Result{}, err
	}
	onExpenditure := func(m Meta, decide decision[*funds.Expenditure]) (Result, error) {
		return record(ctx, h, m, cm, stream, funds.RehydrateExpenditure, decide)
	}
	var found *funds.Commitment // what the budget's commitment found, before the approval decides; nil in the dry run
	approve := func(x *funds.Expenditure, f Facts, p rulebook.Params) ([]kernel.Event, error) {
		ref, err := h.resolutionRef(ctx, x, cm.ID(), c.MeetingID, c.ResolutionID)
		if err != nil {
			return nil, err
		}
		committee := []kernel.PersonID{}
		for _, seat := range cm.Roster() {
			committee = append(committee, seat.Person)
		}
		cmd := funds.Approve{By: kernel.PersonID(c.By), Committee: committee, Resolution: ref}
		if found != nil {
			cmd.Available, cmd.Splits = &found.Left, found.Splits
		}
		return x.Approve(cmd, p, f.Now)
	}
	if done, err := h.x.Recorded(ctx, stream, m.CommandID); err != nil || done {
		if err != nil {
			return Result{}, err
		}
		return onExpenditure(m, ruled(approve)) // a retry: the first result
	}
	// Decide once without appending: a refused approval takes nothing of a ceiling or a budget.
	reserve := meeting.Reserve{ResolutionID: c.ResolutionID, ExpenditureID: c.ExpenditureID}
	var commit funds.Commit
	if _, err := onExpenditure(dryRun(m), ruled(func(x *funds.Expenditure, f Facts, p rulebook.Params) ([]kernel.Event, error) {
		if _, err := approve(x, f, p); err != nil {
			return nil, err
		}
		reserve.Amount, reserve.Project = x.Amount(), x.Project()
		commit = funds.Commit{FiscalYear: x.FiscalYear(), ExpenditureID: x.ID(), Category: x.Category(), Amount: x.Amount(), Payee: x.PayeeKey()}
		return nil, nil
	})); err != nil {
		return Result{}, err
	}
	if c.ResolutionID != "" && reserve.Amount > 0 {
		if err := h.reserveCeiling(ctx, m, cm, c.MeetingID, reserve); err != nil {
			return Result{}, err
		}
	}
	if commit.Amount > 0 {
		got, err := h.commitBudget(ctx, m, cm, commit)
		if err != nil {
			return Result{}, err
		}
		found = &got
	}
	res, err := onExpenditure(m, ruled(approve))
	var refused kernel.Error
	if err != nil && errors.As(err, &refused) {
		// Refused by the domain (the expenditure changed meanwhile): give the amounts back. After any other
		// error the approval may yet be recorded by a retry, which finds its reservation and commitment.
		if c.ResolutionID != "" && reserve.Amount > 0 {
			h.releaseCeiling(ctx, m, cm, c.MeetingID, reserve, "审批未记录："+err.Error())
		}
		if commit.Amount > 0 {
			h.releaseBudget(ctx, m, cm, commit, "审批未记录："+err.Error())
		}
	}
	return res, err
}

// releaseBudget gives back a commitment (its approval was refused, or the expenditure cancelled); a failure is logged (the commitment
// then counts against the budget, which errs on the side of the rule).
func (h *Handlers) releaseBudget(ctx context.Context, m Meta, cm *community.Community, cmd funds.Commit, reason string) {
	_, err := step(m, "budget-release", func(sub Meta) (Result, error) {
		return record(ctx, h, sub, cm, funds.BudgetStream(cm.ID(), cmd.FiscalYear), funds.RehydrateBudget,
			func(b *funds.Budget, f Facts) ([]kernel.Event, error) {
				return b.Release(cmd.FiscalYear, cmd.ExpenditureID, reason, f.Now)
			})
	})
	if err != nil {
		h.log.LogAttrs(ctx, slog.LevelWarn, "could not release a budget commitment", slog.String("expenditure_id", cmd.ExpenditureID),
			slog.String("error", err.Error()))
	}
}

// commitBudget appends the expenditure's commitment to its fiscal year's budget stream at the exact
// revision read (again after a conflict), and returns what the budget said: the balance left before it
// (budget-balance) and the expenditures it splits a major one with (split-spending). A retry finds its
// commitment and gets the same answer.
func (h *Handlers) commitBudget(ctx context.Context, m Meta, cm *community.Community, cmd funds.Commit) (funds.Commitment, error) {
	var got funds.Commitment
	commit := func(m Meta) (Result, error) {
		return record(ctx, h, m, cm, funds.BudgetStream(cm.ID(), cmd.FiscalYear), funds.RehydrateBudget,
			ruled(func(b *funds.Budget, f Facts, p rulebook.Params) ([]kernel.Event, error) {
				evs, c, err := b.Commit(cmd, p, f.Now)
				got = c
				return evs, err
			}))
	}
	var dry Meta
	res, err := step(m, "budget", func(sub Meta) (Result, error) {
		dry = dryRun(sub)
		return commit(sub)
	})
	if err != nil {
		return funds.Commitment{}, err
	}
	if res.Replayed { // committed by an earlier attempt: the executor did not decide; read the answer again
		if _, err := commit(dry); err != nil {
			return funds.Commitment{}, err
		}
	}
	return got, nil
}

// dryRun is m for a decision that appends nothing: another command id, so that a replay of m's own
// result is not mistaken for it.
func dryRun(m Meta) Meta {
	m.CommandID = subCommandID(m.CommandID, "check")
	m.Command, m.RequestHash = "", ""
	return m
}

// subCommandID derives the id of a step of command id: deterministic, so that a retry repeats the step
// idempotently, and within Meta's 128 characters.
func subCommandID(id, step string) string {
	if len(id)+len(step)+1 > 128 {
		id = eventlog.DeriveID(id, 0).String()
	}
	return id + ":" + step
}

// step runs one step of a command that writes to another stream than its own (a reservation, a
// commitment, a release): under a sub-command id derived from the command's, so that a retry repeats it
// idempotently, and again after a conflict (someone appended first: read again, decide again), a few
// times; then the caller is told to retry.
func step(m Meta, name string, run func(sub Meta) (Result, error)) (Result, error) {
	sub := m
	sub.CommandID = subCommandID(m.CommandID, name)
	sub.Command, sub.RequestHash = name, ""
	var res Result
	var err error
	for range 8 {
		res, err = run(sub)
		if !errors.Is(err, eventlog.ErrConflict) {
			break
		}
	}
	return res, err
}

// reserveCeiling appends the reservation to the meeting's stream, reading again and deciding again when
// another approval appended first (a few times; then the caller is told to retry).
func (h *Handlers) reserveCeiling(ctx context.Context, m Meta, cm *community.Community, meetingID string, r meeting.Reserve) error {
	_, err := step(m, "reserve", func(sub Meta) (Result, error) {
		return record(ctx, h, sub, cm, meeting.Stream(cm.ID(), meetingID), meeting.Rehydrate, func(mt *meeting.Meeting, f Facts) ([]kernel.Event, error) {
			return mt.ReserveCeiling(r, f.Now)
		})
	})
	return err
}

// releaseCeiling gives back a reservation (its approval was refused, or the expenditure cancelled); a failure is logged (the reservation
// then counts against the ceiling, which errs on the side of the rule).
func (h *Handlers) releaseCeiling(ctx context.Context, m Meta, cm *community.Community, meetingID string, r meeting.Reserve, reason string) {
	_, err := step(m, "release", func(sub Meta) (Result, error) {
		return record(ctx, h, sub, cm, meeting.Stream(cm.ID(), meetingID), meeting.Rehydrate, func(mt *meeting.Meeting, f Facts) ([]kernel.Event, error) {
			return mt.ReleaseCeiling(r.ResolutionID, r.ExpenditureID, reason, f.Now)
		})
	})
	if err != nil {
		h.log.LogAttrs(ctx, slog.LevelWarn, "could not release a resolution's reservation", slog.String("meeting_id", meetingID),
			slog.String("resolution_id", r.ResolutionID), slog.String("expenditure_id", r.ExpenditureID), slog.String("error", err.Error()))
	}
}

// PayExpenditure records the payment with its voucher (支付, 凭证). A payment is a fact and is recorded even
// without approval; a major expenditure paid without a resolution adopted before the payment is marked
// for an alert. A resolution named here replaces the one given at approval.
type PayExpenditure struct {
	CommunityID   string    `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	ExpenditureID string    `json:"expenditure_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The expenditure"`
	VoucherNo     string    `json:"voucher_no" minLength:"1" maxLength:"64" doc:"Voucher number (凭证号)"`
	PaidAt        time.Time `json:"paid_at,omitzero" doc:"The voucher's date (RFC 3339); default now"`
	MeetingID     string    `json:"meeting_id,omitempty" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"Meeting that adopted the authorising resolution; with resolution_id"`
	ResolutionID  string    `json:"resolution_id,omitempty" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The authorising resolution, if other than the one cited at approval"`
}

// PayExpenditure handles pay-expenditure.
func (h *Handlers) PayExpenditure(ctx context.Context, m Meta, c PayExpenditure) (Result, error) {
	if err := checkResolutionIDs(c.MeetingID, c.ResolutionID); err != nil {
		return Result{}, err
	}
	return affair(ctx, h, m, c.CommunityID, expenditures, c.ExpenditureID, ruled(func(x *funds.Expenditure, f Facts, p rulebook.Params) ([]kernel.Event, error) {
		ref, err := h.resolutionRef(ctx, x, f.Community.ID(), c.MeetingID, c.ResolutionID)
		if err != nil {
			return nil, err
		}
		pay := funds.Pay{VoucherNo: c.VoucherNo, PaidAt: c.PaidAt, Resolution: ref}
		if pr := x.Payroll(); pr != nil {
			r, err := h.roster(ctx, f.Community.ID())
			if err != nil {
				return nil, err
			}
			b, err := r.Band(pr.WorkerID, pr.Component, pr.Period, p)
			if err != nil {
				return nil, err
			}
			pay.Scale = &b
		}
		return x.Pay(pay, p, f.Now)
	}))
}

// RejectExpenditure refuses a requested expenditure (驳回).
type RejectExpenditure struct {
	CommunityID   string `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	ExpenditureID string `json:"expenditure_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The expenditure"`
	By            string `json:"by" minLength:"1" maxLength:"128" doc:"Person id of the approver who refused"`
	Reason        string `json:"reason" minLength:"1" maxLength:"1000" doc:"Why (驳回理由)"`
}

// RejectExpenditure handles reject-expenditure.
func (h *Handlers) RejectExpenditure(ctx context.Context, m Meta, c RejectExpenditure) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, expenditures, c.ExpenditureID, func(x *funds.Expenditure, f Facts) ([]kernel.Event, error) {
		return x.Reject(kernel.PersonID(c.By), c.Reason, f.Now)
	})
}

// CancelExpenditure withdraws a requested or approved expenditure before payment (撤销).
type CancelExpenditure struct {
	CommunityID   string `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	ExpenditureID string `json:"expenditure_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The expenditure"`
	By            string `json:"by,omitempty" maxLength:"128" doc:"Person id of who cancelled, if recorded"`
	Reason        string `json:"reason" minLength:"1" maxLength:"1000" doc:"Why (撤销理由)"`
}

// CancelExpenditure handles cancel-expenditure. An approved expenditure that is cancelled gives back
// what its approval took: the commitment on its fiscal year's budget and the reservation on the cited
// resolution's ceiling. The releases run after the cancellation is recorded, and again on a retry (they
// are idempotent: a release of nothing appends nothing), so a crash between the appends loses nothing.
func (h *Handlers) CancelExpenditure(ctx context.Context, m Meta, c CancelExpenditure) (Result, error) {
	cm, stream, err := enterOne(ctx, h, m, RecordAffairs, c.CommunityID, expenditures, c.ExpenditureID)
	if err != nil {
		return Result{}, err
	}
	res, err := record(ctx, h, m, cm, stream, funds.RehydrateExpenditure, func(x *funds.Expenditure, f Facts) ([]kernel.Event, error) {
		return x.Cancel(kernel.PersonID(c.By), c.Reason, f.Now)
	})
	if err != nil {
		return res, err
	}
	history, err := h.x.Load(ctx, stream)
	if err != nil {
		return res, err
	}
	x := funds.RehydrateExpenditure(history)
	if x.Status() != funds.Cancelled {
		return res, nil
	}
	why := "支出已撤销：" + c.Reason
	h.releaseBudget(ctx, m, cm, funds.Commit{FiscalYear: x.FiscalYear(), ExpenditureID: x.ID()}, why)
	if r := x.Resolution(); r != nil {
		h.releaseCeiling(ctx, m, cm, r.MeetingID, meeting.Reserve{ResolutionID: r.ID, ExpenditureID: x.ID()}, why)
	}
	return res, nil
}

// checkResolutionIDs checks that a resolution is named by both its meeting and its id, or not at all.
func checkResolutionIDs(meetingID, resolutionID string) error {
	switch {
	case meetingID == "" && resolutionID == "":
		return nil
	case meetingID == "":
		return kernel.Invalid("required", "meeting_id", "引用决议须同时写明会议编号")
	case resolutionID == "":
		return kernel.Invalid("required", "resolution_id", "引用决议须同时写明决议编号")
	}
	return checkIDs(meetingID, "meeting_id", resolutionID, "resolution_id")
}

// resolutionRef reads the cited resolution from the meeting's record, or nil when none is cited. For an
// expenditure that does not exist the domain's not-found comes first.
func (h *Handlers) resolutionRef(ctx context.Context, x *funds.Expenditure, communityID kernel.CommunityID, meetingID, resolutionID string) (*funds.ResolutionRef, error) {
	if resolutionID == "" || x.Status() == funds.NotRequested {
		return nil, nil
	}
	r, err := h.resolution(ctx, communityID, meetingID, resolutionID, "meeting_id", "resolution_id")
	if err != nil {
		return nil, err
	}
	return funds.RefTo(r), nil
}
