-- The public part of each event's payload (PublicContent: no personal data, no resident's objection
-- text), for the portal's 来源 page. NULL for events projected before it existed: `ledger rebuild
-- audittrail` fills them.
ALTER TABLE audit_events ADD COLUMN public_content jsonb;
