-- The portal serves a document only when a public record names it: the minutes of a meeting, a topic's
-- plan or result document.
CREATE INDEX meetings_minutes ON meetings (minutes_sha256) WHERE minutes_sha256 IS NOT NULL;
CREATE INDEX topic_steps_documents ON topic_steps (document_sha256) WHERE document_sha256 IS NOT NULL;
