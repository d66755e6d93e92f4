-- The name the roster shows (公示姓名), recorded on the seat: public, kept apart from the personal data.
-- NULL for seats recorded without one.
ALTER TABLE committee_seats ADD COLUMN public_name text;
