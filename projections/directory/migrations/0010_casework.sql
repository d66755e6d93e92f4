-- Supervision casework (督查) as the public sees it: inspections of a community with their findings, the
-- rectification orders on findings of inspections and audits with the committee's reports, and the
-- bulletins of streets and districts citing inspections. Each row is written once by the event that makes
-- it (ON CONFLICT DO NOTHING: a batch applied twice changes nothing). An audit finding's text is not public:
-- its order names it 审计发现的一项问题. Casework recorded before this migration is filled by
-- `ledger rebuild directory`.
CREATE TABLE inspections (
    community_id  text COLLATE "C" NOT NULL,
    inspection_id text COLLATE "C" NOT NULL,
    inspectors    text NOT NULL,
    round         text,
    methods       text NOT NULL,                  -- site-visit,interview,ledger-review (as recorded)
    findings      integer NOT NULL,
    held_at       timestamptz NOT NULL,
    event_id      uuid NOT NULL,
    commit_pos    bigint NOT NULL,
    PRIMARY KEY (community_id, inspection_id)
);
CREATE INDEX inspections_held ON inspections (held_at);

CREATE TABLE inspection_findings (
    community_id  text COLLATE "C" NOT NULL,
    inspection_id text COLLATE "C" NOT NULL,
    finding_id    text COLLATE "C" NOT NULL,
    severity      text NOT NULL,                  -- minor | major | serious
    text          text NOT NULL,
    PRIMARY KEY (community_id, inspection_id, finding_id)
);

CREATE TABLE rectifications (
    community_id     text COLLATE "C" NOT NULL,
    rectification_id text COLLATE "C" NOT NULL,
    source_kind      text NOT NULL,               -- inspection | audit
    source_id        text COLLATE "C" NOT NULL,
    finding_id       text COLLATE "C" NOT NULL,
    finding          text NOT NULL,
    requirement      text NOT NULL,
    due              timestamptz NOT NULL,
    ordered_at       timestamptz NOT NULL,
    event_id         uuid NOT NULL,
    commit_pos       bigint NOT NULL,
    PRIMARY KEY (community_id, rectification_id)
);

CREATE TABLE rectification_reports (
    community_id     text COLLATE "C" NOT NULL,
    rectification_id text COLLATE "C" NOT NULL,
    response         text NOT NULL,
    document_sha256  text,
    late             boolean NOT NULL,
    reported_at      timestamptz NOT NULL,
    event_id         uuid NOT NULL,
    commit_pos       bigint NOT NULL,
    PRIMARY KEY (community_id, rectification_id)
);

CREATE TABLE bulletins (
    jurisdiction text COLLATE "C" NOT NULL,
    bulletin_id  text COLLATE "C" NOT NULL,
    title        text NOT NULL,
    text         text NOT NULL,
    cites        integer NOT NULL,
    published_at timestamptz NOT NULL,
    event_id     uuid NOT NULL,
    commit_pos   bigint NOT NULL,
    PRIMARY KEY (jurisdiction, bulletin_id)
);

CREATE TABLE bulletin_cites (
    jurisdiction  text COLLATE "C" NOT NULL,
    bulletin_id   text COLLATE "C" NOT NULL,
    community_id  text COLLATE "C" NOT NULL,
    inspection_id text COLLATE "C" NOT NULL,
    PRIMARY KEY (jurisdiction, bulletin_id, community_id, inspection_id)
);
CREATE INDEX bulletin_cites_community ON bulletin_cites (community_id);
