-- Assisted registration (issue 16): an inspector registers an elder or a child without a phone
-- on the spot, from name, identity number and birth date. The person is an ordinary row of
-- registry.people (no phone, no password: claimable later by their own registration or a
-- guardian's link); this table is the audit of who registered whom, and when.
CREATE TABLE registry.assisted_registrations (
    person_id uuid PRIMARY KEY REFERENCES registry.people (person_id),
    registered_by uuid NOT NULL REFERENCES registry.people (person_id),
    registered_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assisted_registrations_by ON registry.assisted_registrations (registered_by, registered_at);
