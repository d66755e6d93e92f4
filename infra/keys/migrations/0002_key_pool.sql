-- Data keys made ahead of need. A recording process makes them in batches (one commit for many) and
-- keeps them in memory, so that a person's first record takes one without a round trip to the key
-- store: the key is durable here before anything is sealed with it. Which person a pool key went to is
-- not written when it is taken: the sealed object in the event store names its subject and its key, and
-- the key store learns it from there (Store.CheckStore moves the key into data_keys, and registers the
-- subject's community) before any erasure is decided or carried out. A pool key never taken is deleted
-- when its process stops; one left by a crash is harmless (a random key nothing was sealed with).
CREATE TABLE key_pool (
    key_id  text PRIMARY KEY,
    kek_id  text NOT NULL,
    wrapped bytea NOT NULL,
    made_at timestamptz NOT NULL DEFAULT now()
);

-- A pool key is wrapped before it has a subject (its key-wrapping binds the key id only); it keeps
-- that binding when it moves into data_keys.
ALTER TABLE data_keys ADD COLUMN pooled boolean NOT NULL DEFAULT false;

-- Keys made on demand stay one per subject; a pool key taken for a person another process made a key
-- for at the same time is one more live key of that person (an erasure destroys them all).
DROP INDEX data_keys_live;
CREATE UNIQUE INDEX data_keys_live ON data_keys (subject) WHERE wrapped IS NOT NULL AND NOT pooled;
