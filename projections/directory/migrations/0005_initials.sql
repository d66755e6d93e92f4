-- A place found by the initials of its name in pinyin (罗西社区 → lxsq), as residents type on a phone:
-- a prefix match on a C-collated btree. Nodes registered before this migration have none until
-- `ledger rebuild directory` fills them.
ALTER TABLE nodes ADD COLUMN initials text COLLATE "C";
CREATE INDEX nodes_by_initials ON nodes (initials);
