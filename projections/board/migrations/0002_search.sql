-- Finding notices by words of their title: a trigram index when pg_trgm is installed (the directory
-- model's migration installs it where the ledger's role may); without it the search scans the table.
DO $$
DECLARE
    ext_schema text;
BEGIN
    SELECT n.nspname INTO ext_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    IF ext_schema IS NULL THEN
        BEGIN
            CREATE SCHEMA IF NOT EXISTS ledger_ext;
            CREATE EXTENSION pg_trgm SCHEMA ledger_ext;
            ext_schema := 'ledger_ext';
        EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported OR unique_violation OR duplicate_object THEN
            RAISE NOTICE 'pg_trgm is not available: searching notices by title scans the table';
        END;
    END IF;
    IF ext_schema IS NOT NULL THEN
        EXECUTE format('CREATE INDEX notice_versions_title_trgm ON notice_versions USING gin (title %I.gin_trgm_ops)', ext_schema);
    END IF;
END $$;
