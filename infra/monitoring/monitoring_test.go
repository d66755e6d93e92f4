package monitoring_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/grassroots-ledger/ledger/infra/monitoring"
)

var alertName = regexp.MustCompile(`^Ledger[A-Z][A-Za-z]+$`)

// TestRulesParse: the rule file is valid YAML of Prometheus's shape, every rule is complete, and the
// two rules the runbook relies on exist (projection lag, webhook failures).
func TestRulesParse(t *testing.T) {
	f, err := monitoring.Rules()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, g := range f.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("group %q is empty or unnamed", g.Name)
		}
		for _, r := range g.Rules {
			if !alertName.MatchString(r.Alert) || seen[r.Alert] {
				t.Errorf("alert name %q is not Ledger<CamelCase> or repeats", r.Alert)
			}
			seen[r.Alert] = true
			if strings.TrimSpace(r.Expr) == "" || len(monitoring.MetricNames(r.Expr)) == 0 {
				t.Errorf("%s: expression %q reads no ledger metric", r.Alert, r.Expr)
			}
			if strings.Count(r.Expr, "(") != strings.Count(r.Expr, ")") {
				t.Errorf("%s: unbalanced parentheses in %q", r.Alert, r.Expr)
			}
			if r.For != "" {
				if _, err := model.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for %q: %v", r.Alert, r.For, err)
				}
			}
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("%s: severity label %q", r.Alert, s)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: summary and description annotations are required", r.Alert)
			}
		}
	}
	for _, want := range []string{"LedgerProjectionLagging", "LedgerWebhookDeliveriesFailing"} {
		if !seen[want] {
			t.Errorf("no rule %s", want)
		}
	}
	_ = time.Second
}

func TestDashboardParses(t *testing.T) {
	d, err := monitoring.ParseDashboard()
	if err != nil {
		t.Fatal(err)
	}
	if d.UID == "" || d.Title == "" || len(d.Panels) < 10 {
		t.Fatalf("dashboard %q (%s) has %d panels", d.Title, d.UID, len(d.Panels))
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d repeats", p.ID)
		}
		ids[p.ID] = true
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
	}
	rules, dash, err := monitoring.ReferencedMetrics()
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) < 5 || len(dash) < 10 {
		t.Fatalf("rules read %v, dashboard %v", rules, dash)
	}
}

func TestMetricNames(t *testing.T) {
	got := monitoring.MetricNames(`histogram_quantile(0.99, sum by (le) (rate(ledger_x_seconds_bucket[5m]))) / ledger_y{a="ledger_z"} + ledger_y`)
	if strings.Join(got, ",") != "ledger_x_seconds_bucket,ledger_y,ledger_z" {
		t.Fatal(got)
	}
	fams := map[string]bool{"ledger_x_seconds": true}
	if monitoring.Family("ledger_x_seconds_bucket", fams) != "ledger_x_seconds" || monitoring.Family("ledger_q_count", fams) != "ledger_q_count" {
		t.Fatal("family")
	}
}
