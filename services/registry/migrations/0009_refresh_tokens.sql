-- Refresh tokens (issue 16): a signed-in phone stays signed in for 30 days. A sign-in starts a
-- family; each refresh rotates the family's one live token into a new one. A rotated token
-- presented again means a copy is in someone else's hands, so the whole family is revoked.
-- Only a SHA-256 digest of each token is kept: a token is 256 random bits, so a plain digest
-- is enough to make a stolen table useless (no password to guess behind it).
CREATE TABLE registry.session_families (
    family_id uuid PRIMARY KEY,
    person_id uuid NOT NULL REFERENCES registry.people (person_id),
    created_at timestamptz NOT NULL,
    revoked_at timestamptz,
    revoked_reason text CHECK (revoked_reason IN ('logout', 'logout_everywhere', 'reuse')),
    CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
);
CREATE INDEX session_families_live ON registry.session_families (person_id) WHERE revoked_at IS NULL;

CREATE TABLE registry.refresh_tokens (
    token_digest bytea PRIMARY KEY CHECK (length(token_digest) = 32),
    family_id uuid NOT NULL REFERENCES registry.session_families (family_id) ON DELETE CASCADE,
    issued_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL CHECK (expires_at > issued_at),
    rotated_at timestamptz
);
-- A family has one token that may still be used: the one not rotated yet.
CREATE UNIQUE INDEX refresh_tokens_one_live ON registry.refresh_tokens (family_id) WHERE rotated_at IS NULL;
CREATE INDEX refresh_tokens_expiry ON registry.refresh_tokens (expires_at);
