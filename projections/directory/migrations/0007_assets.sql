-- Collective assets and resources (三资) as the public sees them: each asset with its kind, location, book
-- value and what became of it, and each contract letting it out — counterparty (a person farming the land
-- is named as the contract names them: counterparties are public in 三资公开), term, rent, how it was
-- awarded, and the rent received so far. Assets recorded before this migration are filled by
-- `ledger rebuild directory`.
CREATE TABLE assets (
    community_id          text COLLATE "C" NOT NULL,
    asset_id              text COLLATE "C" NOT NULL,
    kind                  text NOT NULL,           -- fixed | resource
    name                  text NOT NULL,
    location              text NOT NULL,
    value_fen             bigint NOT NULL,
    registered_at         timestamptz NOT NULL,
    registered_event_id   uuid NOT NULL,
    registered_commit_pos bigint NOT NULL,
    disposed_at           timestamptz,             -- NULL while held
    disposal              text,                    -- sale | scrap | transfer
    disposal_amount_fen   bigint,
    disposed_event_id     uuid,
    disposed_commit_pos   bigint,
    contracts             integer NOT NULL,
    income_fen            bigint NOT NULL,         -- rent received over all its contracts
    stream                text NOT NULL,           -- asset-<community>-<asset>
    last_revision         bigint NOT NULL,         -- of stream: events at or below it are already applied
    PRIMARY KEY (community_id, asset_id)
);

CREATE TABLE asset_contracts (
    community_id    text COLLATE "C" NOT NULL,
    asset_id        text COLLATE "C" NOT NULL,
    contract_id     text COLLATE "C" NOT NULL,
    counterparty    text NOT NULL,
    term_from       timestamptz NOT NULL,
    term_to         timestamptz NOT NULL,
    rent_fen        bigint NOT NULL,
    every           text NOT NULL,                 -- month | quarter | year
    total_fen       bigint NOT NULL,
    method          text NOT NULL,                 -- public-bidding | negotiated
    not_bid         boolean NOT NULL,              -- awarded without public bidding above public-bidding's threshold
    resolution_id   text,
    meeting_id      text,
    installments    integer NOT NULL,
    received        integer NOT NULL,              -- installments received
    received_fen    bigint NOT NULL,
    signed_at       timestamptz NOT NULL,
    event_id        uuid NOT NULL,                 -- the last event of the contract, and its $all commit position
    commit_pos      bigint NOT NULL,
    PRIMARY KEY (community_id, asset_id, contract_id)
);
