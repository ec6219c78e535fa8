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
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    api::get_events,
    compute::{MIN_KAPPA_N, MeetingStats},
    data::MeetingData,
    export, figures,
    svg::strip_plot,
};
use crate::{
    app::AppState,
    error::AppError,
    meetings::{
        Meeting, Role,
        access::{InMeeting, Overseer, Principal},
        store as meetings_store,
    },
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
        .route("/meetings/{id}/export/meeting.xlsx", get(export_workbook))
        .route("/meetings/{id}/tolerances/{number}/adopt", post(adopt_tolerance))
}

/// Examiners shown per page of the matrix.
pub const PAGE_SIZE: usize = 100;

/// What the dashboard shows: filters and sort order.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Filters {
    /// Only this question.
    #[serde(default)]
    pub question: Option<String>,
    /// Only this team leader's team.
    #[serde(default)]
    pub team: Option<String>,
    /// Only scripts with this purpose.
    #[serde(default)]
    pub purpose: Option<String>,
    /// `name` (default) or `deviation`.
    #[serde(default)]
    pub sort: Option<String>,
    /// Page of examiners, from 1.
    #[serde(default)]
    pub page: Option<usize>,
}

impl Filters {
    fn query(&self) -> String {
        let mut parts = Vec::new();
        for (k, v) in [("question", &self.question), ("team", &self.team), ("purpose", &self.purpose), ("sort", &self.sort)] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                parts.push(format!("{k}={}", crate::error::urlencode(v)));
            }
        }
        if let Some(p) = self.page.filter(|p| *p > 1) {
            parts.push(format!("page={p}"));
        }
        parts.join("&")
    }

    fn is(&self, field: &str, value: &str) -> bool {
        let current = match field {
            "question" => &self.question,
            "team" => &self.team,
            "purpose" => &self.purpose,
            _ => &self.sort,
        };
        current.as_deref() == Some(value)
    }
}

/// One cell of the matrix.
pub struct CellView {
    text: String,
    class: &'static str,
    title: String,
}

/// One row of the matrix: a response.
pub struct RowView {
    response_id: Uuid,
    candidate: String,
    question: String,
    definitive: String,
    n: usize,
    mean: String,
    sd: String,
    spread: String,
    outside: String,
    rank: usize,
    plot: String,
    cells: Vec<CellView>,
}

/// A column of the matrix: an examiner.
pub struct ColumnView {
    name: String,
    email: String,
    deviation: String,
    flagged: bool,
}

/// A line of "discuss next".
pub struct DiscussView {
    response_id: Uuid,
    label: String,
    reason: String,
}

/// A row of the examiners table.
pub struct ExaminerView {
    name: String,
    email: String,
    n: usize,
    drafts: usize,
    mean_deviation: String,
    mean_abs_deviation: String,
    within: String,
    level_agreement: String,
    kappa: Vec<String>,
    flags: Vec<(String, String)>,
}

/// A row of the questions table.
pub struct QuestionView {
    number: String,
    max_mark: i32,
    tolerance: i32,
    alpha: String,
    icc: String,
    n_responses: usize,
    n_marks: usize,
    suggested: Option<i32>,
    pass_rates: Vec<(i32, String)>,
}

/// Everything the dashboard's templates show.
pub struct DashboardView {
    meeting: Meeting,
    filters: Filters,
    query: String,
    is_pe: bool,
    columns: Vec<ColumnView>,
    rows: Vec<RowView>,
    discuss: Vec<DiscussView>,
    examiners: Vec<ExaminerView>,
    questions: Vec<QuestionView>,
    question_numbers: Vec<String>,
    teams: Vec<(Uuid, String)>,
    page: usize,
    pages: usize,
    total_examiners: usize,
    marks_in: usize,
}

fn f2(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.2}")).unwrap_or_else(|| "–".into())
}

fn signed(x: Option<f64>) -> String {
    x.map(|v| format!("{v:+.2}")).unwrap_or_else(|| "–".into())
}

fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:.0}%", v * 100.0)).unwrap_or_else(|| "–".into())
}

/// Builds the view from the figures; pure apart from its inputs.
pub fn build_view(meeting: Meeting, role: Role, filters: Filters, data: &MeetingData, stats: &MeetingStats) -> DashboardView {
    // Which examiners, in which order, on which page.
    let team: Option<Uuid> = filters.team.as_deref().and_then(|t| Uuid::parse_str(t).ok());
    let mut chosen: Vec<usize> = (0..data.examiners.len())
        .filter(|&e| team.is_none_or(|t| data.examiners[e].team_leader == Some(t) || data.examiners[e].id == t))
        .collect();
    if filters.sort.as_deref() == Some("deviation") {
        chosen.sort_by(|&a, &b| {
            let key = |e: usize| stats.examiners[e].stats.mean_deviation.map(f64::abs);
            key(b).partial_cmp(&key(a)).unwrap_or(std::cmp::Ordering::Equal)
        });
    }
    let total_examiners = chosen.len();
    let pages = total_examiners.div_ceil(PAGE_SIZE).max(1);
    let page = filters.page.unwrap_or(1).clamp(1, pages);
    let shown: Vec<usize> = chosen.into_iter().skip((page - 1) * PAGE_SIZE).take(PAGE_SIZE).collect();
    let mut column_of = vec![usize::MAX; data.examiners.len()];
    for (col, &e) in shown.iter().enumerate() {
        column_of[e] = col;
    }

    let keep = |i: usize| {
        let r = &data.responses[i];
        filters.question.as_deref().is_none_or(|q| q.is_empty() || data.questions[r.question].number == q)
            && filters.purpose.as_deref().is_none_or(|p| p.is_empty() || r.purpose == p)
    };
    let mut grid: Vec<Vec<Option<(i32, Option<i32>, bool)>>> = vec![Vec::new(); data.responses.len()];
    for (i, g) in grid.iter_mut().enumerate() {
        if keep(i) {
            *g = vec![None; shown.len()];
        }
    }
    for c in &data.cells {
        let col = column_of[c.examiner];
        if col != usize::MAX && keep(c.response) {
            grid[c.response][col] = Some((c.mark, c.level, c.submitted));
        }
    }
    let mut marks_in = 0;
    let rows = (0..data.responses.len())
        .filter(|&i| keep(i))
        .map(|i| {
            let r = &data.responses[i];
            let q = &data.questions[r.question];
            let s = &stats.responses[i];
            let def = data.definitive[i];
            let cells = grid[i]
                .iter()
                .map(|cell| match cell {
                    None => CellView { text: String::new(), class: "empty", title: "not marked".into() },
                    Some((mark, level, false)) => CellView {
                        text: "…".into(),
                        class: "draft",
                        title: format!("draft: {}{mark}", level.map(|l| format!("level {l}, ")).unwrap_or_default()),
                    },
                    Some((mark, level, true)) => {
                        marks_in += 1;
                        let text = match level {
                            Some(l) => format!("{mark}<small>L{l}</small>"),
                            None => mark.to_string(),
                        };
                        let (class, title) = match def {
                            None => ("nodef", "no definitive mark yet".to_owned()),
                            Some(d) if (mark - d.mark).abs() <= q.tolerance => ("within", format!("within tolerance ({:+})", mark - d.mark)),
                            Some(d) if *mark > d.mark => ("above", format!("above the definitive mark by {}", mark - d.mark)),
                            Some(d) => ("below", format!("below the definitive mark by {}", d.mark - mark)),
                        };
                        CellView { text, class, title }
                    }
                })
                .collect();
            let marks: Vec<i32> = data.cells.iter().filter(|c| c.response == i && c.submitted).map(|c| c.mark).collect();
            RowView {
                response_id: r.id,
                candidate: r.candidate.clone(),
                question: q.number.clone(),
                definitive: def.map(|d| format!("{}{}", d.mark, d.level.map(|l| format!(" (L{l})")).unwrap_or_default())).unwrap_or_else(|| "–".into()),
                n: s.summary.n,
                mean: f2(s.summary.mean),
                sd: f2(s.summary.sd),
                spread: match (s.summary.min, s.summary.max) {
                    (Some(a), Some(b)) => format!("{a}–{b}"),
                    _ => "–".into(),
                },
                outside: s.summary.outside_tolerance.map(|o| o.to_string()).unwrap_or_else(|| "–".into()),
                rank: s.rank,
                plot: strip_plot(&marks, q.max_mark, &q.levels, def.map(|d| d.mark), q.tolerance),
                cells,
            }
        })
        .collect();
    let columns = shown
        .iter()
        .map(|&e| ColumnView {
            name: data.examiners[e].name.clone(),
            email: data.examiners[e].email.clone(),
            deviation: signed(stats.examiners[e].stats.mean_deviation),
            flagged: !stats.examiners[e].stats.flags.is_empty(),
        })
        .collect();
    let discuss = stats
        .order
        .iter()
        .filter(|&&i| keep(i) && stats.responses[i].summary.n > 0)
        .take(10)
        .map(|&i| DiscussView {
            response_id: data.responses[i].id,
            label: format!("Candidate {}, question {}", data.responses[i].candidate, data.questions[data.responses[i].question].number),
            reason: stats.responses[i].reason.clone(),
        })
        .collect();
    let examiners = shown
        .iter()
        .map(|&e| {
            let s = &stats.examiners[e];
            ExaminerView {
                name: data.examiners[e].name.clone(),
                email: data.examiners[e].email.clone(),
                n: s.stats.n,
                drafts: s.drafts,
                mean_deviation: signed(s.stats.mean_deviation),
                mean_abs_deviation: f2(s.stats.mean_abs_deviation),
                within: pct(s.stats.within_tolerance_rate),
                level_agreement: pct(s.stats.level_agreement_rate),
                kappa: s
                    .kappa
                    .iter()
                    .map(|(k, n)| if *n < MIN_KAPPA_N { "n too small".into() } else { f2(*k) })
                    .collect(),
                flags: s.stats.flags.iter().zip(&s.flag_reasons).map(|(f, r)| (f.label().to_owned(), r.clone())).collect(),
            }
        })
        .collect();
    let questions = data
        .questions
        .iter()
        .zip(&stats.questions)
        .map(|(q, s)| QuestionView {
            number: q.number.clone(),
            max_mark: q.max_mark,
            tolerance: q.tolerance,
            alpha: f2(s.alpha),
            icc: f2(s.icc),
            n_responses: s.n_responses,
            n_marks: s.n_marks,
            suggested: s.suggested,
            pass_rates: s.pass_rates.iter().map(|(t, r)| (*t, pct(Some(*r)))).collect(),
        })
        .collect();
    let mut teams: Vec<(Uuid, String)> = data
        .examiners
        .iter()
        .filter(|e| data.examiners.iter().any(|m| m.team_leader == Some(e.id)))
        .map(|e| (e.id, e.name.clone()))
        .collect();
    teams.dedup();
    DashboardView {
        query: filters.query(),
        meeting,
        is_pe: role == Role::Pe,
        filters,
        columns,
        rows,
        discuss,
        examiners,
        questions,
        question_numbers: data.questions.iter().map(|q| q.number.clone()).collect(),
        teams,
        page,
        pages,
        total_examiners,
        marks_in,
    }
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
}

async fn view(state: &AppState, access: crate::meetings::access::Access, filters: Filters) -> Result<DashboardView, AppError> {
    let (data, stats) = figures(state, &access).await?;
    Ok(build_view(access.meeting, access.role, filters, &data, &stats))
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

async fn show_report(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Overseer>, ctx: PageCtx) -> Result<impl IntoResponse, AppError> {
    render(&ReportPage { ctx, v: view(&state, access, Filters::default()).await? })
}

fn download(body: Vec<u8>, content_type: &'static str, filename: &str) -> Result<Response, AppError> {
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
    let (data, _) = figures(&state, &access).await?;
    download(export::to_csv(&export::matrix_rows(&data))?, "text/csv; charset=utf-8", "marks.csv")
}

async fn export_examiners(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Overseer>) -> Result<Response, AppError> {
    let (data, stats) = figures(&state, &access).await?;
    download(export::to_csv(&export::examiner_rows(&data, &stats))?, "text/csv; charset=utf-8", "examiners.csv")
}

async fn export_workbook(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Overseer>) -> Result<Response, AppError> {
    let (data, stats) = figures(&state, &access).await?;
    let bytes = export::to_xlsx(&data, &stats)?;
    download(bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "meeting.xlsx")
}

/// Adopts the tolerance the panel's own marks suggest for a question (audited).
async fn adopt_tolerance(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Principal>,
    session: Session,
    Path((_, number)): Path<(Uuid, String)>,
) -> Result<Redirect, AppError> {
    let (data, stats) = figures(&state, &access).await?;
    let q = data.questions.iter().position(|q| q.number == number).ok_or_else(|| AppError::not_found(format!("Question {number}")))?;
    let suggested = stats.questions[q]
        .suggested
        .ok_or_else(|| AppError::invalid(format!("Question {number} has no submitted marks with a definitive mark yet, so there is nothing to suggest.")))?;
    let paper = crate::scripts::paper(&state.db, access.meeting.paper_id).await?;
    let (question_id, _) = paper.question(&number).ok_or_else(|| AppError::not_found(format!("Question {number}")))?;
    let mut tx = state.db.begin().await?;
    meetings_store::set_tolerance(&mut tx, access.meeting.id, question_id, suggested, access.user.id).await?;
    tx.commit().await?;
    flash(&session, format!("Question {number}: tolerance set to ±{suggested}, as the panel's marks suggest.")).await?;
    Ok(Redirect::to(&format!("/meetings/{}/dashboard#questions", access.meeting.id)))
}
