//! Signing in and out, throttling, CSRF, one-time passwords, admin-only pages.

use crate::helpers::*;

#[tokio::test]
async fn sign_in_then_out() {
    let app = spawn_app().await;
    app.user("ex@board.example", "Eve Examiner", false, PASSWORD).await;
    let c = app.client();

    let r = c.get("/").await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/login?next=/");

    let r = c.sign_in_response("EX@board.example ", PASSWORD).await;
    assert_eq!(r.status(), 303, "email is case-insensitive and trimmed");
    assert_eq!(location(&r), "/");
    let home = c.text("/").await;
    assert!(home.contains("Welcome, Eve Examiner"), "{home}");

    let r = c.post("/logout", &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/login?signed_out=1");
    assert!(c.text("/login?signed_out=1").await.contains("You have signed out."));
    assert_eq!(c.get("/").await.status(), 303, "signed out: home needs signing in again");
}

#[tokio::test]
async fn sign_in_returns_to_the_page_asked_for_but_never_off_site() {
    let app = spawn_app().await;
    app.user("ad@board.example", "Ada", true, PASSWORD).await;
    let c = app.client();
    let token = c.csrf("/login?next=/admin/users").await;
    let r =
        c.post_raw("/login", &[("csrf", &token), ("email", "ad@board.example"), ("password", PASSWORD), ("next", "/admin/users")]).await;
    assert_eq!(location(&r), "/admin/users");

    let c = app.client();
    let token = c.csrf("/login").await;
    let r =
        c.post_raw("/login", &[("csrf", &token), ("email", "ad@board.example"), ("password", PASSWORD), ("next", "//evil.example/")]).await;
    assert_eq!(location(&r), "/");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_clear_refusal() {
    let app = spawn_app().await;
    app.user("ex@board.example", "Eve", false, PASSWORD).await;
    let c = app.client();

    for (email, secret) in [("ex@board.example", "not the password"), ("nobody@board.example", PASSWORD)] {
        let r = c.sign_in_response(email, secret).await;
        assert_eq!(r.status(), 401);
        let body = r.text().await.unwrap();
        assert!(body.contains("That email and password do not match an account."), "{body}");
        assert!(body.contains(&format!("value=\"{email}\"")), "the email stays in the form");
    }
    assert_eq!(c.get("/").await.status(), 303, "still signed out");

    let r = c.sign_in_response("", "").await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Enter your email address and your password."));
}

#[tokio::test]
async fn five_wrong_passwords_pause_the_account_until_an_admin_resets_it() {
    let app = spawn_app().await;
    let eve = app.user("ex@board.example", "Eve", false, PASSWORD).await;
    let c = app.client();
    for _ in 0..5 {
        assert_eq!(c.sign_in_response("ex@board.example", "guess").await.status(), 401);
    }
    // Even the right password is refused now, with a message saying what to do.
    let r = c.sign_in_response("ex@board.example", PASSWORD).await;
    assert_eq!(r.status(), 429);
    let body = r.text().await.unwrap();
    assert!(body.contains("Too many wrong passwords for this account"), "{body}");
    assert!(body.contains("15 minutes"));

    // Other accounts are not affected.
    app.user("other@board.example", "Otto", false, PASSWORD).await;
    app.client().sign_in("other@board.example", PASSWORD).await;

    // An administrator's reset lifts the pause; the one-time password works.
    let admin = app.admin_client().await;
    let r = admin.post(&format!("/admin/users/{}/reset-password", eve.id), &[]).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let otp = page.split("id=\"one-time-password\">").nth(1).and_then(|s| s.split('<').next()).unwrap().to_owned();
    let r = c.sign_in_response("ex@board.example", &otp).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/account/password", "a one-time password must be replaced first");
}

#[tokio::test]
async fn forms_without_the_right_csrf_token_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    app.user("ad@board.example", "Ada", true, PASSWORD).await;
    let c = app.client();

    // Sign-in form without a token, and with a wrong one.
    c.get("/login").await;
    for form in [
        vec![("email", "ad@board.example"), ("password", PASSWORD)],
        vec![("csrf", "forged"), ("email", "ad@board.example"), ("password", PASSWORD)],
    ] {
        let r = c.post_raw("/login", &form).await;
        assert_eq!(r.status(), 403);
        let body = r.text().await.unwrap();
        assert!(body.contains("This form has expired or did not come from standardise"), "{body}");
    }
    assert_eq!(c.get("/").await.status(), 303, "not signed in");

    // A signed-in administrator's form without the token creates nobody.
    c.sign_in("ad@board.example", PASSWORD).await;
    let r = c.post_raw("/admin/users", &[("email", "new@board.example"), ("name", "New")]).await;
    assert_eq!(r.status(), 403);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(count, 1);

    // A token from another session is no good either.
    let other = app.client();
    let foreign = other.csrf("/login").await;
    let r = c.post_raw("/admin/users", &[("csrf", &foreign), ("email", "new@board.example"), ("name", "New")]).await;
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn admin_creates_an_account_who_must_choose_a_password_first() {
    let app = spawn_app().await;
    let admin = app.admin_client().await;
    let r = admin.post("/admin/users", &[("email", "Pat@Board.example"), ("name", "Pat Principal")]).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("pat@board.example"));
    let otp = page.split("id=\"one-time-password\">").nth(1).and_then(|s| s.split('<').next()).unwrap().to_owned();

    let list = admin.text("/admin/users").await;
    assert!(list.contains("Pat Principal") && list.contains("Has a one-time password"));

    let pat = app.client();
    let r = pat.sign_in_response("pat@board.example", &otp).await;
    assert_eq!(location(&r), "/account/password");
    let r = pat.get("/").await;
    assert_eq!(location(&r), "/account/password", "nothing else until the password is changed");

    let token = pat.csrf("/account/password").await;
    let r = pat.post_raw("/account/password", &[("csrf", &token), ("current", &otp), ("new", "short"), ("confirm", "short")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("at least 10 characters"));
    let token = pat.csrf("/account/password").await;
    let r = pat
        .post_raw(
            "/account/password",
            &[("csrf", &token), ("current", &otp), ("new", "a new long secret"), ("confirm", "a new long secret")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let home = pat.text("/").await;
    assert!(home.contains("Your password has been changed."));
    assert!(home.contains("Welcome, Pat Principal"));

    let again = app.client();
    again.sign_in("pat@board.example", "a new long secret").await;
    assert_eq!(app.client().sign_in_response("pat@board.example", &otp).await.status(), 401, "the one-time password is spent");
}

#[tokio::test]
async fn duplicate_or_invalid_accounts_are_refused_with_reasons() {
    let app = spawn_app().await;
    let admin = app.admin_client().await;
    let r = admin.post("/admin/users", &[("email", "admin@board.example"), ("name", "Again")]).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("An account with this email already exists."));

    let r = admin.post("/admin/users", &[("email", "not-an-email"), ("name", "  ")]).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("is not an email address") && body.contains("Enter the person"), "{body}");

    // Missing fields altogether are a clear 422 too, and nothing is stored.
    let r = admin.post("/admin/users", &[]).await;
    assert_eq!(r.status(), 422);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn administration_pages_are_refused_to_examiners() {
    let app = spawn_app().await;
    let target = app.user("other@board.example", "Otto", false, PASSWORD).await;
    app.user("ex@board.example", "Eve", false, PASSWORD).await;
    let c = app.client();
    c.sign_in("ex@board.example", PASSWORD).await;

    for path in ["/admin/users", "/admin/users/new"] {
        let r = c.get(path).await;
        assert_eq!(r.status(), 403, "{path}");
        assert!(r.text().await.unwrap().contains("Only exam-board administrators can do this."));
    }
    for path in
        ["/admin/users".to_owned(), format!("/admin/users/{}/deactivate", target.id), format!("/admin/users/{}/reset-password", target.id)]
    {
        let r = c.post(&path, &[("email", "x@board.example"), ("name", "X")]).await;
        assert_eq!(r.status(), 403, "{path}");
    }
    let active: bool = sqlx::query_scalar("SELECT active FROM users WHERE id = $1").bind(target.id).fetch_one(&app.db.pool).await.unwrap();
    assert!(active);
}

#[tokio::test]
async fn deactivating_an_account_ends_its_session_and_blocks_sign_in() {
    let app = spawn_app().await;
    let admin = app.admin_client().await;
    let eve = app.user("ex@board.example", "Eve", false, PASSWORD).await;
    let c = app.client();
    c.sign_in("ex@board.example", PASSWORD).await;
    assert_eq!(c.get("/").await.status(), 200);

    let r = admin.post(&format!("/admin/users/{}/deactivate", eve.id), &[]).await;
    assert_eq!(location(&r), "/admin/users");
    assert!(admin.text("/admin/users").await.contains("Eve (ex@board.example) has been deactivated."));

    assert_eq!(c.get("/").await.status(), 303, "the open session ended");
    let r = app.client().sign_in_response("ex@board.example", PASSWORD).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("This account has been deactivated."));

    // Administrators cannot lock themselves out.
    let me: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE is_admin").fetch_one(&app.db.pool).await.unwrap();
    let r = admin.post(&format!("/admin/users/{me}/deactivate"), &[]).await;
    assert_eq!(r.status(), 409);

    admin.post(&format!("/admin/users/{}/activate", eve.id), &[]).await;
    app.client().sign_in("ex@board.example", PASSWORD).await;
}

#[tokio::test]
async fn an_idle_session_expires() {
    let mut config = test_config();
    config.session_idle = std::time::Duration::from_secs(1);
    let app = spawn_app_with(config).await;
    app.user("ex@board.example", "Eve", false, PASSWORD).await;
    let c = app.client();
    c.sign_in("ex@board.example", PASSWORD).await;
    assert_eq!(c.get("/").await.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = c.get("/").await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/login?next=/");
}

#[tokio::test]
async fn session_cookie_is_http_only_and_same_site_lax() {
    let app = spawn_app().await;
    app.user("ex@board.example", "Eve", false, PASSWORD).await;
    // The session cookie comes with signing in (nobody signed out has a session).
    let session_cookie = |r: &reqwest::Response| {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("standardise_session="))
            .unwrap_or("")
            .to_owned()
    };
    let r = app.client().sign_in_response("ex@board.example", PASSWORD).await;
    let cookie = session_cookie(&r);
    assert!(cookie.starts_with("standardise_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "not Secure unless configured for https");

    let mut config = test_config();
    config.secure_cookies = true;
    let app = spawn_app_with(config).await;
    app.user("ex@board.example", "Eve", false, PASSWORD).await;
    // Over https the sign-in cookie is Secure and __Host- prefixed; build the
    // request by hand, as reqwest keeps Secure cookies for https only.
    let r = app.client().get("/login").await;
    let login = r.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(login.starts_with("__Host-standardise_login=") && login.contains("Secure") && login.contains("Path=/"), "{login}");
    let value = login.split(';').next().unwrap().to_owned();
    let token = csrf_in(&r.text().await.unwrap()).unwrap();
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url("/login"))
        .header("cookie", value)
        .form(&[("csrf", token.as_str()), ("email", "ex@board.example"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let cookie = session_cookie(&r);
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn many_guesses_at_once_are_still_throttled() {
    let app = spawn_app().await;
    app.user("ex@board.example", "Eve", false, PASSWORD).await;
    let mut guesses = Vec::new();
    for i in 0..12 {
        let c = app.client();
        guesses.push(tokio::spawn(async move { c.sign_in_response("ex@board.example", &format!("guess {i}")).await.status().as_u16() }));
    }
    let mut statuses = Vec::new();
    for g in guesses {
        statuses.push(g.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 5, "only five guesses are ever checked: {statuses:?}");
    assert_eq!(app.client().sign_in_response("ex@board.example", PASSWORD).await.status(), 429);
}

#[tokio::test]
async fn a_password_reset_ends_sessions_and_revokes_tokens() {
    let app = spawn_app().await;
    let admin = app.admin_client().await;
    let eve = app.user("ex@board.example", "Eve", false, PASSWORD).await;
    let token = app.token_for(&eve).await;
    let c = app.client();
    c.sign_in("ex@board.example", PASSWORD).await;
    assert_eq!(c.get("/").await.status(), 200);
    assert_eq!(admin.post(&format!("/admin/users/{}/reset-password", eve.id), &[]).await.status(), 200);
    assert_eq!(c.get("/").await.status(), 303, "the old session ended");
    assert_eq!(app.api(&token).get("/api/v1/me").await.status(), 401, "the token was revoked");

    // Changing one's own password keeps this session and ends the others.
    app.user("other@board.example", "Otto", false, PASSWORD).await;
    let (first, second) = (app.client(), app.client());
    first.sign_in("other@board.example", PASSWORD).await;
    second.sign_in("other@board.example", PASSWORD).await;
    let token = first.csrf("/account/password").await;
    let r = first
        .post_raw(
            "/account/password",
            &[("csrf", &token), ("current", PASSWORD), ("new", "a fresh long secret"), ("confirm", "a fresh long secret")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(first.get("/").await.status(), 200);
    assert_eq!(second.get("/").await.status(), 303);
}

#[tokio::test]
async fn changing_your_own_password_revokes_your_api_tokens() {
    let app = spawn_app().await;
    let eve = app.user("ex@board.example", "Eve", false, PASSWORD).await;
    let first = app.token_for(&eve).await;
    let second = app.token_for(&eve).await;
    let other = app.user("other@board.example", "Otto", false, PASSWORD).await;
    let others = app.token_for(&other).await;
    let c = app.client();
    c.sign_in("ex@board.example", PASSWORD).await;
    assert_eq!(app.api(&first).get("/api/v1/me").await.status(), 200);

    let page = c.text("/account/password").await;
    assert!(page.contains("also revokes your API tokens"), "the page says so: {page}");
    let token = csrf_in(&page).unwrap();
    let r = c
        .post_raw(
            "/account/password",
            &[("csrf", &token), ("current", PASSWORD), ("new", "a fresh long secret"), ("confirm", "a fresh long secret")],
        )
        .await;
    assert_eq!(r.status(), 303);
    for t in [&first, &second] {
        assert_eq!(app.api(t).get("/api/v1/me").await.status(), 401, "revoked with the change");
    }
    assert_eq!(app.api(&others).get("/api/v1/me").await.status(), 200, "nobody else's");
    let home = c.text("/").await;
    assert!(home.contains("your 2 API tokens have been revoked"), "{home}");

    // A refused change (wrong current password) revokes nothing.
    let fresh = app.token_for(&eve).await;
    let token = c.csrf("/account/password").await;
    let r = c
        .post_raw(
            "/account/password",
            &[("csrf", &token), ("current", "wrong"), ("new", "another secret!"), ("confirm", "another secret!")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(app.api(&fresh).get("/api/v1/me").await.status(), 200);
}

/// The rows of the administrators' audit page, as text without tags.
fn audit_rows(html: &str) -> Vec<String> {
    let tags = regex::Regex::new(r"<[^>]*>").unwrap();
    html.split("<tr id=\"entry-")
        .skip(1)
        .map(|row| tags.replace_all(row.split("</tr>").next().unwrap(), " ").split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[tokio::test]
async fn account_changes_are_in_the_administrators_audit_log() {
    let app = spawn_app().await;
    let admin = app.admin_client().await;
    assert!(admin.text("/admin/users").await.contains("href=\"/admin/audit\""), "linked from the Accounts page");

    // Created by the administrator.
    let r = admin.post("/admin/users", &[("email", "pat@board.example"), ("name", "Pat Principal")]).await;
    assert_eq!(r.status(), 200);
    let otp = r.text().await.unwrap().split("id=\"one-time-password\">").nth(1).and_then(|s| s.split('<').next()).unwrap().to_owned();
    let pat: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM users WHERE email = 'pat@board.example'").fetch_one(&app.db.pool).await.unwrap();
    // Pat changes the one-time password, makes a token and revokes it.
    let c = app.client();
    c.sign_in("pat@board.example", &otp).await;
    let token = c.csrf("/account/password").await;
    let r = c
        .post_raw("/account/password", &[("csrf", &token), ("current", &otp), ("new", "pats own secret"), ("confirm", "pats own secret")])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(c.post("/account/tokens", &[("name", "uploader")]).await.status(), 200);
    let id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM api_tokens WHERE user_id = $1").bind(pat).fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(c.post(&format!("/account/tokens/{id}/revoke"), &[]).await.status(), 303);
    // The administrator resets the password, deactivates and reactivates the account.
    let r = admin.post(&format!("/admin/users/{pat}/reset-password"), &[]).await;
    assert_eq!(r.status(), 200);
    let otp = r.text().await.unwrap().split("id=\"one-time-password\">").nth(1).and_then(|s| s.split('<').next()).unwrap().to_owned();
    assert_eq!(admin.post(&format!("/admin/users/{pat}/deactivate"), &[]).await.status(), 303);
    assert_eq!(admin.post(&format!("/admin/users/{pat}/deactivate"), &[]).await.status(), 303, "again: no change, no entry");
    assert_eq!(admin.post(&format!("/admin/users/{pat}/activate"), &[]).await.status(), 303);

    let rows = audit_rows(&admin.text("/admin/audit").await);
    let about_pat: Vec<&String> = rows.iter().filter(|r| r.contains("Account of Pat Principal (pat@board.example)")).collect();
    let expected = [
        ("Ada Admin (admin@board.example)", "Reactivated the account"),
        ("Ada Admin (admin@board.example)", "Deactivated the account"),
        ("Ada Admin (admin@board.example)", "Reset the password to a one-time password"),
        ("Pat Principal (pat@board.example)", "Revoked an API token token: uploader"),
        ("Pat Principal (pat@board.example)", "Created an API token token: uploader"),
        ("Pat Principal (pat@board.example)", "Changed their own password api tokens revoked: 0"),
        ("Ada Admin (admin@board.example)", "Created the account"),
    ];
    assert_eq!(about_pat.len(), expected.len(), "newest first: {about_pat:#?}");
    for (row, (who, what)) in about_pat.iter().zip(expected) {
        assert!(row.contains(who) && row.contains(what), "{row:?} should say {who} / {what}");
    }
    assert!(about_pat.last().unwrap().contains("email: pat@board.example"), "{:?}", about_pat.last());
    assert!(!rows.iter().any(|r| r.contains('{')), "words, not JSON: {rows:#?}");
    // The administrator's own account, made outside the pages, is there too, by nobody in particular.
    assert!(rows.iter().any(|r| r.contains("standardise itself") && r.contains("Account of Ada Admin")), "{rows:#?}");

    // Meetings' own entries are not mixed in, and meetings' lists do not show these.
    let meeting_entries: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE meeting_id IS NOT NULL").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(meeting_entries, 0);

    // Nobody but administrators.
    c.sign_in("pat@board.example", &otp).await;
    let r = c.get("/admin/audit").await;
    assert_eq!(r.status(), 303, "a reset password must be changed first");
    app.user("ex@board.example", "Eve", false, PASSWORD).await;
    let eve = app.client();
    eve.sign_in("ex@board.example", PASSWORD).await;
    let r = eve.get("/admin/audit").await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("Only exam-board administrators can do this."));
    let r = app.client().get("/admin/audit").await;
    assert_eq!(location(&r), "/login?next=/admin/audit");
}

#[tokio::test]
async fn the_administrators_audit_log_pages_by_a_hundred() {
    let app = spawn_app().await;
    let admin = app.admin_client().await;
    let eve = app.user("ex@board.example", "Eve", false, PASSWORD).await;
    // As the command line does it: 150 tokens, each recorded with no actor (plus the two accounts).
    for i in 0..150 {
        standardise::auth::tokens::create(&app.db.pool, eve.user_id(), &format!("t{i:03}")).await.unwrap();
    }
    let first = admin.text("/admin/audit").await;
    let rows = audit_rows(&first);
    assert_eq!(rows.len(), 100);
    assert!(rows[0].contains("token: t149") && rows[99].contains("token: t050"), "newest first: {} .. {}", rows[0], rows[99]);
    assert!(!first.contains(">Newer<") && !first.contains(">Newest<"));
    let older =
        first.split("href=\"").find_map(|s| s.split_once("\" rel=\"next\"").map(|(h, _)| h.replace("&amp;", "&"))).expect("an Older link");
    let second = admin.text(&older).await;
    let rows = audit_rows(&second);
    assert_eq!(rows.len(), 52, "50 tokens and 2 accounts");
    assert!(rows[0].contains("token: t049"));
    assert!(!second.contains(" rel=\"next\""), "nothing older");
    let newer = second.split("href=\"").find_map(|s| s.split_once("\" rel=\"prev\"").map(|(h, _)| h.to_owned())).expect("a Newer link");
    let back = admin.text(&newer).await;
    assert_eq!(audit_rows(&back), audit_rows(&first), "Newer leads back to the first page");
}
