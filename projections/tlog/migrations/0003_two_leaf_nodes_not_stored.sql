-- A level-1 node is the hash over two leaves (HashChildren of their leaf hashes): every read of one now
-- reads the two leaves and hashes them, and nodes keeps only the perfect subtrees of four leaves or
-- more. Level 1 was half of the rows left (500 000 for a million events), written with every other event
-- and in every rebuild.
DELETE FROM nodes WHERE level = 1;
