//! The dashboard API: marks, statistics, and the event stream.

use axum::{Json, Router, extract::State, response::IntoResponse, routing::get};
use serde::Serialize;
use serde_json::{Value, json};

use super::{compute::round3, figures};
use crate::{
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
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/meetings/{id}/marks", get(get_marks))
        .route("/meetings/{id}/stats", get(get_stats))
        .route("/meetings/{id}/events", get(get_events))
}

#[derive(Serialize)]
struct MarkOut {
    response_id: ResponseId,
    examiner: String,
    level: Option<i32>,
    mark: i32,
    state: MarkState,
}

async fn get_marks(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Leader>) -> Result<impl IntoResponse, AppError> {
    let mut conn = state.db.acquire().await?;
    let marks = visible_marks(&mut conn, access.meeting_id(), None, access.user_id(), access.role).await?;
    let out: Vec<MarkOut> = marks
        .into_iter()
        .map(|m| MarkOut { response_id: m.response_id, examiner: m.email, level: m.mark.level, mark: m.mark.mark, state: m.mark.state })
        .collect();
    Ok(Json(out))
}

/// The statistics as JSON: the shape is fixed by the dashboard issue.
pub async fn stats_json(state: &AppState, access: &crate::meetings::access::Access) -> Result<Value, AppError> {
    let (data, stats) = figures(state, access).await?;
    let responses: Vec<Value> = data
        .responses
        .iter()
        .zip(&stats.responses)
        .map(|(r, s)| {
            json!({
                "response_id": r.id,
                "candidate": r.candidate,
                "question": data.questions[r.question].number,
                "n": s.summary.n,
                "mean": round3(s.summary.mean),
                "median": round3(s.summary.median),
                "sd": round3(s.summary.sd),
                "min": s.summary.min,
                "max": s.summary.max,
                "level_counts": s.summary.level_counts.iter().map(|(l, n)| json!({"level": l, "count": n})).collect::<Vec<_>>(),
                "definitive": s.definitive.map(|d| d.mark),
                "definitive_level": s.definitive.and_then(|d| d.level),
                "outside_tolerance": s.summary.outside_tolerance,
                "discussion_rank": s.rank,
                "discussion_reason": s.reason,
            })
        })
        .collect();
    let examiners: Vec<Value> = data
        .examiners
        .iter()
        .zip(&stats.examiners)
        .map(|(e, s)| {
            let kappa: serde_json::Map<String, Value> = data
                .questions
                .iter()
                .zip(&s.kappa)
                .map(|(q, (k, n))| (q.number.clone(), json!({"quadratic_weighted_kappa": round3(*k), "n": n})))
                .collect();
            json!({
                "email": e.email,
                "name": e.name,
                "n": s.stats.n,
                "submitted": s.submitted,
                "drafts": s.drafts,
                "mean_deviation": round3(s.stats.mean_deviation),
                "mean_abs_deviation": round3(s.stats.mean_abs_deviation),
                "sd_deviation": round3(s.stats.sd_deviation),
                "within_tolerance_rate": round3(s.stats.within_tolerance_rate),
                "level_agreement_rate": round3(s.stats.level_agreement_rate),
                "flags": s.stats.flags.iter().map(|f| f.label()).collect::<Vec<_>>(),
                "flag_reasons": s.flag_reasons,
                "kappa": kappa,
            })
        })
        .collect();
    let questions: Vec<Value> = data
        .questions
        .iter()
        .zip(&stats.questions)
        .map(|(q, s)| {
            json!({
                "number": q.number,
                "tolerance": q.tolerance,
                "krippendorff_alpha_interval": round3(s.alpha),
                "icc_a1": round3(s.icc),
                "n_responses": s.n_responses,
                "n_marks": s.n_marks,
                "suggested_tolerance": s.suggested,
                "pass_rates": s.pass_rates.iter().map(|(t, r)| json!({"tolerance": t, "share": round3(Some(*r))})).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(json!({"responses": responses, "examiners": examiners, "questions": questions}))
}

async fn get_stats(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Overseer>) -> Result<impl IntoResponse, AppError> {
    Ok(Json(stats_json(&state, &access).await?))
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
