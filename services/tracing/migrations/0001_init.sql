-- Events this service has handled, so a redelivered event changes nothing.
CREATE TABLE tracing.processed_events (
    event_id uuid PRIMARY KEY,
    handled_at timestamptz NOT NULL DEFAULT now()
);
