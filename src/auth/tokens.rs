//! Personal API tokens for programs: shown once, stored only as a SHA-256 hash.

use axum::http::{HeaderMap, header};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::{RngCore, rngs::OsRng};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

use crate::{
    audit::{self, Actor, Entry},
    error::AppError,
    users::{User, UserId},
};

const PREFIX: &str = "std_";
/// 32 random bytes in unpadded base64url.
const BODY_LEN: usize = 43;

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Creates a token for `user_id` from the command line and returns it: the only
/// time it is seen. Recorded in the audit log with no actor.
pub async fn create(db: &PgPool, user_id: UserId, name: &str) -> Result<String, AppError> {
    create_by(db, None, user_id, name).await
}

/// Creates a token for `user_id` on behalf of `actor` (the holder, on the API
/// tokens page) and returns it; recorded in the audit log in the same transaction.
pub async fn create_by(db: &PgPool, actor: Option<Actor>, user_id: UserId, name: &str) -> Result<String, AppError> {
    crate::transact!(db, |tx| { insert(tx, actor, user_id, name).await })
}

/// Creates a token in the caller's transaction, audited there, and returns it.
pub async fn insert(tx: &mut PgConnection, actor: Option<Actor>, user_id: UserId, name: &str) -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    sqlx::query!("INSERT INTO api_tokens (user_id, name, token_hash) VALUES ($1, $2, $3)", user_id as UserId, name, digest(&token))
        .execute(&mut *tx)
        .await?;
    audit::record(&mut *tx, Entry { new: Some(json!({"token": name})), ..Entry::account(actor, user_id, "token.create") }).await?;
    Ok(token)
}

/// A token as its owner sees it listed (never the token itself).
#[derive(Debug, Clone)]
pub struct TokenInfo {
    /// Id.
    pub id: Uuid,
    /// Label.
    pub name: String,
    /// When it was made.
    pub created_at: time::OffsetDateTime,
    /// When it was last used.
    pub last_used_at: Option<time::OffsetDateTime>,
    /// When it was revoked.
    pub revoked_at: Option<time::OffsetDateTime>,
}

/// A user's tokens, newest first.
pub async fn list(db: impl PgExecutor<'_>, user_id: UserId) -> Result<Vec<TokenInfo>, AppError> {
    Ok(sqlx::query_as!(
        TokenInfo,
        "SELECT id, name, created_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC",
        user_id as UserId,
    )
    .fetch_all(db)
    .await?)
}

/// The holder revokes one of their tokens; false when it is not theirs or
/// already revoked. Recorded in the audit log.
pub async fn revoke_one(db: &PgPool, user_id: UserId, id: Uuid) -> Result<bool, AppError> {
    crate::transact!(db, |tx| {
        let name = sqlx::query_scalar!(
            "UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING name",
            id,
            user_id as UserId,
        )
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(name) = &name {
            audit::record(&mut *tx, Entry { old: Some(json!({"token": name})), ..Entry::account(Actor(user_id), user_id, "token.revoke") })
                .await?;
        }
        Ok(name.is_some())
    })
}

/// Revokes every live token of a user with this name (the command line);
/// returns how many. Each is recorded in the audit log with no actor.
pub async fn revoke(db: &PgPool, user_id: UserId, name: &str) -> Result<u64, AppError> {
    let mut tx = crate::db::tx::begin(db).await?;
    let revoked = sqlx::query_scalar!(
        "UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 AND name = $2 AND revoked_at IS NULL RETURNING name",
        user_id as UserId,
        name,
    )
    .fetch_all(&mut *tx)
    .await?;
    for name in &revoked {
        audit::record(&mut *tx, Entry { old: Some(json!({"token": name})), ..Entry::account(None, user_id, "token.revoke") }).await?;
    }
    tx.commit().await?;
    Ok(revoked.len() as u64)
}

/// Revokes every live token of a user (a password change or reset, which
/// records it in its own audit entry); returns how many.
pub async fn revoke_all(db: impl PgExecutor<'_>, user_id: UserId) -> Result<u64, AppError> {
    let done = sqlx::query!("UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL", user_id as UserId)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// The digest of the token an `Authorization: Bearer` header carries:
/// `Ok(None)` when there is no such header, an error when it is malformed.
pub fn bearer_digest(headers: &HeaderMap) -> Result<Option<Vec<u8>>, AppError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| AppError::BadToken("The Authorization header must be `Bearer <token>`.".into()))?;
    let well_formed = token.len() == PREFIX.len() + BODY_LEN
        && token.starts_with(PREFIX)
        && URL_SAFE_NO_PAD.decode(&token[PREFIX.len()..]).is_ok_and(|b| b.len() == 32);
    if !well_formed {
        return Err(AppError::BadToken(
            "This is not a standardise API token. Create one with `standardise token create --email YOU`.".into(),
        ));
    }
    Ok(Some(digest(token)))
}

/// The refusal for a well-formed token that does not let anyone in.
pub fn invalid_token() -> AppError {
    AppError::BadToken("This API token is not valid: it is unknown, revoked, or its account is deactivated.".into())
}

/// The user an `Authorization: Bearer` header names: `Ok(None)` when there is
/// no such header, an error when it is malformed, unknown or revoked.
pub async fn user_for_bearer(db: &PgPool, headers: &HeaderMap) -> Result<Option<User>, AppError> {
    let Some(digest) = bearer_digest(headers)? else {
        return Ok(None);
    };
    // One statement, a read: the live token and its active user.
    let row = sqlx::query_as!(
        LiveToken,
        r#"SELECT token_id AS "token_id!", last_used_at, user_id AS "user_id!", email AS "email!", name AS "name!",
                  is_admin AS "is_admin!", must_change_password AS "must_change_password!", created_at AS "created_at!",
                  sessions_valid_after AS "sessions_valid_after!"
           FROM live_api_tokens WHERE token_hash = $1"#,
        &digest[..],
    )
    .fetch_optional(db)
    .await?;
    let user = row.map(|token| token.admit(db));
    user.map(Some).ok_or_else(invalid_token)
}

/// A row of `live_api_tokens`: a token that lets someone in, with its user.
#[derive(Debug)]
pub struct LiveToken {
    /// The token.
    pub token_id: Uuid,
    /// When its use was last noted.
    pub last_used_at: Option<time::OffsetDateTime>,
    /// Its user, and what the request needs of them.
    pub user_id: Uuid,
    /// Email.
    pub email: String,
    /// Name.
    pub name: String,
    /// Administrator.
    pub is_admin: bool,
    /// Must choose a password before anything else.
    pub must_change_password: bool,
    /// When the account was made.
    pub created_at: time::OffsetDateTime,
    /// Sessions signed in before this are void.
    pub sessions_valid_after: time::OffsetDateTime,
}

impl LiveToken {
    /// The user the token lets in (the view lists only active accounts'
    /// tokens), its use noted.
    pub fn admit(self, db: &PgPool) -> User {
        note_use(db, self.token_id, self.last_used_at);
        User {
            id: self.user_id,
            email: self.email,
            name: self.name,
            is_admin: self.is_admin,
            active: true,
            must_change_password: self.must_change_password,
            created_at: self.created_at,
            sessions_valid_after: self.sessions_valid_after,
        }
    }
}

/// Tokens whose use this process noted in the last minute.
static NOTED: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<Uuid, std::time::Instant>>> =
    std::sync::LazyLock::new(Default::default);

/// Notes that a token was used, at most once a minute and off the request's
/// path: a request only reads its token (several connections using one token
/// never queue behind its row lock, and no request waits for a commit of its
/// own), and `last_used_at` stays right to the minute. `last_used_at` is what
/// the request read.
pub fn note_use(db: &PgPool, token_id: Uuid, last_used_at: Option<time::OffsetDateTime>) {
    const EVERY: std::time::Duration = std::time::Duration::from_secs(60);
    if last_used_at.is_some_and(|at| time::OffsetDateTime::now_utc() - at < EVERY) {
        return;
    }
    let Ok(mut noted) = NOTED.lock() else { return };
    if noted.get(&token_id).is_some_and(|at| at.elapsed() < EVERY) {
        return;
    }
    if noted.len() > 10_000 {
        noted.retain(|_, at| at.elapsed() < EVERY);
    }
    noted.insert(token_id, std::time::Instant::now());
    drop(noted);
    let db = db.clone();
    tokio::spawn(async move {
        let noted = sqlx::query!(
            "UPDATE api_tokens SET last_used_at = now()
             WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
            token_id,
        )
        .execute(&db)
        .await;
        if let Err(e) = noted {
            tracing::debug!(error = %e, "could not note an API token's use");
        }
    });
}
