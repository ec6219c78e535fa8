//! Test helpers: a real server on a loopback port over its own fresh database.

// Tests set up data in transactions of their own, outside any request: nothing
// cancels them, so sqlx's `Pool::begin` is fine here (src/ uses `db::tx::begin`).
#![allow(clippy::disallowed_methods)]

use std::{net::SocketAddr, time::Duration};

use sqlx::{
    ConnectOptions, Connection, PgConnection, PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use standardise::{
    app::{AppState, router},
    audit::Actor,
    auth::{password, tokens},
    config::Config,
    db,
    users::{self, DisplayName, Email, NewUser, User},
};
use tokio::{sync::OnceCell, task::JoinHandle};

static SERVER: OnceCell<PgConnectOptions> = OnceCell::const_new();

/// The PostgreSQL server tests create their databases on: `DATABASE_URL` if
/// set, else what `standardise serve` would find (a private cluster under
/// `target/` as a last resort).
pub async fn server() -> PgConnectOptions {
    SERVER
        .get_or_init(|| async {
            if let Ok(url) = std::env::var("DATABASE_URL") {
                return db::discover::options_from_url(&url).expect("DATABASE_URL");
            }
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-postgres");
            let server = db::discover::find_server(&dir).await.expect("a PostgreSQL server for the tests");
            // A started private cluster is left running for later tests.
            std::mem::forget(server.cluster);
            server.admin
        })
        .await
        .clone()
}

/// A fresh, migrated database that is dropped when the value is.
pub struct TestDb {
    pub pool: PgPool,
    pub name: String,
    pub options: PgConnectOptions,
    admin: PgConnectOptions,
}

impl TestDb {
    /// A fresh database with every migration applied.
    pub async fn new() -> TestDb {
        let db = Self::empty().await;
        db::migrate(&db.pool).await.expect("migrations");
        db
    }

    /// A fresh database with no migration applied.
    pub async fn empty() -> TestDb {
        let admin = server().await;
        let name = format!("standardise_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect_with(&admin).await.expect("connect to the test server");
        sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(&mut conn).await.expect("create test database");
        conn.close().await.ok();
        let options = admin.clone().database(&name).disable_statement_logging();
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options.clone())
            .await
            .expect("connect to test database");
        TestDb { pool, name, options, admin }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Dropped from inside a runtime: do the async clean-up on a thread of its own.
        let admin = self.admin.clone();
        let name = self.name.clone();
        let pool = self.pool.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                drop(pool);
                if let Ok(mut conn) = PgConnection::connect_with(&admin).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut conn).await;
                }
            });
        })
        .join();
    }
}

/// A running standardise on a loopback port.
pub struct TestApp {
    pub addr: SocketAddr,
    pub db: TestDb,
    server: JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Settings for tests: as production, with a tweak when a test needs one.
pub fn test_config() -> Config {
    Config::default()
}

/// Starts the real router over a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(test_config()).await
}

/// Starts the real router over a fresh database with these settings.
pub async fn spawn_app_with(config: Config) -> TestApp {
    let db = TestDb::new().await;
    let (addr, server) = serve(db.pool.clone(), config).await;
    TestApp { addr, db, server }
}

/// Serves the router over `pool` on a free port.
pub async fn serve(pool: PgPool, config: Config) -> (SocketAddr, JoinHandle<()>) {
    let state = AppState::new(pool, config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let handle = tokio::spawn(async move {
        axum::serve(listener, router(state).into_make_service()).await.expect("serve");
    });
    (addr, handle)
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A browser-like client with its own cookie jar that does not follow redirects.
    pub fn client(&self) -> Client {
        Client {
            http: reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().expect("client"),
            base: format!("http://{}", self.addr),
        }
    }

    /// Creates an account with a chosen password (no one-time password).
    pub async fn user(&self, email: &str, name: &str, admin: bool, secret: &str) -> User {
        let hash = password::hash(secret.to_owned()).await.expect("hash");
        users::create(
            &self.db.pool,
            NewUser {
                email: &Email::parse(email).expect("email"),
                name: &DisplayName::parse(name).expect("name"),
                password_hash: &hash,
                is_admin: admin,
                must_change_password: false,
            },
        )
        .await
        .expect("create user")
    }

    /// An administrator account, signed in.
    pub async fn admin_client(&self) -> Client {
        self.user("admin@board.example", "Ada Admin", true, PASSWORD).await;
        let c = self.client();
        c.sign_in("admin@board.example", PASSWORD).await;
        c
    }

    /// An API token for the user.
    pub async fn token_for(&self, user: &User) -> String {
        tokens::create(&self.db.pool, user.user_id(), "test").await.expect("token")
    }

    /// A client without cookies for the JSON API with this bearer token.
    pub fn api(&self, token: &str) -> Api {
        Api { http: reqwest::Client::new(), base: format!("http://{}", self.addr), token: token.to_owned() }
    }
}

/// The password test accounts get.
pub const PASSWORD: &str = "correct horse battery";

/// A cookie-holding client, like one browser.
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
}

/// The value of the first hidden `csrf` field on a page.
pub fn csrf_in(html: &str) -> Option<String> {
    let start = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

impl Client {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.base)).send().await.expect("GET")
    }

    pub async fn text(&self, path: &str) -> String {
        self.get(path).await.text().await.expect("body")
    }

    /// The CSRF token from a page that has a form.
    pub async fn csrf(&self, page: &str) -> String {
        csrf_in(&self.text(page).await).expect("csrf field on page")
    }

    /// Posts a form exactly as given (no token added).
    pub async fn post_raw(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http.post(format!("{}{path}", self.base)).form(form).send().await.expect("POST")
    }

    /// Posts a form with the CSRF token taken from `/login` or `/`.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let page = self.get("/").await;
        let page = if page.status().is_redirection() { self.text("/login").await } else { page.text().await.expect("body") };
        let token = csrf_in(&page).unwrap_or_default();
        let mut fields: Vec<(&str, &str)> = vec![("csrf", token.as_str())];
        fields.extend_from_slice(form);
        self.post_raw(path, &fields).await
    }

    pub async fn sign_in_response(&self, email: &str, secret: &str) -> reqwest::Response {
        let token = self.csrf("/login").await;
        self.post_raw("/login", &[("csrf", &token), ("email", email), ("password", secret), ("next", "/")]).await
    }

    pub async fn sign_in(&self, email: &str, secret: &str) {
        let r = self.sign_in_response(email, secret).await;
        assert_eq!(r.status(), 303, "sign-in of {email} should redirect");
    }
}

/// A client for the JSON API.
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Api {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.token).send().await.expect("GET")
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.http.post(format!("{}{path}", self.base)).bearer_auth(&self.token).json(body).send().await.expect("POST")
    }
}

/// The location a redirect points to.
pub fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
}

/// The project's own sample mark scheme (a history paper laid out as the boards lay theirs out).
pub const SAMPLE_PAPER: &str = standardise::demo::PAPER;

impl TestApp {
    /// Saves the sample paper directly; returns its id.
    pub async fn sample_paper(&self) -> uuid::Uuid {
        let admin: users::UserId =
            match sqlx::query_scalar("SELECT id FROM users WHERE is_admin LIMIT 1").fetch_optional(&self.db.pool).await.unwrap() {
                Some(id) => id,
                None => self.user("owner@board.example", "Owner", true, PASSWORD).await.user_id(),
            };
        let scheme = standardise::demo::sample_scheme().expect("the sample paper parses");
        let mut tx = self.db.pool.begin().await.unwrap();
        let id = standardise::papers::store::insert(&mut tx, &scheme, Some(SAMPLE_PAPER), Actor(admin)).await.unwrap();
        tx.commit().await.unwrap();
        id.0
    }

    /// Counts rows of a table (for "nothing was saved" checks).
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT count(*) FROM {table}")).fetch_one(&self.db.pool).await.unwrap()
    }
}

impl Client {
    /// Posts a multipart form; the CSRF token is added from the home page.
    pub async fn post_multipart(&self, path: &str, form: reqwest::multipart::Form) -> reqwest::Response {
        let token = self.csrf("/").await;
        self.http.post(format!("{}{path}", self.base)).multipart(form.text("csrf", token)).send().await.expect("POST")
    }
}

fn unescape(s: &str) -> String {
    s.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#60;", "<")
        .replace("&lt;", "<")
        .replace("&#62;", ">")
        .replace("&gt;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// The fields a browser would post from the form with this id: inputs
/// (checkboxes only when checked), textareas and selects.
pub fn form_fields(html: &str, form_id: &str) -> Vec<(String, String)> {
    let start = html.find(&format!("id=\"{form_id}\"")).expect("form on page");
    let end = html[start..].find("</form>").map(|e| e + start).expect("form end");
    let form = &html[start..end];
    let mut fields = Vec::new();
    let input = regex::Regex::new(r#"<input([^>]*)>"#).unwrap();
    let attr = |tag: &str, name: &str| -> Option<String> {
        let re = regex::Regex::new(&format!(r#"\s{name}="([^"]*)""#)).unwrap();
        re.captures(tag).map(|c| unescape(&c[1]))
    };
    let textarea = regex::Regex::new(r#"(?s)<textarea([^>]*)>(.*?)</textarea>"#).unwrap();
    let select = regex::Regex::new(r#"(?s)<select([^>]*)>(.*?)</select>"#).unwrap();
    let selected = regex::Regex::new(r#"<option value="([^"]*)" selected"#).unwrap();
    // Keep document order: collect with positions, then sort.
    let mut found: Vec<(usize, String, String)> = Vec::new();
    for m in input.captures_iter(form) {
        let tag = &m[1];
        let Some(name) = attr(tag, "name") else { continue };
        let kind = attr(tag, "type").unwrap_or_default();
        if kind == "checkbox" && !tag.contains(" checked") {
            continue;
        }
        found.push((m.get(0).unwrap().start(), name, attr(tag, "value").unwrap_or_default()));
    }
    for m in textarea.captures_iter(form) {
        if let Some(name) = attr(&m[1], "name") {
            found.push((m.get(0).unwrap().start(), name, unescape(&m[2])));
        }
    }
    for m in select.captures_iter(form) {
        if let Some(name) = attr(&m[1], "name") {
            let value = selected.captures(&m[2]).map(|c| c[1].to_owned()).unwrap_or_default();
            found.push((m.get(0).unwrap().start(), name, value));
        }
    }
    found.sort_by_key(|f| f.0);
    for (_, k, v) in found {
        fields.push((k, v));
    }
    fields
}

/// Sets a field's value in a scraped form.
pub fn set_field(fields: &mut [(String, String)], name: &str, value: &str) {
    let f = fields.iter_mut().find(|(k, _)| k == name).unwrap_or_else(|| panic!("no field {name}"));
    f.1 = value.to_owned();
}

/// A URL for a database, as `DATABASE_URL` takes it (socket or TCP).
pub fn database_url(o: &PgConnectOptions) -> String {
    let db = o.get_database().unwrap_or("postgres");
    if o.get_host().starts_with('/') {
        format!("postgres:///{db}?host={}&port={}&user={}", o.get_host(), o.get_port(), o.get_username())
    } else {
        format!("postgres://{}@{}:{}/{db}", o.get_username(), o.get_host(), o.get_port())
    }
}

/// The real `standardise serve` binary, run as a child process on a free
/// loopback port, exactly as production runs it (its own pool settings, its
/// own runtime); killed with SIGKILL when dropped.
pub struct ServerProcess {
    pub addr: SocketAddr,
    child: tokio::process::Child,
}

impl ServerProcess {
    /// Starts `standardise serve` on `database_url`, appending its log to
    /// `log`, and waits until it says it is listening.
    pub async fn start(database_url: &str, log: &std::path::Path) -> ServerProcess {
        use tokio::io::AsyncBufReadExt;
        if let Some(dir) = log.parent() {
            std::fs::create_dir_all(dir).expect("log folder");
        }
        let stderr = std::fs::OpenOptions::new().create(true).append(true).open(log).expect("server log");
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_standardise"))
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("STANDARDISE_BIND", "127.0.0.1:0")
            .env("STANDARDISE_LOG_FORMAT", "text")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .expect("start standardise serve");
        let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
        // It prints its address once it listens (port 0: the system chose a free one).
        let addr = tokio::time::timeout(Duration::from_secs(60), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(rest) = line.strip_prefix("standardise is running: open http://") {
                    return rest.split('/').next().and_then(|a| a.parse::<SocketAddr>().ok());
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("standardise serve did not start; the end of its log ({}):\n{}", log.display(), log_tail(log)));
        // Keep reading, so the server never blocks writing to a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        ServerProcess { addr, child }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Kills it with SIGKILL (no graceful shutdown, nothing flushed) and waits
    /// until it is gone; returns the signal that ended it.
    pub async fn kill(&mut self) -> Option<i32> {
        use std::os::unix::process::ExitStatusExt;
        self.child.start_kill().expect("SIGKILL the server");
        self.child.wait().await.expect("wait for the killed server").signal()
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

/// The last lines of a log file, for a failure message.
pub fn log_tail(log: &std::path::Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}
