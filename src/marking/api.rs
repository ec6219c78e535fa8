//! The marking API: a response with what the caller may see of it, marks,
//! definitive marks, release and reopening.

use axum::{
    Json, Router,
    extract::{Path, State},
    response::IntoResponse,
    routing::{get, post, put},
};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{
    adjudication::{self, DefinitiveInput},
    annotations::Annotation,
    rules::Part,
    store::{self, MarkInput},
    view::ResponseView,
};
use crate::{
    error::AppError,
    meetings::{
        MeetingId,
        access::{InMeeting, Marker, Participant, Principal},
    },
    scripts::ResponseId,
    state::AppState,
    users::{self, Email},
};

/// Routes nested under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/meetings/{id}/responses/{response_id}", get(get_response))
        .route("/meetings/{id}/responses/{response_id}/mark", put(put_mark))
        .route("/meetings/{id}/responses/{response_id}/definitive", put(put_definitive))
        .route("/meetings/{id}/responses/{response_id}/release", post(release_response))
        .route("/meetings/{id}/responses/{response_id}/reopen", post(reopen_mark))
        .route("/meetings/{id}/release", post(release_all))
}

async fn get_response(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Participant>,
    Path((_, response_id)): Path<(MeetingId, ResponseId)>,
) -> Result<impl IntoResponse, AppError> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(ResponseView::load(&mut conn, &access, response_id).await?.to_json()))
}

#[derive(Deserialize)]
struct MarkBody {
    #[serde(default)]
    level: Option<i32>,
    /// May be left out when `parts` are given: the mark is their sum.
    #[serde(default)]
    mark: Option<i32>,
    /// For a question marked on separate grids per objective: a level and mark per grid.
    #[serde(default)]
    parts: Vec<Part>,
    /// Stamps on the answer, replacing those saved before.
    #[serde(default)]
    annotations: Vec<Annotation>,
    #[serde(default)]
    comment: String,
    /// Ids of the indicative-content points credited.
    #[serde(default)]
    credited: Vec<Uuid>,
    #[serde(default)]
    submit: bool,
    #[serde(default)]
    version: Option<i32>,
}

async fn put_mark(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Marker>,
    Path((_, response_id)): Path<(MeetingId, ResponseId)>,
    Json(body): Json<MarkBody>,
) -> Result<impl IntoResponse, AppError> {
    let stored = crate::transact!(&state.db, |tx| {
        let ctx = store::response_in_meeting(tx, &access.meeting, response_id).await?;
        let input = MarkInput {
            level: body.level,
            mark: body.mark,
            parts: body.parts.clone(),
            annotations: body.annotations.clone(),
            comment: body.comment.clone(),
            credited: body.credited.clone(),
            submit: body.submit,
            version: body.version,
        };
        store::save_mark(tx, &access.meeting, &ctx, access.user_id(), input).await
    })?;
    Ok(Json(stored))
}

#[derive(Deserialize)]
struct DefinitiveBody {
    #[serde(default)]
    level: Option<i32>,
    #[serde(default)]
    mark: Option<i32>,
    #[serde(default)]
    parts: Vec<Part>,
    #[serde(default)]
    annotations: Vec<Annotation>,
    #[serde(default)]
    rationale: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    version: Option<i32>,
    #[serde(default)]
    reevaluate: Option<bool>,
}

async fn put_definitive(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Principal>,
    Path((_, response_id)): Path<(MeetingId, ResponseId)>,
    Json(body): Json<DefinitiveBody>,
) -> Result<impl IntoResponse, AppError> {
    let stored = crate::transact!(&state.db, |tx| {
        let ctx = store::response_in_meeting(tx, &access.meeting, response_id).await?;
        let input = DefinitiveInput {
            reevaluate: body.reevaluate,
            level: body.level,
            mark: body.mark,
            parts: body.parts.clone(),
            annotations: body.annotations.clone(),
            rationale: body.rationale.clone(),
            reason: body.reason.clone(),
            version: body.version,
        };
        adjudication::save_definitive(tx, &access.meeting, &ctx, access.user.actor(), input).await
    })?;
    Ok(Json(stored))
}

async fn release_response(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Principal>,
    Path((_, response_id)): Path<(MeetingId, ResponseId)>,
) -> Result<impl IntoResponse, AppError> {
    let (n, script_id) = crate::transact!(&state.db, |tx| {
        let ctx = store::response_in_meeting(tx, &access.meeting, response_id).await?;
        Ok((adjudication::release(tx, &access.meeting, Some(ctx.script_id), access.user.actor()).await?, ctx.script_id))
    })?;
    Ok(Json(json!({"released_scripts": n, "script_id": script_id})))
}

async fn release_all(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Principal>) -> Result<impl IntoResponse, AppError> {
    let n = crate::transact!(&state.db, |tx| { adjudication::release(tx, &access.meeting, None, access.user.actor()).await })?;
    Ok(Json(json!({"released_scripts": n})))
}

#[derive(Deserialize)]
struct ReopenBody {
    examiner: String,
    #[serde(default)]
    reason: String,
}

async fn reopen_mark(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Principal>,
    Path((_, response_id)): Path<(MeetingId, ResponseId)>,
    Json(body): Json<ReopenBody>,
) -> Result<impl IntoResponse, AppError> {
    let email = Email::parse(&body.examiner).map_err(AppError::invalid)?;
    let examiner = users::find_by_email(&state.db, &email)
        .await?
        .ok_or_else(|| AppError::not_found(format!("An account with the email {}", email.as_str())))?;
    let stored = crate::transact!(&state.db, |tx| {
        let ctx = store::response_in_meeting(tx, &access.meeting, response_id).await?;
        store::reopen(tx, &access.meeting, &ctx, examiner.user_id(), access.user.actor(), &body.reason).await
    })?;
    Ok(Json(stored))
}
