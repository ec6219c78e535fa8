//! Nothing lost, proven (issue "Proof under pressure", requirement 5). The real
//! server binary takes concurrent draft saves and submits while it is killed
//! with SIGKILL, while its database stops (fast and immediate shutdown), and
//! while clients walk away in the middle of their requests.
//!
//! "Nothing lost", per examiner and response: the stored version is at least
//! the last version acknowledged (2xx) to any client, and when equal the stored
//! mark is that save's. When it is greater, the stored mark is a save whose
//! answer never came (in flight when the server or the database went, or
//! answered 503) that was based on the version just before it; never one that
//! was refused. Every 2xx carries one more than the version its request was
//! based on, and no two 2xx answers carry the same version.

use std::{
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use standardise::{
    audit::Actor,
    auth::{password, tokens},
    db::discover,
    markscheme::QuestionKind,
    users::{self, DisplayName, Email, NewUser},
};
use tokio::{
    io::AsyncWriteExt,
    sync::Semaphore,
    task::{JoinHandle, JoinSet},
};
use uuid::Uuid;

use crate::helpers::*;

/// Clients saving marks at the same time.
const WORKERS: usize = 16;
/// Examiners in the meeting: two clients share each one's token and race on the same marks.
const EXAMINERS: usize = 8;
/// No answer may take longer than this, outage or not.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
/// Each test's own bound, inside CI's two minutes.
const TEST_LIMIT: Duration = Duration::from_secs(110);

/// Runs a test body, failing it (rather than blocking CI) if it takes longer than [`TEST_LIMIT`].
async fn within_limit(name: &str, test: impl Future<Output = ()>) {
    let started = Instant::now();
    tokio::time::timeout(TEST_LIMIT, test).await.expect("the test did not finish within its limit: something hung");
    eprintln!("{name}: took {:.1} s", started.elapsed().as_secs_f64());
}

/// A fresh file for a server's log under `target/test-logs`.
fn log_path(test: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-logs").join(format!("durability-{test}-{}.log", Uuid::new_v4().simple()))
}

// ---------------------------------------------------------------------------
// The meeting: accounts and paper straight into the database, the rest through the API.

/// An examiner of the meeting and their API token.
#[derive(Debug, Clone)]
struct Examiner {
    id: Uuid,
    token: String,
}

/// Accounts with API tokens and the sample paper, written before any server runs.
struct Seed {
    admin: String,
    pe: String,
    examiners: Vec<Examiner>,
    paper: Uuid,
}

async fn account(pool: &PgPool, hash: &str, email: &str, name: &str, admin: bool) -> users::User {
    let new = NewUser {
        email: &Email::parse(email).expect("email"),
        name: &DisplayName::parse(name).expect("name"),
        password_hash: hash,
        is_admin: admin,
        must_change_password: false,
    };
    users::create(pool, new).await.expect("create account")
}

async fn seed(pool: &PgPool) -> Seed {
    let hash = password::hash(PASSWORD.into()).await.expect("hash");
    let admin = account(pool, &hash, "admin@board.example", "Ada Admin", true).await;
    let pe = account(pool, &hash, "pe@board.example", "Priya Principal", false).await;
    let mut examiners = Vec::new();
    for i in 0..EXAMINERS {
        let user = account(pool, &hash, &format!("ex{i}@board.example"), &format!("Examiner {i}"), false).await;
        examiners.push(Examiner { id: user.id, token: tokens::create(pool, user.user_id(), "durability").await.expect("token") });
    }
    let scheme = standardise::demo::sample_scheme().expect("the sample paper parses");
    let mut tx = standardise::db::tx::begin(pool).await.expect("begin");
    let paper = standardise::papers::store::insert(&mut tx, &scheme, Some(SAMPLE_PAPER), Actor(admin.user_id())).await.expect("paper");
    tx.commit().await.expect("commit");
    Seed {
        admin: tokens::create(pool, admin.user_id(), "durability").await.expect("token"),
        pe: tokens::create(pool, pe.user_id(), "durability").await.expect("token"),
        examiners,
        paper: paper.0,
    }
}

/// A level's band of marks: (level, lowest mark, highest mark).
type Band = (i32, i32, i32);

/// A meeting open for marking: two scripts answering two levels-marked questions.
struct Meeting {
    id: Uuid,
    examiners: Vec<Examiner>,
    /// Each response's id and its question's bands.
    responses: Vec<(Uuid, Vec<Band>)>,
}

impl Meeting {
    fn mark_path(&self, response: usize) -> String {
        format!("/api/v1/meetings/{}/responses/{}/mark", self.id, self.responses[response].0)
    }

    fn keys(&self) -> impl Iterator<Item = Key> + '_ {
        (0..self.examiners.len()).flat_map(|e| (0..self.responses.len()).map(move |r| (e, r)))
    }
}

/// Sets the meeting up through the API of the server at `base`, as an administrator would.
async fn open_meeting(base: &str, pool: &PgPool, seed: Seed) -> Meeting {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client");
    let scheme = standardise::demo::sample_scheme().expect("the sample paper parses");
    let questions: Vec<_> = scheme.questions.iter().filter(|q| q.kind == QuestionKind::Levels && !q.levels.is_empty()).take(2).collect();
    assert_eq!(questions.len(), 2, "the sample paper has two levels-marked questions");
    for candidate in ["0001", "0002"] {
        let answers: Vec<Value> = questions
            .iter()
            .map(|q| json!({"question": q.number, "text": format!("Candidate {candidate} answers {}.", q.number)}))
            .collect();
        let r = http
            .post(format!("{base}/api/v1/papers/{}/scripts", seed.paper))
            .bearer_auth(&seed.admin)
            .json(&json!({"candidate": candidate, "responses": answers}))
            .send()
            .await
            .expect("create script");
        assert_eq!(r.status(), 201, "{:?}", r.text().await);
    }
    let scripts: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM scripts WHERE paper_id = $1 ORDER BY candidate")
        .bind(seed.paper)
        .fetch_all(pool)
        .await
        .expect("scripts");
    let examiners: Vec<String> = (0..seed.examiners.len()).map(|i| format!("ex{i}@board.example")).collect();
    let body = json!({
        "paper_id": seed.paper,
        "name": "Durability",
        "principal_examiner": "pe@board.example",
        "examiners": examiners,
        "scripts": scripts.iter().map(|s| json!({"script_id": s, "purpose": "practice"})).collect::<Vec<_>>(),
    });
    let r = http.post(format!("{base}/api/v1/meetings")).bearer_auth(&seed.admin).json(&body).send().await.expect("create meeting");
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let created: Value = r.json().await.expect("json");
    let id: Uuid = created["id"].as_str().and_then(|s| s.parse().ok()).expect("meeting id");
    let r = http.post(format!("{base}/api/v1/meetings/{id}/open")).bearer_auth(&seed.pe).json(&json!({})).send().await.expect("open");
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let rows: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT r.id, q.number FROM meeting_scripts ms JOIN responses r ON r.script_id = ms.script_id
         JOIN questions q ON q.id = r.question_id WHERE ms.meeting_id = $1 ORDER BY ms.position, q.position",
    )
    .bind(id)
    .fetch_all(pool)
    .await
    .expect("responses");
    assert_eq!(rows.len(), 4);
    let responses = rows
        .into_iter()
        .map(|(rid, number)| {
            let q = scheme.questions.iter().find(|q| q.number == number).expect("question of the paper");
            (rid, q.levels.iter().map(|l| (l.level, l.min, l.max)).collect())
        })
        .collect();
    Meeting { id, examiners: seed.examiners, responses }
}

// ---------------------------------------------------------------------------
// The workload: clients saving drafts and submitting, each save's answer recorded.

/// (examiner, response), as indices into the meeting's lists.
type Key = (usize, usize);

/// What a save's client was told.
#[derive(Debug, Clone)]
enum Outcome {
    /// 2xx: the save is acknowledged with this version.
    Acked { version: i32, submitted: bool },
    /// 4xx: refused (a stale version, a submitted mark); nothing was written.
    Refused(u16, String),
    /// 503 with this error code: nothing may or may not have been written.
    Unavailable(String),
    /// Any other status: a 500 is a bug.
    Status(u16, String),
    /// No answer within [`CLIENT_TIMEOUT`]: a hang.
    Timeout,
    /// The connection failed or closed with no answer.
    Transport(String),
}

/// One save a client sent, and its answer.
#[derive(Debug, Clone)]
struct Attempt {
    key: Key,
    based_on: i32,
    /// Unique to this save, so a stored mark says which request wrote it.
    comment: String,
    level: i32,
    mark: i32,
    submit: bool,
    started: Instant,
    finished: Instant,
    outcome: Outcome,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Acked { version, submitted } => write!(f, "2xx, version {version}{}", if *submitted { ", submitted" } else { "" }),
            Outcome::Refused(status, body) | Outcome::Status(status, body) => write!(f, "{status} {body}"),
            Outcome::Unavailable(code) => write!(f, "503 {code}"),
            Outcome::Timeout => write!(f, "no answer within {CLIENT_TIMEOUT:?}"),
            Outcome::Transport(e) => write!(f, "connection failed: {e}"),
        }
    }
}

impl Attempt {
    /// The client never learnt whether this save was made.
    fn unanswered(&self) -> bool {
        matches!(self.outcome, Outcome::Unavailable(_) | Outcome::Status(..) | Outcome::Timeout | Outcome::Transport(_))
    }
}

/// Clients saving marks, and every answer they got.
struct Workload {
    base: String,
    meeting: Meeting,
    attempts: Mutex<Vec<Attempt>>,
    /// The newest version each mark is known to have.
    known: Mutex<HashMap<Key, i32>>,
    /// Marks known to be submitted (no save can change them).
    submitted: Mutex<HashSet<Key>>,
    acked: AtomicUsize,
    stop: AtomicBool,
}

impl Workload {
    fn start(base: String, meeting: Meeting) -> (Arc<Workload>, Vec<JoinHandle<()>>) {
        let w = Arc::new(Workload {
            base,
            meeting,
            attempts: Mutex::default(),
            known: Mutex::default(),
            submitted: Mutex::default(),
            acked: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        });
        let handles = (0..WORKERS).map(|i| tokio::spawn(save_marks(w.clone(), i))).collect();
        (w, handles)
    }

    fn acked(&self) -> usize {
        self.acked.load(Ordering::SeqCst)
    }

    /// Waits until `n` saves in all have been acknowledged; fails after `limit`.
    async fn wait_for_acked(&self, n: usize, limit: Duration) {
        let deadline = Instant::now() + limit;
        while self.acked() < n {
            assert!(Instant::now() < deadline, "only {} of {n} saves acknowledged within {limit:?}", self.acked());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the clients after their current request; returns every attempt.
    async fn finish(&self, handles: Vec<JoinHandle<()>>) -> Vec<Attempt> {
        self.stop.store(true, Ordering::SeqCst);
        for h in handles {
            tokio::time::timeout(CLIENT_TIMEOUT * 3, h).await.expect("a client stops within its timeouts").expect("client task");
        }
        self.attempts.lock().unwrap().clone()
    }

    fn learn(&self, key: Key, version: i32, submitted: bool) {
        let mut known = self.known.lock().unwrap();
        let v = known.entry(key).or_insert(0);
        *v = (*v).max(version);
        if submitted {
            self.submitted.lock().unwrap().insert(key);
        }
    }
}

fn outcome_of(status: u16, text: &str, comment: &str) -> Outcome {
    let body: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    match status {
        200..=299 => {
            let version = body["version"].as_i64().and_then(|v| i32::try_from(v).ok());
            match version {
                Some(version) if body["comment"] == comment => Outcome::Acked { version, submitted: body["state"] == "submitted" },
                _ => Outcome::Status(status, format!("a 2xx that is not this save's mark: {text}")),
            }
        }
        503 => Outcome::Unavailable(body["error"]["code"].as_str().unwrap_or("(no code)").to_owned()),
        400..=499 => Outcome::Refused(status, text.to_owned()),
        _ => Outcome::Status(status, text.to_owned()),
    }
}

/// One client: saves drafts (and now and then submits) on its examiner's
/// marks, always sending the version it believes current, until told to stop.
async fn save_marks(w: Arc<Workload>, client: usize) {
    let mut rng = StdRng::seed_from_u64(client as u64);
    let examiner = client % w.meeting.examiners.len();
    let token = w.meeting.examiners[examiner].token.clone();
    let http = reqwest::Client::builder().timeout(CLIENT_TIMEOUT).build().expect("client");
    for n in 0.. {
        if w.stop.load(Ordering::SeqCst) {
            return;
        }
        let open: Vec<usize> = {
            let submitted = w.submitted.lock().unwrap();
            (0..w.meeting.responses.len()).filter(|r| !submitted.contains(&(examiner, *r))).collect()
        };
        let Some(&response) = open.get(rng.gen_range(0..open.len().max(1))) else { return };
        let key = (examiner, response);
        let based_on = w.known.lock().unwrap().get(&key).copied().unwrap_or(0);
        let bands = &w.meeting.responses[response].1;
        let (level, min, max) = bands[rng.gen_range(0..bands.len())];
        let mark = rng.gen_range(min..=max);
        let submit = rng.gen_bool(0.03);
        let comment = format!("client {client}, save {n}");
        let body = json!({"level": level, "mark": mark, "comment": comment, "submit": submit, "version": based_on});
        let started = Instant::now();
        let outcome = match http.put(format!("{}{}", w.base, w.meeting.mark_path(response))).bearer_auth(&token).json(&body).send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                match r.text().await {
                    Ok(text) => outcome_of(status, &text, &comment),
                    Err(e) if e.is_timeout() => Outcome::Timeout,
                    Err(e) => Outcome::Transport(format!("{e:?}")),
                }
            }
            Err(e) if e.is_timeout() => Outcome::Timeout,
            Err(e) => Outcome::Transport(format!("{e:?}")),
        };
        let finished = Instant::now();
        let attempt = Attempt { key, based_on, comment, level, mark, submit, started, finished, outcome: outcome.clone() };
        w.attempts.lock().unwrap().push(attempt);
        match outcome {
            Outcome::Acked { version, submitted } => {
                w.learn(key, version, submitted);
                w.acked.fetch_add(1, Ordering::SeqCst);
            }
            // Someone else saved it first, or it is submitted: ask what it is now.
            Outcome::Refused(409, _) => refresh(&w, &http, &token, key).await,
            Outcome::Refused(..) | Outcome::Status(..) => {}
            Outcome::Unavailable(_) | Outcome::Timeout | Outcome::Transport(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Learns a mark's current version and state from the API.
async fn refresh(w: &Workload, http: &reqwest::Client, token: &str, key: Key) {
    let url = format!("{}/api/v1/meetings/{}/responses/{}", w.base, w.meeting.id, w.meeting.responses[key.1].0);
    let Ok(r) = http.get(url).bearer_auth(token).send().await else { return };
    if r.status() != 200 {
        return;
    }
    let Ok(view) = r.json::<Value>().await else { return };
    if let Some(version) = view["mark"]["version"].as_i64().and_then(|v| i32::try_from(v).ok()) {
        w.learn(key, version, view["mark"]["state"] == "submitted");
    }
}

/// A mark as stored.
#[derive(Debug, sqlx::FromRow)]
struct Stored {
    examiner_id: Uuid,
    response_id: Uuid,
    level: Option<i32>,
    mark: i32,
    comment: String,
    state: String,
    version: i32,
}

async fn stored_marks(pool: &PgPool, meeting: &Meeting) -> HashMap<Key, Stored> {
    let rows: Vec<Stored> =
        sqlx::query_as("SELECT examiner_id, response_id, level, mark, comment, state, version FROM marks WHERE meeting_id = $1")
            .bind(meeting.id)
            .fetch_all(pool)
            .await
            .expect("stored marks");
    rows.into_iter()
        .map(|s| {
            let e = meeting.examiners.iter().position(|x| x.id == s.examiner_id).expect("an examiner of the meeting");
            let r = meeting.responses.iter().position(|x| x.0 == s.response_id).expect("a response of the meeting");
            ((e, r), s)
        })
        .collect()
}

fn holds(stored: &Stored, a: &Attempt) -> bool {
    stored.level == Some(a.level) && stored.mark == a.mark && stored.comment == a.comment && (stored.state == "submitted") == a.submit
}

/// Every breach of the rule in this file's header, in words.
fn breaches(meeting: &Meeting, stored: &HashMap<Key, Stored>, attempts: &[Attempt]) -> Vec<String> {
    let mut problems = Vec::new();
    for key in meeting.keys() {
        let tries: Vec<&Attempt> = attempts.iter().filter(|a| a.key == key).collect();
        let mut acked: Vec<(&Attempt, i32)> = Vec::new();
        for a in &tries {
            if let Outcome::Acked { version, .. } = a.outcome {
                if version != a.based_on + 1 {
                    problems
                        .push(format!("{key:?}: {:?}, sent on version {}, was acknowledged as version {version}", a.comment, a.based_on));
                }
                if let Some((other, _)) = acked.iter().find(|(_, v)| *v == version) {
                    problems
                        .push(format!("{key:?}: version {version} was acknowledged to two saves, {:?} and {:?}", other.comment, a.comment));
                }
                acked.push((a, version));
            }
        }
        let last = acked.iter().max_by_key(|(_, v)| *v);
        match (stored.get(&key), last) {
            (None, None) => {}
            (None, Some((a, v))) => problems.push(format!("{key:?}: {:?}, acknowledged as version {v}, is not in the database", a.comment)),
            (Some(s), last) => {
                let last_version = last.map_or(0, |(_, v)| *v);
                let version = s.version;
                if version < last_version {
                    let a = last.map(|(a, _)| a.comment.as_str()).unwrap_or_default();
                    problems.push(format!(
                        "{key:?}: the database holds version {version} ({s:?}), older than version {last_version} acknowledged to {a:?}"
                    ));
                } else if version == last_version {
                    let a = last.map(|(a, _)| *a).expect("an acknowledged save");
                    if !holds(s, a) {
                        problems.push(format!("{key:?}: the database holds {s:?} as version {version}, acknowledged to {a:?}"));
                    }
                } else {
                    // Newer than anything acknowledged: only a save whose answer never came may have written it.
                    match tries.iter().find(|a| a.comment == s.comment) {
                        None => problems.push(format!("{key:?}: the database holds {s:?}, which no client sent")),
                        Some(a) if !a.unanswered() => {
                            problems.push(format!("{key:?}: the database holds {s:?}, written by a save answered {}", a.outcome))
                        }
                        Some(a) if a.based_on != version - 1 || !holds(s, a) => {
                            problems.push(format!("{key:?}: the database holds {s:?} as version {version}, but that save was {a:?}"))
                        }
                        Some(_) => {}
                    }
                }
            }
        }
    }
    problems
}

fn assert_nothing_lost(meeting: &Meeting, stored: &HashMap<Key, Stored>, attempts: &[Attempt], log: &Path) {
    let problems = breaches(meeting, stored, attempts);
    assert!(
        problems.is_empty(),
        "saves were lost or versions reused ({} problems; server log {}):\n{}",
        problems.len(),
        log.display(),
        problems.join("\n")
    );
}

/// How many marks hold a save whose client never learnt it was made.
fn unanswered_but_stored(stored: &HashMap<Key, Stored>, attempts: &[Attempt]) -> usize {
    stored.values().filter(|s| attempts.iter().any(|a| a.comment == s.comment && a.unanswered())).count()
}

/// Answers that must never happen while the server runs: a 500 (or any status
/// but 2xx, 409 and 503), a hang past the client timeout, a dropped connection.
fn wrong_answers<'a>(attempts: impl IntoIterator<Item = &'a Attempt>) -> Vec<String> {
    attempts
        .into_iter()
        .filter(|a| !matches!(a.outcome, Outcome::Acked { .. } | Outcome::Refused(409, _) | Outcome::Unavailable(_)))
        .map(|a| format!("{:?} after {:.2} s: {}", a.comment, a.finished.duration_since(a.started).as_secs_f64(), a.outcome))
        .collect()
}

fn summary(attempts: &[Attempt]) -> String {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for a in attempts {
        let name = match &a.outcome {
            Outcome::Acked { .. } => "2xx".to_owned(),
            Outcome::Refused(s, _) | Outcome::Status(s, _) => s.to_string(),
            Outcome::Unavailable(code) => format!("503 {code}"),
            Outcome::Timeout => "timeout".to_owned(),
            Outcome::Transport(_) => "no answer".to_owned(),
        };
        *counts.entry(name).or_default() += 1;
    }
    let mut parts: Vec<String> = counts.into_iter().map(|(k, v)| format!("{k}: {v}")).collect();
    parts.sort();
    parts.join(", ")
}

/// Connections to `database` sitting inside a transaction: (pid, state, for how long, query).
async fn idle_in_transaction(pool: &PgPool, database: &str) -> Vec<(i32, String, String, String)> {
    sqlx::query_as(
        "SELECT pid, state, coalesce((now() - state_change)::text, ''), left(query, 300) FROM pg_stat_activity
         WHERE datname = $1 AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()",
    )
    .bind(database)
    .fetch_all(pool)
    .await
    .expect("pg_stat_activity")
}

/// Waits up to `limit` for no connection to `database` to be idle inside a transaction.
async fn assert_no_idle_transaction(pool: &PgPool, database: &str, limit: Duration, log: &Path) {
    let deadline = Instant::now() + limit;
    loop {
        let left = idle_in_transaction(pool, database).await;
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} connection(s) still idle in a transaction after {limit:?} (server log {}):\n{left:#?}",
            left.len(),
            log.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One save after the storm, based on what is stored: it must answer within
/// the client timeout, carry the next version, or 409 for a submitted mark.
async fn save_again(base: &str, meeting: &Meeting, stored: &HashMap<Key, Stored>) {
    let http = reqwest::Client::builder().timeout(CLIENT_TIMEOUT).build().expect("client");
    for key in meeting.keys() {
        let (version, submitted) = stored.get(&key).map_or((0, false), |s| (s.version, s.state == "submitted"));
        let (level, min, _) = meeting.responses[key.1].1[0];
        let body = json!({"level": level, "mark": min, "comment": "after the storm", "version": version});
        let started = Instant::now();
        let r = http
            .put(format!("{base}{}", meeting.mark_path(key.1)))
            .bearer_auth(&meeting.examiners[key.0].token)
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{key:?}: a save after the storm got no answer within {CLIENT_TIMEOUT:?}: {e}"));
        let status = r.status().as_u16();
        let answer: Value = r.json().await.unwrap_or(Value::Null);
        if submitted {
            assert_eq!(status, 409, "{key:?}: a submitted mark stays locked: {answer}");
        } else {
            assert_eq!(status, 200, "{key:?}: {answer}");
            assert_eq!(answer["version"], version + 1, "{key:?}: numbering carries on from the stored version");
        }
        assert!(started.elapsed() < CLIENT_TIMEOUT);
    }
}

/// The checker itself: it sees a lost save, a stale stored version, a reused
/// version and a refused save that was written anyway, and accepts a save
/// whose answer never came.
#[test]
fn the_rule_catches_lost_and_reused_saves() {
    let meeting = Meeting {
        id: Uuid::nil(),
        examiners: vec![Examiner { id: Uuid::from_u128(1), token: String::new() }],
        responses: vec![(Uuid::from_u128(2), vec![(1, 1, 4)])],
    };
    let now = Instant::now();
    let save = |n: i32, based_on: i32, outcome: Outcome| Attempt {
        key: (0, 0),
        based_on,
        comment: format!("save {n}"),
        level: 1,
        mark: 2,
        submit: false,
        started: now,
        finished: now,
        outcome,
    };
    let acked = |version| Outcome::Acked { version, submitted: false };
    let stored = |n: i32, version| {
        let s = Stored {
            examiner_id: Uuid::from_u128(1),
            response_id: Uuid::from_u128(2),
            level: Some(1),
            mark: 2,
            comment: format!("save {n}"),
            state: "draft".into(),
            version,
        };
        HashMap::from([((0, 0), s)])
    };
    let two = [save(1, 0, acked(1)), save(2, 1, acked(2))];
    assert!(breaches(&meeting, &stored(2, 2), &two).is_empty(), "the last acknowledged save is stored");
    assert_eq!(breaches(&meeting, &HashMap::new(), &two).len(), 1, "nothing stored");
    assert_eq!(breaches(&meeting, &stored(1, 1), &two).len(), 1, "an older version stored");
    assert_eq!(breaches(&meeting, &stored(1, 2), &two).len(), 1, "another save's mark under the acknowledged version");
    let reused = [save(1, 0, acked(1)), save(2, 0, acked(1))];
    assert!(!breaches(&meeting, &stored(2, 1), &reused).is_empty(), "one version acknowledged twice");
    let in_flight = [save(1, 0, acked(1)), save(2, 1, Outcome::Transport("killed".into()))];
    assert!(breaches(&meeting, &stored(2, 2), &in_flight).is_empty(), "a save in flight may have been made");
    assert!(breaches(&meeting, &stored(1, 1), &in_flight).is_empty(), "or not");
    let refused = [save(1, 0, acked(1)), save(2, 1, Outcome::Refused(409, String::new()))];
    assert_eq!(breaches(&meeting, &stored(2, 2), &refused).len(), 1, "a refused save was written");
}

// ---------------------------------------------------------------------------
// 1. The server is killed mid-run.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_save_survives_the_server_being_killed_mid_run() {
    within_limit("killed", async {
        let db = TestDb::new().await;
        let seed = seed(&db.pool).await;
        let url = database_url(&db.options);
        let log = log_path("sigkill");
        let mut server = ServerProcess::start(&url, &log).await;
        let meeting = open_meeting(&server.url(""), &db.pool, seed).await;

        let (w, clients) = Workload::start(server.url(""), meeting);
        w.wait_for_acked(300, Duration::from_secs(30)).await;
        let killed_at = Instant::now();
        assert_eq!(server.kill().await, Some(9), "the server died of SIGKILL");
        let attempts = w.finish(clients).await;
        eprintln!("killed: {} saves: {}", attempts.len(), summary(&attempts));

        let wrong = wrong_answers(attempts.iter().filter(|a| a.finished < killed_at));
        assert!(wrong.is_empty(), "wrong answers before the kill (server log {}):\n{}", log.display(), wrong.join("\n"));
        let in_flight = attempts.iter().filter(|a| a.finished >= killed_at && a.started < killed_at).count();
        eprintln!("killed: {in_flight} saves in flight at the kill");

        // The database rolls back what the dead process left open.
        assert_no_idle_transaction(&db.pool, &db.name, Duration::from_secs(5), &log).await;
        let stored = stored_marks(&db.pool, &w.meeting).await;
        assert_nothing_lost(&w.meeting, &stored, &attempts, &log);
        eprintln!("killed: {} marks hold a save whose answer never came", unanswered_but_stored(&stored, &attempts));

        // Restarted on the same database, it answers, and every mark takes its next save.
        let again = ServerProcess::start(&url, &log).await;
        let r = reqwest::Client::new().get(again.url("/healthz")).timeout(CLIENT_TIMEOUT).send().await.expect("healthz");
        assert_eq!(r.status(), 200);
        save_again(&again.url(""), &w.meeting, &stored).await;
        drop(again);
        let _ = std::fs::remove_file(&log);
    })
    .await;
}

// ---------------------------------------------------------------------------
// 2. The database stops mid-run.

/// A private PostgreSQL cluster that a test stops and starts itself (never the
/// shared server); stopped and deleted when dropped.
struct Cluster {
    dir: PathBuf,
    port: u16,
    admin: PgConnectOptions,
}

/// `pg_ctl` from PATH, else the newest `/usr/lib/postgresql/*/bin`, as `db::discover` finds it.
fn pg_ctl_path() -> PathBuf {
    let on_path =
        std::env::var_os("PATH").into_iter().flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>()).map(|d| d.join("pg_ctl"));
    let installed = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().to_string_lossy().parse::<u32>().ok()?, e.path().join("bin/pg_ctl"))))
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_values()
        .rev();
    on_path.chain(installed).find(|p| p.is_file()).expect("pg_ctl in PATH or /usr/lib/postgresql/*/bin")
}

impl Cluster {
    async fn start() -> Cluster {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-durability-cluster").join(Uuid::new_v4().simple().to_string());
        let server = discover::start_private(&dir).await.expect("a private cluster starts");
        let dir = dir.canonicalize().expect("cluster folder");
        Cluster { dir, port: server.admin.get_port(), admin: server.admin }
    }

    /// `pg_ctl -D <dir>`, as the `postgres` OS user when we are root (PostgreSQL
    /// refuses to run as root), as `db::discover` runs it.
    fn pg_ctl(&self) -> std::process::Command {
        use std::os::unix::fs::MetadataExt;
        let root = std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false);
        let mut c = if root {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(pg_ctl_path());
            c
        } else {
            std::process::Command::new(pg_ctl_path())
        };
        c.arg("-D").arg(&self.dir);
        c
    }

    async fn run(&self, mut command: std::process::Command, what: &str) {
        let out = tokio::task::spawn_blocking(move || command.output()).await.expect("pg_ctl task").expect("run pg_ctl");
        assert!(out.status.success(), "{what} failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }

    async fn stop(&self, mode: &str) {
        let mut c = self.pg_ctl();
        c.args(["-m", mode, "-w", "stop"]);
        self.run(c, &format!("pg_ctl stop -m {mode}")).await;
    }

    /// Starts it again on the same port, as `db::discover` first started it.
    async fn restart(&self) {
        let mut c = self.pg_ctl();
        c.arg("-l").arg(self.dir.join("server.log")).arg("-w").arg("-o");
        c.arg(format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.dir.display())).arg("start");
        self.run(c, "pg_ctl start").await;
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.pg_ctl().args(["-m", "immediate", "-w", "stop"]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Saves under way when the cluster stops with `mode`: while it is down every
/// save is a 503 within the client timeout, never a 500 or a hang; started
/// again, the server is healthy within 2 s and no acknowledged save was lost.
async fn database_stops_mid_run(mode: &str) {
    let cluster = Cluster::start().await;
    let name = "standardise_durability";
    discover::ensure_database(&cluster.admin, name).await.expect("database");
    let options = cluster.admin.clone().database(name);
    let pool =
        PgPoolOptions::new().max_connections(4).acquire_timeout(CLIENT_TIMEOUT).connect_with(options.clone()).await.expect("connect");
    standardise::db::migrate(&pool).await.expect("migrations");
    let seed = seed(&pool).await;
    let log = log_path(&format!("db-stop-{mode}"));
    let mut server = ServerProcess::start(&database_url(&options), &log).await;
    let meeting = open_meeting(&server.url(""), &pool, seed).await;
    let http = reqwest::Client::builder().timeout(CLIENT_TIMEOUT).build().expect("client");
    let health = || http.get(server.url("/healthz")).send();

    let (w, clients) = Workload::start(server.url(""), meeting);
    w.wait_for_acked(100, Duration::from_secs(30)).await;
    cluster.stop(mode).await;
    let down = Instant::now();
    let r = health().await.expect("/healthz answers within the client timeout while the database is down");
    assert_eq!(r.status(), 503, "/healthz while the database is down");
    // Long enough for every client to make whole requests during the outage.
    tokio::time::sleep_until((down + Duration::from_secs(8)).into()).await;

    let restarting = Instant::now();
    cluster.restart().await;
    let up = Instant::now();
    loop {
        if let Ok(r) = health().await
            && r.status() == 200
        {
            break;
        }
        assert!(
            up.elapsed() < Duration::from_secs(2),
            "not healthy within 2 s of the database starting again (server log {})",
            log.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let healthy_after = up.elapsed();
    let acked_at_restart = w.acked();
    w.wait_for_acked(acked_at_restart + 30, Duration::from_secs(20)).await;
    let attempts = w.finish(clients).await;
    eprintln!(
        "database stops {mode}: {} saves: {}; healthy {:.2} s after the database started; {} saves acknowledged after",
        attempts.len(),
        summary(&attempts),
        healthy_after.as_secs_f64(),
        w.acked() - acked_at_restart
    );
    assert!(server.running(), "the server is still running (log {})", log.display());

    let wrong = wrong_answers(&attempts);
    assert!(wrong.is_empty(), "wrong answers (server log {}):\n{}", log.display(), wrong.join("\n"));
    let during: Vec<&Attempt> = attempts.iter().filter(|a| a.started >= down && a.finished <= restarting).collect();
    assert!(during.len() >= WORKERS / 2, "only {} saves were made while the database was down", during.len());
    let not_503: Vec<String> =
        during.iter().filter(|a| !matches!(&a.outcome, Outcome::Unavailable(c) if c == "unavailable")).map(|a| format!("{a:?}")).collect();
    assert!(not_503.is_empty(), "while the database was down, saves answered other than 503 unavailable:\n{}", not_503.join("\n"));

    let stored = stored_marks(&pool, &w.meeting).await;
    assert_nothing_lost(&w.meeting, &stored, &attempts, &log);
    eprintln!("database stops {mode}: {} marks hold a save whose answer never came", unanswered_but_stored(&stored, &attempts));
    save_again(&server.url(""), &w.meeting, &stored).await;
    drop(server);
    let _ = std::fs::remove_file(&log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn saves_while_the_database_stops_fast_are_503_and_none_acknowledged_is_lost() {
    within_limit("database stops fast", database_stops_mid_run("fast")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn saves_while_the_database_stops_immediately_are_503_and_none_acknowledged_is_lost() {
    within_limit("database stops immediately", database_stops_mid_run("immediate")).await;
}

// ---------------------------------------------------------------------------
// 3. Clients walk away mid-request.

/// A save as raw HTTP/1.1 (what a client sends), to cut off wherever wanted.
struct RawSave {
    path: String,
    head: String,
    body: String,
    token: String,
}

impl RawSave {
    fn new(addr: std::net::SocketAddr, meeting: &Meeting, client: usize, rng: &mut StdRng) -> RawSave {
        let examiner = client % meeting.examiners.len();
        let response = rng.gen_range(0..meeting.responses.len());
        let bands = &meeting.responses[response].1;
        let (level, min, max) = bands[rng.gen_range(0..bands.len())];
        // No version: the save always goes all the way through its transaction.
        let body = json!({"level": level, "mark": rng.gen_range(min..=max), "comment": format!("walked away {client}")}).to_string();
        let path = meeting.mark_path(response);
        let token = meeting.examiners[examiner].token.clone();
        let head = format!(
            "PUT {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        RawSave { path, head, body, token }
    }
}

/// A client that starts a save and walks away from it: after sending it all,
/// after closing its sending side, half way through the body, or (an HTTP
/// client) with its request future dropped part way.
async fn walk_away(addr: std::net::SocketAddr, meeting: &Meeting, client: usize) {
    let mut rng = StdRng::seed_from_u64(1000 + client as u64);
    let save = RawSave::new(addr, meeting, client, &mut rng);
    let after = Duration::from_micros(rng.gen_range(0..400_000));
    match client % 4 {
        0 | 1 => {
            let Ok(mut socket) = tokio::net::TcpStream::connect(addr).await else { return };
            let _ = socket.write_all(format!("{}{}", save.head, save.body).as_bytes()).await;
            if client % 4 == 1 {
                let _ = socket.shutdown().await;
            }
            tokio::time::sleep(after).await;
        }
        2 => {
            let Ok(mut socket) = tokio::net::TcpStream::connect(addr).await else { return };
            let _ = socket.write_all(format!("{}{}", save.head, &save.body[..save.body.len() / 2]).as_bytes()).await;
            tokio::time::sleep(after).await;
        }
        _ => {
            let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("client");
            let request = http
                .put(format!("http://{addr}{}", save.path))
                .bearer_auth(&save.token)
                .header("content-type", "application/json")
                .body(save.body);
            let _ = tokio::time::timeout(after, async { request.send().await?.text().await }).await;
        }
    }
}

/// The same raw save, waiting for its answer: proves the requests the walking
/// clients send are ones the server accepts.
async fn raw_save_answer(addr: std::net::SocketAddr, meeting: &Meeting) -> String {
    use tokio::io::AsyncReadExt;
    let save = RawSave::new(addr, meeting, 0, &mut StdRng::seed_from_u64(0));
    let mut socket = tokio::net::TcpStream::connect(addr).await.expect("connect");
    socket.write_all(format!("{}{}", save.head, save.body).as_bytes()).await.expect("send");
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(CLIENT_TIMEOUT, socket.read(&mut answer)).await.expect("an answer in time").expect("read");
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn clients_that_walk_away_mid_save_leave_no_connection_idle_in_a_transaction() {
    within_limit("walk away", async {
        let db = TestDb::new().await;
        let seed = seed(&db.pool).await;
        let log = log_path("walk-away");
        let mut server = ServerProcess::start(&database_url(&db.options), &log).await;
        let meeting = Arc::new(open_meeting(&server.url(""), &db.pool, seed).await);

        let clients = 320;
        let at_once = Arc::new(Semaphore::new(16));
        let mut walking = JoinSet::new();
        for client in 0..clients {
            let permit = at_once.clone().acquire_owned().await.expect("semaphore");
            let (meeting, addr) = (meeting.clone(), server.addr);
            walking.spawn(async move {
                walk_away(addr, &meeting, client).await;
                drop(permit);
            });
        }
        while let Some(done) = walking.join_next().await {
            done.expect("client task");
        }
        assert!(server.running(), "the server is still running (log {})", log.display());
        let answer = raw_save_answer(server.addr, &meeting).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "the walking clients' save is one the server accepts: {answer}");
        let written: i64 =
            sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE meeting_id = $1 AND new_value->>'comment' LIKE 'walked away%'")
                .bind(meeting.id)
                .fetch_one(&db.pool)
                .await
                .expect("count");
        eprintln!("walk away: {clients} clients walked away; {written} of their saves were made anyway");

        assert_no_idle_transaction(&db.pool, &db.name, Duration::from_secs(5), &log).await;
        let stored = stored_marks(&db.pool, &meeting).await;
        save_again(&server.url(""), &meeting, &stored).await;
        assert_no_idle_transaction(&db.pool, &db.name, Duration::from_secs(5), &log).await;
        drop(server);
        let _ = std::fs::remove_file(&log);
    })
    .await;
}
