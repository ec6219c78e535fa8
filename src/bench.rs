//! `standardise bench`: measures the dashboard at scale on this machine.
//!
//! For each panel size it builds a meeting in a scratch database (examiners ×
//! responses submitted marks, every response with a definitive mark), then
//! times, through the real router, `GET /api/v1/meetings/{id}/stats` and the
//! dashboard page, and prints the median and the slowest of the runs.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt;
use rand::{Rng, SeedableRng, rngs::StdRng};
use sqlx::{Connection, PgConnection, PgPool, postgres::PgConnectOptions};
use tower::ServiceExt;
use uuid::Uuid;

use crate::{
    app::{AppState, router},
    audit::Actor,
    auth::{password, tokens},
    config::Config,
    db,
    markscheme::{Level, PaperInfo, Question, QuestionKind, Scheme},
    papers::{PaperId, store as papers_store, versions},
    users::UserId,
};

/// What to measure.
pub struct BenchArgs {
    /// Panel sizes to try.
    pub examiners: Vec<usize>,
    /// Responses in the meeting (half 12-mark, half 24-mark questions).
    pub responses: usize,
    /// Timed runs per measurement.
    pub runs: usize,
}

fn scheme() -> Scheme {
    let levels = |bounds: &[(i32, i32)]| -> Vec<Level> {
        bounds.iter().enumerate().map(|(i, &(min, max))| Level { level: i as i32, min, max, descriptor: format!("Level {i}") }).collect()
    };
    Scheme {
        paper: PaperInfo {
            code: "BENCH1".into(),
            title: "Benchmark paper".into(),
            series: format!("run {}", Uuid::new_v4().simple()),
            board: "Bench".into(),
        },
        guidance: String::new(),
        questions: vec![
            Question {
                number: "01".into(),
                max_mark: 12,
                kind: QuestionKind::Levels,
                levels: levels(&[(0, 0), (1, 2), (3, 6), (7, 9), (10, 12)]),
                ..Question::default()
            },
            Question {
                number: "02".into(),
                max_mark: 24,
                kind: QuestionKind::Levels,
                levels: levels(&[(0, 0), (1, 6), (7, 11), (12, 16), (17, 21), (22, 24)]),
                ..Question::default()
            },
        ],
    }
}

fn level_of(q: &Question, mark: i32) -> i32 {
    q.band_for(mark).map(|l| l.level).unwrap_or(0)
}

/// Builds the meeting; returns its id and the PE's API token.
async fn seed(pool: &PgPool, examiners: usize, responses: usize, rng: &mut StdRng) -> anyhow::Result<(Uuid, String, String)> {
    let scheme = scheme();
    let hash = password::hash("bench password 1".into()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut tx = db::tx::begin(pool).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let tag = Uuid::new_v4().simple().to_string();
    let pe_email = format!("pe-{tag}@bench.example");
    let pe = sqlx::query_scalar!(
        r#"INSERT INTO users (email, name, password_hash) VALUES ($1, 'Principal', $2) RETURNING id AS "id: UserId""#,
        pe_email,
        hash,
    )
    .fetch_one(&mut *tx)
    .await?;
    let paper = papers_store::insert(&mut tx, &scheme, None, Actor(pe)).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let question_ids =
        sqlx::query_scalar!("SELECT id FROM questions WHERE paper_id = $1 ORDER BY position", paper as PaperId).fetch_all(&mut *tx).await?;
    let version = versions::record(&mut tx, paper, Some(Actor(pe)), "Benchmark").await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let meeting = sqlx::query_scalar!(
        "INSERT INTO meetings (paper_id, name, state, scheme_version_id) VALUES ($1, 'Bench meeting', 'marking', $2) RETURNING id",
        paper as PaperId,
        version,
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!("INSERT INTO meeting_participants (meeting_id, user_id, role) VALUES ($1, $2, 'pe')", meeting, pe as UserId)
        .execute(&mut *tx)
        .await?;
    let examiner_ids = sqlx::query_scalar!(
        "INSERT INTO users (email, name, password_hash)
         SELECT 'ex' || i || '-' || $2 || '@bench.example', 'Examiner ' || lpad(i::text, 5, '0'), $3 FROM generate_series(1, $1) i
         RETURNING id",
        i32::try_from(examiners)?,
        tag,
        hash,
    )
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO meeting_participants (meeting_id, user_id, role) SELECT $1, unnest($2::uuid[]), 'examiner'",
        meeting,
        &examiner_ids,
    )
    .execute(&mut *tx)
    .await?;
    // Scripts of two responses each, in the meeting.
    let scripts = responses.div_ceil(2);
    let mut response_ids = Vec::new();
    for s in 0..scripts {
        let script = sqlx::query_scalar!(
            "INSERT INTO scripts (paper_id, candidate) VALUES ($1, $2) RETURNING id",
            paper as PaperId,
            format!("{:04}", s + 1),
        )
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query!(
            "INSERT INTO meeting_scripts (meeting_id, paper_id, script_id, purpose, position) VALUES ($1, $2, $3, 'practice', $4)",
            meeting,
            paper as PaperId,
            script,
            i32::try_from(s)?,
        )
        .execute(&mut *tx)
        .await?;
        for (qi, qid) in question_ids.iter().enumerate() {
            if response_ids.len() == responses {
                break;
            }
            let rid = sqlx::query_scalar!(
                "INSERT INTO responses (script_id, question_id, paper_id, text) VALUES ($1, $2, $3, 'answer') RETURNING id",
                script,
                qid,
                paper as PaperId,
            )
            .fetch_one(&mut *tx)
            .await?;
            response_ids.push((rid, qi));
        }
    }
    for q in &question_ids {
        sqlx::query!("INSERT INTO meeting_tolerances (meeting_id, question_id, tolerance) VALUES ($1, $2, 1)", meeting, q)
            .execute(&mut *tx)
            .await?;
    }
    // Definitive marks, and every examiner's mark near them (some severe, some lenient).
    let bias: Vec<i32> = (0..examiners).map(|_| rng.gen_range(-2..=2)).collect();
    let (mut r_col, mut e_col, mut l_col, mut m_col) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for &(rid, qi) in &response_ids {
        let q = &scheme.questions[qi];
        let definitive = rng.gen_range(1..=q.max_mark);
        sqlx::query!(
            "INSERT INTO definitive_marks (meeting_id, response_id, level, mark, set_by, scheme_version_id) VALUES ($1, $2, $3, $4, $5, $6)",
            meeting,
            rid,
            level_of(q, definitive),
            definitive,
            pe as UserId,
            version,
        )
        .execute(&mut *tx)
        .await?;
        for (e, id) in examiner_ids.iter().enumerate() {
            let mark = (definitive + bias[e] + rng.gen_range(-2..=2)).clamp(0, q.max_mark);
            r_col.push(rid);
            e_col.push(*id);
            l_col.push(level_of(q, mark));
            m_col.push(mark);
        }
    }
    for chunk in (0..r_col.len()).collect::<Vec<_>>().chunks(50_000) {
        let (a, b) = (chunk[0], chunk[chunk.len() - 1] + 1);
        sqlx::query!(
            "INSERT INTO marks (meeting_id, response_id, examiner_id, level, mark, state, submitted_at, scheme_version_id)
             SELECT $1, r, e, l, m, 'submitted', now(), $6 FROM unnest($2::uuid[], $3::uuid[], $4::int[], $5::int[]) AS t(r, e, l, m)",
            meeting,
            &r_col[a..b],
            &e_col[a..b],
            &l_col[a..b],
            &m_col[a..b],
            version,
        )
        .execute(&mut *tx)
        .await?;
    }
    let token = tokens::insert(&mut tx, None, pe, "bench").await.map_err(|e| anyhow::anyhow!("{e}"))?;
    tx.commit().await?;
    sqlx::query!("ANALYZE").execute(pool).await?;
    Ok((meeting, token, pe_email))
}

fn cookie_of(response: &axum::response::Response) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("standardise_session="))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
}

async fn body_text(response: axum::response::Response) -> anyhow::Result<String> {
    Ok(String::from_utf8(response.into_body().collect().await?.to_bytes().to_vec())?)
}

/// Signs the PE in through the pages; returns the session cookie.
async fn sign_in(app: &Router, email: &str) -> anyhow::Result<String> {
    let page = app.clone().oneshot(Request::get("/login").body(Body::empty())?).await?;
    let cookie = cookie_of(&page).context("no session cookie")?;
    let html = body_text(page).await?;
    let token = html.split("name=\"csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).context("no csrf field")?.to_owned();
    let form = format!("csrf={token}&email={}&password=bench+password+1&next=%2F", crate::error::urlencode(email));
    let response = app
        .clone()
        .oneshot(
            Request::post("/login")
                .header(header::COOKIE, &cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form))?,
        )
        .await?;
    if response.status() != StatusCode::SEE_OTHER {
        bail!("signing in for the benchmark failed: {}", response.status());
    }
    Ok(cookie_of(&response).unwrap_or(cookie))
}

async fn time(app: &Router, runs: usize, make: impl Fn() -> anyhow::Result<Request<Body>>) -> anyhow::Result<(Duration, Duration, usize)> {
    let mut times = Vec::with_capacity(runs);
    let mut size = 0;
    // One untimed run warms the pool and caches.
    for run in 0..=runs {
        let started = Instant::now();
        let response = app.clone().oneshot(make()?).await?;
        if !response.status().is_success() {
            bail!("benchmark request failed: {}", response.status());
        }
        size = response.into_body().collect().await?.to_bytes().len();
        if run > 0 {
            times.push(started.elapsed());
        }
    }
    times.sort();
    Ok((times[times.len() / 2], times[times.len() - 1], size))
}

/// Runs the benchmark on a scratch database that is dropped afterwards.
pub async fn run(admin: PgConnectOptions, args: BenchArgs) -> anyhow::Result<()> {
    let name = format!("standardise_bench_{}", Uuid::new_v4().simple());
    db::discover::ensure_database(&admin, &name).await?;
    let result = async {
        let pool = db::discover::pool(admin.clone().database(&name)).await?;
        db::migrate(&pool).await?;
        let state = AppState::new(pool.clone(), Config::default());
        let app = router(state);
        let mut rng = StdRng::seed_from_u64(2011);
        println!(
            "| examiners | responses | marks | stats API median | stats API slowest | dashboard page median | dashboard page slowest |"
        );
        println!("|---:|---:|---:|---:|---:|---:|---:|");
        for &n in &args.examiners {
            let (meeting, token, email) = seed(&pool, n, args.responses, &mut rng).await?;
            let cookie = sign_in(&app, &email).await?;
            let stats = time(&app, args.runs, || {
                Ok(Request::get(format!("/api/v1/meetings/{meeting}/stats"))
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .body(Body::empty())?)
            })
            .await?;
            let page = time(&app, args.runs, || {
                Ok(Request::get(format!("/meetings/{meeting}/dashboard?sort=deviation"))
                    .header(header::COOKIE, &cookie)
                    .body(Body::empty())?)
            })
            .await?;
            println!(
                "| {n} | {} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms |",
                args.responses,
                n * args.responses,
                stats.0.as_secs_f64() * 1e3,
                stats.1.as_secs_f64() * 1e3,
                page.0.as_secs_f64() * 1e3,
                page.1.as_secs_f64() * 1e3,
            );
            eprintln!("  ({n} examiners: stats body {} KB, page {} KB)", stats.2 / 1024, page.2 / 1024);
        }
        pool.close().await;
        Ok::<_, anyhow::Error>(())
    }
    .await;
    let mut conn = PgConnection::connect_with(&admin).await?;
    // A database name cannot be a bound parameter, so this statement is built at
    // run time (not checked at compile time); `name` is our own hex identifier.
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut conn).await?;
    result
}
