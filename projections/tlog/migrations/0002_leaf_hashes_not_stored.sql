-- A level-0 node is the leaf hash of its leaf's data (SHA-256(0x00 || data)): every read of one now reads
-- the leaf and hashes it, and nodes keeps only the perfect subtrees of two leaves or more. They were half
-- of its rows (a million for a million events), written with every event and in every rebuild.
DELETE FROM nodes WHERE level = 0;
