package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/events"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/privacy"
	"github.com/grassroots-ledger/ledger/infra/audit"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
	"github.com/grassroots-ledger/ledger/infra/keys"
	"github.com/grassroots-ledger/ledger/infra/pg"
)

func newCopyStoreCmd() *cobra.Command {
	var from, to, moveDB string
	var enc encryptOptions
	cmd := &cobra.Command{
		Use:   "copy-store --from STORE --to STORE",
		Short: "Copy the whole history into another EventStoreDB-protocol store, exactly, resumably, verified",
		Long: `copy-store appends every ledger event of one store to another in the source's $all order — from the
embedded node to a KurrentDB/EventStoreDB cluster, or back — keeping stream names, revisions, event ids,
types, content types, data and metadata byte for byte. The store's own $-streams are not copied (each
store keeps its own), and each store records its own time of writing: replay the copy by occurred
time (--by occurred), or keep the source for replays by recorded time.

A STORE is an esdb:// (or kurrentdb://) connection string, or the data directory of an embedded node
(the node is started by this command; stop 'ledger serve' on it first, or give its esdb:// address).

Each run of one stream's consecutive events is written at the exact expected revision: nothing is
written twice. Into a connection string each run is one append, in order; into a data directory the
runs go to the node's writer in order, many to one commit (about 15 times faster). Interrupted (a
crash, Ctrl-C), run the same command again: it finds the target's last event in the source and goes on
after it. A target holding any other history is refused untouched. At the end every event of the two
stores is compared and every hash chain of the copy is verified.

copy-store moves the history, not the database. Between embedded nodes every event keeps its $all
position and the ledger's database serves the copy as it is. Into or out of a cluster the positions
change: --move-database URL (every serve on it stopped first) then moves the database with the history —
every position it holds outside the read models (webhooks' cursors and deliveries, the key store's) to
where the copy has that event, and the read models dropped, for serve to build them again from the copy —
in one transaction, after the copy is compared. Run again, it moves nothing twice.

--encrypt migrates a store written before personal data was sealed (serve refuses such a store): every
event is copied in order with the same stream, revision, id, type and metadata, its personal objects
sealed with the data keys of the target ledger's key store. Events holding personal data, and those
after them in their streams, get new hashes (listed with their old ones in --mapping); every other event
keeps its hash. The copy ends with a privacy.store-sealed event naming the source's transparency-log
root and the mapping's SHA-256. The target must be empty; interrupted, remove it and run again.

  ledger copy-store --from .ledger --to 'esdb://cluster.example:2113?tls=true'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" || to == "" {
				return usageError{cmd: "copy-store", err: errors.New("--from and --to are required")}
			}
			if from == to {
				return usageError{cmd: "copy-store", err: errors.New("--from and --to name the same store")}
			}
			ctx := cmd.Context()
			if enc.on {
				if moveDB != "" {
					return usageError{cmd: "copy-store", err: errors.New("--move-database goes with a plain copy, not --encrypt (whose copy is served with a fresh database)")}
				}
				return copySealed(ctx, cmd, from, to, enc)
			}
			if moveDB == "" {
				return copyHistory(ctx, cmd, from, to, nil)
			}
			pool, err := pg.Connect(ctx, pg.Config{URL: moveDB, MaxConns: 1})
			if err != nil {
				return err
			}
			defer pool.Close()
			if err := refuseAWorkingServe(ctx, pool); err != nil {
				return err
			}
			w, err := readWitness(ctx, pool)
			if err != nil {
				return err
			}
			var pairs []positionPair
			moved := false
			if err := copyHistory(ctx, cmd, from, to, func(p eventstore.Pair) {
				pairs, moved = append(pairs, positionPair{p.InA, p.InB}), moved || p.InA != p.InB
				w.see(p)
			}); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if !moved {
				fmt.Fprintln(out, "every event keeps its position in the copy: the database serves it as it is")
				return nil
			}
			switch space, err := w.names(); {
			case err != nil:
				return err
			case space == inCopy:
				fmt.Fprintln(out, "the database already names where the events stand in the copy (moved before): nothing to move")
				return nil
			case space == unknown:
				fmt.Fprintln(cmd.ErrOrStderr(), "note: nothing in the database tells whether it was moved before (no person recorded, or none since "+
					"the positions began to differ): moving it as the source's; do not run this twice for one copy")
			}
			if err := movePositions(ctx, pool, pairs, true); err != nil {
				return fmt.Errorf("the copy is whole, but the database was not moved (nothing of it changed): %w; run the same command again", err)
			}
			fmt.Fprintf(out, "moved the database's $all positions to where the %d events stand in the copy, and dropped its read models: serve the copy with it, and they are built again from the copy\n", len(pairs))
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the source: an esdb:// connection string or an embedded node's data directory")
	cmd.Flags().StringVar(&to, "to", "", "the target: an esdb:// connection string or an embedded node's data directory")
	cmd.Flags().StringVar(&moveDB, "move-database", "", "the ledger's PostgreSQL, to move with the history onto the copy's positions (see above); every serve on it stopped")
	cmd.Flags().BoolVar(&enc.on, "encrypt", false, "migrate a store written before personal data was sealed: copy it into an empty store with every personal object sealed (see below)")
	cmd.Flags().StringVar(&enc.data, "data", "", "with --encrypt: the data directory of the ledger that will serve the copy, whose KEK seals (default: --to when it is a directory, else .ledger)")
	cmd.Flags().StringVar(&enc.dbURL, "database-url", "", "with --encrypt: PostgreSQL of that ledger's key store (default $DATABASE_URL)")
	cmd.Flags().StringVar(&enc.mapping, "mapping", "copy-store-mapping.csv", "with --encrypt: where to write the old and new hash of every event whose hash changed")
	return cmd
}

// copyHistory copies every ledger event of store from into store to (copy-store without --encrypt):
// resumably, with a progress bar, then compares the two and verifies the copy's chains.
//
// each, when not nil, is called with every event of the comparison: where it stands in the source (InA)
// and in the copy (InB), in order.
func copyHistory(ctx context.Context, cmd *cobra.Command, from, to string, each func(eventstore.Pair)) error {
	src, dst, err := openPair(ctx, from, to)
	if err != nil {
		return err
	}
	defer src.Close()
	defer dst.Close()
	head, err := src.Store.Head(ctx)
	if err != nil {
		return err
	}
	out := cmd.ErrOrStderr()
	fmt.Fprintf(out, "copying %s → %s\n", src.Note, dst.Note)
	p := newProgress(out, "copy-store", head.Commit)
	opts := eventstore.CopyOptions{Progress: func(cp eventstore.CopyProgress) { p.Set(cp.At.Commit, 0) }}
	if dst.node != nil {
		opts.Import = dst.node.Import // a node of this process: many runs to a commit, not a round trip each
	}
	res, err := eventstore.Copy(ctx, src.Store, dst.Store, opts)
	if err != nil {
		if res.Copied > 0 {
			fmt.Fprintf(out, "copied %d events before the error; run the same command again to go on\n", res.Copied)
		}
		return err
	}
	p.Finish()
	fmt.Fprintf(out, "copied %d events (%d were already in the target); comparing…\n", res.Copied, res.Held)
	n, err := eventstore.CompareEach(ctx, src.Store, dst.Store, each)
	if err != nil {
		return fmt.Errorf("the copy is not the source: %w", err)
	}
	rep, err := verifyCopy(ctx, dst.Store)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "the target holds the source's %d events, byte for byte, in the same order; %d events in %d streams verified, all chains intact\n",
		n, rep.Events, rep.Streams)
	return nil
}

// Whose positions a database names (witness.names).
const (
	inSource = iota
	inCopy
	unknown // nothing tells
)

// witness is the key store's latest record of a person (its event's stream and revision, and the position
// the database holds for it), and where the comparison of a copy found that event in the source and in
// the copy: it tells whether the database names the source's positions or the copy's, so that a database
// moved once is not moved again, and one that names neither is not taken for this ledger's.
type witness struct {
	stream       string
	revision     uint64
	commit       uint64
	held, seen   bool
	inSrc, inDst eventlog.Position
}

// readWitness reads the witness of the database; none is held when no person was recorded.
func readWitness(ctx context.Context, pool *pgxpool.Pool) (*witness, error) {
	var revision, commit int64
	w := &witness{held: true}
	err := pool.QueryRow(ctx, `SELECT last_stream, last_revision, last_commit FROM keystore.subjects
		WHERE last_commit IS NOT NULL ORDER BY last_commit DESC LIMIT 1`).Scan(&w.stream, &revision, &commit)
	if errors.Is(err, pgx.ErrNoRows) {
		return &witness{}, nil
	}
	w.revision, w.commit = uint64(revision), uint64(commit)
	return w, err
}

// see notes where the comparison found the witness's event.
func (w *witness) see(p eventstore.Pair) {
	if w.held && p.Stream == w.stream && p.Revision == w.revision {
		w.seen, w.inSrc, w.inDst = true, p.InA, p.InB
	}
}

// names says whose positions the database names: unknown with no person recorded, or when the latest
// record stands where it stood.
func (w *witness) names() (int, error) {
	switch {
	case !w.held:
		return unknown, nil
	case !w.seen:
		return 0, fmt.Errorf("the database's key store names %s revision %d, which the stores do not hold: is it this ledger's database?", w.stream, w.revision)
	case w.commit == w.inSrc.Commit && w.inSrc == w.inDst:
		return unknown, nil
	case w.commit == w.inSrc.Commit:
		return inSource, nil
	case w.commit == w.inDst.Commit:
		return inCopy, nil
	}
	return 0, fmt.Errorf("the database's key store has %s revision %d at %d, where the source has it at %s and the copy at %s: is it this ledger's database?",
		w.stream, w.revision, w.commit, w.inSrc, w.inDst)
}

// refuseAWorkingServe refuses a database a serve works on (one holds the worker lease): moving it would
// pull its tables from under it.
func refuseAWorkingServe(ctx context.Context, pool *pgxpool.Pool) error {
	held, err := (&pg.Lease{Pool: pool, Name: workerLease}).Held(ctx)
	if err != nil {
		return err
	}
	if held {
		return errors.New("a serve is working on the database (it holds the worker lease): stop every serve on it first")
	}
	return nil
}

// openNamedStore opens a store named by a connection string or an embedded node's data directory.
func openNamedStore(ctx context.Context, where string) (*storeHandle, error) {
	for _, scheme := range []string{"esdb://", "esdb+discover://", "kurrentdb://", "kurrentdb+discover://", "kdb://"} {
		if strings.HasPrefix(where, scheme) {
			note := "the store at " + scheme + "…" // never print credentials a connection string may carry
			if u, err := url.Parse(where); err == nil {
				note = "the store at " + u.Host
			}
			return openStoreAt(ctx, where, note, "", nodeAt{})
		}
	}
	return openStoreAt(ctx, "", "", where, nodeAt{})
}

type encryptOptions struct {
	on                   bool
	data, dbURL, mapping string
}

// copySealed is copy-store --encrypt.
func copySealed(ctx context.Context, cmd *cobra.Command, from, to string, o encryptOptions) error {
	if o.data == "" {
		o.data = ".ledger"
		if !strings.Contains(to, "://") {
			o.data = to
		}
	}
	src, dst, err := openPair(ctx, from, to)
	if err != nil {
		return err
	}
	defer src.Close()
	defer dst.Close()
	ks, done, err := openSealer(ctx, o.dbURL, o.data)
	if err != nil {
		return err
	}
	defer done()
	head, err := src.Store.Head(ctx)
	if err != nil {
		return err
	}
	mf, err := os.OpenFile(o.mapping, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("--mapping: %w", err)
	}
	defer mf.Close()
	bw := bufio.NewWriter(mf)
	out := cmd.ErrOrStderr()
	fmt.Fprintf(out, "copying %s → %s, sealing personal data with the key-encryption key %s\n", src.Note, dst.Note, keys.KEKPath(o.data))
	p := newProgress(cmd.ErrOrStderr(), "copy-store --encrypt", head.Commit)
	res, err := keys.CopySealed(ctx, src.Store, dst.Store, ks, bw, func(at eventlog.Position) { p.Set(at.Commit, 0) })
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = mf.Sync()
	}
	if err != nil {
		return fmt.Errorf("copy-store --encrypt (the source is untouched; remove the partial target and run again): %w", err)
	}
	p.Finish()
	// The migration is recorded in the new history.
	note := privacy.StoreSealed{SourceEvents: res.Events, SourceLogRoot: res.SourceLogRoot, Resealed: res.Resealed,
		MappingSHA256: res.MappingSHA256, SealedAt: time.Now().UTC()}
	evs, err := commands.Envelope(events.MustRegistry(), commands.Meta{CommandID: "copy-store-encrypt:" + res.SourceLogRoot,
		Actor: commands.Actor{Role: "system", Subject: "copy-store"}}, commands.Target{Path: "*"}, []kernel.Event{note}, note.SealedAt)
	if err != nil {
		return err
	}
	if _, err := dst.Store.Append(ctx, privacy.MigrationStream, eventlog.NoStream(), evs); err != nil {
		return fmt.Errorf("record the migration: %w", err)
	}
	rep, err := verifyCopy(ctx, dst.Store)
	if err != nil {
		return err
	}
	if err := ks.CheckStore(ctx, dst.Store); err != nil {
		return fmt.Errorf("the copy still holds personal data in clear: %w", err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "copied %d events with their personal data sealed; %d got new hashes (old and new in %s, SHA-256 %s), "+
		"the others kept theirs; the source's log root was %s; %d events in %d streams verified, all chains intact\n"+
		"Serve the copy with a fresh database for the read models (ledger rebuild), and keep the KEK %s apart from the database's backups.\n",
		res.Events, res.Resealed, o.mapping, res.MappingSHA256, res.SourceLogRoot, rep.Events, rep.Streams, keys.KEKPath(o.data))
	return nil
}

// verifyCopy checks every hash chain of a copy: an error unless all are intact.
func verifyCopy(ctx context.Context, st *eventstore.Store) (audit.VerifyReport, error) {
	a, err := audit.New(audit.Config{Store: st})
	if err != nil {
		return audit.VerifyReport{}, err
	}
	rep, err := a.Verify(ctx, audit.VerifyOptions{})
	if err == nil && !rep.Intact {
		err = fmt.Errorf("the copy's hash chains do not verify: %+v", rep.Break)
	}
	return rep, err
}

// openPair opens the source and the target of a copy.
func openPair(ctx context.Context, from, to string) (src, dst *storeHandle, err error) {
	if src, err = openNamedStore(ctx, from); err != nil {
		return nil, nil, fmt.Errorf("the source: %w", err)
	}
	if dst, err = openNamedStore(ctx, to); err != nil {
		src.Close()
		return nil, nil, fmt.Errorf("the target: %w", err)
	}
	return src, dst, nil
}
