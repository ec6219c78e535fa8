//! The living-scheme API: referrals, amendments, scheme versions and the meeting's record.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{amend::Amendment, store};
use crate::{
    auth::extract::AuthUser,
    dashboard::pages::download,
    error::AppError,
    marking::store as marking_store,
    meetings::access::{Access, InMeeting, Leader, Marker, Participant, Principal},
    papers::{PaperId, versions},
    qualification::store as qualification,
    scripts::ResponseId,
    state::AppState,
    users::User,
};

/// Routes nested under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/meetings/{id}/responses/{response_id}/referrals", post(post_referral))
        .route("/meetings/{id}/referrals", get(get_referrals))
        .route("/meetings/{id}/referrals/{referral_id}/answer", post(post_answer))
        .route("/meetings/{id}/referrals/{referral_id}/pass-up", post(post_pass_up))
        .route("/meetings/{id}/responses/{response_id}/impact", get(get_impact))
        .route("/meetings/{id}/record", get(get_record))
        .route("/meetings/{id}/record.md", get(get_record_md))
        .route("/papers/{id}/amendments", post(post_amendment))
        .route("/papers/{id}/versions", get(get_versions))
        .route("/papers/{id}/versions/{number}", get(get_version))
        .route("/papers/{id}/versions/{number}/document", get(get_document))
}

#[derive(Deserialize)]
struct ReferralBody {
    question: String,
}

async fn post_referral(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Marker>,
    Path((_, response_id)): Path<(Uuid, ResponseId)>,
    Json(body): Json<ReferralBody>,
) -> Result<impl IntoResponse, AppError> {
    let id = crate::transact!(&state.db, |tx| {
        let ctx = marking_store::response_in_meeting(tx, &access.meeting, response_id).await?;
        qualification::check_may_mark(tx, access.meeting_id(), ctx.script_id, ctx.purpose, access.user_id()).await?;
        store::refer(tx, &access.meeting, response_id, access.user_id(), &body.question).await
    })?;
    Ok((StatusCode::CREATED, Json(json!({"id": id}))))
}

async fn get_referrals(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Participant>,
) -> Result<impl IntoResponse, AppError> {
    Ok(Json(store::list(&state.db, access.meeting_id(), access.user_id(), access.role, None).await?))
}

#[derive(Deserialize)]
struct AnswerBody {
    answer: String,
    #[serde(default)]
    amendment: Option<Amendment>,
}

async fn post_answer(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Leader>,
    Path((_, referral_id)): Path<(Uuid, Uuid)>,
    Json(body): Json<AnswerBody>,
) -> Result<impl IntoResponse, AppError> {
    let version = crate::transact!(&state.db, |tx| {
        store::answer(tx, &access.meeting, referral_id, access.actor(), access.role, &body.answer, body.amendment.as_ref()).await
    })?;
    Ok(Json(json!({"answered": true, "version": version})))
}

async fn post_pass_up(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Leader>,
    Path((_, referral_id)): Path<(Uuid, Uuid)>,
) -> Result<impl IntoResponse, AppError> {
    crate::transact!(&state.db, |tx| { store::pass_up(tx, &access.meeting, referral_id, access.actor()).await })?;
    Ok(Json(json!({"state": "passed_up"})))
}

async fn get_record(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Participant>) -> Result<impl IntoResponse, AppError> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(store::record(&mut conn, &access.meeting, &access.user.email, access.role).await?))
}

async fn get_record_md(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Participant>) -> Result<Response, AppError> {
    record_download(&state, &access).await
}

async fn post_amendment(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(paper_id): Path<PaperId>,
    Json(body): Json<Amendment>,
) -> Result<impl IntoResponse, AppError> {
    if !store::may_amend(&state.db, paper_id, user.user_id(), user.is_admin).await? {
        return Err(AppError::Forbidden(
            "Only the principal examiner of a meeting on this paper, or an administrator, amends its mark scheme.".into(),
        ));
    }
    let version = crate::transact!(&state.db, |tx| { store::amend(tx, paper_id, &body, user.user_id(), store::Origin::default()).await })?;
    let affected = store::qualification_affected(&state.db, paper_id, &body.question, user.user_id(), user.is_admin).await?;
    Ok((StatusCode::CREATED, Json(json!({"version": version, "qualification_affected": affected}))))
}

async fn get_versions(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(paper_id): Path<PaperId>,
) -> Result<impl IntoResponse, AppError> {
    store::may_read_versions(&state.db, paper_id, &user).await?;
    let list = versions::list(&state.db, paper_id).await?;
    Ok(Json(
        list.iter()
            .map(|v| json!({"version": v.number, "created_at": v.created_at.format(&time::format_description::well_known::Rfc3339).ok(), "by": v.created_by, "reason": v.note}))
            .collect::<Vec<_>>(),
    ))
}

async fn get_version(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((paper_id, number)): Path<(PaperId, i32)>,
) -> Result<impl IntoResponse, AppError> {
    store::may_read_versions(&state.db, paper_id, &user).await?;
    let mut conn = state.db.acquire().await?;
    let v = versions::numbered(&mut conn, paper_id.0, number)
        .await?
        .ok_or_else(|| AppError::not_found(format!("Version {number} of this paper")))?;
    Ok(Json(v.scheme.clone()))
}

/// The scheme at a version as a document in the importer's layout, amendments
/// in place (`pages` serves the same to browsers).
pub async fn document(state: &AppState, user: &User, paper_id: PaperId, number: i32) -> Result<Response, AppError> {
    store::may_read_versions(&state.db, paper_id, user).await?;
    let mut conn = state.db.acquire().await?;
    let v = versions::numbered(&mut conn, paper_id.0, number)
        .await?
        .ok_or_else(|| AppError::not_found(format!("Version {number} of this paper")))?;
    download(crate::markscheme::to_markdown(&v.scheme).into_bytes(), MARKDOWN, &format!("mark-scheme-version-{number}.md"))
}

const MARKDOWN: &str = "text/markdown; charset=utf-8";

/// The meeting's record as a Markdown file, as the API and the record page both offer it.
pub async fn record_download(state: &AppState, access: &Access) -> Result<Response, AppError> {
    let mut conn = state.db.acquire().await?;
    let entries = store::record(&mut conn, &access.meeting, &access.user.email, access.role).await?;
    download(store::record_markdown(&access.meeting, &entries).into_bytes(), MARKDOWN, "meeting-record.md")
}

async fn get_document(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((paper_id, number)): Path<(PaperId, i32)>,
) -> Result<Response, AppError> {
    document(&state, &user, paper_id, number).await
}

#[derive(Deserialize)]
struct ImpactQuery {
    mark: i32,
}

/// Who would be affected if the response's definitive mark became `mark`.
async fn get_impact(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Principal>,
    Path((_, response_id)): Path<(Uuid, ResponseId)>,
    axum::extract::Query(q): axum::extract::Query<ImpactQuery>,
) -> Result<impl IntoResponse, AppError> {
    let mut conn = state.db.acquire().await?;
    let ctx = marking_store::response_in_meeting(&mut conn, &access.meeting, response_id).await?;
    if !ctx.question.allowed(q.mark) {
        return Err(AppError::invalid(format!("{} is not a mark question {} allows.", q.mark, ctx.question.number)));
    }
    let affected = super::impact::of_definitive_change(&mut conn, access.meeting_id(), response_id, q.mark).await?;
    Ok(Json(json!({"response_id": response_id, "proposed": q.mark, "affected": affected})))
}
