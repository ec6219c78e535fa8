//! The floor under a save: `pgbench` making, on the same scratch database, the
//! writes the server's draft save makes (`marking::store::save_mark`): the
//! mark's upsert on `marks` and its row in `audit_log`, in one transaction,
//! with no HTTP, authentication, checks or locks of the meeting around them.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Context, bail};
use sqlx::PgPool;
use uuid::Uuid;

use super::figures::{Pgbench, parse_pgbench};

/// One transaction: a draft on a random (examiner, response) pair of the
/// pgbench meeting, as the server writes it, and its audit entry. pgbench
/// substitutes `:name` (a variable) everywhere, even inside quotes, so the JSON
/// below keeps a space after each colon.
const SCRIPT: &str = r#"\set n random(1, :pairs)
BEGIN;
INSERT INTO marks AS m (meeting_id, response_id, examiner_id, level, mark, comment, state, submitted_at, scheme_version_id, parts, annotations)
  SELECT :meeting::uuid, p.response_id, p.examiner_id, 2, 5, 'A draft saved by pgbench: about as long as a short rationale.', 'draft', NULL, :version::uuid, '[]'::jsonb, '[]'::jsonb
  FROM bench_pgbench_pairs p WHERE p.n = :n
  ON CONFLICT (meeting_id, response_id, examiner_id) DO UPDATE SET
    level = EXCLUDED.level, mark = EXCLUDED.mark, parts = EXCLUDED.parts, annotations = EXCLUDED.annotations, comment = EXCLUDED.comment,
    scheme_version_id = EXCLUDED.scheme_version_id, state = EXCLUDED.state, submitted_at = EXCLUDED.submitted_at, version = m.version + 1, updated_at = now()
  WHERE m.state <> 'submitted';
INSERT INTO audit_log (meeting_id, actor_id, action, response_id, subject_id, old_value, new_value)
  SELECT :meeting::uuid, p.examiner_id, 'mark.draft', p.response_id, p.examiner_id,
    '{"level": 2, "mark": 4, "parts": [], "annotations": 0, "comment": "A draft saved by pgbench: about as long as a short rationale.", "state": "draft"}'::jsonb,
    '{"level": 2, "mark": 5, "parts": [], "annotations": 0, "comment": "A draft saved by pgbench: about as long as a short rationale.", "state": "draft"}'::jsonb
  FROM bench_pgbench_pairs p WHERE p.n = :n;
END;
"#;

/// Lists the pgbench meeting's (examiner, response) pairs, numbered from 1, in
/// a table of the benchmark's own; returns how many. Built at run time: the
/// table is not part of the schema, so the compile-time check cannot know it.
pub async fn prepare(pool: &PgPool, meeting: Uuid) -> anyhow::Result<i64> {
    sqlx::raw_sql("CREATE TABLE bench_pgbench_pairs (n integer PRIMARY KEY, examiner_id uuid NOT NULL, response_id uuid NOT NULL)")
        .execute(pool)
        .await?;
    let done = sqlx::query(
        "INSERT INTO bench_pgbench_pairs (n, examiner_id, response_id)
         SELECT row_number() OVER (ORDER BY p.user_id, r.id), p.user_id, r.id
         FROM meeting_participants p
         JOIN meeting_scripts ms ON ms.meeting_id = p.meeting_id
         JOIN responses r ON r.script_id = ms.script_id
         WHERE p.meeting_id = $1 AND p.role = 'examiner'",
    )
    .bind(meeting)
    .execute(pool)
    .await?;
    Ok(i64::try_from(done.rows_affected())?)
}

/// `explicit`, else `pgbench` on PATH, else the newest `/usr/lib/postgresql/*/bin/pgbench`.
pub fn find(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(path) = explicit {
        return Some(path.to_owned());
    }
    if let Some(path) = std::env::var_os("PATH")
        && let Some(found) = std::env::split_paths(&path).map(|d| d.join("pgbench")).find(|p| p.is_file())
    {
        return Some(found);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin").join("pgbench");
            bin.is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, p)| p)
}

/// What to run pgbench with.
pub struct PgbenchRun<'a> {
    /// The program.
    pub bin: &'a Path,
    /// The scratch database.
    pub url: &'a str,
    /// Concurrent clients.
    pub clients: usize,
    /// How long.
    pub duration: Duration,
    /// The meeting it writes marks in.
    pub meeting: Uuid,
    /// The meeting's scheme version.
    pub version: Uuid,
    /// How many pairs [`prepare`] listed.
    pub pairs: i64,
}

/// Runs pgbench with prepared statements (as sqlx uses) and reads its summary;
/// returns it with the command line, for the record.
pub async fn run(r: PgbenchRun<'_>) -> anyhow::Result<(Pgbench, String)> {
    let script = std::env::temp_dir().join(format!("standardise-bench-load-{}.sql", std::process::id()));
    std::fs::write(&script, SCRIPT).with_context(|| format!("writing {}", script.display()))?;
    let threads = std::thread::available_parallelism().map_or(2, usize::from).min(r.clients.max(1));
    let args: Vec<String> = vec![
        "-n".into(),
        "-M".into(),
        "prepared".into(),
        "-c".into(),
        r.clients.to_string(),
        "-j".into(),
        threads.to_string(),
        "-T".into(),
        r.duration.as_secs().max(1).to_string(),
        "-f".into(),
        script.display().to_string(),
        "-D".into(),
        format!("meeting={}", r.meeting),
        "-D".into(),
        format!("version={}", r.version),
        "-D".into(),
        format!("pairs={}", r.pairs),
        r.url.into(),
    ];
    let output = tokio::process::Command::new(r.bin).args(&args).output().await;
    let _ = std::fs::remove_file(&script);
    let output = output.with_context(|| format!("running {}", r.bin.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!("pgbench failed ({}):\n{}{}", output.status, stdout, String::from_utf8_lossy(&output.stderr));
    }
    let figures = parse_pgbench(&stdout).with_context(|| format!("no tps in pgbench's output:\n{stdout}"))?;
    let shown: Vec<String> =
        args.iter().map(|a| if a.starts_with("postgres") { "$SCRATCH_DATABASE_URL".into() } else { a.clone() }).collect();
    Ok((figures, format!("{} {}", r.bin.display(), shown.join(" "))))
}
