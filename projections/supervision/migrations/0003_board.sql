-- The notices with a rhythm (affairs every quarter, finance every month) still on each community's board:
-- a withdrawal reopens the rhythm from the latest notice of its category that is left. A ledger upgraded
-- from an earlier version fills this table on `ledger rebuild alerts`.
CREATE TABLE board_notices (
    community_id text NOT NULL,
    category     text NOT NULL,
    notice_id    text NOT NULL,
    published_at timestamptz NOT NULL,
    PRIMARY KEY (community_id, category, notice_id)
);

-- A deadline a withdrawal reopened carries the withdrawal's event id: the alert raised again is a new one,
-- not the one the withdrawn notice cleared.
ALTER TABLE deadlines ADD COLUMN epoch text NOT NULL DEFAULT '';
