//! The papers API for exam-board systems (administrators' tokens only).

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    response::IntoResponse,
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    PaperId, check,
    import::{SchemeUpload, read_upload},
    store,
};
use crate::{
    auth::extract::Admin,
    error::AppError,
    scripts::{
        self,
        upload::{self, ResponseUpload, ScriptUpload},
    },
    state::AppState,
};

/// Routes nested under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/papers", get(list_papers).post(create_paper))
        .route("/papers/import", post(import_document))
        .route("/papers/{id}", get(get_paper))
        .route("/papers/{id}/scripts", post(create_script))
}

async fn list_papers(State(state): State<AppState>, Admin(_): Admin) -> Result<impl IntoResponse, AppError> {
    Ok(Json(store::list(&state.db).await?))
}

/// The stored paper as JSON: the scheme's shape plus ids.
fn paper_json(paper: &store::StoredPaper) -> Result<Value, AppError> {
    let mut value = serde_json::to_value(&paper.scheme).map_err(|e| AppError::Internal(e.into()))?;
    if let Some(obj) = value.as_object_mut() {
        obj.insert("id".into(), json!(paper.id));
        obj.insert("board".into(), json!(paper.scheme.paper.board));
        if let Some(questions) = obj.get_mut("questions").and_then(Value::as_array_mut) {
            for (q, id) in questions.iter_mut().zip(&paper.question_ids) {
                if let Some(q) = q.as_object_mut() {
                    q.insert("id".into(), json!(id));
                }
            }
        }
    }
    Ok(value)
}

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
    Ok((StatusCode::CREATED, Json(paper_json(&paper)?)))
}

/// Parses a document and returns the scheme, or 422 with the problems and their lines.
async fn import_document(Admin(_): Admin, body: axum::body::Bytes) -> Result<impl IntoResponse, AppError> {
    let imported = read_upload(body.to_vec()).await.map_err(AppError::invalid)?;
    if !imported.problems.is_empty() {
        // The error as every API error has it, plus what was read: the caller fixes the lines named, not the whole paper.
        let details: Vec<String> = imported.problems.iter().map(ToString::to_string).collect();
        let body = serde_json::json!({
            "error": {"message": "Parts of the document could not be understood.", "details": details},
            "paper": imported.report(),
            "problems": imported.problems,
        });
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response());
    }
    Ok(Json(imported.scheme).into_response())
}

async fn get_paper(State(state): State<AppState>, Admin(_): Admin, Path(id): Path<PaperId>) -> Result<impl IntoResponse, AppError> {
    let paper = scripts::paper(&state.db, id).await?;
    Ok(Json(paper_json(&paper)?))
}

#[derive(Deserialize)]
struct ScriptBody {
    candidate: String,
    responses: Vec<ResponseBody>,
}

#[derive(Deserialize)]
struct ResponseBody {
    question: String,
    text: String,
}

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
    tracing::info!(paper_id = %id, by = %admin.id, "script created through the API");
    Ok((StatusCode::CREATED, Json(saved.into_iter().next())))
}
