-- The admission list for work entering communities (社区工作事项准入) as the public sees it: each district's
-- duties (履职/协助事项) and its decisions on departments' applications, and each community's tasks pushed
-- onto it with what allowed them (or that nothing did). Recorded before this migration: `ledger rebuild
-- directory`.
CREATE TABLE duties (
    district       text COLLATE "C" NOT NULL,
    duty_id        text COLLATE "C" NOT NULL,
    list           text NOT NULL,                 -- performs | assists
    title          text NOT NULL,
    basis          text NOT NULL,
    listed_at      timestamptz NOT NULL,
    delisted_at    timestamptz,
    delist_reason  text,
    event_id       uuid NOT NULL,
    commit_pos     bigint NOT NULL,
    PRIMARY KEY (district, duty_id)
);

CREATE TABLE task_admissions (
    district     text COLLATE "C" NOT NULL,
    task_id      text COLLATE "C" NOT NULL,
    department   text NOT NULL,
    title        text NOT NULL,
    legal_basis  text NOT NULL,
    funding_fen  bigint NOT NULL,
    status       text NOT NULL,                   -- applied | admitted | refused
    reason       text,
    applied_at   timestamptz NOT NULL,
    decided_at   timestamptz,
    event_id     uuid NOT NULL,
    commit_pos   bigint NOT NULL,
    PRIMARY KEY (district, task_id)
);

CREATE TABLE community_tasks (
    community_id text COLLATE "C" NOT NULL,
    record_id    text COLLATE "C" NOT NULL,
    department   text NOT NULL,
    title        text NOT NULL,
    duty_id      text,
    task_id      text,
    allowed      boolean NOT NULL,                -- a listed duty or an admitted task allows it
    funding_fen  bigint NOT NULL,
    received_at  timestamptz NOT NULL,
    event_id     uuid NOT NULL,
    commit_pos   bigint NOT NULL,
    PRIMARY KEY (community_id, record_id)
);

-- The last revision applied of each list and tasks stream: events at or below it are already applied.
CREATE TABLE worklist_streams (
    stream        text COLLATE "C" PRIMARY KEY,
    last_revision bigint NOT NULL
);
