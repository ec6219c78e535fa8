-- Accounts, sign-in throttling and personal API tokens (the Foundation issue).
-- Emails are stored lower-cased so uniqueness and sign-in ignore case.

CREATE TABLE users (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email                text NOT NULL CONSTRAINT users_email_key UNIQUE
                         CONSTRAINT users_email_lower CHECK (email = lower(email) AND email LIKE '%_@_%'),
    name                 text NOT NULL CONSTRAINT users_name_present CHECK (length(btrim(name)) > 0),
    password_hash        text NOT NULL,
    is_admin             boolean NOT NULL DEFAULT false,
    active               boolean NOT NULL DEFAULT true,
    -- Set for one-time passwords (first admin, admin-created accounts, resets):
    -- the holder must choose their own password before doing anything else.
    must_change_password boolean NOT NULL DEFAULT false,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- Every sign-in attempt, kept so throttling is per account and survives restarts
-- and several server processes. A password reset by an administrator is recorded
-- as a success so that it lifts the throttle.
CREATE TABLE login_attempts (
    id        bigserial PRIMARY KEY,
    email     text NOT NULL,
    succeeded boolean NOT NULL,
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_email_at ON login_attempts (email, at DESC);

-- Only the SHA-256 of a token is stored: the token itself is shown once.
-- Tokens are 256 random bits, so a fast hash is enough (no dictionary to guess from).
CREATE TABLE api_tokens (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL,
    token_hash   bytea NOT NULL CONSTRAINT api_tokens_hash_key UNIQUE
                 CONSTRAINT api_tokens_hash_len CHECK (length(token_hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
