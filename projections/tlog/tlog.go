// Package tlog is the ledger's transparency log as a read model: a Merkle tree (RFC 6962 / RFC 9162,
// SHA-256) whose leaf i is the i-th ledger event in $all order (the store's $-streams left out) and whose
// leaf data is that event's 32-byte chain hash (eventlog.Metadata.Hash). The tree math is
// github.com/transparency-dev/merkle; this package keeps in PostgreSQL (schema rm_tlog) what roots and
// proofs need (every leaf with its $all position, the hash of every perfect subtree of four leaves or
// more) and owns every query on it: the tree size, the root at any size, inclusion and consistency proofs.
//
// These definitions are fixed: outside tools verify checkpoints and proofs against them.
package tlog

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"math"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/projections/internal/tables"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// Name is the read model's permanent name; its tables live in schema rm_tlog.
const Name = "tlog"

// Schema is where the live tables are.
var Schema = runtime.SchemaOf(Name)

// HashSize is the size of a leaf's data, of a leaf hash and of every node hash.
const HashSize = 32

//go:embed migrations/*.sql
var migrations embed.FS

// Hasher is the tree's hasher: RFC 6962 with SHA-256 (leaf prefix 0x00, node prefix 0x01).
var Hasher = rfc6962.DefaultHasher

var rangeFactory = &compact.RangeFactory{Hash: Hasher.HashChildren}

// Model is the transparency log read model. The zero value is ready. It keeps no state between batches:
// each batch starts from the tree's right edge as its own transaction sees it (the edge table's one row:
// at most 64 node hashes) and writes the new edge with its leaves, so a rolled-back batch, a rebuild into
// a shadow schema and a second projector can never leave it out of step with its tables.
type Model struct{}

var (
	_ runtime.ReadModel   = Model{}
	_ runtime.WriteOnly   = Model{}
	_ runtime.IndexesLast = Model{}
)

// Name implements runtime.ReadModel.
func (Model) Name() string { return Name }

// WholeLog implements runtime.WholeLog: the tree is over every event of the log, never one community's.
func (Model) WholeLog() {}

// Migrations implements runtime.ReadModel.
func (Model) Migrations() fs.FS { return runtime.EmbeddedMigrations(migrations) }

// AppliesWithoutReading implements runtime.WriteOnly: Apply appends leaves and nodes and reads only the
// edge's one row, never through an index.
func (Model) AppliesWithoutReading() {}

// IndexesBuiltLast implements runtime.IndexesLast: Apply reads no leaf or node, so a rebuild sorts their
// keys once, after the load (a leaf or node written twice fails the key's build, and the rebuild).
func (Model) IndexesBuiltLast() []string {
	return []string{"leaves_pkey", "leaves_by_position", "nodes_pkey"}
}

// Poison implements runtime.ReadModel: a leaf can never be skipped (every later index would shift and
// every signed checkpoint after it would be of another history), so a malformed hash halts the log.
func (Model) Poison() runtime.PoisonPolicy { return runtime.Halt }

// LeafData decodes an event's chain hash into its leaf data: exactly 64 lower-case hex digits, as
// eventlog.HashOf writes it.
func LeafData(hash string) ([]byte, error) {
	if len(hash) != 2*HashSize {
		return nil, fmt.Errorf("event hash %q is not %d hex digits", hash, 2*HashSize)
	}
	b, ok := eventlog.HashBytes(hash)
	if !ok {
		return nil, fmt.Errorf("event hash %q is not lower-case hex", hash)
	}
	return b[:], nil
}

// The model's tables, declared once: the COPY of every batch writes their columns (tables.Writer), the read-model
// contract checks them against the migrations.
var (
	leavesTable = tables.New("leaves", []string{"idx"}, "nothing", "idx int8", "commit_pos int8", "prepare_pos int8", "data bytea")
	nodesTable  = tables.New("nodes", []string{"level", "idx"}, "nothing", "level int2", "idx int8", "hash bytea")
	edgeTable   = tables.New("edge", []string{"one"}, "", "one bool", "size int8", "hashes bytea")
)

// Tables are the model's tables (leaves with their $all positions, the hash of every perfect subtree of
// four leaves or more, and the tree's right edge).
func (Model) Tables() []*tables.Table { return []*tables.Table{leavesTable, nodesTable, edgeTable} }

// Apply implements runtime.ReadModel: the batch's leaves and the perfect subtrees of four leaves or more
// they complete go in with one COPY each (tables.Writer).
func (Model) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.Recorded) error {
	if len(batch) == 0 {
		return nil
	}
	data := make([][]byte, len(batch))
	for i, e := range batch {
		if e.Position.Commit > math.MaxInt64 || e.Position.Prepare > math.MaxInt64 {
			return runtime.Poison(e, fmt.Errorf("position %s does not fit a bigint", e.Position))
		}
		d, err := LeafData(e.Meta.Hash)
		if err != nil {
			return runtime.Poison(e, err)
		}
		data[i] = d
	}
	t := tree{q: tx, leaves: "leaves", nodes: "nodes"}
	r, err := t.edge(ctx)
	if err != nil {
		return err
	}
	size := r.End()
	leaves, nodes, edge := leavesTable.Rows(), nodesTable.Rows(), edgeTable.Rows()
	visit := func(id compact.NodeID, hash []byte) {
		if id.Level > 1 { // a leaf's hash is its data's, a two-leaf node's its leaves' (stored in leaves)
			nodes.Row().Int2(int16(id.Level)).Int8(int64(id.Index)).Bytea(hash)
		}
	}
	for i, d := range data {
		if err := r.Append(Hasher.HashLeaf(d), visit); err != nil {
			return fmt.Errorf("append leaf %d: %w", r.End(), err)
		}
		e := &batch[i]
		leaves.Row().Int8(int64(size) + int64(i)).Int8(int64(e.Position.Commit)).Int8(int64(e.Position.Prepare)).Bytea(d)
	}
	edge.Row().Bool(true).Int8(int64(r.End())).Bytea(slices.Concat(r.Hashes()...))
	var w tables.Writer
	w.Upsert(edge)
	w.Copy(leaves)
	w.Copy(nodes)
	if err := w.Flush(ctx, tx); err != nil {
		return fmt.Errorf("add %d leaves from %d: %w", len(batch), size, err)
	}
	return nil
}
