-- The rules engine's state and the supervisors' read model (rm_alerts). Everything here is a function of
-- the events up to the checkpoint, so a rebuild produces the same rows.

-- Communities as the engine needs them: kind (the residents'-meeting rule concerns urban ones) and when
-- they were registered (the first period they are checked for).
CREATE TABLE communities (
    community_id  text PRIMARY KEY,
    jurisdiction  text NOT NULL,
    kind          text NOT NULL,
    registered_at timestamptz NOT NULL
);

-- Rule overrides by jurisdiction (rulebook.override-set/-removed), to resolve a community's parameters.
CREATE TABLE overrides (
    path  text NOT NULL,
    rule  text NOT NULL,
    param text NOT NULL,
    value text NOT NULL,
    PRIMARY KEY (path, rule, param)
);

-- Open deadlines: something that must happen by due_at. next_at is when the sweep must look at the row:
-- due_at while nothing was raised, the time the raised alert turns red (red-after) once it came back
-- yellow, NULL when there is nothing more to do (raised red, or resolved by a supervisor). The sweep
-- finds due rows through deadlines_next, so a million open deadlines cost it an index range scan.
CREATE TABLE deadlines (
    rule          text NOT NULL,
    subject       text NOT NULL,
    community_id  text NOT NULL,
    jurisdiction  text NOT NULL,
    due_at        timestamptz NOT NULL,
    next_at       timestamptz,
    severity      text,
    detail        text NOT NULL,
    source_id     uuid,
    source_stream text,
    source_type   text,
    PRIMARY KEY (rule, subject)
);
CREATE INDEX deadlines_next ON deadlines (next_at) WHERE next_at IS NOT NULL;

-- The current truth of each breach condition (state rules and one-off breaches): is the rule broken now,
-- and since which event. An alert that comes back for a condition that already ended is cleared at once.
CREATE TABLE conditions (
    rule     text NOT NULL,
    subject  text NOT NULL,
    broken   boolean NOT NULL,
    anchor   uuid NOT NULL,
    PRIMARY KEY (rule, subject)
);

-- Residents' assemblies held, for the residents-meeting-frequency checkpoints.
CREATE TABLE assemblies (
    community_id text NOT NULL,
    meeting_id   text NOT NULL,
    held_at      timestamptz NOT NULL,
    PRIMARY KEY (community_id, meeting_id)
);

-- Every alert, open or cleared, by alert id (supervision.AlertID).
CREATE TABLE alerts (
    alert_id        uuid PRIMARY KEY,
    rule            text NOT NULL,
    severity        text NOT NULL,
    community_id    text NOT NULL,
    jurisdiction    text NOT NULL,
    subject         text NOT NULL,
    trigger         text NOT NULL,
    detail          text NOT NULL,
    due_at          timestamptz,
    raised_at       timestamptz NOT NULL,
    raised_commit   bigint NOT NULL,
    raised_prepare  bigint NOT NULL,
    cleared_at      timestamptz,
    clear_reason    text,
    clear_detail    text,
    cleared_commit  bigint,
    cleared_prepare bigint
);
CREATE INDEX alerts_open_key ON alerts (rule, subject) WHERE cleared_at IS NULL;
CREATE INDEX alerts_open_community ON alerts (community_id) WHERE cleared_at IS NULL;
CREATE INDEX alerts_open_jurisdiction ON alerts (jurisdiction text_pattern_ops) WHERE cleared_at IS NULL;

-- The alert events in $all order: the feed SSE subscribers and webhooks read, resumable by position.
CREATE TABLE alert_events (
    commit_pos   bigint NOT NULL,
    prepare_pos  bigint NOT NULL,
    event_id     uuid NOT NULL UNIQUE,
    stream       text NOT NULL,
    type         text NOT NULL,
    alert_id     uuid NOT NULL,
    jurisdiction text NOT NULL,
    recorded_at  timestamptz NOT NULL,
    payload      text NOT NULL,  -- the event's data byte for byte, as supervisors receive it
    PRIMARY KEY (commit_pos, prepare_pos)
);
CREATE INDEX alert_events_jurisdiction ON alert_events (jurisdiction text_pattern_ops, commit_pos, prepare_pos);

-- Red/yellow/green per community (红黄绿三色预警), from its open alerts.
CREATE TABLE ratings (
    community_id text PRIMARY KEY,
    jurisdiction text NOT NULL,
    rating       text NOT NULL,
    open_red     integer NOT NULL DEFAULT 0,
    open_yellow  integer NOT NULL DEFAULT 0,
    changed_at   timestamptz NOT NULL
);
CREATE INDEX ratings_jurisdiction ON ratings (jurisdiction text_pattern_ops);

-- Alert events the engine decided on while applying a batch, to be appended by infra/alerting after the
-- batch commits (a projection never appends inside its transaction). A row disappears in the batch that
-- sees its event come back from the store, so after the projection caught up with the store's head, the
-- rows left are exactly the events not yet appended.
CREATE TABLE outbox (
    event_id  uuid PRIMARY KEY,
    seq       bigserial NOT NULL,
    kind      text NOT NULL CHECK (kind IN ('raise', 'clear')),
    alert_id  uuid NOT NULL,
    rule      text NOT NULL,
    subject   text NOT NULL,
    stream    text NOT NULL,
    type      text NOT NULL,
    data      text NOT NULL,
    meta      jsonb NOT NULL
);
CREATE INDEX outbox_key ON outbox (rule, subject);
