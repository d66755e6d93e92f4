// Package finances is the read model of a community's money as the public sees it (经费与支出): budget
// allocations by fiscal year, funding source and category; every expenditure with its status (requested,
// approved, paid, rejected, cancelled); every payment line with its voucher, payee and authorising
// resolution; and a summary per community × fiscal year × funding source × category, kept up to date
// incrementally, for the portal's charts. Money is integer fen. An organisation payee is shown by name; an
// individual payee only by the masked name the event carries (张*), never by person id or personal data.
// It lives in schema rm_finances.
package finances

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/privacy"
	"github.com/grassroots-ledger/ledger/domain/worker"
	"github.com/grassroots-ledger/ledger/projections/internal/decode"
	"github.com/grassroots-ledger/ledger/projections/internal/tables"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// Name is the read model's permanent name; its tables live in schema rm_finances.
const Name = "finances"

// Schema is where the live tables are.
var Schema = runtime.SchemaOf(Name)

//go:embed migrations/*.sql
var migrations embed.FS

// Model is the finances read model. Create it with New.
type Model struct {
	decode.Model
	personal runtime.Personal
}

// New returns the finances model, decoding with the domain's registry. An individual payee is shown by
// the masked form of their name, which personal opens from the sealed personal data (infra/keys); a
// payee whose personal data was erased shows as kernel.ErasedText, also in a replay of an earlier instant.
// personal may be nil where every personal object is clear (tests); a sealed one is then a poison event.
func New(personal runtime.Personal) *Model {
	return &Model{decode.NewModel(Name, migrations,
		funds.BudgetAllocated{}, funds.ExpenditureRequested{},
		funds.ExpenditureApproved{}, funds.ExpenditurePaid{}, funds.ExpenditureRejected{}, funds.ExpenditureCancelled{},
		privacy.PersonalDataErased{}), personal}
}

// Tables are the model's tables as declared once for its writes and loads (checked against the
// migrations by the read-model contract, projections/internal/readmodeltest).
func (*Model) Tables() []*tables.Table {
	return []*tables.Table{allocationsTable, expendituresTable, summaryTable}
}

// Poison implements runtime.ReadModel: Halt. This is money: the summary is kept by deltas, so one skipped
// event would leave every later total of its community and year wrong for good, and a skipped payment
// would be missing from the public list without anyone knowing. Halted, the portal shows stale but true
// figures and says how stale they are until the model is fixed.
func (*Model) Poison() runtime.PoisonPolicy { return runtime.Halt }

// Status of an expenditure.
type Status string

const (
	Requested Status = "requested"
	Approved  Status = "approved"
	Paid      Status = "paid"
	Rejected  Status = "rejected"
	Cancelled Status = "cancelled"
)

// ---- state of a batch -----------------------------------------------------------------------------------

type xkey struct{ community, expenditure string }

type akey struct {
	community string
	year      int
	id        string
}

type skey struct {
	community     string
	year          int
	source, categ string
}

type delta struct {
	allocated, requested, approved, paid int64
	allocations, payments                int32
	last                                 decode.Source
}

type expenditure struct {
	xkey
	jurisdiction, category, kind, purpose string
	year                                  int
	amount                                int64
	payeeKind, payeeName                  string
	payeeKey                              pgtype.Text
	payComponent, payPeriod               pgtype.Text
	status                                Status
	requestedAt                           time.Time
	requestedSrc                          decode.Source
	approvedAt                            pgtype.Timestamptz
	approvedSrc                           decode.Source
	resolution, resolutionMeeting         pgtype.Text
	paidAt                                pgtype.Timestamptz
	voucher                               pgtype.Text
	paidAmount                            pgtype.Int8
	wasApproved                           pgtype.Bool
	paidSrc                               decode.Source
	closedAt                              pgtype.Timestamptz
	closeReason                           pgtype.Text
	closedSrc                             decode.Source
	stream                                string
	lastRev                               int64
	dirty                                 bool
	isNew                                 bool // not in the table before this batch
}

type allocation struct {
	akey
	jurisdiction, source, category string
	amount                         int64
	note                           pgtype.Text
	at                             time.Time
	src                            decode.Source
}

// PublicPayee is what the public sees of a payee, the one place a payee is masked for the public: an
// organisation's name, or an individual's masked name as the event carries it. Masking it again changes
// nothing for a masked name (张* stays 张*) and guarantees that a payload, or a row, with an unmasked name
// still shows masked. The model stores payees through it; the portal passes what it reads through it.
func PublicPayee(kind funds.PayeeKind, name string) string {
	if kind == funds.Organisation || name == kernel.ErasedText {
		return name
	}
	return kernel.MaskName(name)
}

// payeeName is the payee as the public sees it; opened is the individual's personal data as the key
// store opened it (clear, or erased).
func payeeName(p funds.Payee, opened *kernel.PersonalData) string {
	switch {
	case p.Kind == funds.Organisation:
		return PublicPayee(p.Kind, p.Organisation)
	case opened != nil && opened.Erased:
		return kernel.ErasedText
	case opened != nil && opened.Name != "":
		return PublicPayee(p.Kind, opened.Name)
	}
	return PublicPayee(p.Kind, p.MaskedName) // recorded before personal data was sealed
}

// openPayees opens the personal data of the batch's individual payees, by event: one call to the key
// store for the batch.
func (m *Model) openPayees(ctx context.Context, evs []decode.Event) (map[eventlog.ID]*kernel.PersonalData, error) {
	var sealed []runtime.SealedPersonal
	for _, e := range evs {
		if r, ok := e.Payload.(funds.ExpenditureRequested); ok && r.Payee.Personal != nil {
			if r.Payee.Personal.IsSealed() && m.personal == nil {
				return nil, e.Poison(errors.New("an individual payee's personal data is sealed, and the finances model was given no key store to open it"))
			}
			sealed = append(sealed, runtime.SealedPersonal{Event: e.Rec.ID, Data: *r.Payee.Personal})
		}
	}
	out := make(map[eventlog.ID]*kernel.PersonalData, len(sealed))
	if len(sealed) == 0 {
		return out, nil
	}
	opened := make([]kernel.PersonalData, len(sealed))
	for i, s := range sealed {
		opened[i] = s.Data
	}
	if m.personal != nil {
		var err error
		if opened, err = m.personal.Open(ctx, sealed); err != nil {
			return nil, fmt.Errorf("open the personal data of individual payees: %w", err)
		}
	}
	for i, s := range sealed {
		out[s.Event] = &opened[i]
	}
	return out, nil
}

func expenditureOf(p kernel.Event) (string, bool) {
	switch p := p.(type) {
	case funds.ExpenditureRequested:
		return p.ExpenditureID, true
	case funds.ExpenditureApproved:
		return p.ExpenditureID, true
	case funds.ExpenditurePaid:
		return p.ExpenditureID, true
	case funds.ExpenditureRejected:
		return p.ExpenditureID, true
	case funds.ExpenditureCancelled:
		return p.ExpenditureID, true
	}
	return "", false
}

// Apply implements runtime.ReadModel: one round trip loads the expenditures the batch touches and which
// of its allocations are already recorded, the batch is folded in memory into rows and summary deltas,
// one round trip writes them with multi-row statements. Expenditure events at or below the expenditure's
// last applied revision, and allocations already recorded, are skipped, so applying a batch twice changes
// nothing — the summary's deltas included.
func (m *Model) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.Recorded) error {
	evs, err := m.Dec.Batch(batch)
	if err != nil || len(evs) == 0 {
		return err
	}
	var xkeys []xkey
	var akeys []akey
	seenX, seenA := map[xkey]bool{}, map[akey]bool{}
	var erasures []privacy.PersonalDataErased
	for _, e := range evs {
		if x, ok := e.Payload.(privacy.PersonalDataErased); ok {
			erasures = append(erasures, x)
			continue
		}
		if err := decode.RequireCommunity(e); err != nil {
			return err
		}
		if a, ok := e.Payload.(funds.BudgetAllocated); ok {
			if err := decode.CheckStream(e, "budget", strconv.Itoa(a.FiscalYear)); err != nil {
				return err
			}
			if err := decode.Int32s(e, a.FiscalYear); err != nil {
				return err
			}
			k := akey{e.Community(), a.FiscalYear, a.AllocationID}
			if !seenA[k] {
				seenA[k] = true
				akeys = append(akeys, k)
			}
			continue
		}
		id, _ := expenditureOf(e.Payload)
		if err := decode.CheckStream(e, "expenditure", id); err != nil {
			return err
		}
		if r, ok := e.Payload.(funds.ExpenditureRequested); ok {
			if err := decode.Int32s(e, r.FiscalYear); err != nil {
				return err
			}
		}
		k := xkey{e.Community(), id}
		if !seenX[k] {
			seenX[k] = true
			xkeys = append(xkeys, k)
		}
	}
	// The payees' personal data is opened (the key store, its own connection) while the rows load.
	var payees map[eventlog.ID]*kernel.PersonalData
	var openErr error
	opened := make(chan struct{})
	go func() {
		defer close(opened)
		payees, openErr = m.openPayees(ctx, evs)
	}()
	xs, recorded, err := load(ctx, tx, xkeys, akeys)
	<-opened
	if err != nil {
		return err
	}
	if openErr != nil {
		return openErr
	}
	deltas := map[skey]*delta{}
	add := func(k skey, src decode.Source, f func(d *delta)) {
		d := deltas[k]
		if d == nil {
			d = &delta{}
			deltas[k] = d
		}
		f(d)
		if src.Commit >= d.last.Commit {
			d.last = src
		}
	}
	var allocs []*allocation
	for _, e := range evs {
		if _, ok := e.Payload.(privacy.PersonalDataErased); ok {
			continue
		}
		if a, ok := e.Payload.(funds.BudgetAllocated); ok {
			k := akey{e.Community(), a.FiscalYear, a.AllocationID}
			if recorded[k] {
				continue // already applied
			}
			recorded[k] = true
			allocs = append(allocs, &allocation{akey: k, jurisdiction: e.Rec.Meta.Jurisdiction, source: string(a.Source),
				category: string(a.Category), amount: int64(a.Amount), note: tables.Text(a.Note), at: a.AllocatedAt, src: e.Source()})
			add(skey{k.community, a.FiscalYear, string(a.Source), string(a.Category)}, e.Source(), func(d *delta) {
				d.allocated += int64(a.Amount)
				d.allocations++
			})
			continue
		}
		id, _ := expenditureOf(e.Payload)
		k := xkey{e.Community(), id}
		x := xs[k]
		if x != nil && e.Revision() <= x.lastRev {
			continue // already applied
		}
		if r, ok := e.Payload.(funds.ExpenditureRequested); ok {
			if x != nil {
				return e.Poison(errors.New("the expenditure was requested before"))
			}
			// r.Payee.Person and r.Payee.Personal are deliberately dropped: the public sees payeeName only.
			// The id of the key sealing the personal data (it names no one) is kept for an erasure to find.
			x = &expenditure{xkey: k, jurisdiction: e.Rec.Meta.Jurisdiction, category: string(r.Category), kind: string(r.Kind),
				purpose: r.Purpose, year: r.FiscalYear, amount: int64(r.Amount), payeeKind: string(r.Payee.Kind),
				payeeName: payeeName(r.Payee, payees[e.Rec.ID]), payeeKey: sealedKey(r.Payee.Personal), status: Requested,
				requestedAt: r.RequestedAt, requestedSrc: e.Source(), isNew: true}
			if r.Payroll != nil {
				x.payComponent, x.payPeriod = tables.Text(string(r.Payroll.Component)), tables.Text(r.Payroll.Period)
				if !r.Payroll.Public {
					x.payeeName = worker.PublicPayee
				}
			}
			xs[k] = x
		} else if x == nil {
			return e.Poison(errors.New("the finances model never saw the expenditure requested"))
		}
		x.stream, x.lastRev, x.dirty = e.Rec.Stream, e.Revision(), true
		sk := skey{k.community, x.year, "", x.category}
		switch p := e.Payload.(type) {
		case funds.ExpenditureRequested:
			add(sk, e.Source(), func(d *delta) { d.requested += x.amount })
		case funds.ExpenditureApproved:
			x.status, x.approvedAt, x.approvedSrc = Approved, tables.Time(p.ApprovedAt), e.Source()
			if p.Resolution != nil {
				x.resolution, x.resolutionMeeting = tables.Text(p.Resolution.ID), tables.Text(p.Resolution.MeetingID)
			}
			add(sk, e.Source(), func(d *delta) { d.approved += x.amount })
		case funds.ExpenditurePaid:
			if x.status == Paid {
				return e.Poison(errors.New("the expenditure was paid before"))
			}
			x.status, x.paidAt, x.voucher, x.paidSrc = Paid, tables.Time(p.PaidAt), tables.Text(p.VoucherNo), e.Source()
			x.paidAmount, x.wasApproved = pgtype.Int8{Int64: int64(p.Amount), Valid: true}, tables.Bool(p.WasApproved, true)
			if p.Resolution != nil { // a resolution named at payment replaces the one given at approval
				x.resolution, x.resolutionMeeting = tables.Text(p.Resolution.ID), tables.Text(p.Resolution.MeetingID)
			}
			add(sk, e.Source(), func(d *delta) { d.paid += int64(p.Amount); d.payments++ })
		case funds.ExpenditureRejected:
			x.status, x.closedAt, x.closeReason, x.closedSrc = Rejected, tables.Time(p.RejectedAt), tables.Text(p.Reason), e.Source()
			add(sk, e.Source(), func(d *delta) { d.requested -= x.amount })
		case funds.ExpenditureCancelled:
			wasApproved := x.status == Approved
			x.status, x.closedAt, x.closeReason, x.closedSrc = Cancelled, tables.Time(p.CancelledAt), tables.Text(p.Reason), e.Source()
			add(sk, e.Source(), func(d *delta) {
				d.requested -= x.amount
				if wasApproved {
					d.approved -= x.amount
				}
			})
		}
	}
	if err := write(ctx, tx, allocs, xs, deltas); err != nil {
		return err
	}
	return forget(ctx, tx, erasures)
}

// forget applies erasures: the payee names sealed with the destroyed keys become kernel.ErasedText.
func forget(ctx context.Context, tx pgx.Tx, erasures []privacy.PersonalDataErased) error {
	var keys []string
	for _, x := range erasures {
		keys = append(keys, x.Keys...)
	}
	if len(keys) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `UPDATE expenditures SET payee_name = $2 WHERE payee_key = ANY($1) AND payee_kind = 'individual' AND payee_name <> $3`, keys, kernel.ErasedText,
		worker.PublicPayee)
	return err
}

// sealedKey is the id of the key that seals p ("" for clear data, NULL in the table).
func sealedKey(p *kernel.PersonalData) pgtype.Text {
	if p == nil || !p.IsSealed() {
		return pgtype.Text{}
	}
	return tables.Text(p.Key)
}

func load(ctx context.Context, tx pgx.Tx, xkeys []xkey, akeys []akey) (map[xkey]*expenditure, map[akey]bool, error) {
	xs := make(map[xkey]*expenditure, len(xkeys))
	recorded := make(map[akey]bool, len(akeys))
	b := &pgx.Batch{}
	if len(xkeys) > 0 {
		cs, ids := make([]string, len(xkeys)), make([]string, len(xkeys))
		for i, k := range xkeys {
			cs[i], ids[i] = k.community, k.expenditure
		}
		expendituresTable.QueueLoad(b, func(rs pgx.Rows) error {
			x := &expenditure{}
			var status string
			var aEv, pEv, cEv pgtype.UUID
			var aPos, pPos, cPos pgtype.Int8
			if err := rs.Scan(&x.community, &x.expenditure, &x.jurisdiction, &x.year, &x.category, &x.kind, &x.purpose, &x.amount,
				&x.payeeKind, &x.payeeName, &status, &x.requestedAt, &x.requestedSrc.ID, &x.requestedSrc.Commit, &x.approvedAt,
				&aEv, &aPos, &x.resolution, &x.resolutionMeeting, &x.paidAt, &x.voucher, &x.paidAmount, &x.wasApproved,
				&pEv, &pPos, &x.closedAt, &x.closeReason, &cEv, &cPos, &x.stream, &x.lastRev, &x.payeeKey, &x.payComponent, &x.payPeriod); err != nil {
				return err
			}
			x.status = Status(status)
			x.approvedSrc, x.paidSrc, x.closedSrc = decode.SourceOf(aEv, aPos), decode.SourceOf(pEv, pPos), decode.SourceOf(cEv, cPos)
			xs[x.xkey] = x
			return nil
		}, cs, ids)
	}
	if len(akeys) > 0 {
		cs, ys, ids := make([]string, len(akeys)), make([]int32, len(akeys)), make([]string, len(akeys))
		for i, k := range akeys {
			cs[i], ys[i], ids[i] = k.community, int32(k.year), k.id
		}
		b.Queue(`SELECT a.community_id, a.fiscal_year, a.allocation_id FROM unnest($1::text[], $2::int4[], $3::text[]) AS k(c, y, id)
			CROSS JOIN LATERAL (SELECT * FROM allocations a WHERE a.community_id = k.c AND a.fiscal_year = k.y AND a.allocation_id = k.id LIMIT 1) a`,
			cs, ys, ids).Query(func(rs pgx.Rows) error {
			for rs.Next() {
				var k akey
				if err := rs.Scan(&k.community, &k.year, &k.id); err != nil {
					return err
				}
				recorded[k] = true
			}
			return rs.Err()
		})
	}
	if b.Len() == 0 {
		return xs, recorded, nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, nil, fmt.Errorf("finances: load %d expenditures and %d allocations: %w", len(xkeys), len(akeys), err)
	}
	return xs, recorded, nil
}

var (
	allocationsTable = tables.New("allocations", []string{"community_id", "fiscal_year", "allocation_id"}, "nothing",
		"community_id text", "fiscal_year int4", "allocation_id text", "jurisdiction text", "source text", "category text",
		"amount_fen int8", "note text", "allocated_at timestamptz", "event_id uuid", "commit_pos int8")
	expendituresTable = tables.New("expenditures", []string{"community_id", "expenditure_id"}, "",
		"community_id text", "expenditure_id text", "jurisdiction text", "fiscal_year int4", "category text", "kind text",
		"purpose text", "amount_fen int8", "payee_kind text", "payee_name text", "status text", "requested_at timestamptz",
		"requested_event_id uuid", "requested_commit_pos int8", "approved_at timestamptz", "approved_event_id uuid",
		"approved_commit_pos int8", "resolution_id text", "resolution_meeting_id text", "paid_at timestamptz", "voucher_no text",
		"paid_amount_fen int8", "was_approved bool", "paid_event_id uuid", "paid_commit_pos int8", "closed_at timestamptz",
		"close_reason text", "closed_event_id uuid", "closed_commit_pos int8", "stream text", "last_revision int8", "payee_key text",
		"pay_component text", "pay_period text")
	// The summary takes deltas: a row's figures are added to, and its source event is the newest one.
	summaryTable = tables.New("budget_summary", []string{"community_id", "fiscal_year", "source", "category"},
		`allocated_fen = `+saturated("allocated_fen")+`, allocations = t.allocations + excluded.allocations,
		requested_fen = `+saturated("requested_fen")+`, approved_fen = `+saturated("approved_fen")+`,
		paid_fen = `+saturated("paid_fen")+`, payments = t.payments + excluded.payments,
		last_event_id = CASE WHEN excluded.last_commit_pos > t.last_commit_pos THEN excluded.last_event_id ELSE t.last_event_id END,
		last_commit_pos = greatest(t.last_commit_pos, excluded.last_commit_pos)`,
		"community_id text", "fiscal_year int4", "source text", "category text", "allocated_fen int8", "allocations int4",
		"requested_fen int8", "approved_fen int8", "paid_fen int8", "payments int4", "last_event_id uuid", "last_commit_pos int8")
)

// saturated adds a summary column's delta in numeric and holds the sum within bigint: requests and
// payments are facts on streams of their own, bounded one by one (kernel.MaxAmount) but not in number, and
// a sum past bigint must not stop the model (it would be a poison event). No real budget line comes near.
func saturated(col string) string {
	return fmt.Sprintf("least(greatest(t.%[1]s::numeric + excluded.%[1]s, -9223372036854775808), 9223372036854775807)::int8", col)
}

// write upserts the changed expenditures that exist and the summary deltas in one round trip, then copies
// the new allocations and expenditures in (each is new: allocations and expenditures are looked up).
func write(ctx context.Context, tx pgx.Tx, allocs []*allocation, xs map[xkey]*expenditure, deltas map[skey]*delta) error {
	as := allocationsTable.Rows()
	for _, a := range allocs {
		as.Row().Text(a.community).Int4(int32(a.year)).Text(a.id).Text(a.jurisdiction).Text(a.source).Text(a.category).Int8(a.amount).
			NullText(a.note).Time(a.at).UUID(a.src.ID).Int8(a.src.Commit)
	}
	keys := make([]xkey, 0, len(xs))
	for k, x := range xs {
		if x.dirty {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b xkey) int {
		return cmp.Or(strings.Compare(a.community, b.community), strings.Compare(a.expenditure, b.expenditure))
	})
	fresh, changed := expendituresTable.Rows(), expendituresTable.Rows()
	for _, k := range keys {
		r := xs[k]
		to := changed
		if r.isNew {
			to = fresh
		}
		to.Row().Text(k.community).Text(k.expenditure).Text(r.jurisdiction).Int4(int32(r.year)).Text(r.category).Text(r.kind).
			Text(r.purpose).Int8(r.amount).Text(r.payeeKind).Text(r.payeeName).Text(string(r.status)).Time(r.requestedAt).
			UUID(r.requestedSrc.ID).Int8(r.requestedSrc.Commit).NullTime(r.approvedAt).UUID(r.approvedSrc.ID).NullInt8(r.approvedSrc.Pos()).
			NullText(r.resolution).NullText(r.resolutionMeeting).NullTime(r.paidAt).NullText(r.voucher).NullInt8(r.paidAmount).
			NullBool(r.wasApproved).UUID(r.paidSrc.ID).NullInt8(r.paidSrc.Pos()).NullTime(r.closedAt).NullText(r.closeReason).
			UUID(r.closedSrc.ID).NullInt8(r.closedSrc.Pos()).Text(r.stream).Int8(r.lastRev).NullText(r.payeeKey).
			NullText(r.payComponent).NullText(r.payPeriod)
	}
	sk := make([]skey, 0, len(deltas))
	for k := range deltas {
		sk = append(sk, k)
	}
	slices.SortFunc(sk, func(a, b skey) int {
		return cmp.Or(strings.Compare(a.community, b.community), cmp.Compare(a.year, b.year),
			strings.Compare(a.source, b.source), strings.Compare(a.categ, b.categ))
	})
	summary := summaryTable.Rows()
	for _, k := range sk {
		d := deltas[k]
		summary.Row().Text(k.community).Int4(int32(k.year)).Text(k.source).Text(k.categ).Int8(d.allocated).Int4(d.allocations).
			Int8(d.requested).Int8(d.approved).Int8(d.paid).Int4(d.payments).UUID(d.last.ID).Int8(d.last.Commit)
	}
	var w tables.Writer
	w.Upsert(changed)
	w.Upsert(summary)
	w.Copy(as)
	w.Copy(fresh)
	if err := w.Flush(ctx, tx); err != nil {
		return fmt.Errorf("finances: %w", err)
	}
	return nil
}
