//! Accounts: people who sign in, and the administrators' pages for them.

pub mod admin;

use serde::Serialize;
use serde_json::json;
use sqlx::{FromRow, PgConnection, PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    audit::{self, Actor, Entry},
    error::{AppError, NUL_MESSAGE, on_constraint},
};

crate::id_type! {
    /// An account's id.
    pub struct UserId;
}

/// A person with an account. The password hash is never loaded with it.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct User {
    /// Primary key (typed: [`User::user_id`]).
    pub id: Uuid,
    /// Lower-cased email, used to sign in.
    pub email: String,
    /// Name shown to others.
    pub name: String,
    /// Exam-board administrator: manages accounts, papers and meetings.
    pub is_admin: bool,
    /// Deactivated accounts cannot sign in or use tokens.
    pub active: bool,
    /// Holds a one-time password and must choose their own first.
    pub must_change_password: bool,
    /// When the account was made.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Browser sessions signed in before this are void (password changed or reset).
    #[serde(skip)]
    pub sessions_valid_after: OffsetDateTime,
}

impl User {
    /// The account's id.
    pub fn user_id(&self) -> UserId {
        UserId(self.id)
    }

    /// This person as the one making a change (for the audit log).
    pub fn actor(&self) -> Actor {
        Actor(self.user_id())
    }
}

/// A valid, normalised (trimmed, lower-case) email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Checks the shape of an address; says what is wrong if it is not one.
    pub fn parse(raw: &str) -> Result<Email, String> {
        if raw.contains('\0') {
            return Err(NUL_MESSAGE.into());
        }
        let email = raw.trim().to_lowercase();
        let valid = email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && !domain.is_empty() && !domain.contains('@') && !domain.starts_with('.')
            });
        if valid {
            Ok(Email(email))
        } else {
            let shown: String = raw.trim().chars().filter(|c| !c.is_control()).collect();
            Err(format!("\"{shown}\" is not an email address."))
        }
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A display name: trimmed, not empty, not absurdly long.
#[derive(Debug, Clone)]
pub struct DisplayName(String);

impl DisplayName {
    /// Checks a name typed into a form or given on the command line.
    pub fn parse(raw: &str) -> Result<DisplayName, String> {
        let name = raw.trim();
        if name.contains('\0') {
            Err(NUL_MESSAGE.into())
        } else if name.chars().any(char::is_control) {
            Err("A name cannot contain control characters such as tabs or line breaks.".into())
        } else if name.is_empty() {
            Err("Enter the person's name.".into())
        } else if name.chars().count() > 200 {
            Err("A name can be at most 200 characters.".into())
        } else {
            Ok(DisplayName(name.to_owned()))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The user with this id, active or not.
pub async fn find_by_id(db: impl PgExecutor<'_>, id: UserId) -> Result<Option<User>, AppError> {
    Ok(sqlx::query_as!(
        User,
        "SELECT id, email, name, is_admin, active, must_change_password, created_at, sessions_valid_after FROM users WHERE id = $1",
        id as UserId,
    )
    .fetch_optional(db)
    .await?)
}

/// The user with this email, and their password hash, for signing in.
pub async fn find_with_hash(db: impl PgExecutor<'_>, email: &Email) -> Result<Option<(User, String)>, AppError> {
    let row = sqlx::query!(
        "SELECT id, email, name, is_admin, active, must_change_password, created_at, sessions_valid_after, password_hash
         FROM users WHERE email = $1",
        email.as_str(),
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| {
        let user = User {
            id: r.id,
            email: r.email,
            name: r.name,
            is_admin: r.is_admin,
            active: r.active,
            must_change_password: r.must_change_password,
            created_at: r.created_at,
            sessions_valid_after: r.sessions_valid_after,
        };
        (user, r.password_hash)
    }))
}

/// The user with this email, active or not.
pub async fn find_by_email(db: impl PgExecutor<'_>, email: &Email) -> Result<Option<User>, AppError> {
    Ok(sqlx::query_as!(
        User,
        "SELECT id, email, name, is_admin, active, must_change_password, created_at, sessions_valid_after FROM users WHERE email = $1",
        email.as_str(),
    )
    .fetch_optional(db)
    .await?)
}

/// Every account, administrators first, then by name.
pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<User>, AppError> {
    Ok(sqlx::query_as!(
        User,
        "SELECT id, email, name, is_admin, active, must_change_password, created_at, sessions_valid_after
         FROM users ORDER BY active DESC, is_admin DESC, lower(name), email",
    )
    .fetch_all(db)
    .await?)
}

/// What a new account is made from.
pub struct NewUser<'a> {
    /// Sign-in address.
    pub email: &'a Email,
    /// Display name.
    pub name: &'a DisplayName,
    /// Argon2 hash of the first password.
    pub password_hash: &'a str,
    /// Administrator or not.
    pub is_admin: bool,
    /// Whether the first password is a one-time password.
    pub must_change_password: bool,
}

/// Creates an account and records it in the audit log as done by nobody in
/// particular (the command line); a taken email is a 409.
pub async fn create(db: &PgPool, new: NewUser<'_>) -> Result<User, AppError> {
    create_by(db, None, new).await
}

/// Creates an account on behalf of `actor` (an administrator), recorded in the
/// audit log in the same transaction; a taken email is a 409.
pub async fn create_by(db: &PgPool, actor: Option<Actor>, new: NewUser<'_>) -> Result<User, AppError> {
    crate::transact!(db, |tx| { insert(tx, actor, &new).await })
}

/// Creates an account in the caller's transaction (the demonstration), audited
/// there; a taken email is a 409.
pub async fn insert(tx: &mut PgConnection, actor: Option<Actor>, new: &NewUser<'_>) -> Result<User, AppError> {
    let user = sqlx::query_as!(
        User,
        "INSERT INTO users (email, name, password_hash, is_admin, must_change_password)
         VALUES ($1, $2, $3, $4, $5)
         RETURNING id, email, name, is_admin, active, must_change_password, created_at, sessions_valid_after",
        new.email.as_str(),
        new.name.as_str(),
        new.password_hash,
        new.is_admin,
        new.must_change_password,
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| on_constraint(e, "users_email_key", "An account with this email already exists."))?;
    audit::record(&mut *tx, Entry { new: Some(created(&user)), ..Entry::account(actor, user.user_id(), "account.create") }).await?;
    Ok(user)
}

/// What the audit log keeps about a new account.
fn created(user: &User) -> serde_json::Value {
    json!({"email": user.email, "name": user.name, "administrator": user.is_admin})
}

/// Creates the first administrator, only if there is no account at all
/// (one statement, so two processes starting together cannot both do it).
pub async fn create_first_admin(db: &PgPool, new: NewUser<'_>) -> Result<Option<User>, AppError> {
    let mut tx = crate::db::tx::begin(db).await?;
    let user = sqlx::query_as!(
        User,
        "INSERT INTO users (email, name, password_hash, is_admin, must_change_password)
         SELECT $1, $2, $3, true, true WHERE NOT EXISTS (SELECT 1 FROM users)
         RETURNING id, email, name, is_admin, active, must_change_password, created_at, sessions_valid_after",
        new.email.as_str(),
        new.name.as_str(),
        new.password_hash,
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(user) = &user {
        audit::record(&mut *tx, Entry { new: Some(created(user)), ..Entry::account(None, user.user_id(), "account.create_first_admin") })
            .await?;
    }
    tx.commit().await?;
    Ok(user)
}

/// What changing a password did.
#[derive(Debug, Clone, Copy)]
pub struct PasswordSet {
    /// Browser sessions signed in before this moment have ended.
    pub sessions_valid_after: OffsetDateTime,
    /// How many live API tokens were revoked.
    pub tokens_revoked: u64,
}

/// Replaces a password and nothing else; `one_time` makes the holder choose a
/// new one at sign-in. Every session signed in before now ends; returns that
/// moment. People's changes and resets go through [`replace_password`], which
/// also revokes API tokens and keeps the audit log.
pub async fn set_password(db: impl PgExecutor<'_>, id: UserId, hash: &str, one_time: bool) -> Result<OffsetDateTime, AppError> {
    Ok(sqlx::query_scalar!(
        "UPDATE users SET password_hash = $2, must_change_password = $3, updated_at = now(), sessions_valid_after = now()
         WHERE id = $1 RETURNING sessions_valid_after",
        id as UserId,
        hash,
        one_time,
    )
    .fetch_one(db)
    .await?)
}

/// Replaces a password, by the holder (`one_time` false: a change) or by an
/// administrator (`one_time` true: a reset to a one-time password, which the
/// holder must replace at sign-in). Either way, whoever had access loses it:
/// every session signed in before now ends and every API token of the account
/// is revoked. Recorded in the audit log, in the caller's transaction.
pub async fn replace_password(
    tx: &mut PgConnection,
    actor: Option<Actor>,
    id: UserId,
    hash: &str,
    one_time: bool,
) -> Result<PasswordSet, AppError> {
    let sessions_valid_after = set_password(&mut *tx, id, hash, one_time).await?;
    let tokens_revoked = crate::auth::tokens::revoke_all(&mut *tx, id).await?;
    let action = if one_time { "account.password_reset" } else { "account.password_change" };
    audit::record(&mut *tx, Entry { new: Some(json!({"api_tokens_revoked": tokens_revoked})), ..Entry::account(actor, id, action) })
        .await?;
    Ok(PasswordSet { sessions_valid_after, tokens_revoked })
}

/// Activates or deactivates an account on behalf of `actor`, recorded in the
/// audit log when it changes anything; `None` when there is no such account.
pub async fn set_active(db: &PgPool, actor: Option<Actor>, id: UserId, active: bool) -> Result<Option<User>, AppError> {
    crate::transact!(db, |tx| {
        let was = sqlx::query_scalar!("SELECT active FROM users WHERE id = $1 FOR UPDATE", id as UserId).fetch_optional(&mut *tx).await?;
        let Some(was) = was else {
            return Ok(None);
        };
        let user = sqlx::query_as!(
            User,
            "UPDATE users SET active = $2, updated_at = now() WHERE id = $1
             RETURNING id, email, name, is_admin, active, must_change_password, created_at, sessions_valid_after",
            id as UserId,
            active,
        )
        .fetch_one(&mut *tx)
        .await?;
        if was != active {
            let action = if active { "account.activate" } else { "account.deactivate" };
            audit::record(&mut *tx, Entry::account(actor, id, action)).await?;
        }
        Ok(Some(user))
    })
}
