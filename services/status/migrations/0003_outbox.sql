-- status.changed events written in the same transaction as the change they announce;
-- a row is deleted once the broker acknowledged it, and a relay resends what a failed publish left.
CREATE TABLE status.outbox (
    id bigserial PRIMARY KEY,
    person_id uuid NOT NULL,
    payload bytea NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX outbox_created ON status.outbox (created_at);
