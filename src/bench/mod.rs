//! `standardise bench`: measurements anyone can repeat on their own machine,
//! each on a scratch database that is dropped afterwards.
//!
//! - `bench dashboard` (also plain `bench --examiners ...`, the first spelling):
//!   the statistics API and the dashboard page at scale ([`dashboard`]);
//! - `bench load`: examiners saving marks while dashboards poll and live streams
//!   are open, against a server in a process of its own, beside `pgbench` doing
//!   the same writes ([`load`]).
//!
//! The meetings both build come from the helpers here: one paper of two
//! levels-of-response questions, examiners made in one statement, scripts of two
//! responses each.

pub mod dashboard;
mod figures;
mod http;
pub mod load;
mod pgbench;

use anyhow::Context;
use clap::{Args, Subcommand};
use rand::{Rng, rngs::StdRng};
use sqlx::{Connection, PgConnection, PgPool, postgres::PgConnectOptions};
use uuid::Uuid;

use crate::{
    audit::Actor,
    config::DbArgs,
    db,
    markscheme::{Level, PaperInfo, Question, QuestionKind, Scheme},
    papers::{PaperId, store as papers_store, versions},
    users::UserId,
};

/// `standardise bench [dashboard|load]`; with no subcommand, the dashboard
/// benchmark with its options, as it was first spelled.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    #[command(subcommand)]
    kind: Option<BenchKind>,
    #[command(flatten)]
    dashboard: dashboard::DashboardArgs,
}

#[derive(Debug, Subcommand)]
enum BenchKind {
    /// Time the statistics API and the dashboard page at scale.
    Dashboard(dashboard::DashboardArgs),
    /// Examiners saving marks under load, with dashboards and live streams
    /// open, against the server in a process of its own; beside pgbench.
    Load(load::LoadArgs),
}

/// Runs the chosen benchmark on the PostgreSQL `serve` would use (or `DATABASE_URL`).
pub async fn run(db_args: &DbArgs, args: BenchArgs) -> anyhow::Result<()> {
    let (admin, cluster) = match db_args.database_url.as_deref() {
        Some(url) => (db::discover::options_from_url(url)?, None),
        None => {
            let server = db::discover::find_server(&db_args.data_dir.join("postgres")).await?;
            (server.admin, server.cluster)
        }
    };
    let result = match args.kind {
        None => dashboard::run(admin, args.dashboard).await,
        Some(BenchKind::Dashboard(d)) => dashboard::run(admin, d).await,
        Some(BenchKind::Load(l)) => load::run(admin, db_args.database_url.as_deref(), l).await,
    };
    if let Some(c) = cluster {
        c.stop();
    }
    result
}

/// A scratch database, migrated; drop it with [`drop_scratch`] whatever happens.
async fn create_scratch(admin: &PgConnectOptions) -> anyhow::Result<String> {
    let name = format!("standardise_bench_{}", Uuid::new_v4().simple());
    db::discover::ensure_database(admin, &name).await?;
    Ok(name)
}

/// Drops a scratch database, ending any connection still open on it.
async fn drop_scratch(admin: &PgConnectOptions, name: &str) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect_with(admin).await.context("connecting to drop the scratch database")?;
    // A database name cannot be a bound parameter, so this statement is built at
    // run time (not checked at compile time); `name` is our own hex identifier.
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut conn).await?;
    Ok(())
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

/// The benchmark paper, its scheme version and its principal examiner.
struct Paper {
    scheme: Scheme,
    id: PaperId,
    question_ids: Vec<Uuid>,
    version: Uuid,
    pe: UserId,
    pe_email: String,
    /// Makes this run's emails unique.
    tag: String,
}

/// A meeting in marking, and its responses with the index of their question.
struct SeededMeeting {
    id: Uuid,
    responses: Vec<(Uuid, usize)>,
}

/// Makes the principal examiner (password `bench password 1`) and the paper.
async fn seed_paper(tx: &mut PgConnection, hash: &str) -> anyhow::Result<Paper> {
    let scheme = scheme();
    let tag = Uuid::new_v4().simple().to_string();
    let pe_email = format!("pe-{tag}@bench.example");
    let pe = sqlx::query_scalar!(
        r#"INSERT INTO users (email, name, password_hash) VALUES ($1, 'Principal', $2) RETURNING id AS "id: UserId""#,
        pe_email,
        hash,
    )
    .fetch_one(&mut *tx)
    .await?;
    let paper = papers_store::insert(&mut *tx, &scheme, None, Actor(pe)).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let question_ids =
        sqlx::query_scalar!("SELECT id FROM questions WHERE paper_id = $1 ORDER BY position", paper as PaperId).fetch_all(&mut *tx).await?;
    let version = versions::record(&mut *tx, paper, Some(Actor(pe)), "Benchmark").await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Paper { scheme, id: paper, question_ids, version, pe, pe_email, tag })
}

/// Makes `examiners` accounts in one statement; `batch` keeps their emails apart from another batch's.
async fn seed_examiners(tx: &mut PgConnection, paper: &Paper, examiners: usize, batch: &str, hash: &str) -> anyhow::Result<Vec<Uuid>> {
    let tag = format!("{batch}{}", paper.tag);
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
    Ok(examiner_ids)
}

/// A meeting of the paper, open for marking, with its principal examiner, the
/// examiners, `responses` responses (scripts of two, their candidate numbers
/// counting on from `first_candidate`: a paper's are unique) and a tolerance of
/// 1 per question.
async fn seed_meeting(
    tx: &mut PgConnection,
    paper: &Paper,
    examiner_ids: &[Uuid],
    responses: usize,
    first_candidate: usize,
) -> anyhow::Result<SeededMeeting> {
    let (pe, version) = (paper.pe, paper.version);
    let meeting = sqlx::query_scalar!(
        "INSERT INTO meetings (paper_id, name, state, scheme_version_id) VALUES ($1, 'Bench meeting', 'marking', $2) RETURNING id",
        paper.id as PaperId,
        version,
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!("INSERT INTO meeting_participants (meeting_id, user_id, role) VALUES ($1, $2, 'pe')", meeting, pe as UserId)
        .execute(&mut *tx)
        .await?;
    sqlx::query!(
        "INSERT INTO meeting_participants (meeting_id, user_id, role) SELECT $1, unnest($2::uuid[]), 'examiner'",
        meeting,
        examiner_ids,
    )
    .execute(&mut *tx)
    .await?;
    // Scripts of two responses each, in the meeting.
    let scripts = responses.div_ceil(2);
    let mut response_ids = Vec::new();
    for s in 0..scripts {
        let script = sqlx::query_scalar!(
            "INSERT INTO scripts (paper_id, candidate) VALUES ($1, $2) RETURNING id",
            paper.id as PaperId,
            format!("{:04}", first_candidate + s + 1),
        )
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query!(
            "INSERT INTO meeting_scripts (meeting_id, paper_id, script_id, purpose, position) VALUES ($1, $2, $3, 'practice', $4)",
            meeting,
            paper.id as PaperId,
            script,
            i32::try_from(s)?,
        )
        .execute(&mut *tx)
        .await?;
        for (qi, qid) in paper.question_ids.iter().enumerate() {
            if response_ids.len() == responses {
                break;
            }
            let rid = sqlx::query_scalar!(
                "INSERT INTO responses (script_id, question_id, paper_id, text) VALUES ($1, $2, $3, 'answer') RETURNING id",
                script,
                qid,
                paper.id as PaperId,
            )
            .fetch_one(&mut *tx)
            .await?;
            response_ids.push((rid, qi));
        }
    }
    for q in &paper.question_ids {
        sqlx::query!("INSERT INTO meeting_tolerances (meeting_id, question_id, tolerance) VALUES ($1, $2, 1)", meeting, q)
            .execute(&mut *tx)
            .await?;
    }
    Ok(SeededMeeting { id: meeting, responses: response_ids })
}

/// The definitive marks given, one per response of the meeting in its order.
async fn seed_definitive(tx: &mut PgConnection, paper: &Paper, meeting: &SeededMeeting, marks: &[i32]) -> anyhow::Result<()> {
    let (pe, version) = (paper.pe, paper.version);
    let meeting_id = meeting.id;
    for (&(rid, qi), &definitive) in meeting.responses.iter().zip(marks) {
        let q = &paper.scheme.questions[qi];
        sqlx::query!(
            "INSERT INTO definitive_marks (meeting_id, response_id, level, mark, set_by, scheme_version_id) VALUES ($1, $2, $3, $4, $5, $6)",
            meeting_id,
            rid,
            level_of(q, definitive),
            definitive,
            pe as UserId,
            version,
        )
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Definitive marks, and every examiner's mark near them, submitted (some
/// examiners severe, some lenient): a meeting marked to the end.
async fn seed_submitted_marks(
    tx: &mut PgConnection,
    paper: &Paper,
    meeting: &SeededMeeting,
    examiner_ids: &[Uuid],
    rng: &mut StdRng,
) -> anyhow::Result<()> {
    let bias: Vec<i32> = (0..examiner_ids.len()).map(|_| rng.gen_range(-2..=2)).collect();
    let (mut definitive_col, mut r_col, mut e_col, mut l_col, mut m_col) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for &(rid, qi) in &meeting.responses {
        let q = &paper.scheme.questions[qi];
        let definitive = rng.gen_range(1..=q.max_mark);
        definitive_col.push(definitive);
        for (e, id) in examiner_ids.iter().enumerate() {
            let mark = (definitive + bias[e] + rng.gen_range(-2..=2)).clamp(0, q.max_mark);
            r_col.push(rid);
            e_col.push(*id);
            l_col.push(level_of(q, mark));
            m_col.push(mark);
        }
    }
    seed_definitive(tx, paper, meeting, &definitive_col).await?;
    let (meeting, version) = (meeting.id, paper.version);
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
    Ok(())
}

/// `ANALYZE` after seeding, so the planner knows the tables' sizes.
async fn analyze(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::query!("ANALYZE").execute(pool).await?;
    Ok(())
}
