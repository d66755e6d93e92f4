package workload

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// Options size and shape a generated history. The zero value is the default demo district: 龙湾区-like,
// 78 communities, three years ending at DefaultUntil, seed 0.
type Options struct {
	// Seed selects the history: the same seed and options always produce the same events, ids and order
	// of every stream (and, with Concurrency 1, the same $all order).
	Seed uint64
	// Communities is how many communities and villages to generate, in districts of up to 78 (the first
	// is 龙湾区 with six streets). Zero: 78, or as many as Target needs.
	Communities int
	// Years is how long the history runs, ending at Until. Zero: 3, or as many as Target needs when
	// Communities is set and Target is.
	Years int
	// Target, when positive, is the number of events to generate (up to millions). How it is reached:
	//   - Communities set and Years zero: the years grow until the expected count reaches Target;
	//   - Communities zero: communities are added (whole districts of 78 beyond the first) over Years
	//     (default 3) until it does.
	// Sizing aims about 5% above Target from the measured rate of events per community-year; the history
	// then stops at the end of the first simulated day at which Target is reached, so Stats.Events exceeds
	// Target by at most one day of the district's activity (well under 0.5% at a million events) and the
	// history ends a little before Until. If both Communities and Years are given and they cannot reach
	// Target, the history simply ends at Until with fewer events.
	Target int
	// Until is when the history ends (exclusive); it is truncated to midnight China time. Zero:
	// DefaultUntil. A live demo passes the current time so that the deadlines of the alert engine fall in
	// the present; a reproducible one passes a fixed date.
	Until time.Time
	// Concurrency is how many appends may be in flight at once. Zero: 64. Each stream's events are always
	// appended in order and their content never depends on it; only the interleaving of streams in $all
	// does. Concurrency 1 makes the $all order deterministic too.
	Concurrency int
	// Progress, when set, is updated as events are appended (for a progress bar).
	Progress *Progress
	// Documents, when set, receives every document the history names by hash (minutes, notice
	// attachments, audit reports, plans: small PDFs), from several goroutines at once, so that they can be
	// stored for the portal to serve. The history is the same with or without it.
	Documents func(pdf []byte)
}

// DefaultUntil is the end of the default history: 1 July 2026 in China, so the default three years
// include the 2026 general elections of village and residents' committees (换届选举).
var DefaultUntil = time.Date(2026, time.July, 1, 0, 0, 0, 0, kernel.ChinaTime())

// Defaults.
const (
	DefaultCommunities = MaxCommunitiesPerDistrict
	DefaultYears       = 3
	DefaultConcurrency = 64
	maxYears           = 100
)

// EventsPerCommunityYear is the measured average number of events one community's affairs produce in a
// year (salaries and everyday spending, meetings, topics, notices, audits, a fifth of an election); it
// sizes a Target and estimates progress.
const EventsPerCommunityYear = 710

// sizingMargin is how far above Target the sizing aims, so that the variation between communities does
// not leave Target out of reach.
const sizingMargin = 1.05

// Progress counts appended events for a progress display. It is safe for concurrent use; the zero value
// is ready.
type Progress struct {
	planned atomic.Int64
	done    atomic.Int64
}

// Planned is the number of events the run expects to write (an estimate until the run ends, exact then).
func (p *Progress) Planned() int64 { return p.planned.Load() }

// Done is the number of events appended so far.
func (p *Progress) Done() int64 { return p.done.Load() }

// plan is Options resolved: sizes, span and the estimate.
type plan struct {
	seed        uint64
	communities int
	years       int
	target      int
	start, end  time.Time
	concurrency int
	estimate    int
}

// Validate reports options Generate cannot use.
func (o Options) Validate() error {
	var errs []error
	if o.Communities < 0 {
		errs = append(errs, fmt.Errorf("communities %d must not be negative", o.Communities))
	}
	if o.Years < 0 || o.Years > maxYears {
		errs = append(errs, fmt.Errorf("years %d must be between 1 and %d", o.Years, maxYears))
	}
	if o.Target < 0 {
		errs = append(errs, fmt.Errorf("target %d must not be negative", o.Target))
	}
	if o.Concurrency < 0 {
		errs = append(errs, fmt.Errorf("concurrency %d must not be negative", o.Concurrency))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("workload options: %w", err)
	}
	return nil
}

func (o Options) plan() (plan, error) {
	if err := o.Validate(); err != nil {
		return plan{}, err
	}
	p := plan{seed: o.Seed, communities: o.Communities, years: o.Years, target: o.Target, concurrency: o.Concurrency}
	if p.concurrency == 0 {
		p.concurrency = DefaultConcurrency
	}
	need := func(units int) int { // communities or years needed for the target, over units of the other
		return int(float64(p.target)*sizingMargin/float64(EventsPerCommunityYear))/units + 1
	}
	switch {
	case p.target == 0:
		if p.communities == 0 {
			p.communities = DefaultCommunities
		}
		if p.years == 0 {
			p.years = DefaultYears
		}
	case p.communities > 0 && p.years > 0: // both given: the target can only stop the history early
	case p.communities > 0:
		p.years = min(maxYears, need(p.communities))
	default:
		if p.years == 0 {
			p.years = DefaultYears
		}
		p.communities = need(p.years)
		if p.communities > MaxCommunitiesPerDistrict { // whole districts
			p.communities = (p.communities + MaxCommunitiesPerDistrict - 1) / MaxCommunitiesPerDistrict * MaxCommunitiesPerDistrict
		}
	}
	until := o.Until
	if until.IsZero() {
		until = DefaultUntil
	}
	cst := kernel.ChinaTime()
	u := until.In(cst)
	p.end = time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, cst)
	p.start = p.end.AddDate(-p.years, 0, 0)
	p.estimate = p.communities * p.years * EventsPerCommunityYear
	if p.target > 0 {
		p.estimate = min(p.estimate, p.target)
	}
	return p, nil
}
