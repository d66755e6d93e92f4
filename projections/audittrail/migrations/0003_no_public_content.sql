-- The public content of an event is no longer copied into the trail: it doubled the trail and slowed
-- every rebuild by about 8 %. The portal reads the event from the store and keeps its public part
-- (PublicContent) when a 来源 page is asked for.
ALTER TABLE audit_events DROP COLUMN public_content;
