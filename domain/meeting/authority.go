package meeting

import (
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// Authority is a resolution as a major matter decided elsewhere cites it (四议两公开): a contract sealed, an
// asset let or disposed of. The handler reads it from the meeting's record.
type Authority struct {
	ID          string    `json:"resolution_id"`
	MeetingID   string    `json:"meeting_id"`
	MeetingKind Kind      `json:"meeting_kind"`
	AdoptedAt   time.Time `json:"adopted_at"`
}

// Errors of a resolution that cannot authorise a major matter.
var (
	ErrAuthorityWrongMeeting = kernel.Rejected("resolution-wrong-meeting-kind", "重大事项须由村(居)民会议或村(居)民代表会议决议，其他会议的决定不能替代")
	ErrAuthorityNotBefore    = kernel.Rejected("resolution-not-adopted-before", "决议须在事项决定之前通过")
)

// Problem says why the resolution cannot authorise a major matter decided at `at` — not a residents' or
// representatives' meeting's, or adopted after it — or nil when it can.
func (a Authority) Problem(at time.Time) error {
	switch {
	case !a.MeetingKind.CanDecideMajorMatters():
		return ErrAuthorityWrongMeeting
	case a.AdoptedAt.IsZero() || a.AdoptedAt.After(at):
		return ErrAuthorityNotBefore.WithMsg("决议%s须在%s之前通过", a.ID, at.In(kernel.ChinaTime()).Format("2006-01-02"))
	}
	return nil
}
