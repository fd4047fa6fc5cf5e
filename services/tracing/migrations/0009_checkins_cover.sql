-- Contact queries read, for every visit, the check-ins at its venue in a time range: person,
-- check-in and check-out time. Through the key's index alone each candidate row was a heap
-- fetch on a random page (a station's crowd is spread over a day's pages): on the skewed
-- 20 M-row store a depth-2 answer touched ~96 k buffers, most of them heap pages. The key's
-- index now carries person_id and checked_out_at beside its columns, so those scans are
-- index-only once a partition's pages are all-visible (autovacuum sees to that on insert-only
-- day partitions). Same key, same uniqueness (INCLUDE columns are not part of it), no second
-- B-tree for inserts to maintain; a check-out now changes an indexed column, so its UPDATE is
-- no longer HOT. On Citus the ALTER runs on every shard (the key still holds venue_id).
-- Through EXECUTE, one statement at a time: Citus sends a distributed table's ALTER to the
-- workers as the text of the query it came in, and a migration file is several statements.
DO $$
BEGIN
    EXECUTE 'ALTER TABLE tracing.checkins DROP CONSTRAINT checkins_pkey';
    EXECUTE 'ALTER TABLE tracing.checkins ADD PRIMARY KEY (venue_id, checked_in_at, checkin_id)'
        ' INCLUDE (person_id, checked_out_at)';
END
$$;
