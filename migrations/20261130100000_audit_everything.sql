-- An audit log for everything that matters, not only meetings (issue 9).
--
-- An entry is about a meeting (as before), a paper (its mark scheme, its
-- scripts) or an account (created, deactivated, reactivated, passwords, API
-- tokens). Entries outside meetings are listed for administrators on
-- /admin/audit; a meeting's own list still filters by meeting_id.
-- actor_id was already nullable: NULL means the command line or the server itself.

ALTER TABLE audit_log ALTER COLUMN meeting_id DROP NOT NULL;
ALTER TABLE audit_log ADD COLUMN paper_id uuid REFERENCES papers (id);
ALTER TABLE audit_log ADD COLUMN account_id uuid REFERENCES users (id);
-- Every entry names what it is about.
ALTER TABLE audit_log ADD CONSTRAINT audit_log_about_something
    CHECK (meeting_id IS NOT NULL OR paper_id IS NOT NULL OR account_id IS NOT NULL);

-- The administrators' page reads entries outside meetings newest first, by id.
CREATE INDEX audit_outside_meetings ON audit_log (id) WHERE meeting_id IS NULL;

-- The key that signs the sign-in form's CSRF token (a signed double-submit
-- cookie: people who have not signed in have no session to keep a token in).
-- Made here, once, from PostgreSQL's strong random source (two random UUIDs,
-- 244 random bits), so every server process and every restart signs alike.
CREATE TABLE server_keys (
    name  text PRIMARY KEY,
    key   bytea NOT NULL CONSTRAINT server_keys_long_enough CHECK (length(key) >= 32)
);
INSERT INTO server_keys (name, key)
VALUES ('login_csrf', decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));
