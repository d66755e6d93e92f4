-- Finding notices by words of their title: a trigram index when pg_trgm can be installed (as the
-- directory model's 0002_search.sql; whichever runs first installs it); without it the search scans.
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
            -- not allowed or not installed: searching notices by title scans the table
            WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN NULL;
            -- created at the same moment by another migration (a rebuild's or a replay's schema): it is there now
            WHEN unique_violation OR duplicate_object OR duplicate_schema THEN NULL;
        END;
        SELECT n.nspname INTO ext_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    END IF;
    IF ext_schema IS NOT NULL THEN
        EXECUTE format('CREATE INDEX notice_versions_title_trgm ON notice_versions USING gin (title %I.gin_trgm_ops)', ext_schema);
    END IF;
END $$;
