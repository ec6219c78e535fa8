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

/// Saves that arrive together are written together (one statement for all
/// that wait), yet each is answered as if it had been alone: a stale version
/// or a text PostgreSQL refuses fails only its own save, and two saves of the
/// same mark at once are taken one after the other.
#[tokio::test]
async fn saves_made_at_the_same_moment_are_each_answered_as_if_alone() {
    let f = crate::fixture::MeetingFixture::open().await;
    let markers: Vec<&crate::fixture::Person> = f.examiners.iter().chain([&f.leader]).collect();
    let responses: Vec<uuid::Uuid> = f.responses.iter().filter(|r| r.2 == "01").map(|r| r.0).collect();
    assert_eq!(responses.len(), 2);
    let draft =
        |mark: i32, version: i32, comment: &str| serde_json::json!({"level": 2, "mark": mark, "comment": comment, "version": version});
    for who in &markers {
        for rid in &responses {
            let r = f.put(who, &format!("/responses/{rid}/mark"), draft(5, 0, "first")).await;
            assert_eq!(r.status(), 200, "{:?}", r.text().await);
        }
    }
    let audit = f.audit_count().await;

    // Everyone's every response at once; among them a stale version, a NUL,
    // and the last marker's second response saved twice at the same moment.
    let mut saves = Vec::new();
    for (m, who) in markers.iter().enumerate() {
        for (r, rid) in responses.iter().enumerate() {
            let body = match (m, r) {
                (0, 0) => draft(6, 7, "stale"),
                (1, 1) => draft(6, 1, "not\u{0}text"),
                _ => draft(6, 1, "second"),
            };
            saves.push((*who, *rid, body));
        }
    }
    let twice = (markers[3], responses[1], draft(4, 1, "the same mark again"));
    saves.push(twice.clone());
    // ... and the second marker's first response through a token of their own.
    let second_token = f.app.token_for(&markers[1].user).await;
    saves.push((markers[1], responses[0], draft(3, 1, "through another token")));
    let f = &f;
    let second_token = &second_token;
    let answers = futures_util::future::join_all(saves.iter().enumerate().map(|(i, (who, rid, body))| async move {
        let r = if i == 9 {
            let url = format!("{}{}", who.api.base, f.url(&format!("/responses/{rid}/mark")));
            who.api.http.put(url).bearer_auth(second_token).json(body).send().await.unwrap()
        } else {
            f.put(who, &format!("/responses/{rid}/mark"), body.clone()).await
        };
        let status = r.status().as_u16();
        (status, r.json::<serde_json::Value>().await.unwrap())
    }))
    .await;

    let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses[0], 409, "the stale version: {:?}", answers[0].1);
    assert_eq!(statuses[3], 422, "the NUL: {:?}", answers[3].1);
    for i in [1, 4, 5, 6] {
        assert_eq!(statuses[i], 200, "save {i}: {:?}", answers[i].1);
        assert_eq!((answers[i].1["mark"].as_i64(), answers[i].1["version"].as_i64()), (Some(6), Some(2)), "save {i}");
    }
    // The same mark twice: one is written, the other finds it changed.
    let mut same_token = [statuses[7], statuses[8]];
    same_token.sort();
    assert_eq!(same_token, [200, 409], "{:?}", &answers[7..9]);
    let mut two_tokens = [statuses[2], statuses[9]];
    two_tokens.sort();
    assert_eq!(two_tokens, [200, 409], "{:?} {:?}", answers[2], answers[9]);
    // Every mark answered is the save's own.
    for (i, (status, body)) in answers.iter().enumerate() {
        if *status == 200 {
            assert_eq!(body["comment"], saves[i].2["comment"], "save {i} was answered with another save's mark");
        }
    }

    // What is stored is what was answered.
    let stored: Vec<(uuid::Uuid, uuid::Uuid, i32, i32)> =
        sqlx::query_as("SELECT examiner_id, response_id, mark, version FROM marks WHERE meeting_id = $1 AND response_id = ANY($2)")
            .bind(f.meeting)
            .bind(&responses)
            .fetch_all(&f.app.db.pool)
            .await
            .unwrap();
    assert_eq!(stored.len(), 8);
    for (examiner, response, mark, version) in stored {
        let m = markers.iter().position(|p| p.user.id == examiner).unwrap();
        let r = responses.iter().position(|id| *id == response).unwrap();
        let expected = match (m, r) {
            (0, 0) | (1, 1) => (5, 1),
            (3, 1) => (if statuses[7] == 200 { 6 } else { 4 }, 2),
            (1, 0) => (if statuses[2] == 200 { 6 } else { 3 }, 2),
            _ => (6, 2),
        };
        assert_eq!((mark, version), expected, "marker {m}, response {r}");
    }
    assert_eq!(f.audit_count().await, audit + 6, "one audit row per save written");
}
