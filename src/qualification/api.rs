//! The qualification API: sets, opening, results, decisions and seeds.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::IntoResponse,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    rules::{PassRule, QualState},
    store::{self, Entry, Outcome},
};
use crate::{
    api::openapi::{
        BadRequest, Conflict, Forbidden, Invalid, MeetingPath, NotFound, PayloadTooLarge, Unauthorized, Unavailable, UnsupportedMediaType,
    },
    error::AppError,
    meetings::{
        Role,
        access::{Access, InMeeting, Leader, Marker, Principal},
    },
    scripts::ScriptId,
    state::AppState,
    users::UserId,
};

/// Routes nested under `/api/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_overview))
        .routes(routes!(post_set))
        .routes(routes!(post_open))
        .routes(routes!(get_mine))
        .routes(routes!(post_decision))
        .routes(routes!(post_seeds))
}

/// `POST .../qualification/sets`: a set of the meeting's qualification scripts and its pass rule.
#[derive(Deserialize, ToSchema)]
struct SetBody {
    /// The set's scripts, in order (qualification scripts of the meeting).
    scripts: Vec<ScriptId>,
    /// At least this many scripts within tolerance on every response (default: all but one, at least one).
    #[serde(default)]
    min_within: Option<i32>,
    /// And, if given, at most this total absolute deviation over the set.
    #[serde(default)]
    max_total_deviation: Option<i32>,
}

/// The new set's number.
#[derive(Serialize, ToSchema)]
struct SetCreated {
    /// 1, 2, …
    set: i32,
}

/// Makes a qualification set.
#[utoipa::path(
    post,
    path = "/meetings/{id}/qualification/sets",
    tag = "qualification",
    params(MeetingPath),
    request_body = SetBody,
    responses(
        (status = 201, description = "The set is made", body = SetCreated),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, Invalid, Unavailable,
    ),
)]
async fn post_set(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Principal>,
    Json(body): Json<SetBody>,
) -> Result<impl IntoResponse, AppError> {
    let rule = body.min_within.map(|min_within| PassRule { min_within, max_total_deviation: body.max_total_deviation });
    let rule = rule
        .or(body.max_total_deviation.map(|cap| PassRule { max_total_deviation: Some(cap), ..PassRule::default_for(body.scripts.len()) }));
    let number = crate::transact!(&state, |tx| { store::create_set(tx, &access.meeting, &body.scripts, rule, access.actor()).await })?;
    Ok((StatusCode::CREATED, Json(SetCreated { set: number })))
}

/// Whether qualification is open.
#[derive(Serialize, ToSchema)]
struct Opened {
    /// Always true.
    open: bool,
}

/// Opens qualification: every examiner and team leader starts set 1.
#[utoipa::path(
    post,
    path = "/meetings/{id}/qualification/open",
    tag = "qualification",
    params(MeetingPath),
    responses((status = 200, description = "Qualification is open", body = Opened), BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Invalid, Unavailable),
)]
async fn post_open(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Principal>) -> Result<impl IntoResponse, AppError> {
    crate::transact!(&state, |tx| { store::open(tx, &access.meeting, access.actor()).await })?;
    Ok(Json(Opened { open: true }))
}

/// The people a viewer may see the qualification of: everyone for the
/// principal examiner and administrators, their team for a team leader.
pub async fn scope(state: &AppState, access: &Access) -> Result<Option<Vec<UserId>>, AppError> {
    if access.role != Role::TeamLeader {
        return Ok(None);
    }
    Ok(Some(
        sqlx::query_scalar!(
            r#"SELECT user_id AS "user_id: UserId" FROM meeting_participants WHERE meeting_id = $1 AND team_leader_id = $2"#,
            access.meeting.id,
            access.user_id() as UserId,
        )
        .fetch_all(&state.db)
        .await?,
    ))
}

/// Every marker's qualification the caller may see (a team leader: their team's).
#[utoipa::path(
    get,
    path = "/meetings/{id}/qualification",
    tag = "qualification",
    params(MeetingPath),
    responses((status = 200, description = "The markers' qualification", body = Vec<Entry>), BadRequest, Unauthorized, Forbidden, NotFound, Unavailable),
)]
async fn get_overview(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Leader>) -> Result<impl IntoResponse, AppError> {
    let only = scope(&state, &access).await?;
    let mut conn = state.db.acquire().await?;
    let entries = store::overview(&mut conn, access.meeting_id(), only.as_deref()).await?;
    let oversees = access.role.oversees();
    Ok(Json(entries.into_iter().map(|e| if oversees { e } else { e.without_seed_evidence() }).collect::<Vec<_>>()))
}

/// The caller's own qualification.
#[derive(Serialize, ToSchema)]
struct Mine {
    /// Their entry (null before qualification concerns them).
    entry: Option<Entry>,
    /// Whether qualification is open.
    open: bool,
    /// The sets and their rules.
    sets: Vec<SetRule>,
    /// Per response of a submitted set: their mark, the definitive mark and rationale, within tolerance or not.
    responses: Vec<Outcome>,
}

/// A set as its markers see it.
#[derive(Serialize, ToSchema)]
struct SetRule {
    /// 1, 2, …
    set: i32,
    /// Scripts in the set.
    scripts: usize,
    /// The pass rule, in words.
    rule: String,
}

/// The caller's own entry, the sets' rules, and the outcomes of the sets they submitted.
#[utoipa::path(
    get,
    path = "/meetings/{id}/qualification/me",
    tag = "qualification",
    params(MeetingPath),
    responses((status = 200, description = "The caller's qualification", body = Mine), BadRequest, Unauthorized, Forbidden, NotFound, Unavailable),
)]
async fn get_mine(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Marker>) -> Result<impl IntoResponse, AppError> {
    let mut conn = state.db.acquire().await?;
    let sets = store::sets(&mut *conn, access.meeting_id()).await?;
    let me =
        store::overview(&mut conn, access.meeting_id(), Some(&[access.user_id()])).await?.into_iter().next().map(Entry::for_the_marker);
    let outcomes = store::outcomes(&mut *conn, access.meeting_id(), access.user_id()).await?;
    Ok(Json(Mine {
        entry: me,
        open: store::is_open(&mut *conn, access.meeting_id()).await?,
        sets: sets.iter().map(|s| SetRule { set: s.number, scripts: s.scripts.len(), rule: s.describe() }).collect(),
        responses: outcomes,
    }))
}

/// `POST .../qualification/{email}/decision`.
#[derive(Deserialize, ToSchema)]
struct DecisionBody {
    /// Approved to mark live, or not.
    approved: bool,
    /// Why; needed to go against the result.
    #[serde(default)]
    reason: String,
}

/// The path of a decision.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct DecisionPath {
    /// The meeting's id (anything else is answered 404).
    id: crate::meetings::MeetingId,
    /// The examiner's email.
    email: String,
}

/// Where the examiner stands after the decision.
#[derive(Serialize, ToSchema)]
struct Decided {
    /// The examiner's email, as given.
    email: String,
    /// Where they stand now.
    state: QualState,
}

/// Approves an examiner to mark live, or not.
#[utoipa::path(
    post,
    path = "/meetings/{id}/qualification/{email}/decision",
    tag = "qualification",
    params(DecisionPath),
    request_body = DecisionBody,
    responses(
        (status = 200, description = "The decision is recorded", body = Decided),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, Invalid, Unavailable,
    ),
)]
async fn post_decision(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Leader>,
    Path((_, email)): Path<(Uuid, String)>,
    Json(body): Json<DecisionBody>,
) -> Result<impl IntoResponse, AppError> {
    let state_now = crate::transact!(&state, |tx| {
        store::decide(tx, &access.meeting, access.actor(), access.role, &email, body.approved, &body.reason).await
    })?;
    Ok(Json(Decided { email, state: state_now }))
}

/// `POST .../seeds`: seed scripts for approved examiners.
#[derive(Deserialize, ToSchema)]
struct SeedBody {
    /// The examiners' emails.
    examiners: Vec<String>,
    /// The meeting's seed scripts to give them.
    scripts: Vec<ScriptId>,
}

/// How many seeds were given.
#[derive(Serialize, ToSchema)]
struct Given {
    /// Seeds given (an examiner and a script each).
    given: usize,
}

/// Gives approved examiners seed scripts.
#[utoipa::path(
    post,
    path = "/meetings/{id}/seeds",
    tag = "qualification",
    params(MeetingPath),
    request_body = SeedBody,
    responses(
        (status = 201, description = "The seeds are given", body = Given),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, Invalid, Unavailable,
    ),
)]
async fn post_seeds(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Principal>,
    Json(body): Json<SeedBody>,
) -> Result<impl IntoResponse, AppError> {
    let given = crate::transact!(&state, |tx| { store::seed(tx, &access.meeting, &body.examiners, &body.scripts, access.actor()).await })?;
    Ok((StatusCode::CREATED, Json(Given { given })))
}
