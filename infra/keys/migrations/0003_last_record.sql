-- Where each person's personal data was last recorded in each community (the event's stream and
-- revision, and its $all commit position to keep the latest): the clerks' look-up reads that record.
-- Filled by CheckStore from the store of record (NULL until it has read the record).
ALTER TABLE subjects ADD COLUMN last_stream text;
ALTER TABLE subjects ADD COLUMN last_revision bigint;
ALTER TABLE subjects ADD COLUMN last_commit bigint;
