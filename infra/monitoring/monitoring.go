// Package monitoring holds what operators load into their own monitoring: the Prometheus alerting rules
// (prometheus-rules.yml: projection lag and poison events, the alert engine, webhook failures, append
// latency, server errors) and a Grafana dashboard (grafana-dashboard.json, with a DS_PROMETHEUS input).
// Both are embedded so that tests check them against what `ledger serve` registers on /metrics.
package monitoring

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"

	"gopkg.in/yaml.v3"
)

// RulesYAML is the Prometheus rule file.
//
//go:embed prometheus-rules.yml
var RulesYAML []byte

// DashboardJSON is the Grafana dashboard.
//
//go:embed grafana-dashboard.json
var DashboardJSON []byte

// RuleFile is the shape of a Prometheus rule file.
type RuleFile struct {
	Groups []RuleGroup `yaml:"groups"`
}

// RuleGroup is a group of rules.
type RuleGroup struct {
	Name  string `yaml:"name"`
	Rules []Rule `yaml:"rules"`
}

// Rule is an alerting rule.
type Rule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// Rules parses RulesYAML strictly (unknown keys are an error).
func Rules() (RuleFile, error) {
	var f RuleFile
	dec := yaml.NewDecoder(bytes.NewReader(RulesYAML))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return RuleFile{}, fmt.Errorf("prometheus-rules.yml: %w", err)
	}
	return f, nil
}

// Dashboard is the part of a Grafana dashboard the tests read.
type Dashboard struct {
	Title  string  `json:"title"`
	UID    string  `json:"uid"`
	Panels []Panel `json:"panels"`
}

// Panel is a dashboard panel.
type Panel struct {
	ID      int    `json:"id"`
	Title   string `json:"title"`
	Type    string `json:"type"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

// ParseDashboard parses DashboardJSON.
func ParseDashboard() (Dashboard, error) {
	var d Dashboard
	if err := json.Unmarshal(DashboardJSON, &d); err != nil {
		return Dashboard{}, fmt.Errorf("grafana-dashboard.json: %w", err)
	}
	return d, nil
}

var metricName = regexp.MustCompile(`\bledger_[a-z0-9_]+`)

// histogramSuffix marks the series Prometheus derives from a histogram.
var histogramSuffix = regexp.MustCompile(`_(bucket|sum|count)$`)

// MetricNames lists the ledger metric families an expression reads (histogram series by their family's
// name), sorted and without repeats.
func MetricNames(exprs ...string) []string {
	var out []string
	for _, e := range exprs {
		out = append(out, metricName.FindAllString(e, -1)...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Family returns the metric family a series name belongs to, given the families that exist: a
// histogram's _bucket, _sum and _count series belong to the histogram.
func Family(series string, families map[string]bool) string {
	if families[series] {
		return series
	}
	if base := histogramSuffix.ReplaceAllString(series, ""); families[base] {
		return base
	}
	return series
}

// ReferencedMetrics lists every metric family name the rules and the dashboard read.
func ReferencedMetrics() (rules, dashboard []string, err error) {
	f, err := Rules()
	if err != nil {
		return nil, nil, err
	}
	var exprs []string
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
		}
	}
	d, err := ParseDashboard()
	if err != nil {
		return nil, nil, err
	}
	var dexprs []string
	for _, p := range d.Panels {
		for _, t := range p.Targets {
			dexprs = append(dexprs, t.Expr)
		}
	}
	return MetricNames(exprs...), MetricNames(dexprs...), nil
}
