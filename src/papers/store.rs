//! Papers in the database: one query per area when reading, one transaction when writing.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use super::PaperId;
use crate::{
    audit::Actor,
    error::{AppError, on_constraint},
    markscheme::{AoBands, Level, PaperInfo, Question, QuestionKind, Scheme},
    meetings::{MeetingState, store as meetings_store},
    users::UserId,
};

/// A row of the papers list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PaperSummary {
    /// Id.
    pub id: PaperId,
    /// Exam board.
    pub board: String,
    /// Code, e.g. HIS2L.
    pub code: String,
    /// Title.
    pub title: String,
    /// Series, e.g. January 2011.
    pub series: String,
    /// How many questions.
    pub questions: i64,
    /// How many candidate scripts.
    pub scripts: i64,
    /// When it was saved.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Every paper, newest first, with its counts.
pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<PaperSummary>, AppError> {
    Ok(sqlx::query_as!(
        PaperSummary,
        r#"SELECT p.id, p.board, p.code, p.title, p.series, p.created_at,
                (SELECT count(*) FROM questions q WHERE q.paper_id = p.id) AS "questions!",
                (SELECT count(*) FROM scripts s WHERE s.paper_id = p.id) AS "scripts!"
           FROM papers p ORDER BY p.created_at DESC, p.code"#,
    )
    .fetch_all(db)
    .await?)
}

/// A stored paper: its scheme, and the ids of its questions in the same order.
#[derive(Debug, Clone)]
pub struct StoredPaper {
    /// Id.
    pub id: PaperId,
    /// The scheme, board included in `scheme.paper.board`.
    pub scheme: Scheme,
    /// `question_ids[i]` is the id of `scheme.questions[i]`.
    pub question_ids: Vec<Uuid>,
    /// The document it was imported from, if any.
    pub source_document: Option<String>,
}

impl StoredPaper {
    /// The question with this number, and its id.
    pub fn question(&self, number: &str) -> Option<(Uuid, &Question)> {
        self.scheme.questions.iter().zip(&self.question_ids).find(|(q, _)| q.number == number).map(|(q, id)| (*id, q))
    }

    /// "01, 02, 03" for messages.
    pub fn question_numbers(&self) -> String {
        self.scheme.questions.iter().map(|q| q.number.as_str()).collect::<Vec<_>>().join(", ")
    }
}

struct PaperRow {
    id: PaperId,
    board: String,
    code: String,
    title: String,
    series: String,
    guidance: String,
    source_document: Option<String>,
}

struct QuestionRow {
    id: Uuid,
    number: String,
    prompt: String,
    max_mark: i32,
    targets: Vec<String>,
    kind: QuestionKind,
    indicative_content: String,
}

struct BandRow {
    question_id: Uuid,
    grid: i32,
    level: i32,
    min_mark: i32,
    max_mark: i32,
    descriptor: String,
}

struct GridRow {
    question_id: Uuid,
    grid: i32,
    targets: Vec<String>,
}

/// Loads a paper with its questions, bands and grids (four queries, not one per question).
pub async fn load(db: &mut PgConnection, id: PaperId) -> Result<Option<StoredPaper>, AppError> {
    let Some(paper) = sqlx::query_as!(
        PaperRow,
        "SELECT id, board, code, title, series, guidance, source_document FROM papers WHERE id = $1",
        id as PaperId,
    )
    .fetch_optional(&mut *db)
    .await?
    else {
        return Ok(None);
    };
    let questions = sqlx::query_as!(
        QuestionRow,
        r#"SELECT id, number, prompt, max_mark, targets, kind AS "kind: QuestionKind", indicative_content
           FROM questions WHERE paper_id = $1 ORDER BY position"#,
        id as PaperId,
    )
    .fetch_all(&mut *db)
    .await?;
    let bands = sqlx::query_as!(
        BandRow,
        "SELECT b.question_id, b.grid, b.level, b.min_mark, b.max_mark, b.descriptor
         FROM level_bands b JOIN questions q ON q.id = b.question_id
         WHERE q.paper_id = $1 ORDER BY b.question_id, b.grid, b.level",
        id as PaperId,
    )
    .fetch_all(&mut *db)
    .await?;
    let grids = sqlx::query_as!(
        GridRow,
        "SELECT g.question_id, g.grid, g.targets FROM ao_grids g JOIN questions q ON q.id = g.question_id
         WHERE q.paper_id = $1 ORDER BY g.question_id, g.grid",
        id as PaperId,
    )
    .fetch_all(&mut *db)
    .await?;

    let mut levels: HashMap<(Uuid, i32), Vec<Level>> = HashMap::new();
    for b in bands {
        levels.entry((b.question_id, b.grid)).or_default().push(Level {
            level: b.level,
            min: b.min_mark,
            max: b.max_mark,
            descriptor: b.descriptor,
        });
    }
    let mut ao: HashMap<Uuid, Vec<AoBands>> = HashMap::new();
    for g in grids {
        let grid_levels = levels.remove(&(g.question_id, g.grid)).unwrap_or_default();
        ao.entry(g.question_id).or_default().push(AoBands { targets: g.targets, levels: grid_levels });
    }
    let question_ids = questions.iter().map(|q| q.id).collect();
    let questions = questions
        .into_iter()
        .map(|q| Question {
            levels: levels.remove(&(q.id, 0)).unwrap_or_default(),
            ao_bands: ao.remove(&q.id).unwrap_or_default(),
            number: q.number,
            prompt: q.prompt,
            max_mark: q.max_mark,
            targets: q.targets,
            indicative_content: q.indicative_content,
            kind: q.kind,
            source: None,
        })
        .collect();
    Ok(Some(StoredPaper {
        id: paper.id,
        scheme: Scheme {
            paper: PaperInfo { code: paper.code, title: paper.title, series: paper.series, board: paper.board },
            guidance: paper.guidance,
            questions,
        },
        question_ids,
        source_document: paper.source_document,
    }))
}

const DUPLICATE_PAPER: &str = "A paper with this board, code and series already exists. Open it from the papers list to edit it.";

/// Saves a new paper; call inside a transaction (the caller commits).
pub async fn insert(tx: &mut PgConnection, scheme: &Scheme, source_document: Option<&str>, created_by: Actor) -> Result<PaperId, AppError> {
    let info = &scheme.paper;
    let id = sqlx::query_scalar!(
        r#"INSERT INTO papers (board, code, title, series, guidance, source_document, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id AS "id: PaperId""#,
        info.board.trim(),
        info.code.trim(),
        info.title.trim(),
        info.series.trim(),
        scheme.guidance,
        source_document,
        created_by.0 as UserId,
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| on_constraint(e, "papers_board_code_series_key", DUPLICATE_PAPER))?;
    write_questions(tx, id, &scheme.questions).await?;
    // Version 1 of its scheme.
    super::versions::record(tx, id, Some(created_by), "Imported").await?;
    Ok(id)
}

/// Why a paper's mark scheme cannot change, said the same way everywhere.
pub const LOCKED_MESSAGE: &str = "A standardisation meeting has started marking this paper, so its mark scheme can no longer change.";

/// Whether a paper's mark scheme is fixed: a meeting on it has left set-up
/// (it is marking, or closed). The one definition of the rule: the pages ask
/// it, and `update` asks it again under the paper's lock, which opening a
/// meeting also takes, so the two cannot cross.
pub async fn is_locked(db: impl PgExecutor<'_>, paper_id: PaperId) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM meetings WHERE paper_id = $1 AND state <> $2) AS "locked!""#,
        paper_id as PaperId,
        MeetingState::Setup as MeetingState,
    )
    .fetch_one(db)
    .await?)
}

/// Refuses (409, `LOCKED_MESSAGE`) when the paper's mark scheme is fixed.
pub async fn refuse_if_locked(db: impl PgExecutor<'_>, paper_id: PaperId) -> Result<(), AppError> {
    if is_locked(db, paper_id).await? { Err(AppError::Conflict(LOCKED_MESSAGE.into())) } else { Ok(()) }
}

/// Replaces a paper's identification and scheme. Questions are matched by
/// number so scripts' responses keep pointing at them; removing a question
/// that already has responses is refused. Meetings still being set up follow
/// the paper: a removed question's tolerances go with it, an added question
/// gets the default tolerance in each of them.
pub async fn update(tx: &mut PgConnection, id: PaperId, scheme: &Scheme, actor: Actor) -> Result<(), AppError> {
    // Lock the paper, then check no meeting has started marking it.
    sqlx::query!("SELECT FROM papers WHERE id = $1 FOR UPDATE", id as PaperId).execute(&mut *tx).await?;
    refuse_if_locked(&mut *tx, id).await?;
    let info = &scheme.paper;
    let done = sqlx::query!(
        "UPDATE papers SET board = $2, code = $3, title = $4, series = $5, guidance = $6, updated_at = now() WHERE id = $1",
        id as PaperId,
        info.board.trim(),
        info.code.trim(),
        info.title.trim(),
        info.series.trim(),
        scheme.guidance,
    )
    .execute(&mut *tx)
    .await
    .map_err(|e| on_constraint(e, "papers_board_code_series_key", DUPLICATE_PAPER))?;
    if done.rows_affected() == 0 {
        return Err(AppError::not_found("That paper"));
    }
    let keep: Vec<String> = scheme.questions.iter().map(|q| q.number.trim().to_owned()).collect();
    let before: Vec<(Uuid, String)> = sqlx::query!("SELECT id, number FROM questions WHERE paper_id = $1", id as PaperId)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|q| (q.id, q.number))
        .collect();
    let in_use = sqlx::query_scalar!(
        "SELECT q.number FROM questions q WHERE q.paper_id = $1 AND NOT (q.number = ANY($2))
           AND EXISTS (SELECT 1 FROM responses r WHERE r.question_id = q.id) ORDER BY q.position",
        id as PaperId,
        &keep,
    )
    .fetch_all(&mut *tx)
    .await?;
    if !in_use.is_empty() {
        return Err(AppError::Conflict(format!(
            "Question {} cannot be removed: candidate scripts already have responses to it.",
            in_use.join(", ")
        )));
    }
    let removed: Vec<Uuid> = before.iter().filter(|(_, n)| !keep.contains(n)).map(|(q, _)| *q).collect();
    meetings_store::forget_questions(tx, &removed).await?;
    sqlx::query!("DELETE FROM questions WHERE id = ANY($1)", &removed).execute(&mut *tx).await?;
    let ids = write_questions(tx, id, &scheme.questions).await?;
    let added: Vec<(Uuid, i32)> = scheme
        .questions
        .iter()
        .zip(ids)
        .filter(|(q, _)| !before.iter().any(|(_, n)| n == q.number.trim()))
        .map(|(q, question_id)| (question_id, q.max_mark))
        .collect();
    meetings_store::add_default_tolerances(tx, id, &added).await?;
    // Before any meeting marks, an edit silently makes the next version.
    super::versions::record(tx, id, Some(actor), "Edited before marking").await?;
    Ok(())
}

/// Inserts or updates each question (by number) and rewrites its bands;
/// returns the questions' ids in order.
async fn write_questions(tx: &mut PgConnection, paper_id: PaperId, questions: &[Question]) -> Result<Vec<Uuid>, AppError> {
    let mut ids = Vec::with_capacity(questions.len());
    for (position, q) in questions.iter().enumerate() {
        let question_id = sqlx::query_scalar!(
            "INSERT INTO questions (paper_id, number, position, prompt, max_mark, targets, kind, indicative_content)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (paper_id, number) DO UPDATE SET position = EXCLUDED.position, prompt = EXCLUDED.prompt,
               max_mark = EXCLUDED.max_mark, targets = EXCLUDED.targets, kind = EXCLUDED.kind,
               indicative_content = EXCLUDED.indicative_content
             RETURNING id",
            paper_id as PaperId,
            q.number.trim(),
            i32::try_from(position).unwrap_or(i32::MAX),
            q.prompt,
            q.max_mark,
            &q.targets,
            q.kind as QuestionKind,
            q.indicative_content,
        )
        .fetch_one(&mut *tx)
        .await?;
        ids.push(question_id);
        sqlx::query!("DELETE FROM level_bands WHERE question_id = $1", question_id).execute(&mut *tx).await?;
        sqlx::query!("DELETE FROM ao_grids WHERE question_id = $1", question_id).execute(&mut *tx).await?;
        let mut grids: Vec<(i32, &[Level])> = vec![(0, q.levels.as_slice())];
        for (i, grid) in q.ao_bands.iter().enumerate() {
            let g = i32::try_from(i + 1).unwrap_or(i32::MAX);
            sqlx::query!("INSERT INTO ao_grids (question_id, grid, targets) VALUES ($1, $2, $3)", question_id, g, &grid.targets)
                .execute(&mut *tx)
                .await?;
            grids.push((g, grid.levels.as_slice()));
        }
        for (grid, levels) in grids {
            if levels.is_empty() {
                continue;
            }
            // One statement per grid, the bands passed as arrays.
            sqlx::query!(
                "INSERT INTO level_bands (question_id, grid, level, min_mark, max_mark, descriptor)
                 SELECT $1, $2, * FROM unnest($3::int[], $4::int[], $5::int[], $6::text[])",
                question_id,
                grid,
                &levels.iter().map(|l| l.level).collect::<Vec<_>>(),
                &levels.iter().map(|l| l.min).collect::<Vec<_>>(),
                &levels.iter().map(|l| l.max).collect::<Vec<_>>(),
                &levels.iter().map(|l| l.descriptor.clone()).collect::<Vec<_>>(),
            )
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(ids)
}
