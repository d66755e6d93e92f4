-- The audits of a community's cadres (干部审计: 任前, 定期, 离任) as the public may know them: kind, auditor
-- (an organisation), the period of accounts, when opened and closed, how many findings and the result.
-- Never the cadre audited (a person), the findings' text or the summary: sentences and links name an audit
-- by its kind and month (审计（离任，2026年2月）). Audits recorded before this migration are filled by
-- `ledger rebuild directory`.
CREATE TABLE audits (
    community_id      text COLLATE "C" NOT NULL,
    audit_id          text COLLATE "C" NOT NULL,
    kind              text NOT NULL,           -- pre-term | regular | exit
    auditor           text NOT NULL,
    period_from       timestamptz NOT NULL,
    period_to         timestamptz NOT NULL,
    opened_at         timestamptz NOT NULL,
    opened_event_id   uuid NOT NULL,
    opened_commit_pos bigint NOT NULL,
    findings          integer NOT NULL,
    result            text,                    -- clean | issues-found | referred; NULL while open
    closed_at         timestamptz,
    closed_event_id   uuid,
    closed_commit_pos bigint,
    stream            text NOT NULL,           -- audit-<community>-<audit>
    last_revision     bigint NOT NULL,         -- of stream: events at or below it are already applied
    PRIMARY KEY (community_id, audit_id)
);
