-- The transparency log's Merkle tree (RFC 6962). Leaf i is the i-th ledger event in $all order (the store's
-- $-streams left out); its data is the event's 32-byte chain hash. Append-only: a row is never updated.
CREATE TABLE leaves (
    idx         bigint PRIMARY KEY,
    commit_pos  bigint NOT NULL,
    prepare_pos bigint NOT NULL,
    data        bytea NOT NULL
);

-- An inclusion proof is asked for by $all position.
CREATE UNIQUE INDEX leaves_by_position ON leaves (commit_pos, prepare_pos);

-- Every perfect subtree's hash, written once when its last leaf arrives: level 0 is the leaf hash
-- (SHA-256(0x00 || data)), level l > 0 the node over leaves [idx * 2^l, (idx + 1) * 2^l). The root of any
-- size and every inclusion and consistency proof are made of these.
CREATE TABLE nodes (
    level smallint NOT NULL,
    idx   bigint NOT NULL,
    hash  bytea NOT NULL,
    PRIMARY KEY (level, idx)
);
