//! `standardise bench load`: examiners saving marks under load.
//!
//! A scratch database gets one paper, `--examiners` accounts with an API token
//! each, an earlier meeting marked to the end (so no table is empty when
//! PostgreSQL plans the queries), and one meeting open for marking, with
//! `--responses` responses, per run. The server runs as `standardise serve` in
//! a process of its own (its memory and CPU are read from `/proc`; it does not
//! share the load generator's runtime).
//!
//! First, `--autosave-rounds` times: pgbench makes the writes of a draft save
//! ([`super::pgbench`]) for `--pgbench-seconds` while the server idles, then
//! every examiner, up to `--concurrency` at a time, autosaves `--drafts`
//! drafts, nothing else open: the ratio of the means is the one the target is
//! set on, and the machine's drift falls on both sides of it.
//!
//! Then the marking runs: every examiner, up to `--concurrency` at a time,
//! does what the marking page does: signs in (`GET /api/v1/me` with their
//! token), and for each response opens it, saves two drafts and submits;
//! meanwhile `--dashboards` principal examiner's dashboards poll the
//! statistics. The first marking run has no live stream open; then each of
//! `--rounds` rounds is a run with `--streams` open and one without, so that
//! drift falls on both sides. The streams are examiners' marking pages (`GET
//! .../events`, stream `i` as examiner `i mod N`), so each hears its
//! examiner's own saves (the visibility policy); the time from a save's answer
//! to its event reaching every stream of that examiner is the fan-out.
//!
//! Before each run the database is vacuumed and analysed, as autovacuum would
//! between runs, and checkpointed.

use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use http_body_util::BodyExt;
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection, PgPool, postgres::PgConnectOptions};
use tokio::{
    sync::{Semaphore, mpsc, watch},
    task::JoinHandle,
};
use uuid::Uuid;

use super::{
    Paper, SeededMeeting,
    figures::{self, CpuShare, FanOut, Heard, Pgbench, Save, StreamsCost, Summary, summarise},
    http::{self, Api, Reply, ServerProcess, memory_of},
    level_of, pgbench,
};
use crate::{
    auth::{password, tokens},
    db,
    markscheme::Question,
    users::UserId,
};

/// What to simulate (`standardise bench load ...`).
#[derive(Debug, Clone, clap::Args)]
pub struct LoadArgs {
    /// Examiners marking, each with an account and an API token.
    #[arg(long, default_value_t = 500)]
    pub examiners: usize,
    /// Responses each examiner marks: opens it, saves two drafts, submits.
    #[arg(long, default_value_t = 10)]
    pub responses: usize,
    /// Examiners marking at the same moment (the rest wait their turn).
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Draft saves each examiner makes in the autosave run, which comes first: only
    /// `PUT .../mark` drafts, as a marking page's autosave sends them, and no
    /// dashboard or stream; its saves/s are set against pgbench's. 0 leaves it out.
    #[arg(long, default_value_t = 40)]
    pub drafts: usize,
    /// Autosave runs, each just after a pgbench run of its own (the server idle
    /// meanwhile), so that the machine's drift falls on both sides of the ratio.
    #[arg(long, default_value_t = 3)]
    pub autosave_rounds: usize,
    /// How long each pgbench run lasts, in seconds.
    #[arg(long, default_value_t = 8)]
    pub pgbench_seconds: u64,
    /// Live streams open in the runs with streams: examiners' pages, idle (on another meeting)
    /// or hearing their own saves; 0 marks once, with none.
    #[arg(long, default_value_t = 1000)]
    pub streams: usize,
    /// Rounds of four marking runs — idle streams, none, streams hearing, none (the order of
    /// the two kinds alternates) — after a first run with none: more give a steadier comparison.
    #[arg(long, default_value_t = 2)]
    pub rounds: usize,
    /// Principal examiner's dashboards polling the statistics.
    #[arg(long, default_value_t = 2)]
    pub dashboards: usize,
    /// Pause between a dashboard's polls, in milliseconds (the page refreshes 200 ms after a change).
    #[arg(long, default_value_t = 200)]
    pub poll_ms: u64,
    /// pgbench's clients.
    #[arg(long, default_value_t = 32)]
    pub pgbench_clients: usize,
    /// Leave out the pgbench comparison.
    #[arg(long)]
    pub no_pgbench: bool,
    /// The pgbench program (default: on PATH, else the newest /usr/lib/postgresql/*/bin/pgbench).
    #[arg(long)]
    pub pgbench: Option<PathBuf>,
    /// Also print every figure as one line of JSON, last.
    #[arg(long)]
    pub json: bool,
    /// Leave the scratch database for a closer look (its name is printed) instead of dropping it.
    #[arg(long)]
    pub keep_database: bool,
}

/// The requests timed, in the order the table lists them.
const ENDPOINTS: [&str; 5] =
    ["GET /api/v1/me (sign in)", "GET .../responses/{rid}", "PUT .../mark (draft)", "PUT .../mark (submit)", "GET .../stats (dashboard)"];
const ME: usize = 0;
const RESPONSE: usize = 1;
const DRAFT: usize = 2;
const SUBMIT: usize = 3;
const STATS: usize = 4;

/// Everything the runs need, shared by their tasks.
struct Setup {
    api: Api,
    /// The scratch database, for a change made as another process would make it.
    db: PgPool,
    pe: UserId,
    paper: crate::papers::PaperId,
    /// Where idle streams listen: pgbench's meeting, where nothing is marked while the examiners mark.
    idle_meeting: Uuid,
    questions: Vec<Question>,
    pe_token: String,
    examiner_tokens: Vec<String>,
}

/// One meeting to mark, with its responses and their question's index.
struct Target {
    meeting: Uuid,
    responses: Vec<(Uuid, usize)>,
}

/// What the examiners do in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    /// Draft saves only (`--drafts` each), with no dashboard or stream open.
    Autosave,
    /// What the marking page does: sign in, and per response open it, two drafts, submit.
    Marking,
}

/// What a run's live streams hear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Listen {
    /// Examiners' pages on another meeting, where nothing is being marked: idle viewers.
    Idle,
    /// Examiners' marking pages on the meeting being marked: each hears its examiner's saves.
    Own,
}

/// How long, after a meeting-wide change made by another process, every open
/// stream took to hear it.
#[derive(Debug, Clone, Copy, Serialize)]
struct ReachAll {
    heard: usize,
    missed: usize,
    /// Milliseconds from the change's commit to the last stream hearing it.
    last_ms: Option<f64>,
}

/// The figures of one run.
#[derive(Debug, Serialize)]
struct RunReport {
    kind: Kind,
    listen: Option<Listen>,
    reach_all: Option<ReachAll>,
    streams: usize,
    streams_opened: usize,
    stream_failures: usize,
    streams_ended_early: usize,
    resyncs: usize,
    duration_s: f64,
    saves: usize,
    saves_per_s: f64,
    /// Requests of every kind answered during the marking (dashboards included).
    requests: usize,
    errors: usize,
    errors_by_endpoint: BTreeMap<&'static str, usize>,
    latency_ms: BTreeMap<&'static str, Summary>,
    fan_out: Option<FanOut>,
    rss_before_streams_kb: Option<u64>,
    rss_with_streams_kb: Option<u64>,
    kb_per_stream: Option<f64>,
    rss_peak_during_run_kb: Option<u64>,
    /// The 1-minute load average as the marking began.
    load_before: Option<f64>,
    /// How the machine's CPU was shared while the examiners marked.
    cpu: Option<CpuShare>,
    /// The server's CPU time per save (everything it did, divided by the saves).
    server_cpu_ms_per_save: Option<f64>,
    /// PostgreSQL's CPU time per save (everything it did, divided by the saves).
    postgres_cpu_ms_per_save: Option<f64>,
}

/// Every figure, as printed and as the JSON line.
#[derive(Debug, Serialize)]
struct Report {
    examiners: usize,
    drafts: usize,
    responses: usize,
    concurrency: usize,
    dashboards: usize,
    poll_ms: u64,
    runs: Vec<RunReport>,
    server_peak_rss_kb: Option<u64>,
    pgbench: Option<PgbenchReport>,
    /// Saves/s with streams hearing their examiners' saves open against without (means over the runs).
    streams: Option<StreamsCost>,
    /// Saves/s with idle streams open against without.
    idle_streams: Option<StreamsCost>,
}

#[derive(Debug, Serialize)]
struct PgbenchReport {
    clients: usize,
    duration_s: u64,
    /// Each run, in the order made (each just before an autosave run).
    runs: Vec<Pgbench>,
    /// Mean transactions per second over the runs.
    tps: f64,
    command: String,
    /// Mean autosave saves/s ÷ mean pgbench tps: the ratio the target is set on.
    autosave_ratio: Option<f64>,
    /// PostgreSQL's CPU time per pgbench transaction, over every run.
    postgres_cpu_ms_per_transaction: Option<f64>,
}

/// Runs the benchmark on a scratch database that is dropped afterwards.
pub async fn run(admin: PgConnectOptions, database_url: Option<&str>, args: LoadArgs) -> anyhow::Result<()> {
    if args.examiners == 0 || args.responses == 0 || args.concurrency == 0 {
        bail!("--examiners, --responses and --concurrency must be at least 1");
    }
    let pgbench_bin = if args.no_pgbench {
        None
    } else {
        Some(
            pgbench::find(args.pgbench.as_deref())
                .context("no pgbench found (install PostgreSQL's client tools, give --pgbench PATH, or --no-pgbench)")?,
        )
    };
    let name = super::create_scratch(&admin).await?;
    let url = figures::database_url(database_url, admin.get_host(), admin.get_port(), admin.get_username(), &name);
    let result = run_on(&admin, &name, &url, &args, pgbench_bin).await;
    if args.keep_database {
        eprintln!("The scratch database is kept: {name}");
    } else {
        super::drop_scratch(&admin, &name).await?;
    }
    let report = result?;
    print_table(&report);
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    }
    Ok(())
}

async fn run_on(admin: &PgConnectOptions, name: &str, url: &str, args: &LoadArgs, pgbench_bin: Option<PathBuf>) -> anyhow::Result<Report> {
    let pool = db::discover::pool(admin.clone().database(name)).await?;
    db::migrate(&pool).await?;
    eprintln!("Setting up {} examiners with {} responses each...", args.examiners, args.responses);
    let seeded = seed(&pool, args).await;
    let pairs = match (&seeded, &pgbench_bin) {
        (Ok(s), Some(_)) => Some(pgbench::prepare(&pool, s.pgbench.id).await?),
        _ => None,
    };
    super::analyze(&pool).await?;
    pool.close().await;
    let seeded = seeded?;

    let server = ServerProcess::start(url).await?;
    let outcome = async {
        let setup = Arc::new(Setup {
            api: Api::new(server.addr),
            db: db::discover::pool(admin.clone().database(name)).await?,
            pe: UserId(seeded.paper.pe.0),
            paper: seeded.paper.id,
            idle_meeting: seeded.pgbench.id,
            questions: seeded.paper.scheme.questions.clone(),
            pe_token: seeded.pe_token.clone(),
            examiner_tokens: seeded.examiner_tokens.clone(),
        });
        warm_up(&setup, &seeded.runs[0].0, args.concurrency).await?;
        let mut runs = Vec::new();
        let mut pgbench_runs = Vec::new();
        let (mut pgbench_postgres_ms, mut command) = (Some(0.0), String::new());
        for meeting in &seeded.autosave {
            if let (Some(bin), Some(pairs)) = (&pgbench_bin, pairs) {
                vacuum(admin, name).await?;
                eprintln!("pgbench: {} clients for {} s (the server idle)...", args.pgbench_clients, args.pgbench_seconds);
                let before = http::ticks(None);
                let (figures, shown) = pgbench::run(pgbench::PgbenchRun {
                    bin,
                    url,
                    clients: args.pgbench_clients,
                    duration: Duration::from_secs(args.pgbench_seconds),
                    meeting: seeded.pgbench.id,
                    version: seeded.paper.version,
                    pairs,
                })
                .await?;
                let ms = before.zip(http::ticks(None)).map(|(b, a)| a.postgres.saturating_sub(b.postgres) as f64 * 10.0);
                pgbench_postgres_ms = pgbench_postgres_ms.zip(ms).map(|(sum, ms)| sum + ms);
                command = shown;
                pgbench_runs.push(figures);
            }
            vacuum(admin, name).await?;
            eprintln!("Autosaving drafts, {} per examiner...", args.drafts);
            let target = Target { meeting: meeting.id, responses: meeting.responses.clone() };
            runs.push(run_once(&setup, &server, &target, Kind::Autosave, (0, None), args).await?);
        }
        for (meeting, streams, listen) in &seeded.runs {
            let (streams, listen) = (*streams, *listen);
            vacuum(admin, name).await?;
            match listen {
                Some(Listen::Idle) => eprintln!("Marking with {streams} idle live streams open (on another meeting)..."),
                Some(Listen::Own) => eprintln!("Marking with {streams} live streams open, each hearing its examiner's saves..."),
                None => eprintln!("Marking with no live stream open..."),
            }
            let target = Target { meeting: meeting.id, responses: meeting.responses.clone() };
            runs.push(run_once(&setup, &server, &target, Kind::Marking, (streams, listen), args).await?);
        }
        Ok::<_, anyhow::Error>((runs, pgbench_runs, pgbench_postgres_ms, command, server.memory()))
    }
    .await;
    if outcome.is_err() {
        eprintln!("The server's log ended with:\n{}", server.log_tail());
    }
    server.stop().await;
    let (runs, pgbench_runs, pgbench_postgres_ms, command, memory) = outcome?;

    let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    let pgbench = match mean(&pgbench_runs.iter().map(|p| p.tps).collect::<Vec<_>>()) {
        Some(tps) => {
            let autosave = mean(&runs.iter().filter(|r| r.kind == Kind::Autosave).map(|r| r.saves_per_s).collect::<Vec<_>>());
            let transactions: Option<u64> = pgbench_runs.iter().map(|p| p.transactions).sum();
            Some(PgbenchReport {
                clients: args.pgbench_clients,
                duration_s: args.pgbench_seconds,
                tps,
                autosave_ratio: autosave.and_then(|a| figures::ratio(a, tps)),
                postgres_cpu_ms_per_transaction: pgbench_postgres_ms.zip(transactions).and_then(|(ms, n)| figures::ratio(ms, n as f64)),
                runs: pgbench_runs,
                command,
            })
        }
        None => None,
    };
    let cost = |listen: Listen| {
        let runs: Vec<(usize, f64)> = runs
            .iter()
            .filter(|r| r.kind == Kind::Marking && (r.listen.is_none() || r.listen == Some(listen)))
            .map(|r| (r.streams, r.saves_per_s))
            .collect();
        figures::streams_cost(&runs)
    };
    let (streams, idle_streams) = (cost(Listen::Own), cost(Listen::Idle));
    Ok(Report {
        examiners: args.examiners,
        drafts: args.drafts,
        responses: args.responses,
        concurrency: args.concurrency,
        dashboards: args.dashboards,
        poll_ms: args.poll_ms,
        runs,
        server_peak_rss_kb: memory.map(|m| m.peak_kb),
        pgbench,
        streams,
        idle_streams,
    })
}

/// `VACUUM ANALYZE` of the scratch database and a `CHECKPOINT` before each run, as autovacuum
/// would do between runs on an ordinary server: each run starts from tables
/// of known size and no dead rows, whatever the runs before left, and whether
/// or not autovacuum is on (it is often off on test servers).
async fn vacuum(admin: &PgConnectOptions, name: &str) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect_with(&admin.clone().database(name)).await?;
    // A utility statement: nothing for the compile-time check to check.
    sqlx::raw_sql("VACUUM ANALYZE").execute(&mut conn).await?;
    // And every run starts just after a checkpoint, so that none pays for one the
    // run before left half done (or, for a server's role that may not, as it comes).
    if let Err(e) = sqlx::raw_sql("CHECKPOINT").execute(&mut conn).await {
        eprintln!("  (no CHECKPOINT before the run: {e})");
    }
    conn.close().await?;
    Ok(())
}

/// Fills the server's connection pool and each connection's prepared
/// statements before anything is timed: `concurrency` examiners at once sign
/// in and open a response (nothing is saved), and the statistics are read once.
async fn warm_up(setup: &Arc<Setup>, meeting: &SeededMeeting, concurrency: usize) -> anyhow::Result<()> {
    let Some(&(rid, _)) = meeting.responses.first() else { return Ok(()) };
    let mut tasks = Vec::new();
    for k in 0..concurrency.min(setup.examiner_tokens.len()) {
        let (setup, path) = (setup.clone(), format!("/api/v1/meetings/{}/responses/{rid}", meeting.id));
        tasks.push(tokio::spawn(async move {
            let token = &setup.examiner_tokens[k];
            for reply in [setup.api.get("/api/v1/me", Some(token)).await, setup.api.get(&path, Some(token)).await] {
                if !reply.ok() {
                    return Err(reply.failure());
                }
            }
            Ok(())
        }));
    }
    for task in tasks {
        task.await?.map_err(|e| anyhow::anyhow!("a warm-up request failed: {e}"))?;
    }
    let stats = setup.api.get(&format!("/api/v1/meetings/{}/stats", meeting.id), Some(&setup.pe_token)).await;
    if !stats.ok() {
        bail!("the warm-up request for the statistics failed: {}", stats.failure());
    }
    Ok(())
}

/// The streams each run opens: none; then, each round, `streams` idle, none,
/// `streams` hearing their examiners' saves, and none again — idle first in
/// one round, hearing first in the next — so that whatever drifts during the
/// runs (the tables grow, the machine warms) falls on both sides of each
/// comparison.
fn plan(streams: usize, rounds: usize) -> Vec<(usize, Option<Listen>)> {
    let mut runs = vec![(0, None)];
    if streams > 0 {
        for round in 0..rounds.max(1) {
            let (first, second) = if round % 2 == 0 { (Listen::Idle, Listen::Own) } else { (Listen::Own, Listen::Idle) };
            runs.extend([(streams, Some(first)), (0, None), (streams, Some(second)), (0, None)]);
        }
    }
    runs
}

/// What setting up made.
struct Seeded {
    paper: Paper,
    pe_token: String,
    examiner_tokens: Vec<String>,
    /// One meeting per run, with the streams that run opens.
    runs: Vec<(SeededMeeting, usize, Option<Listen>)>,
    /// One per autosave run (none with `--drafts 0`).
    autosave: Vec<SeededMeeting>,
    /// Written to by pgbench.
    pgbench: SeededMeeting,
}

async fn seed(pool: &PgPool, args: &LoadArgs) -> anyhow::Result<Seeded> {
    let mut rng = StdRng::seed_from_u64(2011);
    let hash = password::hash("bench password 1".into()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut tx = db::tx::begin(pool).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let paper = super::seed_paper(&mut tx, &hash).await?;
    let examiners = super::seed_examiners(&mut tx, &paper, args.examiners, "", &hash).await?;
    let mut runs = Vec::new();
    for (nth, (streams, listen)) in plan(args.streams, args.rounds).into_iter().enumerate() {
        runs.push((marked_meeting(&mut tx, &paper, &examiners, args.responses, nth, &mut rng).await?, streams, listen));
    }
    let pgbench = marked_meeting(&mut tx, &paper, &examiners, args.responses, runs.len(), &mut rng).await?;
    let mut autosave = Vec::new();
    for round in 0..if args.drafts == 0 { 0 } else { args.autosave_rounds } {
        autosave.push(marked_meeting(&mut tx, &paper, &examiners, args.responses, runs.len() + 1 + round, &mut rng).await?);
    }
    // An earlier meeting, marked to the end, so that the tables are not empty
    // when PostgreSQL first plans the queries (an empty table is read whole).
    let nth = runs.len() + 1 + autosave.len();
    let past = super::seed_meeting(&mut tx, &paper, &examiners, args.responses, nth * args.responses.div_ceil(2)).await?;
    super::seed_submitted_marks(&mut tx, &paper, &past, &examiners, &mut rng).await?;
    let pe_token = tokens::insert(&mut tx, None, paper.pe, "bench").await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut examiner_tokens = Vec::with_capacity(examiners.len());
    for id in &examiners {
        examiner_tokens.push(tokens::insert(&mut tx, None, UserId(*id), "bench").await.map_err(|e| anyhow::anyhow!("{e}"))?);
    }
    tx.commit().await?;
    Ok(Seeded { paper, pe_token, examiner_tokens, runs, autosave, pgbench })
}

/// The `nth` meeting of every examiner, with scripts of its own and a definitive mark on each response so
/// the dashboards compute every figure they show.
async fn marked_meeting(
    tx: &mut sqlx::PgConnection,
    paper: &Paper,
    examiners: &[Uuid],
    responses: usize,
    nth: usize,
    rng: &mut StdRng,
) -> anyhow::Result<SeededMeeting> {
    let meeting = super::seed_meeting(tx, paper, examiners, responses, nth * responses.div_ceil(2)).await?;
    let definitive: Vec<i32> = meeting.responses.iter().map(|&(_, qi)| rng.gen_range(1..=paper.scheme.questions[qi].max_mark)).collect();
    super::seed_definitive(tx, paper, &meeting, &definitive).await?;
    Ok(meeting)
}

/// The marks an examiner gives a response: two drafts, then the second again, submitted.
fn marks_for(max: i32, examiner: usize, response: usize) -> [i32; 3] {
    let spread = usize::try_from(max).unwrap_or(0) + 1;
    let first = (examiner * 7 + response * 13) % spread;
    let second = (first + 1 + examiner % 3) % spread;
    [first, second, second].map(|m| i32::try_from(m).unwrap_or(0))
}

/// What one examiner's marking came to.
#[derive(Default)]
struct ExaminerRun {
    times: Vec<(usize, f64)>,
    errors: Vec<(usize, String)>,
    saves: Vec<Save>,
}

/// Notes how a request went; true when it succeeded.
fn record(out: &mut ExaminerRun, endpoint: usize, reply: &Reply) -> bool {
    out.times.push((endpoint, reply.ms));
    if !reply.ok() {
        out.errors.push((endpoint, reply.failure()));
    }
    reply.ok()
}

async fn examiner(setup: Arc<Setup>, target: Arc<Target>, k: usize, t0: Instant) -> ExaminerRun {
    let token = &setup.examiner_tokens[k];
    let mut out = ExaminerRun::default();
    let me = setup.api.get("/api/v1/me", Some(token)).await;
    if !record(&mut out, ME, &me) {
        return out;
    }
    for (ri, &(rid, qi)) in target.responses.iter().enumerate() {
        let base = format!("/api/v1/meetings/{}/responses/{rid}", target.meeting);
        let opened = setup.api.get(&base, Some(token)).await;
        if !record(&mut out, RESPONSE, &opened) {
            continue;
        }
        let question = &setup.questions[qi];
        let mut version = opened.json().and_then(|v| v["mark"]["version"].as_i64()).unwrap_or(0);
        for (seq, mark) in marks_for(question.max_mark, k, ri).into_iter().enumerate() {
            let submit = seq == 2;
            let body = json!({
                "level": level_of(question, mark),
                "mark": mark,
                "comment": format!("Examiner {k}: the answer reaches this level; the second point is undeveloped."),
                "version": version,
                "submit": submit,
            });
            let saved = setup.api.put_json(&format!("{base}/mark"), token, &body).await;
            if !record(&mut out, if submit { SUBMIT } else { DRAFT }, &saved) {
                break;
            }
            out.saves.push(Save { examiner: k, response: rid, seq, at_ms: t0.elapsed().as_secs_f64() * 1e3 });
            match saved.json().and_then(|v| v["version"].as_i64()) {
                Some(v) => version = v,
                None => {
                    out.errors.push((if submit { SUBMIT } else { DRAFT }, "the answer had no version".into()));
                    break;
                }
            }
        }
    }
    out
}

/// An examiner's autosave: `drafts` draft saves over their responses in
/// turn, each sent with the version the one before returned, as the marking
/// page does while someone types a comment.
async fn autosaver(setup: Arc<Setup>, target: Arc<Target>, k: usize, drafts: usize, t0: Instant) -> ExaminerRun {
    let token = &setup.examiner_tokens[k];
    let mut out = ExaminerRun::default();
    let mut versions = vec![0i64; target.responses.len()];
    for seq in 0..drafts {
        let ri = seq % target.responses.len();
        let (rid, qi) = target.responses[ri];
        let question = &setup.questions[qi];
        let mark = marks_for(question.max_mark, k, ri + seq)[0];
        let body = json!({
            "level": level_of(question, mark),
            "mark": mark,
            "comment": format!("Examiner {k}, draft {seq}: the answer reaches this level; the second point is undeveloped."),
            "version": versions[ri],
        });
        let saved = setup.api.put_json(&format!("/api/v1/meetings/{}/responses/{rid}/mark", target.meeting), token, &body).await;
        if !record(&mut out, DRAFT, &saved) {
            continue;
        }
        out.saves.push(Save { examiner: k, response: rid, seq, at_ms: t0.elapsed().as_secs_f64() * 1e3 });
        match saved.json().and_then(|v| v["version"].as_i64()) {
            Some(v) => versions[ri] = v,
            None => out.errors.push((DRAFT, "the answer had no version".into())),
        }
    }
    out
}

/// What one stream heard.
struct StreamRun {
    heard: Heard,
    /// When the meeting-wide change was heard, in ms from the start of the run.
    released_at: Option<f64>,
    resyncs: usize,
    ended_early: bool,
}

#[allow(clippy::too_many_arguments)]
async fn stream(
    api: Api,
    path: String,
    token: String,
    examiner: usize,
    opening: Arc<Semaphore>,
    opened: mpsc::Sender<Result<(), String>>,
    mut stop: watch::Receiver<bool>,
    t0: Instant,
) -> Option<StreamRun> {
    let permit = opening.acquire_owned().await.ok()?;
    let mut body = match api.open_stream(&path, &token).await {
        Ok(body) => body,
        Err(e) => {
            let _ = opened.send(Err(e)).await;
            return None;
        }
    };
    drop(permit);
    let _ = opened.send(Ok(())).await;
    drop(opened);
    let mut run = StreamRun { heard: Heard { examiner, ..Heard::default() }, released_at: None, resyncs: 0, ended_early: false };
    let mut buf = Vec::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            frame = body.frame() => match frame {
                Some(Ok(frame)) => {
                    let Some(data) = frame.data_ref() else { continue };
                    let at = t0.elapsed().as_secs_f64() * 1e3;
                    buf.extend_from_slice(data);
                    for message in figures::take_sse_messages(&mut buf) {
                        match message.kind.as_str() {
                            "mark" => {
                                let response = serde_json::from_str::<Value>(&message.data)
                                    .ok()
                                    .and_then(|v| v["response_id"].as_str().and_then(|r| r.parse::<Uuid>().ok()));
                                if let Some(r) = response {
                                    run.heard.marks.entry(r).or_default().push(at);
                                }
                            }
                            "resync" => run.resyncs += 1,
                            "release" => run.released_at = run.released_at.or(Some(at)),
                            _ => {}
                        }
                    }
                }
                Some(Err(_)) | None => {
                    run.ended_early = true;
                    break;
                }
            },
        }
    }
    Some(run)
}

async fn dashboard(setup: Arc<Setup>, meeting: Uuid, poll: Duration, mut stop: watch::Receiver<bool>) -> ExaminerRun {
    let mut out = ExaminerRun::default();
    let path = format!("/api/v1/meetings/{meeting}/stats");
    while !*stop.borrow() {
        let reply = setup.api.get(&path, Some(&setup.pe_token)).await;
        out.times.push((STATS, reply.ms));
        if !reply.ok() {
            out.errors.push((STATS, reply.failure()));
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = stop.changed() => break,
        }
    }
    out
}

/// Samples the server's resident memory until stopped; returns the most seen.
fn sample_memory(pid: u32, mut stop: watch::Receiver<bool>) -> JoinHandle<Option<u64>> {
    tokio::spawn(async move {
        let mut most = None;
        loop {
            if let Some(m) = memory_of(pid) {
                most = most.max(Some(m.rss_kb));
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                _ = stop.changed() => return most,
            }
        }
    })
}

/// One run on one meeting: opens the streams, marks, and measures.
async fn run_once(
    setup: &Arc<Setup>,
    server: &ServerProcess,
    target: &Target,
    kind: Kind,
    (streams, listen): (usize, Option<Listen>),
    args: &LoadArgs,
) -> anyhow::Result<RunReport> {
    let listening_on = if listen == Some(Listen::Idle) { setup.idle_meeting } else { target.meeting };
    let t0 = Instant::now();
    let target = Arc::new(Target { meeting: target.meeting, responses: target.responses.clone() });
    let rss_before_streams = server.memory().map(|m| m.rss_kb);

    // The streams, opened `concurrency` at a time as pages would be.
    let (stop_streams, streams_stop) = watch::channel(false);
    let (opened_tx, mut opened_rx) = mpsc::channel(streams.max(1));
    let opening = Arc::new(Semaphore::new(args.concurrency));
    let mut stream_tasks = Vec::with_capacity(streams);
    for i in 0..streams {
        let k = i % args.examiners;
        stream_tasks.push(tokio::spawn(stream(
            setup.api.clone(),
            format!("/api/v1/meetings/{listening_on}/events"),
            setup.examiner_tokens[k].clone(),
            k,
            opening.clone(),
            opened_tx.clone(),
            streams_stop.clone(),
            t0,
        )));
    }
    drop(opened_tx);
    let (mut streams_opened, mut stream_failures) = (0, Vec::new());
    // Every stream says once whether it opened.
    while let Some(result) = opened_rx.recv().await {
        match result {
            Ok(()) => streams_opened += 1,
            Err(e) => stream_failures.push(e),
        }
    }
    if let Some(first) = stream_failures.first() {
        eprintln!("  {} of {streams} streams did not open; the first: {first}", stream_failures.len());
    }
    let rss_with_streams = if streams > 0 {
        // Past the first check every stream makes of its listener (within one RECHECK).
        tokio::time::sleep(crate::live::RECHECK + Duration::from_secs(1)).await;
        server.memory().map(|m| m.rss_kb)
    } else {
        None
    };

    // Dashboards and the memory sampler until the marking ends.
    let (stop_others, others_stop) = watch::channel(false);
    let sampler = sample_memory(server.pid(), others_stop.clone());
    let dashboard_count = if kind == Kind::Marking { args.dashboards } else { 0 };
    let dashboards: Vec<_> = (0..dashboard_count)
        .map(|_| tokio::spawn(dashboard(setup.clone(), target.meeting, Duration::from_millis(args.poll_ms), others_stop.clone())))
        .collect();

    // The examiners, `concurrency` at a time.
    let load_before = http::load_average();
    let ticks_before = http::ticks(Some(server.pid()));
    let started = Instant::now();
    let in_flight = Arc::new(Semaphore::new(args.concurrency));
    let mut examiners = Vec::with_capacity(args.examiners);
    for k in 0..args.examiners {
        let permit = in_flight.clone().acquire_owned().await?;
        let (setup, target, drafts) = (setup.clone(), target.clone(), args.drafts);
        examiners.push(tokio::spawn(async move {
            let out = match kind {
                Kind::Autosave => autosaver(setup, target, k, drafts, t0).await,
                Kind::Marking => examiner(setup, target, k, t0).await,
            };
            drop(permit);
            out
        }));
    }
    let mut all = ExaminerRun::default();
    for task in examiners {
        let out = task.await?;
        all.times.extend(out.times);
        all.errors.extend(out.errors);
        all.saves.extend(out.saves);
    }
    let duration = started.elapsed().as_secs_f64();
    let ticks_after = http::ticks(Some(server.pid()));
    let cpu = ticks_before.zip(ticks_after).and_then(|(before, after)| figures::cpu_share(before, after));
    // USER_HZ: /proc counts in hundredths of a second on Linux.
    let cpu_ms = |of: fn(&figures::Ticks) -> u64| {
        ticks_before.zip(ticks_after).map(|(before, after)| of(&after).saturating_sub(of(&before)) as f64 * 10.0)
    };
    let (server_cpu_ms, postgres_cpu_ms) = (cpu_ms(|t| t.server), cpu_ms(|t| t.postgres));
    let _ = stop_others.send(true);
    for task in dashboards {
        let out = task.await?;
        all.times.extend(out.times);
        all.errors.extend(out.errors);
    }
    let rss_peak = sampler.await?;

    // The last events are on their way: wait a moment before closing the streams.
    tokio::time::sleep(Duration::from_secs(if streams > 0 { 2 } else { 0 })).await;
    // A meeting-wide change (a script released), made by another process, which
    // every open stream hears: the server learns of it through PostgreSQL's NOTIFY.
    let changed_at = if streams > 0 {
        let meeting = crate::meetings::Meeting {
            id: listening_on,
            paper_id: setup.paper,
            name: "Bench meeting".into(),
            held_on: None,
            state: crate::meetings::MeetingState::Marking,
            created_at: time::OffsetDateTime::now_utc(),
        };
        // At run time: the bench's own choice of script, nothing for the compile-time check.
        let script: Uuid = sqlx::query_scalar(
            "SELECT script_id FROM meeting_scripts WHERE meeting_id = $1 AND released_at IS NULL ORDER BY position LIMIT 1",
        )
        .bind(listening_on)
        .fetch_one(&setup.db)
        .await?;
        let pe = crate::audit::Actor(setup.pe);
        crate::transact!(&setup.db, |tx| {
            crate::marking::adjudication::release(tx, &meeting, Some(crate::scripts::ScriptId(script)), pe).await
        })
        .map_err(|e| anyhow::anyhow!("the meeting-wide change failed: {e}"))?;
        let at = t0.elapsed().as_secs_f64() * 1e3;
        tokio::time::sleep(Duration::from_secs(2)).await;
        Some(at)
    } else {
        None
    };
    let _ = stop_streams.send(true);
    let mut heard = Vec::new();
    let (mut resyncs, mut ended_early) = (0, 0);
    let (mut wide_heard, mut wide_last) = (0, None::<f64>);
    for task in stream_tasks {
        if let Some(run) = task.await? {
            resyncs += run.resyncs;
            ended_early += usize::from(run.ended_early);
            if let (Some(at), Some(changed)) = (run.released_at, changed_at) {
                wide_heard += 1;
                wide_last = Some(wide_last.unwrap_or(0.0).max((at - changed).max(0.0)));
            }
            heard.push(run.heard);
        }
    }
    let reach_all = changed_at.map(|_| ReachAll { heard: wide_heard, missed: streams_opened - wide_heard, last_ms: wide_last });

    let requests = all.times.len();
    let mut by_endpoint: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    for (endpoint, ms) in all.times {
        by_endpoint.entry(endpoint).or_default().push(ms);
    }
    let latency_ms = by_endpoint.into_iter().filter_map(|(e, mut v)| Some((ENDPOINTS[e], summarise(&mut v)?))).collect();
    let mut errors_by_endpoint = BTreeMap::new();
    for (endpoint, _) in &all.errors {
        *errors_by_endpoint.entry(ENDPOINTS[*endpoint]).or_insert(0) += 1;
    }
    for (endpoint, message) in all.errors.iter().take(5) {
        eprintln!("  error on {}: {message}", ENDPOINTS[*endpoint]);
    }
    let saves = all.saves.len();
    let kb_per_stream = match (rss_before_streams, rss_with_streams) {
        (Some(before), Some(with)) if streams_opened > 0 => Some((with as f64 - before as f64) / streams_opened as f64),
        _ => None,
    };
    Ok(RunReport {
        kind,
        listen,
        reach_all,
        streams,
        streams_opened,
        stream_failures: stream_failures.len(),
        streams_ended_early: ended_early,
        resyncs,
        duration_s: duration,
        saves,
        saves_per_s: saves as f64 / duration,
        requests,
        errors: all.errors.len(),
        errors_by_endpoint,
        latency_ms,
        fan_out: (listen == Some(Listen::Own)).then(|| figures::fan_out(&all.saves, &heard)),
        rss_before_streams_kb: rss_before_streams,
        rss_with_streams_kb: rss_with_streams,
        kb_per_stream,
        rss_peak_during_run_kb: rss_peak,
        load_before,
        cpu,
        server_cpu_ms_per_save: server_cpu_ms.and_then(|ms| figures::ratio(ms, saves as f64)),
        postgres_cpu_ms_per_save: postgres_cpu_ms.and_then(|ms| figures::ratio(ms, saves as f64)),
    })
}

fn mb(kb: Option<u64>) -> String {
    kb.map_or("–".into(), |kb| format!("{:.1} MB", kb as f64 / 1024.0))
}

fn ms(s: &Summary) -> String {
    format!("{} / {} / {} ms", fmt_ms(s.p50), fmt_ms(s.p95), fmt_ms(s.p99))
}

fn print_table(r: &Report) {
    println!(
        "\n{} examiners, {} at a time. Autosave: {} draft saves each, nothing else open. Marking: {} responses each \
         (open, two drafts, submit), {} dashboards polling every {} ms\n",
        r.examiners, r.concurrency, r.drafts, r.responses, r.dashboards, r.poll_ms
    );
    let header: Vec<String> = r
        .runs
        .iter()
        .map(|run| match (run.kind, run.listen) {
            (Kind::Autosave, _) => "autosave".into(),
            (Kind::Marking, None) => "marking, no stream".into(),
            (Kind::Marking, Some(Listen::Idle)) => format!("marking, {} idle streams", run.streams),
            (Kind::Marking, Some(Listen::Own)) => format!("marking, {} streams hearing", run.streams),
        })
        .collect();
    println!("| | {} |", header.join(" | "));
    println!("|---|{}", "---:|".repeat(r.runs.len()));
    let row = |label: &str, cell: &dyn Fn(&RunReport) -> String| {
        let cells: Vec<String> = r.runs.iter().map(cell).collect();
        println!("| {label} | {} |", cells.join(" | "));
    };
    row("saves/s", &|run| format!("**{:.0}**", run.saves_per_s));
    row("saves (2xx) / marking time", &|run| format!("{} / {:.1} s", run.saves, run.duration_s));
    row("requests/s, every kind", &|run| format!("{:.0}", run.requests as f64 / run.duration_s));
    row("errors (non-2xx or none)", &|run| run.errors.to_string());
    for name in ENDPOINTS {
        row(&format!("{name} p50 / p95 / p99"), &|run| run.latency_ms.get(name).map_or("–".into(), ms));
    }
    row("slowest save", &|run| {
        let worst = [ENDPOINTS[DRAFT], ENDPOINTS[SUBMIT]].iter().filter_map(|e| run.latency_ms.get(e)).map(|s| s.max).fold(0.0, f64::max);
        format!("{worst:.0} ms")
    });
    row("fan-out p50 / p99 / max", &|run| match &run.fan_out {
        Some(FanOut { delay: Some(d), .. }) => format!("{} / {} / {} ms", fmt_ms(d.p50), fmt_ms(d.p99), fmt_ms(d.max)),
        _ => "–".into(),
    });
    row("a meeting-wide change from another process: streams that heard it / missed, last after", &|run| match run.reach_all {
        Some(ReachAll { heard, missed, last_ms }) => {
            format!("{heard} / {missed}, {}", last_ms.map_or("–".into(), |ms| format!("{} ms", fmt_ms(ms))))
        }
        None => "–".into(),
    });
    row("saves whose event was measured / missed", &|run| {
        run.fan_out.as_ref().map_or("–".into(), |f| format!("{} / {}", f.measured, f.missed))
    });
    row("streams open / failed / ended early", &|run| {
        if run.streams == 0 {
            "–".into()
        } else {
            format!("{} / {} / {}", run.streams_opened, run.stream_failures, run.streams_ended_early)
        }
    });
    row("server RSS before → with streams", &|run| {
        if run.streams == 0 { "–".into() } else { format!("{} → {}", mb(run.rss_before_streams_kb), mb(run.rss_with_streams_kb)) }
    });
    row("memory per open stream", &|run| run.kb_per_stream.map_or("–".into(), |kb| format!("{kb:.0} KB")));
    row("server RSS, most during the run", &|run| mb(run.rss_peak_during_run_kb));
    row("CPU busy (all cores) = server + PostgreSQL + load generator + other processes", &|run| {
        run.cpu.map_or("–".into(), |c| {
            let pc = |f: f64| format!("{:.0}%", f * 100.0);
            format!("{} = {} + {} + {} + {}", pc(c.busy), pc(c.server), pc(c.postgres), pc(c.generator), pc(c.rest))
        })
    });
    row("CPU per save: server / PostgreSQL (all they did ÷ saves)", &|run| {
        let f = |ms: Option<f64>| ms.map_or("–".into(), |ms| format!("{ms:.2}"));
        format!("{} / {} ms", f(run.server_cpu_ms_per_save), f(run.postgres_cpu_ms_per_save))
    });
    println!();
    println!("Peak server memory (VmHWM): {}", mb(r.server_peak_rss_kb));
    let open = r.runs.iter().map(|run| run.streams).max().unwrap_or(0);
    for (cost, what) in
        [(&r.idle_streams, "idle streams (viewers of another meeting)"), (&r.streams, "streams hearing their examiners' saves")]
    {
        if let Some(cost) = cost {
            println!(
                "Saves/s with {open} {what} ÷ with none (means over the runs): {:.0} ÷ {:.0} = {:.2}: \
                 they cost {:+.0}% of save throughput (target: under 10%)",
                cost.with,
                cost.without,
                cost.ratio,
                (1.0 - cost.ratio) * 100.0
            );
        }
    }
    if let Some(p) = &r.pgbench {
        let tps: Vec<String> = p.runs.iter().map(|run| format!("{:.0}", run.tps)).collect();
        println!(
            "pgbench, the draft save's two writes ({} clients, {} s a run, the server idle), before each autosave run: \
             {} tps (mean {:.0}); PostgreSQL CPU {} per transaction",
            p.clients,
            p.duration_s,
            tps.join(", "),
            p.tps,
            p.postgres_cpu_ms_per_transaction.map_or("–".into(), |ms| format!("{ms:.2} ms")),
        );
        let autosave: Vec<&RunReport> = r.runs.iter().filter(|run| run.kind == Kind::Autosave).collect();
        if let Some(ratio) = p.autosave_ratio {
            let each: Vec<String> = autosave.iter().map(|run| format!("{:.0}", run.saves_per_s)).collect();
            let mean = autosave.iter().map(|run| run.saves_per_s).sum::<f64>() / autosave.len().max(1) as f64;
            println!(
                "Autosave: draft saves/s ({}; mean {mean:.0}) ÷ pgbench tps (mean {:.0}) = **{ratio:.2}** (target: at least 0.6)",
                each.join(", "),
                p.tps
            );
        }
        let without = r.streams.map(|c| c.without).or(r.runs.iter().find(|run| run.kind == Kind::Marking).map(|run| run.saves_per_s));
        if let Some(without) = without
            && let Some(ratio) = figures::ratio(without, p.tps)
        {
            println!("Marking, saves/s with no stream open ÷ pgbench tps: {without:.0} ÷ {:.0} = {ratio:.2}", p.tps);
        }
        if let Some(cost) = &r.streams
            && let Some(ratio) = figures::ratio(cost.with, p.tps)
        {
            println!("Marking, saves/s with the streams open ÷ pgbench tps: {:.0} ÷ {:.0} = {ratio:.2}", cost.with, p.tps);
        }
        println!("  ({})", p.command);
    }
}

fn fmt_ms(v: f64) -> String {
    if v < 10.0 { format!("{v:.1}") } else { format!("{v:.0}") }
}
