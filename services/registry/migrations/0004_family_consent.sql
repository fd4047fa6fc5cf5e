-- Family links need consent (issue 17). A request to an adult who has an account of their own
-- waits ('pending') until that person accepts it; a child or an elder without an account is put
-- under guardianship at once ('active'). Declined, withdrawn, revoked and unlinked links are
-- deleted (guardian.unlinked announces the end of an active one).
-- Links made before this migration stay active: each person now sees them and can revoke them.
ALTER TABLE registry.guardianships
    ADD COLUMN state text NOT NULL DEFAULT 'active' CHECK (state IN ('pending', 'active')),
    ADD COLUMN accepted_at timestamptz;
