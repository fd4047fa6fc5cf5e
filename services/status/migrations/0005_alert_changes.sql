-- Venue alerts: a change made by a status.set that names an alert keeps the alert's id, so
-- that status.revert can undo exactly the changes still attributable to that alert.
ALTER TABLE status.history ADD COLUMN alert_id uuid;
CREATE INDEX history_alert ON status.history (alert_id) WHERE alert_id IS NOT NULL;
ALTER TABLE status.history DROP CONSTRAINT history_source_check;
ALTER TABLE status.history ADD CONSTRAINT history_source_check
    CHECK (source IN ('authority', 'command', 'expiry', 'revert'));

-- Alerts withdrawn: a status.set of one of them that arrives after its status.revert
-- (another partition, a redelivery) changes nothing.
CREATE TABLE status.withdrawn_alerts (
    alert_id uuid PRIMARY KEY,
    withdrawn_by uuid NOT NULL,
    withdrawn_at timestamptz NOT NULL
);
