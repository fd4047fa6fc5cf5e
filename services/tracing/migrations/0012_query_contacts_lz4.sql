-- A stored query's contacts (migration 0011) compressed with lz4 instead of stored as they are.
-- The JSON repeats its keys, the case's id and the venues' names: lz4 makes a depth-1 answer's
-- ~56 kB about 7.8 kB, so the save writes a few TOAST chunks (and their WAL) instead of ~28,
-- and compressing costs less than writing them: inserting 1,000 depth-1 answers of the skewed
-- bench store took 0.6-0.8 ms each with lz4, 1.2 ms stored as they are, 2.6-3 ms with pglz
-- (which is why 0011 chose EXTERNAL). Values stored before stay as they are; both read back the
-- same. Where Postgres was built without lz4, the column stays as 0011 made it.
-- contact_queries is a local table of the coordinator on Citus (only check-ins are distributed).
DO $$
BEGIN
    EXECUTE 'ALTER TABLE tracing.contact_queries ALTER COLUMN contacts SET COMPRESSION lz4';
    EXECUTE 'ALTER TABLE tracing.contact_queries ALTER COLUMN contacts SET STORAGE EXTENDED';
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not built in: contact_queries.contacts stays uncompressed';
END
$$;
