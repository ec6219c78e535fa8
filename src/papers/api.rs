//! The papers API for exam-board systems (administrators' tokens only).

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    PaperId, check,
    import::{SchemeUpload, read_upload},
    store,
};
use crate::{
    api::openapi::{
        BadRequest, Conflict, Forbidden, Invalid, NotFound, PaperPath, PayloadTooLarge, Unauthorized, Unavailable, UnsupportedMediaType,
    },
    auth::extract::Admin,
    error::{AppError, ErrorInfo},
    markscheme::{PaperInfo, Problem, Question, Scheme},
    scripts::{
        self,
        store::SavedScript,
        upload::{self, ResponseUpload, ScriptUpload},
    },
    state::AppState,
};

/// Routes nested under `/api/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_papers, create_paper))
        .routes(routes!(import_document))
        .routes(routes!(get_paper))
        .routes(routes!(create_script))
}

/// Every paper, newest first.
#[utoipa::path(
    get,
    path = "/papers",
    tag = "papers",
    responses((status = 200, description = "The papers, newest first", body = Vec<store::PaperSummary>), Unauthorized, Forbidden, Unavailable),
)]
async fn list_papers(State(state): State<AppState>, Admin(_): Admin) -> Result<impl IntoResponse, AppError> {
    Ok(Json(store::list(&state.db).await?))
}

/// A stored paper: its scheme with the paper's id, its board, and each question's id.
#[derive(Serialize, ToSchema)]
struct PaperOut {
    /// Id.
    id: PaperId,
    /// The exam board (also in `paper.board`).
    board: String,
    /// Which paper the scheme belongs to.
    paper: PaperInfo,
    /// Generic guidance printed before the first question (Markdown).
    guidance: String,
    /// The questions in document order, each with its id.
    questions: Vec<QuestionOut>,
}

/// A question of a stored paper, with its id.
#[derive(Serialize, ToSchema)]
struct QuestionOut {
    /// The question's id.
    id: Uuid,
    /// The question.
    #[serde(flatten)]
    question: Question,
}

impl PaperOut {
    fn of(paper: &store::StoredPaper) -> PaperOut {
        let Scheme { paper: info, guidance, questions } = paper.scheme.clone();
        PaperOut {
            id: paper.id,
            board: info.board.clone(),
            paper: info,
            guidance,
            questions: questions.into_iter().zip(&paper.question_ids).map(|(question, id)| QuestionOut { id: *id, question }).collect(),
        }
    }
}

/// Saves a paper from the JSON `markscheme parse` prints, plus `board`.
#[utoipa::path(
    post,
    path = "/papers",
    tag = "papers",
    request_body = SchemeUpload,
    responses(
        (status = 201, description = "The stored paper with ids", body = PaperOut),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, Invalid, Unavailable,
    ),
)]
async fn create_paper(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Json(upload): Json<SchemeUpload>,
) -> Result<impl IntoResponse, AppError> {
    let scheme = upload.into_scheme();
    let problems = check(&scheme);
    if !problems.is_empty() {
        return Err(AppError::Invalid { message: "The paper was not saved: its mark scheme has problems.".into(), details: problems });
    }
    let (id, paper) = crate::transact!(&state.db, |tx| {
        let id = store::insert(tx, &scheme, None, admin.actor()).await?;
        let paper = store::load(tx, id).await?.ok_or_else(|| AppError::Internal(anyhow::anyhow!("paper vanished")))?;
        Ok((id, paper))
    })?;
    tracing::info!(paper_id = %id, by = %admin.id, "paper created through the API");
    Ok((StatusCode::CREATED, Json(PaperOut::of(&paper))))
}

/// What was read of a document with problems: the error as every API error
/// has it, plus the scheme as far as it was read, so the caller fixes the lines
/// named rather than the whole paper. (A document that cannot be read at all
/// is refused with the plain error body: `paper` and `problems` are then absent.)
#[derive(Serialize, ToSchema)]
struct ImportRefusal {
    /// The error (`code` is `invalid`; `details` has each problem as `line N: ...`).
    error: ErrorInfo,
    /// The request's reference, as in its `x-request-id` header.
    request_id: String,
    /// The scheme as far as it was read: as the 200 answer, each question also with the `problems` on its lines,
    /// and the problems on no question's lines in `problems`.
    #[schema(value_type = Object, required = false)]
    paper: serde_json::Value,
    /// Every problem, with its line.
    #[schema(required = false)]
    problems: Vec<Problem>,
}

/// Reads a mark-scheme document and answers the scheme it describes; nothing is saved.
///
/// Markdown or plain text, a Word `.docx`, a PDF with a text layer, or standardise's own JSON, told apart by content.
#[utoipa::path(
    post,
    path = "/papers/import",
    tag = "papers",
    request_body(
        description = "The document's bytes as they are (text, Word or PDF)",
        content((String = "text/plain"), (String = "application/octet-stream")),
    ),
    responses(
        (status = 200, description = "The scheme it describes, each question with the `source` lines it came from", body = Scheme),
        (status = 422, description = "Parts were not understood (`ImportRefusal`, with what was read), or the document is not one \
                                      standardise can read (`ErrorBody`)", body = ImportRefusal),
        Unauthorized, Forbidden, PayloadTooLarge, Unavailable,
    ),
)]
async fn import_document(Admin(_): Admin, headers: HeaderMap, body: axum::body::Bytes) -> Result<impl IntoResponse, AppError> {
    let imported = read_upload(body.to_vec()).await.map_err(AppError::invalid)?;
    if !imported.problems.is_empty() {
        let details: Vec<String> = imported.problems.iter().map(ToString::to_string).collect();
        let refusal = ImportRefusal {
            error: ErrorInfo { code: "invalid", message: "Parts of the document could not be understood.".into(), details },
            request_id: headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned(),
            paper: imported.report(),
            problems: imported.problems,
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(refusal)).into_response());
    }
    Ok(Json(imported.scheme).into_response())
}

/// One paper with its questions, levels and ids.
#[utoipa::path(
    get,
    path = "/papers/{id}",
    tag = "papers",
    params(PaperPath),
    responses((status = 200, description = "The stored paper with ids", body = PaperOut), BadRequest, Unauthorized, Forbidden, NotFound, Unavailable),
)]
async fn get_paper(State(state): State<AppState>, Admin(_): Admin, Path(id): Path<PaperId>) -> Result<impl IntoResponse, AppError> {
    let paper = scripts::paper(&state.db, id).await?;
    Ok(Json(PaperOut::of(&paper)))
}

/// `POST /api/v1/papers/{id}/scripts`: one candidate's typed answers.
#[derive(Deserialize, ToSchema)]
struct ScriptBody {
    /// Candidate number: 1 to 32 letters, digits, `-` or `_`, starting with a letter or digit.
    #[schema(example = "0001")]
    candidate: String,
    /// An answer per question.
    responses: Vec<ResponseBody>,
}

/// One typed answer.
#[derive(Deserialize, ToSchema)]
struct ResponseBody {
    /// The question's number, e.g. "01".
    question: String,
    /// The answer (not empty).
    text: String,
}

/// Adds a candidate's script with typed answers.
#[utoipa::path(
    post,
    path = "/papers/{id}/scripts",
    tag = "papers",
    params(PaperPath),
    request_body = ScriptBody,
    responses(
        (status = 201, description = "The script with its response ids", body = SavedScript),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, Invalid, Unavailable,
    ),
)]
async fn create_script(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<PaperId>,
    Json(body): Json<ScriptBody>,
) -> Result<impl IntoResponse, AppError> {
    let paper = scripts::paper(&state.db, id).await?;
    let candidate = upload::check_candidate(&body.candidate).map_err(|e| AppError::invalid(format!("{e}.")))?;
    let mut responses = Vec::new();
    for (i, r) in body.responses.into_iter().enumerate() {
        if r.text.trim().is_empty() {
            return Err(AppError::invalid(format!("responses[{i}]: the text of question {} is empty.", r.question)));
        }
        if responses.iter().any(|x: &ResponseUpload| x.question == r.question.trim()) {
            return Err(AppError::invalid(format!("responses[{i}]: question {} is answered twice.", r.question)));
        }
        responses.push(ResponseUpload {
            question: r.question.trim().to_owned(),
            text: Some(r.text.trim().to_owned()),
            file: None,
            origin: format!("responses[{i}]"),
        });
    }
    let upload = ScriptUpload { candidate, responses };
    let saved = scripts::save_all(&state.db, &paper, std::slice::from_ref(&upload)).await.map_err(|e| match e {
        // A duplicate candidate is a conflict with what is stored.
        AppError::Invalid { message, .. } if message.contains("already has a script") => AppError::Conflict(message),
        other => other,
    })?;
    let saved: SavedScript = saved.into_iter().next().ok_or_else(|| AppError::Internal(anyhow::anyhow!("a saved script went missing")))?;
    tracing::info!(paper_id = %id, by = %admin.id, "script created through the API");
    Ok((StatusCode::CREATED, Json(saved)))
}
