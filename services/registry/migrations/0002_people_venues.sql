-- People (accounts and family members), staff roles, venues, inspector bindings and the outbox.

-- An identity number is only ever stored encrypted (id_cipher) and found by its keyed digest.
-- Family members who never signed up have no phone and no password_hash.
CREATE TABLE registry.people (
    person_id uuid PRIMARY KEY,
    id_kind text NOT NULL CHECK (id_kind IN ('mainland_id', 'hk_macao_permit', 'taiwan_permit', 'passport')),
    id_cipher bytea NOT NULL,
    id_digest text NOT NULL UNIQUE,
    masked_id text NOT NULL,
    name text NOT NULL,
    masked_name text NOT NULL,
    name_digest text NOT NULL,
    birth_date date,
    phone text,
    password_hash text,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE registry.guardianships (
    guardian_id uuid NOT NULL REFERENCES registry.people (person_id),
    person_id uuid NOT NULL REFERENCES registry.people (person_id),
    relation text NOT NULL,
    linked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (guardian_id, person_id),
    CHECK (guardian_id <> person_id)
);
CREATE INDEX guardianships_person ON registry.guardianships (person_id);

CREATE TABLE registry.role_grants (
    person_id uuid NOT NULL REFERENCES registry.people (person_id),
    role text NOT NULL CHECK (role IN ('epidemiologist', 'health_authority', 'operator')),
    granted_by uuid,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (person_id, role)
);

-- One venue per administrator and one administrator per venue: both are UNIQUE here, so two
-- concurrent requests cannot both win, whatever the application code does.
CREATE TABLE registry.venues (
    venue_id uuid PRIMARY KEY,
    region_code text NOT NULL CHECK (region_code ~ '^[0-9]{6}$'),
    name text NOT NULL,
    address text,
    category text NOT NULL,
    administrator_id uuid NOT NULL REFERENCES registry.people (person_id),
    declaration_code text NOT NULL,
    poster_version integer NOT NULL DEFAULT 1,
    poster_issued_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT venues_one_per_administrator UNIQUE (administrator_id),
    CONSTRAINT venues_region_name UNIQUE (region_code, name),
    CONSTRAINT venues_declaration_code UNIQUE (declaration_code)
);

CREATE TABLE registry.inspector_bindings (
    venue_id uuid NOT NULL REFERENCES registry.venues (venue_id),
    person_id uuid NOT NULL REFERENCES registry.people (person_id),
    bound_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (venue_id, person_id)
);
CREATE INDEX inspector_bindings_person ON registry.inspector_bindings (person_id);

-- Transactional outbox: events are written with the change they describe and sent after the
-- commit; rows still unsent (the broker was down) are re-sent by the relay in the lifespan.
CREATE TABLE registry.outbox (
    outbox_id bigserial PRIMARY KEY,
    topic text NOT NULL,
    key bytea NOT NULL,
    payload text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz
);
CREATE INDEX outbox_unsent ON registry.outbox (outbox_id) WHERE sent_at IS NULL;
