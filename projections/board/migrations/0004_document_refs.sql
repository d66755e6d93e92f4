-- The portal serves a document only when a notice names it: finding the notices that name a hash is an
-- index look-up.
CREATE INDEX notice_versions_attachments ON notice_versions USING gin (attachments jsonb_path_ops);
