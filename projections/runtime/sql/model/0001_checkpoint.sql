-- The checkpoint of the read model whose schema this is: the $all position of the last event applied,
-- written in the same transaction as the model's rows. Living in the model's schema, it is swapped together
-- with the rows by a rebuild.
CREATE TABLE checkpoint (
    singleton        boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    commit_pos       bigint NOT NULL DEFAULT 0 CHECK (commit_pos >= 0),
    prepare_pos      bigint NOT NULL DEFAULT 0 CHECK (prepare_pos >= 0),
    last_recorded_at timestamptz,
    events_applied   bigint NOT NULL DEFAULT 0,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
INSERT INTO checkpoint DEFAULT VALUES;
