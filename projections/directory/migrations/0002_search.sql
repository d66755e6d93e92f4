-- Finding a place by a part of its name (汉字): a trigram index when PostgreSQL's pg_trgm can be
-- installed by the ledger's role (it is a trusted extension: a database owner may), so that a search
-- stays an index scan at national scale (10^5–10^6 nodes); without it the search scans the table, which
-- is fast at a district's or a city's size. The extension lives in its own schema (never a read model's,
-- which a rebuild drops).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE SCHEMA IF NOT EXISTS ledger_ext;
        CREATE EXTENSION pg_trgm SCHEMA ledger_ext;
    END IF;
EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
    RAISE NOTICE 'pg_trgm is not available: searching places by name scans the table';
END $$;
DO $$
DECLARE
    ext_schema text;
BEGIN
    SELECT n.nspname INTO ext_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    IF ext_schema IS NOT NULL THEN
        EXECUTE format('CREATE INDEX nodes_name_trgm ON nodes USING gin (name %I.gin_trgm_ops)', ext_schema);
    END IF;
END $$;
