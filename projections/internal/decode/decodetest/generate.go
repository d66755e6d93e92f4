package decodetest

import (
	"context"
	"fmt"

	"github.com/grassroots-ledger/ledger/infra/workload"
)

// GenConfig shapes a generated history.
type GenConfig struct {
	// Events is how many events to generate (the last simulated day may add a few more).
	Events int
	// Communities is how many communities act; default one per 950 events, at least 2.
	Communities int
	// Seed makes the history reproducible.
	Seed uint64
}

// Generate is a realistic history of a district's communities over the year up to July 2026 (the 2026
// general elections included): infra/workload's generator, the one the demo uses, which goes through the
// domain's decisions — registry and committees, budgets and expenditures (organisations and individuals
// as payees), notices with corrections, withdrawals and objections, meetings, votes and resolutions,
// deliberation topics, audits and elections — with the personal data the domain allows, the
// communities acting interleaved. It is recorded in memory with a dense $all, the same on every run.
func Generate(cfg GenConfig) *History {
	opts := workload.Options{Seed: cfg.Seed, Communities: cfg.Communities, Years: 1, Target: cfg.Events}
	if opts.Communities <= 0 {
		opts.Communities = max(2, cfg.Events/950)
	}
	evs, _, err := workload.Recorded(context.Background(), opts)
	if err != nil {
		panic(fmt.Sprintf("decodetest: generate %+v: %v", cfg, err))
	}
	return &History{Events: evs}
}
