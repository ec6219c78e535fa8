//! Scripts, responses and attachments in the database.

use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::{ResponseId, ScriptId, upload::ScriptUpload};
use crate::{
    error::{AppError, on_constraint},
    meetings::Role,
    papers::PaperId,
    users::UserId,
};

/// A row of a paper's scripts list.
#[derive(Debug, Clone, Serialize)]
pub struct ScriptSummary {
    /// Id.
    pub id: ScriptId,
    /// Candidate number.
    pub candidate: String,
    /// How many questions it answers.
    pub responses: i64,
    /// How many of those are scans.
    pub attachments: i64,
}

/// A paper's scripts in candidate order, with counts (one query).
pub async fn list(db: impl PgExecutor<'_>, paper_id: PaperId) -> Result<Vec<ScriptSummary>, AppError> {
    Ok(sqlx::query_as!(
        ScriptSummary,
        r#"SELECT s.id, s.candidate, count(r.id) AS "responses!", count(r.attachment_id) AS "attachments!"
           FROM scripts s LEFT JOIN responses r ON r.script_id = s.id
           WHERE s.paper_id = $1 GROUP BY s.id ORDER BY s.candidate"#,
        paper_id as PaperId,
    )
    .fetch_all(db)
    .await?)
}

/// The candidate numbers already on a paper.
pub async fn candidates(db: impl PgExecutor<'_>, paper_id: PaperId) -> Result<Vec<String>, AppError> {
    Ok(sqlx::query_scalar!("SELECT candidate FROM scripts WHERE paper_id = $1", paper_id as PaperId).fetch_all(db).await?)
}

/// A saved script with the ids of its responses.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SavedScript {
    /// Script id.
    pub id: ScriptId,
    /// Candidate number.
    pub candidate: String,
    /// Response ids with their question numbers.
    pub responses: Vec<SavedResponse>,
}

/// A saved response's id.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SavedResponse {
    /// Response id.
    pub id: ResponseId,
    /// Question number.
    pub question: String,
}

/// Saves uploaded scripts; `question_id` maps a question number to its id.
/// Call in a transaction: a bulk upload is all or nothing.
pub async fn insert(
    tx: &mut PgConnection,
    paper_id: PaperId,
    uploads: &[ScriptUpload],
    question_id: impl Fn(&str) -> Option<Uuid>,
) -> Result<Vec<SavedScript>, AppError> {
    let mut saved = Vec::with_capacity(uploads.len());
    for script in uploads {
        let script_id = sqlx::query_scalar!(
            r#"INSERT INTO scripts (paper_id, candidate) VALUES ($1, $2) RETURNING id AS "id: ScriptId""#,
            paper_id as PaperId,
            script.candidate,
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            on_constraint(e, "scripts_paper_candidate_key", &format!("Candidate {} already has a script on this paper.", script.candidate))
        })?;
        let mut responses = Vec::with_capacity(script.responses.len());
        for r in &script.responses {
            let qid =
                question_id(&r.question).ok_or_else(|| AppError::invalid(format!("Question {} is not on this paper.", r.question)))?;
            let attachment_id: Option<Uuid> = match &r.file {
                Some(file) => Some(
                    sqlx::query_scalar!(
                        "INSERT INTO attachments (content_type, filename, bytes) VALUES ($1, $2, $3) RETURNING id",
                        file.content_type,
                        file.filename,
                        file.bytes,
                    )
                    .fetch_one(&mut *tx)
                    .await?,
                ),
                None => None,
            };
            let id = sqlx::query_scalar!(
                r#"INSERT INTO responses (script_id, question_id, paper_id, text, attachment_id)
                   VALUES ($1, $2, $3, $4, $5) RETURNING id AS "id: ResponseId""#,
                script_id as ScriptId,
                qid,
                paper_id as PaperId,
                r.text.as_deref(),
                attachment_id,
            )
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| {
                on_constraint(
                    e,
                    "responses_script_question_key",
                    &format!("Candidate {} has two responses to question {}.", script.candidate, r.question),
                )
            })?;
            responses.push(SavedResponse { id, question: r.question.clone() });
        }
        saved.push(SavedScript { id: script_id, candidate: script.candidate.clone(), responses });
    }
    Ok(saved)
}

/// One response as the script page shows it.
#[derive(Debug, Clone)]
pub struct ResponseView {
    /// Response id.
    pub id: ResponseId,
    /// Question number.
    pub question: String,
    /// Question's maximum mark.
    pub max_mark: i32,
    /// Typed answer.
    pub text: Option<String>,
    /// Scan, if any.
    pub attachment_id: Option<Uuid>,
    /// The scan's type.
    pub content_type: Option<String>,
}

/// A script with its paper and responses in question order.
#[derive(Debug, Clone)]
pub struct ScriptView {
    /// Script id.
    pub id: ScriptId,
    /// Paper id.
    pub paper_id: PaperId,
    /// Candidate number.
    pub candidate: String,
    /// Responses in question order.
    pub responses: Vec<ResponseView>,
}

/// Loads a script of a paper (two queries).
pub async fn load(db: &mut PgConnection, paper_id: PaperId, script_id: ScriptId) -> Result<Option<ScriptView>, AppError> {
    let Some(candidate) =
        sqlx::query_scalar!("SELECT candidate FROM scripts WHERE id = $1 AND paper_id = $2", script_id as ScriptId, paper_id as PaperId)
            .fetch_optional(&mut *db)
            .await?
    else {
        return Ok(None);
    };
    let responses = sqlx::query_as!(
        ResponseView,
        r#"SELECT r.id, q.number AS question, q.max_mark, r.text, r.attachment_id, a.content_type AS "content_type?"
           FROM responses r JOIN questions q ON q.id = r.question_id LEFT JOIN attachments a ON a.id = r.attachment_id
           WHERE r.script_id = $1 ORDER BY q.position"#,
        script_id as ScriptId,
    )
    .fetch_all(&mut *db)
    .await?;
    Ok(Some(ScriptView { id: script_id, paper_id, candidate, responses }))
}

/// An attachment's file.
#[derive(Debug)]
pub struct AttachmentFile {
    /// MIME type, checked at upload.
    pub content_type: String,
    /// Name to download it as.
    pub filename: String,
    /// The file.
    pub bytes: Vec<u8>,
}

/// Loads an attachment's file.
pub async fn attachment(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<AttachmentFile>, AppError> {
    Ok(sqlx::query_as!(AttachmentFile, "SELECT content_type, filename, bytes FROM attachments WHERE id = $1", id)
        .fetch_optional(db)
        .await?)
}

/// The user's role in a meeting that marks the script this attachment is on, if any.
pub async fn role_for_attachment(db: impl PgExecutor<'_>, attachment_id: Uuid, user_id: UserId) -> Result<Option<Role>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT p.role AS "role: Role" FROM responses r
           JOIN meeting_scripts ms ON ms.script_id = r.script_id
           JOIN meeting_participants p ON p.meeting_id = ms.meeting_id AND p.user_id = $2
           WHERE r.attachment_id = $1
           LIMIT 1"#,
        attachment_id,
        user_id as UserId,
    )
    .fetch_optional(db)
    .await?)
}
