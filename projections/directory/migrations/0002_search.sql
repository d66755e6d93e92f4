-- Finding a place by a part of its name (汉字): a trigram index when PostgreSQL's pg_trgm can be
-- installed by the ledger's role (it is a trusted extension: a database owner may), so that a search
-- stays an index scan at national scale (10^5–10^6 nodes); without it the search scans the table, which
-- is fast at a district's or a city's size. The extension lives in schema ledger_ext (never a read
-- model's, which a rebuild drops). Migrations of several schemas (live, rebuild, replays) may run at once.
DO $$
DECLARE
    ext_schema text;
BEGIN
    SELECT n.nspname INTO ext_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    IF ext_schema IS NULL THEN
        BEGIN
            CREATE SCHEMA IF NOT EXISTS ledger_ext;
            CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA ledger_ext;
        EXCEPTION
            -- not allowed or not installed: searching places by name scans the table
            WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN NULL;
            -- created at the same moment by another migration (a rebuild's or a replay's schema): it is there now
            WHEN unique_violation OR duplicate_object OR duplicate_schema THEN NULL;
        END;
        SELECT n.nspname INTO ext_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    END IF;
    IF ext_schema IS NOT NULL THEN
        EXECUTE format('CREATE INDEX nodes_name_trgm ON nodes USING gin (name %I.gin_trgm_ops)', ext_schema);
    END IF;
END $$;
