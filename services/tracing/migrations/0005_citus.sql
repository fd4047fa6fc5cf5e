-- Sharding on Citus (issue 14; docs/operations.md). Where the citus extension exists in this
-- database, check-ins are distributed by venue_id: every unique key carries it (0004), and
-- contact queries join check-ins to check-ins on venue_id, so each join stays on one shard.
-- The small tables that every shard's rows are joined with (venues, persons) become
-- reference tables, a copy on every node. Day partitions need nothing more: a partition made
-- by ensure_day_partition of a distributed table is distributed with it, co-located.
-- Without citus this does nothing; the service calls it again at every start, so a platform
-- that gains the extension later is distributed then (each step is skipped once done).
CREATE FUNCTION tracing.distribute_on_citus() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    lookup text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        RETURN 'plain';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('venuecode.tracing.partitions'));
    FOREACH lookup IN ARRAY ARRAY['tracing.venues', 'tracing.persons'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = lookup::regclass) THEN
            PERFORM create_reference_table(lookup);
        END IF;
    END LOOP;
    IF NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'tracing.checkins'::regclass) THEN
        PERFORM create_distributed_table('tracing.checkins', 'venue_id');
    END IF;
    RETURN 'distributed';
END $$;

SELECT tracing.distribute_on_citus();
