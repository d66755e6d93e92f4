-- API tokens. Only the SHA-256 of a token's secret is stored: the token itself is shown once, when it is
-- created, and cannot be recovered from the database.
CREATE TABLE tokens (
    id         uuid        PRIMARY KEY,
    hash       bytea       NOT NULL UNIQUE CHECK (octet_length(hash) = 32),
    subject    text        NOT NULL CHECK (subject <> ''),
    role       text        NOT NULL CHECK (role IN ('clerk', 'committee', 'auditor', 'supervisor', 'admin')),
    scope      text        NOT NULL CHECK (scope <> ''),
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text        NOT NULL,
    revoked_at timestamptz
);
