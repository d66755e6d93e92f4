package tlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
)

// ErrNotFound means the tree does not hold what was asked: a size beyond its current size, or a $all
// position that is no ledger event or not yet a leaf of the tree of the size asked. An HTTP caller answers
// 404; the answer may change as the log grows.
var ErrNotFound = errors.New("tlog: not in the log")

// ErrInvalid means the request itself is wrong (a tree size of 0 for an inclusion proof, a consistency
// proof from a larger size to a smaller one). An HTTP caller answers 400 naming the parameter.
var ErrInvalid = errors.New("tlog: invalid request")

// Querier is a pool, connection or transaction (the portal's read-only pool will do).
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Tree reads the live tree (schema rm_tlog). Every method is safe to call concurrently and consistent on
// its own: the tree only grows, and a rebuild swaps the whole schema at once. A Tree keeps the upper
// levels of the tree in memory for inclusion proofs (see upper).
type Tree struct {
	t     tree
	upper upper
}

// NewTree reads the live tree through q.
func NewTree(q Querier) *Tree {
	return &Tree{t: tree{q: q, leaves: pgx.Identifier{Schema, "leaves"}.Sanitize(), nodes: pgx.Identifier{Schema, "nodes"}.Sanitize()}}
}

// Size is the number of leaves in the tree now.
func (t *Tree) Size(ctx context.Context) (uint64, error) { return t.t.size(ctx) }

// Root is the root hash of the tree of the given size (the empty tree's, SHA-256 of nothing, for 0).
// ErrNotFound when size is beyond the tree's size.
func (t *Tree) Root(ctx context.Context, size uint64) ([]byte, error) {
	if err := t.t.has(ctx, size); err != nil {
		return nil, err
	}
	return t.t.root(ctx, size)
}

// Leaf is one leaf of the log.
type Leaf struct {
	Index    uint64
	Position eventlog.Position // the event's place in $all
	Data     []byte            // the event's 32-byte chain hash
}

// Hash is the leaf's RFC 6962 leaf hash.
func (l Leaf) Hash() []byte { return Hasher.HashLeaf(l.Data) }

// Inclusion is the proof that a leaf is in the tree of a size.
type Inclusion struct {
	Leaf     Leaf
	TreeSize uint64
	// Proof is the audit path, bottom up, as proof.VerifyInclusion takes it.
	Proof [][]byte
}

// InclusionOf proves that the event at $all position pos is in the tree of size treeSize. ErrNotFound
// when pos is no leaf, or its leaf comes at or after treeSize, or treeSize is beyond the tree's size;
// ErrInvalid when treeSize is 0. One round trip.
func (t *Tree) InclusionOf(ctx context.Context, pos eventlog.Position, treeSize uint64) (Inclusion, error) {
	if pos.Commit > math.MaxInt64 || pos.Prepare > math.MaxInt64 {
		return Inclusion{}, fmt.Errorf("%w: position %s is no ledger event", ErrNotFound, pos)
	}
	return t.inclusion(ctx, "lf.commit_pos = $3 AND lf.prepare_pos = $4", []any{int64(pos.Commit), int64(pos.Prepare)},
		"position "+pos.String(), treeSize)
}

// InclusionAt proves that leaf index is in the tree of size treeSize (the same errors as InclusionOf).
func (t *Tree) InclusionAt(ctx context.Context, index, treeSize uint64) (Inclusion, error) {
	if index >= treeSize && treeSize > 0 {
		return Inclusion{}, fmt.Errorf("%w: leaf %d is not in the tree of size %d", ErrNotFound, index, treeSize)
	}
	return t.inclusion(ctx, "lf.idx = $3", []any{int64(min(index, math.MaxInt64))},
		fmt.Sprintf("leaf %d", index), treeSize)
}

// inclusion finds the leaf that where selects (on table alias lf, with args as $3…) and proves it in the
// tree of size treeSize, in one round trip once the upper levels are in memory (upper.cover): with the
// leaf come the sibling of each node on its path below upperLevel and the tree's right edge below it, a
// superset of the proof's lower nodes (ids the library then picks); the upper ones are in memory. The
// query also names the nodes table it read: after a rebuild (another table) the memory is dropped and
// the proof made again.
func (t *Tree) inclusion(ctx context.Context, where string, args []any, what string, treeSize uint64) (Inclusion, error) {
	if treeSize == 0 {
		return Inclusion{}, fmt.Errorf("%w: tree size 0 holds no leaf", ErrInvalid)
	}
	if treeSize > math.MaxInt64 {
		return Inclusion{}, fmt.Errorf("%w: tree size %d", ErrNotFound, treeSize)
	}
	for attempt := 0; ; attempt++ {
		table, err := t.upper.cover(ctx, t.t, treeSize)
		if err != nil {
			return Inclusion{}, err
		}
		inc, read, err := t.inclusionWith(ctx, where, args, what, treeSize)
		if err != nil || read == table {
			return inc, err
		}
		// A rebuild swapped the tree between the two reads: what is in memory may be of the old tree.
		t.upper.reset(read)
		if attempt == 2 {
			return Inclusion{}, fmt.Errorf("tlog: find %s: the tree was rebuilt three times meanwhile", what)
		}
	}
}

// inclusionWith is one attempt of inclusion; it returns the oid of the nodes table it read. Its lower
// nodes are the leaf's siblings (l, (leaf >> l) xor 1) and the right edge's (l, (treeSize >> l) - 1) for
// each bit l set in treeSize, below upperLevel: a constant series, so that PostgreSQL plans the prepared
// statement once (a series bounded by a parameter is planned again on every call, which took longer
// than running it).
func (t *Tree) inclusionWith(ctx context.Context, where string, args []any, what string, treeSize uint64) (Inclusion, uint32, error) {
	rows, err := t.t.q.Query(ctx, `SELECT lf.idx, lf.commit_pos, lf.prepare_pos, lf.data,
			EXISTS (SELECT 1 FROM `+t.t.leaves+` WHERE idx = $1::bigint - 1), (SELECT to_regclass($2::text)::oid), w.level, w.idx,
			`+t.t.nodeOrLeaf("w")+`
		FROM `+t.t.leaves+` lf CROSS JOIN LATERAL (
			SELECT l::smallint, (lf.idx >> l) # 1 FROM generate_series(0, `+strconv.Itoa(upperLevel-1)+`) AS l WHERE (1::bigint << l) <= $1
			UNION ALL
			SELECT l::smallint, ($1 >> l) - 1 FROM generate_series(0, `+strconv.Itoa(upperLevel-1)+`) AS l WHERE $1 & (1::bigint << l) <> 0
		) AS w(level, idx)
		WHERE `+where, append([]any{int64(treeSize), t.t.nodes}, args...)...)
	if err != nil {
		return Inclusion{}, 0, fmt.Errorf("tlog: find %s: %w", what, err)
	}
	var leaf Leaf
	var reached, found bool
	var table uint32
	fetched := map[compact.NodeID][]byte{}
	for rows.Next() {
		var idx, c, p, nodeIdx int64
		var level int16
		var data, hash []byte
		if err := rows.Scan(&idx, &c, &p, &data, &reached, &table, &level, &nodeIdx, &hash); err != nil {
			rows.Close()
			return Inclusion{}, 0, fmt.Errorf("tlog: find %s: %w", what, err)
		}
		if !found {
			leaf, found = Leaf{Index: uint64(idx), Position: eventlog.Position{Commit: uint64(c), Prepare: uint64(p)}, Data: data}, true
		}
		if hash != nil {
			fetched[compact.NewNodeID(uint(level), uint64(nodeIdx))] = nodeHash(level, hash)
		}
	}
	if err := rows.Err(); err != nil {
		return Inclusion{}, 0, fmt.Errorf("tlog: find %s: %w", what, err)
	}
	if !found {
		return Inclusion{}, table, fmt.Errorf("%w: %s is no ledger event in the log", ErrNotFound, what)
	}
	if leaf.Index >= treeSize {
		return Inclusion{}, table, fmt.Errorf("%w: leaf %d (position %s) is not in the tree of size %d", ErrNotFound, leaf.Index, leaf.Position, treeSize)
	}
	if !reached {
		return Inclusion{}, table, fmt.Errorf("%w: the log has fewer than %d leaves", ErrNotFound, treeSize)
	}
	nodes, err := proof.Inclusion(leaf.Index, treeSize)
	if err != nil {
		return Inclusion{}, table, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	hs := make([][]byte, len(nodes.IDs))
	for i, id := range nodes.IDs {
		if id.Level >= upperLevel {
			hs[i] = bytes.Clone(t.upper.hash(id)) // the caller may change the proof
		} else {
			hs[i] = fetched[id]
		}
		if hs[i] == nil {
			return Inclusion{}, table, fmt.Errorf("tlog: inclusion proof of leaf %d in size %d: node (level %d, index %d) is missing", leaf.Index, treeSize, id.Level, id.Index)
		}
	}
	if hs, err = nodes.Rehash(hs, Hasher.HashChildren); err != nil {
		return Inclusion{}, table, fmt.Errorf("tlog: inclusion proof of leaf %d in size %d: %w", leaf.Index, treeSize, err)
	}
	return Inclusion{Leaf: leaf, TreeSize: treeSize, Proof: hs}, table, nil
}

func nodeArrays(ids []compact.NodeID) (levels []int16, idxs []int64) {
	levels, idxs = make([]int16, len(ids)), make([]int64, len(ids))
	for i, id := range ids {
		levels[i], idxs[i] = int16(id.Level), int64(id.Index)
	}
	return levels, idxs
}

// Consistency proves that the tree of size from is a prefix of the tree of size to (RFC 9162 2.1.4; empty
// when from is 0 or equal to to). ErrInvalid when from > to; ErrNotFound when to is beyond the tree.
func (t *Tree) Consistency(ctx context.Context, from, to uint64) ([][]byte, error) {
	if from > to {
		return nil, fmt.Errorf("%w: from %d is larger than to %d", ErrInvalid, from, to)
	}
	if err := t.t.has(ctx, to); err != nil {
		return nil, err
	}
	nodes, err := proof.Consistency(from, to)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	p, err := t.t.rehash(ctx, nodes)
	if err != nil {
		return nil, fmt.Errorf("tlog: consistency proof from %d to %d: %w", from, to, err)
	}
	return p, nil
}

// Leaves calls fn with the leaves [from, to) in index order (fewer when the tree is smaller), streaming.
func (t *Tree) Leaves(ctx context.Context, from, to uint64, fn func(Leaf) error) error {
	return t.t.leafRange(ctx, from, to, fn)
}

// tree is the SQL on one schema's tables: the live schema (qualified names) or, inside Apply, whatever
// schema the transaction's search_path names.
type tree struct {
	q             Querier
	leaves, nodes string
}

func (t tree) size(ctx context.Context) (uint64, error) {
	var last *int64
	if err := t.q.QueryRow(ctx, "SELECT max(idx) FROM "+t.leaves).Scan(&last); err != nil {
		return 0, fmt.Errorf("tlog: tree size: %w", err)
	}
	if last == nil {
		return 0, nil
	}
	return uint64(*last) + 1, nil
}

// has returns ErrNotFound when size is beyond the tree.
func (t tree) has(ctx context.Context, size uint64) error {
	if size == 0 {
		return nil
	}
	if size > math.MaxInt64 {
		return fmt.Errorf("%w: tree size %d", ErrNotFound, size)
	}
	var ok bool
	if err := t.q.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+t.leaves+" WHERE idx = $1)", int64(size-1)).Scan(&ok); err != nil {
		return fmt.Errorf("tlog: tree size: %w", err)
	}
	if !ok {
		return fmt.Errorf("%w: the log has fewer than %d leaves", ErrNotFound, size)
	}
	return nil
}

// hashes returns the stored hashes of ids, in their order; a missing node is an error.
func (t tree) hashes(ctx context.Context, ids []compact.NodeID) ([][]byte, error) {
	if len(ids) == 0 {
		return [][]byte{}, nil
	}
	levels, idxs := nodeArrays(ids)
	// One primary-key probe per node whatever the statistics say (a freshly rebuilt table has none, and a
	// join planned without them scans millions of rows).
	rows, err := t.q.Query(ctx, `SELECT `+t.nodeOrLeaf("w")+`
		FROM unnest($1::smallint[], $2::bigint[]) WITH ORDINALITY AS w(level, idx, ord) ORDER BY w.ord`, levels, idxs)
	if err != nil {
		return nil, fmt.Errorf("read %d nodes: %w", len(ids), err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("read %d nodes: %w", len(ids), err)
	}
	for i, h := range out {
		if h != nil {
			out[i] = nodeHash(levels[i], h)
		}
		if out[i] == nil {
			return nil, fmt.Errorf("node (level %d, index %d) is missing", ids[i].Level, ids[i].Index)
		}
	}
	return out, nil
}

// nodeOrLeaf is the expression that reads node (w.level, w.idx): its hash from nodes, or for the levels
// nodes does not hold the data of the leaves under it: level 0 its leaf's, level 1 its two leaves' one
// after the other (nodeHash makes either the node's hash). One or two primary-key probes.
func (t tree) nodeOrLeaf(w string) string {
	return `CASE ` + w + `.level WHEN 0 THEN (SELECT l.data FROM ` + t.leaves + ` l WHERE l.idx = ` + w + `.idx)
		WHEN 1 THEN (SELECT a.data || b.data FROM ` + t.leaves + ` a, ` + t.leaves + ` b WHERE a.idx = 2 * ` + w + `.idx AND b.idx = 2 * ` + w + `.idx + 1)
		ELSE (SELECT n.hash FROM ` + t.nodes + ` n WHERE n.level = ` + w + `.level AND n.idx = ` + w + `.idx) END`
}

// nodeHash is the hash of a node at level as nodeOrLeaf read it: for level 0 the leaf hash of the data,
// for level 1 the hash over the leaf hashes of its two leaves' data; nil (a missing node) when what was
// read is not the data of one or two leaves.
func nodeHash(level int16, read []byte) []byte {
	switch level {
	case 0:
		return Hasher.HashLeaf(read)
	case 1:
		if len(read) != 2*HashSize {
			return nil
		}
		return Hasher.HashChildren(Hasher.HashLeaf(read[:HashSize]), Hasher.HashLeaf(read[HashSize:]))
	}
	return read
}

// edge is the tree's right edge as Apply's transaction sees it: from the edge table's row, or, when there
// is none yet (a tree migrated with its leaves: migration 0004), read from leaves and nodes.
func (t tree) edge(ctx context.Context) (*compact.Range, error) {
	var size int64
	var hashes []byte
	err := t.q.QueryRow(ctx, "SELECT size, hashes FROM edge").Scan(&size, &hashes)
	if errors.Is(err, pgx.ErrNoRows) {
		n, err := t.size(ctx)
		if err != nil {
			return nil, err
		}
		r, err := t.rangeAt(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("load the tree's right edge at size %d: %w", n, err)
		}
		return r, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tlog: the tree's right edge: %w", err)
	}
	if size < 0 || len(hashes)%HashSize != 0 {
		return nil, fmt.Errorf("tlog: the tree's right edge: size %d with %d bytes of hashes", size, len(hashes))
	}
	hs := make([][]byte, 0, len(hashes)/HashSize)
	for i := 0; i < len(hashes); i += HashSize {
		hs = append(hs, hashes[i:i+HashSize:i+HashSize])
	}
	r, err := rangeFactory.NewRange(0, uint64(size), hs)
	if err != nil {
		return nil, fmt.Errorf("tlog: the tree's right edge at size %d: %w", size, err)
	}
	return r, nil
}

// rangeAt is the compact range [0, size): the tree's right edge at that size.
func (t tree) rangeAt(ctx context.Context, size uint64) (*compact.Range, error) {
	hs, err := t.hashes(ctx, compact.RangeNodes(0, size, nil))
	if err != nil {
		return nil, err
	}
	return rangeFactory.NewRange(0, size, hs)
}

func (t tree) root(ctx context.Context, size uint64) ([]byte, error) {
	if size == 0 {
		return Hasher.EmptyRoot(), nil
	}
	r, err := t.rangeAt(ctx, size)
	if err != nil {
		return nil, fmt.Errorf("tlog: root at size %d: %w", size, err)
	}
	return r.GetRootHash(nil)
}

func (t tree) rehash(ctx context.Context, nodes proof.Nodes) ([][]byte, error) {
	hs, err := t.hashes(ctx, nodes.IDs)
	if err != nil {
		return nil, err
	}
	return nodes.Rehash(hs, Hasher.HashChildren)
}

func (t tree) leafRange(ctx context.Context, from, to uint64, fn func(Leaf) error) error {
	if from >= to || from > math.MaxInt64 {
		return nil
	}
	to = min(to, math.MaxInt64)
	rows, err := t.q.Query(ctx, "SELECT idx, commit_pos, prepare_pos, data FROM "+t.leaves+" WHERE idx >= $1 AND idx < $2 ORDER BY idx",
		int64(from), int64(to))
	if err != nil {
		return fmt.Errorf("tlog: read leaves from %d: %w", from, err)
	}
	defer rows.Close()
	for rows.Next() {
		var idx, c, p int64
		var data []byte
		if err := rows.Scan(&idx, &c, &p, &data); err != nil {
			return fmt.Errorf("tlog: read leaves from %d: %w", from, err)
		}
		if err := fn(Leaf{Index: uint64(idx), Position: eventlog.Position{Commit: uint64(c), Prepare: uint64(p)}, Data: bytes.Clone(data)}); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("tlog: read leaves from %d: %w", from, err)
	}
	return nil
}

// LeafOf is the leaf of the ledger event at $all position pos: its index and data. ErrNotFound when the
// event is no leaf (yet).
func (t *Tree) LeafOf(ctx context.Context, pos eventlog.Position) (Leaf, error) {
	if pos.Commit > math.MaxInt64 || pos.Prepare > math.MaxInt64 {
		return Leaf{}, fmt.Errorf("%w: position %s is no ledger event", ErrNotFound, pos)
	}
	var idx int64
	var data []byte
	err := t.t.q.QueryRow(ctx, `SELECT idx, data FROM `+t.t.leaves+` WHERE commit_pos = $1 AND prepare_pos = $2`,
		int64(pos.Commit), int64(pos.Prepare)).Scan(&idx, &data)
	if errors.Is(err, pgx.ErrNoRows) {
		return Leaf{}, fmt.Errorf("%w: position %s is no leaf", ErrNotFound, pos)
	}
	if err != nil {
		return Leaf{}, fmt.Errorf("tlog: the leaf at %s: %w", pos, err)
	}
	return Leaf{Index: uint64(idx), Position: pos, Data: data}, nil
}
