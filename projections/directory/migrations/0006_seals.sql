-- The seal register (印章管理) as the public sees it: each seal with its custodian (by the name the register
-- shows), and each use of a seal — the document's title and date, purpose, counterparty organisation,
-- contract amount, who approved it in what capacity, whether it had the joint approval when it was used,
-- when it was recorded, and the document's hash. Seals recorded before this migration are filled by
-- `ledger rebuild directory`.
CREATE TABLE seals (
    community_id        text COLLATE "C" NOT NULL,
    seal_id             text COLLATE "C" NOT NULL,
    kind                text NOT NULL,           -- committee | party | finance | supervision
    name                text NOT NULL,
    custodian_name      text NOT NULL,
    custodian_since     timestamptz NOT NULL,
    registered_at       timestamptz NOT NULL,
    registered_event_id uuid NOT NULL,
    registered_commit_pos bigint NOT NULL,
    uses                integer NOT NULL,        -- uses recorded
    unapproved          integer NOT NULL,        -- of them, recorded without the joint approval
    stream              text NOT NULL,           -- seal-<community>-<seal>
    last_revision       bigint NOT NULL,         -- of stream: events at or below it are already applied
    PRIMARY KEY (community_id, seal_id)
);

CREATE TABLE seal_uses (
    community_id      text COLLATE "C" NOT NULL,
    seal_id           text COLLATE "C" NOT NULL,
    use_id            text COLLATE "C" NOT NULL,
    title             text NOT NULL,
    document_date     timestamptz NOT NULL,
    purpose           text NOT NULL,
    counterparty      text NOT NULL,
    amount_fen        bigint,                  -- a contract's amount; NULL when none was given
    resolution_id     text,
    meeting_id        text,
    approvers         text NOT NULL,           -- 张主任（村(居)委会主任）、李监督（监督委员会）: public names and capacities
    approvals         integer NOT NULL,
    requested_at      timestamptz,             -- NULL for a use recorded without a request
    used_at           timestamptz,             -- NULL while requested only
    approved          boolean,                 -- had the joint approval when used; NULL while requested only
    late              boolean,                 -- recorded later than the rule allows; NULL while requested only
    document_sha256   text,
    event_id          uuid NOT NULL,           -- the last event of the use, and its $all commit position
    commit_pos        bigint NOT NULL,
    PRIMARY KEY (community_id, seal_id, use_id)
);
CREATE INDEX seal_uses_by_date ON seal_uses (community_id, document_date DESC, seal_id, use_id);
