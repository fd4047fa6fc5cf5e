-- Keys for distribution (issue 14). A distributed table's unique keys must carry its
-- distribution column, and check-ins are sharded by venue (docs/operations.md), so the key
-- becomes (venue_id, checked_in_at, checkin_id); a scan and its retries carry one checkin_id
-- and one checked_in_at (services/checkin/scantime.py), so the key refuses the second row.
-- The old key (checked_in_at, checkin_id) is contained in the new one: every stored row
-- stays as it is, and the partitions take the new key with their parent.
ALTER TABLE tracing.checkins DROP CONSTRAINT checkins_pkey;
ALTER TABLE tracing.checkins ADD PRIMARY KEY (venue_id, checked_in_at, checkin_id);
-- The key's index leads with (venue_id, checked_in_at): the venue-window index it replaces
-- would only cost every insert a second B-tree.
DROP INDEX tracing.checkins_venue_time;
