-- Community finances (经费与支出) as the public sees them: allocations, every expenditure with its status,
-- every payment line, and a summary per community × fiscal year × funding source × category kept up to date
-- incrementally. Money is bigint fen. A payee is an organisation by name or an individual by the masked
-- name the event carries (张*): never a person id, never personal data.

-- Funds allocated (拨款), one row per allocation.
CREATE TABLE allocations (
    community_id  text COLLATE "C" NOT NULL,
    fiscal_year   integer NOT NULL,
    allocation_id text COLLATE "C" NOT NULL,
    jurisdiction  text COLLATE "C" NOT NULL,
    source        text NOT NULL,        -- central-project | county-finance | department | asset-swap | street-finance | self-raised | other
    category      text NOT NULL,        -- operating | startup | party-building | project | salaries | other
    amount_fen    bigint NOT NULL,
    note          text,
    allocated_at  timestamptz NOT NULL,
    event_id      uuid NOT NULL,
    commit_pos    bigint NOT NULL,
    PRIMARY KEY (community_id, fiscal_year, allocation_id)
);

-- One row per expenditure (支出) with where it stands; each step carries the event that made it. A paid
-- expenditure is a payment line (paid_* columns, from funds.expenditure-paid).
CREATE TABLE expenditures (
    community_id          text COLLATE "C" NOT NULL,
    expenditure_id        text COLLATE "C" NOT NULL,
    jurisdiction          text COLLATE "C" NOT NULL,
    fiscal_year           integer NOT NULL,
    category              text NOT NULL,
    kind                  text NOT NULL,  -- salary | allowance | other
    purpose               text NOT NULL,
    amount_fen            bigint NOT NULL,
    payee_kind            text NOT NULL,  -- organisation | individual
    payee_name            text NOT NULL,  -- organisation name, or the individual's masked name
    status                text NOT NULL,  -- requested | approved | paid | rejected | cancelled
    requested_at          timestamptz NOT NULL,
    requested_event_id    uuid NOT NULL,
    requested_commit_pos  bigint NOT NULL,
    approved_at           timestamptz,
    approved_event_id     uuid,
    approved_commit_pos   bigint,
    resolution_id         text COLLATE "C",           -- the authorising resolution (四议两公开), from approval or payment
    resolution_meeting_id text,
    paid_at               timestamptz,
    voucher_no            text,
    paid_amount_fen       bigint,
    was_approved          boolean,
    paid_event_id         uuid,
    paid_commit_pos       bigint,
    closed_at             timestamptz,    -- rejected or cancelled
    close_reason          text,
    closed_event_id       uuid,
    closed_commit_pos     bigint,
    stream                text NOT NULL,  -- expenditure-<community>-<expenditure>
    last_revision         bigint NOT NULL,
    PRIMARY KEY (community_id, expenditure_id)
) WITH (fillfactor = 80);

-- The payment lines of the public list are the paid expenditures, newest first.
CREATE INDEX expenditures_paid ON expenditures (community_id, paid_at DESC, expenditure_id DESC) WHERE paid_at IS NOT NULL;

-- Totals per community × fiscal year × funding source × category, updated by each batch's deltas.
-- Expenditures do not name a funding source in the domain, so their figures sit under source '' (none);
-- allocations always name one. requested_fen counts requests not rejected or cancelled (approved and paid
-- ones included); approved_fen approvals not cancelled (paid ones included); paid_fen payments.
-- last_event_id/last_commit_pos is the newest event that changed the row.
CREATE TABLE budget_summary (
    community_id    text COLLATE "C" NOT NULL,
    fiscal_year     integer NOT NULL,
    source          text COLLATE "C" NOT NULL,
    category        text COLLATE "C" NOT NULL,
    allocated_fen   bigint NOT NULL,
    allocations     integer NOT NULL,
    requested_fen   bigint NOT NULL,
    approved_fen    bigint NOT NULL,
    paid_fen        bigint NOT NULL,
    payments        integer NOT NULL,
    last_event_id   uuid NOT NULL,
    last_commit_pos bigint NOT NULL,
    PRIMARY KEY (community_id, fiscal_year, source, category)
) WITH (fillfactor = 80);
