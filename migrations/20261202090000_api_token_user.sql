-- The user a live API token belongs to (NULL when it is unknown or revoked),
-- noting the token's last use at most once a minute: most requests only read,
-- so several connections using one token do not queue behind its row lock,
-- and a request does not wait for a commit of its own just to be let in.
-- One place for the rule: every statement that admits a bearer token calls it.
CREATE FUNCTION api_token_user(digest bytea) RETURNS uuid
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    token api_tokens%ROWTYPE;
BEGIN
    SELECT * INTO token FROM api_tokens WHERE token_hash = digest AND revoked_at IS NULL;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF token.last_used_at IS NULL OR token.last_used_at < now() - interval '1 minute' THEN
        UPDATE api_tokens SET last_used_at = now() WHERE id = token.id AND revoked_at IS NULL;
    END IF;
    RETURN token.user_id;
END
$$;
