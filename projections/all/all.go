// Package all lists every read model the ledger keeps, in the order they are shown to operators: the one
// list `ledger serve`, `ledger rebuild`, the auditors' replays and the tests that project commands use.
package all

import (
	"github.com/grassroots-ledger/ledger/domain/events"
	"github.com/grassroots-ledger/ledger/projections/audittrail"
	"github.com/grassroots-ledger/ledger/projections/board"
	"github.com/grassroots-ledger/ledger/projections/directory"
	"github.com/grassroots-ledger/ledger/projections/elections"
	"github.com/grassroots-ledger/ledger/projections/finances"
	"github.com/grassroots-ledger/ledger/projections/meetings"
	"github.com/grassroots-ledger/ledger/projections/runtime"
	alerts "github.com/grassroots-ledger/ledger/projections/supervision"
	"github.com/grassroots-ledger/ledger/projections/tlog"
)

// Models returns a fresh instance of every read model: the audit trail first, then the public models the
// portal reads, then the alerts, then the transparency log. personal opens sealed personal data for the
// models that keep something derived from it (the key store, infra/keys); nil where all of it is clear.
func Models(personal runtime.Personal) []runtime.ReadModel {
	return []runtime.ReadModel{
		audittrail.Model{},
		directory.New(), board.New(), finances.New(personal), elections.New(), meetings.New(),
		alerts.New(events.Shared()),
		tlog.Model{},
	}
}
