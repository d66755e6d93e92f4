-- The transparency log's signed checkpoints and the witnesses' cosignatures. They live in schema tlog, not
-- in the read model's rm_tlog: a checkpoint once published is a promise about the history, and
-- `ledger rebuild` must never drop it (a rebuilt tree is checked against them instead).
CREATE TABLE checkpoints (
    size       bigint PRIMARY KEY,
    root       bytea NOT NULL,
    -- The whole signed note (C2SP tlog-checkpoint body, blank line, the log's signature line).
    note       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- A witness's C2SP tlog-cosignature of a checkpoint: its note signature line ("— name base64\n"), served
-- after the log's own signature.
CREATE TABLE cosignatures (
    size       bigint NOT NULL REFERENCES checkpoints (size),
    witness    text NOT NULL,
    signature  text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (size, witness)
);
