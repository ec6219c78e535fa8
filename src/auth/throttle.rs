//! Sign-in throttling: after too many failures for one account within a
//! window, refuse further tries until the window passes. Counted in the
//! database so it holds across restarts and several server processes.

use sqlx::PgExecutor;
use std::time::Duration;

use crate::error::AppError;

/// Failed attempts for `email` in the window, since its last success.
pub async fn recent_failures(db: impl PgExecutor<'_>, email: &str, window: Duration) -> Result<i64, AppError> {
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM login_attempts
         WHERE email = $1 AND NOT succeeded
           AND at > greatest(now() - make_interval(secs => $2),
                             coalesce((SELECT max(at) FROM login_attempts WHERE email = $1 AND succeeded), '-infinity'))",
    )
    .bind(email)
    .bind(window.as_secs_f64())
    .fetch_one(db)
    .await?;
    Ok(count)
}

/// Records an attempt (a reset by an administrator counts as a success).
pub async fn record(db: impl PgExecutor<'_>, email: &str, succeeded: bool) -> Result<(), AppError> {
    sqlx::query("INSERT INTO login_attempts (email, succeeded) VALUES ($1, $2)")
        .bind(email)
        .bind(succeeded)
        .execute(db)
        .await?;
    Ok(())
}
