package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/grassroots-ledger/ledger/infra/docstore"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/infra/secret"
)

// The schemas a backup dumps, in two dumps around the copy of the history (see backup's help).
var (
	backupBefore = []string{"tlog", "alerting"} // the log's checkpoints and cosignatures; webhooks and their outbox
	backupAfter  = []string{"keystore", "auth"} // the data keys of personal data; API tokens
)

const (
	backupLogDump  = "log.dump"
	backupKeysDump = "keys.dump"
	// backupDone is written last, and removed first: a directory without it holds a backup that did not
	// finish (its parts may be of different moments) and must not be restored.
	backupDone = "BACKUP-COMPLETE"
)

func newBackupCmd() *cobra.Command {
	var from, to, dbURL, data string
	cmd := &cobra.Command{
		Use:   "backup --from STORE --to DIR",
		Short: "Back up the ledger while it runs: the history, and what PostgreSQL holds that the history does not, in the order a restore needs",
		Long: `backup writes into DIR everything a ledger needs to be served again except its two key files:

  1. DIR/log.dump      pg_dump of schemas tlog and alerting (the log's signed checkpoints and the
                       witnesses' cosignatures; supervisors' webhooks and their outbox), taken first:
                       every checkpoint it holds covers only events the copy will hold;
  2. DIR/events        the history, copied from STORE as copy-store copies it (an embedded node's data
                       directory, resumable; run backup again into the same DIR and only what is new
                       is copied), compared with the source and verified;
     DIR/positions.map where each event stands in the source and in the copy, when they differ (a
                       cluster's positions are its own): restore moves the dumps' positions with it;
  3. DIR/keys.dump     pg_dump of schemas keystore and auth (the data keys of personal data, the API
                       tokens), taken last: every key the copied events were sealed with is in it;
  4. DIR/documents     the documents of --data that DIR does not hold yet, each read with its hash
                       checked (one altered on disk stops the backup) and written durably;
  5. DIR/BACKUP-COMPLETE, last (and removed first): without it DIR holds a backup that did not finish,
                       whose parts may be of different moments: run backup again before restoring it.

The read models are not backed up: serve rebuilds them from the history. The KEK (ledger-kek.key) and the
log's signing key (tlog-signer.key) are not copied: keep them apart from the dumps, which they would open.

STORE is the running ledger's store: serve's node at a fixed address (serve --node-listen
127.0.0.1:2113, then --from 'esdb://127.0.0.1:2113?tls=false'), a cluster's connection string, or the
data directory of a node that is not running. pg_dump comes from PATH or /usr/lib/postgresql/*/bin.

To restore: ledger restore --from DIR --database-url NEW (an empty database), put the two key files into
DIR, and run DATABASE_URL=NEW ledger serve --data DIR.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" || to == "" {
				return usageError{cmd: "backup", err: errors.New("--from and --to are required")}
			}
			if samePath(to, data) || samePath(to, from) {
				return usageError{cmd: "backup", err: fmt.Errorf("--to %s is the ledger's own data directory: back up into another one", to)}
			}
			dbURL, err := databaseURL("backup", dbURL)
			if err != nil {
				return err
			}
			pgDump, err := pgProgram("pg_dump")
			if err != nil {
				return err
			}
			if err := os.MkdirAll(to, 0o700); err != nil {
				return err
			}
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			done := filepath.Join(to, backupDone)
			if err := os.Remove(done); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			if err := secret.SyncDir(to); err != nil { // unmarked on disk before any part changes
				return err
			}
			if err := dumpSchemas(cmd, pgDump, dbURL, filepath.Join(to, backupLogDump), backupBefore); err != nil {
				return err
			}
			fmt.Fprintf(out, "1/4 %s: schemas %s\n", backupLogDump, strings.Join(backupBefore, ", "))
			pw, err := newPositionWriter(filepath.Join(to, backupPositions))
			if err != nil {
				return err
			}
			if err := copyHistory(ctx, cmd, from, to, func(p eventstore.Pair) { pw.add(p.InA, p.InB) }); err != nil {
				pw.abort()
				return fmt.Errorf("the history: %w", err)
			}
			if err := pw.finish(); err != nil {
				return fmt.Errorf("the history's positions: %w", err)
			}
			fmt.Fprintf(out, "2/4 events: the history\n")
			if err := dumpSchemas(cmd, pgDump, dbURL, filepath.Join(to, backupKeysDump), backupAfter); err != nil {
				return err
			}
			fmt.Fprintf(out, "3/4 %s: schemas %s\n", backupKeysDump, strings.Join(backupAfter, ", "))
			n, err := backupDocuments(filepath.Join(data, "documents"), filepath.Join(to, "documents"))
			if err != nil {
				return fmt.Errorf("the documents: %w", err)
			}
			fmt.Fprintf(out, "4/4 documents: %d new\n", n)
			if err := os.WriteFile(done+".partial", []byte("backed up "+time.Now().UTC().Format(time.RFC3339)+" from "+redactStore(from)+"\n"), 0o600); err != nil {
				return err
			}
			if err := secret.Install(done+".partial", done); err != nil {
				return err
			}
			fmt.Fprintf(out, "backed up into %s; not in it: the KEK and the log's signing key (%s, %s in %s), to keep apart\n",
				to, "ledger-kek.key", "tlog-signer.key", data)
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the store: an esdb:// connection string (serve --node-listen's address) or a stopped node's data directory")
	cmd.Flags().StringVar(&to, "to", "", "the backup's directory (created; a directory of an earlier backup is brought up to date)")
	cmd.Flags().StringVar(&dbURL, "database-url", "", "PostgreSQL of the ledger (default $DATABASE_URL)")
	cmd.Flags().StringVar(&data, "data", ".ledger", "the ledger's data directory, whose documents are copied")
	return cmd
}

func newRestoreCmd() *cobra.Command {
	var from, dbURL string
	cmd := &cobra.Command{
		Use:   "restore --from DIR --database-url URL",
		Short: "Restore a backup's dumps into an empty database, so that serve --data DIR goes on from the backup",
		Long: `restore loads what ledger backup dumped (DIR/log.dump, then DIR/keys.dump) into an empty database with
pg_restore. It refuses a directory without BACKUP-COMPLETE (a backup that did not finish), and a database
that already holds the ledger's schemas, changing nothing. With DIR/positions.map (a backup of a store
whose positions the copy does not keep, a cluster's), it then moves every $all position the dumps hold
(webhooks' cursors and deliveries, the key store's) to where the copy has that event. The read models are not restored: serve
rebuilds them from the history in DIR. Then put the KEK (ledger-kek.key) and the log's signing key
(tlog-signer.key), kept apart from the backup, into DIR, and run serve --data DIR on the database.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" {
				return usageError{cmd: "restore", err: errors.New("--from is required")}
			}
			dbURL, err := databaseURL("restore", dbURL)
			if err != nil {
				return err
			}
			if _, err := os.Stat(filepath.Join(from, backupDone)); err != nil {
				return fmt.Errorf("%s holds no finished backup (no %s): run ledger backup into it again, or restore another", from, backupDone)
			}
			pgRestore, err := pgProgram("pg_restore")
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			pool, err := pg.Connect(ctx, pg.Config{URL: dbURL, MaxConns: 1})
			if err != nil {
				return err
			}
			defer pool.Close()
			var held []string
			err = pool.QueryRow(ctx, `SELECT coalesce(array_agg(nspname::text ORDER BY nspname), '{}') FROM pg_namespace WHERE nspname = ANY($1)`,
				slices.Concat(backupBefore, backupAfter)).Scan(&held)
			if err != nil {
				return err
			}
			if len(held) > 0 {
				return fmt.Errorf("the database already holds the ledger's schemas %s: restore into an empty database", strings.Join(held, ", "))
			}
			moved, err := readPositions(filepath.Join(from, backupPositions))
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, d := range []string{backupLogDump, backupKeysDump} {
				if err := pgTool(cmd, pgRestore, dbURL, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", filepath.Join(from, d)); err != nil {
					return fmt.Errorf("pg_restore of %s: %w", d, err)
				}
				fmt.Fprintf(out, "restored %s\n", d)
			}
			if moved != nil {
				if err := movePositions(ctx, pool, moved, false); err != nil {
					return fmt.Errorf("the restored database holds the source's $all positions, not the copy's (%w): drop it, and restore again into an empty one", err)
				}
				fmt.Fprintf(out, "moved the $all positions the dumps hold to where the %d events stand in the copy\n", len(moved))
			}
			var missing []string
			for _, f := range []string{"ledger-kek.key", "tlog-signer.key"} {
				if _, err := os.Stat(filepath.Join(from, f)); err != nil {
					missing = append(missing, f)
				}
			}
			if len(missing) > 0 {
				fmt.Fprintf(out, "put %s (kept apart from the backup) into %s, then ", strings.Join(missing, " and "), from)
			}
			fmt.Fprintf(out, "serve it: DATABASE_URL=<the database> ledger serve --data %s\n", from)
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the directory of a finished backup (ledger backup --to)")
	cmd.Flags().StringVar(&dbURL, "database-url", "", "an empty database to restore into (default $DATABASE_URL)")
	return cmd
}

// samePath reports whether a and b name the same directory (b may be a connection string: then no).
func samePath(a, b string) bool {
	x, err1 := filepath.Abs(a)
	y, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && x == y
}

// databaseURL is flag's value, else $DATABASE_URL; neither is a usage error of command cmd.
func databaseURL(cmd, flag string) (string, error) {
	if flag == "" {
		flag = os.Getenv("DATABASE_URL")
	}
	if flag == "" {
		return "", usageError{cmd: cmd, err: errors.New("no database: set DATABASE_URL or --database-url")}
	}
	return flag, nil
}

// pgProgram finds one of PostgreSQL's client programs: on PATH, else the newest under
// /usr/lib/postgresql/*/bin (Debian's packages do not put pg_dump's versions on PATH).
func pgProgram(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	version := func(p string) int {
		v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p))))
		return v
	}
	slices.SortFunc(found, func(a, b string) int { return version(a) - version(b) })
	if len(found) == 0 {
		return "", fmt.Errorf("no %s on PATH or under /usr/lib/postgresql/*/bin: install PostgreSQL's client programs (apt-get install postgresql-client)", name)
	}
	return found[len(found)-1], nil
}

// dumpSchemas runs pg_dump of schemas into file (custom format), through a temporary file so that file is
// whole or absent.
func dumpSchemas(cmd *cobra.Command, pgDump, dbURL, file string, schemas []string) error {
	tmp := file + ".partial"
	args := []string{"--format=custom", "--file=" + tmp}
	for _, s := range schemas {
		args = append(args, "--schema="+s)
	}
	if err := pgTool(cmd, pgDump, dbURL, args...); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("pg_dump of %s: %w", strings.Join(schemas, ", "), err)
	}
	return secret.Install(tmp, file)
}

// pgTool runs one of PostgreSQL's client programs on the database at dbURL: a password in the URL goes to
// it in its environment, not on its command line (where ps shows it).
func pgTool(cmd *cobra.Command, program, dbURL string, args ...string) error {
	u, err := url.Parse(dbURL)
	if err != nil {
		return fmt.Errorf("the database URL: %w", err)
	}
	env := os.Environ()
	if pw, ok := u.User.Password(); ok {
		env = append(env, "PGPASSWORD="+pw)
		u.User = url.User(u.User.Username())
	}
	c := exec.CommandContext(cmd.Context(), program, append(args, "--dbname="+u.String())...)
	c.Env = env
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// backupDocuments puts into the document store at to every document of the one at from that it lacks,
// each read with its hash checked (a document altered on disk is an error, not copied) and written as the
// store writes any (synced, with its directory): it returns how many. A missing from is nothing to copy.
func backupDocuments(from, to string) (int, error) {
	if _, err := os.Stat(from); errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	src, err := docstore.Open(from, docstore.DefaultMax)
	if err != nil {
		return 0, err
	}
	dst, err := docstore.Open(to, docstore.DefaultMax)
	if err != nil {
		return 0, err
	}
	n := 0
	err = src.Each(func(sha string) error {
		if dst.Has(sha) {
			return nil
		}
		b, _, err := src.Get(sha)
		if err != nil {
			return err
		}
		if _, err := dst.Put(bytes.NewReader(b)); err != nil {
			return err
		}
		n++
		return nil
	})
	return n, err
}

// redactStore names a store without the credentials a connection string may carry.
func redactStore(where string) string {
	if u, err := url.Parse(where); err == nil && u.User != nil {
		u.User = nil
		return u.String()
	}
	return where
}
