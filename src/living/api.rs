//! The living-scheme API: referrals, amendments, scheme versions and the meeting's record.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    amend::Amendment,
    impact::Affected,
    store::{self, QualificationAffected, RecordEntry, Referral},
};
use crate::{
    api::openapi::{
        BadRequest, Conflict, Forbidden, Invalid, MeetingPath, NotFound, PaperPath, PayloadTooLarge, ResponsePath, Unauthorized,
        Unavailable, UnsupportedMediaType,
    },
    auth::extract::AuthUser,
    dashboard::pages::download,
    error::AppError,
    marking::store as marking_store,
    markscheme::Scheme,
    meetings::{
        MeetingId,
        access::{Access, InMeeting, Leader, Marker, Participant, Principal},
    },
    papers::{PaperId, versions},
    qualification::store as qualification,
    scripts::ResponseId,
    state::AppState,
    users::User,
};

/// Routes nested under `/api/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_referral))
        .routes(routes!(get_referrals))
        .routes(routes!(post_answer))
        .routes(routes!(post_pass_up))
        .routes(routes!(get_impact))
        .routes(routes!(get_record))
        .routes(routes!(get_record_md))
        .routes(routes!(post_amendment))
        .routes(routes!(get_versions))
        .routes(routes!(get_version))
        .routes(routes!(get_document))
}

/// `POST .../referrals`: a question for the principal examiner about a response.
#[derive(Deserialize, ToSchema)]
struct ReferralBody {
    /// What the examiner asks.
    question: String,
}

/// The new referral's id.
#[derive(Serialize, ToSchema)]
struct ReferralCreated {
    /// Its id.
    id: Uuid,
}

/// Refers a response to the principal examiner with a question.
#[utoipa::path(
    post,
    path = "/meetings/{id}/responses/{response_id}/referrals",
    tag = "living",
    params(ResponsePath),
    request_body = ReferralBody,
    responses(
        (status = 201, description = "The referral waits in the queue", body = ReferralCreated),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, Invalid, Unavailable,
    ),
)]
async fn post_referral(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Marker>,
    Path((_, response_id)): Path<(Uuid, ResponseId)>,
    Json(body): Json<ReferralBody>,
) -> Result<impl IntoResponse, AppError> {
    let id = crate::transact!(&state, |tx| {
        let ctx = marking_store::response_in_meeting(tx, &access.meeting, response_id).await?;
        qualification::check_may_mark(tx, access.meeting_id(), ctx.script_id, ctx.purpose, access.user_id()).await?;
        store::refer(tx, &access.meeting, response_id, access.user_id(), &body.question).await
    })?;
    Ok((StatusCode::CREATED, Json(ReferralCreated { id })))
}

/// The referrals the caller may see.
///
/// All for the principal examiner and administrators; a team leader's team's and their own; an examiner's own.
#[utoipa::path(
    get,
    path = "/meetings/{id}/referrals",
    tag = "living",
    params(MeetingPath),
    responses((status = 200, description = "The referrals", body = Vec<Referral>), BadRequest, Unauthorized, Forbidden, NotFound, Unavailable),
)]
async fn get_referrals(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Participant>,
) -> Result<impl IntoResponse, AppError> {
    Ok(Json(store::list(&state.db, access.meeting_id(), access.user_id(), access.role, None).await?))
}

/// `POST .../answer`: the answer, and optionally an amendment to the scheme made in the same step.
#[derive(Deserialize, ToSchema)]
struct AnswerBody {
    /// The answer.
    answer: String,
    /// An amendment to the mark scheme, with its reason.
    #[serde(default)]
    amendment: Option<Amendment>,
}

/// The path of a referral.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct ReferralPath {
    /// The meeting's id (anything else is answered 404).
    id: MeetingId,
    /// The referral's id.
    referral_id: Uuid,
}

/// The referral is answered.
#[derive(Serialize, ToSchema)]
struct Answered {
    /// Always true.
    answered: bool,
    /// The scheme version the amendment made, if there was one.
    version: Option<i32>,
}

/// Answers a referral (and may amend the scheme in the same step).
#[utoipa::path(
    post,
    path = "/meetings/{id}/referrals/{referral_id}/answer",
    tag = "living",
    params(ReferralPath),
    request_body = AnswerBody,
    responses(
        (status = 200, description = "The referral is answered", body = Answered),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, Invalid, Unavailable,
    ),
)]
async fn post_answer(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Leader>,
    Path((_, referral_id)): Path<(Uuid, Uuid)>,
    Json(body): Json<AnswerBody>,
) -> Result<impl IntoResponse, AppError> {
    let version = crate::transact!(&state, |tx| {
        store::answer(tx, &access.meeting, referral_id, access.actor(), access.role, &body.answer, body.amendment.as_ref()).await
    })?;
    Ok(Json(Answered { answered: true, version }))
}

/// Where a referral is now.
#[derive(Serialize, ToSchema)]
struct PassedUp {
    /// Always `passed_up`.
    #[schema(example = "passed_up")]
    state: String,
}

/// Sends a referral on to the principal examiner (team leaders, for their team).
#[utoipa::path(
    post,
    path = "/meetings/{id}/referrals/{referral_id}/pass-up",
    tag = "living",
    params(ReferralPath),
    responses((status = 200, description = "The referral waits for the principal examiner", body = PassedUp), BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Unavailable),
)]
async fn post_pass_up(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Leader>,
    Path((_, referral_id)): Path<(Uuid, Uuid)>,
) -> Result<impl IntoResponse, AppError> {
    crate::transact!(&state, |tx| { store::pass_up(tx, &access.meeting, referral_id, access.actor()).await })?;
    Ok(Json(PassedUp { state: "passed_up".into() }))
}

/// The meeting's rulings and amendments, in order.
#[utoipa::path(
    get,
    path = "/meetings/{id}/record",
    tag = "living",
    params(MeetingPath),
    responses((status = 200, description = "The record", body = Vec<RecordEntry>), BadRequest, Unauthorized, Forbidden, NotFound, Unavailable),
)]
async fn get_record(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Participant>) -> Result<impl IntoResponse, AppError> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(store::record(&mut conn, &access.meeting, &access.user.email, access.role).await?))
}

/// The meeting's record as Markdown, for printing.
#[utoipa::path(
    get,
    path = "/meetings/{id}/record.md",
    tag = "living",
    params(MeetingPath),
    responses(
        (status = 200, description = "The record (`meeting-record.md`)", content_type = "text/markdown", body = String),
        BadRequest, Unauthorized, Forbidden, NotFound, Unavailable,
    ),
)]
async fn get_record_md(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Participant>) -> Result<Response, AppError> {
    record_download(&state, &access).await
}

/// The scheme version an amendment made, and whose qualification it may concern.
#[derive(Serialize, ToSchema)]
struct Amended {
    /// The new version's number.
    version: i32,
    /// Examiners judged on a qualification set that uses the amended question.
    qualification_affected: Vec<QualificationAffected>,
}

/// Amends the paper's mark scheme: a new version, which meetings marking the paper move to.
#[utoipa::path(
    post,
    path = "/papers/{id}/amendments",
    tag = "living",
    params(PaperPath),
    request_body = Amendment,
    responses(
        (status = 201, description = "The new version", body = Amended),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, Invalid, Unavailable,
    ),
)]
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
    let version = crate::transact!(&state, |tx| { store::amend(tx, paper_id, &body, user.user_id(), store::Origin::default()).await })?;
    let affected = store::qualification_affected(&state.db, paper_id, &body.question, user.user_id(), user.is_admin).await?;
    Ok((StatusCode::CREATED, Json(Amended { version, qualification_affected: affected })))
}

/// A version of the scheme as listed.
#[derive(Serialize, ToSchema)]
struct VersionOut {
    /// Its number.
    version: i32,
    /// When it was made (RFC 3339).
    created_at: Option<String>,
    /// Who made it.
    by: Option<String>,
    /// Why.
    reason: String,
}

/// Every version of the paper's scheme, newest first.
#[utoipa::path(
    get,
    path = "/papers/{id}/versions",
    tag = "living",
    params(PaperPath),
    responses((status = 200, description = "The versions", body = Vec<VersionOut>), BadRequest, Unauthorized, Forbidden, NotFound, Unavailable),
)]
async fn get_versions(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(paper_id): Path<PaperId>,
) -> Result<impl IntoResponse, AppError> {
    store::may_read_versions(&state.db, paper_id, &user).await?;
    let list = versions::list(&state.db, paper_id).await?;
    Ok(Json(
        list.into_iter()
            .map(|v| VersionOut {
                version: v.number,
                created_at: v.created_at.format(&time::format_description::well_known::Rfc3339).ok(),
                by: v.created_by,
                reason: v.note,
            })
            .collect::<Vec<_>>(),
    ))
}

/// The path of a version of a paper's scheme.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct VersionPath {
    /// The paper's id.
    id: PaperId,
    /// The version's number.
    number: i32,
}

/// The paper's scheme at a version, in the importer's JSON.
#[utoipa::path(
    get,
    path = "/papers/{id}/versions/{number}",
    tag = "living",
    params(VersionPath),
    responses((status = 200, description = "The scheme at that version", body = Scheme), BadRequest, Unauthorized, Forbidden, NotFound, Unavailable),
)]
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

/// The paper's scheme at a version as a document in the importer's layout, amendments in place.
#[utoipa::path(
    get,
    path = "/papers/{id}/versions/{number}/document",
    tag = "living",
    params(VersionPath),
    responses(
        (status = 200, description = "The document (`mark-scheme-version-N.md`)", content_type = "text/markdown", body = String),
        BadRequest, Unauthorized, Forbidden, NotFound, Unavailable,
    ),
)]
async fn get_document(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((paper_id, number)): Path<(PaperId, i32)>,
) -> Result<Response, AppError> {
    document(&state, &user, paper_id, number).await
}

/// `?mark=N`: the definitive mark proposed.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ImpactQuery {
    /// The definitive mark proposed (one the question allows).
    #[param(minimum = 0)]
    mark: i32,
}

/// Who a definitive mark of `mark` would affect.
#[derive(Serialize, ToSchema)]
struct Impact {
    /// The response.
    response_id: ResponseId,
    /// The mark proposed.
    proposed: i32,
    /// Each examiner whose outcome would change.
    affected: Vec<Affected>,
}

/// Who would be affected if the response's definitive mark became `mark`.
#[utoipa::path(
    get,
    path = "/meetings/{id}/responses/{response_id}/impact",
    tag = "living",
    params(ResponsePath, ImpactQuery),
    responses((status = 200, description = "Whose outcome would change", body = Impact), BadRequest, Unauthorized, Forbidden, NotFound, Invalid, Unavailable),
)]
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
    Ok(Json(Impact { response_id, proposed: q.mark, affected }))
}
