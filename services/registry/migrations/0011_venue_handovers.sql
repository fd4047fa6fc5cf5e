-- Issue 16: a venue changes administrator by a handover the new account accepts, or by an
-- operator's reassignment. Every row stays: the table is the audit of who asked, who answered,
-- when, and how it ended. One pending offer per venue is a partial UNIQUE index, so two
-- concurrent offers cannot both be pending.
CREATE TABLE registry.venue_handovers (
    handover_id uuid PRIMARY KEY,
    venue_id uuid NOT NULL REFERENCES registry.venues (venue_id),
    kind text NOT NULL CHECK (kind IN ('offer', 'reassignment')),
    from_id uuid NOT NULL REFERENCES registry.people (person_id),
    to_id uuid NOT NULL REFERENCES registry.people (person_id),
    requested_by uuid NOT NULL REFERENCES registry.people (person_id),
    state text NOT NULL CHECK (state IN ('pending', 'accepted', 'declined', 'cancelled', 'expired', 'done')),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    decided_at timestamptz,
    CHECK (from_id <> to_id)
);
CREATE UNIQUE INDEX venue_handovers_one_pending ON registry.venue_handovers (venue_id) WHERE state = 'pending';
CREATE INDEX venue_handovers_venue ON registry.venue_handovers (venue_id, created_at);
CREATE INDEX venue_handovers_to_pending ON registry.venue_handovers (to_id) WHERE state = 'pending';
-- An offer names the new administrator by phone: found by index, not by a scan.
CREATE INDEX people_phone ON registry.people (phone) WHERE password_hash IS NOT NULL;

-- Which poster version was first downloaded when (issue 16's compliance view: never printed).
ALTER TABLE registry.venues ADD COLUMN printed_version integer NOT NULL DEFAULT 0;
