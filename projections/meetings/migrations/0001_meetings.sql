-- Meetings and deliberation (会议与议事协商) as the public sees them: the register of meetings with
-- attendance counts, motions with their vote counts and outcome, resolutions, whether minutes were kept,
-- and each deliberation topic with the step it has reached (五步议事). Never who raised a topic.

CREATE TABLE meetings (
    community_id           text COLLATE "C" NOT NULL,
    meeting_id             text COLLATE "C" NOT NULL,
    jurisdiction           text COLLATE "C" NOT NULL,
    kind                   text NOT NULL,     -- assembly | representatives | joint | deliberation | hearing | evaluation
    title                  text NOT NULL,
    basis                  text NOT NULL,     -- what the counts count: adults | households | members | invitees
    expected               integer NOT NULL,  -- 应到
    present                integer,           -- 实到, the last attendance recorded
    topic_id               text COLLATE "C",              -- the deliberation topic it deliberates
    status                 text NOT NULL,     -- convened | closed
    held_at                timestamptz NOT NULL,
    convened_event_id      uuid NOT NULL,
    convened_commit_pos    bigint NOT NULL,
    attendance_at          timestamptz,
    attendance_event_id    uuid,
    attendance_commit_pos  bigint,
    minutes_sha256         text,              -- 会议记录, by the document's hash
    minutes_recorded_at    timestamptz,
    minutes_event_id       uuid,
    minutes_commit_pos     bigint,
    closed_at              timestamptz,
    closed_event_id        uuid,
    closed_commit_pos      bigint,
    stream                 text NOT NULL,     -- meeting-<community>-<meeting>
    last_revision          bigint NOT NULL,
    PRIMARY KEY (community_id, meeting_id)
) WITH (fillfactor = 80);
CREATE INDEX meetings_register ON meetings (community_id, held_at DESC, meeting_id);

-- Motions (议案) and the vote on each (表决). A meeting's motions and resolutions are rows of their own, so
-- recording one never rewrites the meeting's row; the register counts them.
CREATE TABLE motions (
    community_id      text COLLATE "C" NOT NULL,
    meeting_id        text COLLATE "C" NOT NULL,
    motion_id         text COLLATE "C" NOT NULL,
    title             text NOT NULL,
    body              text NOT NULL,
    tabled_at         timestamptz NOT NULL,
    tabled_event_id   uuid NOT NULL,
    tabled_commit_pos bigint NOT NULL,
    votes_for         integer,
    votes_against     integer,
    votes_abstain     integer,
    present           integer,                -- attendance the vote was counted against
    outcome           text,                   -- passed | failed
    voted_at          timestamptz,
    vote_event_id     uuid,
    vote_commit_pos   bigint,
    PRIMARY KEY (community_id, meeting_id, motion_id)
) WITH (fillfactor = 80);

-- Resolutions (决议) adopted on passed motions.
CREATE TABLE resolutions (
    community_id  text COLLATE "C" NOT NULL,
    meeting_id    text COLLATE "C" NOT NULL,
    resolution_id text COLLATE "C" NOT NULL,
    motion_id     text COLLATE "C" NOT NULL,
    meeting_kind  text NOT NULL,
    subject       text NOT NULL,              -- major-spending | asset-disposal | homestead-allocation | large-contract | other
    ceiling_fen   bigint NOT NULL,            -- most it authorises to spend; 0 when none
    body          text NOT NULL,
    adopted_at    timestamptz NOT NULL,
    event_id      uuid NOT NULL,
    commit_pos    bigint NOT NULL,
    PRIMARY KEY (community_id, meeting_id, resolution_id)
);
CREATE INDEX resolutions_by_time ON resolutions (community_id, adopted_at DESC);

-- Deliberation topics (议题) through the five steps, with the step reached and how it was collected.
CREATE TABLE topics (
    community_id          text COLLATE "C" NOT NULL,
    topic_id              text COLLATE "C" NOT NULL,
    jurisdiction          text COLLATE "C" NOT NULL,
    channel               text NOT NULL,     -- home-visit | hotline | wechat | qr-code | forum | other
    summary               text NOT NULL,
    collected_at          timestamptz NOT NULL,
    step                  smallint NOT NULL, -- 1 collected … 7 feedback recorded (meeting.Step)
    step_name             text NOT NULL,     -- the step in Chinese (征集议题 … 落实反馈)
    status                text NOT NULL,     -- open | rejected | closed
    step_at               timestamptz NOT NULL,
    step_event_id         uuid NOT NULL,     -- the event that took the current step
    step_commit_pos       bigint NOT NULL,
    accepted              boolean,           -- the screening's decision
    meeting_id            text,              -- the deliberation meeting
    disclosure_id         text,              -- the notice that disclosed the outcome
    feedback_count        integer NOT NULL,
    stream                text NOT NULL,     -- topic-<community>-<topic>
    last_revision         bigint NOT NULL,
    PRIMARY KEY (community_id, topic_id)
) WITH (fillfactor = 80);
CREATE INDEX topics_by_time ON topics (community_id, collected_at DESC);

-- Every step a topic took, one row per event, with what the step recorded: the closed loop of
-- 问题收集、处置办理、回复反馈 as the public can follow it. Never who raised the topic.
CREATE TABLE topic_steps (
    community_id    text COLLATE "C" NOT NULL,
    topic_id        text COLLATE "C" NOT NULL,
    revision        bigint NOT NULL,         -- of the topic's stream
    step            smallint NOT NULL,
    step_name       text NOT NULL,
    at              timestamptz NOT NULL,
    detail          text,                    -- summary, screening reason, plan, notice, outcome or feedback
    accepted        boolean,                 -- screened: whether it goes on
    document_sha256 text,                    -- plan drafted: the plan document
    deliberation_at timestamptz,             -- notice given: when the deliberation will be
    meeting_id      text,                    -- deliberation held: in which meeting
    disclosure_id   text,                    -- result disclosed: by which notice
    closed          boolean,                 -- feedback recorded: whether it closed the loop
    event_id        uuid NOT NULL,
    commit_pos      bigint NOT NULL,
    PRIMARY KEY (community_id, topic_id, revision)
);
