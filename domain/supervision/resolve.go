package supervision

import (
	"strings"
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// AlertState is an alert as a supervisor's resolution sees it: where it is and whether it is still open.
// Open is false once a clear was recorded or decided (a clear waiting to be appended counts: the alert
// is already as good as cleared, and two clears of one alert would share one event id).
type AlertState struct {
	ID           string
	Rule         kernel.RuleID
	Community    kernel.CommunityID
	Jurisdiction kernel.JurisdictionPath
	Subject      string
	Open         bool
}

// Errors of resolving an alert.
var (
	ErrAlreadyCleared = kernel.Conflict("alert-already-cleared", "这条预警已经解除")
	ErrReasonRequired = kernel.Invalid("required", "reason", "解除预警须写明理由")
)

// CheckReason refuses a resolution without a reason (解除预警须写明理由) and returns the reason trimmed.
func CheckReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if kernel.Blank(reason) {
		return "", ErrReasonRequired
	}
	return reason, nil
}

// Resolve closes an open alert on a supervisor's word (ResolvedBySupervisor), for breaches no later
// fact can undo: by is the supervisor ("supervisor:<subject>"), reason what they found.
func Resolve(a AlertState, by, reason string, now time.Time) ([]kernel.Event, error) {
	reason, err := CheckReason(reason)
	if err != nil {
		return nil, err
	}
	if !a.Open {
		return nil, ErrAlreadyCleared
	}
	return []kernel.Event{AlertCleared{AlertID: a.ID, Rule: a.Rule, Community: a.Community, Jurisdiction: a.Jurisdiction,
		Subject: a.Subject, Reason: ResolvedBySupervisor, Detail: reason, By: by, ClearedAt: now.UTC()}}, nil
}
