package events_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// ruleTests maps every rule of the rulebook to the tests that break it
// (package/TestName). A reviewer reads DOMAIN.md's table against this map.
var ruleTests = map[kernel.RuleID][]string{
	rulebook.CandidateResidence:        {"election/TestRule_CandidateResidence"},
	rulebook.CommitteeMemberCandidacy:  {"election/TestRule_CommitteeMemberCandidacy"},
	rulebook.CandidateListPublicity:    {"election/TestRule_CandidateListPublicity"},
	rulebook.ElectionValidity:          {"election/TestRule_ElectionValidity"},
	rulebook.CommitteeSize:             {"community/TestRule_CommitteeSize", "election/TestRule_CommitteeSize"},
	rulebook.FullTimeShare:             {"community/TestRule_FullTimeShare", "election/TestRule_FullTimeShare"},
	rulebook.MeetingQuorum:             {"meeting/TestRule_MeetingQuorum"},
	rulebook.MajorMatterResolution:     {"funds/TestRule_MajorMatterResolution", "meeting/TestResolutionCeilingIsCumulative", "seal/TestRule_MajorMatterResolutionOfContracts", "asset/TestRule_MajorMatterResolutionOfAssets"},
	rulebook.PublicBidding:             {"asset/TestRule_PublicBidding"},
	rulebook.RentCollected:             {"supervision/TestRule_RentCollected"},
	rulebook.WorkAdmission:             {"worklist/TestRule_WorkAdmission"},
	rulebook.PayScale:                  {"worker/TestRule_PayScale", "funds/TestRule_PayScale"},
	rulebook.StaffingLimit:             {"worker/TestRule_StaffingLimit"},
	rulebook.CadreEvaluation:           {"supervision/TestRule_CadreEvaluation"},
	rulebook.CadreIncompetent:          {"evaluation/TestRule_CadreIncompetent"},
	rulebook.AnnualAssessment:          {"assessment/TestRule_AnnualAssessment"},
	rulebook.Satisfaction:              {"survey/TestRule_Satisfaction"},
	rulebook.RectificationDue:          {"supervision/TestRule_RectificationDue", "rectification/TestRectification"},
	rulebook.ResidentsMeetingFrequency: {"meeting/TestRule_ResidentsMeetingFrequency"},
	rulebook.MinutesKept:               {"meeting/TestRule_MinutesKept"},
	rulebook.DisclosureFrequency:       {"disclosure/TestRule_DisclosureFrequency", "supervision/TestReopen"},
	rulebook.PaymentDisclosed:          {"disclosure/TestRule_PaymentDisclosed"},
	rulebook.ResultsDisclosed:          {"disclosure/TestRule_ResultsDisclosed"},
	rulebook.SealUse:                   {"seal/TestRule_SealUse"},
	rulebook.OperatingFunds:            {"funds/TestRule_OperatingFunds", "supervision/TestRule_OperatingFundsAtYearEnd"},
	rulebook.CadreAudit:                {"audit/TestRule_CadreAudit"},
	rulebook.BudgetBalance:             {"funds/TestRule_BudgetBalance", "funds/TestBudgetCommitments"},
	rulebook.SplitSpending:             {"funds/TestBudgetCommitments"},
	rulebook.LateRecording:             {"funds/TestRule_LateRecording", "meeting/TestLateRecordingOfMeetings", "election/TestLateRecordingOfRecallsAndByElections", "seal/TestRule_SealUse"},
	rulebook.PublicityWindow:           {"disclosure/TestRule_PublicityWindow"},
	rulebook.ExitAudit:                 {"supervision/TestRule_ExitAudit"},
	rulebook.ObjectionAnswered:         {"election/TestRule_ObjectionAnswered", "supervision/TestRule_ObjectionAnswered"},
}

func TestEveryRuleHasATestThatBreaksIt(t *testing.T) {
	for _, r := range rulebook.Rules() {
		tests, ok := ruleTests[r.ID]
		if !ok {
			t.Errorf("rule %s has no test", r.ID)
		}
		for _, name := range tests {
			pkg, fn, _ := strings.Cut(name, "/")
			files, _ := filepath.Glob(filepath.Join("..", pkg, "*_test.go"))
			found := false
			for _, f := range files {
				src, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				found = found || strings.Contains(string(src), "func "+fn+"(t *testing.T)")
			}
			if !found {
				t.Errorf("rule %s: test %s not found", r.ID, name)
			}
		}
	}
	if len(ruleTests) != len(rulebook.Rules()) {
		t.Errorf("the map names %d rules, the rulebook has %d", len(ruleTests), len(rulebook.Rules()))
	}
}
