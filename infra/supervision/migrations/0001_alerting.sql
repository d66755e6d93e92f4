-- infra/alerting's own state (schema alerting). Unlike the rm_alerts read model it is not derived from
-- the events, so a rebuild of the read model leaves it alone.

-- Progress of the calendar checks (residents' meetings): the last checkpoint processed.
CREATE TABLE scheduler (
    name  text PRIMARY KEY,
    value timestamptz NOT NULL
);

-- Webhooks supervisors registered: deliveries of the alert events under `under`, signed with `secret`
-- (HMAC-SHA256). The secret is shown once at registration; it is stored as is because signing needs it.
CREATE TABLE webhooks (
    id          text PRIMARY KEY,
    url         text NOT NULL,
    under       text NOT NULL,
    secret      text NOT NULL,
    owner       text NOT NULL,
    created_at  timestamptz NOT NULL,
    deleted_at  timestamptz,
    -- The feed position up to which alert events were turned into deliveries for this webhook.
    cursor_commit  bigint NOT NULL,
    cursor_prepare bigint NOT NULL
);

-- The delivery outbox: one row per (webhook, alert event), durable across restarts. A pending row is
-- tried when next_at comes; failures back off exponentially; after max attempts the row is parked until
-- someone replays it.
CREATE TABLE deliveries (
    id           bigserial PRIMARY KEY,
    webhook_id   text NOT NULL REFERENCES webhooks (id),
    event_id     uuid NOT NULL,
    commit_pos   bigint NOT NULL,
    prepare_pos  bigint NOT NULL,
    body         text NOT NULL,
    state        text NOT NULL CHECK (state IN ('pending', 'delivered', 'parked')),
    attempts     integer NOT NULL DEFAULT 0,
    next_at      timestamptz NOT NULL,
    leased_until timestamptz,
    last_error   text,
    last_status  integer,
    delivered_at timestamptz,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX deliveries_due ON deliveries (next_at) WHERE state = 'pending';
CREATE INDEX deliveries_parked ON deliveries (webhook_id) WHERE state = 'parked';
