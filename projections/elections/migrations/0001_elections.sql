-- Elections (换届选举) as the public follows them: each election's timeline, its candidates by opaque person
-- id (the domain carries candidates' names only as personal data, so none is shown), votes and the
-- certified result with turnout, objections by counts, and the later changes of the elected committee
-- (罢免 recall, 补选 by-election, 辞职 resignation). Never who objected, never personal data.

CREATE TABLE elections (
    community_id          text COLLATE "C" NOT NULL,
    election_id           text COLLATE "C" NOT NULL,
    jurisdiction          text COLLATE "C" NOT NULL,
    term                  text NOT NULL,
    seats                 integer NOT NULL,
    phase                 text NOT NULL,     -- nominating | publicized | voted | certified
    committee_members     integer NOT NULL,  -- the election committee (选举委员会), by count
    formed_at             timestamptz NOT NULL,
    formed_event_id       uuid NOT NULL,
    formed_commit_pos     bigint NOT NULL,
    candidates            integer NOT NULL,  -- standing (nominated and not withdrawn)
    list_publicized_at    timestamptz,       -- 候选人名单公示
    list_size             integer,
    list_event_id         uuid,
    list_commit_pos       bigint,
    objections_raised     integer NOT NULL,
    objections_answered   integer NOT NULL,
    objections_event_id   uuid,              -- the last objection event
    objections_commit_pos bigint,
    voting_held_at        timestamptz,
    voting_event_id       uuid,
    voting_commit_pos     bigint,
    registered_voters     integer,           -- from the vote, then from the certified result
    ballots_cast          integer,
    turnout_pct           numeric(5, 2) GENERATED ALWAYS AS
                              (CASE WHEN registered_voters > 0 THEN round(100.0 * ballots_cast / registered_voters, 2) END) STORED,
    certified_at          timestamptz,
    winners               integer,
    certified_event_id    uuid,
    certified_commit_pos  bigint,
    members_recalled      integer NOT NULL,
    members_by_elected    integer NOT NULL,
    members_resigned      integer NOT NULL,
    stream                text NOT NULL,     -- election-<community>-<election>
    last_revision         bigint NOT NULL,
    PRIMARY KEY (community_id, election_id)
) WITH (fillfactor = 80);

-- Candidates (候选人) by opaque person id.
CREATE TABLE candidates (
    community_id         text COLLATE "C" NOT NULL,
    election_id          text COLLATE "C" NOT NULL,
    person_id            text COLLATE "C" NOT NULL,
    status               text NOT NULL,      -- nominated | withdrawn | elected | not-elected
    nominated_at         timestamptz NOT NULL,
    nominated_event_id   uuid NOT NULL,
    nominated_commit_pos bigint NOT NULL,
    withdrawn_at         timestamptz,
    on_list              boolean NOT NULL,   -- on the publicized list
    objections           integer NOT NULL,   -- objections raised concerning the candidate
    votes                integer,            -- from the vote
    votes_event_id       uuid,
    votes_commit_pos     bigint,
    role                 text,               -- when elected: chair | vice-chair | member
    full_time            boolean,
    result_event_id      uuid,               -- the certification that elected (or did not elect) the candidate
    result_commit_pos    bigint,
    PRIMARY KEY (community_id, election_id, person_id)
) WITH (fillfactor = 80);

-- Objections to the list or a candidate: times only, never the objector or the text.
CREATE TABLE objections (
    community_id        text COLLATE "C" NOT NULL,
    election_id         text COLLATE "C" NOT NULL,
    objection_id        text COLLATE "C" NOT NULL,
    concerning          text,                -- the candidate's person id, when it concerns one
    raised_at           timestamptz NOT NULL,
    raised_event_id     uuid NOT NULL,
    raised_commit_pos   bigint NOT NULL,
    answered_at         timestamptz,
    answered_event_id   uuid,
    answered_commit_pos bigint,
    PRIMARY KEY (community_id, election_id, objection_id)
) WITH (fillfactor = 80);

-- Changes to the elected committee after certification, one row per event.
CREATE TABLE member_changes (
    community_id      text COLLATE "C" NOT NULL,
    election_id       text COLLATE "C" NOT NULL,
    revision          bigint NOT NULL,       -- of the election's stream
    change            text NOT NULL,         -- recalled | by-elected | resigned
    person_id         text COLLATE "C" NOT NULL,
    role              text,                  -- by-elected: the seat taken
    full_time         boolean,
    votes             integer,               -- by-elected: votes received
    votes_for         integer,               -- recalled: ballots for the recall
    registered_voters integer,
    ballots_cast      integer,
    at                timestamptz NOT NULL,
    event_id          uuid NOT NULL,
    commit_pos        bigint NOT NULL,
    PRIMARY KEY (community_id, election_id, revision)
);
CREATE INDEX member_changes_by_time ON member_changes (community_id, at);
