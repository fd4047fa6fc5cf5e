-- Every read of a person's colour history by staff: who read whose, when.
CREATE TABLE status.history_audit (
    id bigserial PRIMARY KEY,
    reader_id uuid NOT NULL,
    person_id uuid NOT NULL,
    at timestamptz NOT NULL
);
CREATE INDEX history_audit_at ON status.history_audit (at);
