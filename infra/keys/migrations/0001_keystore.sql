-- The key store of the personal data (crypto-shredding). Kept apart from the event store and from the
-- read models: the portal's role has no grant here, and `ledger rebuild` never drops this schema.

-- One data key per data subject and generation: wrapped (AES-256-GCM) under the key-encryption key
-- kek_id, which is never stored here. Destroying a key sets wrapped and kek_id to NULL for good; the row
-- stays as the proof that the key existed and when and by which erasure it was destroyed.
CREATE TABLE data_keys (
    key_id       text PRIMARY KEY,
    subject      text NOT NULL,
    kek_id       text,
    wrapped      bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    destroyed_at timestamptz,
    erasure      text,
    CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL)),
    CHECK ((wrapped IS NULL) = (kek_id IS NULL))
);
-- At most one live key per subject: every new record of a subject is sealed with it.
CREATE UNIQUE INDEX data_keys_live ON data_keys (subject) WHERE wrapped IS NOT NULL;
CREATE INDEX data_keys_subject ON data_keys (subject);

-- The communities in which personal data of a subject was recorded: an erasure must be ordered by an
-- administrator whose scope covers every one of them.
CREATE TABLE subjects (
    subject      text NOT NULL,
    community_id text NOT NULL,
    jurisdiction text NOT NULL,
    PRIMARY KEY (subject, community_id)
);

-- The key-encryption key new data keys must be wrapped under (its id, never the key): a process holding
-- an older one learns of a rotation when its insert is refused.
CREATE TABLE kek (
    one    bool PRIMARY KEY DEFAULT true CHECK (one),
    kek_id text NOT NULL
);

-- How far the store of record was checked for personal data in clear (written before it was sealed):
-- serve reads $all from here on each start, so only the first start reads the whole store.
CREATE TABLE store_check (
    one        bool PRIMARY KEY DEFAULT true CHECK (one),
    checked_to text NOT NULL
);
