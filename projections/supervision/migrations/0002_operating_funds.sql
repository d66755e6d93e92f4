-- The operating-funds rule at year end (社区工作经费按户数分档): each community's registered households, and the
-- operating funds allocated to it per fiscal year.
ALTER TABLE communities ADD COLUMN households integer NOT NULL DEFAULT 0;

CREATE TABLE operating_funds (
    community_id text NOT NULL,
    fiscal_year  integer NOT NULL,
    amount_fen   bigint NOT NULL,
    PRIMARY KEY (community_id, fiscal_year)
);
