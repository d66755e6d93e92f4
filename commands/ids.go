// Identifiers. Every command appends to exactly one stream, named by the domain package that owns the
// aggregate (election.Stream, funds.BudgetStream, …; the list is in domain/eventlog). Identifiers that go
// into stream names are checked before anything is read: ids are 1–64 characters of [A-Za-z0-9._-];
// community ids and jurisdiction codes are 1–64 characters of [A-Za-z0-9_] — no hyphen, because the
// hyphen separates the fields of a stream name, so "election-a-b-c" can only mean election "b-c" of
// community "a" and one community's command can never name another community's stream.
//
// Every event's metadata carries the actor, the command id (the Idempotency-Key), the community id, the
// community's full jurisdiction path and the schema version; each stream is a hash chain
// (eventlog.VerifyStream).

package commands

import (
	"strings"

	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// maxIDLen bounds every identifier that becomes part of a stream name.
const maxIDLen = 64

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
