package kernel

import "time"

// Event is a fact that happened in a community's governance, in the past tense.
//
// EventName returns the permanent wire name ("funds.expenditure-approved"). It
// is written into the store and must never change, and it is never derived
// from the Go type name: renaming a struct must not break replay. A change of
// meaning is a new event name, not a new version.
//
// SchemaVersion is the version of the payload shape the Go struct encodes. The
// Go struct is always the latest version; older payloads are upcast on decode
// (see Registry).
//
// Events are value types (structs with value receivers). Commands return them
// as values and Registry.Decode returns them as values, so an aggregate's
// Apply switches on the value types.
type Event interface {
	EventName() string
	SchemaVersion() int
}

// RuleID is the stable code of a rule of the rulebook ("candidate-residence").
// The rulebook package defines the known ones.
type RuleID string

// Breach records that a watch rule was broken by the fact an event records.
// The ledger records what happened even when it breaks a rule; the alert
// engine raises an alert for every breach it finds on an event. Severity is
// not stored: it is resolved from the community's rulebook by the engine.
type Breach struct {
	Rule   RuleID `json:"rule"`
	Detail string `json:"detail"`
}

// Watch is embedded in events that a watch rule can concern. Its breaches are
// serialised flat on the event as "breaches" and omitted when there are none,
// so an event without a breach reads as a normal event.
type Watch struct {
	Breaches []Breach `json:"breaches,omitempty"`
}

// Breached returns the watch-rule breaches the event carries.
func (w Watch) Breached() []Breach { return w.Breaches }

// Watched is implemented by every event that embeds Watch. The alert engine
// asks any event for it with a type assertion on this interface.
type Watched interface {
	Event
	Breached() []Breach
}

// Breaches collects breaches while a command decides; nil breaches are
// skipped, so checks can return *Breach and be appended unconditionally.
func Breaches(bs ...*Breach) []Breach {
	var out []Breach
	for _, b := range bs {
		if b != nil {
			out = append(out, *b)
		}
	}
	return out
}

// PersonalData is the only place where an event carries data about a natural
// person beyond the opaque PersonID: name, national ID number, phone, home
// address. It always appears in JSON under a key named "personal" (or inside a
// list under such a key) and names its Subject, so that a later layer can
// encrypt each such object with the subject's key (crypto-shredding) without
// touching the rest of the event. Never log it; the public sees at most a
// masked name (see MaskName, MaskNationalID).
//
// As stored, the object is sealed (see infra/keys): the clear fields are encrypted with the subject's
// data key and only Subject, Key and Sealed remain. Read back, it is clear again on the paths that may
// see personal data (auditors, the models that keep masked names), or Erased when the subject's key has
// been destroyed on a lawful request (crypto-shredding); everywhere else it stays sealed.
type PersonalData struct {
	Subject    PersonID `json:"subject"`
	Name       string   `json:"name,omitempty"`
	NationalID string   `json:"national_id,omitempty"`
	Phone      string   `json:"phone,omitempty"`
	Address    string   `json:"address,omitempty"`
	// Key names the data key the object is sealed with, and Sealed is the ciphertext of the clear
	// fields (base64 of nonce and AES-256-GCM output); both empty when the object is clear.
	Key    string `json:"key,omitempty"`
	Sealed string `json:"sealed,omitempty"`
	// Erased is set on read, never stored: the subject's key was destroyed, the data is gone for good.
	Erased bool `json:"erased,omitempty"`
}

// IsSealed reports whether the object is encrypted (as stored) rather than clear or erased.
func (p PersonalData) IsSealed() bool { return p.Sealed != "" }

// ErasedText is what a Chinese output shows in place of personal data whose subject was erased.
const ErasedText = "（已依法删除）"

// Rehydrate applies history, oldest first, to a fresh aggregate and returns it.
// Apply never fails, so neither does Rehydrate: an event the aggregate does not
// know is ignored.
func Rehydrate[A interface{ Apply(Event) }](a A, history []Event) A {
	for _, e := range history {
		a.Apply(e)
	}
	return a
}

// ClockSkew is how far ahead of the ledger's clock a clerk's device may be: a
// time that much in the future is taken as now.
const ClockSkew = 2 * time.Minute

// At returns when a fact happened: the given time in UTC, or now when it is
// zero or ahead of now by no more than ClockSkew. A time further ahead is an
// Invalid error naming field: the ledger records facts, not plans.
func At(at, now time.Time, field string) (time.Time, error) {
	switch {
	case at.IsZero():
		return now.UTC(), nil
	case at.After(now.Add(ClockSkew)):
		return time.Time{}, Invalid("time-in-future", field, "时间不能晚于当前时间")
	case at.After(now):
		return now.UTC(), nil
	}
	return at.UTC(), nil
}

// ChinaTime is the zone in which calendar rules (a year, a quarter, a month)
// are counted: UTC+8 without daylight saving, built in memory so that the
// domain reads no time-zone database. It is made once: a Location is never
// changed, and making one for every date formatted was 1 % of a rebuild's CPU.
func ChinaTime() *time.Location { return chinaTime }

var chinaTime = time.FixedZone("CST", 8*3600)
