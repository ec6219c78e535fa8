//! The marking API: a response with what the caller may see of it, marks,
//! definitive marks, release and reopening.

use axum::{
    Json,
    extract::{FromRequestParts, Path, State, rejection::JsonRejection},
    http::request::Parts,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    adjudication::{self, Definitive, DefinitiveInput},
    annotations::Annotation,
    rules::Part,
    store::{self, MarkInput, NamedMark, StoredMark},
    view::ResponseView,
};
use crate::{
    api::openapi::{
        BadRequest, Conflict, Forbidden, Invalid, MeetingPath, NotFound, PayloadTooLarge, ResponsePath, Unauthorized, Unavailable,
        UnsupportedMediaType,
    },
    auth::tokens,
    error::AppError,
    markscheme::Question,
    meetings::{
        MeetingId, Purpose,
        access::{self, Access, InMeeting, Marker, Participant, Principal},
    },
    papers::versions::Point,
    scripts::{ResponseId, ScriptId},
    state::AppState,
    users::{self, Email},
};

/// Routes nested under `/api/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_response))
        .routes(routes!(put_mark))
        .routes(routes!(put_definitive))
        .routes(routes!(release_response))
        .routes(routes!(reopen_mark))
        .routes(routes!(release_all))
}

/// What `GET .../responses/{response_id}` answers (`ResponseView::to_json`
/// builds it): only the fields the caller may see are present.
#[derive(ToSchema)]
#[allow(dead_code)]
struct ResponseOut {
    /// Response id.
    response_id: ResponseId,
    /// Script id.
    script_id: ScriptId,
    /// Candidate number.
    candidate: String,
    /// The question, with its levels, in the meeting's scheme version.
    question: Question,
    /// The typed answer, if any.
    text: Option<String>,
    /// Where the scanned answer is, if any.
    attachment_url: Option<String>,
    /// Whether the outcome is released to the caller.
    released: bool,
    /// Tolerance in marks for this question in this meeting.
    tolerance: i32,
    /// The question's points of indicative content (ids to credit).
    points: Vec<Point>,
    /// The version of the mark scheme the response is marked under.
    scheme_version_id: Uuid,
    /// The caller's own mark, if they mark and have saved one.
    mark: Option<StoredMark>,
    /// Why the script is in the meeting (only for those who may know).
    #[schema(required = false)]
    purpose: Purpose,
    /// The definitive mark (only once the caller may see it; null until there is one).
    #[schema(required = false)]
    definitive: Option<Definitive>,
    /// The caller's mark minus the definitive mark, once released.
    #[schema(required = false)]
    difference: i32,
    /// Whether that difference is within tolerance.
    #[schema(required = false)]
    within_tolerance: bool,
    /// Other people's marks the caller may see (and everyone's, for the principal examiner).
    #[schema(required = false)]
    marks: Vec<NamedMark>,
}

/// A response with its question, levels and points, the caller's mark and what else they may see.
#[utoipa::path(
    get,
    path = "/meetings/{id}/responses/{response_id}",
    tag = "marking",
    params(ResponsePath),
    responses((status = 200, description = "The response as the caller may see it", body = ResponseOut), BadRequest, Unauthorized, Forbidden, NotFound, Unavailable),
)]
async fn get_response(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Participant>,
    Path((_, response_id)): Path<(MeetingId, ResponseId)>,
) -> Result<impl IntoResponse, AppError> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(ResponseView::load(&mut conn, &access, response_id).await?.to_json()))
}

/// `PUT .../mark`: an examiner's mark (a draft until `submit`).
#[derive(Deserialize, ToSchema)]
struct MarkBody {
    /// Level chosen (not for a question marked per objective: give `parts`).
    #[serde(default)]
    #[schema(minimum = 0)]
    level: Option<i32>,
    /// May be left out when `parts` are given: the mark is their sum.
    #[serde(default)]
    #[schema(minimum = 0)]
    mark: Option<i32>,
    /// For a question marked on separate grids per objective: a level and mark per grid.
    #[serde(default)]
    parts: Vec<Part>,
    /// Stamps on the answer, replacing those saved before.
    #[serde(default)]
    annotations: Vec<Annotation>,
    #[serde(default)]
    comment: String,
    /// Ids of the indicative-content points credited (the response's `points`).
    #[serde(default)]
    credited: Vec<Uuid>,
    /// Lock the mark (submitted marks change only if the principal examiner reopens them).
    #[serde(default)]
    submit: bool,
    /// The mark's version the edit is based on (409 when stale); left out, the mark is written as it is.
    #[serde(default)]
    version: Option<i32>,
}

/// Saves the caller's mark on a response.
#[utoipa::path(
    put,
    path = "/meetings/{id}/responses/{response_id}/mark",
    tag = "marking",
    params(ResponsePath),
    request_body = MarkBody,
    responses(
        (status = 200, description = "The stored mark and its new version", body = StoredMark),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, Invalid, Unavailable,
    ),
)]
async fn put_mark(
    State(state): State<AppState>,
    caller: SaveCaller,
    Path((meeting_id, response_id)): Path<(MeetingId, ResponseId)>,
    body: Result<Json<MarkBody>, JsonRejection>,
) -> Result<Response, AppError> {
    let body = match body {
        Ok(Json(body)) => body,
        Err(rejection) => {
            // Who is asking is checked before what they sent, as for every other request.
            if let SaveCaller::Token(digest) = &caller {
                access::access_by_digest::<Marker>(&state, digest, meeting_id).await?;
            }
            return Ok(rejection.into_response());
        }
    };
    let input = MarkInput {
        level: body.level,
        mark: body.mark,
        parts: body.parts,
        annotations: body.annotations,
        comment: body.comment,
        credited: body.credited,
        submit: body.submit,
        version: body.version,
    };
    let access = match caller {
        SaveCaller::Checked(access) => access,
        SaveCaller::Token(digest) => match store::save_by_token(&state, &digest, meeting_id, response_id, &input).await? {
            Some(stored) => return Ok(Json(stored).into_response()),
            None => access::access_by_digest::<Marker>(&state, &digest, meeting_id).await?,
        },
    };
    let (_, stored) = store::save(&state, &access.meeting, response_id, access.user_id(), input).await?;
    Ok(Json(stored).into_response())
}

/// Who is saving a mark through the API: checked by the extractor as for any
/// request in a meeting, or — a bearer token on a response the process knows
/// as a practice script, whose save is one statement — left for that
/// statement to check ([`store::save_by_token`]), so that a draft autosave is
/// one round trip to the database.
enum SaveCaller {
    Checked(Access),
    Token(Vec<u8>),
}

impl FromRequestParts<AppState> for SaveCaller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Ok(Some(digest)) = tokens::bearer_digest(&parts.headers)
            && let Ok(Path((meeting_id, response_id))) = Path::<(MeetingId, ResponseId)>::from_request_parts(parts, state).await
            && store::knows_practice(meeting_id, response_id)
        {
            return Ok(SaveCaller::Token(digest));
        }
        let InMeeting(access, _) = InMeeting::<Marker>::from_request_parts(parts, state).await?;
        Ok(SaveCaller::Checked(access))
    }
}

/// `PUT .../definitive`: the principal examiner's definitive mark.
#[derive(Deserialize, ToSchema)]
struct DefinitiveBody {
    /// Level (not for a question marked per objective: give `parts`).
    #[serde(default)]
    #[schema(minimum = 0)]
    level: Option<i32>,
    /// Mark; may be left out when `parts` are given: the mark is their sum.
    #[serde(default)]
    #[schema(minimum = 0)]
    mark: Option<i32>,
    /// For a question marked on separate grids per objective: a level and mark per grid.
    #[serde(default)]
    parts: Vec<Part>,
    /// Stamps on the answer, replacing those saved before.
    #[serde(default)]
    annotations: Vec<Annotation>,
    /// Rationale (Markdown).
    #[serde(default)]
    rationale: String,
    /// Why it changes; required once the script is released.
    #[serde(default)]
    reason: Option<String>,
    /// The definitive mark's version the edit is based on (409 when stale).
    #[serde(default)]
    version: Option<i32>,
    /// For a qualification set once qualification is open: `true` judges its examiners again, `false` lets their results stand.
    #[serde(default)]
    reevaluate: Option<bool>,
}

/// Records or changes the definitive mark of a response.
#[utoipa::path(
    put,
    path = "/meetings/{id}/responses/{response_id}/definitive",
    tag = "marking",
    params(ResponsePath),
    request_body = DefinitiveBody,
    responses(
        (status = 200, description = "The stored definitive mark", body = Definitive),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, Invalid, Unavailable,
    ),
)]
async fn put_definitive(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Principal>,
    Path((_, response_id)): Path<(MeetingId, ResponseId)>,
    Json(body): Json<DefinitiveBody>,
) -> Result<impl IntoResponse, AppError> {
    let stored = crate::transact!(&state, |tx| {
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

/// How many scripts were released.
#[derive(Serialize, ToSchema)]
struct Released {
    /// Scripts released by this request (0 when already released).
    released_scripts: usize,
    /// The response's script (when one script was released).
    #[serde(skip_serializing_if = "Option::is_none")]
    script_id: Option<ScriptId>,
}

/// Releases the response's script: its examiners see the outcome.
#[utoipa::path(
    post,
    path = "/meetings/{id}/responses/{response_id}/release",
    tag = "marking",
    params(ResponsePath),
    responses((status = 200, description = "The script is released", body = Released), BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Invalid, Unavailable),
)]
async fn release_response(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Principal>,
    Path((_, response_id)): Path<(MeetingId, ResponseId)>,
) -> Result<impl IntoResponse, AppError> {
    let (n, script_id) = crate::transact!(&state, |tx| {
        let ctx = store::response_in_meeting(tx, &access.meeting, response_id).await?;
        Ok((adjudication::release(tx, &access.meeting, Some(ctx.script_id), access.user.actor()).await?, ctx.script_id))
    })?;
    Ok(Json(Released { released_scripts: n, script_id: Some(script_id) }))
}

/// Releases every script of the meeting.
#[utoipa::path(
    post,
    path = "/meetings/{id}/release",
    tag = "marking",
    params(MeetingPath),
    responses((status = 200, description = "Every script is released", body = Released), BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Invalid, Unavailable),
)]
async fn release_all(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Principal>) -> Result<impl IntoResponse, AppError> {
    let n = crate::transact!(&state, |tx| { adjudication::release(tx, &access.meeting, None, access.user.actor()).await })?;
    Ok(Json(Released { released_scripts: n, script_id: None }))
}

/// `POST .../reopen`: whose submitted mark to unlock, and why.
#[derive(Deserialize, ToSchema)]
struct ReopenBody {
    /// The examiner's email.
    examiner: String,
    /// Why.
    #[serde(default)]
    reason: String,
}

/// Unlocks an examiner's submitted mark.
#[utoipa::path(
    post,
    path = "/meetings/{id}/responses/{response_id}/reopen",
    tag = "marking",
    params(ResponsePath),
    request_body = ReopenBody,
    responses(
        (status = 200, description = "The mark, a draft again", body = StoredMark),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, Invalid, Unavailable,
    ),
)]
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
    let stored = crate::transact!(&state, |tx| {
        let ctx = store::response_in_meeting(tx, &access.meeting, response_id).await?;
        store::reopen(tx, &access.meeting, &ctx, examiner.user_id(), access.user.actor(), &body.reason).await
    })?;
    Ok(Json(stored))
}
