-- The checkin read model, fed by venuecode.registry.v1: what one scan needs to be checked
-- without asking another service. Kept in Postgres so it survives a Redis restart.

-- Events this service has handled, so a redelivered event changes nothing.
CREATE TABLE checkin.processed_events (
    event_id uuid PRIMARY KEY,
    handled_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE checkin.venues (
    venue_id uuid PRIMARY KEY,
    name text NOT NULL,
    poster_version integer NOT NULL,
    administrator_id uuid
);

CREATE TABLE checkin.inspector_bindings (
    venue_id uuid NOT NULL,
    person_id uuid NOT NULL,
    bound_at timestamptz NOT NULL,
    PRIMARY KEY (venue_id, person_id)
);

CREATE TABLE checkin.guardianships (
    guardian_id uuid NOT NULL,
    person_id uuid NOT NULL,
    relation text NOT NULL,
    PRIMARY KEY (guardian_id, person_id)
);

CREATE TABLE checkin.persons (
    person_id uuid PRIMARY KEY,
    masked_name text NOT NULL,
    masked_id text NOT NULL
);
