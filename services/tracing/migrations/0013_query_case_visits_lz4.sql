-- A stored query's case visits (jsonb) compressed with lz4, as its contacts are (0012), instead of
-- the server's default_toast_compression (pglz here). A depth-1 answer's ~20 visits are ~5 kB of
-- jsonb, over the 2 kB at which Postgres compresses, so every save compressed them: with pglz
-- that was ~0.05 ms of the ~1.37 ms of Postgres CPU a depth-1 ANSWER costs on the skewed bench
-- store (100 cases, one at a time, 10 alternating rounds; 1.370 -> 1.316 ms), for ~1.8 kB either
-- way. Values stored before stay as they are; both read back the same. Where Postgres was built
-- without lz4, the column keeps the default.
-- contact_queries is a local table of the coordinator on Citus (only check-ins are distributed).
DO $$
BEGIN
    EXECUTE 'ALTER TABLE tracing.contact_queries ALTER COLUMN case_visits SET COMPRESSION lz4';
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not built in: contact_queries.case_visits keeps the default compression';
END
$$;
