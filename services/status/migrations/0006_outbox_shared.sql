-- The outbox takes the one shape of shared/outbox.py (registry's): each row names its topic and
-- key, and a sent row is marked (not deleted) and pruned after a retention, so "was this event
-- ever sent?" can be answered while debugging a consumer. Rows still waiting keep their place.
ALTER TABLE status.outbox RENAME COLUMN id TO outbox_id;
ALTER TABLE status.outbox ADD COLUMN topic text NOT NULL DEFAULT 'venuecode.status.v1';
ALTER TABLE status.outbox ALTER COLUMN topic DROP DEFAULT;
ALTER TABLE status.outbox ADD COLUMN key bytea;
UPDATE status.outbox SET key = convert_to(person_id::text, 'UTF8');
ALTER TABLE status.outbox ALTER COLUMN key SET NOT NULL;
ALTER TABLE status.outbox DROP COLUMN person_id;
ALTER TABLE status.outbox ALTER COLUMN payload TYPE text USING convert_from(payload, 'UTF8');
ALTER TABLE status.outbox ALTER COLUMN created_at SET DEFAULT now();
ALTER TABLE status.outbox ADD COLUMN sent_at timestamptz;
DROP INDEX status.outbox_created;
CREATE INDEX outbox_unsent ON status.outbox (outbox_id) WHERE sent_at IS NULL;
CREATE INDEX outbox_sent ON status.outbox (sent_at) WHERE sent_at IS NOT NULL;
