// Package events builds the registry of every event of the governance
// domain. It is the one place that knows all domain packages, so that the
// commands layer and the projections decode stored events through the same
// explicitly built registry (no globals, no init()).
package events

import (
	"reflect"
	"sync"

	"github.com/grassroots-ledger/ledger/domain/assessment"
	"github.com/grassroots-ledger/ledger/domain/asset"
	"github.com/grassroots-ledger/ledger/domain/audit"
	"github.com/grassroots-ledger/ledger/domain/bulletin"
	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/election"
	"github.com/grassroots-ledger/ledger/domain/evaluation"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/inspection"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/domain/privacy"
	"github.com/grassroots-ledger/ledger/domain/rating"
	"github.com/grassroots-ledger/ledger/domain/rectification"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/seal"
	"github.com/grassroots-ledger/ledger/domain/supervision"
	"github.com/grassroots-ledger/ledger/domain/survey"
	"github.com/grassroots-ledger/ledger/domain/worker"
	"github.com/grassroots-ledger/ledger/domain/worklist"
)

// Registrars returns the registrar of every domain package.
func Registrars() []kernel.Registrar {
	return []kernel.Registrar{
		rulebook.RegisterEvents,
		community.RegisterEvents,
		election.RegisterEvents,
		meeting.RegisterEvents,
		funds.RegisterEvents,
		disclosure.RegisterEvents,
		audit.RegisterEvents,
		seal.RegisterEvents,
		asset.RegisterEvents,
		worklist.RegisterEvents,
		worker.RegisterEvents,
		inspection.RegisterEvents,
		rectification.RegisterEvents,
		bulletin.RegisterEvents,
		assessment.RegisterEvents,
		rating.RegisterEvents,
		evaluation.RegisterEvents,
		survey.RegisterEvents,
		supervision.RegisterEvents,
		privacy.RegisterEvents,
	}
}

// NewRegistry returns a new, validated registry of every domain event with
// its upcasters. An error means a programming mistake (a wire name registered
// twice, a missing upcaster); the tests guarantee it does not happen.
func NewRegistry() (*kernel.Registry, error) {
	return kernel.Build(Registrars()...)
}

// Shared is one registry of every domain event for the whole process, made on first use. Nobody may
// register or upcast anything on it: the read models decode with it, and a payload one of them decoded is
// given to the others (eventlog.Shared) only when they decode with the same registry.
var Shared = sync.OnceValue(MustRegistry)

// MustRegistry is NewRegistry for start-up code: it panics on error.
func MustRegistry() *kernel.Registry {
	r, err := NewRegistry()
	if err != nil {
		panic("domain events registry: " + err.Error())
	}
	return r
}

// Enums maps every enumerated type of the domain (funds.Category, meeting.Kind, …) to its values, in the
// domain's order, from each package's own list (funds.Categories(), …). The command types name the
// domain's type, never its values: the API schema lists them from here (infra/httpapi), so a value added
// to the domain is offered by the API at once.
func Enums() map[reflect.Type][]string {
	m := map[reflect.Type][]string{}
	add(m, audit.Kinds())
	add(m, audit.FindingSeverities())
	add(m, audit.Results())
	add(m, community.Roles())
	add(m, community.Sources())
	add(m, community.LeaveReasons())
	add(m, disclosure.Categories())
	add(m, disclosure.RefKinds())
	add(m, election.CommitteeRoles())
	add(m, election.LeaveReasons())
	add(m, funds.Sources())
	add(m, funds.Categories())
	add(m, funds.Kinds())
	add(m, funds.PayeeKinds())
	add(m, kernel.CommunityKinds())
	add(m, meeting.Kinds())
	add(m, meeting.Bases())
	add(m, meeting.Outcomes())
	add(m, meeting.Subjects())
	add(m, meeting.Channels())
	add(m, asset.Kinds())
	add(m, asset.Methods())
	add(m, asset.Periods())
	add(m, asset.Disposals())
	add(m, asset.Parties())
	add(m, seal.Kinds())
	add(m, worklist.Lists())
	add(m, seal.Roles())
	add(m, worker.SeriesList())
	add(m, worker.LeaveReasons())
	add(m, worker.Components())
	add(m, inspection.Methods())
	add(m, inspection.Severities())
	add(m, rectification.Kinds())
	add(m, survey.Audiences())
	add(m, survey.Scales())
	add(m, assessment.Measures())
	return m
}

func add[T ~string](m map[reflect.Type][]string, values []T) {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	m[reflect.TypeFor[T]()] = out
}
