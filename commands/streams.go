// Streams. Every command appends to exactly one stream, named "<kind>-<id>-<what>" (DESIGN.md decision
// 3), so an auditor can find the whole history of one thing by its name:
//
//	jurisdiction-<code>-node                  a node of the jurisdiction tree (市、区/县、街道/镇、网格、楼栋);
//	                                          <code> is the last segment of its path
//	rulebook-<code>-overrides                 the rule overrides a jurisdiction (or community) set for itself
//	community-<communityID>-profile           a community's registration, figures and committee roster;
//	                                          <communityID> is the last segment of its jurisdiction path
//	election-<communityID>-<electionID>       one general election and the term it produced (换届选举)
//	meeting-<communityID>-<meetingID>         one meeting with its motions, votes, resolutions and minutes
//	topic-<communityID>-<topicID>             one deliberation topic through the five steps (五步议事)
//	budget-<communityID>-<fiscalYear>         the allocations of one fiscal year (经费)
//	expenditure-<communityID>-<expenditureID> one expenditure from request to payment (支出)
//	disclosure-<communityID>-<noticeID>       one notice on the public board (村务公开/居务公开)
//	audit-<communityID>-<auditID>             one audit of cadres (审计)
//
// Identifiers that go into stream names are checked before anything is read: ids are 1–64 characters of
// [A-Za-z0-9._-]; community ids and jurisdiction codes are 1–64 characters of [A-Za-z0-9_] — no hyphen,
// because the hyphen separates the fields of a stream name, so "election-a-b-c" can only mean election
// "b-c" of community "a" and one community's command can never name another community's stream.
//
// Every event's metadata carries the actor, the command id (the Idempotency-Key), the community id, the
// community's full jurisdiction path and the schema version; each stream is a hash chain
// (eventlog.VerifyStream).
package commands

import (
	"strconv"
	"strings"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// maxIDLen bounds every identifier that becomes part of a stream name.
const maxIDLen = 64

// JurisdictionStream is the stream of a node of the jurisdiction tree other than a community.
func JurisdictionStream(path kernel.JurisdictionPath) string {
	return eventlog.StreamName("jurisdiction", path.Last(), "node")
}

// OverridesStream is the stream of the rule overrides a jurisdiction set.
func OverridesStream(path kernel.JurisdictionPath) string {
	return eventlog.StreamName("rulebook", path.Last(), "overrides")
}

// ProfileStream is a community's registry stream: registration, figures, committee roster.
func ProfileStream(communityID string) string {
	return eventlog.StreamName("community", communityID, "profile")
}

// ElectionStream is the stream of one election.
func ElectionStream(communityID, electionID string) string {
	return eventlog.StreamName("election", communityID, electionID)
}

// MeetingStream is the stream of one meeting.
func MeetingStream(communityID, meetingID string) string {
	return eventlog.StreamName("meeting", communityID, meetingID)
}

// TopicStream is the stream of one deliberation topic.
func TopicStream(communityID, topicID string) string {
	return eventlog.StreamName("topic", communityID, topicID)
}

// BudgetStream is the stream of one fiscal year's allocations.
func BudgetStream(communityID string, fiscalYear int) string {
	return eventlog.StreamName("budget", communityID, strconv.Itoa(fiscalYear))
}

// ExpenditureStream is the stream of one expenditure.
func ExpenditureStream(communityID, expenditureID string) string {
	return eventlog.StreamName("expenditure", communityID, expenditureID)
}

// DisclosureStream is the stream of one notice of the public board.
func DisclosureStream(communityID, noticeID string) string {
	return eventlog.StreamName("disclosure", communityID, noticeID)
}

// AuditStream is the stream of one audit.
func AuditStream(communityID, auditID string) string {
	return eventlog.StreamName("audit", communityID, auditID)
}

// checkID reports an identifier that may not go into a stream name, as an Invalid error naming field.
func checkID(v, field string) error {
	return checkChars(v, field, true)
}

// checkCode is checkID without '.' and '-': for community ids and jurisdiction codes, which sit in the
// middle of stream names and are path segments.
func checkCode(v, field string) error {
	return checkChars(v, field, false)
}

func checkChars(v, field string, idChars bool) error {
	if v == "" {
		return kernel.Invalid("required", field, "编号不能为空")
	}
	if len(v) > maxIDLen {
		return kernel.Invalid("id-too-long", field, "编号最长64个字符")
	}
	if strings.Trim(v, ".") == "" {
		return kernel.Invalid("invalid-id", field, "编号不能只由点组成（. 和 .. 是路径，不是编号）")
	}
	for _, c := range v {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
		if idChars {
			ok = ok || c == '.' || c == '-'
		}
		if !ok {
			if idChars {
				return kernel.Invalid("invalid-id", field, "编号只能包含字母、数字和 . _ -")
			}
			return kernel.Invalid("invalid-code", field, "编码只能包含字母、数字和下划线")
		}
	}
	return nil
}

// checkIDs checks several (value, field) pairs in order.
func checkIDs(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := checkID(pairs[i], pairs[i+1]); err != nil {
			return err
		}
	}
	return nil
}
