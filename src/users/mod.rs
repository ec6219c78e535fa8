//! Accounts: people who sign in, and the administrators' pages for them.

pub mod admin;

use serde::Serialize;
use sqlx::{FromRow, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::{AppError, on_constraint};

/// A person with an account. The password hash is never loaded with it.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct User {
    /// Primary key.
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

/// A valid, normalised (trimmed, lower-case) email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Checks the shape of an address; says what is wrong if it is not one.
    pub fn parse(raw: &str) -> Result<Email, String> {
        let email = raw.trim().to_lowercase();
        let valid = email.len() <= 254
            && !email.chars().any(char::is_whitespace)
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && !domain.is_empty() && !domain.contains('@') && !domain.starts_with('.')
            });
        if valid { Ok(Email(email)) } else { Err(format!("\"{}\" is not an email address.", raw.trim())) }
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
        if name.is_empty() {
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

const USER_COLUMNS: &str = "id, email, name, is_admin, active, must_change_password, created_at, sessions_valid_after";

/// The user with this id, active or not.
pub async fn find_by_id(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<User>, AppError> {
    Ok(sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1")).bind(id).fetch_optional(db).await?)
}

/// The user with this email, and their password hash, for signing in.
pub async fn find_with_hash(db: impl PgExecutor<'_>, email: &Email) -> Result<Option<(User, String)>, AppError> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: User,
        password_hash: String,
    }
    let row: Option<Row> = sqlx::query_as(&format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1"))
        .bind(email.as_str())
        .fetch_optional(db)
        .await?;
    Ok(row.map(|r| (r.user, r.password_hash)))
}

/// The user with this email, active or not.
pub async fn find_by_email(db: impl PgExecutor<'_>, email: &Email) -> Result<Option<User>, AppError> {
    Ok(sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1")).bind(email.as_str()).fetch_optional(db).await?)
}

/// Every account, administrators first, then by name.
pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<User>, AppError> {
    Ok(sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY active DESC, is_admin DESC, lower(name), email"))
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

/// Creates an account; a taken email is a 409.
pub async fn create(db: impl PgExecutor<'_>, new: NewUser<'_>) -> Result<User, AppError> {
    sqlx::query_as(&format!(
        "INSERT INTO users (email, name, password_hash, is_admin, must_change_password)
         VALUES ($1, $2, $3, $4, $5) RETURNING {USER_COLUMNS}"
    ))
    .bind(new.email.as_str())
    .bind(new.name.as_str())
    .bind(new.password_hash)
    .bind(new.is_admin)
    .bind(new.must_change_password)
    .fetch_one(db)
    .await
    .map_err(|e| on_constraint(e, "users_email_key", "An account with this email already exists."))
}

/// Creates the first administrator, only if there is no account at all
/// (one statement, so two processes starting together cannot both do it).
pub async fn create_first_admin(db: impl PgExecutor<'_>, new: NewUser<'_>) -> Result<Option<User>, AppError> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO users (email, name, password_hash, is_admin, must_change_password)
         SELECT $1, $2, $3, true, true WHERE NOT EXISTS (SELECT 1 FROM users)
         RETURNING {USER_COLUMNS}"
    ))
    .bind(new.email.as_str())
    .bind(new.name.as_str())
    .bind(new.password_hash)
    .fetch_optional(db)
    .await?)
}

/// Replaces a password; `one_time` makes the holder choose a new one at
/// sign-in. Every session signed in before now ends; returns that moment.
pub async fn set_password(db: impl PgExecutor<'_>, id: Uuid, hash: &str, one_time: bool) -> Result<OffsetDateTime, AppError> {
    Ok(sqlx::query_scalar(
        "UPDATE users SET password_hash = $2, must_change_password = $3, updated_at = now(), sessions_valid_after = now()
         WHERE id = $1 RETURNING sessions_valid_after",
    )
    .bind(id)
    .bind(hash)
    .bind(one_time)
    .fetch_one(db)
    .await?)
}

/// Activates or deactivates an account.
pub async fn set_active(db: impl PgExecutor<'_>, id: Uuid, active: bool) -> Result<Option<User>, AppError> {
    Ok(sqlx::query_as(&format!("UPDATE users SET active = $2, updated_at = now() WHERE id = $1 RETURNING {USER_COLUMNS}"))
        .bind(id)
        .bind(active)
        .fetch_optional(db)
        .await?)
}
