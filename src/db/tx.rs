//! Transactions that a cancelled request cannot break, retried once when
//! PostgreSQL gives up on them (deadlock, serialization failure).

use sqlx::{PgPool, Postgres, Transaction};

use crate::{error::AppError, state::AppState};

/// What `transact!` runs on: a pool to begin on, and somewhere to publish the
/// live events of what it committed (`live::Publish`).
pub trait Source: crate::live::Publish {
    /// The pool.
    fn pool(&self) -> &PgPool;
}

impl Source for PgPool {
    fn pool(&self) -> &PgPool {
        self
    }
}

impl Source for AppState {
    fn pool(&self) -> &PgPool {
        &self.db
    }
}

impl crate::live::Publish for AppState {
    fn publish(&self, events: Vec<crate::live::Event>) {
        self.live.publish_events(events);
    }
}

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
/// `transact!(&state, |tx| { ...; Ok(value) })` (or `&pool`): inside, `tx` is a
/// `&mut PgConnection` and `?` returns from the attempt. The live events the
/// block raises (`live::notify`) are published only after the commit. A macro rather than a
/// function taking a closure, because a closure's future borrowing both the
/// transaction and the request cannot be proven `Send` for every lifetime.
#[macro_export]
macro_rules! transact {
    ($pool:expr, |$tx:ident| $body:block) => {{
        let mut attempt = 0;
        loop {
            attempt += 1;
            let source = $pool;
            let mut transaction = $crate::db::tx::begin($crate::db::tx::Source::pool(source)).await?;
            let (outcome, events): (Result<_, $crate::error::AppError>, _) = $crate::live::collecting(async {
                let $tx: &mut ::sqlx::PgConnection = &mut transaction;
                $body
            })
            .await;
            let outcome = match outcome {
                Ok(value) => transaction.commit().await.map(|()| value).map_err($crate::error::AppError::from),
                Err(e) => Err(e),
            };
            match outcome {
                Err(e) if e.is_retryable() && attempt == 1 => {
                    ::tracing::info!(error = %e, "transaction aborted by the database; running it again");
                }
                Ok(value) => {
                    $crate::live::Publish::publish(source, events);
                    break Ok(value);
                }
                other => break other,
            }
        }
    }};
}
