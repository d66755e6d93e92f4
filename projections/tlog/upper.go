package tlog

import (
	"context"
	"fmt"
	"math/bits"
	"sync"

	"github.com/transparency-dev/merkle/compact"
)

// upperLevel is the lowest level of the nodes a Tree keeps in memory: a node at level 10 or above covers
// 1 024 leaves or more, so they are a 512th of the nodes (2 000 at 1 000 000 leaves, 64 KiB), and an
// inclusion proof then reads at most 10 siblings from the database instead of 20 or more. At a billion
// leaves they take 64 MiB.
const upperLevel = 10

// upper holds, for each level from upperLevel up, the hashes of that level's first nodes in index order,
// read once: a node is written once, when its last leaf arrives, and never changes (the tree only
// grows), until a rebuild swaps in another nodes table, which the oid tells apart.
type upper struct {
	mu     sync.RWMutex
	table  uint32   // the oid of the nodes table the hashes were read from (0: none read yet)
	levels [][]byte // levels[l-upperLevel]: the hashes of nodes 0, 1, … of level l, HashSize bytes each
}

// cover reads the upper nodes of the tree of size treeSize not yet in memory, in one query, and returns
// the oid of the nodes table they come from. ErrNotFound when the tree is smaller than treeSize.
func (u *upper) cover(ctx context.Context, t tree, treeSize uint64) (uint32, error) {
	u.mu.RLock()
	table, covered := u.table, u.covers(treeSize)
	u.mu.RUnlock()
	if covered {
		return table, nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.covers(treeSize) {
		return u.table, nil
	}
	for range 3 {
		again, err := u.read(ctx, t, treeSize)
		if err != nil {
			return 0, err
		}
		if !again {
			if !u.covers(treeSize) {
				return 0, fmt.Errorf("%w: the log has fewer than %d leaves", ErrNotFound, treeSize)
			}
			return u.table, nil
		}
	}
	return 0, fmt.Errorf("tlog: read the tree's upper levels at size %d: the tree was rebuilt three times meanwhile", treeSize)
}

// read reads the upper nodes complete at treeSize that are not in memory. When they come from another
// nodes table than those in memory (a rebuild swapped the tree), it forgets the others and asks to be
// called again. It needs u.mu locked.
func (u *upper) read(ctx context.Context, t tree, treeSize uint64) (again bool, err error) {
	var levels []int16
	var from, to []int64
	for l := upperLevel; l < bits.Len64(treeSize); l++ {
		have := uint64(0)
		if i := l - upperLevel; i < len(u.levels) {
			have = uint64(len(u.levels[i]) / HashSize)
		}
		if want := treeSize >> l; have < want {
			levels, from, to = append(levels, int16(l)), append(from, int64(have)), append(to, int64(want))
		}
	}
	rows, err := t.q.Query(ctx, `SELECT to_regclass($4)::oid, w.level, n.idx, n.hash
		FROM unnest($1::smallint[], $2::bigint[], $3::bigint[]) AS w(level, lo, hi)
		CROSS JOIN LATERAL (SELECT n.idx, n.hash FROM `+t.nodes+` n WHERE n.level = w.level AND n.idx >= w.lo AND n.idx < w.hi ORDER BY n.idx) n
		ORDER BY w.level, n.idx`, levels, from, to, t.nodes)
	if err != nil {
		return false, fmt.Errorf("tlog: read the tree's upper levels at size %d: %w", treeSize, err)
	}
	defer rows.Close()
	for rows.Next() {
		var oid uint32
		var level int16
		var idx int64
		var hash []byte
		if err := rows.Scan(&oid, &level, &idx, &hash); err != nil {
			return false, fmt.Errorf("tlog: read the tree's upper levels at size %d: %w", treeSize, err)
		}
		if oid != u.table {
			if u.table != 0 || len(u.levels) > 0 {
				u.reset0(oid)
				return true, nil
			}
			u.table = oid
		}
		i := int(level) - upperLevel
		for len(u.levels) <= i {
			u.levels = append(u.levels, nil)
		}
		if uint64(len(u.levels[i])/HashSize) != uint64(idx) || len(hash) != HashSize {
			return false, fmt.Errorf("tlog: read the tree's upper levels at size %d: node (level %d, index %d) is not the next", treeSize, level, idx)
		}
		u.levels[i] = append(u.levels[i], hash...)
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("tlog: read the tree's upper levels at size %d: %w", treeSize, err)
	}
	return false, nil
}

// covers reports whether every node of level upperLevel and above complete at treeSize is in memory. It
// needs u.mu.
func (u *upper) covers(treeSize uint64) bool {
	for l := upperLevel; l < bits.Len64(treeSize); l++ {
		i := l - upperLevel
		if i >= len(u.levels) || uint64(len(u.levels[i])/HashSize) < treeSize>>l {
			return false
		}
	}
	return true
}

// hash is the node's hash, nil when it is not in memory.
func (u *upper) hash(id compact.NodeID) []byte {
	u.mu.RLock()
	defer u.mu.RUnlock()
	i := int(id.Level) - upperLevel
	if i < 0 || i >= len(u.levels) || id.Index >= uint64(len(u.levels[i])/HashSize) {
		return nil
	}
	return u.levels[i][id.Index*HashSize : (id.Index+1)*HashSize : (id.Index+1)*HashSize]
}

// reset forgets what was read from any table but table.
func (u *upper) reset(table uint32) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.reset0(table)
}

func (u *upper) reset0(table uint32) {
	if u.table != table {
		u.table, u.levels = table, nil
	}
}
