//! Sign-in throttling: after too many failures for one account within a
//! window, refuse further tries until the window passes. Counted in the
//! database so it holds across restarts and several server processes.

use sqlx::{PgExecutor, PgPool};
use std::time::Duration;

use crate::error::AppError;

/// Failed attempts for `email` in the window, since its last success.
pub async fn recent_failures(db: impl PgExecutor<'_>, email: &str, window: Duration) -> Result<i64, AppError> {
    let count = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM login_attempts
           WHERE email = $1 AND NOT succeeded
             AND at > greatest(now() - make_interval(secs => $2),
                               coalesce((SELECT max(at) FROM login_attempts WHERE email = $1 AND succeeded), '-infinity'))"#,
        email,
        window.as_secs_f64(),
    )
    .fetch_one(db)
    .await?;
    Ok(count)
}

/// Records an attempt (a reset by an administrator counts as a success).
pub async fn record(db: impl PgExecutor<'_>, email: &str, succeeded: bool) -> Result<(), AppError> {
    sqlx::query!("INSERT INTO login_attempts (email, succeeded) VALUES ($1, $2)", email, succeeded).execute(db).await?;
    Ok(())
}

/// Counts recent failures and, unless throttled, records this attempt as a
/// failure (until `succeeded` says otherwise), under a per-account lock: many
/// guesses sent at once are counted one after another. Returns the attempt's
/// id, or None when the account is paused.
pub async fn begin(db: &PgPool, email: &str, max_failures: i64, window: Duration) -> Result<Option<i64>, AppError> {
    crate::transact!(db, |tx| {
        sqlx::query!("SELECT FROM pg_advisory_xact_lock(hashtext($1))", email).execute(&mut *tx).await?;
        if recent_failures(&mut *tx, email, window).await? >= max_failures {
            return Ok(None);
        }
        let id = sqlx::query_scalar!("INSERT INTO login_attempts (email, succeeded) VALUES ($1, false) RETURNING id", email)
            .fetch_one(&mut *tx)
            .await?;
        Ok(Some(id))
    })
}

/// Marks an attempt begun with `begin` as a success.
pub async fn succeeded(db: impl PgExecutor<'_>, attempt: i64) -> Result<(), AppError> {
    sqlx::query!("UPDATE login_attempts SET succeeded = true WHERE id = $1", attempt).execute(db).await?;
    Ok(())
}
