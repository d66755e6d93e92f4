package tlog

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	ptlog "github.com/grassroots-ledger/ledger/projections/tlog"
)

// Mismatch is a stored checkpoint the tree no longer agrees with.
type Mismatch struct {
	Checkpoint Checkpoint
	// TreeSize is the tree's size; TreeRoot its root at the checkpoint's size (nil when smaller).
	TreeSize uint64
	TreeRoot []byte
}

func (m Mismatch) String() string {
	if m.TreeRoot == nil {
		return fmt.Sprintf("%s: the tree has only %d leaves", m.Checkpoint, m.TreeSize)
	}
	return fmt.Sprintf("%s: the tree's root at that size is %s", m.Checkpoint, base64.StdEncoding.EncodeToString(m.TreeRoot))
}

// CheckStored compares every stored checkpoint with the tree in rm_tlog (run it after `ledger rebuild`):
// each checkpoint whose size the tree no longer reaches, or whose root differs from the tree's root at
// that size, is returned. None means every checkpoint ever signed still holds.
func CheckStored(ctx context.Context, q ptlog.Querier) ([]Mismatch, error) {
	rows, err := q.Query(ctx, "SELECT size, root, note FROM tlog.checkpoints ORDER BY size")
	if err != nil {
		return nil, fmt.Errorf("tlog: read the stored checkpoints: %w", err)
	}
	type stored struct {
		Size int64
		Root []byte
		Note string
	}
	all, err := pgx.CollectRows(rows, pgx.RowToStructByPos[stored])
	if err != nil {
		return nil, fmt.Errorf("tlog: read the stored checkpoints: %w", err)
	}
	tree := ptlog.NewTree(q)
	size, err := tree.Size(ctx)
	if err != nil {
		return nil, err
	}
	var out []Mismatch
	for _, s := range all {
		c := Checkpoint{Origin: originOf(s.Note), Size: uint64(s.Size), Root: s.Root}
		root, err := tree.Root(ctx, c.Size)
		if errors.Is(err, ptlog.ErrNotFound) {
			out = append(out, Mismatch{Checkpoint: c, TreeSize: size})
			continue
		}
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(root, c.Root) {
			out = append(out, Mismatch{Checkpoint: c, TreeSize: size, TreeRoot: root})
		}
	}
	return out, nil
}
