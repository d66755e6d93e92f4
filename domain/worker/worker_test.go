package worker_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/internal/domaintest"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/worker"
)

var (
	cst      = kernel.ChinaTime()
	t0       = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC) // 2 March, 09:00 in China
	now      = time.Date(2026, 12, 4, 2, 0, 0, 0, time.UTC)
	defaults = rulebook.Defaults()
	staff5   = worker.Post{Series: worker.Staff, Grade: 5}
)

func hired(id string, person kernel.PersonID, post worker.Post) worker.Hired {
	return worker.Hired{WorkerID: id, Person: person, Personal: &kernel.PersonalData{Subject: person, Name: "陈" + string(person)}, Post: post, HiredAt: t0, Posts: 7}
}

func samples() []kernel.Event {
	h := hired("w-1", "p-1", staff5)
	h.Member = true
	h.Breaches = []kernel.Breach{{Rule: rulebook.StaffingLimit, Detail: "在岗社区工作者8人，超过核定职数7人(服务1200户)"}}
	return []kernel.Event{
		h,
		worker.PostChanged{WorkerID: "w-1", From: staff5, To: worker.Post{Series: worker.Staff, Grade: 6}, Reason: "年度考核优秀晋级", ChangedAt: t0},
		worker.Trained{WorkerID: "w-1", TrainingID: "2026-1", Course: "社区工作者岗位培训(民政局)", Hours: 16, TrainedAt: t0},
		worker.Left{WorkerID: "w-1", Reason: worker.Transferred, LeftAt: t0, Posts: 7, Watch: kernel.Watch{Breaches: []kernel.Breach{{Rule: rulebook.StaffingLimit, Detail: "超过"}}}},
	}
}

func TestGoldens(t *testing.T) {
	domaintest.Goldens(t, domaintest.Registry(t, worker.RegisterEvents), "testdata", samples())
}

func run(t *testing.T, cases []domaintest.Case[*worker.Roster]) {
	t.Helper()
	domaintest.Run(t, domaintest.Registry(t, worker.RegisterEvents), func() *worker.Roster { return &worker.Roster{} }, cases)
}

func hire(id string, person kernel.PersonID, post worker.Post, households int) func(*worker.Roster) ([]kernel.Event, error) {
	return func(r *worker.Roster) ([]kernel.Event, error) {
		return r.Hire(worker.Hire{WorkerID: id, Person: person, Personal: &kernel.PersonalData{Subject: person, Name: "陈" + string(person)},
			Post: post, HiredAt: t0}, households, defaults, now)
	}
}

func TestRoster(t *testing.T) {
	w1 := hired("w-1", "p-1", staff5)
	left := worker.Left{WorkerID: "w-1", Reason: worker.Resigned, LeftAt: t0.AddDate(0, 1, 0), Posts: 7}
	run(t, []domaintest.Case[*worker.Roster]{
		{Name: "hire", When: hire("w-1", "p-1", staff5, 1200), Then: []kernel.Event{w1}},
		{Name: "the same worker id twice", Given: []kernel.Event{w1}, When: hire("w-1", "p-2", staff5, 1200), ThenErr: worker.ErrWorkerExists},
		{Name: "a person already on the roster", Given: []kernel.Event{w1}, When: hire("w-2", "p-1", staff5, 1200), ThenErr: worker.ErrPersonOnRoster},
		{Name: "rehired under a new id after leaving", Given: []kernel.Event{w1, left}, When: hire("w-2", "p-1", staff5, 1200), ThenNames: []string{"worker.hired"}},
		{Name: "grade 19 does not exist", When: hire("w-1", "p-1", worker.Post{Series: worker.Staff, Grade: 19}, 1200),
			ThenErr: kernel.Invalid("invalid-post-grade", "post.grade", "")},
		{Name: "an unknown series", When: hire("w-1", "p-1", worker.Post{Series: "clerk", Grade: 1}, 1200),
			ThenErr: kernel.Invalid("invalid-post-series", "post.series", "")},
		{Name: "a hire without the name", When: func(r *worker.Roster) ([]kernel.Event, error) {
			return r.Hire(worker.Hire{WorkerID: "w-1", Person: "p-1", Post: staff5}, 1200, defaults, now)
		}, ThenErr: kernel.Invalid("required", "personal.name", "")},
		{Name: "a hire dated in the future", When: func(r *worker.Roster) ([]kernel.Event, error) {
			return r.Hire(worker.Hire{WorkerID: "w-1", Person: "p-1", Personal: &kernel.PersonalData{Subject: "p-1", Name: "陈一"}, Post: staff5,
				HiredAt: now.Add(48 * time.Hour)}, 1200, defaults, now)
		}, ThenErr: kernel.Invalid("time-in-future", "hired_at", "")},
		{Name: "promoted", Given: []kernel.Event{w1}, When: func(r *worker.Roster) ([]kernel.Event, error) {
			return r.ChangePost("w-1", worker.Post{Series: worker.Deputy, Grade: 3}, "竞聘社区副职", t0.AddDate(0, 6, 0), now)
		}, Then: []kernel.Event{worker.PostChanged{WorkerID: "w-1", From: staff5, To: worker.Post{Series: worker.Deputy, Grade: 3}, Reason: "竞聘社区副职",
			ChangedAt: t0.AddDate(0, 6, 0)}}},
		{Name: "moved to the post held", Given: []kernel.Event{w1}, When: func(r *worker.Roster) ([]kernel.Event, error) {
			return r.ChangePost("w-1", staff5, "x", t0, now)
		}, ThenErr: worker.ErrSamePost},
		{Name: "a post change before the hire", Given: []kernel.Event{w1}, When: func(r *worker.Roster) ([]kernel.Event, error) {
			return r.ChangePost("w-1", worker.Post{Series: worker.Staff, Grade: 6}, "晋级", t0.Add(-time.Hour), now)
		}, ThenErr: kernel.Invalid("before-hire", "changed_at", "")},
		{Name: "trained", Given: []kernel.Event{w1}, When: func(r *worker.Roster) ([]kernel.Event, error) {
			return r.RecordTraining("w-1", "2026-1", "社区工作者岗位培训", 16, t0.AddDate(0, 2, 0), now)
		}, ThenNames: []string{"worker.trained"}},
		{Name: "the same training twice", Given: []kernel.Event{w1, worker.Trained{WorkerID: "w-1", TrainingID: "2026-1", Course: "x", Hours: 8, TrainedAt: t0}},
			When: func(r *worker.Roster) ([]kernel.Event, error) {
				return r.RecordTraining("w-1", "2026-1", "社区工作者岗位培训", 16, t0, now)
			}, ThenErr: worker.ErrTrainingExists},
		{Name: "a training of no hours", Given: []kernel.Event{w1}, When: func(r *worker.Roster) ([]kernel.Event, error) {
			return r.RecordTraining("w-1", "2026-1", "社区工作者岗位培训", 0, t0, now)
		}, ThenErr: kernel.Invalid("invalid-training-hours", "hours", "")},
		{Name: "a training of someone not on the roster", When: func(r *worker.Roster) ([]kernel.Event, error) {
			return r.RecordTraining("w-9", "2026-1", "社区工作者岗位培训", 8, t0, now)
		}, ThenErr: worker.ErrWorkerNotFound},
		{Name: "leaves", Given: []kernel.Event{w1}, When: func(r *worker.Roster) ([]kernel.Event, error) {
			return r.Leave("w-1", worker.Resigned, t0.AddDate(0, 1, 0), 1200, defaults, now)
		}, Then: []kernel.Event{left}},
		{Name: "leaves twice", Given: []kernel.Event{w1, left}, When: func(r *worker.Roster) ([]kernel.Event, error) {
			return r.Leave("w-1", worker.Resigned, t0.AddDate(0, 2, 0), 1200, defaults, now)
		}, ThenErr: worker.ErrWorkerLeft},
		{Name: "an unknown reason", Given: []kernel.Event{w1}, When: func(r *worker.Roster) ([]kernel.Event, error) {
			return r.Leave("w-1", "fired", t0, 1200, defaults, now)
		}, ThenErr: kernel.Invalid("invalid-leave-reason", "reason", "")},
	})
}

// TestRule_StaffingLimit: a community has the rulebook's posts (7), or one per 300 households when that
// is more; the hire that takes the roster past them carries the breach, as does a leave that leaves it
// still over; an override on the jurisdiction changes the posts.
func TestRule_StaffingLimit(t *testing.T) {
	if got := worker.Posts(1200, defaults); got != 7 {
		t.Fatalf("posts of 1 200 households = %d, want 7", got)
	}
	if got := worker.Posts(2401, defaults); got != 9 {
		t.Fatalf("posts of 2 401 households = %d, want 9", got)
	}
	var seven []kernel.Event
	for i := range 7 {
		id := string(rune('a' + i))
		seven = append(seven, hired("w-"+id, kernel.PersonID("p-"+id), staff5))
	}
	eight := append(append([]kernel.Event(nil), seven...), hired("w-h", "p-h", staff5))
	run(t, []domaintest.Case[*worker.Roster]{
		{Name: "the seventh of seven posts", Given: seven[:6], When: hire("w-g", "p-g", staff5, 1200)},
		{Name: "the eighth of seven posts", Given: seven, When: hire("w-h", "p-h", staff5, 1200), ThenBreaches: []kernel.RuleID{rulebook.StaffingLimit}},
		{Name: "the eighth in a community of 2 400 households (8 posts)", Given: seven, When: hire("w-h", "p-h", staff5, 2400)},
		{Name: "one of eight leaves: back within seven", Given: eight, When: func(r *worker.Roster) ([]kernel.Event, error) {
			return r.Leave("w-a", worker.Retired, t0.Add(time.Hour), 1200, defaults, now)
		}},
		{Name: "one of eight leaves where the posts are six: still over", Given: eight, When: func(r *worker.Roster) ([]kernel.Event, error) {
			p, err := defaults.With(rulebook.StaffingLimit, rulebook.ParamPosts, "6")
			if err != nil {
				return nil, err
			}
			return r.Leave("w-a", worker.Retired, t0.Add(time.Hour), 1200, p, now)
		}, ThenBreaches: []kernel.RuleID{rulebook.StaffingLimit}},
	})
	evs, err := worker.Rehydrate(seven).Hire(worker.Hire{WorkerID: "w-h", Person: "p-h", Personal: &kernel.PersonalData{Subject: "p-h", Name: "陈八"},
		Post: staff5}, 1200, defaults, now)
	if err != nil || len(evs) != 1 {
		t.Fatal(evs, err)
	}
	if d := evs[0].(worker.Hired).Breaches[0].Detail; d != "在岗社区工作者8人，超过核定职数7人(服务1200户)" {
		t.Fatalf("detail %q", d)
	}
}

// TestRule_PayScale: the grade scale of the rulebook (三岗十八级) gives each payment its band — a whole
// month's basic pay is exactly the post's, a month of hire or leave at least its share by days; a
// quarter's performance pay at most 30 % of three months' basic pay; the annual bonus at most two
// months'. A jurisdiction's override changes the scale; a payment outside the band is a breach.
func TestRule_PayScale(t *testing.T) {
	hiredMid := hired("w-1", "p-1", staff5)
	hiredMid.HiredAt = time.Date(2026, 3, 16, 9, 0, 0, 0, cst) // 16 of 31 days of March
	promoted := worker.PostChanged{WorkerID: "w-1", From: staff5, To: worker.Post{Series: worker.Deputy, Grade: 2}, Reason: "竞聘",
		ChangedAt: time.Date(2026, 7, 10, 9, 0, 0, 0, cst)}
	r := worker.Rehydrate([]kernel.Event{hiredMid, promoted})
	if got := worker.BasicPay(staff5, defaults); got != kernel.Yuan(4800) {
		t.Fatalf("staff grade 5 = %s, want ¥4,800 (4 200 + 4 × 150)", got)
	}
	cases := []struct {
		c        worker.Component
		period   string
		min, max kernel.Fen
	}{
		{worker.Basic, "2026-04", kernel.Yuan(4800), kernel.Yuan(4800)},
		{worker.Basic, "2026-03", kernel.Yuan(4800) * 16 / 31, kernel.Yuan(4800)},
		{worker.Basic, "2026-07", kernel.Yuan(4800), kernel.Yuan(4950)}, // promoted on 10 July: the band spans both posts
		{worker.Basic, "2026-08", kernel.Yuan(4950), kernel.Yuan(4950)}, // 社区副职2级: 4 800 + 150
		{worker.Performance, "2026-Q2", 0, kernel.Yuan(4800) * 3 * 30 / 100},
		{worker.AnnualBonus, "2026", 0, kernel.Yuan(4950) * 2},
	}
	for _, c := range cases {
		b, err := r.Band("w-1", c.c, c.period, defaults)
		if err != nil || b.Min != c.min || b.Max != c.max {
			t.Errorf("%s %s: band [%s, %s] %v, want [%s, %s]", c.c, c.period, b.Min, b.Max, err, c.min, c.max)
		}
	}
	b, _ := r.Band("w-1", worker.Basic, "2026-04", defaults)
	if b.Breach(kernel.Yuan(4800)) != nil {
		t.Fatal("the scale's own figure is a breach")
	}
	over := b.Breach(kernel.Yuan(5200))
	if over == nil || over.Rule != rulebook.PayScale || !strings.Contains(over.Detail, "2026年4月基本工资") || !strings.Contains(over.Detail, "社区专职工作者5级") {
		t.Fatalf("overpaid: %+v", over)
	}
	if under := b.Breach(kernel.Yuan(4000)); under == nil || !strings.Contains(under.Detail, "低于") {
		t.Fatalf("underpaid: %+v", under)
	}
	rich, err := defaults.With(rulebook.PayScale, rulebook.ParamBasicStaff, "500000")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := r.Band("w-1", worker.Basic, "2026-04", rich); b.Max != kernel.Yuan(5600) || b.Breach(kernel.Yuan(5200)) == nil {
		t.Fatalf("an override of the scale: %+v", b)
	}
	for _, bad := range []struct {
		c      worker.Component
		period string
		want   error
	}{
		{worker.Basic, "2026-02", worker.ErrNotEmployed},
		{worker.Basic, "2026-Q1", kernel.Invalid("invalid-pay-period", "payroll.period", "")},
		{worker.Performance, "2026-11", kernel.Invalid("invalid-pay-period", "payroll.period", "")},
		{worker.AnnualBonus, "2025", worker.ErrNotEmployed},
		{"overtime", "2026", kernel.Invalid("invalid-pay-component", "payroll.component", "")},
	} {
		if _, err := r.Payee("w-1", bad.c, bad.period); !errors.Is(err, bad.want) {
			t.Errorf("%s %s: %v, want %v", bad.c, bad.period, err, bad.want)
		}
	}
	if _, err := r.Payee("w-9", worker.Basic, "2026-04"); !errors.Is(err, worker.ErrWorkerNotFound) {
		t.Errorf("a worker not on the roster: %v", err)
	}
}
