package events_test

import (
	"testing"

	"github.com/grassroots-ledger/ledger/domain/audit"
	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/election"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// Stream names are in stored data: each domain package owns its own, and none may ever change.
func TestStreamNamesAreStable(t *testing.T) {
	const c kernel.CommunityID = "330303001001"
	path := kernel.JurisdictionPath("33/3303/330303")
	for got, want := range map[string]string{
		community.JurisdictionStream(path): "jurisdiction-330303-node",
		rulebook.OverridesStream(path):     "rulebook-330303-overrides",
		community.ProfileStream(c):         "community-330303001001-profile",
		election.Stream(c, "2026"):         "election-330303001001-2026",
		meeting.Stream(c, "2026-a-1"):      "meeting-330303001001-2026-a-1",
		meeting.TopicStream(c, "t.1"):      "topic-330303001001-t.1",
		funds.BudgetStream(c, 2026):        "budget-330303001001-2026",
		funds.ExpenditureStream(c, "x-9"):  "expenditure-330303001001-x-9",
		disclosure.Stream(c, "2026-q1"):    "disclosure-330303001001-2026-q1",
		audit.Stream(c, "a1"):              "audit-330303001001-a1",
	} {
		if got != want {
			t.Errorf("stream %q, want %q", got, want)
		}
	}
}
