-- Satisfaction surveys (居民满意度测评) and democratic evaluations of cadres (民主评议) as the public sees them:
-- a survey's questions and, once closed, each question's tally and the respondents; an evaluation's tallies
-- per committee member by public name and role. Never an answer or a vote by a person. Each row is written
-- once by the event that makes it. Recorded before this migration: `ledger rebuild directory`.
CREATE TABLE surveys (
    community_id text COLLATE "C" NOT NULL,
    survey_id    text COLLATE "C" NOT NULL,
    title        text NOT NULL,
    audience     text NOT NULL,                  -- residents,representatives,party-members (as recorded)
    opened_at    timestamptz NOT NULL,
    event_id     uuid NOT NULL,
    commit_pos   bigint NOT NULL,
    PRIMARY KEY (community_id, survey_id)
);

CREATE TABLE survey_questions (
    community_id text COLLATE "C" NOT NULL,
    survey_id    text COLLATE "C" NOT NULL,
    question_id  text COLLATE "C" NOT NULL,
    position     integer NOT NULL,
    text         text NOT NULL,
    scale        text NOT NULL,                  -- satisfaction | five-point
    PRIMARY KEY (community_id, survey_id, question_id)
);

CREATE TABLE survey_results (
    community_id text COLLATE "C" NOT NULL,
    survey_id    text COLLATE "C" NOT NULL,
    respondents  integer NOT NULL,
    closed_at    timestamptz NOT NULL,
    event_id     uuid NOT NULL,
    commit_pos   bigint NOT NULL,
    PRIMARY KEY (community_id, survey_id)
);

CREATE TABLE survey_tallies (
    community_id text COLLATE "C" NOT NULL,
    survey_id    text COLLATE "C" NOT NULL,
    question_id  text COLLATE "C" NOT NULL,
    counts       text NOT NULL,                  -- the counts per answer, comma-separated, in the scale's order
    PRIMARY KEY (community_id, survey_id, question_id)
);

CREATE TABLE evaluations (
    community_id  text COLLATE "C" NOT NULL,
    evaluation_id text COLLATE "C" NOT NULL,
    period        text NOT NULL,                 -- 2026-H1
    evaluators    integer NOT NULL,
    held_at       timestamptz NOT NULL,
    event_id      uuid NOT NULL,
    commit_pos    bigint NOT NULL,
    PRIMARY KEY (community_id, evaluation_id)
);

CREATE TABLE evaluation_results (
    community_id  text COLLATE "C" NOT NULL,
    evaluation_id text COLLATE "C" NOT NULL,
    position      integer NOT NULL,
    person_id     text NOT NULL,                 -- a committee member: public by office
    public_name   text,
    role          text NOT NULL,
    report_sha256 text,
    competent     integer NOT NULL,
    basically     integer NOT NULL,
    incompetent   integer NOT NULL,
    PRIMARY KEY (community_id, evaluation_id, position)
);
