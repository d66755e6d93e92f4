-- rm_meta: the runtime's own bookkeeping, shared by all read models.

-- One row per read model the runtime has run: its state and why it stopped, if it did.
CREATE TABLE projections (
    name          text PRIMARY KEY,
    schema_name   text NOT NULL,
    poison_policy text NOT NULL,
    state         text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'halted')),
    halted_at     timestamptz,
    halt_reason   text,
    started_at    timestamptz NOT NULL DEFAULT now(),
    rebuilt_at    timestamptz
);

-- Events a read model could not apply (runtime.ErrPoison), with the policy that was applied. A rebuild that
-- meets the same event again leaves the first row.
CREATE TABLE poison_events (
    projection  text NOT NULL,
    commit_pos  bigint NOT NULL,
    prepare_pos bigint NOT NULL,
    stream      text NOT NULL,
    revision    bigint NOT NULL,
    event_id    uuid NOT NULL,
    event_type  text NOT NULL,
    reason      text NOT NULL,
    policy      text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, commit_pos, prepare_pos)
);
