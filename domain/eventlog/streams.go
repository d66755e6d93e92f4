package eventlog

import (
	"fmt"
	"strings"
)

// Stream names (DESIGN.md decision 3): one stream per aggregate instance, "<kind>-<communityID>-<id>",
// and one alert stream per district, "alerts-<districtID>". Kinds are lower-case words without hyphens,
// so the community id is always the second hyphen-separated field. Each domain package owns the names
// of its streams (they are in stored data: never change one):
//
//	jurisdiction-<code>-node                  community.JurisdictionStream: a node of the jurisdiction tree
//	                                          (市、区/县、街道/镇、网格、楼栋); <code> is the last segment of its path
//	rulebook-<code>-overrides                 rulebook.OverridesStream: the rule overrides a jurisdiction (or
//	                                          community) set for itself
//	community-<communityID>-profile           community.ProfileStream: a community's registration, figures
//	                                          and committee roster; <communityID> is the last segment of its path
//	election-<communityID>-<electionID>       election.Stream: one general election and its term (换届选举)
//	meeting-<communityID>-<meetingID>         meeting.Stream: one meeting with its motions, votes,
//	                                          resolutions and minutes
//	topic-<communityID>-<topicID>             meeting.TopicStream: one deliberation topic (五步议事)
//	budget-<communityID>-<fiscalYear>         funds.BudgetStream: the allocations of one fiscal year (经费)
//	expenditure-<communityID>-<expenditureID> funds.ExpenditureStream: one expenditure (支出)
//	disclosure-<communityID>-<noticeID>       disclosure.Stream: one notice on the public board (村务公开)
//	audit-<communityID>-<auditID>             audit.Stream: one audit of cadres (审计)

// StreamName builds "<kind>-<communityID>-<id>". The id may contain hyphens.
func StreamName(kind, communityID, id string) string {
	return kind + "-" + communityID + "-" + id
}

// AlertsStreamPrefix begins the name of every district's alert stream (AlertsStream): a filter on it
// selects all of them.
const AlertsStreamPrefix = "alerts-"

// AlertsStream is the stream of a district's supervision alerts.
func AlertsStream(districtID string) string { return AlertsStreamPrefix + districtID }

// SplitStreamName returns the kind, community id and aggregate id of a stream built by StreamName.
func SplitStreamName(stream string) (kind, communityID, id string, err error) {
	parts := strings.SplitN(stream, "-", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", fmt.Errorf("eventlog: stream %q is not <kind>-<community>-<id>", stream)
	}
	return parts[0], parts[1], parts[2], nil
}
