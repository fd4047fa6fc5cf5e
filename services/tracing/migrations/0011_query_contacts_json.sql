-- A query's contacts as one value beside the query, not a row and a key entry each: the JSON of
-- the answer's contacts array (UTF-8, services/tracing/answers.py), as the answer was written.
-- A skewed depth-2 answer has 1,500-18,800 contacts; saving them as rows of tracing.query_contacts
-- (heap tuple, primary-key entry, WAL record each) cost 4-4.7 ms of Postgres CPU a depth-2 query,
-- and passing them as arrays still cost the worker ~9 ms of CPU encoding each value again. The
-- bytes are read back by ContactStore.load_query (exports, notifications, the stored answer);
-- retention deletes them with the query. bytea: stored as given, without a parse or an encoding
-- check; read it with convert_from(contacts, 'UTF8')::jsonb. STORAGE EXTERNAL: out of line,
-- uncompressed (compressing ~1 MB at every save would cost more CPU than the disk it saves).
-- contact_queries is a local table of the coordinator on Citus (only check-ins are distributed).
ALTER TABLE tracing.contact_queries ADD COLUMN contacts bytea NOT NULL DEFAULT '\x5b5d'::bytea;
ALTER TABLE tracing.contact_queries ALTER COLUMN contacts SET STORAGE EXTERNAL;

-- The stored queries' contacts carried over, in the order an answer lists them, times in UTC.
UPDATE tracing.contact_queries AS q
SET contacts = (
    SELECT convert_to(json_agg(json_build_object(
               'person_id', c.person_id,
               'venue_id', c.venue_id,
               'venue_name', NULL,
               'contact_checked_in_at',
               to_char(c.contact_checked_in_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               'case_checked_in_at',
               to_char(c.case_checked_in_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               'overlap_minutes', c.overlap_minutes,
               'depth', c.depth,
               'via_person_id', c.via_person_id
           ) ORDER BY c.depth, c.overlap_minutes DESC, c.person_id)::text, 'UTF8')
    FROM tracing.query_contacts AS c
    WHERE c.query_id = q.query_id
)
WHERE EXISTS (SELECT 1 FROM tracing.query_contacts AS c WHERE c.query_id = q.query_id);

DROP TABLE tracing.query_contacts;
