package metrics_test

import (
	"time"

	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

func stubPaid() funds.ExpenditurePaid {
	return funds.ExpenditurePaid{ExpenditureID: "1", VoucherNo: "v", Amount: kernel.Yuan(90000), PaidAt: time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC),
		Watch: kernel.Watch{Breaches: []kernel.Breach{{Rule: rulebook.MajorMatterResolution, Detail: "未经决议"}}}}
}

func stubMotion() meeting.MotionTabled {
	return meeting.MotionTabled{MeetingID: "m", MotionID: "1", Title: "t", Text: "t", TabledAt: time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)}
}
