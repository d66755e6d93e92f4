package supervision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/assessment"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rating"
	"github.com/grassroots-ledger/ledger/projections/directory"
)

// StandingConfig configures the standing job.
type StandingConfig struct {
	Pool     *pgxpool.Pool
	Handlers *commands.Handlers // with the read models (WithStandings)
	Clock    commands.Clock
	Logger   *slog.Logger
	// Every is how often it looks (default 5 minutes).
	Every time.Duration
	// Ready, when set, reports whether the read models have caught up with the store: the job records
	// nothing from models still catching up.
	Ready func(context.Context) bool
}

// StandingJob records, once a month or a quarter has ended, every community's rating for it
// (record-rating), and once a year has ended, freezes every assessed community's year
// (freeze-assessment). Both go through the command handlers as the system's supervisor, with command
// ids named after the community and the period: a retry, a restart or a second process appends nothing
// twice. A rating records the community as it stands when the job runs — a minute past the period's end
// while the ledger runs, later after an outage (the event's taken_at says when).
type StandingJob struct{ cfg StandingConfig }

// NewStandingJob returns the job.
func NewStandingJob(cfg StandingConfig) *StandingJob {
	if cfg.Every <= 0 {
		cfg.Every = 5 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &StandingJob{cfg: cfg}
}

// standingActor is who the job's commands are recorded as.
var standingActor = commands.Actor{Subject: "standing", Role: commands.RoleSupervisor, Scope: "*"}

// Run runs the job until ctx ends.
func (j *StandingJob) Run(ctx context.Context) error {
	for {
		wait := j.cfg.Every
		if j.cfg.Ready != nil && !j.cfg.Ready(ctx) {
			j.cfg.Logger.Debug("standing job: the read models are catching up")
			wait = min(wait, 10*time.Second) // look again soon: a start catches up in minutes
		} else if n, err := j.Once(ctx); err != nil && ctx.Err() == nil {
			j.cfg.Logger.Warn("standing job", "err", err)
		} else if n > 0 {
			j.cfg.Logger.Info("standing job: ratings recorded and years frozen", "events", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// Once records what is due now: the ratings of the month and the quarter that last ended and the
// frozen years of the year that last ended. It returns how many events it recorded.
func (j *StandingJob) Once(ctx context.Context) (int, error) {
	now := j.cfg.Clock.Now()
	month, quarter := rating.Ended(now)
	year := now.In(kernel.ChinaTime()).Year() - 1
	rated := map[string]map[string]bool{}
	for _, p := range []string{month, quarter} {
		r, err := directory.Rated(ctx, j.cfg.Pool, p)
		if err != nil {
			return 0, err
		}
		rated[p] = r
	}
	frozen, err := directory.Frozen(ctx, j.cfg.Pool, year)
	if err != nil {
		return 0, err
	}
	schemed, err := directory.Schemed(ctx, j.cfg.Pool, year)
	if err != nil {
		return 0, err
	}
	assessed := func(path kernel.JurisdictionPath) bool {
		return slices.ContainsFunc(schemed, func(s kernel.JurisdictionPath) bool { return s.Contains(path) })
	}
	n := 0
	err = directory.EachCommunity(ctx, j.cfg.Pool, "", func(c directory.Community) error {
		for _, p := range []string{month, quarter} {
			if rated[p][c.ID] {
				continue
			}
			m := commands.Meta{CommandID: fmt.Sprintf("rating-%s-%s", c.ID, p), Actor: standingActor, Command: "record-rating"}
			if _, err := j.cfg.Handlers.RecordRating(ctx, m, commands.RecordRating{CommunityID: c.ID, Period: p}); err != nil && !errors.Is(err, rating.ErrRecorded) {
				return fmt.Errorf("rating of %s for %s: %w", c.ID, p, err)
			}
			n++
		}
		if frozen[c.ID] || !assessed(kernel.JurisdictionPath(c.Path)) {
			return nil
		}
		m := commands.Meta{CommandID: fmt.Sprintf("assessment-%s-%d", c.ID, year), Actor: standingActor, Command: "freeze-assessment"}
		if _, err := j.cfg.Handlers.FreezeAssessment(ctx, m, commands.FreezeAssessment{CommunityID: c.ID, Year: year}); err != nil &&
			!errors.Is(err, assessment.ErrFrozen) {
			return fmt.Errorf("assessment of %s for %d: %w", c.ID, year, err)
		}
		n++
		return nil
	})
	return n, err
}
