//! Transactions that a cancelled request cannot break, retried once when
//! PostgreSQL gives up on them (deadlock, serialization failure).

use sqlx::{PgPool, Postgres, Transaction};

use crate::error::AppError;

/// Begins a transaction on a task of its own. A request whose client goes
/// away is dropped at its next `.await`; dropped between sending `BEGIN` and
/// noting that a transaction is open, its connection could go back to the pool
/// inside a transaction nobody ends, and every later borrower's statements
/// would fail or hold locks (sqlx issue 4393; sqlx 0.8.6 guards this itself).
/// On its own task the begin always runs to the end whatever the request does,
/// and a transaction nobody takes is dropped, which rolls it back before its
/// connection is reused.
pub async fn begin(pool: &PgPool) -> Result<Transaction<'static, Postgres>, AppError> {
    let pool = pool.clone();
    // The one place `Pool::begin` may be called (clippy.toml forbids it elsewhere).
    #[allow(clippy::disallowed_methods)]
    let begun = tokio::spawn(async move { pool.begin().await });
    begun.await.map_err(|e| AppError::Internal(e.into()))?.map_err(AppError::from)
}

/// Runs a block in a transaction and commits it; when PostgreSQL aborts the
/// transaction to break a deadlock or a serialization conflict, runs the
/// block once more from the start, and then answers 503 ("try again").
///
/// `transact!(&pool, |tx| { ...; Ok(value) })`: inside, `tx` is a
/// `&mut PgConnection` and `?` returns from the attempt. A macro rather than a
/// function taking a closure, because a closure's future borrowing both the
/// transaction and the request cannot be proven `Send` for every lifetime.
#[macro_export]
macro_rules! transact {
    ($pool:expr, |$tx:ident| $body:block) => {{
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut transaction = $crate::db::tx::begin($pool).await?;
            let outcome: Result<_, $crate::error::AppError> = async {
                let $tx: &mut ::sqlx::PgConnection = &mut transaction;
                $body
            }
            .await;
            let outcome = match outcome {
                Ok(value) => transaction.commit().await.map(|()| value).map_err($crate::error::AppError::from),
                Err(e) => Err(e),
            };
            match outcome {
                Err(e) if e.is_retryable() && attempt == 1 => {
                    ::tracing::info!(error = %e, "transaction aborted by the database; running it again");
                }
                other => break other,
            }
        }
    }};
}
