//! The dashboard API: marks, statistics, and the event stream.

use std::collections::BTreeMap;

use axum::{Json, extract::State, response::IntoResponse};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{compute::round3, figures};
use crate::{
    api::openapi::{BadRequest, Forbidden, MeetingPath, NotFound, Unauthorized, Unavailable},
    error::AppError,
    live,
    live::Recheck,
    marking::{MarkState, store::visible_marks},
    meetings::{
        Role,
        access::{Access, Credential, InMeeting, Leader, Overseer, Participant, still_allowed},
    },
    scripts::ResponseId,
    state::AppState,
};

/// Routes nested under `/api/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_marks)).routes(routes!(get_stats)).routes(routes!(get_events))
}

/// A mark as the marks list shows it.
#[derive(Serialize, ToSchema)]
struct MarkOut {
    /// The response it is on.
    response_id: ResponseId,
    /// The examiner's email.
    examiner: String,
    /// Level (null for questions not marked by levels).
    level: Option<i32>,
    /// Mark.
    mark: i32,
    /// Draft or submitted.
    state: MarkState,
}

/// Every mark the caller may see: all of them for the principal examiner and administrators, their team's for a team leader.
#[utoipa::path(
    get,
    path = "/meetings/{id}/marks",
    tag = "dashboard",
    params(MeetingPath),
    responses((status = 200, description = "The marks", body = Vec<MarkOut>), BadRequest, Unauthorized, Forbidden, NotFound, Unavailable),
)]
async fn get_marks(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Leader>) -> Result<impl IntoResponse, AppError> {
    let mut conn = state.db.acquire().await?;
    let marks = visible_marks(&mut conn, access.meeting_id(), None, access.user_id(), access.role).await?;
    let out: Vec<MarkOut> = marks
        .into_iter()
        .map(|m| MarkOut { response_id: m.response_id, examiner: m.email, level: m.mark.level, mark: m.mark.mark, state: m.mark.state })
        .collect();
    Ok(Json(out))
}

/// The meeting's statistics (the shape is fixed by the dashboard issue);
/// `null` where a figure cannot be computed, figures rounded to 3 places.
#[derive(Serialize, ToSchema)]
pub struct Stats {
    /// Per response.
    responses: Vec<ResponseFigures>,
    /// Per examiner.
    examiners: Vec<ExaminerFigures>,
    /// Per question.
    questions: Vec<QuestionFigures>,
}

/// One response's figures.
#[derive(Serialize, ToSchema)]
struct ResponseFigures {
    /// Response id.
    response_id: ResponseId,
    /// Candidate number.
    candidate: String,
    /// Question number.
    question: String,
    /// Submitted marks.
    n: usize,
    /// Mean mark.
    mean: Option<f64>,
    /// Median mark.
    median: Option<f64>,
    /// Standard deviation of the marks.
    sd: Option<f64>,
    /// Lowest mark.
    min: Option<i32>,
    /// Highest mark.
    max: Option<i32>,
    /// How many marks gave each level.
    level_counts: Vec<LevelCount>,
    /// The definitive mark.
    definitive: Option<i32>,
    /// The definitive level.
    definitive_level: Option<i32>,
    /// Marks outside tolerance of the definitive mark.
    outside_tolerance: Option<usize>,
    /// Place in the order to discuss (1 first).
    discussion_rank: usize,
    /// Why it is there.
    discussion_reason: String,
}

/// A level and how many marks gave it.
#[derive(Serialize, ToSchema)]
struct LevelCount {
    /// The level.
    level: i32,
    /// How many marks.
    count: usize,
}

/// One examiner's figures.
#[derive(Serialize, ToSchema)]
struct ExaminerFigures {
    /// Email.
    email: String,
    /// Name.
    name: String,
    /// Marks compared with a definitive mark.
    n: usize,
    /// Submitted marks.
    submitted: usize,
    /// Drafts.
    drafts: usize,
    /// Mean of mark − definitive.
    mean_deviation: Option<f64>,
    /// Mean of |mark − definitive|.
    mean_abs_deviation: Option<f64>,
    /// Standard deviation of mark − definitive.
    sd_deviation: Option<f64>,
    /// Share of marks within tolerance.
    within_tolerance_rate: Option<f64>,
    /// Share of marks at the definitive level.
    level_agreement_rate: Option<f64>,
    /// `severe`, `lenient`, `erratic`, ...
    flags: Vec<String>,
    /// Why each flag was raised.
    flag_reasons: Vec<String>,
    /// Agreement with the definitive marks per question number.
    kappa: BTreeMap<String, Kappa>,
}

/// Quadratic-weighted kappa on one question.
#[derive(Serialize, ToSchema)]
struct Kappa {
    /// The kappa.
    quadratic_weighted_kappa: Option<f64>,
    /// Responses it is computed over.
    n: usize,
}

/// One question's figures.
#[derive(Serialize, ToSchema)]
struct QuestionFigures {
    /// Question number.
    number: String,
    /// Tolerance in marks.
    tolerance: i32,
    /// Krippendorff's alpha (interval).
    krippendorff_alpha_interval: Option<f64>,
    /// ICC(A,1).
    icc_a1: Option<f64>,
    /// Responses with marks.
    n_responses: usize,
    /// Submitted marks.
    n_marks: usize,
    /// The tolerance the panel's marks suggest.
    suggested_tolerance: Option<i32>,
    /// Share of marks within each tolerance.
    pass_rates: Vec<PassRate>,
}

/// The share of marks within a tolerance.
#[derive(Serialize, ToSchema)]
struct PassRate {
    /// Tolerance in marks.
    tolerance: i32,
    /// Share within it.
    share: Option<f64>,
}

/// The statistics: the shape is fixed by the dashboard issue.
pub async fn stats(state: &AppState, access: &Access) -> Result<Stats, AppError> {
    let figures = figures(state, access).await?;
    let (data, stats) = &*figures;
    let responses = data
        .responses
        .iter()
        .zip(&stats.responses)
        .map(|(r, s)| ResponseFigures {
            response_id: r.id,
            candidate: r.candidate.clone(),
            question: data.questions[r.question].number.clone(),
            n: s.summary.n,
            mean: round3(s.summary.mean),
            median: round3(s.summary.median),
            sd: round3(s.summary.sd),
            min: s.summary.min,
            max: s.summary.max,
            level_counts: s.summary.level_counts.iter().map(|&(level, count)| LevelCount { level, count }).collect(),
            definitive: s.definitive.map(|d| d.mark),
            definitive_level: s.definitive.and_then(|d| d.level),
            outside_tolerance: s.summary.outside_tolerance,
            discussion_rank: s.rank,
            discussion_reason: s.reason.clone(),
        })
        .collect();
    let examiners = data
        .examiners
        .iter()
        .zip(&stats.examiners)
        .map(|(e, s)| ExaminerFigures {
            email: e.email.clone(),
            name: e.name.clone(),
            n: s.stats.n,
            submitted: s.submitted,
            drafts: s.drafts,
            mean_deviation: round3(s.stats.mean_deviation),
            mean_abs_deviation: round3(s.stats.mean_abs_deviation),
            sd_deviation: round3(s.stats.sd_deviation),
            within_tolerance_rate: round3(s.stats.within_tolerance_rate),
            level_agreement_rate: round3(s.stats.level_agreement_rate),
            flags: s.stats.flags.iter().map(|f| f.label().to_owned()).collect(),
            flag_reasons: s.flag_reasons.clone(),
            kappa: data
                .questions
                .iter()
                .zip(&s.kappa)
                .map(|(q, &(k, n))| (q.number.clone(), Kappa { quadratic_weighted_kappa: round3(k), n }))
                .collect(),
        })
        .collect();
    let questions = data
        .questions
        .iter()
        .zip(&stats.questions)
        .map(|(q, s)| QuestionFigures {
            number: q.number.clone(),
            tolerance: q.tolerance,
            krippendorff_alpha_interval: round3(s.alpha),
            icc_a1: round3(s.icc),
            n_responses: s.n_responses,
            n_marks: s.n_marks,
            suggested_tolerance: s.suggested,
            pass_rates: s.pass_rates.iter().map(|&(tolerance, r)| PassRate { tolerance, share: round3(Some(r)) }).collect(),
        })
        .collect();
    Ok(Stats { responses, examiners, questions })
}

/// Per response, per examiner and per question figures.
#[utoipa::path(
    get,
    path = "/meetings/{id}/stats",
    tag = "dashboard",
    params(MeetingPath),
    responses((status = 200, description = "The statistics", body = Stats), BadRequest, Unauthorized, Forbidden, NotFound, Unavailable),
)]
async fn get_stats(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Overseer>) -> Result<impl IntoResponse, AppError> {
    Ok(Json(stats(&state, &access).await?))
}

/// Who is listening, as the live stream's filter needs it: role and, for a team leader, their team.
async fn viewer_of(state: &AppState, access: &Access) -> Result<live::Viewer, AppError> {
    let team = if access.role == Role::TeamLeader {
        sqlx::query_scalar!(
            "SELECT user_id FROM meeting_participants WHERE meeting_id = $1 AND team_leader_id = $2",
            access.meeting.id,
            access.user.id,
        )
        .fetch_all(&state.db)
        .await?
    } else {
        Vec::new()
    };
    Ok(live::Viewer { user_id: access.user.id, meeting_id: access.meeting.id, role: access.role, team })
}

/// `GET .../events`: Server-Sent Events for this viewer (API and pages alike).
#[utoipa::path(
    get,
    path = "/meetings/{id}/events",
    tag = "dashboard",
    params(MeetingPath),
    responses(
        (status = 200, description = "Server-Sent Events (`mark`, `definitive`, `release`, `tolerance`, `qualification`, `referral`, \
                                      `amendment`): what changed and where, never a mark; each person hears only what they may see",
         content_type = "text/event-stream", body = String),
        BadRequest, Unauthorized, Forbidden, NotFound, Unavailable,
    ),
)]
pub async fn get_events(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Participant>,
    credential: Credential,
) -> Result<impl IntoResponse, AppError> {
    let viewer = viewer_of(&state, &access).await?;
    let (user_id, meeting_id, since) = (access.user_id(), access.meeting_id(), time::OffsetDateTime::now_utc());
    let hub = state.live.clone();
    let recheck = move || {
        let (state, credential) = (state.clone(), credential.clone());
        async move {
            match still_allowed(&state, &credential, user_id, meeting_id, since).await {
                Ok(Some(access)) => viewer_of(&state, &access).await.map_or(Recheck::Unknown, Recheck::Allowed),
                Ok(None) => Recheck::Refused,
                // The database is away for a moment: keep listening, check again next time.
                Err(_) => Recheck::Unknown,
            }
        }
    };
    Ok(live::stream(&hub, viewer, recheck))
}
