package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/secret"
)

// A backup's copy keeps the source's $all positions when the source is an embedded node (both number
// their events alike), but not when it is a cluster, whose positions are its own (byte offsets). The
// dumps hold positions of the source: the webhooks' cursors and deliveries (alerting), how far the key
// store checked the store and where each person was last recorded (keystore). backupPositions is then
// the map from where each event stands in the source to where it stands in the copy, and restore moves
// the dumps' positions with it; it is absent when every event stands where it stood.
const backupPositions = "positions.map"

// positionsMagic starts the map: its format, then four zigzag varints an event (the source's commit and
// prepare, the copy's commit and prepare), each the difference from the previous event's.
const positionsMagic = "ledger positions v1\n"

// positionPair is where one event stands in the source (from) and in the copy (to).
type positionPair struct{ from, to eventlog.Position }

// positionWriter writes a backup's position map through a temporary file.
type positionWriter struct {
	path  string
	f     *os.File
	w     *bufio.Writer
	last  positionPair
	buf   []byte
	moved bool // some event stands elsewhere in the copy
}

func newPositionWriter(path string) (*positionWriter, error) {
	f, err := os.OpenFile(path+".partial", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriterSize(f, 256<<10)
	if _, err := w.WriteString(positionsMagic); err != nil {
		_ = f.Close()
		return nil, err
	}
	return &positionWriter{path: path, f: f, w: w}, nil
}

// add records where the next event stands in the source and in the copy.
func (pw *positionWriter) add(from, to eventlog.Position) {
	pw.moved = pw.moved || from != to
	pw.buf = pw.buf[:0]
	for _, d := range [4][2]uint64{{from.Commit, pw.last.from.Commit}, {from.Prepare, pw.last.from.Prepare},
		{to.Commit, pw.last.to.Commit}, {to.Prepare, pw.last.to.Prepare}} {
		pw.buf = binary.AppendVarint(pw.buf, int64(d[0]-d[1]))
	}
	_, _ = pw.w.Write(pw.buf) // a write error stays in w and is returned by Flush
	pw.last = positionPair{from, to}
}

// finish makes the map durable at its path, or removes it (and an older one) when no event moved.
func (pw *positionWriter) finish() error {
	err := pw.w.Flush()
	if err == nil {
		err = pw.f.Sync()
	}
	if cerr := pw.f.Close(); err == nil {
		err = cerr
	}
	if err != nil || !pw.moved {
		_ = os.Remove(pw.f.Name())
		if err == nil {
			if err = os.Remove(pw.path); errors.Is(err, fs.ErrNotExist) {
				err = nil
			}
		}
		return err
	}
	return secret.Replace(pw.f.Name(), pw.path)
}

// abort removes what was written.
func (pw *positionWriter) abort() {
	_ = pw.f.Close()
	_ = os.Remove(pw.f.Name())
}

// readPositions reads a backup's position map; none (nil) when the backup has none.
func readPositions(path string) ([]positionPair, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(b, []byte(positionsMagic)) {
		return nil, fmt.Errorf("%s is not a ledger backup's position map", path)
	}
	r := bytes.NewReader(b[len(positionsMagic):])
	var pairs []positionPair
	var last positionPair
	for r.Len() > 0 {
		var d [4]int64
		for i := range d {
			if d[i], err = binary.ReadVarint(r); err != nil {
				return nil, fmt.Errorf("%s: event %d: %w", path, len(pairs), noEOF(err))
			}
		}
		p := positionPair{
			from: eventlog.Position{Commit: last.from.Commit + uint64(d[0]), Prepare: last.from.Prepare + uint64(d[1])},
			to:   eventlog.Position{Commit: last.to.Commit + uint64(d[2]), Prepare: last.to.Prepare + uint64(d[3])},
		}
		if len(pairs) > 0 && p.from.Commit < last.from.Commit {
			return nil, fmt.Errorf("%s: event %d stands before the one ahead of it", path, len(pairs))
		}
		pairs = append(pairs, p)
		last = p
	}
	return pairs, nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// movedPositions are the restored database's columns that hold $all positions of the backup's source: each
// becomes where the last event at or before it stands in the copy (0 when none is).
var movedPositions = []struct{ table, commit, prepare string }{
	{"alerting.webhooks", "cursor_commit", "cursor_prepare"},
	{"alerting.deliveries", "commit_pos", "prepare_pos"},
	{"keystore.subjects", "last_commit", ""},
}

// movePositions rewrites, in one transaction, every position the restored dumps hold from where the
// backup's source had the events to where its copy has them (pairs, in $all order). With dropReadModels
// it also drops every read model (the rm_ schemas, whose rows and checkpoints name the source's
// positions), for serve to build them again from the copy.
func movePositions(ctx context.Context, pool *pgxpool.Pool, pairs []positionPair, dropReadModels bool) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// A cluster's events written in one transaction share a commit position: the source's positions
		// are told apart by commit and prepare.
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE moved (src bigint, src_prepare bigint, commit bigint NOT NULL, prepare bigint NOT NULL,
			PRIMARY KEY (src, src_prepare)) ON COMMIT DROP`); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"moved"}, []string{"src", "src_prepare", "commit", "prepare"},
			pgx.CopyFromSlice(len(pairs), func(i int) ([]any, error) {
				p := pairs[i]
				return []any{int64(p.from.Commit), int64(p.from.Prepare), int64(p.to.Commit), int64(p.to.Prepare)}, nil
			})); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `ANALYZE moved`); err != nil {
			return err
		}
		// floor is where the copy has the last event at or before the position commit (and prepare, when
		// the column is kept): what of it to take.
		floor := func(commit, prepare, what string) string {
			at := `m.src <= ` + commit
			if prepare != "" {
				at = `(m.src, m.src_prepare) <= (` + commit + `, ` + prepare + `)`
			}
			return fmt.Sprintf(`coalesce((SELECT m.%s FROM moved m WHERE %s ORDER BY m.src DESC, m.src_prepare DESC LIMIT 1), 0)`, what, at)
		}
		for _, c := range movedPositions {
			set := c.commit + " = " + floor(c.commit, c.prepare, "commit")
			if c.prepare != "" {
				set += ", " + c.prepare + " = " + floor(c.commit, c.prepare, "prepare")
			}
			if _, err := tx.Exec(ctx, `UPDATE `+c.table+` SET `+set+` WHERE `+c.commit+` IS NOT NULL`); err != nil {
				return fmt.Errorf("move the positions of %s: %w", c.table, err)
			}
		}
		if dropReadModels {
			rows, err := tx.Query(ctx, `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'rm\_%' ORDER BY nspname`)
			if err != nil {
				return err
			}
			schemas, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			for _, s := range schemas {
				if _, err := tx.Exec(ctx, `DROP SCHEMA `+pgx.Identifier{s}.Sanitize()+` CASCADE`); err != nil {
					return fmt.Errorf("drop the read model %s: %w", s, err)
				}
			}
		}
		// How far the key store checked the store is kept as text, commit/prepare.
		var checked string
		err := tx.QueryRow(ctx, `SELECT checked_to FROM keystore.store_check`).Scan(&checked)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		at, err := eventlog.ParsePosition(checked)
		if err != nil {
			return fmt.Errorf("keystore.store_check: %w", err)
		}
		_, err = tx.Exec(ctx, `UPDATE keystore.store_check SET checked_to = `+floor("$1::bigint", "$2::bigint", "commit")+` || '/' || `+
			floor("$1::bigint", "$2::bigint", "prepare"), int64(at.Commit), int64(at.Prepare))
		return err
	})
}
