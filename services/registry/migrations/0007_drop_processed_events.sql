-- The registry consumes no events, so nothing ever de-duplicated against this table (0001).
DROP TABLE IF EXISTS registry.processed_events;
