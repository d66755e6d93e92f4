package rulebook

import (
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
)

type key struct {
	rule  kernel.RuleID
	param string
}

// Rulebook is the default rules plus the overrides set on jurisdictions. It
// is built by applying rulebook.override-set/-removed events of every
// jurisdiction (in any order across jurisdictions, in stream order within
// one) and resolves the effective parameters of a community with For.
// New returns the defaults; the zero value works too (it starts from the
// defaults on first use).
type Rulebook struct {
	rules     map[kernel.RuleID]Rule
	defaults  map[key]string
	overrides map[kernel.JurisdictionPath]map[key]string
}

// New returns the default rulebook without overrides.
func New() *Rulebook {
	rb := &Rulebook{}
	rb.init()
	return rb
}

func (rb *Rulebook) init() {
	if rb.rules != nil {
		return
	}
	rb.rules = map[kernel.RuleID]Rule{}
	rb.defaults = map[key]string{}
	rb.overrides = map[kernel.JurisdictionPath]map[key]string{}
	for _, r := range Rules() {
		rb.rules[r.ID] = r
		for _, p := range r.Params {
			rb.defaults[key{r.ID, p.Name}] = p.Default
		}
	}
}

// Rules lists the rules in the order of DOMAIN.md.
func (rb *Rulebook) Rules() []Rule { return Rules() }

// Rule returns a rule by ID.
func (rb *Rulebook) Rule(id kernel.RuleID) (Rule, bool) {
	rb.init()
	r, ok := rb.rules[id]
	return r, ok
}

// Apply folds an override event into the rulebook; other events are ignored.
// A stored value that no longer validates (it cannot happen unless history
// was written by a different binary) is ignored rather than failing replay.
func (rb *Rulebook) Apply(e kernel.Event) {
	switch e := e.(type) {
	case OverrideSet:
		_ = rb.Set(e.Jurisdiction, e.Rule, e.Param, e.Value)
	case OverrideRemoved:
		rb.init()
		delete(rb.overrides[e.Jurisdiction], key{e.Rule, e.Param})
	}
}

// Set overrides a parameter on a jurisdiction after validating it; it is
// what Apply does for rulebook.override-set, exposed for read models.
func (rb *Rulebook) Set(path kernel.JurisdictionPath, rule kernel.RuleID, param, value string) error {
	canon, err := Validate(rule, param, value)
	if err != nil {
		return err
	}
	rb.init()
	m := rb.overrides[path]
	if m == nil {
		m = map[key]string{}
		rb.overrides[path] = m
	}
	m[key{rule, param}] = canon
	return nil
}

// For resolves the effective parameters of a community (or any node) at
// path: defaults, then the overrides of each ancestor from the root down, so
// the most specific override wins.
func (rb *Rulebook) For(path kernel.JurisdictionPath) Params {
	rb.init()
	values := maps.Clone(rb.defaults)
	for _, a := range path.Ancestors() {
		maps.Copy(values, rb.overrides[a])
	}
	return Params{path: path, values: values}
}

// Validate checks an override: the rule and parameter must exist and the
// value must parse as the parameter's type. It returns the value in its
// canonical text form. Errors are kernel Invalid errors naming the field
// ("rule", "parameter" or "value").
func Validate(rule kernel.RuleID, param, value string) (string, error) {
	r, ok := ruleByID(rule)
	if !ok {
		return "", ErrUnknownRule.WithMsg("规则 %q 不存在", rule)
	}
	p, ok := r.Param(param)
	if !ok {
		return "", ErrUnknownParam.WithMsg("规则 %q 没有参数 %q", rule, param)
	}
	canon, err := parseValue(p.Type, value)
	if err != nil {
		return "", ErrInvalidValue.WithMsg("规则 %q 的参数 %q 取值 %q 不正确(%v)", rule, param, value, err)
	}
	return canon, nil
}

// Override errors.
var (
	ErrUnknownRule  = kernel.Invalid("unknown-rule", "rule", "规则不存在")
	ErrUnknownParam = kernel.Invalid("unknown-rule-parameter", "parameter", "规则参数不存在")
	ErrInvalidValue = kernel.Invalid("invalid-rule-value", "value", "规则参数取值不正确")
)

// Params are the effective rule parameters for one community. Commands that
// check rules take Params resolved by the handler (Rulebook.For). The zero
// value holds the defaults.
type Params struct {
	path   kernel.JurisdictionPath
	values map[key]string
}

// Defaults returns the default parameters, for communities without overrides
// and for tests.
func Defaults() Params { return New().For("") }

// Path is the jurisdiction the parameters were resolved for.
func (p Params) Path() kernel.JurisdictionPath { return p.path }

// With returns a copy with one parameter changed, validated as an override.
func (p Params) With(rule kernel.RuleID, param, value string) (Params, error) {
	canon, err := Validate(rule, param, value)
	if err != nil {
		return p, err
	}
	if p.values == nil {
		p = Defaults()
	}
	p.values = maps.Clone(p.values)
	p.values[key{rule, param}] = canon
	return p, nil
}

// Value returns a parameter's effective value in text form. It panics on a
// rule or parameter that does not exist: that is a programming error.
func (p Params) Value(rule kernel.RuleID, param string) string {
	if v, ok := p.values[key{rule, param}]; ok {
		return v
	}
	r, ok := ruleByID(rule)
	if !ok {
		panic(fmt.Sprintf("rulebook: unknown rule %q", rule))
	}
	d, ok := r.Param(param)
	if !ok {
		panic(fmt.Sprintf("rulebook: rule %q has no parameter %q", rule, param))
	}
	return d.Default
}

// Span returns a span parameter.
func (p Params) Span(rule kernel.RuleID, param string) Span {
	s, err := ParseSpan(p.Value(rule, param))
	if err != nil {
		panic(fmt.Sprintf("rulebook: %s/%s: %v", rule, param, err))
	}
	return s
}

// Threshold returns a threshold parameter.
func (p Params) Threshold(rule kernel.RuleID, param string) Threshold {
	t, err := ParseThreshold(p.Value(rule, param))
	if err != nil {
		panic(fmt.Sprintf("rulebook: %s/%s: %v", rule, param, err))
	}
	return t
}

// On returns a switch parameter.
func (p Params) On(rule kernel.RuleID, param string) bool { return p.Value(rule, param) == "on" }

// Count returns a count parameter.
func (p Params) Count(rule kernel.RuleID, param string) int {
	n, err := strconv.Atoi(p.Value(rule, param))
	if err != nil {
		panic(fmt.Sprintf("rulebook: %s/%s: %v", rule, param, err))
	}
	return n
}

// Fen returns an amount parameter.
func (p Params) Fen(rule kernel.RuleID, param string) kernel.Fen {
	n, err := strconv.ParseInt(p.Value(rule, param), 10, 64)
	if err != nil {
		panic(fmt.Sprintf("rulebook: %s/%s: %v", rule, param, err))
	}
	return kernel.Fen(n)
}

// Severity returns the colour of an alert for the rule.
func (p Params) Severity(rule kernel.RuleID) Severity {
	return Severity(p.Value(rule, ParamSeverity))
}

// SeverityAt returns the colour of an alert for a deadline rule that was due
// at due and is still open at asOf: rules with a red-after parameter turn red
// when that much time has passed since the deadline (DOMAIN.md: "a missing
// disclosure older than 7 days is red").
func (p Params) SeverityAt(rule kernel.RuleID, due, asOf time.Time) Severity {
	if r, ok := ruleByID(rule); ok {
		if _, has := r.Param(ParamRedAfter); has && !asOf.Before(p.Span(rule, ParamRedAfter).After(due)) {
			return Red
		}
	}
	return p.Severity(rule)
}

// MajorThreshold is the amount from which an expenditure is a major matter.
func (p Params) MajorThreshold() kernel.Fen { return p.Fen(MajorMatterResolution, ParamThreshold) }

// IsMajor reports whether an expenditure of amount is a major matter that
// needs a resolution of the assembly or representatives' meeting (重大开支).
func (p Params) IsMajor(amount kernel.Fen) bool { return amount >= p.MajorThreshold() }

// OperatingFundsRequired returns the annual operating funds a community of
// the given number of households is due (社区工作经费).
func (p Params) OperatingFundsRequired(households int) kernel.Fen {
	switch {
	case households < p.Count(OperatingFunds, ParamTier1Below):
		return p.Fen(OperatingFunds, ParamTier1Amount)
	case households > p.Count(OperatingFunds, ParamTier3Above):
		return p.Fen(OperatingFunds, ParamTier3Amount)
	default:
		return p.Fen(OperatingFunds, ParamTier2Amount)
	}
}

// CheckLateRecording watches late-recording: a fact that happened at `at`, recorded at now, more than the
// rule's span earlier. The breach shows both times (China time) and names the fact.
func (p Params) CheckLateRecording(what string, at, now time.Time) *kernel.Breach {
	within := p.Span(LateRecording, ParamWithin)
	if !within.After(at).Before(now) {
		return nil
	}
	cst := kernel.ChinaTime()
	return &kernel.Breach{Rule: LateRecording, Detail: fmt.Sprintf("%s发生于%s，却在%s才记录(应在%s内记录)，可能是补录或倒签",
		what, at.In(cst).Format("2006-01-02 15:04"), now.In(cst).Format("2006-01-02 15:04"), within.Chinese())}
}

// Due returns the deadline of a deadline rule (MinutesKept, PaymentDisclosed,
// ResultsDisclosed: "within"; CadreAudit, CadreEvaluation: "every") counted from the fact that
// starts it. The deadline scheduler of the alert engine uses it.
func (p Params) Due(rule kernel.RuleID, from time.Time) time.Time {
	switch rule {
	case CadreAudit, CadreEvaluation:
		return p.Span(rule, ParamEvery).After(from)
	case DisclosureFrequency:
		return p.Span(rule, ParamMajorWithin).After(from)
	}
	return p.Span(rule, ParamWithin).After(from)
}

// CommitteeSizeFor returns the range of members a committee should have:
// for a residents' committee [urban-min, urban-max] with a suggested size of
// one member per households-per-member households, clamped to that range; for
// a village committee exactly rural-small or rural-large members, by adult
// population.
func (p Params) CommitteeSizeFor(kind kernel.CommunityKind, households, adults int) (lo, hi int) {
	if kind == kernel.Rural {
		if adults >= p.Count(CommitteeSize, ParamRuralLargeFrom) {
			n := p.Count(CommitteeSize, ParamRuralLarge)
			return n, n
		}
		n := p.Count(CommitteeSize, ParamRuralSmall)
		return n, n
	}
	lo, hi = p.Count(CommitteeSize, ParamUrbanMin), p.Count(CommitteeSize, ParamUrbanMax)
	per := p.Count(CommitteeSize, ParamHouseholdsPerMember)
	suggested := min(max((households+per/2)/per, lo), hi)
	return max(lo, suggested-p.Count(CommitteeSize, ParamUrbanTolerance)), hi
}

// CheckCommitteeSize returns a CommitteeSize breach when a committee of size
// members does not fit the community, nil otherwise.
func (p Params) CheckCommitteeSize(kind kernel.CommunityKind, households, adults, size int) *kernel.Breach {
	lo, hi := p.CommitteeSizeFor(kind, households, adults)
	if size >= lo && size <= hi {
		return nil
	}
	want := fmt.Sprintf("%d—%d人", lo, hi)
	if lo == hi {
		want = fmt.Sprintf("%d人", lo)
	}
	return &kernel.Breach{Rule: CommitteeSize, Detail: fmt.Sprintf(
		"委员会现有%d人，按%d户、成年人口%d人应为%s", size, households, adults, want)}
}

// CheckFullTimeShare returns a FullTimeShare breach when fewer than the
// required share of a residents' committee's members are full-time; village
// committees are not concerned.
func (p Params) CheckFullTimeShare(kind kernel.CommunityKind, fullTime, size int) *kernel.Breach {
	if kind != kernel.Urban || size == 0 {
		return nil
	}
	t := p.Threshold(FullTimeShare, ParamMinShare)
	if t.Met(int64(fullTime), int64(size)) {
		return nil
	}
	return &kernel.Breach{Rule: FullTimeShare, Detail: fmt.Sprintf(
		"专职成员%d人，占%d人的比例未达到%s", fullTime, size, t.Chinese())}
}
