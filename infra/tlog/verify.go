package tlog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"golang.org/x/mod/sumdb/note"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	ptlog "github.com/grassroots-ledger/ledger/projections/tlog"
)

// Source is the event store as the verification reads it (infra/eventstore.Store): $all from a position
// (inclusive), at most max events (0: to the end).
type Source interface {
	ReadAll(ctx context.Context, from eventlog.Position, max int, fn func(eventlog.Recorded) error) error
}

// VerifyConfig is what Verify compares.
type VerifyConfig struct {
	// Store is the history to recompute the tree from. Required.
	Store Source
	// Verifier is the log's key (note.NewVerifier of the verifier key the auditor trusts). Required.
	Verifier note.Verifier
	// Origin, when set, is the origin every checkpoint must name.
	Origin string
	// Checkpoints are the signed checkpoints to compare with: the latest stored (LatestNote) and any the
	// auditor saved earlier. Each must verify with Verifier, or Verify fails naming it.
	Checkpoints [][]byte
	// Tree, when set, is the stored read model (rm_tlog). Where its root at a checkpoint's size is the
	// checkpoint's, its leaves are the history that checkpoint signed, and a differing store is located
	// to the first leaf that differs, proved by an inclusion proof against the checkpoint. Without it (or
	// when it too differs) the first differing leaf is bounded by the checkpoints that still hold.
	Tree *ptlog.Tree
}

// Kind is how the store's history relates to a signed checkpoint.
type Kind string

const (
	// Consistent: the store's tree at the checkpoint's size has the checkpoint's root; the store extends
	// the signed history.
	Consistent Kind = "consistent"
	// Truncated: the store holds fewer ledger events than the checkpoint signed (events removed at the
	// end of $all, or from streams).
	Truncated Kind = "truncated"
	// Rewritten: the store holds as many events or more, but from some leaf on not the ones signed (a
	// stream rewritten with a consistent hash chain, an edited event resealed).
	Rewritten Kind = "rewritten"
	// Replaced: not even the first leaf is the one signed: another history.
	Replaced Kind = "replaced"
)

// LeafRef names an event of the log.
type LeafRef struct {
	Index    uint64            `json:"leaf_index"`
	Position eventlog.Position `json:"position"`
	Stream   string            `json:"stream,omitempty"`
	Revision uint64            `json:"revision"`
	EventID  string            `json:"event_id,omitempty"`
	// Hash is the event's chain hash: the leaf data, in hex.
	Hash string `json:"hash"`
}

func (l *LeafRef) String() string {
	if l.Stream == "" {
		return fmt.Sprintf("leaf %d (event hash %s at $all position %s)", l.Index, l.Hash, l.Position)
	}
	return fmt.Sprintf("leaf %d (%s@%d, event %s at $all position %s, hash %s)", l.Index, l.Stream, l.Revision, l.EventID, l.Position, l.Hash)
}

// CheckpointResult is the store compared with one signed checkpoint.
type CheckpointResult struct {
	Checkpoint Checkpoint `json:"-"`
	Size       uint64     `json:"size"`
	Root       string     `json:"root"`
	Kind       Kind       `json:"kind"`
	// FirstDiff is the index of the first leaf where the store differs from the signed history, or -1
	// when it could not be located; then it lies in [DiffFrom, DiffTo].
	FirstDiff        int64  `json:"first_differing_leaf"`
	DiffFrom, DiffTo uint64 `json:"-"`
	// Store is the store's event at FirstDiff (nil when the store ends before it); Signed the leaf the
	// checkpoint signed there, proved by an inclusion proof against its root (nil when unknown).
	Store   *LeafRef `json:"store,omitempty"`
	Signed  *LeafRef `json:"signed,omitempty"`
	Message string   `json:"message"`
}

// VerifyReport is the outcome of Verify.
type VerifyReport struct {
	// Intact: every checkpoint is consistent with the store, and every event hashes to its recorded hash.
	Intact bool `json:"intact"`
	// Size is the number of leaves recomputed from the store, Root the root of that tree (base64).
	Size uint64 `json:"size"`
	Root string `json:"root"`
	// Checkpoints are the results, by increasing size.
	Checkpoints []CheckpointResult `json:"checkpoints"`
	// Altered is the first leaf whose event does not hash to its recorded hash (or has no valid hash):
	// its leaf data is what the chain recorded, but the event was changed after.
	Altered *LeafRef `json:"altered,omitempty"`
	Seconds float64  `json:"seconds"`
	Message string   `json:"message"`
}

// storeLeaf is what Verify keeps of each leaf: 48 bytes, so a million leaves take 48 MB.
type storeLeaf struct {
	data [ptlog.HashSize]byte
	pos  eventlog.Position
}

// Verify recomputes the log's tree from the store ($all, the store's $-streams left out) and compares it
// with each signed checkpoint: its signature with cfg.Verifier first, then its root at its size. A
// history that differs from a checkpoint is reported as truncated, rewritten or replaced with the first
// leaf that differs (see VerifyConfig.Tree). A difference is a report (Intact false); the error is for a
// verification that could not be done: a checkpoint that does not verify (ErrBadCheckpoint), the store
// unreachable.
func Verify(ctx context.Context, cfg VerifyConfig) (VerifyReport, error) {
	started := time.Now()
	if cfg.Store == nil || cfg.Verifier == nil {
		return VerifyReport{}, errors.New("tlog verify: Store and Verifier are required")
	}
	cps := make([]Checkpoint, 0, len(cfg.Checkpoints))
	for i, msg := range cfg.Checkpoints {
		c, _, err := Open(msg, cfg.Verifier, cfg.Origin)
		if err != nil {
			return VerifyReport{}, fmt.Errorf("tlog verify: checkpoint %d: %w", i+1, err)
		}
		cps = append(cps, c)
	}
	slices.SortStableFunc(cps, func(a, b Checkpoint) int { return compareSize(a.Size, b.Size) })
	wanted := map[uint64][]byte{}
	for _, c := range cps {
		wanted[c.Size] = nil
	}

	var rep VerifyReport
	var leaves []storeLeaf
	r := (&compact.RangeFactory{Hash: ptlog.Hasher.HashChildren}).NewEmptyRange(0)
	err := cfg.Store.ReadAll(ctx, eventlog.Start, 0, func(e eventlog.Recorded) error {
		if eventlog.SystemStream(e.Stream) {
			return nil
		}
		l := storeLeaf{pos: e.Position}
		data, err := ptlog.LeafData(e.Meta.Hash)
		if err != nil {
			// No leaf the log could have signed: a value that differs from every real one.
			sum := sha256.Sum256([]byte("malformed event hash: " + e.Meta.Hash))
			data = sum[:]
		}
		copy(l.data[:], data)
		if rep.Altered == nil && (err != nil || eventlog.HashOf(e.Stream, e.Event) != e.Meta.Hash) {
			rep.Altered = refOf(uint64(len(leaves)), e)
		}
		leaves = append(leaves, l)
		if err := r.Append(ptlog.Hasher.HashLeaf(l.data[:]), nil); err != nil {
			return err
		}
		if _, ok := wanted[r.End()]; ok {
			root, err := r.GetRootHash(nil)
			if err != nil {
				return err
			}
			wanted[r.End()] = root
		}
		return nil
	})
	if err != nil {
		return VerifyReport{}, fmt.Errorf("tlog verify: read $all: %w", err)
	}
	rep.Size = uint64(len(leaves))
	root, err := r.GetRootHash(nil)
	if err != nil {
		return VerifyReport{}, err
	}
	if root == nil {
		root = ptlog.Hasher.EmptyRoot()
	}
	wanted[0] = ptlog.Hasher.EmptyRoot()
	rep.Root = base64.StdEncoding.EncodeToString(root)

	v := &verification{cfg: cfg, leaves: leaves}
	rep.Intact = rep.Altered == nil
	for _, c := range cps {
		res := CheckpointResult{Checkpoint: c, Size: c.Size, Root: base64.StdEncoding.EncodeToString(c.Root), Kind: Consistent, FirstDiff: -1}
		switch {
		case c.Size > rep.Size:
			res.Kind = Truncated
		case !bytes.Equal(wanted[c.Size], c.Root):
			res.Kind = Rewritten
		}
		if res.Kind != Consistent {
			rep.Intact = false
			if err := v.locate(ctx, &res, rep.Checkpoints); err != nil {
				return VerifyReport{}, err
			}
		}
		res.Message = res.describe(rep.Size)
		rep.Checkpoints = append(rep.Checkpoints, res)
	}
	rep.Seconds = time.Since(started).Seconds()
	rep.Message = rep.describe()
	return rep, nil
}

func compareSize(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func refOf(index uint64, e eventlog.Recorded) *LeafRef {
	return &LeafRef{Index: index, Position: e.Position, Stream: e.Stream, Revision: e.Revision, EventID: e.ID.String(), Hash: e.Meta.Hash}
}

type verification struct {
	cfg    VerifyConfig
	leaves []storeLeaf
}

// locate finds the first leaf where the store differs from what res's checkpoint signed. done holds the
// results of the smaller checkpoints: the consistent ones bound it from below.
func (v *verification) locate(ctx context.Context, res *CheckpointResult, done []CheckpointResult) error {
	c := res.Checkpoint
	storeSize := uint64(len(v.leaves))
	res.DiffTo = min(c.Size, storeSize)
	for _, d := range done {
		if d.Kind == Consistent && d.Size <= c.Size {
			res.DiffFrom = max(res.DiffFrom, d.Size)
		}
	}
	if res.DiffFrom == res.DiffTo && c.Size > storeSize {
		res.FirstDiff = int64(storeSize) // the signed prefix is all there; the store ends before the rest
	} else if v.cfg.Tree != nil {
		if err := v.compareWithModel(ctx, res); err != nil {
			return err
		}
	}
	if res.FirstDiff == 0 && res.Kind == Rewritten {
		res.Kind = Replaced
	}
	if res.FirstDiff >= 0 && uint64(res.FirstDiff) < storeSize {
		l := v.leaves[res.FirstDiff]
		err := v.cfg.Store.ReadAll(ctx, l.pos, 1, func(e eventlog.Recorded) error {
			if e.Position == l.pos {
				res.Store = refOf(uint64(res.FirstDiff), e)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("tlog verify: read the event of leaf %d: %w", res.FirstDiff, err)
		}
	}
	return nil
}

// compareWithModel walks the read model's leaves where the model's tree has the checkpoint's root, and
// proves the first one that differs from the store with an inclusion proof against the checkpoint.
func (v *verification) compareWithModel(ctx context.Context, res *CheckpointResult) error {
	c := res.Checkpoint
	root, err := v.cfg.Tree.Root(ctx, c.Size)
	if errors.Is(err, ptlog.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("tlog verify: the read model's root at %d: %w", c.Size, err)
	}
	if !bytes.Equal(root, c.Root) {
		return nil // the model was built from another history too: it says nothing about the signed one
	}
	errFound := errors.New("found")
	var signed ptlog.Leaf
	err = v.cfg.Tree.Leaves(ctx, res.DiffFrom, c.Size, func(l ptlog.Leaf) error {
		if l.Index >= uint64(len(v.leaves)) || !bytes.Equal(l.Data, v.leaves[l.Index].data[:]) {
			signed = l
			return errFound
		}
		return nil
	})
	if !errors.Is(err, errFound) {
		return err // nil: the model's leaves match the store's, but its nodes do not: nothing to name
	}
	inc, err := v.cfg.Tree.InclusionAt(ctx, signed.Index, c.Size)
	if err != nil {
		return fmt.Errorf("tlog verify: prove leaf %d: %w", signed.Index, err)
	}
	if err := proof.VerifyInclusion(ptlog.Hasher, signed.Index, c.Size, signed.Hash(), inc.Proof, c.Root); err != nil {
		return nil // the model's leaf is not the one signed: do not name it
	}
	res.FirstDiff = int64(signed.Index)
	res.DiffFrom, res.DiffTo = signed.Index, signed.Index
	res.Signed = &LeafRef{Index: signed.Index, Position: signed.Position, Hash: hex.EncodeToString(signed.Data)}
	return nil
}

func (res *CheckpointResult) describe(storeSize uint64) string {
	what := fmt.Sprintf("checkpoint of size %d", res.Size)
	switch res.Kind {
	case Consistent:
		return what + ": the store's history extends it"
	case Truncated:
		what = fmt.Sprintf("%s: truncated, the store has %d leaves", what, storeSize)
	case Rewritten:
		what += ": rewritten, the store's tree has another root at that size"
	case Replaced:
		what += ": replaced, the store holds another history from the first leaf"
	}
	if res.FirstDiff < 0 {
		return fmt.Sprintf("%s; the first differing leaf is between %d and %d", what, res.DiffFrom, res.DiffTo)
	}
	what = fmt.Sprintf("%s; first differing leaf %d", what, res.FirstDiff)
	if res.Store != nil {
		what += ": the store has " + res.Store.String()
	} else {
		what += ": the store ends before it"
	}
	if res.Signed != nil {
		what += fmt.Sprintf(", the checkpoint signed event hash %s at $all position %s", res.Signed.Hash, res.Signed.Position)
	}
	return what
}

func (rep *VerifyReport) describe() string {
	if rep.Intact {
		return fmt.Sprintf("recomputed %d leaves, root %s: consistent with %d signed checkpoints", rep.Size, rep.Root, len(rep.Checkpoints))
	}
	for _, c := range rep.Checkpoints {
		if c.Kind != Consistent {
			return c.Message
		}
	}
	return "event content altered at " + rep.Altered.String() + ": it does not hash to its recorded hash"
}
