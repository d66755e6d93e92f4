-- The annual assessment (年度目标考核加扣分) and the rating history (红黄绿, per month and quarter): the year's
-- items as a street or district defined them, the assessors' scores with their reasons (never the
-- assessor), a community's frozen year with every item's line, and each period's rating as it stood when
-- the period ended. Recorded before this migration: `ledger rebuild directory`.
CREATE TABLE assessment_items (
    jurisdiction text COLLATE "C" NOT NULL,     -- the street's or district's path
    year         integer NOT NULL,
    code         text COLLATE "C" NOT NULL,
    position     integer NOT NULL,
    title        text NOT NULL,
    measure      text NOT NULL,                 -- disclosures | meetings | audits | topics-closed | open-alerts | late-clears | assessor
    points       integer NOT NULL,
    defined_at   timestamptz NOT NULL,
    event_id     uuid NOT NULL,
    commit_pos   bigint NOT NULL,
    PRIMARY KEY (jurisdiction, year, code)
);

CREATE TABLE assessment_scores (
    community_id text COLLATE "C" NOT NULL,
    year         integer NOT NULL,
    item_code    text COLLATE "C" NOT NULL,
    points       integer NOT NULL,              -- the latest score of the item
    reason       text NOT NULL,
    scored_at    timestamptz NOT NULL,
    event_id     uuid NOT NULL,
    commit_pos   bigint NOT NULL,
    PRIMARY KEY (community_id, year, item_code)
);

CREATE TABLE assessment_results (
    community_id text COLLATE "C" NOT NULL,
    year         integer NOT NULL,
    jurisdiction text COLLATE "C" NOT NULL,
    base         integer NOT NULL,
    total        integer NOT NULL,
    lines        jsonb NOT NULL,                -- [{"code","title","measure","facts","points"}]
    frozen_at    timestamptz NOT NULL,
    event_id     uuid NOT NULL,
    commit_pos   bigint NOT NULL,
    PRIMARY KEY (community_id, year)
);

CREATE TABLE rating_history (
    community_id text COLLATE "C" NOT NULL,
    period       text COLLATE "C" NOT NULL,     -- 2026-11 | 2026-Q4
    rating       text NOT NULL,                 -- green | yellow | red
    open_red     integer NOT NULL,
    open_yellow  integer NOT NULL,
    satisfied    integer,                       -- per mille; NULL without a survey
    score        integer,                       -- NULL without a scheme
    reasons      text NOT NULL,                 -- the reasons, one per line
    taken_at     timestamptz NOT NULL,
    event_id     uuid NOT NULL,
    commit_pos   bigint NOT NULL,
    PRIMARY KEY (community_id, period)
);
