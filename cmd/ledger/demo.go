package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/infra/docstore"
	"github.com/grassroots-ledger/ledger/infra/workload"
)

type demoOptions struct {
	data        string
	seed        uint64
	communities int
	years       int
	events      int
	until       string
	concurrency int
	force       bool
	list        int
	dbURL       string
}

func newDemoCmd() *cobra.Command {
	var o demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Write a realistic demo district (龙湾区-like: 6 streets, 78 communities, 3 years) into the store",
		Long: `demo simulates the governance records of a district like 龙湾区 in the seeds — six streets, 78 urban
communities (社区) and villages (村) — over several years, and writes them into the event store: the
2026 general elections, residents' assemblies twice a year with their motions and resolutions, monthly
salaries and everyday spending, major projects decided by the assembly, quarterly and payment
disclosures with residents' objections, five-step deliberation topics, semi-annual and exit audits,
corrections and withdrawals. Every event comes from the real domain rules, exactly as the command API
would record it; a few rules are broken on purpose (late minutes, a major payment without a resolution,
a short candidate-list publicity…) so that the alert engine has something to find. People, their ID
numbers and phones are fictitious.

With EVENTSTORE_URL unset it writes into the embedded node under --data/events, like serve. It refuses
a store that already holds ledger events (nothing is written) unless --force.

--events N sizes the history to about N events (up to millions): with --communities and no --years the
years grow; otherwise whole districts of 78 communities are added. The same --seed, sizes and --until
always give the same events (ids, content, order of every stream; only the ciphertext of the sealed
personal data differs); --concurrency 1 makes the order of $all the same too. --until defaults to today,
so that the history ends now.

Personal data is sealed as serve seals it, with data keys in the key store of DATABASE_URL (schema
keystore) under the key-encryption key $LEDGER_KEK_FILE or --data/ledger-kek.key (created if missing).`,
		Example: `  ledger demo                                   # 78 communities, 3 years, into .ledger/events
  ledger demo --seed 7 --communities 13 --years 1
  ledger demo --events 1000000 --data /tmp/bench   # a million events: 7 districts
  EVENTSTORE_URL=esdb://127.0.0.1:2113?tls=false ledger demo --until 2026-07-01`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.data, "data", ".ledger", "directory for local data (the embedded node's events), when EVENTSTORE_URL is unset")
	f.Uint64Var(&o.seed, "seed", 1, "selects the history; the same seed and sizes give the same events")
	f.IntVar(&o.communities, "communities", 0, "communities and villages to generate, in districts of up to 78 (default 78)")
	f.IntVar(&o.years, "years", 0, "years of history, ending at --until (default 3)")
	f.IntVar(&o.events, "events", 0, "generate about this many events (up to millions), adding districts or years")
	f.StringVar(&o.until, "until", "", "day the history ends, YYYY-MM-DD in China time (default today)")
	f.IntVar(&o.concurrency, "concurrency", 0, "appends in flight (default 64); 1 makes the $all order reproducible")
	f.BoolVar(&o.force, "force", false, "write even if the store already holds ledger events")
	f.IntVar(&o.list, "list", 5, "communities listed per street in the summary (0: all)")
	f.StringVar(&o.dbURL, "database-url", "", "PostgreSQL of the key store that seals the personal data (default $DATABASE_URL)")
	return cmd
}

func runDemo(ctx context.Context, cmd *cobra.Command, o demoOptions) error {
	if o.communities < 0 || o.years < 0 || o.events < 0 || o.concurrency < 0 {
		return usageError{cmd: "demo", err: fmt.Errorf("--communities, --years, --events and --concurrency must not be negative")}
	}
	cst := kernel.ChinaTime()
	until := time.Now().In(cst)
	if o.until != "" {
		t, err := time.ParseInLocation("2006-01-02", o.until, cst)
		if err != nil {
			return usageError{cmd: "demo", err: fmt.Errorf("--until %q: want a date such as 2026-07-01", o.until)}
		}
		until = t
	}
	until = time.Date(until.Year(), until.Month(), until.Day(), 0, 0, 0, 0, cst)
	progress := &workload.Progress{}
	opts := workload.Options{
		Seed: o.seed, Communities: o.communities, Years: o.years, Target: o.events, Until: until,
		Concurrency: o.concurrency, Progress: progress,
	}
	if err := opts.Validate(); err != nil {
		return usageError{cmd: "demo", err: err}
	}

	sh, err := openStore(ctx, o.data, nodeAt{})
	if err != nil {
		return err
	}
	defer sh.Close()
	storeNote := sh.Note
	ks, done, err := openSealer(ctx, o.dbURL, o.data)
	if err != nil {
		return fmt.Errorf("demo seals personal data: %w", err)
	}
	defer done()
	store := sealedWorkload{sh.Store, ks}

	holds, first, err := workload.HoldsLedgerEvents(ctx, store)
	if err != nil {
		return err
	}
	if holds && !o.force {
		return fmt.Errorf("the store (%s) already holds ledger events (stream %s, for one): refusing to add a demo "+
			"district to it, nothing was written; use an empty --data directory or store, or --force to write anyway "+
			"(streams that already exist with other events make it fail)", storeNote, first)
	}

	docs, err := docstore.Open(filepath.Join(o.data, "documents"), docstore.DefaultMax)
	if err != nil {
		return err
	}
	opts.Documents = demoDocuments(docs, 200)
	stop := showProgress(cmd.ErrOrStderr(), progress)
	stats, err := workload.Generate(ctx, opts, store)
	stop(err == nil)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "Demo written to %s: %s events in %.1f s (%.0f events/s)\n", storeNote,
		groupDigits(stats.Events), stats.Elapsed.Seconds(), stats.EventsPerSecond())
	if err := stats.WriteSummary(out, o.list); err != nil {
		return err
	}
	repro := fmt.Sprintf("ledger demo --seed %d --communities %d --years %d --until %s", stats.Seed, stats.Communities,
		stats.Years, until.Format("2006-01-02"))
	if o.events > 0 {
		repro += fmt.Sprintf(" --events %d", o.events)
	}
	fmt.Fprintf(out, "\nReproduce with: %s\n", repro)
	if len(stats.Districts) > 0 {
		fmt.Fprintf(out, "No API tokens were created. To record in this district: ledger token create --role admin --scope %s --subject 区民政局\n",
			stats.Districts[0].Path)
	}
	return nil
}

// showProgress feeds the generator's counts to the progress display on w (a bar with events/s and
// ETA on a terminal, a plain line every few seconds otherwise) until the returned stop is called.
func showProgress(w io.Writer, wp *workload.Progress) (stop func(done bool)) {
	p := newProgress(w, "demo", uint64(wp.Planned()))
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				p.Set(uint64(wp.Done()), uint64(wp.Planned()))
			}
		}
	}()
	return func(done bool) {
		close(quit)
		<-finished
		if done {
			p.Set(uint64(wp.Done()), uint64(wp.Planned()))
			p.Finish()
		}
	}
}

func groupDigits(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
