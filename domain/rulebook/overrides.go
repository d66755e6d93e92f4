package rulebook

import (
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// OverrideSet records that a jurisdiction set a rule parameter for itself
// and everything under it. Value is in canonical text form (see ParamType).
type OverrideSet struct {
	Jurisdiction kernel.JurisdictionPath `json:"jurisdiction"`
	Rule         kernel.RuleID           `json:"rule"`
	Param        string                  `json:"parameter"`
	Value        string                  `json:"value"`
	Reason       string                  `json:"reason"`
	By           kernel.PersonID         `json:"by"`
	SetAt        time.Time               `json:"set_at"`
}

func (OverrideSet) EventName() string  { return "rulebook.override-set" }
func (OverrideSet) SchemaVersion() int { return 1 }

// OverrideRemoved records that a jurisdiction went back to the value it
// inherits for a rule parameter.
type OverrideRemoved struct {
	Jurisdiction kernel.JurisdictionPath `json:"jurisdiction"`
	Rule         kernel.RuleID           `json:"rule"`
	Param        string                  `json:"parameter"`
	Reason       string                  `json:"reason"`
	By           kernel.PersonID         `json:"by"`
	RemovedAt    time.Time               `json:"removed_at"`
}

func (OverrideRemoved) EventName() string  { return "rulebook.override-removed" }
func (OverrideRemoved) SchemaVersion() int { return 1 }

// RegisterEvents adds the rulebook's events to r.
func RegisterEvents(r *kernel.Registry) error {
	return kernel.RegisterAll(r, kernel.Register[OverrideSet], kernel.Register[OverrideRemoved])
}

// Overrides is the aggregate of one jurisdiction's rule overrides; its stream
// is one per jurisdiction path. The zero value is an empty jurisdiction.
type Overrides struct {
	path     kernel.JurisdictionPath
	settings map[key]string
}

// OverridesStream is the stream of the rule overrides a jurisdiction (or community) set for itself,
// rulebook-<code>-overrides, <code> being the last segment of its path.
func OverridesStream(path kernel.JurisdictionPath) string {
	return eventlog.StreamName("rulebook", path.Last(), "overrides")
}

// RehydrateOverrides rebuilds a jurisdiction's overrides from its history.
func RehydrateOverrides(history []kernel.Event) *Overrides {
	return kernel.Rehydrate(&Overrides{}, history)
}

// Apply changes state only.
func (o *Overrides) Apply(e kernel.Event) {
	if o.settings == nil {
		o.settings = map[key]string{}
	}
	switch e := e.(type) {
	case OverrideSet:
		o.path = e.Jurisdiction
		o.settings[key{e.Rule, e.Param}] = e.Value
	case OverrideRemoved:
		o.path = e.Jurisdiction
		delete(o.settings, key{e.Rule, e.Param})
	}
}

// Value returns the jurisdiction's own override of a parameter, if any.
func (o *Overrides) Value(rule kernel.RuleID, param string) (string, bool) {
	v, ok := o.settings[key{rule, param}]
	return v, ok
}

// SetOverride is the command to override a rule parameter on a jurisdiction.
type SetOverride struct {
	Jurisdiction kernel.JurisdictionPath
	Rule         kernel.RuleID
	Param        string
	Value        string
	Reason       string
	By           kernel.PersonID
}

// Errors of the overrides aggregate (the validation errors are ErrUnknownRule,
// ErrUnknownParam and ErrInvalidValue).
var (
	ErrJurisdictionMismatch = kernel.Invalid("jurisdiction-mismatch", "jurisdiction", "该规则覆盖属于另一个辖区")
	ErrOverrideNotFound     = kernel.NotFound("override-not-found", "该辖区没有覆盖这个规则参数")
)

// Set overrides a parameter. Setting the value already in force yields no
// event, so a retried command is harmless.
func (o *Overrides) Set(cmd SetOverride, now time.Time) ([]kernel.Event, error) {
	if err := o.checkPath(cmd.Jurisdiction); err != nil {
		return nil, err
	}
	canon, err := Validate(cmd.Rule, cmd.Param, cmd.Value)
	if err != nil {
		return nil, err
	}
	if err := kernel.Required(cmd.Reason, "reason", "覆盖理由"); err != nil {
		return nil, err
	}
	if cur, ok := o.settings[key{cmd.Rule, cmd.Param}]; ok && cur == canon {
		return nil, nil
	}
	return []kernel.Event{OverrideSet{
		Jurisdiction: cmd.Jurisdiction, Rule: cmd.Rule, Param: cmd.Param, Value: canon,
		Reason: cmd.Reason, By: cmd.By, SetAt: now.UTC(),
	}}, nil
}

// Remove drops an override, so the jurisdiction inherits the value again.
func (o *Overrides) Remove(path kernel.JurisdictionPath, rule kernel.RuleID, param, reason string, by kernel.PersonID, now time.Time) ([]kernel.Event, error) {
	if err := o.checkPath(path); err != nil {
		return nil, err
	}
	if _, ok := o.settings[key{rule, param}]; !ok {
		return nil, ErrOverrideNotFound
	}
	if err := kernel.Required(reason, "reason", "撤销理由"); err != nil {
		return nil, err
	}
	return []kernel.Event{OverrideRemoved{
		Jurisdiction: path, Rule: rule, Param: param, Reason: reason, By: by, RemovedAt: now.UTC(),
	}}, nil
}

func (o *Overrides) checkPath(p kernel.JurisdictionPath) error {
	if err := p.Validate("jurisdiction"); err != nil {
		return err
	}
	if o.path != "" && o.path != p {
		return ErrJurisdictionMismatch
	}
	return nil
}
