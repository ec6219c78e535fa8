//! Browser tests: real headless Chromium through chromedriver (WebDriver).
//! Without Chromium they print one line and skip, unless
//! `STANDARDISE_BROWSER_REQUIRED=1` (set by CI, which installs it): then they fail.

use std::{process::Stdio, time::Duration};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::helpers::*;

/// A chromedriver process and a browser session; both end with the value.
pub struct Browser {
    pub client: Client,
    driver: std::process::Child,
    _profile: TempDir,
}

struct TempDir(std::path::PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn binary(env: &str, default: &str) -> String {
    std::env::var(env).unwrap_or_else(|_| default.to_owned())
}

impl Browser {
    /// A browser, or `None` (after one line saying why) when Chromium is not
    /// installed and not required.
    pub async fn start() -> Option<Browser> {
        let chromedriver = binary("CHROMEDRIVER", "/usr/bin/chromedriver");
        let chromium = binary("CHROMIUM", "/usr/bin/chromium");
        if !(std::path::Path::new(&chromedriver).exists() && std::path::Path::new(&chromium).exists()) {
            let required = std::env::var("STANDARDISE_BROWSER_REQUIRED").is_ok_and(|v| v == "1");
            let why =
                format!("no {chromium} or {chromedriver}: apt-get install -y chromium chromium-driver (or set CHROMIUM/CHROMEDRIVER)");
            assert!(!required, "STANDARDISE_BROWSER_REQUIRED=1 but {why}");
            eprintln!("skipped browser test: {why}");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = std::process::Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = std::env::temp_dir().join(format!("standardise-chrome-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&profile).unwrap();
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--disable-quic", "--window-size=1366,768",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        });
        let caps = caps.as_object().unwrap().clone();
        let mut last_error = String::new();
        // chromedriver takes a moment before it accepts sessions.
        for _ in 0..50 {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => return Some(Browser { client, driver, _profile: TempDir(profile) }),
                Err(e) => {
                    last_error = e.to_string();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        panic!("chromedriver did not start a session: {last_error}");
    }

    /// Finds the element and acts on it, finding it again when the page
    /// replaced it in between (a live page redraws what changed).
    async fn on<F, Fut>(&self, css: &str, act: F)
    where
        F: Fn(fantoccini::elements::Element) -> Fut,
        Fut: std::future::Future<Output = Result<(), fantoccini::error::CmdError>>,
    {
        for _ in 0..20 {
            let el = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
            match act(el).await {
                Err(e) if e.is_stale_element_reference() => tokio::time::sleep(Duration::from_millis(50)).await,
                done => return done.unwrap_or_else(|e| panic!("{css}: {e}")),
            }
        }
        panic!("{css}: replaced on every try");
    }

    pub async fn fill(&self, css: &str, value: &str) {
        self.on(css, |el| async move {
            el.clear().await?;
            el.send_keys(value).await
        })
        .await;
    }

    pub async fn click(&self, css: &str) {
        self.on(css, |el| async move { el.click().await }).await;
    }

    /// The element's text; retried briefly because a click may still be loading the next page.
    pub async fn text(&self, css: &str) -> String {
        let mut last = String::new();
        for _ in 0..50 {
            match self.client.find(Locator::Css(css)).await {
                Ok(el) => match el.text().await {
                    Ok(t) => return t,
                    Err(e) => last = e.to_string(),
                },
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css}: {last}");
    }

    /// Waits (up to 5 s) for the element's text to contain `needle`; returns the text.
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> String {
        let mut text = String::new();
        for _ in 0..50 {
            text = self.text(css).await;
            if text.contains(needle) {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} never contained {needle:?}; it says {text:?}");
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Fills in and sends the sign-in form.
    pub async fn submit_sign_in(&self, app: &TestApp, email: &str, secret: &str) {
        self.client.goto(&app.url("/login")).await.unwrap();
        self.fill("#email", email).await;
        self.fill("#password", secret).await;
        self.click("form.stack button[type=submit]").await;
    }

    /// Signs in and waits for the page that follows.
    pub async fn sign_in(&self, app: &TestApp, email: &str, secret: &str) {
        self.submit_sign_in(app, email, secret).await;
        // Wait for the page after signing in, so the next step acts on it and not on the form.
        for _ in 0..50 {
            if self.path().await != "/login" {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{email} was still on the sign-in page after 5 s");
    }
}

#[tokio::test]
async fn wrong_password_shows_an_error_in_the_browser() {
    let app = spawn_app().await;
    app.user("eve@board.example", "Eve Examiner", false, PASSWORD).await;
    let Some(b) = Browser::start().await else { return };
    b.submit_sign_in(&app, "eve@board.example", "not my password").await;
    b.wait_for_text("#login-error", "do not match an account").await;
    assert_eq!(b.path().await, "/login");
    b.client.clone().close().await.unwrap();
}

#[tokio::test]
async fn admin_signs_in_creates_an_account_and_the_new_user_signs_in() {
    let app = spawn_app().await;
    app.user("ada@board.example", "Ada Admin", true, PASSWORD).await;
    let Some(b) = Browser::start().await else { return };

    b.sign_in(&app, "ada@board.example", PASSWORD).await;
    b.wait_for_text("h1", "Welcome, Ada Admin").await;
    assert_eq!(b.path().await, "/");
    b.screenshot("home-signed-in").await;

    b.click("nav a[href='/admin/users']").await;
    b.click("a[href='/admin/users/new']").await;
    b.fill("#name", "Pat Principal").await;
    b.fill("#email", "pat@board.example").await;
    b.click("form.stack button[type=submit]").await;
    b.wait_for_text("h1", "Account created").await;
    let otp = b.text("#one-time-password").await;
    assert_eq!(otp.len(), 16);

    b.click(".signout button").await;
    b.wait_for_text("main", "You have signed out.").await;

    b.sign_in(&app, "pat@board.example", &otp).await;
    b.wait_for_text("h1", "Change your password").await;
    assert_eq!(b.path().await, "/account/password");
    b.fill("#current", &otp).await;
    b.fill("#new", "pat's own long password").await;
    b.fill("#confirm", "pat's own long password").await;
    b.click("form.stack button[type=submit]").await;
    b.wait_for_text("h1", "Welcome, Pat Principal").await;
    assert_eq!(b.path().await, "/");
    assert!(b.text(".flash").await.contains("Your password has been changed."));
    b.client.clone().close().await.unwrap();
}

#[tokio::test]
async fn admin_imports_the_sample_scheme_through_the_pages() {
    let app = spawn_app().await;
    app.user("ada@board.example", "Ada Admin", true, PASSWORD).await;
    let Some(b) = Browser::start().await else { return };
    b.sign_in(&app, "ada@board.example", PASSWORD).await;
    b.click("nav a[href='/papers']").await;
    b.click("a[href='/papers/import']").await;
    // The board's PDF, as administrators receive it.
    let document = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/markschemes/standardise-sample-history.pdf");
    b.client.find(Locator::Css("#file")).await.unwrap().send_keys(&document.display().to_string()).await.unwrap();
    b.click("form.wide-form button[type=submit]").await;
    b.wait_for_text("h1", "Check the imported mark scheme").await;
    assert_eq!(b.client.find(Locator::Css("#code")).await.unwrap().prop("value").await.unwrap().as_deref(), Some("SSH1R"));
    let sections = b.client.find_all(Locator::Css("section.question")).await.unwrap();
    assert_eq!(sections.len(), 4, "three questions and a blank one for adding");
    b.screenshot("import-preview").await;

    // Complete and correct the form before saving: the board is not one the importer
    // knows by name, and the series is spelt out.
    b.fill("#board", "Standardise Sample Papers").await;
    b.fill("#series", "June 2026 (final)").await;
    b.click("#save-paper").await;
    b.wait_for_text("h1", "Standardise Sample Papers SSH1R").await;
    assert!(b.text(".flash").await.contains("saved with 3 questions"));
    assert!(b.text("main").await.contains("June 2026 (final)"));
    b.screenshot("paper-saved").await;

    // A Word file with one question the importer could not read: that question comes first,
    // highlighted, and the paper is saved only once it is corrected and confirmed.
    b.client.goto(&app.url("/papers/import")).await.unwrap();
    let word = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/markschemes/invented-one-question-unreadable.docx");
    b.client.find(Locator::Css("#file")).await.unwrap().send_keys(&word.display().to_string()).await.unwrap();
    b.click("form.wide-form button[type=submit]").await;
    b.wait_for_text("h1", "Check the imported mark scheme").await;
    assert!(b.text("section.question").await.contains("Question 02"), "the flagged question is first");
    assert!(b.text("section.question.flagged").await.contains("no mark bands found for question 02"));
    b.fill("#code", "X1").await;
    b.fill("#title", "The Canal Age").await;
    b.fill("#board", "Standardise Sample Papers").await;
    b.click("#save-paper").await;
    b.wait_for_text("#form-errors", "Question 02 was flagged when the document was read").await;
    b.screenshot("import-flagged-refused").await;
    let q = b.client.find(Locator::Css("section.question.flagged")).await.unwrap();
    let select = q.find(Locator::Css("select[name$='.kind']")).await.unwrap();
    select.select_by_value("points").await.unwrap();
    q.find(Locator::Css("input[type=checkbox][name$='.checked']")).await.unwrap().click().await.unwrap();
    b.click("#save-paper").await;
    b.wait_for_text("h1", "Standardise Sample Papers X1").await;
    assert!(b.text(".flash").await.contains("saved with 2 questions"));
    b.client.clone().close().await.unwrap();
}

/// Presses keys on whatever has the focus, as a person at the keyboard would.
pub(crate) async fn press(b: &Browser, keys: &str) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let mut actions = KeyActions::new("keyboard".to_owned());
    for c in keys.chars() {
        actions = actions.then(KeyAction::Down { value: c }).then(KeyAction::Up { value: c });
    }
    b.client.perform_actions(actions).await.unwrap();
}

/// Presses `key` while holding `modifier` (e.g. Ctrl+Enter): one keystroke to a person.
pub(crate) async fn chord(b: &Browser, modifier: char, key: &str) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let key = key.chars().next().unwrap();
    let actions = KeyActions::new("keyboard".to_owned())
        .then(KeyAction::Down { value: modifier })
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key })
        .then(KeyAction::Up { value: modifier });
    b.client.perform_actions(actions).await.unwrap();
}

pub(crate) const CONTROL: char = '\u{E009}';
pub(crate) const TAB: &str = "\u{E004}";
pub(crate) const ENTER: &str = "\u{E007}";

pub(crate) async fn active_id(b: &Browser) -> String {
    b.client
        .execute("return document.activeElement ? document.activeElement.id : ''", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap_or("")
        .to_owned()
}

async fn value_of(b: &Browser, css: &str) -> String {
    b.client.find(Locator::Css(css)).await.unwrap().prop("value").await.unwrap().unwrap_or_default()
}

#[tokio::test]
async fn an_examiner_marks_a_script_with_the_keyboard() {
    let f = crate::fixture::MeetingFixture::open().await;
    let (rid, _, _) = f.responses[0].clone();
    let Some(b) = Browser::start().await else { return };
    b.sign_in(&f.app, "ex1@board.example", PASSWORD).await;
    b.wait_for_text("h1", "Welcome").await;
    b.client.goto(&f.app.url(&format!("/meetings/{}/responses/{rid}", f.meeting))).await.unwrap();
    b.wait_for_text("h1", "Candidate 0001").await;

    // Level first: the key 3 chooses level 3, limits the mark to 7–9 and
    // puts the middle mark in the field, ready to be typed over.
    press(&b, "3").await;
    assert_eq!(
        b.client.find(Locator::Css("input[name=level][value='3']")).await.unwrap().prop("checked").await.unwrap().as_deref(),
        Some("true")
    );
    assert_eq!(value_of(&b, "#mark").await, "8");
    assert_eq!(active_id(&b).await, "mark");
    assert_eq!(b.client.find(Locator::Css("#mark")).await.unwrap().attr("max").await.unwrap().as_deref(), Some("9"));
    press(&b, "9").await;
    press(&b, "r").await;
    assert_eq!(active_id(&b).await, "comment");
    press(&b, "Explains differences and similarities with own knowledge.").await;
    b.wait_for_text("#save-status", "Draft saved at").await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    b.wait_for_text("#save-status", "Draft saved at").await;
    b.screenshot("marking-page").await;

    // Ctrl+Enter submits and moves on to the next response to mark.
    chord(&b, CONTROL, ENTER).await;
    b.wait_for_text(".flash", "is submitted. Here is the next response to mark.").await;
    assert_ne!(b.path().await, format!("/meetings/{}/responses/{rid}", f.meeting));

    let (level, mark, state, comment): (Option<i32>, i32, String, String) =
        sqlx::query_as("SELECT level, mark, state, comment FROM marks WHERE response_id = $1")
            .bind(rid)
            .fetch_one(&f.app.db.pool)
            .await
            .unwrap();
    assert_eq!((level, mark, state.as_str()), (Some(3), 9, "submitted"));
    assert_eq!(comment, "Explains differences and similarities with own knowledge.");
    b.client.clone().close().await.unwrap();
}

#[tokio::test]
async fn a_draft_survives_closing_and_reopening_the_page() {
    let f = crate::fixture::MeetingFixture::open().await;
    let (rid, _, _) = f.responses[0].clone();
    let page = f.app.url(&format!("/meetings/{}/responses/{rid}", f.meeting));
    {
        let Some(b) = Browser::start().await else { return };
        b.sign_in(&f.app, "ex2@board.example", PASSWORD).await;
        b.wait_for_text("h1", "Welcome").await;
        b.client.goto(&page).await.unwrap();
        b.click("input[name=level][value='2']").await;
        assert_eq!(value_of(&b, "#mark").await, "5", "the middle of 3–6");
        b.fill("#comment", "Half-way: compares tone, no context yet").await;
        tokio::time::sleep(Duration::from_millis(1200)).await;
        b.wait_for_text("#save-status", "Draft saved at").await;
        // The tab is closed without submitting: the whole browser goes.
        b.client.clone().close().await.unwrap();
    }
    let Some(b) = Browser::start().await else { return };
    b.sign_in(&f.app, "ex2@board.example", PASSWORD).await;
    b.wait_for_text("h1", "Welcome").await;
    b.client.goto(&page).await.unwrap();
    b.wait_for_text("h1", "Candidate 0001").await;
    assert_eq!(
        b.client.find(Locator::Css("input[name=level][value='2']")).await.unwrap().prop("checked").await.unwrap().as_deref(),
        Some("true")
    );
    assert_eq!(value_of(&b, "#mark").await, "5");
    assert_eq!(value_of(&b, "#comment").await, "Half-way: compares tone, no context yet");
    assert!(b.text("#save-status").await.contains("Draft saved"));
    b.client.clone().close().await.unwrap();
}

#[tokio::test]
async fn the_pe_sees_a_mark_arrive_live_then_adjudicates_and_releases() {
    let f = crate::fixture::MeetingFixture::open().await;
    let (rid, _, _) = f.responses[0].clone();
    let m = f.meeting;
    let Some(pe) = Browser::start().await else { return };
    pe.sign_in(&f.app, "pe@board.example", PASSWORD).await;
    pe.wait_for_text("h1", "Welcome").await;
    pe.client.goto(&f.app.url(&format!("/meetings/{m}/dashboard"))).await.unwrap();
    pe.wait_for_text("#live-status", "Live").await;
    // Mark the page, to prove later that it was not reloaded.
    pe.client.execute("window.notReloaded = true", vec![]).await.unwrap();
    assert!(!pe.text("#matrix").await.contains("L3"));

    // The examiner marks in their own browser.
    let Some(ex) = Browser::start().await else { return };
    ex.sign_in(&f.app, "ex1@board.example", PASSWORD).await;
    ex.wait_for_text("h1", "Welcome").await;
    ex.client.goto(&f.app.url(&format!("/meetings/{m}/responses/{rid}"))).await.unwrap();
    ex.click("input[name=level][value='3']").await;
    ex.fill("#comment", "Clear comparison").await;
    ex.click("#submit-mark").await;
    ex.wait_for_text(".flash", "is submitted").await;

    // It appears on the PE's dashboard without a reload.
    pe.wait_for_text("#matrix", "8L3").await;
    let still = pe.client.execute("return window.notReloaded === true", vec![]).await.unwrap();
    assert_eq!(still, serde_json::json!(true), "the dashboard updated in place");
    pe.screenshot("dashboard-live").await;

    // Adjudicate from the matrix row: every mark side by side, then the definitive mark.
    pe.click(&format!("#matrix tr[data-response='{rid}'] th a")).await;
    pe.wait_for_text("#examiner-marks", "Clear comparison").await;
    pe.click("#definitive-form input[name=level][value='3']").await;
    pe.fill("#rationale", "Compares both sources with some context.").await;
    pe.click("#save-definitive").await;
    pe.wait_for_text(".flash", "Definitive mark for candidate 0001").await;
    pe.screenshot("pe-response").await;
    // The script's other response needs a definitive mark too before release.
    let (other, _, _) = f.responses[1].clone();
    pe.client.goto(&f.app.url(&format!("/meetings/{m}/responses/{other}"))).await.unwrap();
    pe.click("#definitive-form input[name=level][value='3']").await;
    pe.click("#save-definitive").await;
    pe.wait_for_text(".flash", "Definitive mark for candidate 0001").await;
    pe.client.goto(&f.app.url(&format!("/meetings/{m}"))).await.unwrap();
    pe.screenshot("meeting-overview").await;
    pe.click("#meeting-scripts button").await;
    pe.wait_for_text(".flash", "Script released").await;

    // The examiner now sees the outcome.
    ex.client.goto(&f.app.url(&format!("/meetings/{m}/responses/{rid}"))).await.unwrap();
    ex.wait_for_text("#results", "Definitive mark").await;
    assert_eq!(ex.text("#within-tolerance").await, "yes");
    ex.screenshot("examiner-outcome").await;
    pe.client.clone().close().await.unwrap();
    ex.client.clone().close().await.unwrap();
}

/// axe-core 4.14.1 (MPL-2.0, vendored: tests download nothing).
const AXE: &str = include_str!("../vendor/axe.min.js");

/// Serious and critical accessibility problems axe finds on the current page.
pub async fn accessibility_problems(b: &Browser) -> Vec<String> {
    b.client.execute(AXE, vec![]).await.unwrap();
    let found = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] }).then(r => done(r.violations
               .filter(v => v.impact === 'serious' || v.impact === 'critical')
               .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', '))));",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(found).unwrap()
}

#[tokio::test]
async fn the_main_pages_have_no_serious_accessibility_problems() {
    let f = crate::fixture::MeetingFixture::open().await;
    let (rid, _, _) = f.responses[0].clone();
    let m = f.meeting;
    let mut problems = Vec::new();
    let Some(b) = Browser::start().await else { return };
    b.client.goto(&f.app.url("/login")).await.unwrap();
    problems.extend(accessibility_problems(&b).await.into_iter().map(|p| format!("/login: {p}")));
    b.sign_in(&f.app, "admin@board.example", PASSWORD).await;
    b.wait_for_text("h1", "Welcome").await;
    for page in [
        "/".to_owned(),
        "/papers".into(),
        format!("/papers/{}", f.paper),
        format!("/papers/{}/edit", f.paper),
        "/admin/users".into(),
        "/admin/audit".into(),
        format!("/meetings/new?paper={}", f.paper),
    ] {
        b.client.goto(&f.app.url(&page)).await.unwrap();
        problems.extend(accessibility_problems(&b).await.into_iter().map(|p| format!("{page}: {p}")));
    }
    b.client.clone().close().await.unwrap();
    for (who, pages) in [
        (
            "ex1@board.example",
            vec![format!("/meetings/{m}"), format!("/meetings/{m}/responses/{rid}"), format!("/meetings/{m}/qualification/mine")],
        ),
        (
            "pe@board.example",
            vec![
                format!("/meetings/{m}"),
                format!("/meetings/{m}/responses/{rid}"),
                format!("/meetings/{m}/dashboard"),
                format!("/meetings/{m}/audit"),
                format!("/meetings/{m}/qualification"),
                format!("/meetings/{m}/referrals"),
                format!("/meetings/{m}/record"),
                format!("/papers/{}/versions", f.paper),
                format!("/papers/{}/versions/1", f.paper),
            ],
        ),
    ] {
        let Some(b) = Browser::start().await else { return };
        b.sign_in(&f.app, who, PASSWORD).await;
        b.wait_for_text("h1", "Welcome").await;
        for page in pages {
            b.client.goto(&f.app.url(&page)).await.unwrap();
            problems.extend(accessibility_problems(&b).await.into_iter().map(|p| format!("{who} {page}: {p}")));
        }
        b.client.clone().close().await.unwrap();
    }
    assert!(problems.is_empty(), "accessibility problems:\n{}", problems.join("\n"));
}

#[tokio::test]
async fn an_administrator_loads_the_demonstration_from_the_home_page() {
    let app = spawn_app().await;
    app.user("ada@board.example", "Ada Admin", true, PASSWORD).await;
    let Some(b) = Browser::start().await else { return };
    b.sign_in(&app, "ada@board.example", PASSWORD).await;
    b.wait_for_text("h1", "Welcome").await;
    b.click("#load-demo").await;
    b.wait_for_text("h1", "Demonstration meeting loaded").await;
    let accounts = b.text("table").await;
    assert!(accounts.contains("principal@demo.example") && accounts.contains("farid.ghani@demo.example"), "{accounts}");
    b.screenshot("demo-loaded").await;
    b.click("#demo-dashboard").await;
    b.wait_for_text("h1", "Dashboard").await;
    let main = b.text("main").await;
    for needle in ["Discuss next", "Ben Carter", "severe", "lenient", "erratic"] {
        assert!(main.contains(needle), "{needle} on the dashboard");
    }
    b.screenshot("demo-dashboard").await;
    b.client.clone().close().await.unwrap();
}
