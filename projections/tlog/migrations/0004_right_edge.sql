-- The tree's right edge after its last leaf, in one row: the tree's size and the hashes of the perfect
-- subtrees that make it up (compact.RangeNodes(0, size), largest first, 32 bytes each, at most 64 of them).
-- Apply reads and rewrites this row with every batch instead of asking leaves for the size and leaves
-- and nodes for the edge, so it reads neither through an index and a rebuild builds their keys after the
-- load. A tree migrated with leaves and no row here has its edge read from leaves and nodes once, by the
-- next batch, which then writes the row.
CREATE TABLE edge (
    one    boolean PRIMARY KEY CHECK (one),
    size   bigint NOT NULL,
    hashes bytea NOT NULL
);
