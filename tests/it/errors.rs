//! Errors render as HTML pages for pages and as JSON for the API.

use crate::helpers::*;
use serde_json::Value;

#[tokio::test]
async fn unknown_pages_get_an_html_404_and_unknown_api_paths_json() {
    let app = spawn_app().await;
    let r = reqwest::get(app.url("/no/such/page")).await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let body = r.text().await.unwrap();
    assert!(body.contains("<h1>Not Found</h1>") && body.contains("There is no page at this address."), "{body}");

    let r = reqwest::get(app.url("/api/v1/no-such-thing")).await.unwrap();
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    assert!(body["error"]["message"].is_string());
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    for path in ["/login", "/no/such/page", "/api/v1/me", "/static/style.css", "/healthz"] {
        let r = reqwest::get(app.url(path)).await.unwrap();
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert!(h.contains_key("x-request-id"), "{path}");
    }
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413() {
    let app = spawn_app().await;
    let c = app.client();
    let token = c.csrf("/login").await;
    let huge = "x".repeat(25 * 1024 * 1024);
    let r = c.post_raw("/login", &[("csrf", &token), ("email", &huge)]).await;
    assert_eq!(r.status(), 413);
    assert!(r.text().await.unwrap().contains("larger than"));

    let r = reqwest::Client::new().post(app.url("/api/v1/me")).body(huge).send().await.unwrap();
    assert_eq!(r.status(), 413);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");
}

#[tokio::test]
async fn wrong_method_is_a_clear_405() {
    let app = spawn_app().await;
    let r = reqwest::Client::new().delete(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
}

#[test]
fn server_errors_hide_internals_but_keep_a_reference() {
    use axum::response::IntoResponse;
    use standardise::error::{AppError, ErrorInfo};
    let r = AppError::Internal(anyhow::anyhow!("secret SQL detail")).into_response();
    assert_eq!(r.status(), 500);
    let info = r.extensions().get::<ErrorInfo>().unwrap();
    assert!(!info.message.contains("secret"));
    assert_eq!(info.code, "internal");
}

#[tokio::test]
async fn pages_are_never_cached_and_static_files_are_cached_under_versioned_urls() {
    let app = spawn_app().await;
    let admin = app.admin_client().await;
    // Back after Submit must show the page as it is now, not as it was.
    for path in ["/", "/meetings", "/papers", "/login", "/no/such/page"] {
        let r = admin.get(path).await;
        assert_eq!(r.headers()["cache-control"], "no-store", "{path}");
    }
    assert_eq!(reqwest::get(app.url("/api/v1/me")).await.unwrap().headers()["cache-control"], "no-store");
    let home = admin.text("/").await;
    let start = home.find("/static/style.css?v=").expect("the stylesheet's address carries a version");
    let href = &home[start..home[start..].find('"').unwrap() + start];
    let r = reqwest::get(app.url(href)).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "public, max-age=31536000, immutable");
}

#[tokio::test]
async fn nul_in_a_page_form_is_an_html_422_page_and_in_the_api_a_json_422() {
    let app = spawn_app().await;
    let admin = app.admin_client().await;
    let before = app.count("api_tokens").await;
    // Past the form's own checks, refused by the database: still the person's mistake, not ours.
    let r = admin.post("/account/tokens", &[("name", "uploader\0")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let body = r.text().await.unwrap();
    assert!(body.contains("Text cannot contain the NUL character."), "{body}");
    assert!(!body.contains("Something went wrong on our side"));
    assert_eq!(app.count("api_tokens").await, before, "nothing saved");

    // The API: a script's answer with \u0000 in it.
    let paper = app.sample_paper().await;
    let ada: standardise::users::User = sqlx::query_as(
        "SELECT id, email, name, is_admin, active, must_change_password, created_at, sessions_valid_after FROM users WHERE is_admin",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let api = app.api(&app.token_for(&ada).await);
    let scripts = app.count("scripts").await;
    let body = serde_json::json!({"candidate": "0001", "responses": [{"question": "01", "text": "Source A\u{0} shows"}]});
    let r = api.post_json(&format!("/api/v1/papers/{paper}/scripts"), &body).await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid");
    assert_eq!(body["error"]["message"], "Text cannot contain the NUL character.");
    assert_eq!(app.count("scripts").await, scripts, "nothing saved");
}

#[tokio::test]
async fn an_unknown_page_keeps_the_signed_in_navigation() {
    let app = spawn_app().await;
    let admin = app.admin_client().await;
    let r = admin.get("/no/such/page").await;
    assert_eq!(r.status(), 404);
    let body = r.text().await.unwrap();
    assert!(body.contains("aria-label=\"Main\"") && body.contains("/meetings"), "the navigation stays: {body}");
}
