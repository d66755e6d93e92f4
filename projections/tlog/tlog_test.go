package tlog_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/projections/internal/decode/decodetest"
	"github.com/grassroots-ledger/ledger/projections/internal/readmodeltest"
	"github.com/grassroots-ledger/ledger/projections/runtime"
	"github.com/grassroots-ledger/ledger/projections/tlog"
)

// events is a synthetic history of n ledger events with valid chain hashes, at $all positions 10i+5 (so a
// position between two events is no event).
func events(n int) []eventlog.Recorded { return eventsFrom(0, n) }

// eventsFrom is events(to)[from:], made without the ones before.
func eventsFrom(from, to int) []eventlog.Recorded {
	out := make([]eventlog.Recorded, 0, to-from)
	for i := from; i < to; i++ {
		sum := sha256.Sum256(fmt.Appendf(nil, "event %d", i))
		p := uint64(10*i + 5)
		out = append(out, eventlog.Recorded{
			Event:  eventlog.Event{ID: eventlog.DeriveID(fmt.Sprint("cmd-", i), 0), Type: "funds.expenditure-requested", Data: []byte(`{}`), Meta: eventlog.Metadata{SchemaVersion: 1, Hash: hex.EncodeToString(sum[:])}},
			Stream: fmt.Sprintf("expenditure-330303001001-%d", i%7), Revision: uint64(i / 7), Position: eventlog.Position{Commit: p, Prepare: p},
			Created: time.Date(2026, 5, 1, 0, 0, i, 0, time.UTC),
		})
	}
	return out
}

// reference is the tree of evs built in memory with the library alone: the root of every size.
func reference(t testing.TB, evs []eventlog.Recorded) (roots [][]byte, leafHashes [][]byte) {
	t.Helper()
	f := &compact.RangeFactory{Hash: tlog.Hasher.HashChildren}
	r := f.NewEmptyRange(0)
	roots = append(roots, tlog.Hasher.EmptyRoot())
	for _, e := range evs {
		d, err := hex.DecodeString(e.Meta.Hash)
		if err != nil {
			t.Fatal(err)
		}
		h := tlog.Hasher.HashLeaf(d)
		leafHashes = append(leafHashes, h)
		if err := r.Append(h, nil); err != nil {
			t.Fatal(err)
		}
		root, err := r.GetRootHash(nil)
		if err != nil {
			t.Fatal(err)
		}
		roots = append(roots, root)
	}
	return roots, leafHashes
}

func loaded(t *testing.T, evs []eventlog.Recorded, batch int) (*pgxpool.Pool, *tlog.Tree) {
	t.Helper()
	pool := decodetest.NewPool(t)
	decodetest.Migrate(t, pg.Migrator(pool), tlog.Model{})
	decodetest.MustApply(t, pool, tlog.Model{}, evs, batch)
	return pool, tlog.NewTree(pool)
}

func TestRootsMatchTheLibrarysTreeAtEverySize(t *testing.T) {
	t.Parallel()
	evs := events(300)
	pool, tree := loaded(t, evs, 37)
	roots, _ := reference(t, evs)
	ctx := context.Background()
	size, err := tree.Size(ctx)
	if err != nil || size != 300 {
		t.Fatalf("size %d, %v; want 300", size, err)
	}
	// nodes holds the perfect subtrees of four leaves or more, each once: 75 + 37 + 18 + 9 + 4 + 2 + 1 for
	// 300 leaves (a leaf's and a two-leaf node's hashes are made from leaves).
	if n := decodetest.Count(t, pool, "SELECT count(*) FROM rm_tlog.nodes WHERE level >= 2"); n != 146 {
		t.Errorf("%d nodes of four leaves or more, want 146", n)
	}
	if n := decodetest.Count(t, pool, "SELECT count(*) FROM rm_tlog.nodes WHERE level < 2"); n != 0 {
		t.Errorf("%d nodes of one or two leaves stored, want none", n)
	}
	for n := range uint64(301) {
		got, err := tree.Root(ctx, n)
		if err != nil {
			t.Fatalf("root at %d: %v", n, err)
		}
		if !bytes.Equal(got, roots[n]) {
			t.Fatalf("root at %d is %x, the library's tree has %x", n, got, roots[n])
		}
	}
	if _, err := tree.Root(ctx, 301); !errors.Is(err, tlog.ErrNotFound) {
		t.Fatalf("root beyond the tree: %v, want ErrNotFound", err)
	}
}

// 1 000 random (index, size) pairs: each inclusion proof verifies with the library's verifier against the
// root of that size, and a tampered one does not; so do consistency proofs between random sizes. The
// tree grows from 3 000 to 5 000 leaves half-way (the Tree keeps its upper levels, from 1 024 leaves a
// node, in memory: they must follow).
func TestProofsVerifyWithTheLibrarysVerifier(t *testing.T) {
	t.Parallel()
	const n = 5000
	evs := events(n)
	pool, tree := loaded(t, evs[:3000], 256)
	roots, leafHashes := reference(t, evs)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(16, 1))
	for i := range 1000 {
		grown := uint64(3000)
		if i >= 500 {
			grown = n
		}
		if i == 500 {
			decodetest.MustApply(t, pool, tlog.Model{}, evs[3000:], 256)
		}
		size := 1 + rng.Uint64N(grown)
		index := rng.Uint64N(size)
		var inc tlog.Inclusion
		var err error
		if index%2 == 0 {
			inc, err = tree.InclusionOf(ctx, evs[index].Position, size)
		} else {
			inc, err = tree.InclusionAt(ctx, index, size)
		}
		if err != nil {
			t.Fatalf("inclusion of %d in %d: %v", index, size, err)
		}
		if inc.Leaf.Index != index || inc.TreeSize != size || inc.Leaf.Position != evs[index].Position || hex.EncodeToString(inc.Leaf.Data) != evs[index].Meta.Hash {
			t.Fatalf("inclusion of %d in %d answered for %+v", index, size, inc)
		}
		if err := proof.VerifyInclusion(tlog.Hasher, index, size, inc.Leaf.Hash(), inc.Proof, roots[size]); err != nil {
			t.Fatalf("inclusion of %d in %d does not verify: %v", index, size, err)
		}
		if !bytes.Equal(inc.Leaf.Hash(), leafHashes[index]) {
			t.Fatalf("leaf hash of %d", index)
		}
		if len(inc.Proof) > 0 {
			bad := tamper(inc.Proof, rng)
			if err := proof.VerifyInclusion(tlog.Hasher, index, size, inc.Leaf.Hash(), bad, roots[size]); err == nil {
				t.Fatalf("a tampered inclusion proof of %d in %d verified", index, size)
			}
		}
		if err := proof.VerifyInclusion(tlog.Hasher, index, size, leafHashes[(index+1)%n], inc.Proof, roots[size]); err == nil {
			t.Fatalf("the proof of leaf %d verified another leaf", index)
		}

		from := rng.Uint64N(size + 1)
		cons, err := tree.Consistency(ctx, from, size)
		if err != nil {
			t.Fatalf("consistency %d..%d: %v", from, size, err)
		}
		if err := proof.VerifyConsistency(tlog.Hasher, from, size, cons, roots[from], roots[size]); err != nil {
			t.Fatalf("consistency %d..%d does not verify: %v", from, size, err)
		}
		if len(cons) > 0 {
			if err := proof.VerifyConsistency(tlog.Hasher, from, size, tamper(cons, rng), roots[from], roots[size]); err == nil {
				t.Fatalf("a tampered consistency proof %d..%d verified", from, size)
			}
		}
	}
}

// tamper flips one bit of one hash of a copy of p.
func tamper(p [][]byte, rng *rand.Rand) [][]byte {
	out := make([][]byte, len(p))
	for i, h := range p {
		out[i] = bytes.Clone(h)
	}
	i := rng.IntN(len(out))
	out[i][rng.IntN(len(out[i]))] ^= 1 << rng.IntN(8)
	return out
}

func TestNotFoundAndInvalid(t *testing.T) {
	t.Parallel()
	evs := events(10)
	_, tree := loaded(t, evs, 0)
	ctx := context.Background()
	for name, err := range map[string]error{
		"position between two events": second(tree.InclusionOf(ctx, eventlog.Position{Commit: 6, Prepare: 6}, 10)),
		"leaf not yet in the size":    second(tree.InclusionOf(ctx, evs[7].Position, 7)),
		"size beyond the tree":        second(tree.InclusionOf(ctx, evs[3].Position, 11)),
		"index beyond the size":       second(tree.InclusionAt(ctx, 10, 10)),
		"consistency beyond the tree": second(tree.Consistency(ctx, 3, 11)),
	} {
		if !errors.Is(err, tlog.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}
	for name, err := range map[string]error{
		"inclusion in size 0":        second(tree.InclusionOf(ctx, evs[0].Position, 0)),
		"consistency from > to":      second(tree.Consistency(ctx, 5, 4)),
		"inclusion at index, size 0": second(tree.InclusionAt(ctx, 0, 0)),
	} {
		if !errors.Is(err, tlog.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if p, err := tree.Consistency(ctx, 0, 10); err != nil || len(p) != 0 {
		t.Errorf("consistency from 0: %v, %v", p, err)
	}
}

func second[T any](_ T, err error) error { return err }

// The read-model contract every model runs: the same rows under any batching, a malformed hash halts the
// log just before it (no leaf skipped, none after it written), no personal data, rebuild equals live, the
// declared tables are the migrations'.
func TestContract(t *testing.T) {
	readmodeltest.Run(t, readmodeltest.Model{New: func() runtime.ReadModel { return tlog.Model{} },
		Sample: events(200), Redelivery: decodetest.OnlyOnceEach, Handles: "disclosure.published",
		Poison: func(e eventlog.Recorded) []readmodeltest.Poison {
			e.Meta.Hash = "not a hash"
			return []readmodeltest.Poison{{Event: e, Reason: "is not 64 hex digits"}}
		}})
}

// A malformed hash is poison, and the log halts on it rather than skip a leaf.
func TestMalformedHashIsPoisonAndHalts(t *testing.T) {
	t.Parallel()
	if (tlog.Model{}).Poison() != runtime.Halt {
		t.Fatal("the log must halt on poison")
	}
	pool := decodetest.NewPool(t)
	decodetest.Migrate(t, pg.Migrator(pool), tlog.Model{})
	for _, h := range []string{"", "abc", "ABCDEF" + evs1()[6:], evs1()[:62] + "zz", evs1() + "00"} {
		evs := events(3)
		evs[1].Meta.Hash = h
		err := decodetest.Apply(context.Background(), pool, tlog.Model{}, evs)
		var pe *runtime.PoisonError
		if !errors.As(err, &pe) || pe.Position != evs[1].Position {
			t.Fatalf("hash %q: %v, want the poison error of the second event", h, err)
		}
	}
	if n := decodetest.Count(t, pool, "SELECT count(*) FROM rm_tlog.leaves"); n != 0 {
		t.Fatalf("%d leaves written from rejected batches", n)
	}
}

func evs1() string { return events(1)[0].Meta.Hash }

// Projected live by the runtime, then rebuilt into the shadow schema and swapped in: the same rows.
func TestRebuildGivesIdenticalRows(t *testing.T) {
	t.Parallel()
	evs := events(2500)
	pool := decodetest.NewPool(t)
	src := decodetest.NewMemSource(evs)
	rt := decodetest.NewRuntime(t, pool, src, pg.Migrator(pool), []runtime.ReadModel{tlog.Model{}}, func(c *runtime.Config) { c.RebuildBatch = 333 })
	if err := rt.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	decodetest.Start(t, rt)
	last := evs[len(evs)-1].Position
	decodetest.WaitFor(t, time.Minute, "the log catches up", func() (bool, string) {
		cp := decodetest.Checkpoint(t, pool, tlog.Schema)
		return cp == last, cp.String()
	})
	before := decodetest.Checksum(t, pool, tlog.Schema)
	if err := rt.Rebuild(context.Background(), tlog.Model{}, nil); err != nil {
		t.Fatal(err)
	}
	if after := decodetest.Checksum(t, pool, tlog.Schema); after != before {
		t.Fatalf("rebuilt rows differ:\n%s\nlive:\n%s", after, before)
	}
	roots, _ := reference(t, evs)
	root, err := tlog.NewTree(pool).Root(context.Background(), uint64(len(evs)))
	if err != nil || !bytes.Equal(root, roots[len(evs)]) {
		t.Fatalf("root after the rebuild %x, %v", root, err)
	}
	// The keys the rebuild built last are the tables' keys again.
	keys := decodetest.Count(t, pool, `SELECT count(*) FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
		WHERE n.nspname = 'rm_tlog' AND k.conname IN ('leaves_pkey', 'nodes_pkey') AND k.contype = 'p'`)
	unique := decodetest.Count(t, pool, `SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		WHERE c.relname = 'leaves_by_position' AND c.relnamespace = 'rm_tlog'::regnamespace AND i.indisunique`)
	if keys != 2 || unique != 1 {
		t.Fatalf("after the rebuild: %d primary keys of leaves and nodes, %d unique index by position; want 2 and 1", keys, unique)
	}
}

// A tree projected before the edge table existed (migration 0004 adds it empty) has its right edge read
// from leaves and nodes by the next batch, which writes the edge's row: every root after stays the
// library's, and the row then holds the whole tree's edge.
func TestTreeWithoutAnEdgeRowGrowsFromItsTables(t *testing.T) {
	t.Parallel()
	evs := events(700)
	pool, tree := loaded(t, evs[:300], 37)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, "DELETE FROM rm_tlog.edge"); err != nil {
		t.Fatal(err)
	}
	decodetest.MustApply(t, pool, tlog.Model{}, evs[300:], 41)
	roots, _ := reference(t, evs)
	for _, n := range []uint64{300, 301, 333, 512, 699, 700} {
		got, err := tree.Root(ctx, n)
		if err != nil || !bytes.Equal(got, roots[n]) {
			t.Fatalf("root at %d is %x (%v), the library's tree has %x", n, got, err, roots[n])
		}
	}
	var size int64
	var hashes []byte
	if err := pool.QueryRow(ctx, "SELECT size, hashes FROM rm_tlog.edge").Scan(&size, &hashes); err != nil {
		t.Fatal(err)
	}
	// 700 = 512 + 128 + 32 + 16 + 8 + 4: six perfect subtrees.
	if size != 700 || len(hashes) != 6*tlog.HashSize {
		t.Fatalf("edge row: size %d with %d bytes of hashes, want 700 and %d", size, len(hashes), 6*tlog.HashSize)
	}
}

// A Tree that proved inclusions in one tree proves them in another after a rebuild swapped it in (here of
// another history at the same positions): nothing it kept in memory of the first is used for the second.
func TestInclusionAfterARebuildOfAnotherHistory(t *testing.T) {
	t.Parallel()
	const n = 4100
	ctx := context.Background()
	first := events(n)
	other := events(n)
	for i := range other {
		sum := sha256.Sum256(fmt.Appendf(nil, "another event %d", i))
		other[i].Meta.Hash = hex.EncodeToString(sum[:])
	}
	pool := decodetest.NewPool(t)
	tree := tlog.NewTree(pool)
	for round, evs := range [][]eventlog.Recorded{first, other} {
		rt := decodetest.NewRuntime(t, pool, decodetest.NewMemSource(evs), pg.Migrator(pool), []runtime.ReadModel{tlog.Model{}})
		if err := rt.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if err := rt.Rebuild(ctx, tlog.Model{}, nil); err != nil {
			t.Fatal(err)
		}
		roots, _ := reference(t, evs)
		for _, index := range []uint64{0, 1, 1023, 1024, 2047, 2048, 3000, n - 1} {
			for _, size := range []uint64{n, 3001, 2049} {
				if index >= size {
					continue
				}
				inc, err := tree.InclusionOf(ctx, evs[index].Position, size)
				if err != nil {
					t.Fatalf("round %d: inclusion of %d in %d: %v", round, index, size, err)
				}
				if err := proof.VerifyInclusion(tlog.Hasher, index, size, inc.Leaf.Hash(), inc.Proof, roots[size]); err != nil {
					t.Fatalf("round %d: inclusion of %d in %d does not verify: %v", round, index, size, err)
				}
			}
		}
	}
}
