//! The qualification API: sets, opening, results, decisions and seeds.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    response::IntoResponse,
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{
    rules::PassRule,
    store::{self, Entry},
};
use crate::{
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
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/meetings/{id}/qualification", get(get_overview))
        .route("/meetings/{id}/qualification/sets", post(post_set))
        .route("/meetings/{id}/qualification/open", post(post_open))
        .route("/meetings/{id}/qualification/me", get(get_mine))
        .route("/meetings/{id}/qualification/{email}/decision", post(post_decision))
        .route("/meetings/{id}/seeds", post(post_seeds))
}

#[derive(Deserialize)]
struct SetBody {
    scripts: Vec<ScriptId>,
    #[serde(default)]
    min_within: Option<i32>,
    #[serde(default)]
    max_total_deviation: Option<i32>,
}

async fn post_set(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Principal>,
    Json(body): Json<SetBody>,
) -> Result<impl IntoResponse, AppError> {
    let rule = body.min_within.map(|min_within| PassRule { min_within, max_total_deviation: body.max_total_deviation });
    let rule = rule
        .or(body.max_total_deviation.map(|cap| PassRule { max_total_deviation: Some(cap), ..PassRule::default_for(body.scripts.len()) }));
    let number = crate::transact!(&state.db, |tx| { store::create_set(tx, &access.meeting, &body.scripts, rule, access.actor()).await })?;
    Ok((StatusCode::CREATED, Json(json!({"set": number}))))
}

async fn post_open(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Principal>) -> Result<impl IntoResponse, AppError> {
    crate::transact!(&state.db, |tx| { store::open(tx, &access.meeting, access.actor()).await })?;
    Ok(Json(json!({"open": true})))
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

async fn get_overview(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Leader>) -> Result<impl IntoResponse, AppError> {
    let only = scope(&state, &access).await?;
    let mut conn = state.db.acquire().await?;
    let entries = store::overview(&mut conn, access.meeting_id(), only.as_deref()).await?;
    let oversees = access.role.oversees();
    Ok(Json(entries.into_iter().map(|e| if oversees { e } else { e.without_seed_evidence() }).collect::<Vec<_>>()))
}

async fn get_mine(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Marker>) -> Result<impl IntoResponse, AppError> {
    let mut conn = state.db.acquire().await?;
    let sets = store::sets(&mut *conn, access.meeting_id()).await?;
    let me =
        store::overview(&mut conn, access.meeting_id(), Some(&[access.user_id()])).await?.into_iter().next().map(Entry::for_the_marker);
    let outcomes = store::outcomes(&mut *conn, access.meeting_id(), access.user_id()).await?;
    Ok(Json(json!({
        "entry": me,
        "open": store::is_open(&mut *conn, access.meeting_id()).await?,
        "sets": sets.iter().map(|s| json!({"set": s.number, "scripts": s.scripts.len(), "rule": s.describe()})).collect::<Vec<_>>(),
        "responses": outcomes,
    })))
}

#[derive(Deserialize)]
struct DecisionBody {
    approved: bool,
    #[serde(default)]
    reason: String,
}

async fn post_decision(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Leader>,
    Path((_, email)): Path<(Uuid, String)>,
    Json(body): Json<DecisionBody>,
) -> Result<impl IntoResponse, AppError> {
    let state_now = crate::transact!(&state.db, |tx| {
        store::decide(tx, &access.meeting, access.actor(), access.role, &email, body.approved, &body.reason).await
    })?;
    Ok(Json(json!({"email": email, "state": state_now})))
}

#[derive(Deserialize)]
struct SeedBody {
    examiners: Vec<String>,
    scripts: Vec<ScriptId>,
}

async fn post_seeds(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Principal>,
    Json(body): Json<SeedBody>,
) -> Result<impl IntoResponse, AppError> {
    let given =
        crate::transact!(&state.db, |tx| { store::seed(tx, &access.meeting, &body.examiners, &body.scripts, access.actor()).await })?;
    Ok((StatusCode::CREATED, Json(json!({"given": given}))))
}
