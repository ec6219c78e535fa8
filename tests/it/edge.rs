//! Bugs found on the way (issue 9): NUL characters, the database going away,
//! formulas in CSV exports, and sessions stored for nobody.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use serde_json::{Value, json};
use sqlx::{ConnectOptions, Connection};

use crate::{fixture::MeetingFixture, helpers::*};

const NUL: &str = "Text cannot contain the NUL character.";

async fn sessions(app: &TestApp) -> i64 {
    app.count("tower_sessions.session").await
}

#[tokio::test]
async fn nul_in_the_sign_in_email_is_a_clear_422_and_nothing_is_saved() {
    let app = spawn_app().await;
    app.user("ad@board.example", "Ada", true, PASSWORD).await;
    let c = app.client();
    let token = c.csrf("/login").await;
    for email in ["ad\0@board.example", "\0", "ad@board.example\0"] {
        let r = c.post_raw("/login", &[("csrf", &token), ("email", email), ("password", PASSWORD), ("next", "/")]).await;
        assert_eq!(r.status(), 422, "{email:?}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let body = r.text().await.unwrap();
        assert!(body.contains(NUL), "{body}");
        assert!(!body.contains('\0'), "the NUL is not echoed back");
    }
    assert_eq!(app.count("login_attempts").await, 0, "no attempt stored");
    assert_eq!(sessions(&app).await, 0, "no session stored");
    assert_eq!(c.get("/").await.status(), 303, "not signed in");
}

#[tokio::test]
async fn nul_in_any_api_text_is_a_422_never_a_500_and_nothing_is_saved() {
    let f = MeetingFixture::open().await;
    let ex = &f.examiners[0];
    let (q01, _, _) = &f.responses[0];

    // A mark's comment, as JSON's \u0000.
    let marks = f.app.count("marks").await;
    let audit = f.audit_count().await;
    let r = f.put(ex, &format!("/responses/{q01}/mark"), json!({"level": 3, "mark": 8, "comment": "fine\u{0}work"})).await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid");
    assert_eq!(body["error"]["message"], NUL);
    assert_eq!(f.app.count("marks").await, marks);
    assert_eq!(f.audit_count().await, audit);
    // Without the NUL the same mark is stored.
    let r = f.put(ex, &format!("/responses/{q01}/mark"), json!({"level": 3, "mark": 8, "comment": "fine work"})).await;
    assert_eq!(r.status(), 200);

    // A meeting's name.
    let script: uuid::Uuid = sqlx::query_scalar("SELECT id FROM scripts WHERE candidate = '0001'").fetch_one(&f.app.db.pool).await.unwrap();
    let meetings = f.app.count("meetings").await;
    let body = json!({
        "paper_id": f.paper,
        "name": "January\u{0} standardisation",
        "principal_examiner": "pe@board.example",
        "examiners": ["ex1@board.example"],
        "scripts": [{"script_id": script, "purpose": "practice"}],
    });
    let r = f.admin.api.post_json("/api/v1/meetings", &body).await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["message"], NUL);
    assert_eq!(f.app.count("meetings").await, meetings, "nothing saved");

    // A person's name on the accounts page.
    let users = f.app.count("users").await;
    let r = f.admin.web.post("/admin/users", &[("email", "nul@board.example"), ("name", "Nu\0ll")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains(NUL));
    assert_eq!(f.app.count("users").await, users);
}

/// Ends every connection the application has to its database, as a server
/// shutting down does (SQLSTATE 57P01 for whoever was using one).
async fn terminate_connections(admin: &mut sqlx::PgConnection, database: &str) {
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()")
        .bind(database)
        .execute(admin)
        .await
        .unwrap();
}

#[tokio::test]
async fn connections_terminated_by_the_server_answer_503_or_succeed_never_500() {
    let f = MeetingFixture::open().await;
    let mut admin = f.app.db.options.connect().await.unwrap();
    let pe_page = format!("/meetings/{}", f.meeting);

    // Right after every connection was cut.
    for _ in 0..3 {
        terminate_connections(&mut admin, &f.app.db.name).await;
        let r = f.pe.api.get(&f.url("/marks")).await;
        assert!(matches!(r.status().as_u16(), 200 | 503), "API: {}", r.status());
        let r = f.pe.web.get(&pe_page).await;
        assert!(matches!(r.status().as_u16(), 200 | 503), "page: {}", r.status());
    }

    // And cut again and again while requests are running.
    let stop = Arc::new(AtomicBool::new(false));
    let killer = {
        let stop = stop.clone();
        let name = f.app.db.name.clone();
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                terminate_connections(&mut admin, &name).await;
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
            admin.close().await.ok();
        })
    };
    let mut seen = Vec::new();
    let marks = f.url("/marks");
    for _ in 0..40 {
        let (a, b, c) = tokio::join!(f.pe.api.get(&marks), f.pe.web.get(&pe_page), f.examiners[0].api.get("/api/v1/me"));
        for r in [a, b, c] {
            let status = r.status().as_u16();
            let body = r.text().await.unwrap();
            assert!(matches!(status, 200 | 503), "{status}: {body}");
            seen.push(status);
        }
    }
    stop.store(true, Ordering::Relaxed);
    killer.await.unwrap();
    eprintln!(
        "while connections were cut: {} of {} requests succeeded, the others answered 503",
        seen.iter().filter(|s| **s == 200).count(),
        seen.len()
    );

    // And everything works again afterwards.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(f.pe.api.get(&f.url("/marks")).await.status(), 200);
    assert_eq!(f.pe.web.get(&pe_page).await.status(), 200);
}

/// Every row of a CSV body (the header too), each cell as a spreadsheet would read it.
fn csv_cells(csv: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(csv.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn formulas_in_csv_exports_are_neutralised() {
    let f = MeetingFixture::open().await;
    let formula = "=HYPERLINK(\"http://x\",\"y\")";
    let ex = &f.examiners[0];
    let (q01, _, _) = &f.responses[0];

    // A reopen reason in the audit log.
    assert_eq!(f.put(ex, &format!("/responses/{q01}/mark"), json!({"level": 3, "mark": 8, "submit": true})).await.status(), 200);
    let r = f.post(&f.pe, &format!("/responses/{q01}/reopen"), json!({"examiner": "ex1@board.example", "reason": formula})).await;
    assert_eq!(r.status(), 200);
    // An examiner whose name and email begin like formulas, with a mark.
    let sly = f.app.user("=1+2@board.example", "@SUM(1+1)*cmd|' /C calc'!A0", false, PASSWORD).await;
    let sly_api = f.app.api(&f.app.token_for(&sly).await);
    let r = f.post(&f.pe, "/people", json!({"examiners": ["=1+2@board.example"]})).await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let r = sly_api
        .http
        .put(format!("{}{}", sly_api.base, f.url(&format!("/responses/{q01}/mark"))))
        .bearer_auth(&sly_api.token)
        .json(&json!({"level": 3, "mark": 7, "submit": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A definitive mark, so the examiners' deviations (negative numbers) are figures.
    let r = f.put(&f.pe, &format!("/responses/{q01}/definitive"), json!({"level": 3, "mark": 8, "rationale": "r"})).await;
    assert_eq!(r.status(), 200);

    let audit = f.pe.web.text(&format!("/meetings/{}/audit.csv", f.meeting)).await;
    let cells = csv_cells(&audit);
    assert!(cells.iter().flatten().any(|c| c == &format!("'{formula}")), "{audit}");
    assert!(!cells.iter().flatten().any(|c| c.starts_with('=')), "{audit}");
    let api_audit = f.get(&f.pe, "/audit.csv").await.text().await.unwrap();
    assert_eq!(api_audit, audit, "the API's CSV is the same");

    let marks = f.pe.web.text(&format!("/meetings/{}/export/marks.csv", f.meeting)).await;
    let cells = csv_cells(&marks);
    assert!(cells.iter().flatten().any(|c| c == "'=1+2@board.example"), "{marks}");
    assert!(!cells.iter().flatten().any(|c| c.starts_with(['=', '+', '@'])), "{marks}");
    assert!(cells.iter().flatten().any(|c| c == "7"), "marks stay numbers: {marks}");

    let examiners = f.pe.web.text(&format!("/meetings/{}/export/examiners.csv", f.meeting)).await;
    let cells = csv_cells(&examiners);
    assert!(cells.iter().flatten().any(|c| c == "'@SUM(1+1)*cmd|' /C calc'!A0"), "{examiners}");
    assert!(cells.iter().flatten().any(|c| c == "-1.000"), "a negative number stays a number: {examiners}");
    assert!(!cells.iter().flatten().any(|c| c.starts_with(['=', '+', '@'])), "{examiners}");
}

#[tokio::test]
async fn people_who_have_not_signed_in_get_no_stored_session_but_the_form_is_still_protected() {
    let app = spawn_app().await;
    app.user("ad@board.example", "Ada", true, PASSWORD).await;

    // Visitors, and the same visitor again and again: nothing stored, no session cookie.
    for _ in 0..3 {
        let c = app.client();
        for _ in 0..3 {
            let r = c.get("/login").await;
            assert_eq!(r.status(), 200);
            let cookies: Vec<String> = r.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
            assert!(!cookies.iter().any(|c| c.starts_with("standardise_session=")), "{cookies:?}");
        }
        assert_eq!(c.get("/").await.status(), 303);
        assert_eq!(c.get("/no/such/page").await.status(), 404);
    }
    assert_eq!(sessions(&app).await, 0, "nobody signed in, nothing stored");

    // The sign-in cookie: strict, not readable by scripts.
    let r = app.client().get("/login").await;
    let cookie = r.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(cookie.starts_with("standardise_login="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");

    // Without the token, with a made-up one, or with another browser's: refused.
    let c = app.client();
    let mine = c.csrf("/login").await;
    let theirs = app.client().csrf("/login").await;
    assert_ne!(mine, theirs, "a token belongs to one browser's cookie");
    for token in [None, Some("forged"), Some(theirs.as_str())] {
        let mut form = vec![("email", "ad@board.example"), ("password", PASSWORD)];
        if let Some(token) = token {
            form.push(("csrf", token));
        }
        let r = c.post_raw("/login", &form).await;
        assert_eq!(r.status(), 403, "{token:?}");
        assert!(r.text().await.unwrap().contains("This form has expired or did not come from standardise"));
    }
    // The right token without its cookie (another site posting it) is no good either.
    let r = reqwest::Client::new()
        .post(app.url("/login"))
        .form(&[("csrf", mine.as_str()), ("email", "ad@board.example"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(sessions(&app).await, 0);

    // A wrong password shows the form again, still usable.
    let r = c.post_raw("/login", &[("csrf", &mine), ("email", "ad@board.example"), ("password", "wrong")]).await;
    assert_eq!(r.status(), 401);
    assert_eq!(csrf_in(&r.text().await.unwrap()).as_deref(), Some(mine.as_str()));
    assert_eq!(sessions(&app).await, 0);

    // Signing in works and stores exactly one session, with the session's own token from then on.
    let r = c.post_raw("/login", &[("csrf", &mine), ("email", "ad@board.example"), ("password", PASSWORD), ("next", "/")]).await;
    assert_eq!(r.status(), 303);
    let cookies: Vec<String> = r.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    assert!(cookies.iter().any(|c| c.starts_with("standardise_session=") && c.contains("SameSite=Lax")), "{cookies:?}");
    assert!(cookies.iter().any(|c| c.starts_with("standardise_login=") && c.contains("Max-Age=0")), "{cookies:?}");
    assert_eq!(sessions(&app).await, 1);
    let session_token = c.csrf("/admin/users").await;
    assert_ne!(session_token, mine);
    let r = c.post_raw("/admin/users", &[("csrf", &mine), ("email", "new@board.example"), ("name", "New")]).await;
    assert_eq!(r.status(), 403, "the sign-in token is good for signing in only");
    let r = c.post_raw("/admin/users", &[("csrf", &session_token), ("email", "new@board.example"), ("name", "New")]).await;
    assert_eq!(r.status(), 200);

    // Signing out ends the stored session.
    assert_eq!(c.post("/logout", &[]).await.status(), 303);
    assert_eq!(sessions(&app).await, 0);
}
