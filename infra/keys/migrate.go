package keys

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/transparency-dev/merkle/compact"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	ptlog "github.com/grassroots-ledger/ledger/projections/tlog"
)

// Target is the store a sealed copy writes into (infra/eventstore.Store).
type Target interface {
	Appender
	Reader
}

// ErrTargetNotEmpty: a sealed copy writes into a store without ledger events only.
var ErrTargetNotEmpty = errors.New("keys: the target store already holds ledger events")

// SealedCopy is what CopySealed did.
type SealedCopy struct {
	// Events were copied; Resealed of them got new hashes (their personal data sealed, or an earlier
	// event of their stream changed); the rest kept theirs.
	Events, Resealed uint64
	// SourceLogRoot is the RFC 6962 root (base64) of the source's transparency log: its event hashes in
	// $all order.
	SourceLogRoot string
	// MappingSHA256 is the SHA-256 (hex) of the mapping written: "stream,revision,event id,old hash,new
	// hash" for every resealed event, a line each.
	MappingSHA256 string
}

// CopySealed copies every ledger event of src into dst (which must hold none), in src's $all order, with
// the same streams, revisions, ids, types and metadata, sealing the personal data of each with ks. The
// hash chains are sealed again: an event without personal data in a stream where nothing changed before
// it keeps its hash; the others get new ones, listed in mapping. progress, when not nil, is told the
// source position reached after each append. Interrupted, the target is partial: remove it and run again
// (the source is never written).
func CopySealed(ctx context.Context, src Reader, dst Target, ks *Store, mapping io.Writer, progress func(eventlog.Position)) (SealedCopy, error) {
	var res SealedCopy
	if err := dst.ReadAll(ctx, eventlog.Start, 0, func(r eventlog.Recorded) error {
		if !eventlog.SystemStream(r.Stream) {
			return fmt.Errorf("%w (stream %s, for one): copy into an empty store", ErrTargetNotEmpty, r.Stream)
		}
		return nil
	}); err != nil {
		return res, err
	}
	type tail struct {
		rev  uint64
		hash string
	}
	tails := map[string]tail{}
	sum := sha256.New()
	out := io.MultiWriter(mapping, sum)
	tree := (&compact.RangeFactory{Hash: ptlog.Hasher.HashChildren}).NewEmptyRange(0)
	var (
		stream  string
		pending []eventlog.Recorded
		last    eventlog.Position
	)
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		evs := make([]eventlog.Event, len(pending))
		for i, r := range pending {
			evs[i] = r.Event
			evs[i].Meta.PrevHash, evs[i].Meta.Hash = "", ""
		}
		expected := eventlog.NoStream()
		if t, ok := tails[stream]; ok {
			expected = eventlog.At(t.rev, t.hash)
		}
		if err := ks.Seal(ctx, evs); err != nil {
			return err
		}
		// The chain as the store will seal it: to list what changed, and to continue it.
		prev := expected.TailHash
		newTail := eventlog.Seal(stream, prev, evs)
		if _, err := dst.Append(ctx, stream, expected, evs); err != nil {
			return fmt.Errorf("append %s: %w", stream, err)
		}
		for i, r := range pending {
			if evs[i].Meta.Hash != r.Meta.Hash {
				res.Resealed++
				if _, err := fmt.Fprintf(out, "%s,%d,%s,%s,%s\n", r.Stream, r.Revision, r.ID, r.Meta.Hash, evs[i].Meta.Hash); err != nil {
					return err
				}
			}
		}
		tails[stream] = tail{rev: pending[len(pending)-1].Revision, hash: newTail}
		res.Events += uint64(len(pending))
		pending = pending[:0]
		if progress != nil {
			progress(last)
		}
		return nil
	}
	err := src.ReadAll(ctx, eventlog.Start, 0, func(r eventlog.Recorded) error {
		if eventlog.SystemStream(r.Stream) {
			return nil
		}
		leaf, err := ptlog.LeafData(r.Meta.Hash)
		if err != nil {
			return fmt.Errorf("%s@%d: %w", r.Stream, r.Revision, err)
		}
		if err := tree.Append(ptlog.Hasher.HashLeaf(leaf), nil); err != nil {
			return err
		}
		if r.Stream != stream || len(pending) == 500 {
			if err := flush(); err != nil {
				return err
			}
			stream = r.Stream
		}
		pending = append(pending, r)
		last = r.Position
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return res, err
	}
	root, err := tree.GetRootHash(nil)
	if err != nil {
		return res, err
	}
	if root == nil {
		root = ptlog.Hasher.EmptyRoot()
	}
	res.SourceLogRoot = base64.StdEncoding.EncodeToString(root)
	res.MappingSHA256 = hex.EncodeToString(sum.Sum(nil))
	return res, nil
}
