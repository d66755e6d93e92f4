package disclosure_test

import (
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/internal/domaintest"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

var (
	t0       = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	day      = 24 * time.Hour
	defaults = rulebook.Defaults()
	sha      = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	window   = disclosure.Window{Start: t0, End: t0.Add(7 * day)}
	february = disclosure.Period{From: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)}
)

func samples() []kernel.Event {
	return []kernel.Event{
		disclosure.Published{NoticeID: "n-1", Category: disclosure.Finance, Period: february, Title: "2026年2月财务收支公开",
			Text: "本月收入…支出…", Attachments: []disclosure.Attachment{{Name: "2月收支明细.pdf", SHA256: sha}}, Window: window,
			Refs: []disclosure.Ref{{Kind: disclosure.RefPayment, ID: "x-1", OccurredAt: t0.Add(-3 * day)}}, PublishedAt: t0,
			Watch: kernel.Watch{Breaches: []kernel.Breach{{Rule: rulebook.PaymentDisclosed, Detail: "支付x-1公开晚了"}}}},
		disclosure.Corrected{NoticeID: "n-1", Version: 2, Title: "2026年2月财务收支公开(更正)", Text: "更正后的内容",
			Attachments: []disclosure.Attachment{{Name: "2月收支明细(更正).pdf", SHA256: sha}}, Window: &disclosure.Window{Start: t0, End: t0.Add(10 * day)},
			Reason: "支出金额录入错误", CorrectedAt: t0},
		disclosure.Withdrawn{NoticeID: "n-1", Reason: "重复发布", WithdrawnAt: t0},
		disclosure.ObjectionRaised{NoticeID: "n-1", ObjectionID: "o-1", Text: "路灯维修费用偏高", RaisedAt: t0,
			Objector: kernel.PersonalData{Subject: "p-r1", Name: "吴十", Phone: "13500000000", Address: "罗西社区5幢"}},
		disclosure.ObjectionAnswered{NoticeID: "n-1", ObjectionID: "o-1", Answer: "已附三家比价记录", AnsweredAt: t0},
	}
}

func TestGoldens(t *testing.T) {
	domaintest.Goldens(t, domaintest.Registry(t, disclosure.RegisterEvents), "testdata", samples())
}

func run(t *testing.T, cases []domaintest.Case[*disclosure.Notice]) {
	t.Helper()
	domaintest.Run(t, domaintest.Registry(t, disclosure.RegisterEvents), func() *disclosure.Notice { return &disclosure.Notice{} }, cases)
}

func publish(cat disclosure.Category, refs []disclosure.Ref, prev *time.Time, now time.Time) func(*disclosure.Notice) ([]kernel.Event, error) {
	return func(n *disclosure.Notice) ([]kernel.Event, error) {
		return n.Publish(disclosure.Publish{NoticeID: "n-1", Category: cat, Period: february, Title: "公开", Text: "内容",
			Window: disclosure.Window{Start: now, End: now.Add(7 * day)}, Refs: refs, PreviousInCategory: prev}, defaults, now)
	}
}

var published = disclosure.Published{NoticeID: "n-1", Category: disclosure.Affairs, Period: february, Title: "公开", Text: "内容", Window: window, PublishedAt: t0}

func TestNotice(t *testing.T) {
	run(t, []domaintest.Case[*disclosure.Notice]{
		{Name: "publish", When: publish(disclosure.Affairs, nil, nil, t0), Then: []kernel.Event{published}},
		{Name: "publish twice", Given: []kernel.Event{published}, When: publish(disclosure.Affairs, nil, nil, t0), ThenErr: disclosure.ErrNoticeExists},
		{Name: "bad category", When: publish("gossip", nil, nil, t0), ThenErr: kernel.Invalid("invalid-category", "category", "")},
		{
			Name: "window ending before it starts",
			When: func(n *disclosure.Notice) ([]kernel.Event, error) {
				return n.Publish(disclosure.Publish{NoticeID: "n-1", Category: disclosure.Affairs, Period: february, Title: "t", Text: "x",
					Window: disclosure.Window{Start: t0, End: t0.Add(-time.Hour)}}, defaults, t0)
			},
			ThenErr: disclosure.ErrWindowInvalid,
		},
		{
			Name: "attachment with a bad hash names the attachment",
			When: func(n *disclosure.Notice) ([]kernel.Event, error) {
				return n.Publish(disclosure.Publish{NoticeID: "n-1", Category: disclosure.Affairs, Period: february, Title: "t", Text: "x",
					Window: window, Attachments: []disclosure.Attachment{{Name: "a.pdf", SHA256: sha}, {Name: "b.pdf", SHA256: "xyz"}}}, defaults, t0)
			},
			ThenErr: kernel.Invalid("invalid-sha256", "attachments[1].sha256", ""),
		},
		{
			Name:  "correct",
			Given: []kernel.Event{published},
			When: func(n *disclosure.Notice) ([]kernel.Event, error) {
				return n.Correct(disclosure.Correct{Title: "公开(更正)", Text: "新内容", Reason: "错字"}, t0.Add(time.Hour))
			},
			Then: []kernel.Event{disclosure.Corrected{NoticeID: "n-1", Version: 2, Title: "公开(更正)", Text: "新内容", Reason: "错字", CorrectedAt: t0.Add(time.Hour)}},
		},
		{
			Name:  "withdraw without a reason",
			Given: []kernel.Event{published},
			When: func(n *disclosure.Notice) ([]kernel.Event, error) {
				return n.Withdraw("", t0)
			},
			ThenErr: kernel.Invalid("required", "reason", ""),
		},
		{
			Name:  "correct a withdrawn notice",
			Given: []kernel.Event{published, disclosure.Withdrawn{NoticeID: "n-1", Reason: "r", WithdrawnAt: t0}},
			When: func(n *disclosure.Notice) ([]kernel.Event, error) {
				return n.Correct(disclosure.Correct{Title: "t", Text: "x", Reason: "r"}, t0)
			},
			ThenErr: disclosure.ErrNoticeWithdrawn,
		},
		{
			Name:  "object during the window",
			Given: []kernel.Event{published},
			When: func(n *disclosure.Notice) ([]kernel.Event, error) {
				return n.RaiseObjection("o-1", "有疑问", kernel.PersonalData{Subject: "p-r1"}, t0.Add(day))
			},
			Then: []kernel.Event{disclosure.ObjectionRaised{NoticeID: "n-1", ObjectionID: "o-1", Text: "有疑问", Objector: kernel.PersonalData{Subject: "p-r1"}, RaisedAt: t0.Add(day)}},
		},
		{
			Name:  "object after the window",
			Given: []kernel.Event{published},
			When: func(n *disclosure.Notice) ([]kernel.Event, error) {
				return n.RaiseObjection("o-1", "有疑问", kernel.PersonalData{Subject: "p-r1"}, t0.Add(8*day))
			},
			ThenErr: disclosure.ErrOutsideWindow,
		},
		{
			Name:  "a correction can extend the window",
			Given: []kernel.Event{published, disclosure.Corrected{NoticeID: "n-1", Version: 2, Title: "t", Text: "x", Reason: "r", CorrectedAt: t0, Window: &disclosure.Window{Start: t0, End: t0.Add(10 * day)}}},
			When: func(n *disclosure.Notice) ([]kernel.Event, error) {
				return n.RaiseObjection("o-1", "有疑问", kernel.PersonalData{Subject: "p-r1"}, t0.Add(8*day))
			},
			ThenNames: []string{"disclosure.objection-raised"},
		},
		{
			Name:  "answer an objection after the window",
			Given: []kernel.Event{published, disclosure.ObjectionRaised{NoticeID: "n-1", ObjectionID: "o-1", Text: "q", Objector: kernel.PersonalData{Subject: "p"}, RaisedAt: t0}},
			When: func(n *disclosure.Notice) ([]kernel.Event, error) {
				return n.AnswerObjection("o-1", "答复", t0.Add(20*day))
			},
			ThenNames: []string{"disclosure.objection-answered"},
		},
		{
			Name:  "answer an unknown objection",
			Given: []kernel.Event{published},
			When: func(n *disclosure.Notice) ([]kernel.Event, error) {
				return n.AnswerObjection("o-9", "答复", t0)
			},
			ThenErr: disclosure.ErrObjectionNotFound,
		},
		{
			Name:    "a reference to a fact in the future",
			When:    publish(disclosure.Finance, []disclosure.Ref{{Kind: disclosure.RefPayment, ID: "x-1", OccurredAt: t0.Add(time.Hour)}}, nil, t0),
			ThenErr: kernel.Invalid("invalid-occurred-at", "refs[0].occurred_at", ""),
		},
	})
}

// TestRule_PaymentDisclosed: every paid expenditure on the board within 24 h (watch).
func TestRule_PaymentDisclosed(t *testing.T) {
	paid := t0.Add(-25 * time.Hour)
	run(t, []domaintest.Case[*disclosure.Notice]{
		{Name: "disclosed 25 h after payment", When: publish(disclosure.Finance, []disclosure.Ref{{Kind: disclosure.RefPayment, ID: "x-1", OccurredAt: paid}}, nil, t0),
			ThenBreaches: []kernel.RuleID{rulebook.PaymentDisclosed}},
		{Name: "disclosed 23 h after payment", When: publish(disclosure.Finance, []disclosure.Ref{{Kind: disclosure.RefPayment, ID: "x-1", OccurredAt: t0.Add(-23 * time.Hour)}}, nil, t0),
			ThenNames: []string{"disclosure.published"}},
	})
	// A withdrawn notice says what it disclosed, so that the deadlines it met open again.
	refs := []disclosure.Ref{{Kind: disclosure.RefPayment, ID: "x-1", OccurredAt: paid}}
	disclosed := disclosure.Published{NoticeID: "n-1", Category: disclosure.Finance, Period: february, Title: "公开", Text: "内容",
		Window: window, Refs: refs, PublishedAt: t0}
	run(t, []domaintest.Case[*disclosure.Notice]{
		{Name: "withdrawing a notice that disclosed a payment", Given: []kernel.Event{disclosed},
			When: func(n *disclosure.Notice) ([]kernel.Event, error) { return n.Withdraw("内容有误", t0.Add(day)) },
			Then: []kernel.Event{disclosure.Withdrawn{NoticeID: "n-1", Reason: "内容有误", Category: disclosure.Finance, Refs: refs, WithdrawnAt: t0.Add(day)}}},
	})
	if sev := defaults.SeverityAt(rulebook.PaymentDisclosed, defaults.Due(rulebook.PaymentDisclosed, paid), t0.Add(8*day)); sev != rulebook.Red {
		t.Fatalf("a payment undisclosed for more than 7 days past its deadline is red, got %s", sev)
	}
}

// TestRule_ResultsDisclosed: election and audit results within 24 h (watch).
func TestRule_ResultsDisclosed(t *testing.T) {
	run(t, []domaintest.Case[*disclosure.Notice]{
		{Name: "election result two days late", When: publish(disclosure.Election, []disclosure.Ref{{Kind: disclosure.RefElection, ID: "e-1", OccurredAt: t0.Add(-3 * day)}}, nil, t0),
			ThenBreaches: []kernel.RuleID{rulebook.ResultsDisclosed}},
		{Name: "audit result 30 h after closing", When: publish(disclosure.Audit, []disclosure.Ref{{Kind: disclosure.RefAudit, ID: "a-1", OccurredAt: t0.Add(-30 * time.Hour)}}, nil, t0),
			ThenBreaches: []kernel.RuleID{rulebook.ResultsDisclosed}},
	})
}

// TestRule_DisclosureFrequency: affairs quarterly, finance monthly, major
// matters within 24 h (watch).
func TestRule_DisclosureFrequency(t *testing.T) {
	monthAgo := t0.AddDate(0, -1, -1)
	twoMonthsAgo := t0.AddDate(0, -2, 0)
	fourMonthsAgo := t0.AddDate(0, -4, 0)
	run(t, []domaintest.Case[*disclosure.Notice]{
		{Name: "finance a month and a day after the last", When: publish(disclosure.Finance, nil, &monthAgo, t0), ThenBreaches: []kernel.RuleID{rulebook.DisclosureFrequency}},
		{Name: "affairs four months after the last", When: publish(disclosure.Affairs, nil, &fourMonthsAgo, t0), ThenBreaches: []kernel.RuleID{rulebook.DisclosureFrequency}},
		{Name: "affairs two months after the last", When: publish(disclosure.Affairs, nil, &twoMonthsAgo, t0), ThenNames: []string{"disclosure.published"}},
		{Name: "a major resolution disclosed two days after adoption", When: publish(disclosure.Resolution, []disclosure.Ref{{Kind: disclosure.RefResolution, ID: "r-1", OccurredAt: t0.Add(-2 * day)}}, nil, t0),
			ThenBreaches: []kernel.RuleID{rulebook.DisclosureFrequency}},
		{Name: "party affairs have no rhythm here", When: publish(disclosure.Party, nil, &fourMonthsAgo, t0), ThenNames: []string{"disclosure.published"}},
	})
}

// TestRule_PublicityWindow: an election, finance or resolution notice stays up at least 7 days (a shorter
// window is refused, naming window.end); other categories may be shorter; a jurisdiction may lengthen it.
func TestRule_PublicityWindow(t *testing.T) {
	pub := func(cat disclosure.Category, d time.Duration, p rulebook.Params) func(*disclosure.Notice) ([]kernel.Event, error) {
		return func(n *disclosure.Notice) ([]kernel.Event, error) {
			return n.Publish(disclosure.Publish{NoticeID: "n-1", Category: cat, Period: february, Title: "公开", Text: "内容",
				Window: disclosure.Window{Start: t0, End: t0.Add(d)}}, p, t0)
		}
	}
	longer, err := rulebook.Defaults().With(rulebook.PublicityWindow, rulebook.ParamWindowFinance, "10d")
	if err != nil {
		t.Fatal(err)
	}
	run(t, []domaintest.Case[*disclosure.Notice]{
		{Name: "a finance notice up three days", When: pub(disclosure.Finance, 3*day, defaults), ThenErr: kernel.Error{Code: "publicity-window-too-short", Field: "window.end"}},
		{Name: "an election notice up six days", When: pub(disclosure.Election, 6*day, defaults), ThenErr: disclosure.ErrWindowTooShort},
		{Name: "a resolution notice up a day", When: pub(disclosure.Resolution, day, defaults), ThenErr: disclosure.ErrWindowTooShort},
		{Name: "a finance notice up seven days", When: pub(disclosure.Finance, 7*day, defaults), ThenNames: []string{"disclosure.published"}},
		{Name: "an affairs notice up three days", When: pub(disclosure.Affairs, 3*day, defaults), ThenNames: []string{"disclosure.published"}},
		{Name: "a jurisdiction that wants ten days for finance", When: pub(disclosure.Finance, 8*day, longer), ThenErr: disclosure.ErrWindowTooShort},
	})
}
