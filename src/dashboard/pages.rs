//! The dashboard pages: the live dashboard, its refreshable part, the
//! printable report, exports, and adopting a suggested tolerance.

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use tower_sessions::Session;

use super::{
    api::get_events,
    export, figures,
    view::{DashboardView, Filters, build_view},
};
use crate::{
    error::AppError,
    meetings::{
        MeetingId, MeetingState,
        access::{InMeeting, Overseer, Principal},
        store as meetings_store,
    },
    state::AppState,
    web::{PageCtx, flash, render},
};

/// Routes for the dashboard.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/meetings/{id}/dashboard", get(show_dashboard))
        .route("/meetings/{id}/dashboard/live", get(show_live_part))
        .route("/meetings/{id}/report", get(show_report))
        .route("/meetings/{id}/events", get(get_events))
        .route("/meetings/{id}/export/marks.csv", get(export_marks))
        .route("/meetings/{id}/export/examiners.csv", get(export_examiners))
        .route("/meetings/{id}/export/questions.csv", get(export_questions))
        .route("/meetings/{id}/export/every-mark.csv", get(export_every_mark))
        .route("/meetings/{id}/export/meeting.xlsx", get(export_workbook))
        .route("/meetings/{id}/tolerances/{number}/adopt", post(adopt_tolerance))
}

#[derive(Template)]
#[template(path = "dashboard/show.html")]
struct DashboardPage {
    ctx: PageCtx,
    v: DashboardView,
}

#[derive(Template)]
#[template(path = "dashboard/live.html")]
struct LivePart {
    ctx: PageCtx,
    v: DashboardView,
}

#[derive(Template)]
#[template(path = "dashboard/report.html")]
struct ReportPage {
    ctx: PageCtx,
    v: DashboardView,
    /// The meeting's principal examiner, "Name (email)".
    pe: String,
    /// When the report was made, e.g. "2025-01-14 15:02 UTC".
    produced: String,
}

async fn view(state: &AppState, access: crate::meetings::access::Access, filters: Filters) -> Result<DashboardView, AppError> {
    // Tolerances are final once the meeting closes, and fixed once qualification
    // opens (examiners are judged against them): no adopt button can act then.
    let tolerances_can_change =
        access.meeting.state != MeetingState::Closed && !crate::qualification::store::is_open(&state.db, access.meeting_id()).await?;
    let figures = figures(state, &access).await?;
    let (data, stats) = &*figures;
    Ok(build_view(access.meeting, access.role, filters, tolerances_can_change, data, stats))
}

async fn show_dashboard(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Overseer>,
    ctx: PageCtx,
    Query(filters): Query<Filters>,
) -> Result<impl IntoResponse, AppError> {
    render(&DashboardPage { ctx, v: view(&state, access, filters).await? })
}

async fn show_live_part(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Overseer>,
    ctx: PageCtx,
    Query(filters): Query<Filters>,
) -> Result<impl IntoResponse, AppError> {
    render(&LivePart { ctx, v: view(&state, access, filters).await? })
}

async fn show_report(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Overseer>,
    ctx: PageCtx,
) -> Result<impl IntoResponse, AppError> {
    let people = meetings_store::participants(&state.db, access.meeting_id()).await?;
    let pe = people.iter().find(|p| p.role == "pe").map(|p| format!("{} ({})", p.name, p.email)).unwrap_or_else(|| "none".into());
    let produced = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC"))
        .map_err(|e| AppError::Internal(e.into()))?;
    render(&ReportPage { ctx, v: view(&state, access, Filters::default()).await?, pe, produced })
}

/// A file download with its type and name.
pub(crate) fn download(body: Vec<u8>, content_type: &'static str, filename: &str) -> Result<Response, AppError> {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")).map_err(|e| AppError::Internal(e.into()))?,
    );
    Ok(response)
}

async fn export_marks(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Overseer>) -> Result<Response, AppError> {
    let figures = figures(&state, &access).await?;
    let (data, _) = &*figures;
    download(export::to_csv(&export::matrix_rows(data))?, "text/csv; charset=utf-8", "marks.csv")
}

async fn export_examiners(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Overseer>) -> Result<Response, AppError> {
    let figures = figures(&state, &access).await?;
    let (data, stats) = &*figures;
    download(export::to_csv(&export::examiner_rows(data, stats))?, "text/csv; charset=utf-8", "examiners.csv")
}

async fn export_questions(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Overseer>) -> Result<Response, AppError> {
    let figures = figures(&state, &access).await?;
    let (data, stats) = &*figures;
    download(export::to_csv(&export::question_rows(data, stats))?, "text/csv; charset=utf-8", "questions.csv")
}

async fn export_every_mark(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Overseer>) -> Result<Response, AppError> {
    let marks = super::data::full_marks(&mut *state.db.acquire().await?, &access.meeting).await?;
    download(export::to_csv(&export::full_rows(&marks))?, "text/csv; charset=utf-8", "every-mark.csv")
}

async fn export_workbook(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Overseer>) -> Result<Response, AppError> {
    let figures = figures(&state, &access).await?;
    let (data, stats) = &*figures;
    let marks = super::data::full_marks(&mut *state.db.acquire().await?, &access.meeting).await?;
    let bytes = export::to_xlsx(data, stats, &marks)?;
    download(bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "meeting.xlsx")
}

/// Adopts the tolerance the panel's own marks suggest for a question (audited).
async fn adopt_tolerance(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Principal>,
    session: Session,
    Path((_, number)): Path<(MeetingId, String)>,
) -> Result<Redirect, AppError> {
    let figures = figures(&state, &access).await?;
    let (data, stats) = &*figures;
    let q = data.questions.iter().position(|q| q.number == number).ok_or_else(|| AppError::not_found(format!("Question {number}")))?;
    let suggested = stats.questions[q].suggested.ok_or_else(|| {
        AppError::invalid(format!("Question {number} has no submitted marks with a definitive mark yet, so there is nothing to suggest."))
    })?;
    let paper = crate::scripts::paper(&state.db, access.meeting.paper_id).await?;
    let (question_id, _) = paper.question(&number).ok_or_else(|| AppError::not_found(format!("Question {number}")))?;
    let back = Redirect::to(&format!("/meetings/{}/dashboard#questions", access.meeting_id()));
    match crate::transact!(&state, |tx| {
        meetings_store::set_tolerance(tx, access.meeting_id(), question_id, suggested, access.user.actor()).await
    }) {
        Ok(()) => flash(&session, format!("Question {number}: tolerance set to ±{suggested}, as the panel's marks suggest.")).await?,
        // A page opened before the meeting closed (or qualification opened) still
        // shows the button: say why nothing changed, on the dashboard, not a bare 409.
        Err(AppError::Conflict(why)) => flash(&session, format!("Question {number}: the tolerance was not changed. {why}")).await?,
        Err(e) => return Err(e),
    }
    Ok(back)
}
