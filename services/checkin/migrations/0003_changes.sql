-- What the read model changed, for the in-process copies of the HTTP replicas
-- (services/checkin/memory.py): each read-model write adds the venue or the family (a guardian
-- with their dependents) it touched, in the same transaction. Readers poll the recent rows by
-- time and forget those entries; rows older than an hour are deleted by the readers' polls.
CREATE TABLE checkin.changes (
    seq bigserial PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('venue', 'family')),
    id uuid NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX changes_at ON checkin.changes (at);
