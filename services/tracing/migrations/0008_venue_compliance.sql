-- Issue 16: the compliance view (venues with no scan in N days, or whose poster was never printed).
-- The venue read model also keeps the address, the current poster version and the highest version
-- printed (from venue.registered, venue.poster_reissued and venue.poster_printed).
-- Through EXECUTE: on Citus, tracing.venues is a reference table, and Citus sends an ALTER TABLE
-- or CREATE INDEX of it to the workers as the text of the whole query it came in, which for a
-- migration file is every statement of it; a worker refuses that ("cannot insert multiple
-- commands into a prepared statement", Citus 13.0.5). EXECUTE makes each its own query text.
DO $$
BEGIN
    EXECUTE 'ALTER TABLE tracing.venues
        ADD COLUMN address text,
        ADD COLUMN poster_version integer NOT NULL DEFAULT 1,
        ADD COLUMN printed_version integer NOT NULL DEFAULT 0,
        ADD COLUMN registered_at timestamptz';
    -- Venues by region prefix (province 44, city 4407, district 440783), in the page's order.
    EXECUTE 'CREATE INDEX venues_region ON tracing.venues (region_code text_pattern_ops, venue_id)';
END $$;

-- Each venue's latest check-in, raised by every ingested batch (one upsert per batch of venues):
-- the view never scans the day partitions. It outlives the partitions' retention on purpose.
CREATE TABLE tracing.venue_activity (
    venue_id uuid PRIMARY KEY,
    last_checkin_at timestamptz NOT NULL
);
-- What is stored already (within retention) seeds it once.
INSERT INTO tracing.venue_activity (venue_id, last_checkin_at)
SELECT venue_id, max(checked_in_at) FROM tracing.checkins GROUP BY venue_id;
