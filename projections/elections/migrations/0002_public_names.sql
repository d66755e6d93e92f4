-- The name the candidate list and the results show (公示姓名), recorded on the nomination: public, kept
-- apart from the personal data. NULL for nominations recorded without one (the person id is shown).
ALTER TABLE candidates ADD COLUMN public_name text;
