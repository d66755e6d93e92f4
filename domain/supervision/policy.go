package supervision

import (
	"fmt"
	"time"

	"github.com/grassroots-ledger/ledger/domain/asset"
	"github.com/grassroots-ledger/ledger/domain/audit"
	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/election"
	"github.com/grassroots-ledger/ledger/domain/evaluation"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/domain/rectification"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/seal"
	"github.com/grassroots-ledger/ledger/domain/worker"
	"github.com/grassroots-ledger/ledger/domain/worklist"
)

// District is the district-level (区/县) code of a jurisdiction path, which names the alert stream a
// community's alerts go to: the third segment ("33/3303/330303/…" → "330303"). A path shorter than a
// district (a city registered as a community, in tests) uses its last segment.
func District(p kernel.JurisdictionPath) string {
	segs := p.Segments()
	if len(segs) >= kernel.LevelDistrict {
		return segs[kernel.LevelDistrict-1]
	}
	return p.Last()
}

// Stream is the alert stream of the district a jurisdiction path lies in: alerts-<district code>.
func Stream(p kernel.JurisdictionPath) string { return eventlog.AlertsStream(District(p)) }

// AlertID names the alert of rule about subject, anchored at what started it: the id of the event that
// breached the rule, or the due time of a deadline (Anchor). It is a UUIDv5, so deciding the same alert
// twice names it the same.
func AlertID(rule kernel.RuleID, subject, anchor string) string {
	return eventlog.DeriveID("alert/"+string(rule)+"/"+subject+"/"+anchor, 0).String()
}

// Anchor is the anchor of a deadline alert: its due time, to the nanosecond, in UTC.
func Anchor(due time.Time) string { return due.UTC().Format(time.RFC3339Nano) }

// DeadlineAnchor anchors the alert of a deadline: its due time, and for a reopened deadline the event
// that reopened it (epoch), so that the alert raised again is not the one a withdrawn notice cleared.
func DeadlineAnchor(due time.Time, epoch string) string {
	if epoch == "" {
		return Anchor(due)
	}
	return Anchor(due) + "/" + epoch
}

// RaiseCommand is the command id recorded in the metadata of the event raising alertID at severity;
// the event id is eventlog.DeriveID(RaiseCommand(…), 0), like any command's first event.
func RaiseCommand(alertID string, s rulebook.Severity) string {
	return "alert:" + alertID + ":raise:" + string(s)
}

// ClearCommand is the command id of the event clearing alertID.
func ClearCommand(alertID string) string { return "alert:" + alertID + ":clear" }

// RaisedEventID is the id of the event raising alertID at severity s.
func RaisedEventID(alertID string, s rulebook.Severity) eventlog.ID {
	return eventlog.DeriveID(RaiseCommand(alertID, s), 0)
}

// ClearedEventID is the id of the event clearing alertID.
func ClearedEventID(alertID string) eventlog.ID { return eventlog.DeriveID(ClearCommand(alertID), 0) }

// CommitteeSubject is the subject of the committee rules (size, full-time share). Subjects of rules
// about a community as a whole are in stream-name form, like the streams of its aggregates.
func CommitteeSubject(c kernel.CommunityID) string {
	return eventlog.StreamName("community", string(c), "committee")
}

// FinanceBoardSubject is the subject of the monthly finance disclosure rhythm.
func FinanceBoardSubject(c kernel.CommunityID) string {
	return eventlog.StreamName("community", string(c), "finance-board")
}

// AffairsBoardSubject is the subject of the quarterly affairs disclosure rhythm.
func AffairsBoardSubject(c kernel.CommunityID) string {
	return eventlog.StreamName("community", string(c), "affairs-board")
}

// ExitAuditSubject is the subject of the exit audit of a member who left the committee.
func ExitAuditSubject(c kernel.CommunityID, person kernel.PersonID) string {
	return "exit-audit-" + string(c) + "-" + string(person)
}

// CadreEvaluationSubject is the subject of the semi-annual democratic evaluation rhythm.
func CadreEvaluationSubject(c kernel.CommunityID) string {
	return eventlog.StreamName("evaluation", string(c), "rhythm")
}

// CadreAuditSubject is the subject of the semi-annual cadre audit rhythm.
func CadreAuditSubject(c kernel.CommunityID) string {
	return eventlog.StreamName("community", string(c), "audits")
}

// AssembliesSubject is the subject of the residents'-meeting check of one half or whole year.
func AssembliesSubject(c kernel.CommunityID, year int, firstHalf bool) string {
	what := fmt.Sprintf("assemblies-%d", year)
	if firstHalf {
		what += "h1"
	}
	return eventlog.StreamName("community", string(c), what)
}

// ResolutionSubject is the subject of the immediate disclosure of a resolution on a major matter.
func ResolutionSubject(c kernel.CommunityID, resolutionID string) string {
	return eventlog.StreamName("resolution", string(c), resolutionID)
}

// Key names a deadline or a condition: one per rule and subject at a time.
type Key struct {
	Rule    kernel.RuleID
	Subject string
}

// Deadline is something that must happen by Due, or an alert is raised.
type Deadline struct {
	Key
	Due time.Time
	// Detail says what is missing once the deadline has passed (Chinese).
	Detail string
}

// Effects is what one recorded event does to the engine's state, decided by Effects (pure).
type Effects struct {
	// Open starts deadlines, each replacing the one with the same key (whose open alert, if any, the fact
	// clears: a new affairs notice both satisfies the old rhythm deadline and starts the next one).
	Open []Deadline
	// Reopen starts deadlines again that a withdrawn notice had met, replacing the pending one with the
	// same key: the alert, raised and cleared perhaps before the notice, is a new one (its anchor carries
	// the withdrawal, DeadlineAnchor).
	Reopen []Deadline
	// OpenIfAbsent starts deadlines only where none is pending for the key (the monthly finance notice is
	// due a month after the first payment it does not yet cover).
	OpenIfAbsent []Deadline
	// Met are deadlines this event satisfies: they end and their alerts clear (FactArrived).
	Met []Key
	// Reschedule moves pending deadlines that were not raised yet (minutes are due after the meeting's
	// close, once it is recorded).
	Reschedule []Deadline
	// Evaluated are the state rules the event checks, with whether it found them broken: broken raises
	// an alert for the key unless one is open; not broken clears it (ConditionEnded).
	Evaluated []Evaluation
	// Breaches are breaches that raise one alert each (anchored at the event) and stay open until a
	// supervisor resolves them or EndsBreach clears them.
	Breaches []Raise
	// Ends are keys of breach alerts this event makes moot (an over-budget expenditure cancelled).
	Ends []Key
	// Assembly is set when the event is a residents' assembly, which clears residents-meeting alerts
	// that were due before it.
	Assembly *time.Time
	// Settled are calendar checks this event puts right: their open alerts clear (FactArrived) — operating
	// funds allocated up to the tier after the year-end check found them short.
	Settled []Key
	// Board is set when a notice of a category with a rhythm (affairs, finance) goes up on the board or
	// comes down: the engine keeps the board's notices, and a withdrawal reopens the rhythm (Reopen).
	Board *Board
}

// Board is a notice with a rhythm put up (Published) or withdrawn.
type Board struct {
	Category  disclosure.Category
	NoticeID  string
	At        time.Time // published or withdrawn at
	Withdrawn bool
	// Paid are the payments a withdrawn finance notice disclosed: the monthly finance rhythm is due again
	// from the first of them that no notice still on the board covers.
	Paid []time.Time
}

// Reopen is the rhythm deadline a withdrawal reopens, given when the withdrawn notice was published and
// the latest notice of its category still on the board (zero: none; for affairs, the community's
// registration then). Nothing when a later notice still meets the rhythm, or a withdrawn finance notice
// disclosed no payment after the latest one left.
func Reopen(c kernel.CommunityID, b Board, published, latest time.Time, p rulebook.Params) (Deadline, bool) {
	if !b.Withdrawn || !latest.Before(published) {
		return Deadline{}, false
	}
	why := fmt.Sprintf("公开事项%s(%s公开)已于%s撤回", b.NoticeID, stamp(published), stamp(b.At))
	switch b.Category {
	case disclosure.Affairs:
		return Deadline{Key{rulebook.DisclosureFrequency, AffairsBoardSubject(c)}, mustNext(disclosure.Affairs, latest, p),
			fmt.Sprintf("%s；须自%s起每%s至少公开一次村(居)务", why, stamp(latest),
				p.Span(rulebook.DisclosureFrequency, rulebook.ParamAffairsEvery).Chinese())}, true
	case disclosure.Finance:
		var first time.Time
		for _, t := range b.Paid {
			if t.After(latest) && (first.IsZero() || t.Before(first)) {
				first = t
			}
		}
		if first.IsZero() {
			return Deadline{}, false
		}
		return Deadline{Key{rulebook.DisclosureFrequency, FinanceBoardSubject(c)}, mustNext(disclosure.Finance, first, p),
			fmt.Sprintf("%s；%s起的支出已无财务公开", why, stamp(first))}, true
	}
	return Deadline{}, false
}

// Evaluation is a state rule checked by an event.
type Evaluation struct {
	Key
	Broken bool
	Detail string
}

// Raise is a breach that raises its own alert.
type Raise struct {
	Key
	Detail string
}

// Recorded is what Effects needs of an event's envelope.
type Recorded struct {
	Community kernel.CommunityID
	Stream    string
}

// stateRules evaluated per event type: an event of the type checks these rules whether it finds them
// broken or not.
func evaluates(e kernel.Event) []kernel.RuleID {
	switch e := e.(type) {
	case community.CommitteeSeated, community.MemberJoined, community.MemberLeft, election.ResultCertified:
		return []kernel.RuleID{rulebook.CommitteeSize, rulebook.FullTimeShare}
	case community.FiguresUpdated:
		return []kernel.RuleID{rulebook.CommitteeSize}
	case worker.Hired, worker.Left:
		return []kernel.RuleID{rulebook.StaffingLimit}
	case funds.BudgetAllocated:
		if e.Category == funds.Operating {
			return []kernel.RuleID{rulebook.OperatingFunds}
		}
	}
	return nil
}

// closesDeadline reports whether a breach of rule on e only says that e — the fact a deadline waited
// for — came late. The deadline's own alert covers it; the breach stays on the event for the audit trail.
func closesDeadline(e kernel.Event, rule kernel.RuleID) bool {
	switch e.(type) {
	case meeting.MinutesRecorded:
		return rule == rulebook.MinutesKept
	case disclosure.Published:
		return rule == rulebook.PaymentDisclosed || rule == rulebook.ResultsDisclosed || rule == rulebook.DisclosureFrequency
	case audit.Opened:
		return rule == rulebook.CadreAudit
	}
	return false
}

// subjectOf is the subject of a breach of rule by an event of stream: the community's committee for the
// committee rules (an election and the profile speak of the same committee), the stream otherwise.
func subjectOf(rule kernel.RuleID, r Recorded) string {
	if rule == rulebook.CommitteeSize || rule == rulebook.FullTimeShare {
		return CommitteeSubject(r.Community)
	}
	return r.Stream
}

// breachSubject is what a breach alert is about: as subjectOf, and for a seal's use or a community's
// received task the use or the task itself (their stream holds many, each breaking the rule on its own).
func breachSubject(rule kernel.RuleID, r Recorded, e kernel.Event) string {
	switch e := e.(type) {
	case seal.Used:
		return SealUseSubject(r.Stream, e.UseID)
	case worklist.TaskReceived:
		return r.Stream + "/task/" + e.RecordID
	}
	return subjectOf(rule, r)
}

// RentSubject is the subject of one installment's rent deadline (n is 1 for the first).
func RentSubject(stream, contractID string, n int) string {
	return fmt.Sprintf("%s/contract/%s/%d", stream, contractID, n)
}

// SealUseSubject is the subject of a breach of one use of a seal.
func SealUseSubject(stream, useID string) string { return stream + "/use/" + useID }

func stamp(t time.Time) string { return t.In(kernel.ChinaTime()).Format("2006-01-02 15:04") }

// EffectsOf decides what event e, recorded on r.Stream for r.Community, does to the engine's state under
// the community's rule parameters p. It is the whole policy of the rules engine apart from the clock.
func EffectsOf(e kernel.Event, r Recorded, p rulebook.Params) Effects {
	var fx Effects
	c := r.Community
	if w, ok := e.(kernel.Watched); ok {
		evaluated := map[kernel.RuleID]bool{}
		for _, rule := range evaluates(e) {
			evaluated[rule] = true
		}
		broken := map[kernel.RuleID]string{}
		for _, b := range w.Breached() {
			switch {
			case closesDeadline(e, b.Rule):
			case evaluated[b.Rule]:
				if _, dup := broken[b.Rule]; !dup {
					broken[b.Rule] = b.Detail
				}
			default:
				fx.Breaches = append(fx.Breaches, Raise{Key: Key{b.Rule, breachSubject(b.Rule, r, e)}, Detail: b.Detail})
			}
		}
		for _, rule := range evaluates(e) {
			d, isBroken := broken[rule]
			fx.Evaluated = append(fx.Evaluated, Evaluation{Key: Key{rule, subjectOf(rule, r)}, Broken: isBroken, Detail: d})
		}
	}
	switch e := e.(type) {
	case community.Registered:
		fx.Open = append(fx.Open,
			Deadline{Key{rulebook.DisclosureFrequency, AffairsBoardSubject(c)}, mustNext(disclosure.Affairs, e.RegisteredAt, p),
				fmt.Sprintf("%s登记后至今未公开村(居)务(应至少每季度公开一次)", stamp(e.RegisteredAt))},
			Deadline{Key{rulebook.CadreAudit, CadreAuditSubject(c)}, p.Due(rulebook.CadreAudit, e.RegisteredAt),
				fmt.Sprintf("%s登记后至今未对干部进行审计(应每%s一次)", stamp(e.RegisteredAt), p.Span(rulebook.CadreAudit, rulebook.ParamEvery).Chinese())})
	case asset.ContractSigned:
		// Every installment of the rent opens its deadline at signing: due, plus rent-collected's grace.
		for i, in := range e.Installments {
			fx.Open = append(fx.Open, Deadline{Key{rulebook.RentCollected, RentSubject(r.Stream, e.ContractID, i+1)}, p.Due(rulebook.RentCollected, in.Due),
				fmt.Sprintf("与%s的合同第%d期租金%s应于%s收取，逾期%s仍未收到", e.Counterparty, i+1, in.Amount, stamp(in.Due),
					p.Span(rulebook.RentCollected, rulebook.ParamWithin).Chinese())})
		}
	case asset.RentReceived:
		fx.Met = append(fx.Met, Key{rulebook.RentCollected, RentSubject(r.Stream, e.ContractID, e.Installment)})
	case community.CommitteeSeated:
		fx.OpenIfAbsent = append(fx.OpenIfAbsent, Deadline{Key{rulebook.CadreEvaluation, CadreEvaluationSubject(c)}, p.Due(rulebook.CadreEvaluation, e.SeatedAt),
			fmt.Sprintf("委员会于%s就任，此后%s内未组织民主评议", stamp(e.SeatedAt), p.Span(rulebook.CadreEvaluation, rulebook.ParamEvery).Chinese())})
	case evaluation.Held:
		fx.Open = append(fx.Open, Deadline{Key{rulebook.CadreEvaluation, CadreEvaluationSubject(c)}, p.Due(rulebook.CadreEvaluation, e.HeldAt),
			fmt.Sprintf("上次民主评议于%s举行，此后%s内未再评议", stamp(e.HeldAt), p.Span(rulebook.CadreEvaluation, rulebook.ParamEvery).Chinese())})
	case rectification.Ordered:
		fx.Open = append(fx.Open, Deadline{Key{rulebook.RectificationDue, r.Stream}, e.Due,
			fmt.Sprintf("%s发现的问题“%s”应于%s前整改并报告，至今未报告", e.Source.Kind.Chinese(), e.Source.Finding, stamp(e.Due))})
	case rectification.Reported:
		fx.Met = append(fx.Met, Key{rulebook.RectificationDue, r.Stream})
	case funds.ExpenditurePaid:
		fx.Open = append(fx.Open, Deadline{Key{rulebook.PaymentDisclosed, r.Stream}, p.Due(rulebook.PaymentDisclosed, e.PaidAt),
			fmt.Sprintf("支出%s(%s)于%s支付，应在%s内上墙公开，至今未公开", e.ExpenditureID, e.Amount, stamp(e.PaidAt),
				p.Span(rulebook.PaymentDisclosed, rulebook.ParamWithin).Chinese())})
		fx.OpenIfAbsent = append(fx.OpenIfAbsent, Deadline{Key{rulebook.DisclosureFrequency, FinanceBoardSubject(c)},
			mustNext(disclosure.Finance, e.PaidAt, p),
			fmt.Sprintf("%s起有支出，财务往来未按月公开", stamp(e.PaidAt))})
	case funds.BudgetAllocated:
		short := false
		for _, b := range e.Breaches {
			short = short || b.Rule == rulebook.OperatingFunds
		}
		if e.Category == funds.Operating && !short {
			fx.Settled = append(fx.Settled, Key{rulebook.OperatingFunds, OperatingFundsSubject(c, e.FiscalYear)})
		}
	case funds.ExpenditureCancelled:
		fx.Ends = append(fx.Ends, Key{rulebook.BudgetBalance, r.Stream})
	case funds.ExpenditureRejected:
		fx.Ends = append(fx.Ends, Key{rulebook.BudgetBalance, r.Stream})
	case election.ResultCertified:
		fx.Open = append(fx.Open, Deadline{Key{rulebook.ResultsDisclosed, r.Stream}, p.Due(rulebook.ResultsDisclosed, e.CertifiedAt),
			fmt.Sprintf("选举%s的结果于%s确认，应在%s内公开，至今未公开", e.ElectionID, stamp(e.CertifiedAt),
				p.Span(rulebook.ResultsDisclosed, rulebook.ParamWithin).Chinese())})
	case disclosure.ObjectionRaised:
		fx.Open = append(fx.Open, objectionDeadline(r.Stream, e.ObjectionID, "公开事项"+e.NoticeID, e.RaisedAt, p))
	case disclosure.ObjectionAnswered:
		fx.Met = append(fx.Met, Key{rulebook.ObjectionAnswered, ObjectionSubject(r.Stream, e.ObjectionID)})
	case election.ObjectionRaised:
		fx.Open = append(fx.Open, objectionDeadline(r.Stream, e.ObjectionID, "选举"+e.ElectionID, e.RaisedAt, p))
	case election.ObjectionAnswered:
		fx.Met = append(fx.Met, Key{rulebook.ObjectionAnswered, ObjectionSubject(r.Stream, e.ObjectionID)})
	case community.MemberLeft:
		if e.Reason != community.Deceased {
			fx.Open = append(fx.Open, Deadline{Key{rulebook.ExitAudit, ExitAuditSubject(c, e.Person)}, p.Due(rulebook.ExitAudit, e.LeftAt),
				fmt.Sprintf("委员%s于%s离任(%s)，应在%s内进行离任审计，至今未开始", e.Person, stamp(e.LeftAt), e.Reason.Chinese(),
					p.Span(rulebook.ExitAudit, rulebook.ParamWithin).Chinese())})
		}
	case audit.Opened:
		if e.Kind == audit.Exit && e.Subject != "" {
			fx.Met = append(fx.Met, Key{rulebook.ExitAudit, ExitAuditSubject(c, e.Subject)})
		}
		fx.Open = append(fx.Open, Deadline{Key{rulebook.CadreAudit, CadreAuditSubject(c)}, p.Due(rulebook.CadreAudit, e.OpenedAt),
			fmt.Sprintf("上次审计于%s开始，此后%s内未再审计", stamp(e.OpenedAt), p.Span(rulebook.CadreAudit, rulebook.ParamEvery).Chinese())})
	case audit.Closed:
		fx.Open = append(fx.Open, Deadline{Key{rulebook.ResultsDisclosed, r.Stream}, p.Due(rulebook.ResultsDisclosed, e.ClosedAt),
			fmt.Sprintf("审计%s于%s结束，结果应在%s内公开，至今未公开", e.AuditID, stamp(e.ClosedAt),
				p.Span(rulebook.ResultsDisclosed, rulebook.ParamWithin).Chinese())})
	case meeting.Convened:
		fx.Open = append(fx.Open, minutesDeadline(r.Stream, e.MeetingID, e.HeldAt, p))
		if e.Kind == meeting.Assembly {
			at := e.HeldAt
			fx.Assembly = &at
		}
	case meeting.Closed:
		fx.Reschedule = append(fx.Reschedule, minutesDeadline(r.Stream, e.MeetingID, e.ClosedAt, p))
	case meeting.MinutesRecorded:
		fx.Met = append(fx.Met, Key{rulebook.MinutesKept, r.Stream})
	case meeting.ResolutionAdopted:
		if e.Subject != meeting.OtherSubject {
			fx.Open = append(fx.Open, Deadline{Key{rulebook.DisclosureFrequency, ResolutionSubject(c, e.ResolutionID)},
				p.Due(rulebook.DisclosureFrequency, e.AdoptedAt),
				fmt.Sprintf("重大事项决议%s于%s通过，应在%s内公开，至今未公开", e.ResolutionID, stamp(e.AdoptedAt),
					p.Span(rulebook.DisclosureFrequency, rulebook.ParamMajorWithin).Chinese())})
		}
	case disclosure.Withdrawn:
		// A withdrawn notice no longer discloses what it disclosed: each deadline it met is open again,
		// due when it was due (so an overdue one is raised at once), until another notice meets it.
		why := fmt.Sprintf("公开事项%s已于%s撤回", e.NoticeID, stamp(e.WithdrawnAt))
		if e.Category == disclosure.Affairs || e.Category == disclosure.Finance {
			fx.Board = &Board{Category: e.Category, NoticeID: e.NoticeID, At: e.WithdrawnAt, Withdrawn: true}
			for _, ref := range e.Refs {
				if ref.Kind == disclosure.RefPayment {
					fx.Board.Paid = append(fx.Board.Paid, ref.OccurredAt)
				}
			}
		}
		for _, ref := range e.Refs {
			switch ref.Kind {
			case disclosure.RefPayment:
				fx.Reopen = append(fx.Reopen, Deadline{Key{rulebook.PaymentDisclosed, funds.ExpenditureStream(c, ref.ID)},
					p.Due(rulebook.PaymentDisclosed, ref.OccurredAt),
					fmt.Sprintf("支出%s于%s支付，%s，须重新公开", ref.ID, stamp(ref.OccurredAt), why)})
			case disclosure.RefElection:
				fx.Reopen = append(fx.Reopen, Deadline{Key{rulebook.ResultsDisclosed, election.Stream(c, ref.ID)},
					p.Due(rulebook.ResultsDisclosed, ref.OccurredAt),
					fmt.Sprintf("选举%s的结果于%s确认，%s，须重新公开", ref.ID, stamp(ref.OccurredAt), why)})
			case disclosure.RefAudit:
				fx.Reopen = append(fx.Reopen, Deadline{Key{rulebook.ResultsDisclosed, audit.Stream(c, ref.ID)},
					p.Due(rulebook.ResultsDisclosed, ref.OccurredAt),
					fmt.Sprintf("审计%s的结果于%s作出，%s，须重新公开", ref.ID, stamp(ref.OccurredAt), why)})
			case disclosure.RefResolution:
				fx.Reopen = append(fx.Reopen, Deadline{Key{rulebook.DisclosureFrequency, ResolutionSubject(c, ref.ID)},
					p.Due(rulebook.DisclosureFrequency, ref.OccurredAt),
					fmt.Sprintf("重大事项决议%s于%s通过，%s，须重新公开", ref.ID, stamp(ref.OccurredAt), why)})
			}
		}
	case disclosure.Published:
		for _, ref := range e.Refs {
			switch ref.Kind {
			case disclosure.RefPayment:
				fx.Met = append(fx.Met, Key{rulebook.PaymentDisclosed, funds.ExpenditureStream(c, ref.ID)})
			case disclosure.RefElection:
				fx.Met = append(fx.Met, Key{rulebook.ResultsDisclosed, election.Stream(c, ref.ID)})
			case disclosure.RefAudit:
				fx.Met = append(fx.Met, Key{rulebook.ResultsDisclosed, audit.Stream(c, ref.ID)})
			case disclosure.RefResolution:
				fx.Met = append(fx.Met, Key{rulebook.DisclosureFrequency, ResolutionSubject(c, ref.ID)})
			}
		}
		if e.Category == disclosure.Affairs || e.Category == disclosure.Finance {
			fx.Board = &Board{Category: e.Category, NoticeID: e.NoticeID, At: e.PublishedAt}
		}
		switch e.Category {
		case disclosure.Finance:
			fx.Met = append(fx.Met, Key{rulebook.DisclosureFrequency, FinanceBoardSubject(c)})
		case disclosure.Affairs:
			fx.Open = append(fx.Open, Deadline{Key{rulebook.DisclosureFrequency, AffairsBoardSubject(c)},
				mustNext(disclosure.Affairs, e.PublishedAt, p),
				fmt.Sprintf("上次村(居)务公开于%s，此后%s内未再公开", stamp(e.PublishedAt),
					p.Span(rulebook.DisclosureFrequency, rulebook.ParamAffairsEvery).Chinese())})
		}
	}
	return fx
}

// ObjectionSubject is the subject of one objection's answer deadline.
func ObjectionSubject(stream, objectionID string) string { return stream + "/objection/" + objectionID }

func objectionDeadline(stream, objectionID, what string, raised time.Time, p rulebook.Params) Deadline {
	return Deadline{Key{rulebook.ObjectionAnswered, ObjectionSubject(stream, objectionID)}, p.Due(rulebook.ObjectionAnswered, raised),
		fmt.Sprintf("居民于%s对%s提出异议(%s)，应在%s内答复，至今未答复", stamp(raised), what, objectionID,
			p.Span(rulebook.ObjectionAnswered, rulebook.ParamWithin).Chinese())}
}

func minutesDeadline(stream, meetingID string, end time.Time, p rulebook.Params) Deadline {
	return Deadline{Key{rulebook.MinutesKept, stream}, p.Due(rulebook.MinutesKept, end),
		fmt.Sprintf("会议%s于%s结束，应在%s内留存会议记录，至今未登记", meetingID, stamp(end),
			p.Span(rulebook.MinutesKept, rulebook.ParamWithin).Chinese())}
}

func mustNext(c disclosure.Category, prev time.Time, p rulebook.Params) time.Time {
	due, ok := disclosure.NextDue(c, prev, p)
	if !ok {
		panic("supervision: no disclosure rhythm for category " + string(c))
	}
	return due
}

// Checkpoint is a moment the residents'-meeting rule is checked (每年年初、年末至少各召开一次): on
// 1 July (China time) for the first half of the year, on 1 January for the whole year before.
type Checkpoint struct {
	At        time.Time
	Year      int
	FirstHalf bool
}

// Subject is the checkpoint's alert subject for community c.
func (k Checkpoint) Subject(c kernel.CommunityID) string {
	return AssembliesSubject(c, k.Year, k.FirstHalf)
}

// PeriodStart is the start of the period the checkpoint checks: 1 January of its year.
func (k Checkpoint) PeriodStart() time.Time {
	return time.Date(k.Year, time.January, 1, 0, 0, 0, 0, kernel.ChinaTime())
}

// Checkpoints lists the residents'-meeting checkpoints in (after, upTo], oldest first.
func Checkpoints(after, upTo time.Time) []Checkpoint {
	loc := kernel.ChinaTime()
	var out []Checkpoint
	for y := after.In(loc).Year(); y <= upTo.In(loc).Year()+1; y++ {
		for _, k := range []Checkpoint{
			{At: time.Date(y, time.January, 1, 0, 0, 0, 0, loc), Year: y - 1},
			{At: time.Date(y, time.July, 1, 0, 0, 0, 0, loc), Year: y, FirstHalf: true},
		} {
			if k.At.After(after) && !k.At.After(upTo) {
				k.At = k.At.UTC()
				out = append(out, k)
			}
		}
	}
	return out
}

// CheckAssemblies evaluates the residents'-meeting rule at checkpoint k for an urban community whose
// assemblies were held at held: the breach the checkpoint finds, or nil.
func CheckAssemblies(k Checkpoint, kind kernel.CommunityKind, held []time.Time, p rulebook.Params) *kernel.Breach {
	return meeting.CheckResidentsMeetingsIn(kind, k.Year, k.FirstHalf, held, k.At, p)
}

// OperatingFundsSubject is the subject of a community's year-end operating-funds check.
func OperatingFundsSubject(c kernel.CommunityID, year int) string {
	return fmt.Sprintf("operating-funds-%s-%d", c, year)
}

// CheckOperatingFunds is the year-end check of operating-funds (社区工作经费): a community allocated less
// than its household tier's operating funds for the fiscal year that ended — nothing included — breaks it.
func CheckOperatingFunds(year, households int, allocated kernel.Fen, p rulebook.Params) *kernel.Breach {
	need := p.OperatingFundsRequired(households)
	if allocated >= need {
		return nil
	}
	return &kernel.Breach{Rule: rulebook.OperatingFunds, Detail: fmt.Sprintf("%d年度工作经费仅拨付%s，按%d户应不少于%s", year, allocated, households, need)}
}

// Rating of a community (红黄绿三色预警).
type Rating string

const (
	Green  Rating = "green"
	Yellow Rating = "yellow"
	Red    Rating = "red"
)

// Rate is the rating rule of DOMAIN.md: red if the community has an open red alert, yellow if it has
// an open yellow one, green otherwise.
func Rate(openRed, openYellow int) Rating {
	switch {
	case openRed > 0:
		return Red
	case openYellow > 0:
		return Yellow
	}
	return Green
}

// Worse reports whether severity a is worse than b (red is worse than yellow).
func Worse(a, b rulebook.Severity) bool { return a == rulebook.Red && b != rulebook.Red }
