//! The meetings API: set up, open, assignments, audit.

use std::collections::HashMap;

use axum::{
    Json,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    MeetingId, MeetingState, Purpose,
    access::{InMeeting, Marker, Overseer, Participant},
    policy::{self, Facts},
    store::Progress,
    store::{self, MeetingSpec},
};
use crate::{
    api::openapi::{
        BadRequest, Conflict, Forbidden, Invalid, MeetingPath, NotFound, PayloadTooLarge, Unauthorized, Unavailable, UnsupportedMediaType,
    },
    audit,
    auth::extract::Admin,
    error::AppError,
    meetings::Role,
    papers::PaperId,
    scripts::{self, ResponseId, ScriptId},
    state::AppState,
    users::Email,
};

/// Routes nested under `/api/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_meeting))
        .routes(routes!(open_meeting))
        .routes(routes!(close_meeting))
        .routes(routes!(add_people))
        .routes(routes!(get_assignments))
        .routes(routes!(get_audit))
        .routes(routes!(get_audit_csv))
}

/// A team leader and their team, as the API takes them.
#[derive(Deserialize, ToSchema)]
pub struct TeamBody {
    /// The team leader's email.
    email: String,
    /// Their team's emails.
    #[serde(default)]
    team: Vec<String>,
}

/// A script and its purpose, as the API takes them.
#[derive(Deserialize, ToSchema)]
pub struct ScriptChoice {
    /// The script.
    script_id: ScriptId,
    /// `practice`, `qualification` or `seed`.
    #[schema(example = "practice")]
    purpose: String,
}

/// `POST /api/v1/meetings`.
#[derive(Deserialize, ToSchema)]
pub struct MeetingBody {
    /// The paper marked.
    paper_id: PaperId,
    /// The meeting's name (at most 200 characters).
    name: String,
    /// The day it is held, `YYYY-MM-DD`.
    #[serde(default)]
    #[schema(format = Date, example = "2026-06-15")]
    held_on: Option<String>,
    /// The principal examiner's email.
    principal_examiner: String,
    /// Examiners' emails.
    #[serde(default)]
    examiners: Vec<String>,
    /// Team leaders and their teams.
    #[serde(default)]
    team_leaders: Vec<TeamBody>,
    /// The scripts marked, each with its purpose.
    #[serde(default)]
    scripts: Vec<ScriptChoice>,
    /// Tolerance in marks per question number (default 10% of the maximum, at least 1).
    #[serde(default)]
    #[schema(example = json!({"01": 1}))]
    tolerances: HashMap<String, i32>,
}

fn email(raw: &str) -> Result<Email, AppError> {
    Email::parse(raw).map_err(AppError::invalid)
}

/// A day as the form takes it: `YYYY-MM-DD`. (`time::Date`'s own serde form
/// is a `[year, ordinal]` pair, which no program would think of sending.)
fn date(raw: &str) -> Result<Date, AppError> {
    Date::parse(raw.trim(), &time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| AppError::invalid(format!("\"{raw}\" is not a date: use YYYY-MM-DD.")))
}

impl MeetingBody {
    /// Parses the body into a spec; the error names the bad value.
    pub fn into_spec(self) -> Result<MeetingSpec, AppError> {
        Ok(MeetingSpec {
            paper_id: self.paper_id,
            name: self.name,
            held_on: self.held_on.as_deref().map(date).transpose()?,
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

/// The new meeting's id.
#[derive(Serialize, ToSchema)]
struct Created {
    /// Its id.
    id: MeetingId,
}

/// A meeting's id and the state it is now in.
#[derive(Serialize, ToSchema)]
struct StateNow {
    /// The meeting's id.
    id: MeetingId,
    /// Its state now.
    state: MeetingState,
}

/// Sets up a meeting.
#[utoipa::path(
    post,
    path = "/meetings",
    tag = "meetings",
    request_body = MeetingBody,
    responses(
        (status = 201, description = "The meeting, being set up", body = Created),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, Invalid, Unavailable,
    ),
)]
async fn create_meeting(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Json(body): Json<MeetingBody>,
) -> Result<impl IntoResponse, AppError> {
    let spec = body.into_spec()?;
    let paper = scripts::paper(&state.db, spec.paper_id).await?;
    let id = crate::transact!(&state, |tx| { store::create(tx, &spec, &paper, admin.actor()).await })?;
    tracing::info!(meeting_id = %id, by = %admin.id, "meeting created");
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Opens the meeting for marking (setup → marking).
#[utoipa::path(
    post,
    path = "/meetings/{id}/open",
    tag = "meetings",
    params(MeetingPath),
    responses((status = 200, description = "The meeting is marking", body = StateNow), BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Invalid, Unavailable),
)]
async fn open_meeting(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Participant>) -> Result<impl IntoResponse, AppError> {
    if !matches!(access.role, Role::Pe | Role::Admin) {
        return Err(AppError::Forbidden("Only the principal examiner or an administrator can open the meeting for marking.".into()));
    }
    crate::transact!(&state, |tx| { store::open(tx, &access.meeting, access.user.actor()).await })?;
    Ok(Json(StateNow { id: access.meeting_id(), state: MeetingState::Marking }))
}

/// Closes the meeting (marking → closed).
#[utoipa::path(
    post,
    path = "/meetings/{id}/close",
    tag = "meetings",
    params(MeetingPath),
    responses((status = 200, description = "The meeting is closed", body = StateNow), BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Unavailable),
)]
async fn close_meeting(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Overseer>) -> Result<impl IntoResponse, AppError> {
    crate::transact!(&state, |tx| { store::close(tx, &access.meeting, access.user.actor()).await })?;
    Ok(Json(StateNow { id: access.meeting_id(), state: MeetingState::Closed }))
}

/// `POST /api/v1/meetings/{id}/people`: more examiners and teams.
#[derive(Deserialize, ToSchema)]
struct PeopleBody {
    /// Examiners' emails.
    #[serde(default)]
    examiners: Vec<String>,
    /// Team leaders and their teams.
    #[serde(default)]
    team_leaders: Vec<TeamBody>,
}

/// How many people were named.
#[derive(Serialize, ToSchema)]
struct Added {
    /// People named (team leaders, their teams and examiners).
    added: usize,
}

/// Adds examiners and teams to the meeting.
#[utoipa::path(
    post,
    path = "/meetings/{id}/people",
    tag = "meetings",
    params(MeetingPath),
    request_body = PeopleBody,
    responses(
        (status = 201, description = "They take part", body = Added),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, Invalid, Unavailable,
    ),
)]
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
    crate::transact!(&state, |tx| { store::add_people(tx, &access.meeting, &people, access.user.actor()).await })?;
    Ok((StatusCode::CREATED, Json(Added { added: people.len() })))
}

/// A response to mark, as its marker sees it.
#[derive(Serialize, ToSchema)]
struct AssignmentOut {
    /// Response id.
    response_id: ResponseId,
    /// Script id.
    script_id: ScriptId,
    /// Candidate number.
    candidate: String,
    /// Question number.
    question: String,
    /// Why the script is in the meeting, only where the policy lets the marker know it.
    #[serde(skip_serializing_if = "Option::is_none")]
    purpose: Option<Purpose>,
    /// How far the caller has got with it.
    state: Progress,
}

/// The caller's responses to mark.
#[utoipa::path(
    get,
    path = "/meetings/{id}/assignments",
    tag = "meetings",
    params(MeetingPath),
    responses((status = 200, description = "The caller's responses to mark", body = Vec<AssignmentOut>), BadRequest, Unauthorized, Forbidden, NotFound, Unavailable),
)]
async fn get_assignments(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Marker>) -> Result<impl IntoResponse, AppError> {
    let list = store::assignments(&state.db, access.meeting_id(), access.user_id()).await?;
    let shown: Vec<AssignmentOut> = list
        .into_iter()
        .map(|a| {
            let facts = Facts { role: access.role, released: a.state == Progress::Released, submitted_own: a.state == Progress::Submitted };
            AssignmentOut {
                purpose: policy::sight(facts).purpose.then_some(a.purpose),
                response_id: a.response_id,
                script_id: a.script_id,
                candidate: a.candidate,
                question: a.question,
                state: a.state,
            }
        })
        .collect();
    Ok(Json(shown))
}

/// Every change in the meeting: who, when, old, new, why.
#[utoipa::path(
    get,
    path = "/meetings/{id}/audit",
    tag = "meetings",
    params(MeetingPath),
    responses((status = 200, description = "The audit log, in order", body = Vec<audit::Logged>), BadRequest, Unauthorized, Forbidden, NotFound, Unavailable),
)]
async fn get_audit(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Overseer>) -> Result<impl IntoResponse, AppError> {
    Ok(Json(audit::list(&state.db, access.meeting_id()).await?))
}

/// The audit log as a CSV download (for the pages as well as programs), each
/// entry also in plain words.
#[utoipa::path(
    get,
    path = "/meetings/{id}/audit.csv",
    tag = "meetings",
    params(MeetingPath),
    responses(
        (status = 200, description = "The audit log as CSV (`audit-log.csv`)", content_type = "text/csv", body = String),
        BadRequest, Unauthorized, Forbidden, NotFound, Unavailable,
    ),
)]
pub async fn get_audit_csv(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Overseer>) -> Result<Response, AppError> {
    let entries = audit::list(&state.db, access.meeting_id()).await?;
    let csv = audit::to_csv(&entries, &audit::names(&state.db, access.meeting_id()).await?)?;
    let mut response = csv.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"audit-log.csv\""));
    Ok(response)
}
