-- The API tokens that admit someone: not revoked, of an active account, with
-- the account. One place for the rule: every statement that admits a bearer
-- token reads it from here. (Its last use is noted by the application, at
-- most once a minute and off the request's path: see `auth::tokens`.)
CREATE VIEW live_api_tokens AS
SELECT t.id AS token_id, t.token_hash, t.last_used_at,
       u.id AS user_id, u.email, u.name, u.is_admin, u.must_change_password, u.created_at, u.sessions_valid_after
FROM api_tokens t JOIN users u ON u.id = t.user_id
WHERE t.revoked_at IS NULL AND u.active;
