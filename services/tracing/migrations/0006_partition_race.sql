-- Two tracing replicas starting together both create the day partitions: the second waits for
-- the advisory lock, then its to_regclass may still answer from a catalogue cache that has not
-- seen the first one's commit (an advisory lock does not make a backend read invalidations,
-- a relation lock does), and its CREATE fails with duplicate_table. Seen when two consumers
-- started at once (tests/faults/test_many_consumers.py). That error now means "made already".
-- With that error handled, a second look after the lock (0002's) is not needed: the lock only
-- keeps the creators in line, and a partition made meanwhile answers duplicate_table.
CREATE OR REPLACE FUNCTION tracing.ensure_day_partition(day date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    part text := format('checkins_p%s', to_char(day, 'YYYYMMDD'));
BEGIN
    IF to_regclass(format('tracing.%I', part)) IS NULL THEN
        PERFORM pg_advisory_xact_lock(hashtext('venuecode.tracing.partitions'));
        EXECUTE format(
            'CREATE TABLE tracing.%I PARTITION OF tracing.checkins FOR VALUES FROM (%L) TO (%L)',
            part, day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
        RETURN true;
    END IF;
    RETURN false;
EXCEPTION
    WHEN check_violation THEN
        RAISE NOTICE 'default partition holds rows of %; left there', day;
        RETURN false;
    WHEN duplicate_table THEN
        RETURN false;
END $$;
