//! `standardise bench dashboard` (or plain `standardise bench`): measures the
//! dashboard at scale on this machine.
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
use rand::{SeedableRng, rngs::StdRng};
use sqlx::{PgPool, postgres::PgConnectOptions};
use tower::ServiceExt;
use uuid::Uuid;

use crate::{
    app::{AppState, router},
    auth::{password, tokens},
    config::Config,
    db, live,
    meetings::MeetingId,
    scripts::ResponseId,
    users::UserId,
};

/// What to measure (`standardise bench [dashboard] --examiners ...`).
#[derive(Debug, Clone, clap::Args)]
pub struct DashboardArgs {
    /// Panel sizes to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "100,1000,5000")]
    pub examiners: Vec<usize>,
    /// Responses in the meeting (half 12-mark, half 24-mark questions).
    #[arg(long, default_value_t = 50)]
    pub responses: usize,
    /// Timed runs per measurement.
    #[arg(long, default_value_t = 15)]
    pub runs: usize,
}

/// Builds the meeting, every examiner's mark submitted; returns its id, the
/// PE's API token and email. (Tests build large meetings with it too.)
pub async fn seed(pool: &PgPool, examiners: usize, responses: usize, rng: &mut StdRng) -> anyhow::Result<(Uuid, String, String)> {
    let hash = password::hash("bench password 1".into()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut tx = db::tx::begin(pool).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let paper = super::seed_paper(&mut tx, &hash).await?;
    let examiner_ids = super::seed_examiners(&mut tx, &paper, examiners, "", &hash).await?;
    let meeting = super::seed_meeting(&mut tx, &paper, &examiner_ids, responses, 0).await?;
    super::seed_submitted_marks(&mut tx, &paper, &meeting, &examiner_ids, rng).await?;
    let token = tokens::insert(&mut tx, None, paper.pe, "bench").await.map_err(|e| anyhow::anyhow!("{e}"))?;
    tx.commit().await?;
    super::analyze(pool).await?;
    Ok((meeting.id, token, paper.pe_email))
}

/// The `name=value` of the cookie `name` the response sets.
fn cookie_of(response: &axum::response::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.strip_prefix(name).is_some_and(|rest| rest.starts_with('=')))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
}

async fn body_text(response: axum::response::Response) -> anyhow::Result<String> {
    Ok(String::from_utf8(response.into_body().collect().await?.to_bytes().to_vec())?)
}

/// Signs the PE in through the pages; returns the session cookie. Signed out,
/// the form's token lives in a cookie of its own (`standardise_login`).
async fn sign_in(app: &Router, email: &str) -> anyhow::Result<String> {
    let page = app.clone().oneshot(Request::get("/login").body(Body::empty())?).await?;
    let cookie = cookie_of(&page, "standardise_login").context("no sign-in cookie")?;
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
    cookie_of(&response, "standardise_session").context("signed in, but no session cookie")
}

/// What happens before each timed request.
#[derive(Clone, Copy)]
enum Before {
    /// Nothing: the figures come from the cache, as between changes.
    Nothing,
    /// A mark is saved (its event is published): the cached figures are patched.
    Mark(MeetingId, ResponseId, UserId),
    /// Some other change (a tolerance; a release, set-up, the scheme are alike):
    /// all but the marks is read again, the marks kept.
    Other(MeetingId),
    /// A reconnection to the database, after which anything may have changed
    /// (as on the first request after the server starts): everything is read again.
    Everything,
}

/// Times `runs` requests, each after `before`, following one untimed run
/// (which warms the pool and the statement caches).
async fn time(
    app: &Router,
    runs: usize,
    hub: &live::Hub,
    before: Before,
    make: impl Fn() -> anyhow::Result<Request<Body>>,
) -> anyhow::Result<(Duration, Duration, usize)> {
    let mut times = Vec::with_capacity(runs);
    let mut size = 0;
    for run in 0..=runs {
        match before {
            Before::Nothing => {}
            Before::Mark(meeting, response, examiner) => {
                hub.publish_events(vec![live::Event::about(meeting, live::Kind::Mark, Some(response), Some(examiner))])
            }
            Before::Other(meeting) => hub.publish_events(vec![live::Event::about(meeting, live::Kind::Tolerance, None, None)]),
            Before::Everything => hub.publish_events(vec![live::Event::resync()]),
        }
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
pub async fn run(admin: PgConnectOptions, args: DashboardArgs) -> anyhow::Result<()> {
    let runs = args.runs.max(1);
    let name = super::create_scratch(&admin).await?;
    let result = async {
        let pool = db::discover::pool(admin.clone().database(&name)).await?;
        db::migrate(&pool).await?;
        let state = AppState::new(pool.clone(), Config::default());
        let hub = state.live.clone();
        let app = router(state);
        let mut rng = StdRng::seed_from_u64(2011);
        println!(
            "| examiners | responses | marks | request | unchanged: median / slowest | after a mark is saved | after another change | read in full |"
        );
        println!("|---:|---:|---:|---|---:|---:|---:|---:|");
        let ms = |(median, slowest, _): (Duration, Duration, usize)| {
            format!("{:.1} / {:.1} ms", median.as_secs_f64() * 1e3, slowest.as_secs_f64() * 1e3)
        };
        for &n in &args.examiners {
            let (meeting, token, email) = seed(&pool, n, args.responses, &mut rng).await?;
            let cookie = sign_in(&app, &email).await?;
            // A mark whose saving is simulated (at run time: the table is the application's own).
            let (response, examiner): (Uuid, Uuid) =
                sqlx::query_as("SELECT response_id, examiner_id FROM marks WHERE meeting_id = $1 LIMIT 1")
                    .bind(meeting)
                    .fetch_one(&pool)
                    .await?;
            let id = MeetingId(meeting);
            let changes =
                [Before::Nothing, Before::Mark(id, ResponseId(response), UserId(examiner)), Before::Other(id), Before::Everything];
            let stats = || {
                Ok(Request::get(format!("/api/v1/meetings/{meeting}/stats"))
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .body(Body::empty())?)
            };
            let page = || {
                Ok(Request::get(format!("/meetings/{meeting}/dashboard?sort=deviation"))
                    .header(header::COOKIE, &cookie)
                    .body(Body::empty())?)
            };
            let mut sizes = Vec::new();
            for (label, make) in [("stats API", &stats as &dyn Fn() -> anyhow::Result<Request<Body>>), ("dashboard page", &page)] {
                let mut cells = Vec::new();
                for before in changes {
                    let timed = time(&app, runs, &hub, before, make).await?;
                    sizes.push(timed.2);
                    cells.push(ms(timed));
                }
                println!("| {n} | {} | {} | {label} | {} |", args.responses, n * args.responses, cells.join(" | "));
            }
            eprintln!("  ({n} examiners: stats body {} KB, page {} KB)", sizes[0] / 1024, sizes[changes.len()] / 1024);
        }
        pool.close().await;
        Ok::<_, anyhow::Error>(())
    }
    .await;
    super::drop_scratch(&admin, &name).await?;
    result
}
