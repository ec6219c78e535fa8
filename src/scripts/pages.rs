//! Pages for scripts: add one, upload many, look through them, open scans.

use askama::Template;
use axum::{
    Router,
    body::Body,
    extract::{DefaultBodyLimit, Multipart, Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    ScriptId, bulk_refusal, paper, save_all, save_bulk,
    store::{self, ScriptView},
    upload::{self, FileUpload, ResponseUpload, ScriptUpload},
};
use crate::{
    auth::extract::{Admin, AuthUser},
    error::AppError,
    meetings::{Role, policy},
    papers::PaperId,
    state::AppState,
    web::{PageCtx, flash, render},
};

/// Routes for scripts and attachments.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/papers/{id}/scripts", axum::routing::post(create_script).layer(DefaultBodyLimit::disable()))
        .route("/papers/{id}/scripts/new", get(new_script))
        .route("/papers/{id}/scripts/bulk", axum::routing::post(upload_scripts).layer(DefaultBodyLimit::disable()))
        .route("/papers/{id}/scripts/{script_id}", get(show_script))
        .route("/attachments/{id}", get(get_attachment))
}

#[derive(Template)]
#[template(path = "scripts/new.html")]
struct NewScriptPage {
    ctx: PageCtx,
    paper_id: PaperId,
    paper_label: String,
    questions: Vec<(String, String)>,
    candidate: String,
    error: Option<String>,
}

fn paper_label(p: &crate::papers::store::StoredPaper) -> String {
    format!("{} {} {}", p.scheme.paper.board, p.scheme.paper.code, p.scheme.paper.series)
}

async fn new_script(
    State(state): State<AppState>,
    Admin(_): Admin,
    ctx: PageCtx,
    Path(id): Path<PaperId>,
) -> Result<impl IntoResponse, AppError> {
    let paper = paper(&state.db, id).await?;
    let questions = paper.scheme.questions.iter().map(|q| (q.number.clone(), q.prompt.clone())).collect();
    render(&NewScriptPage { ctx, paper_id: id, paper_label: paper_label(&paper), questions, candidate: String::new(), error: None })
}

fn upload_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge("The upload is larger than the 20 MB standardise accepts. Split it into smaller files.".into())
    } else {
        AppError::BadRequest(format!("The upload could not be read: {e}"))
    }
}

/// One script from the form: `candidate`, then `text.<question>` and `file.<question>`.
async fn create_script(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ctx: PageCtx,
    session: Session,
    Path(id): Path<PaperId>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let paper = paper(&state.db, id).await?;
    let mut script = ScriptUpload::default();
    let mut problem: Option<String> = None;
    while let Some(field) = multipart.next_field().await.map_err(upload_error)? {
        let name = field.name().unwrap_or("").to_owned();
        let filename = field.file_name().unwrap_or("").to_owned();
        if name == "candidate" {
            script.candidate = field.text().await.map_err(upload_error)?;
        } else if let Some(q) = name.strip_prefix("text.") {
            let text = field.text().await.map_err(upload_error)?;
            if !text.trim().is_empty() {
                response_for(&mut script, q).text = Some(text.trim().to_owned());
            }
        } else if let Some(q) = name.strip_prefix("file.") {
            let bytes = field.bytes().await.map_err(upload_error)?;
            if bytes.is_empty() {
                continue;
            }
            match upload::sniff(&bytes) {
                Some(content_type) => {
                    let filename = if filename.is_empty() { q.to_string() } else { filename };
                    response_for(&mut script, q).file = Some(FileUpload { content_type, filename, bytes: bytes.to_vec() });
                }
                None => {
                    problem.get_or_insert(format!(
                        "The file for question {q} ({filename}) is not a PDF, PNG or JPEG (checked by its content)."
                    ));
                }
            }
        }
    }
    let candidate = upload::check_candidate(&script.candidate);
    let result = match (problem, candidate) {
        (Some(p), _) => Err(AppError::invalid(p)),
        (None, Err(e)) => Err(AppError::invalid(format!("{e}."))),
        (None, Ok(c)) if script.responses.is_empty() => {
            Err(AppError::invalid(format!("Candidate {c}: type or attach at least one response.")))
        }
        (None, Ok(c)) => {
            script.candidate = c;
            save_all(&state.db, &paper, std::slice::from_ref(&script)).await
        }
    };
    match result {
        Ok(saved) => {
            let s = &saved[0];
            tracing::info!(paper_id = %id, script_id = %s.id, by = %admin.id, "script added");
            flash(&session, format!("Script of candidate {} saved.", s.candidate)).await?;
            Ok(Redirect::to(&format!("/papers/{id}/scripts/{}", s.id)).into_response())
        }
        Err(AppError::Invalid { message, .. } | AppError::Conflict(message)) => {
            let questions = paper.scheme.questions.iter().map(|q| (q.number.clone(), q.prompt.clone())).collect();
            let page = NewScriptPage {
                ctx,
                paper_id: id,
                paper_label: paper_label(&paper),
                questions,
                candidate: script.candidate,
                error: Some(message),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e),
    }
}

fn response_for<'a>(script: &'a mut ScriptUpload, question: &str) -> &'a mut ResponseUpload {
    let pos = match script.responses.iter().position(|r| r.question == question) {
        Some(p) => p,
        None => {
            script.responses.push(ResponseUpload {
                question: question.to_owned(),
                origin: format!("question {question}"),
                ..Default::default()
            });
            script.responses.len() - 1
        }
    };
    &mut script.responses[pos]
}

/// Many scripts at once: a CSV or a ZIP, told apart by content.
async fn upload_scripts(
    State(state): State<AppState>,
    Admin(admin): Admin,
    session: Session,
    Path(id): Path<PaperId>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let paper = paper(&state.db, id).await?;
    let mut bytes = None;
    while let Some(field) = multipart.next_field().await.map_err(upload_error)? {
        if field.name() == Some("file") {
            bytes = Some(field.bytes().await.map_err(upload_error)?);
        }
    }
    let bytes = bytes.filter(|b| !b.is_empty()).ok_or_else(|| AppError::invalid("Choose a CSV or ZIP file to upload."))?;
    let questions: Vec<String> = paper.scheme.questions.iter().map(|q| q.number.clone()).collect();
    let bulk = if upload::is_zip(&bytes) { upload::parse_zip(&bytes, &questions) } else { upload::parse_csv(&bytes, &questions) }
        .map_err(|e| bulk_refusal(e.into()))?;
    let saved = save_bulk(&state.db, &paper, &bulk).await.map_err(|e| match e {
        // Two uploads of the same candidate at the same moment: the database's unique key decides.
        AppError::Conflict(message) => bulk_refusal(message.into()),
        other => other,
    })?;
    let responses: usize = saved.iter().map(|s| s.responses.len()).sum();
    tracing::info!(paper_id = %id, scripts = saved.len(), by = %admin.id, "scripts uploaded");
    flash(&session, format!("{} scripts with {responses} responses uploaded.", saved.len())).await?;
    Ok(Redirect::to(&format!("/papers/{id}#scripts")).into_response())
}

#[derive(Template)]
#[template(path = "scripts/show.html")]
struct ScriptPage {
    ctx: PageCtx,
    paper_label: String,
    script: ScriptView,
    previous: Option<ScriptId>,
    next: Option<ScriptId>,
}

async fn show_script(
    State(state): State<AppState>,
    Admin(_): Admin,
    ctx: PageCtx,
    Path((id, script_id)): Path<(PaperId, ScriptId)>,
) -> Result<impl IntoResponse, AppError> {
    let paper = paper(&state.db, id).await?;
    let mut conn = state.db.acquire().await?;
    let script = store::load(&mut conn, id, script_id).await?.ok_or_else(|| AppError::not_found("That script"))?;
    let all = store::list(&mut *conn, id).await?;
    let pos = all.iter().position(|s| s.id == script_id);
    let previous = pos.and_then(|p| p.checked_sub(1)).and_then(|p| all.get(p)).map(|s| s.id);
    let next = pos.and_then(|p| all.get(p + 1)).map(|s| s.id);
    render(&ScriptPage { ctx, paper_label: paper_label(&paper), script, previous, next })
}

/// Serves a scanned answer with its checked type, to administrators and to
/// people taking part in a meeting that marks its script.
async fn get_attachment(State(state): State<AppState>, AuthUser(user): AuthUser, Path(id): Path<Uuid>) -> Result<Response, AppError> {
    // Decide access before loading: an outsider learns nothing, not even whether the file exists.
    let role = if user.is_admin { Some(Role::Admin) } else { store::role_for_attachment(&state.db, id, user.user_id()).await? };
    if !policy::may_read_answers(role) {
        return Err(AppError::Forbidden("This scan belongs to a meeting you are not taking part in.".into()));
    }
    let file = store::attachment(&state.db, id).await?.ok_or_else(|| AppError::not_found("That file"))?;
    let safe_name: String =
        file.filename.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).collect();
    let mut response = Response::new(Body::from(file.bytes));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(&file.content_type).map_err(|e| AppError::Internal(e.into()))?);
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("inline; filename=\"{safe_name}\"")).map_err(|e| AppError::Internal(e.into()))?,
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=300"));
    // A scan may be shown in a frame on our own pages, and runs nothing.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
    Ok(response)
}
