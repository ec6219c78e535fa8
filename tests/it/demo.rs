//! The demonstration meeting: `standardise demo` on a fresh database gives the
//! dashboard something to show everywhere, once; the home page offers it to an
//! administrator while there are no papers.

use std::process::Command;

use serde_json::Value;
use standardise::{auth::password, users};
use uuid::Uuid;

use crate::helpers::*;

fn demo_command(db: &TestDb) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_standardise"))
        .arg("demo")
        .env("DATABASE_URL", database_url(&db.options))
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// Row counts of every table the demonstration writes to.
async fn counts(pool: &sqlx::PgPool) -> Vec<i64> {
    let mut n = Vec::new();
    for table in ["users", "papers", "scripts", "responses", "meetings", "meeting_participants", "marks", "definitive_marks", "audit_log"] {
        n.push(sqlx::query_scalar(&format!("SELECT count(*) FROM {table}")).fetch_one(pool).await.unwrap());
    }
    n
}

#[tokio::test]
async fn the_demo_command_fills_the_dashboard_and_refuses_a_second_run() {
    let db = TestDb::new().await;
    let out = demo_command(&db);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    // A new database gets its administrator first, then the ten demonstration accounts.
    assert!(stdout.contains("First start: an administrator account was created."), "{stdout}");
    for email in ["principal@demo.example", "team.leader@demo.example", "ben.carter@demo.example", "harry.ingram@demo.example"] {
        let line = stdout.lines().find(|l| l.contains(email)).unwrap_or_else(|| panic!("{email} printed: {stdout}"));
        let secret = line.split_whitespace().last().unwrap();
        assert_eq!(secret.len(), 16, "{line}");
    }
    let examiners: i64 =
        sqlx::query_scalar("SELECT count(*) FROM meeting_participants WHERE role = 'examiner'").fetch_one(&db.pool).await.unwrap();
    assert_eq!(examiners, 8);

    // The principal examiner reads the figures through the API.
    let meeting: Uuid = sqlx::query_scalar("SELECT id FROM meetings").fetch_one(&db.pool).await.unwrap();
    let email = users::Email::parse("principal@demo.example").unwrap();
    let pe = users::find_by_email(&db.pool, &email).await.unwrap().unwrap();
    let (addr, _server) = serve(db.pool.clone(), test_config()).await;
    let app_base = format!("http://{addr}");
    let token = standardise::auth::tokens::create(&db.pool, pe.user_id(), "test").await.unwrap();
    let stats: Value = reqwest::Client::new()
        .get(format!("{app_base}/api/v1/meetings/{meeting}/stats"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let flags_of = |email: &str| -> Vec<String> {
        let e = stats["examiners"].as_array().unwrap().iter().find(|e| e["email"] == email).unwrap_or_else(|| panic!("{email}"));
        e["flags"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_owned()).collect()
    };
    assert!(flags_of("ben.carter@demo.example").contains(&"severe".to_owned()), "{stats}");
    assert!(flags_of("daniel.evans@demo.example").contains(&"lenient".to_owned()), "{stats}");
    assert!(flags_of("farid.ghani@demo.example").contains(&"erratic".to_owned()), "{stats}");
    for steady in ["aisha.rahman@demo.example", "chloe.davies@demo.example", "emma.fitzgerald@demo.example", "grace.hughes@demo.example"] {
        assert!(flags_of(steady).is_empty(), "{steady} marks steadily");
    }
    let responses = stats["responses"].as_array().unwrap();
    assert_eq!(responses.len(), 36);
    assert!(responses.iter().filter(|r| r["discussion_rank"].is_number()).count() >= 5, "a discuss-next list");
    let undecided = responses.iter().filter(|r| r["definitive"].is_null()).count();
    assert!((2..=6).contains(&undecided), "some responses still to decide: {undecided}");
    let questions = stats["questions"].as_array().unwrap();
    assert_eq!(questions.len(), 3);
    for q in questions {
        let alpha = q["krippendorff_alpha_interval"].as_f64().unwrap_or_else(|| panic!("alpha for {}", q["number"]));
        assert!(alpha > 0.5 && alpha <= 1.0, "{q}");
    }

    // After the meeting: a qualification set, three examiners passed (one of them approved), the severe one failed.
    let states: Vec<(String, String)> = sqlx::query_as(
        "SELECT u.email, q.state FROM qualifications q JOIN users u ON u.id = q.examiner_id WHERE q.state <> 'in_progress' ORDER BY u.email",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let states: Vec<(&str, &str)> = states.iter().map(|(e, s)| (e.as_str(), s.as_str())).collect();
    assert_eq!(
        states,
        [
            ("aisha.rahman@demo.example", "approved"),
            ("ben.carter@demo.example", "failed"),
            ("chloe.davies@demo.example", "passed"),
            ("emma.fitzgerald@demo.example", "passed")
        ]
    );

    // The living scheme: one referral answered with an amendment (version 2 of the scheme), one waiting.
    let referrals: Vec<(String, bool)> =
        sqlx::query_as("SELECT state, amendment_id IS NOT NULL FROM referrals ORDER BY created_at").fetch_all(&db.pool).await.unwrap();
    assert_eq!(referrals, [("answered".to_owned(), true), ("open".to_owned(), false)]);
    let versions: i64 = sqlx::query_scalar("SELECT count(*) FROM scheme_versions").fetch_one(&db.pool).await.unwrap();
    assert_eq!(versions, 2);

    // The dashboard page shows the same, to the principal examiner signed in.
    let hash = password::hash(PASSWORD.into()).await.unwrap();
    users::set_password(&db.pool, pe.user_id(), &hash, false).await.unwrap();
    let c = Client {
        http: reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap(),
        base: app_base,
    };
    c.sign_in("principal@demo.example", PASSWORD).await;
    let page = c.text(&format!("/meetings/{meeting}/dashboard")).await;
    for needle in ["Ben Carter", "severe", "lenient", "erratic", "Discuss next", "α"] {
        assert!(page.contains(needle), "{needle} on the dashboard");
    }

    // A second run is refused and changes nothing.
    let before = counts(&db.pool).await;
    let again = demo_command(&db);
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already in this database") && stderr.contains("Nothing was changed"), "{stderr}");
    assert_eq!(counts(&db.pool).await, before);
}

#[tokio::test]
async fn the_demo_leaves_other_data_alone() {
    let app = spawn_app().await;
    let admin = app.admin_client().await;
    app.user("someone@board.example", "Someone Else", false, PASSWORD).await;
    let home = admin.text("/").await;
    assert!(home.contains("Load a demonstration meeting"), "offered while there are no papers");
    let r = admin.post("/demo", &[]).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("principal@demo.example") && page.contains("Open the dashboard"));
    let someone: (String, bool) = sqlx::query_as("SELECT name, must_change_password FROM users WHERE email = 'someone@board.example'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(someone, ("Someone Else".to_owned(), false));
    assert!(!admin.text("/").await.contains("Load a demonstration meeting"), "not offered once a paper exists");
    // A second click (say from an old tab) is refused with the page's navigation kept.
    let r = admin.post("/demo", &[]).await;
    assert_eq!(r.status(), 409);
    let body = r.text().await.unwrap();
    assert!(body.contains("already in this database") && body.contains("href=\"/papers\""), "the error page keeps the navigation: {body}");
    // Examiners cannot load it.
    let eve = app.client();
    eve.sign_in("someone@board.example", PASSWORD).await;
    let r = eve.post("/demo", &[]).await;
    assert_eq!(r.status(), 403);
    let body = r.text().await.unwrap();
    assert!(body.contains("href=\"/meetings\"") && !body.contains("href=\"/papers\""), "an examiner's navigation: {body}");
}
