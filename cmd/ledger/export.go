package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/grassroots-ledger/ledger/infra/audit"
)

func newExportCmd() *cobra.Command {
	var data, community, from, to, by, format, out, dbURL string
	var ownOnly bool
	cmd := &cobra.Command{
		Use:   "export --community ID [--from TIME] [--to TIME] [--format csv|jsonl|xlsx] [--out FILE]",
		Short: "Export a community's audit trail with hashes and payloads (CSV, JSON Lines, XLSX)",
		Long: `export writes the trail of one community, oldest first: for every event its $all position, stream,
revision, event id, type, community, jurisdiction, actor, command, correlation and causation ids,
schema version, occurred and recorded times (UTC, and China time for display), prev_hash, hash and
the payload as stored, its sealed personal data opened (auditors see everything; a person whose data
was erased shows as {"subject":…,"erased":true}). Opening needs the key store: DATABASE_URL (or
--database-url) and the KEK ($LEDGER_KEK_FILE or --data/ledger-kek.key); without a database the
payloads are exported sealed, as stored. The hash of each row is over the payload as stored (see ledger
verify), so check hashes on a sealed export.

It reads the store of record, not the audit-trail read model, which keeps no payloads and may lag.
The events are the community's own and, unless --own-only, the district-level events above it
(jurisdiction nodes, rule overrides, district alerts) that its state depends on. --from and --to
bound the recorded time (--by occurred: the time the event says its fact happened), [from, to).

CSV and JSON Lines stream; XLSX is written when complete (at most 1 048 575 rows). The format defaults
to the extension of --out, else csv. Without --out the file goes to standard output.

  ledger export --community 330303001001 --from 2025-01-01T00:00:00+08:00 --format xlsx --out trail.xlsx`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bad := func(err error) error { return usageError{cmd: "export", err: err} }
			if community == "" {
				return bad(errors.New("--community is required"))
			}
			if format == "" {
				format = "csv"
				if ext := strings.TrimPrefix(filepath.Ext(out), "."); ext != "" {
					format = ext
				}
			}
			f, err := audit.ParseExportFormat(format)
			if err != nil {
				return bad(fmt.Errorf("--format %q: want csv, jsonl or xlsx", format))
			}
			basis, err := audit.ParseTimeBasis(by)
			if err != nil {
				return bad(fmt.Errorf("--by %q: want recorded or occurred", by))
			}
			var fromT, toT time.Time
			for _, x := range []struct {
				flag, v string
				t       *time.Time
			}{{"--from", from, &fromT}, {"--to", to, &toT}} {
				if x.v == "" {
					continue
				}
				if *x.t, err = time.Parse(time.RFC3339Nano, x.v); err != nil {
					return bad(fmt.Errorf("%s %q: want RFC 3339 with a zone, e.g. 2026-01-01T00:00:00+08:00", x.flag, x.v))
				}
			}
			if out == "" && f == audit.XLSX && term.IsTerminal(int(os.Stdout.Fd())) {
				return bad(errors.New("an xlsx file is binary: give --out FILE or redirect standard output"))
			}
			ctx := cmd.Context()
			withDB := dbURL != "" || os.Getenv("DATABASE_URL") != ""
			s, a, err := openAuditor(ctx, data, dbURL, withDB)
			if err != nil {
				return err
			}
			defer s.Close()
			if !withDB {
				fmt.Fprintln(cmd.ErrOrStderr(), "export: no DATABASE_URL: personal data stays sealed, as stored (give the key store's database to open it)")
			}

			// A file is written under a temporary name and renamed when complete, so a failed export never
			// leaves a file that looks whole.
			var w io.Writer = cmd.OutOrStdout()
			var tmp *os.File
			if out != "" {
				if tmp, err = os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*"); err != nil {
					return err
				}
				defer os.Remove(tmp.Name())
				defer tmp.Close()
				w = tmp
			}
			bw := bufio.NewWriterSize(w, 256<<10)
			p := newProgress(cmd.ErrOrStderr(), "export "+community, 0)
			res, err := a.Export(ctx, audit.ExportRequest{Community: community, From: fromT, To: toT, By: basis, OwnOnly: ownOnly,
				Format: f, Progress: func(done, total uint64) { p.Set(done, total) }}, bw)
			if errors.Is(err, audit.ErrInvalid) {
				return bad(err)
			}
			if err != nil {
				return err
			}
			if err := bw.Flush(); err != nil {
				return err
			}
			p.Finish()
			if tmp != nil {
				if err := tmp.Close(); err != nil {
					return err
				}
				if err := os.Rename(tmp.Name(), out); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "exported %d events of %s (%s) to %s\n", res.Rows, res.Community, res.Jurisdiction, out)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&community, "community", "", "the community's id (the last segment of its jurisdiction path)")
	fl.StringVar(&from, "from", "", "only events at or after this instant (RFC 3339)")
	fl.StringVar(&to, "to", "", "only events before this instant (RFC 3339)")
	fl.StringVar(&by, "by", "recorded", "which time --from and --to bound: recorded or occurred")
	fl.BoolVar(&ownOnly, "own-only", false, "leave out the district-level events above the community")
	fl.StringVar(&format, "format", "", "csv, jsonl or xlsx (default: from --out's extension, else csv)")
	fl.StringVar(&out, "out", "", "write to this file (default: standard output)")
	fl.StringVar(&data, "data", ".ledger", "directory of the embedded node's data (when EVENTSTORE_URL is unset)")
	fl.StringVar(&dbURL, "database-url", "", "PostgreSQL of the key store that opens the personal data (default $DATABASE_URL)")
	return cmd
}
