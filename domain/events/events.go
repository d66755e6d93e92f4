// Package events builds the registry of every event of the governance
// domain. It is the one place that knows all domain packages, so that the
// commands layer and the projections decode stored events through the same
// explicitly built registry (no globals, no init()).
package events

import (
	"github.com/grassroots-ledger/ledger/domain/audit"
	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/election"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/supervision"
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
		supervision.RegisterEvents,
	}
}

// NewRegistry returns a new, validated registry of every domain event with
// its upcasters. An error means a programming mistake (a wire name registered
// twice, a missing upcaster); the tests guarantee it does not happen.
func NewRegistry() (*kernel.Registry, error) {
	return kernel.Build(Registrars()...)
}

// MustRegistry is NewRegistry for start-up code: it panics on error.
func MustRegistry() *kernel.Registry {
	r, err := NewRegistry()
	if err != nil {
		panic("domain events registry: " + err.Error())
	}
	return r
}
