-- The chain hashes are kept as bytes (see chainHash in audittrail.go): the 32 bytes of the 64 lower-case
-- hex digits every ledger event carries, none for the empty previous hash of a stream's first event, and
-- any other text as its UTF-8 after a byte 0xFF (with 0xFE after it when that would make 32 bytes). Half
-- the size of the hex text: 64 bytes less in each of a million rows, in every rebuild and its WAL.
ALTER TABLE audit_events
    ALTER COLUMN prev_hash TYPE bytea USING (CASE
        WHEN prev_hash ~ '^[0-9a-f]{64}$' THEN decode(prev_hash, 'hex')
        WHEN prev_hash = '' THEN ''::bytea
        WHEN octet_length(prev_hash) = 31 THEN '\xfffe'::bytea || convert_to(prev_hash, 'UTF8')
        ELSE '\xff'::bytea || convert_to(prev_hash, 'UTF8') END),
    ALTER COLUMN hash TYPE bytea USING (CASE
        WHEN hash ~ '^[0-9a-f]{64}$' THEN decode(hash, 'hex')
        WHEN hash = '' THEN ''::bytea
        WHEN octet_length(hash) = 31 THEN '\xfffe'::bytea || convert_to(hash, 'UTF8')
        ELSE '\xff'::bytea || convert_to(hash, 'UTF8') END);
