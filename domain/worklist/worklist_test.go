package worklist_test

import (
	"errors"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/internal/domaintest"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/worklist"
)

var (
	t0       = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	district = kernel.JurisdictionPath("33/3303/330303")
	listed   = worklist.DutyListed{District: district, DutyID: "d-01", List: worklist.Assists, Title: "协助开展人口普查", Basis: "《全国人口普查条例》",
		ListedAt: t0}
	applied = worklist.TaskApplied{District: district, TaskID: "t-01", Department: "区市场监管局", Title: "协助开展食品安全入户宣传",
		LegalBasis: "《食品安全法》第十条", Funding: kernel.Yuan(3000), AppliedAt: t0}
	admitted = worklist.TaskDecided{District: district, TaskID: "t-01", Admitted: true, DecidedAt: t0}
)

func samples() []kernel.Event {
	return []kernel.Event{
		listed,
		worklist.DutyDelisted{District: district, DutyID: "d-01", Reason: "普查结束", DelistedAt: t0},
		applied,
		worklist.TaskDecided{District: district, TaskID: "t-02", Admitted: false, Reason: "属部门自身职责，不得转嫁社区", DecidedAt: t0},
		worklist.TaskReceived{RecordID: "r-01", Department: "区住建局", Title: "统计辖区电梯数量", ReceivedAt: t0,
			Watch: kernel.Watch{Breaches: []kernel.Breach{{Rule: rulebook.WorkAdmission, Detail: "未经准入"}}}},
	}
}

func TestGoldens(t *testing.T) {
	domaintest.Goldens(t, domaintest.Registry(t, worklist.RegisterEvents), "testdata", samples())
}

func TestDistrictList(t *testing.T) {
	reg := domaintest.Registry(t, worklist.RegisterEvents)
	domaintest.Run(t, reg, func() *worklist.District { return &worklist.District{} }, []domaintest.Case[*worklist.District]{
		{Name: "list a duty", When: func(d *worklist.District) ([]kernel.Event, error) {
			return d.ListDuty(district, "d-01", worklist.Assists, "协助开展人口普查", "《全国人口普查条例》", t0)
		}, Then: []kernel.Event{listed}},
		{Name: "a street does not publish the list", When: func(d *worklist.District) ([]kernel.Event, error) {
			return d.ListDuty(district+"/330303001", "d-01", worklist.Assists, "x", "y", t0)
		}, ThenErr: worklist.ErrNotADistrict},
		{Name: "list twice", Given: []kernel.Event{listed}, When: func(d *worklist.District) ([]kernel.Event, error) {
			return d.ListDuty(district, "d-01", worklist.Performs, "x", "y", t0)
		}, ThenErr: worklist.ErrDutyExists},
		{Name: "apply", When: func(d *worklist.District) ([]kernel.Event, error) {
			return d.ApplyTask(district, worklist.ApplyTask{TaskID: "t-01", Department: "区市场监管局", Title: "协助开展食品安全入户宣传",
				LegalBasis: "《食品安全法》第十条", Funding: kernel.Yuan(3000)}, t0)
		}, Then: []kernel.Event{applied}},
		{Name: "refuse without a reason", Given: []kernel.Event{applied}, When: func(d *worklist.District) ([]kernel.Event, error) {
			return d.DecideTask(district, "t-01", false, "", t0)
		}, ThenErr: worklist.ErrRefusalReason},
		{Name: "admit", Given: []kernel.Event{applied}, When: func(d *worklist.District) ([]kernel.Event, error) {
			return d.DecideTask(district, "t-01", true, "", t0)
		}, Then: []kernel.Event{admitted}},
		{Name: "decide twice", Given: []kernel.Event{applied, admitted}, When: func(d *worklist.District) ([]kernel.Event, error) {
			return d.DecideTask(district, "t-01", false, "x", t0)
		}, ThenErr: worklist.ErrTaskDecided},
	})
}

// TestRule_WorkAdmission: 未列入清单、未经准入的工作事项不得转嫁给社区 (watch): a task a community records is
// allowed by a duty on its district's list or an admitted task (whose funding it carries); one allowed by
// neither — named by nothing, a duty taken off the list, a task refused or undecided — carries the breach;
// a duty or task the district never had is refused.
func TestRule_WorkAdmission(t *testing.T) {
	refused := worklist.TaskApplied{District: district, TaskID: "t-02", Department: "区住建局", Title: "统计电梯", LegalBasis: "无", AppliedAt: t0}
	d := worklist.RehydrateDistrict([]kernel.Event{listed, applied, admitted, refused,
		worklist.TaskDecided{District: district, TaskID: "t-02", Reason: "属部门自身职责", DecidedAt: t0},
		worklist.DutyListed{District: district, DutyID: "d-02", List: worklist.Performs, Title: "x", Basis: "y", ListedAt: t0},
		worklist.DutyDelisted{District: district, DutyID: "d-02", Reason: "取消", DelistedAt: t0}})
	receive := func(duty, task string) ([]kernel.Event, error) {
		return (&worklist.Tasks{}).Receive(worklist.Receive{RecordID: "r-1", Department: "区某局", Title: "某项工作", DutyID: duty, TaskID: task}, d, t0)
	}
	for _, c := range []struct {
		name       string
		duty, task string
		breach     bool
		err        error
	}{
		{"a duty on the list", "d-01", "", false, nil},
		{"an admitted task", "", "t-01", false, nil},
		{"named by nothing", "", "", true, nil},
		{"a duty taken off the list", "d-02", "", true, nil},
		{"a refused task", "", "t-02", true, nil},
		{"a duty the district never had", "d-99", "", false, worklist.ErrDutyNotFound},
	} {
		evs, err := receive(c.duty, c.task)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%s: %v, want %v", c.name, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		e := evs[0].(worklist.TaskReceived)
		if got := len(e.Breaches) == 1 && e.Breaches[0].Rule == rulebook.WorkAdmission; got != c.breach {
			t.Errorf("%s: breaches %+v", c.name, e.Breaches)
		}
		if c.task == "t-01" && e.Funding != kernel.Yuan(3000) {
			t.Errorf("an admitted task carries its funding: %v", e.Funding)
		}
	}
}
