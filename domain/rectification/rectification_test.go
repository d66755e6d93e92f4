package rectification_test

import (
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/internal/domaintest"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rectification"
)

var (
	t0     = time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)
	due    = t0.AddDate(0, 0, 30)
	source = rectification.Source{Kind: rectification.Inspection, ID: "2026-r1", FindingID: "f-1", Finding: "村务公开栏未按季度更新"}
	order  = rectification.Ordered{RectificationID: "z-1", Source: source, Requirement: "补齐2025年第四季度村务公开", Due: due, OrderedAt: t0}
	sha    = strings.Repeat("c", 64)
)

func TestGoldens(t *testing.T) {
	domaintest.Goldens(t, domaintest.Registry(t, rectification.RegisterEvents), "testdata", []kernel.Event{order,
		rectification.Reported{RectificationID: "z-1", Response: "已于3月20日补齐公开并拍照存档", DocumentSHA256: sha, Late: true, ReportedAt: due}})
}

// TestRectification: an order on a finding of an inspection or an audit, with a deadline in the future
// (at most a year); the committee's report, on time or late (rectification-due is the deadline's: see
// domain/supervision TestRule_RectificationDue).
func TestRectification(t *testing.T) {
	give := func(cmd rectification.Order) func(*rectification.Rectification) ([]kernel.Event, error) {
		return func(r *rectification.Rectification) ([]kernel.Event, error) { return r.Order(cmd, t0) }
	}
	report := func(at time.Time) func(*rectification.Rectification) ([]kernel.Event, error) {
		return func(r *rectification.Rectification) ([]kernel.Event, error) {
			return r.Report("已补齐公开", "", at)
		}
	}
	ok := rectification.Order{RectificationID: "z-1", Source: source, Requirement: "补齐2025年第四季度村务公开", Due: due}
	audit := ok
	audit.Source = rectification.Source{Kind: rectification.Audit, ID: "2026-h1", FindingID: "f-3", Finding: "误工补贴缺少签收"}
	past, far, unknown, nothing := ok, ok, ok, ok
	past.Due, far.Due = t0.Add(-time.Hour), t0.AddDate(2, 0, 0)
	unknown.Source.Kind = "petition"
	nothing.Source.Finding = ""
	domaintest.Run(t, domaintest.Registry(t, rectification.RegisterEvents), func() *rectification.Rectification { return &rectification.Rectification{} },
		[]domaintest.Case[*rectification.Rectification]{
			{Name: "ordered", When: give(ok), Then: []kernel.Event{order}},
			{Name: "an audit finding ordered", When: give(audit), ThenNames: []string{"rectification.ordered"}},
			{Name: "ordered twice", Given: []kernel.Event{order}, When: give(ok), ThenErr: rectification.ErrExists},
			{Name: "a deadline past", When: give(past), ThenErr: kernel.Invalid("invalid-due", "due", "")},
			{Name: "a deadline two years off", When: give(far), ThenErr: kernel.Invalid("invalid-due", "due", "")},
			{Name: "an unknown kind of source", When: give(unknown), ThenErr: kernel.Invalid("invalid-source-kind", "source.kind", "")},
			{Name: "a finding the handler did not find", When: give(nothing), ThenErr: rectification.ErrFindingMissing},
			{Name: "reported on time", Given: []kernel.Event{order}, When: report(due.Add(-time.Hour)), Then: []kernel.Event{
				rectification.Reported{RectificationID: "z-1", Response: "已补齐公开", ReportedAt: due.Add(-time.Hour)}}},
			{Name: "reported late", Given: []kernel.Event{order}, When: report(due.Add(time.Hour)), Then: []kernel.Event{
				rectification.Reported{RectificationID: "z-1", Response: "已补齐公开", Late: true, ReportedAt: due.Add(time.Hour)}}},
			{Name: "reported twice", Given: []kernel.Event{order, rectification.Reported{RectificationID: "z-1", Response: "x", ReportedAt: t0}},
				When: report(t0), ThenErr: rectification.ErrReported},
			{Name: "a report of nothing ordered", When: report(t0), ThenErr: rectification.ErrNotFound},
		})
}
