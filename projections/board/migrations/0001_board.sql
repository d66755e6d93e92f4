-- The public board (村务公开/居务公开): every notice with its current version and status, every version it
-- ever had, and its objections by counts and times only: never who objected, never what they wrote.

-- One row per notice, as it stands now. Its content is the row of notice_versions for its current
-- version (never stored twice).
CREATE TABLE notices (
    community_id          text COLLATE "C" NOT NULL,
    notice_id             text COLLATE "C" NOT NULL,
    jurisdiction          text COLLATE "C" NOT NULL,  -- the community's path, for "everything under X"
    category              text NOT NULL,              -- finance | affairs | election | resolution | audit | party
    period_from           timestamptz NOT NULL,       -- the period the notice covers (所属期间)
    period_to             timestamptz NOT NULL,
    refs                  jsonb NOT NULL,             -- facts disclosed: [{"kind","id","occurred_at"}]
    published_at          timestamptz NOT NULL,
    status                text NOT NULL,              -- published | corrected | withdrawn
    version               integer NOT NULL,           -- the current version (notice_versions)
    window_start          timestamptz NOT NULL,       -- its publicity window (公示期)
    window_end            timestamptz NOT NULL,
    -- Withdrawal (撤回): the notice stays, with the reason.
    withdrawn_at          timestamptz,
    withdrawal_reason     text,
    withdrawn_event_id    uuid,
    withdrawn_commit_pos  bigint,
    stream                text NOT NULL,              -- disclosure-<community>-<notice>
    last_revision         bigint NOT NULL,            -- of stream: events at or below it are already applied
    PRIMARY KEY (community_id, notice_id)
) WITH (fillfactor = 80);
CREATE INDEX notices_current ON notices (community_id, published_at DESC, notice_id) WHERE status <> 'withdrawn';
CREATE INDEX notices_by_window_end ON notices (window_end) WHERE status <> 'withdrawn';

-- Every version of every notice: published is version 1, each correction the next (更正); nothing is lost.
-- The event that made a version (event_id, commit_pos) is the source of everything the version shows.
CREATE TABLE notice_versions (
    community_id text COLLATE "C" NOT NULL,
    notice_id    text COLLATE "C" NOT NULL,
    version      integer NOT NULL,
    title        text NOT NULL,
    body         text NOT NULL,
    attachments  jsonb NOT NULL,
    window_start timestamptz NOT NULL,
    window_end   timestamptz NOT NULL,
    reason       text,                                -- why it was corrected; NULL for version 1
    at           timestamptz NOT NULL,
    event_id     uuid NOT NULL,
    commit_pos   bigint NOT NULL,
    PRIMARY KEY (community_id, notice_id, version)
);

-- Objections raised on a notice (公示异议) and when they were answered: the board counts them. Deliberately
-- no objector and no text: the public sees that objections were raised and answered, never by whom.
CREATE TABLE objections (
    community_id        text COLLATE "C" NOT NULL,
    notice_id           text COLLATE "C" NOT NULL,
    objection_id        text COLLATE "C" NOT NULL,
    raised_at           timestamptz NOT NULL,
    raised_event_id     uuid NOT NULL,
    raised_commit_pos   bigint NOT NULL,
    answered_at         timestamptz,
    answered_event_id   uuid,
    answered_commit_pos bigint,
    PRIMARY KEY (community_id, notice_id, objection_id)
) WITH (fillfactor = 80);
