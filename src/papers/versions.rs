//! Versions of a paper's mark scheme: immutable, numbered 1, 2, … Each save
//! of the working copy (before any meeting marks) makes a new version; a
//! meeting marks against the version it is pinned to, and every mark records
//! it. Indicative-content points keep their ids from version to version while
//! their text is unchanged, so a credited point means the same thing for ever.

use std::{
    collections::HashMap,
    sync::{Arc, LazyLock, Mutex},
};

use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    PaperId,
    store::{self as papers_store},
};
use serde_json::json;

use crate::{
    audit::{self, Actor},
    error::AppError,
    markscheme::{Question, Scheme},
    users::UserId,
};

/// Longest point text kept; a longer bullet is cut at a word and ends "…".
pub const POINT_CHARS: usize = 600;

/// The points of indicative content: its bullet lines, without bold marks,
/// each whole — a bullet that wraps onto following lines (as a PDF or an
/// OCR'd page wraps it) is one point — and each once.
/// The one rule for what a "point" is (the migration that began versions
/// applied an earlier form of it to existing schemes; stored versions keep
/// the points they were made with).
pub fn points_of(indicative_content: &str) -> Vec<String> {
    let mut points: Vec<String> = Vec::new();
    let mut open = false;
    for line in indicative_content.lines() {
        let line = line.trim_start_matches([' ', '\t']).trim_end_matches([' ', '\t', '\r']);
        if let Some(rest) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
            points.push(rest.to_owned());
            open = true;
        } else if line.is_empty() || line.starts_with(['#', '|', '>']) || line == "-" || line == "*" {
            open = false;
        } else if open && let Some(last) = points.last_mut() {
            // A wrapped bullet: its next line carries on the same point.
            last.push(' ');
            last.push_str(line);
        }
    }
    let mut seen: Vec<String> = Vec::new();
    for p in points {
        let text = whole_words(p.replace("**", "").split_whitespace().collect::<Vec<_>>().join(" "), POINT_CHARS);
        if !text.is_empty() && !seen.contains(&text) {
            seen.push(text);
        }
    }
    seen
}

/// `text` cut to at most `max` characters at a word boundary, marked "…" when cut.
fn whole_words(text: String, max: usize) -> String {
    if text.chars().count() <= max {
        return text;
    }
    let cut: String = text.chars().take(max - 1).collect();
    let at_word = cut.rfind(' ').filter(|&i| i > 0).map_or(cut.as_str(), |i| &cut[..i]);
    format!("{}…", at_word.trim_end_matches([',', ';', ':', ' ']))
}

/// A point of indicative content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Point {
    /// Stable id: the same text of the same question keeps it.
    pub id: Uuid,
    /// What it says.
    pub text: String,
}

/// The stored document of a version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Document {
    scheme: Scheme,
    question_ids: Vec<Uuid>,
    points: Vec<Vec<Point>>,
}

/// One version of a paper's scheme.
#[derive(Debug, Clone)]
pub struct Version {
    /// Id.
    pub id: Uuid,
    /// The paper.
    pub paper_id: PaperId,
    /// 1, 2, … in the order made.
    pub number: i32,
    /// Why it was made.
    pub note: String,
    /// When.
    pub created_at: OffsetDateTime,
    /// The scheme as it stood.
    pub scheme: Scheme,
    /// `question_ids[i]` is the id of `scheme.questions[i]`.
    pub question_ids: Vec<Uuid>,
    /// `points[i]` are the points of `scheme.questions[i]`.
    pub points: Vec<Vec<Point>>,
}

impl Version {
    /// A question of this version by id, with its points.
    pub fn question(&self, question_id: Uuid) -> Option<(&Question, &[Point])> {
        let i = self.question_ids.iter().position(|id| *id == question_id)?;
        Some((&self.scheme.questions[i], &self.points[i]))
    }
}

struct Row {
    id: Uuid,
    paper_id: PaperId,
    number: i32,
    note: String,
    created_at: OffsetDateTime,
    document: sqlx::types::Json<Document>,
}

impl From<Row> for Version {
    fn from(r: Row) -> Version {
        let d = r.document.0;
        Version {
            id: r.id,
            paper_id: r.paper_id,
            number: r.number,
            note: r.note,
            created_at: r.created_at,
            scheme: d.scheme,
            question_ids: d.question_ids,
            points: d.points,
        }
    }
}

/// Versions never change, so a process keeps the ones it has read: marking a
/// response reads its question from here, not from five tables.
static CACHE: LazyLock<Mutex<HashMap<Uuid, Arc<Version>>>> = LazyLock::new(Default::default);
const CACHE_LIMIT: usize = 512;

fn cached(id: Uuid) -> Option<Arc<Version>> {
    CACHE.lock().ok().and_then(|c| c.get(&id).cloned())
}

fn remember(version: Version) -> Arc<Version> {
    let version = Arc::new(version);
    if let Ok(mut c) = CACHE.lock() {
        if c.len() >= CACHE_LIMIT {
            c.clear();
        }
        c.insert(version.id, version.clone());
    }
    version
}

/// A version by id.
pub async fn load(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Arc<Version>>, AppError> {
    if let Some(v) = cached(id) {
        return Ok(Some(v));
    }
    let row = sqlx::query_as!(
        Row,
        r#"SELECT id, paper_id, number, note, created_at, document AS "document: sqlx::types::Json<Document>"
           FROM scheme_versions WHERE id = $1"#,
        id,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| remember(r.into())))
}

/// The newest version of a paper's scheme.
pub async fn latest(db: &mut PgConnection, paper_id: PaperId) -> Result<Option<Arc<Version>>, AppError> {
    let id = sqlx::query_scalar!("SELECT id FROM scheme_versions WHERE paper_id = $1 ORDER BY number DESC LIMIT 1", paper_id as PaperId)
        .fetch_optional(&mut *db)
        .await?;
    match id {
        Some(id) => load(&mut *db, id).await,
        None => Ok(None),
    }
}

/// A paper's version by its number.
pub async fn numbered(db: &mut PgConnection, paper_id: Uuid, number: i32) -> Result<Option<Arc<Version>>, AppError> {
    let id = sqlx::query_scalar!("SELECT id FROM scheme_versions WHERE paper_id = $1 AND number = $2", paper_id, number)
        .fetch_optional(&mut *db)
        .await?;
    match id {
        Some(id) => load(&mut *db, id).await,
        None => Ok(None),
    }
}

/// A summary of each version of a paper, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct VersionInfo {
    /// Id.
    pub id: Uuid,
    /// Number.
    pub number: i32,
    /// Why it was made.
    pub note: String,
    /// Who made it.
    pub created_by: Option<String>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Every version of a paper, newest first.
pub async fn list(db: impl PgExecutor<'_>, paper_id: PaperId) -> Result<Vec<VersionInfo>, AppError> {
    Ok(sqlx::query_as!(
        VersionInfo,
        r#"SELECT v.id, v.number, v.note, u.name AS "created_by?", v.created_at
           FROM scheme_versions v LEFT JOIN users u ON u.id = v.created_by
           WHERE v.paper_id = $1 ORDER BY v.number DESC"#,
        paper_id as PaperId,
    )
    .fetch_all(db)
    .await?)
}

/// Records the paper's working copy as a new version, unless it is the same
/// as the newest one. Call in the transaction that changed the working copy,
/// after it holds the paper's row lock. Returns the newest version's id.
pub async fn record(tx: &mut PgConnection, paper_id: PaperId, actor: Option<Actor>, note: &str) -> Result<Uuid, AppError> {
    let paper = papers_store::load(tx, paper_id).await?.ok_or_else(|| AppError::not_found("That paper"))?;
    // Points: the same text of the same question keeps its id.
    let (mut question_col, mut text_col) = (Vec::new(), Vec::new());
    let texts: Vec<Vec<String>> = paper.scheme.questions.iter().map(|q| points_of(&q.indicative_content)).collect();
    for (qid, list) in paper.question_ids.iter().zip(&texts) {
        for t in list {
            question_col.push(*qid);
            text_col.push(t.clone());
        }
    }
    let ids = sqlx::query!(
        "INSERT INTO indicative_points (question_id, text) SELECT * FROM unnest($1::uuid[], $2::text[])
         ON CONFLICT (question_id, text) DO UPDATE SET text = EXCLUDED.text
         RETURNING id, question_id, text",
        &question_col,
        &text_col,
    )
    .fetch_all(&mut *tx)
    .await?;
    let id_of: HashMap<(Uuid, &str), Uuid> = ids.iter().map(|p| ((p.question_id, p.text.as_str()), p.id)).collect();
    let points: Vec<Vec<Point>> = paper
        .question_ids
        .iter()
        .zip(&texts)
        .map(|(qid, list)| list.iter().filter_map(|t| Some(Point { id: *id_of.get(&(*qid, t.as_str()))?, text: t.clone() })).collect())
        .collect();
    let document = Document { scheme: paper.scheme, question_ids: paper.question_ids, points };

    let newest = sqlx::query!(
        r#"SELECT id, document AS "document: sqlx::types::Json<Document>"
           FROM scheme_versions WHERE paper_id = $1 ORDER BY number DESC LIMIT 1"#,
        paper_id as PaperId,
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(newest) = &newest
        && newest.document.0 == document
    {
        return Ok(newest.id);
    }
    let made = sqlx::query!(
        "INSERT INTO scheme_versions (paper_id, number, document, note, created_by)
         SELECT $1, COALESCE(max(number), 0) + 1, $2, $3, $4 FROM scheme_versions WHERE paper_id = $1
         RETURNING id, number",
        paper_id as PaperId,
        sqlx::types::Json(&document) as sqlx::types::Json<&Document>,
        note,
        actor.map(|a| a.0) as Option<UserId>,
    )
    .fetch_one(&mut *tx)
    .await?;
    let (id, number) = (made.id, made.number);
    let (point_col, position_col): (Vec<Uuid>, Vec<i32>) =
        document.points.iter().flatten().enumerate().map(|(i, p)| (p.id, i32::try_from(i + 1).unwrap_or(i32::MAX))).unzip();
    sqlx::query!(
        "INSERT INTO version_points (scheme_version_id, point_id, position) SELECT $1, * FROM unnest($2::uuid[], $3::int[])",
        id,
        &point_col,
        &position_col,
    )
    .execute(&mut *tx)
    .await?;
    let questions: Vec<&str> = document.scheme.questions.iter().map(|q| q.number.as_str()).collect();
    audit::record(
        &mut *tx,
        audit::Entry {
            new: Some(json!({"version": number, "questions": questions, "points": point_col.len()})),
            reason: Some(note),
            ..audit::Entry::paper(paper_id, actor, "scheme.version")
        },
    )
    .await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_the_bullets_without_bold() {
        let md = "**Note: not prescriptive.**\n\nFor example:\n\n- the **tone** of Source A\n  * a nested point\r\n- the tone of Source A\n\n-not a bullet\n- \n";
        assert_eq!(points_of(md), vec!["the tone of Source A", "a nested point"]);
        let long = format!("- {}", "word ".repeat(200));
        let cut = &points_of(&long)[0];
        assert!(cut.chars().count() <= POINT_CHARS && cut.ends_with("word…"), "cut at a word: {cut}");
    }

    #[test]
    fn a_wrapped_bullet_is_one_whole_point() {
        let md = "- the tone of **Source B** is positive; it does not\ntalk of hostility at all\n\nProblem, not a point.\n- a second\n  point wrapped with an indent\n# Heading\nnot a point";
        assert_eq!(
            points_of(md),
            vec!["the tone of Source B is positive; it does not talk of hostility at all", "a second point wrapped with an indent"]
        );
    }
}
