//! API tokens on `/api/v1`: valid, missing, malformed, revoked, deactivated.

use crate::helpers::*;
use serde_json::Value;

#[tokio::test]
async fn a_valid_token_identifies_the_caller() {
    let app = spawn_app().await;
    let ada = app.user("ada@board.example", "Ada Admin", true, PASSWORD).await;
    let token = app.token_for(&ada).await;
    let r = app.api(&token).get("/api/v1/me").await;
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    assert_eq!(me, serde_json::json!({"email": "ada@board.example", "name": "Ada Admin", "admin": true}));

    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM api_tokens").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(stored.len(), 32);
    assert!(!String::from_utf8_lossy(&stored).contains(&token[4..]), "only a hash is stored");

    // Its use is noted (off the request's path, so soon after rather than at once).
    let mut noted = None;
    for _ in 0..50 {
        noted = sqlx::query_scalar::<_, Option<time::OffsetDateTime>>("SELECT last_used_at FROM api_tokens")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
        if noted.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let noted = noted.expect("the token's last use is noted");
    assert!(time::OffsetDateTime::now_utc() - noted < time::Duration::minutes(1));
}

async fn error_of(r: reqwest::Response) -> (u16, Option<String>, Value) {
    let status = r.status().as_u16();
    let www = r.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
    (status, www, r.json().await.unwrap())
}

#[tokio::test]
async fn missing_malformed_and_revoked_tokens_get_401_json() {
    let app = spawn_app().await;
    let eve = app.user("eve@board.example", "Eve", false, PASSWORD).await;

    let r = reqwest::get(app.url("/api/v1/me")).await.unwrap();
    let (status, www, body) = error_of(r).await;
    assert_eq!(status, 401);
    assert_eq!(www.as_deref(), Some("Bearer"));
    assert_eq!(body["error"]["code"], "unauthenticated");

    for bad in ["nonsense", "std_tooshort", "std_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] {
        let (status, _, body) = error_of(app.api(bad).get("/api/v1/me").await).await;
        assert_eq!(status, 401, "{bad}");
        assert_eq!(body["error"]["code"], "invalid_token", "{bad}");
        assert!(body["error"]["message"].as_str().unwrap().len() > 10);
    }

    let r = reqwest::Client::new().get(app.url("/api/v1/me")).header("authorization", "Basic abc").send().await.unwrap();
    assert_eq!(error_of(r).await.0, 401);

    let token = app.token_for(&eve).await;
    assert_eq!(app.api(&token).get("/api/v1/me").await.status(), 200);
    standardise::auth::tokens::revoke(&app.db.pool, eve.user_id(), "test").await.unwrap();
    let (status, _, body) = error_of(app.api(&token).get("/api/v1/me").await).await;
    assert_eq!(status, 401);
    assert!(body["error"]["message"].as_str().unwrap().contains("revoked"));
}

#[tokio::test]
async fn a_deactivated_accounts_tokens_stop_working() {
    let app = spawn_app().await;
    let eve = app.user("eve@board.example", "Eve", false, PASSWORD).await;
    let token = app.token_for(&eve).await;
    standardise::users::set_active(&app.db.pool, None, eve.user_id(), false).await.unwrap();
    assert_eq!(app.api(&token).get("/api/v1/me").await.status(), 401);
}

#[tokio::test]
async fn the_api_ignores_session_cookies() {
    let app = spawn_app().await;
    app.user("eve@board.example", "Eve", false, PASSWORD).await;
    let c = app.client();
    c.sign_in("eve@board.example", PASSWORD).await;
    // A signed-in browser is not an API client: no cross-site use of the session.
    assert_eq!(c.get("/api/v1/me").await.status(), 401);
}

#[tokio::test]
async fn people_create_and_revoke_their_own_tokens_in_the_browser_pages() {
    let app = spawn_app().await;
    let ada = app.user("ada@board.example", "Ada", true, PASSWORD).await;
    let c = app.client();
    c.sign_in("ada@board.example", PASSWORD).await;
    let r = c.post("/account/tokens", &[("name", "board uploader")]).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let token = page.split("id=\"new-token\">").nth(1).and_then(|s| s.split('<').next()).unwrap().to_owned();
    assert!(token.starts_with("std_"));
    assert_eq!(app.api(&token).get("/api/v1/me").await.status(), 200);
    assert!(!c.text("/account/tokens").await.contains(&token), "shown only once");

    let id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM api_tokens WHERE user_id = $1").bind(ada.id).fetch_one(&app.db.pool).await.unwrap();
    // Someone else cannot revoke it.
    app.user("eve@board.example", "Eve", false, PASSWORD).await;
    let eve = app.client();
    eve.sign_in("eve@board.example", PASSWORD).await;
    assert_eq!(eve.post(&format!("/account/tokens/{id}/revoke"), &[]).await.status(), 404);
    assert_eq!(app.api(&token).get("/api/v1/me").await.status(), 200);
    assert_eq!(c.post(&format!("/account/tokens/{id}/revoke"), &[]).await.status(), 303);
    assert_eq!(app.api(&token).get("/api/v1/me").await.status(), 401);
}
