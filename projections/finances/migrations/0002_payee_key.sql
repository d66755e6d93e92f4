-- The id of the data key that seals an individual payee's personal data (a random id that names no one;
-- the public never sees it), so that an erasure (privacy.personal-data-erased, which lists the keys it
-- destroys) finds the masked names to forget.
ALTER TABLE expenditures ADD COLUMN payee_key text;
CREATE INDEX expenditures_payee_key ON expenditures (payee_key) WHERE payee_key IS NOT NULL;
