package tlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle/proof"
	"golang.org/x/mod/sumdb/note"

	ptlog "github.com/grassroots-ledger/ledger/projections/tlog"
)

// ErrInconsistent means two checkpoints of the log, each validly signed, cannot both be true: the newer
// is not an extension of the older (the log forked, or rewrote its history), or the proof offered does
// not show it is. Keep both signed notes: together they are the evidence.
var ErrInconsistent = errors.New("tlog: the checkpoints are not consistent")

// VerifyConsistency checks with the library's verifier that proof shows the tree of older is a prefix of
// the tree of newer (older.Size <= newer.Size). ErrInconsistent otherwise.
func VerifyConsistency(older, newer Checkpoint, p [][]byte) error {
	if older.Origin != newer.Origin {
		return fmt.Errorf("%w: origins %q and %q are two logs", ErrInconsistent, older.Origin, newer.Origin)
	}
	if older.Size > newer.Size {
		return fmt.Errorf("%w: the older checkpoint is of size %d, the newer of %d", ErrInconsistent, older.Size, newer.Size)
	}
	if older.Size == newer.Size {
		if !bytes.Equal(older.Root, newer.Root) {
			return fmt.Errorf("%w: two roots for size %d", ErrInconsistent, older.Size)
		}
		return nil
	}
	if err := proof.VerifyConsistency(ptlog.Hasher, older.Size, newer.Size, p, older.Root, newer.Root); err != nil {
		return fmt.Errorf("%w: from size %d to %d: %v", ErrInconsistent, older.Size, newer.Size, err)
	}
	return nil
}

// ProveConsistency opens two signed checkpoints of the log (in either order) with v, asks tree for the
// consistency proof between their sizes, and verifies it. It returns the two checkpoints, older first,
// and the proof. ErrBadCheckpoint for a note that does not verify, ErrInconsistent when the proof does not
// hold (also when tree is no longer the tree either was signed from), ptlog.ErrNotFound when tree is
// smaller than the newer.
func ProveConsistency(ctx context.Context, tree *ptlog.Tree, v note.Verifier, a, b []byte) (older, newer Checkpoint, p [][]byte, err error) {
	older, _, err = Open(a, v, "")
	if err != nil {
		return Checkpoint{}, Checkpoint{}, nil, fmt.Errorf("first checkpoint: %w", err)
	}
	newer, _, err = Open(b, v, "")
	if err != nil {
		return Checkpoint{}, Checkpoint{}, nil, fmt.Errorf("second checkpoint: %w", err)
	}
	if older.Size > newer.Size {
		older, newer = newer, older
	}
	p, err = tree.Consistency(ctx, older.Size, newer.Size)
	if err != nil {
		return older, newer, nil, err
	}
	return older, newer, p, VerifyConsistency(older, newer, p)
}
