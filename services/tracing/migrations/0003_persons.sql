-- People as registry announces them, so an epidemiologist can find a case by its
-- identity number: only the keyed digest and the masked forms, never the number.
CREATE TABLE tracing.persons (
    person_id uuid PRIMARY KEY,
    id_kind text NOT NULL,
    id_digest text NOT NULL,
    masked_name text NOT NULL,
    masked_id text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX persons_id_digest ON tracing.persons (id_digest);
