-- Sessions signed in before this moment are no longer valid: set when a
-- password changes or is reset, so old sessions (someone else's, perhaps)
-- end at once.
ALTER TABLE users ADD COLUMN sessions_valid_after timestamptz NOT NULL DEFAULT '1970-01-01 00:00:00+00';
