-- A query's contacts as one row of arrays beside the query, not a row and a key entry each.
-- A skewed depth-2 answer has 1,500-6,200 contacts, and saving them as rows of
-- tracing.query_contacts (heap tuple, primary-key entry, WAL record each) was the largest part
-- of the query's Postgres CPU after finding them. The arrays keep the answer's order (depth, then
-- largest overlap, then person), and are read back by unnest (ContactStore.load_query); exports,
-- notifications and retention read them through it. STORAGE EXTERNAL: out of line without
-- compression (uuids and times barely compress, and pglz spent CPU at every save trying).
-- contact_queries is a local table of the coordinator on Citus (only check-ins are distributed).
ALTER TABLE tracing.contact_queries
    ADD COLUMN contact_person_ids uuid[] NOT NULL DEFAULT '{}',
    ADD COLUMN contact_venue_ids uuid[] NOT NULL DEFAULT '{}',
    ADD COLUMN contact_checked_in_ats timestamptz[] NOT NULL DEFAULT '{}',
    ADD COLUMN contact_case_checked_in_ats timestamptz[] NOT NULL DEFAULT '{}',
    ADD COLUMN contact_overlap_minutes double precision[] NOT NULL DEFAULT '{}',
    ADD COLUMN contact_depths integer[] NOT NULL DEFAULT '{}',
    ADD COLUMN contact_via_person_ids uuid[] NOT NULL DEFAULT '{}';

ALTER TABLE tracing.contact_queries
    ALTER COLUMN contact_person_ids SET STORAGE EXTERNAL,
    ALTER COLUMN contact_venue_ids SET STORAGE EXTERNAL,
    ALTER COLUMN contact_checked_in_ats SET STORAGE EXTERNAL,
    ALTER COLUMN contact_case_checked_in_ats SET STORAGE EXTERNAL,
    ALTER COLUMN contact_overlap_minutes SET STORAGE EXTERNAL,
    ALTER COLUMN contact_depths SET STORAGE EXTERNAL,
    ALTER COLUMN contact_via_person_ids SET STORAGE EXTERNAL;

-- The stored queries' contacts carried over, in the order an answer lists them.
UPDATE tracing.contact_queries AS q
SET (contact_person_ids, contact_venue_ids, contact_checked_in_ats, contact_case_checked_in_ats,
     contact_overlap_minutes, contact_depths, contact_via_person_ids) = (
    SELECT array_agg(c.person_id ORDER BY c.depth, c.overlap_minutes DESC, c.person_id),
           array_agg(c.venue_id ORDER BY c.depth, c.overlap_minutes DESC, c.person_id),
           array_agg(c.contact_checked_in_at ORDER BY c.depth, c.overlap_minutes DESC, c.person_id),
           array_agg(c.case_checked_in_at ORDER BY c.depth, c.overlap_minutes DESC, c.person_id),
           array_agg(c.overlap_minutes ORDER BY c.depth, c.overlap_minutes DESC, c.person_id),
           array_agg(c.depth ORDER BY c.depth, c.overlap_minutes DESC, c.person_id),
           array_agg(c.via_person_id ORDER BY c.depth, c.overlap_minutes DESC, c.person_id)
    FROM tracing.query_contacts AS c
    WHERE c.query_id = q.query_id
)
WHERE EXISTS (SELECT 1 FROM tracing.query_contacts AS c WHERE c.query_id = q.query_id);

DROP TABLE tracing.query_contacts;
