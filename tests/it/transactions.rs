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

/// Once the server knows a response, an API draft save is one statement that
/// checks the token, the meeting and the caller's role itself: it must refuse
/// exactly as the checks before every other request do, and keep the mark,
/// its version and its audit entry right.
#[tokio::test]
async fn a_draft_saved_in_one_statement_checks_the_caller_as_every_request_does() {
    let f = crate::fixture::MeetingFixture::open().await;
    let rid = f.responses[0].0;
    let path = format!("/responses/{rid}/mark");
    let draft = |mark: i32, version: i32| serde_json::json!({"level": 2, "mark": mark, "comment": "first thoughts", "version": version});

    // The first save goes the long way; from then on the response is known.
    let first = f.put(&f.examiners[0], &path, draft(5, 0)).await;
    assert_eq!(first.status(), 200, "{:?}", first.text().await);
    let second = f.put(&f.examiners[0], &path, draft(6, 1)).await;
    assert_eq!(second.status(), 200);
    let stored: serde_json::Value = second.json().await.unwrap();
    assert_eq!((stored["mark"].as_i64(), stored["version"].as_i64()), (Some(6), Some(2)));
    assert_eq!(stored["examiner_id"], f.examiners[0].user.id.to_string());

    // Each refusal as the extractor gives it, and nothing written.
    let audit = f.audit_count().await;
    let code = |r: reqwest::Response| async move {
        let status = r.status().as_u16();
        let body: serde_json::Value = r.json().await.unwrap();
        (status, body["error"]["code"].as_str().unwrap_or_default().to_owned())
    };
    for (who, status) in [(&f.pe, 403), (&f.admin, 403), (&f.outsider, 403)] {
        assert_eq!(code(f.put(who, &path, draft(4, 0)).await).await.0, status, "{}", who.user.email);
    }
    // A PUT of a raw JSON body with any token to any address.
    let put_raw = |address: String, token: String, body: String| {
        let request = f.examiners[0].api.http.put(f.app.url(&address));
        async move { request.bearer_auth(token).header("content-type", "application/json").body(body).send().await.unwrap() }
    };
    let (mine, own_token, draft_body) = (f.url(&path), f.examiners[0].api.token.clone(), draft(4, 2).to_string());
    let unknown = format!("std_{}", "A".repeat(43));
    assert_eq!(code(put_raw(mine.clone(), unknown, draft_body.clone()).await).await, (401, "invalid_token".to_owned()));
    // Another meeting's id in the path: no such meeting.
    let elsewhere = format!("/api/v1/meetings/{}/responses/{rid}/mark", uuid::Uuid::new_v4());
    assert_eq!(put_raw(elsewhere, own_token.clone(), draft_body).await.status(), 404);
    // A stale version, a mark outside the level, and a body that is not JSON.
    assert_eq!(code(f.put(&f.examiners[0], &path, draft(4, 1)).await).await.0, 409);
    assert_eq!(code(f.put(&f.examiners[0], &path, draft(30, 2)).await).await.0, 422);
    assert_eq!(put_raw(mine.clone(), own_token, "{not json".into()).await.status(), 400);
    // ... but a caller who may not save hears that first, not what was wrong with the body.
    assert_eq!(put_raw(mine, f.pe.api.token.clone(), "{not json".into()).await.status(), 403);
    assert_eq!(f.audit_count().await, audit, "no refused save is audited");

    // A revoked token is refused at once.
    standardise::auth::tokens::revoke(&f.app.db.pool, f.examiners[1].user.user_id(), "test").await.unwrap();
    assert_eq!(code(f.put(&f.examiners[1], &path, draft(4, 0)).await).await.0, 401);

    // The audit names the examiner, with the old and new values.
    let (actor, old, new): (uuid::Uuid, serde_json::Value, serde_json::Value) = sqlx::query_as(
        "SELECT actor_id, old_value, new_value FROM audit_log WHERE meeting_id = $1 AND action = 'mark.draft' ORDER BY id DESC LIMIT 1",
    )
    .bind(f.meeting)
    .fetch_one(&f.app.db.pool)
    .await
    .unwrap();
    assert_eq!(actor, f.examiners[0].user.id);
    assert_eq!((old["mark"].as_i64(), new["mark"].as_i64()), (Some(5), Some(6)));

    // Once the script is released its marks are final, however the save goes.
    for (response, level, mark) in [(rid, 3, 8), (f.responses[1].0, 3, 14)] {
        let definitive = serde_json::json!({"level": level, "mark": mark, "rationale": "Agreed."});
        assert_eq!(f.put(&f.pe, &format!("/responses/{response}/definitive"), definitive).await.status(), 200);
    }
    assert_eq!(f.post(&f.pe, &format!("/responses/{rid}/release"), serde_json::json!({})).await.status(), 200);
    assert_eq!(code(f.put(&f.examiners[0], &path, draft(4, 2)).await).await.0, 409);
}
