// Package supervision is the supervision side of the rulebook (督查预警): the alerts the ledger raises by
// itself when a watch rule is breached or a deadline passes, and the red/yellow/green rating of a
// community that follows from its open alerts (红黄绿三色预警).
//
// Alerts are events like any other fact, so that they are replayable, auditable and never doubled
// (DESIGN.md decision 7). They live in one stream per district, alerts-<district code> (see District), and
// carry ids derived from what they are about (see AlertID, RaisedEventID, ClearedEventID): the same alert
// decided twice — after a restart, in a replay — has the same id. The package also holds the engine's
// policy as pure functions: which rule an event breaks or satisfies, and how an alert is named.
package supervision

import (
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// Trigger says what raised an alert.
type Trigger string

const (
	// ByBreach: an event was recorded with a breach of a watch rule (kernel.Breach).
	ByBreach Trigger = "breach"
	// ByDeadline: something that had to happen by DueAt did not (a disclosure, minutes, an audit).
	ByDeadline Trigger = "deadline"
	// ByCalendar: a periodic check at DueAt found too few of something (residents' meetings in a year).
	ByCalendar Trigger = "calendar"
)

// Valid reports whether t is a known trigger.
func (t Trigger) Valid() bool { return t == ByBreach || t == ByDeadline || t == ByCalendar }

// Source names the recorded event an alert is about or was cleared by.
type Source struct {
	EventID string `json:"event_id"`
	Stream  string `json:"stream"`
	Type    string `json:"type"`
}

// AlertRaised records that a community broke a watch rule, or missed a deadline, as the engine saw it
// at RaisedAt. The same AlertID raised again with a higher severity is an escalation: a missing
// disclosure is yellow when due and turns red once it is older than the rule's red-after span.
type AlertRaised struct {
	// AlertID identifies the alert across its raise, escalation and clearing (AlertID()).
	AlertID string `json:"alert_id"`
	// Rule is the rulebook rule broken.
	Rule kernel.RuleID `json:"rule"`
	// Severity colours the alert for the rating; the rulebook decides it per rule.
	Severity rulebook.Severity `json:"severity"`
	// Community is the community concerned; Jurisdiction its full path.
	Community    kernel.CommunityID      `json:"community_id"`
	Jurisdiction kernel.JurisdictionPath `json:"jurisdiction"`
	// Subject is what the alert is about, in stream-name form: the aggregate's stream
	// ("expenditure-330303001001-2026-0042"), or "<community-level thing>-<community>-<what>" for rules
	// about the community as a whole ("community-330303001001-committee", "board-…-affairs").
	Subject string  `json:"subject"`
	Trigger Trigger `json:"trigger"`
	// Detail says what is wrong, for the supervisor (Chinese).
	Detail string `json:"detail"`
	// DueAt is when the missing fact was due (deadline and calendar alerts).
	DueAt *time.Time `json:"due_at,omitempty"`
	// Source is the event that breached the rule or started the deadline, when there is one.
	Source   *Source   `json:"source,omitempty"`
	RaisedAt time.Time `json:"raised_at"`
}

func (AlertRaised) EventName() string  { return "supervision.alert-raised" }
func (AlertRaised) SchemaVersion() int { return 1 }

// ClearReason says why an alert was cleared.
type ClearReason string

const (
	// FactArrived: the missing fact was recorded (the disclosure, the minutes, the audit, the meeting).
	FactArrived ClearReason = "fact-arrived"
	// ConditionEnded: a later event shows the rule is no longer broken (the committee is back in size,
	// the year's operating funds reached the tier, the over-budget expenditure was cancelled).
	ConditionEnded ClearReason = "condition-ended"
	// ResolvedBySupervisor: a supervisor closed the alert with a reason (By, Detail), for breaches no
	// later fact can undo (a payment made without a resolution, a vote held without publicity).
	ResolvedBySupervisor ClearReason = "resolved-by-supervisor"
)

// Valid reports whether r is a known reason.
func (r ClearReason) Valid() bool {
	return r == FactArrived || r == ConditionEnded || r == ResolvedBySupervisor
}

// AlertCleared records that an open alert no longer holds.
type AlertCleared struct {
	AlertID      string                  `json:"alert_id"`
	Rule         kernel.RuleID           `json:"rule"`
	Community    kernel.CommunityID      `json:"community_id"`
	Jurisdiction kernel.JurisdictionPath `json:"jurisdiction"`
	Subject      string                  `json:"subject"`
	Reason       ClearReason             `json:"reason"`
	// Detail says what cleared it (Chinese); for a supervisor's resolution, their reason.
	Detail string `json:"detail"`
	// Source is the event that cleared the alert, when an event did.
	Source *Source `json:"source,omitempty"`
	// By is the supervisor who resolved the alert ("supervisor:<subject>"), for ResolvedBySupervisor.
	By        string    `json:"by,omitempty"`
	ClearedAt time.Time `json:"cleared_at"`
}

func (AlertCleared) EventName() string  { return "supervision.alert-cleared" }
func (AlertCleared) SchemaVersion() int { return 1 }

// PoisonEventSkipped records that an operator moved a halted read model past an event it could not
// apply (ledger projections skip): which model, which event, why and who. The model goes on after it;
// the event stays in the history, and in rm_meta.poison_events with the policy "skipped".
type PoisonEventSkipped struct {
	Model     string    `json:"model"`
	Position  string    `json:"position"`
	EventID   string    `json:"event_id"`
	EventType string    `json:"event_type"`
	Stream    string    `json:"stream"`
	Reason    string    `json:"reason"`
	By        string    `json:"by"`
	SkippedAt time.Time `json:"skipped_at"`
}

func (PoisonEventSkipped) EventName() string  { return "supervision.poison-event-skipped" }
func (PoisonEventSkipped) SchemaVersion() int { return 1 }

// OperationsStream is the stream of an operator's decisions about a read model.
func OperationsStream(model string) string { return "operations-ledger-" + model }

// RegisterEvents adds the package's events to r.
func RegisterEvents(r *kernel.Registry) error {
	return kernel.RegisterAll(r, kernel.Register[AlertRaised], kernel.Register[PoisonEventSkipped], kernel.Register[AlertCleared])
}
