-- A correlation or causation id that is the event's command id (as it is for every event a command
-- records) is kept as the empty string, not a second and third copy of the id: 48 bytes less in each row.
-- NULL is still an event without one; rows written before keep the id itself, and read back the same.
COMMENT ON COLUMN audit_events.correlation_id IS 'the correlation id; '''' when it is command_id, NULL when none';
COMMENT ON COLUMN audit_events.causation_id IS 'the causation id; '''' when it is command_id, NULL when none';
