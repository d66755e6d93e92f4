package runtime

import (
	"context"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// SealedPersonal is a personal object as an event stores it (sealed, see infra/keys), with the id of that
// event (part of what authenticates it).
type SealedPersonal struct {
	Event eventlog.ID
	Data  kernel.PersonalData
}

// Personal opens sealed personal data for the read models that keep something derived from it (the
// finances model's masked payee names): each object clear, or Erased when its subject's key was destroyed
// on a lawful request; clear objects are returned as given. One call per batch. A model given none reads
// sealed objects as erased.
type Personal interface {
	Open(ctx context.Context, sealed []SealedPersonal) ([]kernel.PersonalData, error)
}
