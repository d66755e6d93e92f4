-- The election committee's answer to an objection to the candidate list is public (it is published on the
-- election's page, without the objector); a resident finds their objection by its receipt code (回执号),
-- which is its id. Answers given before this migration are filled by `ledger rebuild elections`.
ALTER TABLE objections ADD COLUMN answer text;
CREATE INDEX objections_by_id ON objections (objection_id);
