-- Community workers (社区工作者) as the public sees them: each community's roster by post (series and grade of
-- 三岗十八级), hire and leave dates and training hours — never a name (a worker is a private person: the
-- name is sealed in the log and not kept here). worker_rosters holds each community's posts (职数) as the
-- last roster event stated them and the last revision applied of its roster stream. Rosters recorded
-- before this migration are filled by `ledger rebuild directory`.
CREATE TABLE worker_rosters (
    community_id  text COLLATE "C" PRIMARY KEY,
    posts         integer NOT NULL,
    stream        text NOT NULL,                  -- worker-<community>-roster
    last_revision bigint NOT NULL,
    event_id      uuid NOT NULL,
    commit_pos    bigint NOT NULL
);

CREATE TABLE workers (
    community_id text COLLATE "C" NOT NULL,
    worker_id    text COLLATE "C" NOT NULL,
    series       text NOT NULL,                   -- head | deputy | staff
    grade        integer NOT NULL,                -- 1–18
    member       boolean NOT NULL,                -- also a member of the committee
    hired_at     timestamptz NOT NULL,
    left_at      timestamptz,                     -- NULL while on the roster
    leave_reason text,
    event_id     uuid NOT NULL,                   -- the last event of the worker
    commit_pos   bigint NOT NULL,
    PRIMARY KEY (community_id, worker_id)
);

CREATE TABLE worker_trainings (
    community_id text COLLATE "C" NOT NULL,
    worker_id    text COLLATE "C" NOT NULL,
    training_id  text COLLATE "C" NOT NULL,
    course       text NOT NULL,
    hours        integer NOT NULL,
    trained_at   timestamptz NOT NULL,
    event_id     uuid NOT NULL,
    commit_pos   bigint NOT NULL,
    PRIMARY KEY (community_id, worker_id, training_id)
);
