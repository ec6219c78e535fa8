//! The meetings API: set up, open, assignments, audit.

use std::collections::HashMap;

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::json;
use time::Date;

use super::{
    access::{InMeeting, Marker, Overseer, Participant},
    policy::{self, Facts},
    store::Progress,
    store::{self, MeetingSpec},
};
use crate::{
    audit,
    auth::extract::Admin,
    error::AppError,
    meetings::Role,
    papers::PaperId,
    scripts::{self, ScriptId},
    state::AppState,
    users::Email,
};

/// Routes nested under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/meetings", post(create_meeting))
        .route("/meetings/{id}/open", post(open_meeting))
        .route("/meetings/{id}/close", post(close_meeting))
        .route("/meetings/{id}/people", post(add_people))
        .route("/meetings/{id}/assignments", get(get_assignments))
        .route("/meetings/{id}/audit", get(get_audit))
        .route("/meetings/{id}/audit.csv", get(get_audit_csv))
}

/// A team leader and their team, as the API takes them.
#[derive(Deserialize)]
pub struct TeamBody {
    email: String,
    #[serde(default)]
    team: Vec<String>,
}

/// A script and its purpose, as the API takes them.
#[derive(Deserialize)]
pub struct ScriptChoice {
    script_id: ScriptId,
    purpose: String,
}

/// `POST /api/v1/meetings`.
#[derive(Deserialize)]
pub struct MeetingBody {
    paper_id: PaperId,
    name: String,
    #[serde(default)]
    held_on: Option<Date>,
    principal_examiner: String,
    #[serde(default)]
    examiners: Vec<String>,
    #[serde(default)]
    team_leaders: Vec<TeamBody>,
    #[serde(default)]
    scripts: Vec<ScriptChoice>,
    #[serde(default)]
    tolerances: HashMap<String, i32>,
}

fn email(raw: &str) -> Result<Email, AppError> {
    Email::parse(raw).map_err(AppError::invalid)
}

impl MeetingBody {
    /// Parses the body into a spec; the error names the bad value.
    pub fn into_spec(self) -> Result<MeetingSpec, AppError> {
        Ok(MeetingSpec {
            paper_id: self.paper_id,
            name: self.name,
            held_on: self.held_on,
            principal_examiner: email(&self.principal_examiner)?,
            examiners: self.examiners.iter().map(|e| email(e)).collect::<Result<_, _>>()?,
            team_leaders: self
                .team_leaders
                .iter()
                .map(|t| Ok((email(&t.email)?, t.team.iter().map(|e| email(e)).collect::<Result<Vec<_>, AppError>>()?)))
                .collect::<Result<_, AppError>>()?,
            scripts: self
                .scripts
                .iter()
                .map(|s| {
                    s.purpose
                        .parse()
                        .map(|p| (s.script_id, p))
                        .map_err(|_| AppError::invalid(format!("\"{}\" is not a purpose: use practice, qualification or seed.", s.purpose)))
                })
                .collect::<Result<_, _>>()?,
            tolerances: self.tolerances,
        })
    }
}

async fn create_meeting(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Json(body): Json<MeetingBody>,
) -> Result<impl IntoResponse, AppError> {
    let spec = body.into_spec()?;
    let paper = scripts::paper(&state.db, spec.paper_id).await?;
    let id = crate::transact!(&state.db, |tx| { store::create(tx, &spec, &paper, admin.actor()).await })?;
    tracing::info!(meeting_id = %id, by = %admin.id, "meeting created");
    Ok((StatusCode::CREATED, Json(json!({"id": id}))))
}

async fn open_meeting(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Participant>) -> Result<impl IntoResponse, AppError> {
    if !matches!(access.role, Role::Pe | Role::Admin) {
        return Err(AppError::Forbidden("Only the principal examiner or an administrator can open the meeting for marking.".into()));
    }
    crate::transact!(&state.db, |tx| { store::open(tx, &access.meeting, access.user.actor()).await })?;
    Ok(Json(json!({"id": access.meeting_id(), "state": "marking"})))
}

async fn close_meeting(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Overseer>) -> Result<impl IntoResponse, AppError> {
    crate::transact!(&state.db, |tx| { store::close(tx, &access.meeting, access.user.actor()).await })?;
    Ok(Json(json!({"id": access.meeting_id(), "state": "closed"})))
}

/// `POST /api/v1/meetings/{id}/people`: more examiners and teams.
#[derive(Deserialize)]
struct PeopleBody {
    #[serde(default)]
    examiners: Vec<String>,
    #[serde(default)]
    team_leaders: Vec<TeamBody>,
}

async fn add_people(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Overseer>,
    Json(body): Json<PeopleBody>,
) -> Result<impl IntoResponse, AppError> {
    let examiners: Vec<Email> = body.examiners.iter().map(|e| email(e)).collect::<Result<_, _>>()?;
    let teams: Vec<(Email, Vec<Email>)> = body
        .team_leaders
        .iter()
        .map(|t| Ok((email(&t.email)?, t.team.iter().map(|e| email(e)).collect::<Result<Vec<_>, AppError>>()?)))
        .collect::<Result<_, AppError>>()?;
    let mut people: Vec<store::NewPerson<'_>> = Vec::new();
    for (leader, team) in &teams {
        people.push((leader, "team_leader", None));
        people.extend(team.iter().map(|m| (m, "examiner", Some(leader))));
    }
    people.extend(examiners.iter().map(|e| (e, "examiner", None)));
    if people.is_empty() {
        return Err(AppError::invalid("Name at least one examiner or team leader."));
    }
    crate::transact!(&state.db, |tx| { store::add_people(tx, &access.meeting, &people, access.user.actor()).await })?;
    Ok((StatusCode::CREATED, Json(json!({"added": people.len()}))))
}

async fn get_assignments(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Marker>) -> Result<impl IntoResponse, AppError> {
    let list = store::assignments(&state.db, access.meeting_id(), access.user_id()).await?;
    let shown: Vec<serde_json::Value> = list
        .into_iter()
        .map(|a| {
            let facts = Facts { role: access.role, released: a.state == Progress::Released, submitted_own: a.state == Progress::Submitted };
            let mut v = serde_json::json!({
                "response_id": a.response_id, "script_id": a.script_id, "candidate": a.candidate,
                "question": a.question, "state": a.state,
            });
            if policy::sight(facts).purpose {
                v["purpose"] = serde_json::json!(a.purpose);
            }
            v
        })
        .collect();
    Ok(Json(shown))
}

async fn get_audit(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Overseer>) -> Result<impl IntoResponse, AppError> {
    Ok(Json(audit::list(&state.db, access.meeting_id()).await?))
}

/// The audit log as a CSV download (for the pages as well as programs), each
/// entry also in plain words.
pub async fn get_audit_csv(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Overseer>) -> Result<Response, AppError> {
    let entries = audit::list(&state.db, access.meeting_id()).await?;
    let csv = audit::to_csv(&entries, &audit::names(&state.db, access.meeting_id()).await?)?;
    let mut response = csv.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"audit-log.csv\""));
    Ok(response)
}
