//! Transactions under pressure: a deadlock is retried once and both sides
//! succeed; a request cancelled while its transaction begins leaves no
//! connection inside a transaction.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use sqlx::{PgPool, postgres::PgPoolOptions};
use standardise::error::AppError;
use tokio::sync::Barrier;

use crate::helpers::*;

async fn scratch_table(pool: &PgPool) {
    sqlx::query("CREATE TABLE counters (id int PRIMARY KEY, n int NOT NULL)").execute(pool).await.unwrap();
    sqlx::query("INSERT INTO counters VALUES (1, 0), (2, 0)").execute(pool).await.unwrap();
}

/// Locks row `first` then row `second`, waiting at the barrier in between on
/// the first attempt only, so two of these in opposite orders deadlock once.
async fn cross(pool: PgPool, first: i32, second: i32, barrier: Arc<Barrier>, attempts: Arc<AtomicUsize>) -> Result<(), AppError> {
    standardise::transact!(&pool, |tx| {
        let attempt = attempts.fetch_add(1, Ordering::SeqCst);
        sqlx::query("UPDATE counters SET n = n + 1 WHERE id = $1").bind(first).execute(&mut *tx).await?;
        if attempt < 2 {
            barrier.wait().await;
        }
        sqlx::query("UPDATE counters SET n = n + 1 WHERE id = $1").bind(second).execute(&mut *tx).await?;
        Ok(())
    })
}

#[tokio::test]
async fn a_deadlock_is_retried_once_and_both_sides_succeed() {
    let db = TestDb::new().await;
    scratch_table(&db.pool).await;
    let barrier = Arc::new(Barrier::new(2));
    let attempts = Arc::new(AtomicUsize::new(0));
    let a = tokio::spawn(cross(db.pool.clone(), 1, 2, barrier.clone(), attempts.clone()));
    let b = tokio::spawn(cross(db.pool.clone(), 2, 1, barrier.clone(), attempts.clone()));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
    assert_eq!(attempts.load(Ordering::SeqCst), 3, "PostgreSQL broke the deadlock by aborting one side, which ran again");
    let total: i64 = sqlx::query_scalar("SELECT sum(n) FROM counters").fetch_one(&db.pool).await.unwrap();
    assert_eq!(total, 4, "each side's two updates, once");
}

/// Connections of this database sitting inside a transaction.
async fn idle_in_transaction(db: &TestDb) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()",
    )
    .bind(&db.name)
    .fetch_one(&db.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_request_cancelled_while_its_transaction_begins_leaves_no_connection_in_a_transaction() {
    let db = TestDb::new().await;
    // One connection, handed out without a ping, so a cancelled begin is the only thing that touches it.
    let pool = PgPoolOptions::new().max_connections(1).test_before_acquire(false).connect_with(db.options.clone()).await.unwrap();
    for round in 0..200u64 {
        // Cancelled at a different moment each round: sometimes before BEGIN is sent, sometimes while it is answered.
        let _ = tokio::time::timeout(Duration::from_micros(round * 7), standardise::db::tx::begin(&pool)).await;
    }
    // Let the begun-then-dropped transactions roll back as their connection is returned.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut conn = pool.acquire().await.unwrap();
    // A savepoint exists only inside a transaction block: refused here means no transaction was left open.
    let savepoint = sqlx::query("SAVEPOINT probe").execute(&mut *conn).await;
    assert!(savepoint.is_err(), "the pooled connection was left inside a transaction");
    drop(conn);
    assert_eq!(idle_in_transaction(&db).await, 0);
}
