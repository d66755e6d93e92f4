-- Every event of the ledger, one row each, with its envelope (not its payload): who did what, where, when,
-- and the hash chain links an auditor checks. The $all position is the key and the paging order.
CREATE TABLE audit_events (
    commit_pos     bigint NOT NULL,
    prepare_pos    bigint NOT NULL,
    stream         text NOT NULL,
    revision       bigint NOT NULL,
    event_id       uuid NOT NULL,
    event_type     text NOT NULL,
    community_id   text,
    -- "33/3303/330303/330303001/330303001001"; byte order (C collation) so a subtree is one index range.
    jurisdiction   text COLLATE "C" NOT NULL,
    actor          text NOT NULL,
    command_id     text NOT NULL,
    correlation_id text,
    causation_id   text,
    occurred_at    timestamptz,
    recorded_at    timestamptz NOT NULL,
    prev_hash      text NOT NULL,
    hash           text NOT NULL,
    schema_version integer NOT NULL,
    PRIMARY KEY (commit_pos, prepare_pos)
);

CREATE INDEX audit_events_by_community ON audit_events (community_id, commit_pos, prepare_pos);
CREATE INDEX audit_events_by_jurisdiction ON audit_events (jurisdiction, commit_pos, prepare_pos);
CREATE INDEX audit_events_by_actor ON audit_events (actor, commit_pos, prepare_pos);
CREATE INDEX audit_events_by_type ON audit_events (event_type, commit_pos, prepare_pos);
CREATE INDEX audit_events_by_occurred ON audit_events (occurred_at);
