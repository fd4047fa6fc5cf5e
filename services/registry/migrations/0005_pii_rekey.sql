-- Progress of `venuecode rotate-pii-key` (issue 17): one row per target key, written in the same
-- transaction as each re-encrypted batch, so a run killed midway resumes after its last batch.
CREATE TABLE registry.pii_rekey_progress (
    key_id bytea PRIMARY KEY,
    after_person uuid,
    resealed bigint NOT NULL DEFAULT 0,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
