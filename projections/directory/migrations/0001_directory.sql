-- The registry the portal navigates: the jurisdiction tree and the communities with their figures. No
-- personal data: committee members appear as counts; the seats table holds opaque person ids only (so that
-- a member leaving is counted right), never names.

-- Every registered node of the jurisdiction tree (市、区/县、街道/镇、社区/村、网格、楼栋), communities included, so
-- the tree can be walked from the root. Paths are byte-ordered (C collation) so a subtree is one index range.
CREATE TABLE nodes (
    path          text COLLATE "C" PRIMARY KEY,
    code          text NOT NULL,                -- the node's own code, the last segment of path
    name          text NOT NULL,
    level         smallint NOT NULL,            -- depth of path: 1 province … 5 community … 7 building
    parent        text COLLATE "C",             -- NULL at the top level
    community     boolean NOT NULL,             -- a community or village (社区/村): details in communities
    registered_at timestamptz NOT NULL,
    event_id      uuid NOT NULL,                -- the event that registered the node, and its $all commit position
    commit_pos    bigint NOT NULL
);
CREATE INDEX nodes_children ON nodes (parent, path);

-- One row per community (社区) or village (村).
CREATE TABLE communities (
    community_id          text COLLATE "C" PRIMARY KEY,
    name                  text NOT NULL,
    kind                  text NOT NULL,        -- urban 社区 | rural 村
    path                  text COLLATE "C" NOT NULL,
    households            integer NOT NULL,     -- registered households (户数)
    adults                integer NOT NULL,     -- adult population (18周岁以上人口)
    figures_at            timestamptz NOT NULL,
    figures_event_id      uuid NOT NULL,        -- community.registered or the last community.figures-updated
    figures_commit_pos    bigint NOT NULL,
    committee_term        text,                 -- NULL until a committee is seated
    committee_members     integer NOT NULL,     -- sitting committee (居委会/村委会) by counts only
    committee_full_time   integer NOT NULL,
    committee_chairs      integer NOT NULL,
    committee_vice_chairs integer NOT NULL,
    roster_at             timestamptz,
    roster_event_id       uuid,                 -- the last event that changed the roster
    roster_commit_pos     bigint,
    registered_at         timestamptz NOT NULL,
    registered_event_id   uuid NOT NULL,
    registered_commit_pos bigint NOT NULL,
    stream                text NOT NULL,        -- community-<id>-profile
    last_revision         bigint NOT NULL       -- of stream: events at or below it are already applied
) WITH (fillfactor = 80);
CREATE INDEX communities_by_path ON communities (path);

-- The sitting committee, by opaque person id (never a name): what keeps the counts right.
CREATE TABLE committee_seats (
    community_id text COLLATE "C" NOT NULL,
    person_id    text COLLATE "C" NOT NULL,
    role         text NOT NULL,                 -- chair | vice-chair | member
    full_time    boolean NOT NULL,
    source       text NOT NULL,                 -- elected | by-elected | appointed
    election_id  text COLLATE "C",
    since        timestamptz NOT NULL,
    event_id     uuid NOT NULL,
    commit_pos   bigint NOT NULL,
    PRIMARY KEY (community_id, person_id)
);
