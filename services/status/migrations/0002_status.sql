-- The identity read model, built from person.registered: digests and masked forms only.
CREATE TABLE status.people (
    person_id uuid PRIMARY KEY,
    id_kind text NOT NULL,
    id_digest text NOT NULL,
    name_digest text NOT NULL,
    birth_date date,
    masked_name text NOT NULL,
    masked_id text NOT NULL,
    registered_at timestamptz NOT NULL
);
CREATE INDEX people_id_digest ON status.people (id_digest);

-- Who may show whose code, from guardian.linked.
CREATE TABLE status.guardians (
    guardian_id uuid NOT NULL,
    person_id uuid NOT NULL,
    relation text NOT NULL,
    linked_at timestamptz NOT NULL,
    PRIMARY KEY (guardian_id, person_id)
);

-- Inspector bindings from inspector.bound / inspector.unbound. An unbinding is kept as a row
-- with bound = false, so a late "bound" older than it cannot bring the binding back.
CREATE TABLE status.inspector_bindings (
    person_id uuid NOT NULL,
    venue_id uuid NOT NULL,
    bound boolean NOT NULL,
    changed_at timestamptz NOT NULL,
    PRIMARY KEY (person_id, venue_id)
);

-- The authoritative current colour of each person with a recorded status.
-- effective_at is when the deciding act happened (a command's occurred_at, the
-- authority's clock, or the expiry time); a command older than it changes nothing.
CREATE TABLE status.current_status (
    person_id uuid PRIMARY KEY,
    colour text NOT NULL CHECK (colour IN ('green', 'yellow', 'red')),
    reason text NOT NULL,
    version bigint NOT NULL CHECK (version > 0),
    valid_until timestamptz,
    effective_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX current_status_expiring ON status.current_status (valid_until)
    WHERE valid_until IS NOT NULL AND colour <> 'green';

-- Every change, in version order per person.
CREATE TABLE status.history (
    id bigserial PRIMARY KEY,
    person_id uuid NOT NULL,
    colour text NOT NULL,
    reason text NOT NULL,
    version bigint NOT NULL,
    valid_until timestamptz,
    effective_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL,
    source text NOT NULL CHECK (source IN ('authority', 'command', 'expiry')),
    set_by uuid,
    source_query_id uuid,
    note text,
    UNIQUE (person_id, version)
);

-- The current paper-code serial of each person; printing a new card bumps it.
CREATE TABLE status.paper_codes (
    person_id uuid PRIMARY KEY,
    serial integer NOT NULL,
    issued_at timestamptz NOT NULL,
    issued_by uuid NOT NULL
);

-- Staff reads of personal data: every health-code verification.
CREATE TABLE status.verify_audit (
    id bigserial PRIMARY KEY,
    inspector_id uuid NOT NULL,
    person_id uuid,
    token_kind text,
    result text NOT NULL,
    at timestamptz NOT NULL
);
CREATE INDEX verify_audit_at ON status.verify_audit (at);

-- Every assisted lookup: who asked, about whom (by digest), when, with what result.
CREATE TABLE status.lookup_audit (
    id bigserial PRIMARY KEY,
    caller_id uuid NOT NULL,
    id_digest text,
    person_id uuid,
    result text NOT NULL,
    at timestamptz NOT NULL
);
CREATE INDEX lookup_audit_at ON status.lookup_audit (at);
