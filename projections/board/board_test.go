package board_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/projections/board"
	"github.com/grassroots-ledger/ledger/projections/internal/decode/decodetest"
	"github.com/grassroots-ledger/ledger/projections/internal/readmodeltest"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

var (
	t0    = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	day   = 24 * time.Hour
	luoxi = decodetest.Community("33/3303/330303/330303001", "330303001001")
	other = decodetest.Community("33/3303/330304/330304002", "330304002001")
	sha   = strings.Repeat("ab", 32)
	sha2  = strings.Repeat("cd", 32)
)

func stream(p decodetest.Place, notice string) string {
	return eventlog.StreamName("disclosure", p.ID, notice)
}

func objector(id string) kernel.PersonalData {
	return kernel.PersonalData{Subject: kernel.PersonID(id), Name: "吴十一", NationalID: "330303198805051234", Phone: "13512345678", Address: "罗西社区5幢301"}
}

// sample: n-1 published, corrected with a new window, two objections (one answered); n-2 published and
// withdrawn; n-3 in another district.
func sample() *decodetest.History {
	h := &decodetest.History{}
	h.Record(stream(luoxi, "n-1"), luoxi, t0, disclosure.Published{NoticeID: "n-1", Category: disclosure.Finance,
		Period: disclosure.Period{From: t0.Add(-30 * day), To: t0.Add(-day)}, Title: "2月财务收支公开", Text: "本月收入…支出…",
		Attachments: []disclosure.Attachment{{Name: "明细.pdf", SHA256: sha}}, Window: disclosure.Window{Start: t0, End: t0.Add(7 * day)},
		Refs: []disclosure.Ref{{Kind: disclosure.RefPayment, ID: "x-1", OccurredAt: t0.Add(-2 * day)}}, PublishedAt: t0})
	h.Record(stream(luoxi, "n-2"), luoxi, t0.Add(time.Hour), disclosure.Published{NoticeID: "n-2", Category: disclosure.Affairs,
		Period: disclosure.Period{From: t0.Add(-90 * day), To: t0}, Title: "一季度村务公开", Text: "…",
		Window: disclosure.Window{Start: t0.Add(time.Hour), End: t0.Add(10 * day)}, PublishedAt: t0.Add(time.Hour)})
	h.Record(stream(luoxi, "n-1"), luoxi, t0.Add(2*time.Hour), disclosure.ObjectionRaised{NoticeID: "n-1", ObjectionID: "o-1",
		Text: "路灯维修费用偏高", Objector: objector("p-r1"), RaisedAt: t0.Add(2 * time.Hour)})
	h.Record(stream(luoxi, "n-1"), luoxi, t0.Add(day), disclosure.Corrected{NoticeID: "n-1", Version: 2, Title: "2月财务收支公开(更正)",
		Text: "更正后的内容", Attachments: []disclosure.Attachment{{Name: "明细(更正).pdf", SHA256: sha2}},
		Window: &disclosure.Window{Start: t0.Add(day), End: t0.Add(10 * day)}, Reason: "支出金额录入错误", CorrectedAt: t0.Add(day)})
	h.Record(stream(luoxi, "n-2"), luoxi, t0.Add(day+time.Hour), disclosure.Withdrawn{NoticeID: "n-2", Reason: "内容有误，重新发布", WithdrawnAt: t0.Add(day + time.Hour)})
	h.Record(stream(luoxi, "n-1"), luoxi, t0.Add(2*day), disclosure.ObjectionRaised{NoticeID: "n-1", ObjectionID: "o-2",
		Text: "另一条异议", Objector: objector("p-r2"), RaisedAt: t0.Add(2 * day)})
	h.Record(stream(other, "n-3"), other, t0.Add(2*day), disclosure.Published{NoticeID: "n-3", Category: disclosure.Election,
		Period: disclosure.Period{From: t0, To: t0.Add(day)}, Title: "选举结果公告", Text: "…",
		Window: disclosure.Window{Start: t0.Add(2 * day), End: t0.Add(9 * day)}, PublishedAt: t0.Add(2 * day)})
	h.Record(stream(luoxi, "n-1"), luoxi, t0.Add(3*day), disclosure.ObjectionAnswered{NoticeID: "n-1", ObjectionID: "o-1",
		Answer: "已附三家比价记录", AnsweredAt: t0.Add(3 * day)})
	return h
}

func TestNoticesVersionsWithdrawalsObjections(t *testing.T) {
	t.Parallel()
	h := sample()
	pool := readmodeltest.Projected(t, board.New(), h.Events, 0)
	ctx := context.Background()
	ev := h.Events

	cur, err := board.CurrentNotices(ctx, pool, luoxi.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(cur) != 1 || cur[0].NoticeID != "n-1" {
		t.Fatalf("current notices: %+v", cur)
	}
	n := cur[0]
	if n.Status != board.Corrected || n.Category != disclosure.Finance || n.Jurisdiction != luoxi.Path || !n.PublishedAt.Equal(t0) ||
		!n.Period.From.Equal(t0.Add(-30*day)) || len(n.Refs) != 1 || n.Refs[0].ID != "x-1" || n.Withdrawal != nil {
		t.Fatalf("notice: %+v", n)
	}
	c := n.Current
	if c.Version != 2 || c.Title != "2月财务收支公开(更正)" || c.Reason != "支出金额录入错误" || len(c.Attachments) != 1 || c.Attachments[0].SHA256 != sha2 ||
		!c.Window.Start.Equal(t0.Add(day)) || !c.Window.End.Equal(t0.Add(10*day)) || c.EventID != ev[3].ID || c.Commit != ev[3].Position.Commit {
		t.Fatalf("current version: %+v", c)
	}
	if o := n.Objections; o.Raised != 2 || o.Answered != 1 || o.EventID != ev[7].ID || o.Commit != ev[7].Position.Commit {
		t.Fatalf("objection counts: %+v", o)
	}

	hist, err := board.NoticeHistory(ctx, pool, luoxi.ID, "n-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist.Versions) != 2 || hist.Versions[0].Version != 1 || hist.Versions[0].Title != "2月财务收支公开" || hist.Versions[0].Reason != "" ||
		hist.Versions[0].Attachments[0].SHA256 != sha || !hist.Versions[0].Window.End.Equal(t0.Add(7*day)) || hist.Versions[0].EventID != ev[0].ID ||
		hist.Versions[1].Version != 2 || hist.Versions[1].Reason != "支出金额录入错误" || hist.Versions[1].Commit != ev[3].Position.Commit {
		t.Fatalf("versions: %+v", hist.Versions)
	}
	if len(hist.Objections) != 2 || hist.Objections[0].ID != "o-1" || !hist.Objections[0].AnsweredAt.Equal(t0.Add(3*day)) ||
		hist.Objections[0].AnsweredEventID != ev[7].ID || hist.Objections[1].ID != "o-2" || !hist.Objections[1].AnsweredAt.IsZero() ||
		hist.Objections[1].RaisedCommit != ev[5].Position.Commit || hist.Objections[0].Answer != "已附三家比价记录" || hist.Objections[1].Answer != "" {
		t.Fatalf("objections: %+v", hist.Objections)
	}
	// A resident finds their objection by its id (the receipt code), the answer with it; never who objected.
	if o, err := board.ObjectionByID(ctx, pool, "o-1"); err != nil || o.CommunityID != luoxi.ID || o.NoticeID != "n-1" || o.Answer != "已附三家比价记录" {
		t.Fatalf("objection o-1 by id: %+v %v", o, err)
	}
	if _, err := board.ObjectionByID(ctx, pool, "o-none"); !errors.Is(err, board.ErrNotFound) {
		t.Fatalf("an unknown objection: %v", err)
	}
	// Sentences name a notice by its current title.
	if titles, err := board.Titles(ctx, pool, luoxi.ID, []string{"n-1", "n-9"}); err != nil || len(titles) != 1 || titles["n-1"] != "2月财务收支公开(更正)" {
		t.Fatalf("titles: %v %v", titles, err)
	}

	w, err := board.NoticeHistory(ctx, pool, luoxi.ID, "n-2")
	if err != nil {
		t.Fatal(err)
	}
	if w.Notice.Status != board.Withdrawn || w.Notice.Withdrawal == nil || w.Notice.Withdrawal.Reason != "内容有误，重新发布" ||
		w.Notice.Withdrawal.EventID != ev[4].ID || len(w.Versions) != 1 {
		t.Fatalf("withdrawn notice: %+v", w)
	}
	if _, err := board.NoticeHistory(ctx, pool, luoxi.ID, "n-9"); !errors.Is(err, board.ErrNotFound) {
		t.Fatalf("unknown notice: %v", err)
	}

	active := func(under string, at time.Time) string {
		ns, err := board.ActiveWindows(ctx, pool, under, at, 0)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, n := range ns {
			ids = append(ids, n.NoticeID)
		}
		return strings.Join(ids, ",")
	}
	for _, c := range []struct {
		under string
		at    time.Time
		want  string
	}{
		{"", t0.Add(time.Minute), ""},    // n-1's window moved to start a day later; n-2 is withdrawn
		{"", t0.Add(3 * day), "n-3,n-1"}, // n-3 closes first
		{"", t0.Add(8 * day), "n-3,n-1"}, // n-1's corrected window ends on day 10
		{"", t0.Add(10 * day), "n-1"},    // both ends included
		{"", t0.Add(10*day + time.Microsecond), ""},
		{"33/3303/330303", t0.Add(3 * day), "n-1"},
		{"33/3303/33030", t0.Add(3 * day), ""}, // a prefix of a code is not an ancestor
		{"33/3303/330304/", t0.Add(3 * day), "n-3"},
	} {
		if got := active(c.under, c.at); got != c.want {
			t.Errorf("active windows under %q at %s: %q, want %q", c.under, c.at, got, c.want)
		}
	}

	// The statistics of the tables a notice is read from can be refreshed on demand (an auditor's scratch
	// copy has none).
	if err := board.AnalyzeNoticeTables(ctx, pool); err != nil {
		t.Fatal(err)
	}
	var analyzed int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_user_tables WHERE schemaname = $1 AND analyze_count > 0
		AND relname IN ('notices', 'notice_versions', 'objections')`, board.Schema).Scan(&analyzed); err != nil || analyzed != 3 {
		t.Fatalf("%d of the notice tables analyzed (%v), want 3", analyzed, err)
	}
}

// TestContract: the read-model contract (readmodeltest) over the sample and a generated district. The
// board halts on a poison event (an unknown schema version, a malformed payload).
func TestContract(t *testing.T) {
	readmodeltest.Run(t, readmodeltest.Model{New: func() runtime.ReadModel { return board.New() }, Sample: sample().Events,
		Redelivery: decodetest.Idempotent, Handles: "disclosure.published", SampleSecrets: sampleSecrets})
}

// sampleSecrets are the personal data and private texts of the sample that no row may hold (the contract
// checks them).
var sampleSecrets = []string{"吴十一", "330303198805051234", "13512345678", "罗西社区5幢", "p-r1", "p-r2", "路灯维修费用偏高", "另一条异议"} // the answer is public
