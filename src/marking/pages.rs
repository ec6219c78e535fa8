//! The marking page: an examiner marks a response level first, then mark,
//! with drafts saved as they work; the principal examiner records the
//! definitive mark on the same page and sees every examiner's mark.

use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    MarkState,
    adjudication::{self, Definitive, DefinitiveInput},
    annotations::{Annotation, AnnotationKind},
    rules::{Part, grid_label, middle_mark, parts_text},
    store::{self, MarkInput, NamedMark, ResponseCtx, StoredMark},
    view::ResponseView,
};
use crate::papers::versions::Point;
use crate::{
    dashboard::svg::strip_plot,
    error::AppError,
    markdown,
    markscheme::{Level, QuestionKind},
    meetings::{
        Meeting, MeetingId, MeetingState, Purpose, Role,
        access::{Access, InMeeting, Marker, Participant, Principal},
        policy::Others,
        store::{self as meetings_store, Assignment, Progress},
    },
    scripts::ResponseId,
    state::AppState,
    stats::summarise_response,
    users::UserId,
    web::{PageCtx, flash, render},
};

/// Routes for marking pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/meetings/{id}/responses/{response_id}", get(show_response))
        .route("/meetings/{id}/responses/{response_id}/mark", post(save_mark))
        .route("/meetings/{id}/responses/{response_id}/definitive", post(save_definitive))
        .route("/meetings/{id}/responses/{response_id}/reopen", post(reopen_mark))
}

/// A level as the marking page offers it.
struct LevelChoice {
    level: Level,
    mid: i32,
}

/// One objective's grid of a question marked per objective, as the page offers it.
struct GridChoice {
    index: usize,
    label: String,
    levels: Vec<LevelChoice>,
}

/// Colours of annotation layers, told apart without relying on colour alone
/// (each layer is also named): the viewer's own, the definitive mark's, then
/// one per examiner.
const LAYER_COLOURS: usize = 8;

/// One person's annotations on the answer, as the page shows them.
struct Layer {
    /// "own", "definitive", or the examiner's id.
    key: String,
    /// Whose they are, in words.
    name: String,
    /// Index into the page's colours.
    colour: usize,
    /// The viewer edits this layer (their draft, or the PE's definitive mark).
    editable: bool,
    annotations: Vec<Annotation>,
}

/// One annotation as a line of the list beside the answer.
struct AnnotationLine {
    symbol: &'static str,
    what: String,
    quote: String,
}

impl Layer {
    fn lines(&self, text: &Option<String>) -> Vec<AnnotationLine> {
        self.annotations.iter().map(|a| describe(a, text.as_deref())).collect()
    }
}

/// Words for one annotation: its stamp, what it says and the passage (or place) it marks.
fn describe(a: &Annotation, text: Option<&str>) -> AnnotationLine {
    let (symbol, mut what) = match a.kind {
        AnnotationKind::Tick => ("✓", "Tick".to_owned()),
        AnnotationKind::Cross => ("✗", "Cross".to_owned()),
        AnnotationKind::Ao => ("AO", a.label.clone().unwrap_or_default()),
        AnnotationKind::Point => ("•", format!("Point: {}", a.label.as_deref().unwrap_or(""))),
        AnnotationKind::Comment => ("✎", "Comment".to_owned()),
    };
    if let Some(t) = &a.text {
        what = format!("{what}: {t}");
    }
    let quote = match (a.start, a.end, text, a.page) {
        (Some(s), Some(e), Some(text), _) => {
            let passage: String = text.chars().skip(s as usize).take((e - s) as usize).collect();
            let passage = passage.split_whitespace().collect::<Vec<_>>().join(" ");
            if passage.chars().count() > 90 {
                format!("“{}…”", passage.chars().take(88).collect::<String>())
            } else {
                format!("“{passage}”")
            }
        }
        (_, _, _, Some(page)) => format!("page {page}, {:.0}% across, {:.0}% down", a.x.unwrap_or(0.0) * 100.0, a.y.unwrap_or(0.0) * 100.0),
        _ => String::new(),
    };
    AnnotationLine { symbol, what, quote }
}

/// The response to go to after submitting: the next one in the marking order
/// still to mark (not started or a draft), going round to earlier ones.
fn next_to_mark(order: &[Assignment], current: ResponseId) -> Option<ResponseId> {
    let at = order.iter().position(|a| a.response_id == current).unwrap_or(0);
    order
        .iter()
        .cycle()
        .skip(at + 1)
        .take(order.len())
        .find(|a| a.response_id != current && matches!(a.state, Progress::NotStarted | Progress::Draft))
        .map(|a| a.response_id)
}

/// What the mark form shows (from the database, or as just posted).
#[derive(Default)]
struct MarkFields {
    level: Option<i32>,
    mark: String,
    /// Per objective, by grid: the level chosen and the mark as typed.
    parts: Vec<(Option<i32>, String)>,
    /// The stored parts as one line ("AO2 L2 4 · AO3 L1 2"), for showing a mark that cannot change.
    parts_text: String,
    /// Annotations on the answer, as saved or as just posted.
    annotations: Vec<Annotation>,
    comment: String,
    credited: Vec<Uuid>,
    version: i32,
    state: Option<MarkState>,
}

impl MarkFields {
    fn from_stored(m: &StoredMark) -> MarkFields {
        MarkFields {
            level: m.level,
            mark: m.mark.to_string(),
            parts: m.parts.iter().map(|p| (Some(p.level), p.mark.to_string())).collect(),
            parts_text: parts_text(&m.parts),
            annotations: m.annotations.0.clone(),
            comment: m.comment.clone(),
            credited: m.credited.clone(),
            version: m.version,
            state: Some(m.state),
        }
    }

    fn from_definitive(d: &Definitive) -> MarkFields {
        MarkFields {
            level: d.level,
            mark: d.mark.to_string(),
            parts: d.parts.iter().map(|p| (Some(p.level), p.mark.to_string())).collect(),
            parts_text: parts_text(&d.parts),
            annotations: d.annotations.0.clone(),
            comment: d.rationale.clone(),
            version: d.version,
            ..MarkFields::default()
        }
    }

    fn level_is(&self, level: impl std::borrow::Borrow<i32>) -> bool {
        self.level == Some(*level.borrow())
    }

    fn part_level_is(&self, grid: &usize, level: &i32) -> bool {
        self.parts.get(*grid).is_some_and(|(l, _)| *l == Some(*level))
    }

    fn part_mark(&self, grid: &usize) -> &str {
        self.parts.get(*grid).map(|(_, m)| m.as_str()).unwrap_or("")
    }

    /// The annotations as the form's hidden field carries them.
    fn annotations_json(&self) -> String {
        serde_json::to_string(&self.annotations).unwrap_or_else(|_| "[]".into())
    }

    /// "Level 3, 8 marks" (or "1 mark"; no level for questions without levels).
    fn mark_words(&self) -> String {
        let marks = if self.mark == "1" { "1 mark".to_owned() } else { format!("{} marks", self.mark) };
        match self.level {
            Some(l) => format!("Level {l}, {marks}"),
            None => marks,
        }
    }

    fn is_checked(&self, point: &Point) -> bool {
        self.credited.contains(&point.id)
    }
}

#[derive(Template)]
#[template(path = "marking/response.html")]
struct MarkingPage {
    ctx: PageCtx,
    meeting: Meeting,
    role: Role,
    ctx_r: ResponseCtx,
    levels: Vec<LevelChoice>,
    grids: Vec<GridChoice>,
    points: Vec<Point>,
    indicative_html: String,
    guidance_html: String,
    /// The objectives an annotation may name.
    objectives: Vec<String>,
    layers: Vec<Layer>,
    layers_json: String,
    fields: MarkFields,
    definitive: Option<Definitive>,
    definitive_fields: MarkFields,
    rationale_html: String,
    marks: Vec<NamedMark>,
    previous: Option<ResponseId>,
    next: Option<ResponseId>,
    position: String,
    error: Option<String>,
    difference: Option<i32>,
    plot: String,
    summary: Option<crate::stats::ResponseSummary>,
}

impl MarkingPage {
    fn fmt(&self, x: &Option<f64>) -> String {
        x.map(|v| format!("{v:.2}")).unwrap_or_else(|| "–".into())
    }

    fn can_mark(&self) -> bool {
        self.role.marks()
            && self.meeting.state == MeetingState::Marking
            && !self.ctx_r.released
            && self.fields.state != Some(MarkState::Submitted)
    }
    fn is_pe(&self) -> bool {
        self.role == Role::Pe
    }
    fn levelled(&self) -> bool {
        self.ctx_r.question.kind == QuestionKind::Levels && !self.levels.is_empty()
    }
    /// Marked with a level and mark on each objective's grid.
    fn per_ao(&self) -> bool {
        !self.grids.is_empty()
    }
    fn parts_of(&self, parts: &[Part]) -> String {
        parts_text(parts)
    }
    /// The start of a long text (which the page folds away), or None for a short one.
    fn preview(&self, text: &str) -> Option<String> {
        const SHORT: usize = 240;
        (text.chars().count() > SHORT).then(|| {
            let start: String = text.chars().take(160).collect();
            let at_word = start.rfind(char::is_whitespace).map_or(start.as_str(), |i| &start[..i]);
            format!("{at_word}… (show all {} characters)", text.chars().count())
        })
    }
    fn within_tolerance(&self) -> bool {
        self.difference.is_some_and(|d| super::rules::within_tolerance(d, self.ctx_r.tolerance))
    }
}

async fn marking_page(
    state: &AppState,
    access: Access,
    ctx: PageCtx,
    response_id: ResponseId,
    posted: Option<(MarkFields, String)>,
) -> Result<MarkingPage, AppError> {
    let mut conn = state.db.acquire().await?;
    let view = ResponseView::load(&mut conn, &access, response_id).await?;
    let difference = view.difference();
    let submitted = view.submitted_marks();
    let ResponseView { ctx: mut r, released, sight, own, definitive, marks } = view;
    // The page speaks of "released" as this viewer sees it (a qualification set is released to its marker alone).
    r.released = released;
    // Navigation follows the marking order of the meeting's responses.
    let order: Vec<Assignment> = meetings_store::assignments(&mut *conn, access.meeting_id(), access.user_id()).await?;
    let pos = order.iter().position(|a| a.response_id == response_id);
    let previous = pos.and_then(|p| p.checked_sub(1)).and_then(|p| order.get(p)).map(|a| a.response_id);
    let next = pos.and_then(|p| order.get(p + 1)).map(|a| a.response_id);
    let position = pos.map(|p| format!("{} of {}", p + 1, order.len())).unwrap_or_default();
    let (fields, error) = match posted {
        Some((fields, error)) => (fields, Some(error)),
        None => (own.as_ref().map(MarkFields::from_stored).unwrap_or_default(), None),
    };
    // The panel's spread, to those who may see the marks it is made of.
    let (plot, summary) = if sight.others != Others::None {
        let shown_definitive = definitive.as_ref().map(|d| d.mark);
        let values: Vec<i32> = submitted.iter().map(|(m, _)| *m).collect();
        (
            strip_plot(&values, r.question.max_mark, &r.question.levels, shown_definitive, r.tolerance),
            Some(summarise_response(&submitted, shown_definitive, r.tolerance)),
        )
    } else {
        (String::new(), None)
    };
    let definitive_fields = definitive.as_ref().map(MarkFields::from_definitive).unwrap_or_default();
    let may_mark =
        access.role.marks() && access.meeting.state == MeetingState::Marking && !released && fields.state != Some(MarkState::Submitted);
    let mut layers = Vec::new();
    if access.role.marks() && (may_mark || !fields.annotations.is_empty()) {
        layers.push(Layer {
            key: "own".into(),
            name: "Your annotations".into(),
            colour: 0,
            editable: may_mark,
            annotations: fields.annotations.clone(),
        });
    }
    if definitive.is_some() {
        let editable = access.role == Role::Pe && access.meeting.state != MeetingState::Closed;
        let name = if editable { "Your annotations (definitive mark)" } else { "The principal examiner's annotations" };
        layers.push(Layer {
            key: "definitive".into(),
            name: name.into(),
            colour: 1,
            editable,
            annotations: definitive_fields.annotations.clone(),
        });
    } else if access.role == Role::Pe && access.meeting.state != MeetingState::Closed {
        layers.push(Layer {
            key: "definitive".into(),
            name: "Your annotations (definitive mark)".into(),
            colour: 1,
            editable: true,
            annotations: Vec::new(),
        });
    }
    for (i, m) in marks.iter().enumerate().filter(|(_, m)| m.mark.examiner_id != access.user_id()) {
        layers.push(Layer {
            key: m.mark.examiner_id.to_string(),
            name: m.name.clone(),
            colour: 2 + i % (LAYER_COLOURS - 2),
            editable: false,
            annotations: m.mark.annotations.0.clone(),
        });
    }
    let layers_json = serde_json::to_string(
        &layers
            .iter()
            .map(|l| serde_json::json!({"key": l.key, "name": l.name, "colour": l.colour, "editable": l.editable, "annotations": l.annotations}))
            .collect::<Vec<_>>(),
    )
    .map_err(|e| AppError::Internal(e.into()))?;
    let choices = |levels: &[Level]| levels.iter().map(|l| LevelChoice { mid: middle_mark(l.min, l.max), level: l.clone() }).collect();
    let grids = if r.question.kind == QuestionKind::AoBands {
        r.question
            .ao_bands
            .iter()
            .enumerate()
            .map(|(index, g)| GridChoice { index, label: grid_label(g, index), levels: choices(&g.levels) })
            .collect()
    } else {
        Vec::new()
    };
    Ok(MarkingPage {
        levels: choices(&r.question.levels),
        grids,
        points: r.points.clone(),
        indicative_html: markdown::to_html(&r.question.indicative_content),
        guidance_html: markdown::to_html(&r.guidance),
        objectives: r.annotation_target().objectives(),
        layers,
        layers_json,
        rationale_html: definitive.as_ref().map(|d| markdown::to_html(&d.rationale)).unwrap_or_default(),
        ctx,
        meeting: access.meeting,
        role: access.role,
        ctx_r: r,
        fields,
        definitive,
        definitive_fields,
        marks,
        previous,
        next,
        position,
        error,
        difference,
        plot,
        summary,
    })
}

async fn show_response(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Participant>,
    ctx: PageCtx,
    Path((_, response_id)): Path<(MeetingId, ResponseId)>,
) -> Result<impl IntoResponse, AppError> {
    render(&marking_page(&state, access, ctx, response_id, None).await?)
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).unwrap_or("")
}

/// A posted level, mark, parts and version.
struct PostedMark {
    level: Option<i32>,
    mark: Option<i32>,
    parts: Vec<Part>,
    annotations: Vec<Annotation>,
    version: Option<i32>,
}

/// A posted mark, or what is wrong with it (for the person).
type ParsedMark = Result<PostedMark, String>;

/// Reads the posted mark form: what to show again, and what was meant.
fn read_fields(fields: &[(String, String)]) -> (MarkFields, ParsedMark) {
    let level_text = field(fields, "level");
    let mark_text = field(fields, "mark");
    let version_text = field(fields, "version");
    // A question marked per objective posts part-ao-N, part-level-N and part-mark-N for each grid N.
    let grids: Vec<(&str, &str, &str)> = (0..)
        .map_while(|i| {
            let ao = fields.iter().find(|(k, _)| *k == format!("part-ao-{i}"))?.1.trim();
            Some((ao, field(fields, &format!("part-level-{i}")), field(fields, &format!("part-mark-{i}"))))
        })
        .take(super::rules::MAX_PARTS)
        .collect();
    let shown = MarkFields {
        level: level_text.parse().ok(),
        mark: mark_text.to_owned(),
        parts: grids.iter().map(|(_, l, m)| (l.parse().ok(), (*m).to_owned())).collect(),
        parts_text: String::new(),
        annotations: serde_json::from_str(field(fields, "annotations")).unwrap_or_default(),
        comment: fields.iter().find(|(k, _)| k == "comment").map(|(_, v)| v.clone()).unwrap_or_default(),
        // A tick box the page did not offer is ignored rather than refused: the page is the only sender.
        credited: fields.iter().filter(|(k, _)| k == "credited").filter_map(|(_, v)| Uuid::parse_str(v).ok()).collect(),
        version: version_text.parse().unwrap_or(0),
        state: None,
    };
    let whole = |text: &str, what: &str| -> Result<i32, String> {
        text.parse::<i32>()
            .map_err(|_| if text.is_empty() { format!("Give a mark{what}.") } else { format!("\"{text}\" is not a whole mark{what}.") })
    };
    let parsed = (|| {
        let level = if level_text.is_empty() { None } else { Some(level_text.parse::<i32>().map_err(|_| "Choose a level.".to_owned())?) };
        let mut parts = Vec::with_capacity(grids.len());
        for (ao, l, m) in &grids {
            let level = l.parse::<i32>().map_err(|_| format!("Choose a level for {ao}."))?;
            parts.push(Part { ao: (*ao).to_owned(), level, mark: whole(m, &format!(" for {ao}"))? });
        }
        // Marked per objective, the total is the parts' sum and need not be posted.
        let mark = if grids.is_empty() || !mark_text.is_empty() { Some(whole(mark_text, "")?) } else { None };
        let annotations_text = field(fields, "annotations");
        let annotations = if annotations_text.is_empty() {
            Vec::new()
        } else {
            serde_json::from_str(annotations_text).map_err(|e| format!("The annotations could not be read ({e}): reload the page."))?
        };
        // Pages always send the version, so a stale second tab is caught.
        let version = Some(version_text.parse::<i32>().map_err(|_| "The page is out of date: reload it.".to_owned())?);
        Ok(PostedMark { level, mark, parts, annotations, version })
    })();
    (shown, parsed)
}

/// A small HTML fragment for htmx: the save status, and the new version swapped in out of band.
fn draft_status(status: StatusCode, message: &str, version: Option<i32>, error: bool) -> Response {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let class = if error { "save-error" } else { "saved" };
    let mut html = format!("<span class=\"{class}\" role=\"{}\">{}</span>", if error { "alert" } else { "status" }, esc(message));
    if let Some(v) = version {
        html.push_str(&format!("<input type=\"hidden\" name=\"version\" id=\"mark-version\" value=\"{v}\" hx-swap-oob=\"true\">"));
    }
    (status, Html(html)).into_response()
}

async fn save_mark(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Marker>,
    ctx: PageCtx,
    session: Session,
    headers: HeaderMap,
    Path((_, response_id)): Path<(MeetingId, ResponseId)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let is_htmx = headers.contains_key("hx-request");
    let submit = field(&fields, "action") == "submit";
    let (shown, parsed) = read_fields(&fields);
    let result = match parsed {
        Err(message) => Err(AppError::invalid(message)),
        Ok(PostedMark { level, mark, parts, annotations, version }) => {
            let input = MarkInput {
                level,
                mark,
                parts,
                annotations,
                comment: shown.comment.clone(),
                credited: shown.credited.clone(),
                submit,
                version,
            };
            store::save(&state, &access.meeting, response_id, access.user_id(), input).await
        }
    };
    match result {
        Ok((_, stored)) if is_htmx && !submit => {
            let now = stored.updated_at.to_offset(time::UtcOffset::UTC);
            let message = format!("Draft saved at {:02}:{:02}:{:02} UTC", now.hour(), now.minute(), now.second());
            Ok(draft_status(StatusCode::OK, &message, Some(stored.version), false))
        }
        Ok((r, _)) => {
            let what = if submit { "submitted" } else { "saved as a draft" };
            // The submit that completes a qualification set shows its result at once.
            let set_done = submit
                && r.purpose == Purpose::Qualification
                && crate::qualification::store::released_to(&state.db, access.meeting_id(), r.script_id, access.user_id()).await?;
            let page = if set_done {
                flash(&session, "Your qualification set is submitted: here is your result.").await?;
                format!("/meetings/{}/qualification/mine", access.meeting_id())
            } else if submit {
                // Submitted: on to the next response still to mark, and say so.
                let order = meetings_store::assignments(&state.db, access.meeting_id(), access.user_id()).await?;
                let done = format!("Your mark for candidate {}, question {} is submitted.", r.candidate, r.question.number);
                match next_to_mark(&order, response_id) {
                    Some(next) => {
                        flash(&session, format!("{done} Here is the next response to mark.")).await?;
                        format!("/meetings/{}/responses/{next}", access.meeting_id())
                    }
                    None => {
                        flash(&session, format!("{done} You have marked every response given to you.")).await?;
                        format!("/meetings/{}", access.meeting_id())
                    }
                }
            } else {
                flash(&session, format!("Your mark for candidate {}, question {} is {what}.", r.candidate, r.question.number)).await?;
                format!("/meetings/{}/responses/{response_id}", access.meeting_id())
            };
            if is_htmx {
                // Submitted through htmx (queued after any draft save, so its
                // version is current): have the browser load the locked page.
                let mut response = StatusCode::OK.into_response();
                let target = axum::http::HeaderValue::from_str(&page).map_err(|e| AppError::Internal(e.into()))?;
                response.headers_mut().insert("hx-redirect", target);
                return Ok(response);
            }
            Ok(Redirect::to(&page).into_response())
        }
        Err(AppError::Invalid { message, .. } | AppError::Conflict(message)) if is_htmx => {
            Ok(draft_status(StatusCode::UNPROCESSABLE_ENTITY, &format!("Not saved: {message}"), None, true))
        }
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict(_))) => {
            let status = if matches!(e, AppError::Conflict(_)) { StatusCode::CONFLICT } else { StatusCode::UNPROCESSABLE_ENTITY };
            let page = marking_page(&state, access, ctx, response_id, Some((shown, e.to_string()))).await?;
            Ok((status, render(&page)?).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn save_definitive(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Principal>,
    ctx: PageCtx,
    session: Session,
    Path((_, response_id)): Path<(MeetingId, ResponseId)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let (shown, parsed) = read_fields(&fields);
    let rationale = fields.iter().find(|(k, _)| k == "rationale").map(|(_, v)| v.clone()).unwrap_or_default();
    let reason = Some(field(&fields, "reason").to_owned()).filter(|r| !r.is_empty());
    let result = match parsed {
        Err(message) => Err(AppError::invalid(message)),
        Ok(PostedMark { level, mark, parts, annotations, version }) => {
            async {
                crate::transact!(&state, |tx| {
                    let r = store::response_in_meeting(tx, &access.meeting, response_id).await?;
                    let reevaluate = match field(&fields, "reevaluate") {
                        "yes" => Some(true),
                        "no" => Some(false),
                        _ => None,
                    };
                    let input = DefinitiveInput {
                        level,
                        mark,
                        parts: parts.clone(),
                        annotations: annotations.clone(),
                        rationale: rationale.clone(),
                        reason: reason.clone(),
                        version,
                        reevaluate,
                    };
                    adjudication::save_definitive(tx, &access.meeting, &r, access.user.actor(), input).await?;
                    Ok(r)
                })
            }
            .await
        }
    };
    match result {
        Ok(r) => {
            flash(&session, format!("Definitive mark for candidate {}, question {} recorded.", r.candidate, r.question.number)).await?;
            Ok(Redirect::to(&format!("/meetings/{}/responses/{response_id}", access.meeting_id())).into_response())
        }
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict(_))) => {
            let status = if matches!(e, AppError::Conflict(_)) { StatusCode::CONFLICT } else { StatusCode::UNPROCESSABLE_ENTITY };
            let mut page = marking_page(&state, access, ctx, response_id, None).await?;
            page.definitive_fields = MarkFields { comment: rationale, ..shown };
            page.error = Some(e.to_string());
            Ok((status, render(&page)?).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn reopen_mark(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Principal>,
    session: Session,
    Path((_, response_id)): Path<(MeetingId, ResponseId)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Redirect, AppError> {
    let examiner = field(&fields, "examiner").parse::<UserId>().map_err(|_| AppError::invalid("Choose whose mark to reopen."))?;
    crate::transact!(&state, |tx| {
        let r = store::response_in_meeting(tx, &access.meeting, response_id).await?;
        store::reopen(tx, &access.meeting, &r, examiner, access.user.actor(), field(&fields, "reason")).await
    })?;
    flash(&session, "The mark is reopened: the examiner can change it and submit again.").await?;
    Ok(Redirect::to(&format!("/meetings/{}/responses/{response_id}", access.meeting_id())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scripts::ScriptId;
    use uuid::Uuid;

    fn assignment(n: u128, state: Progress) -> Assignment {
        Assignment {
            response_id: ResponseId(Uuid::from_u128(n)),
            script_id: ScriptId(Uuid::from_u128(100 + n)),
            candidate: format!("{n:04}"),
            question: "01".into(),
            purpose: crate::meetings::Purpose::Practice,
            state,
        }
    }

    #[test]
    fn after_submitting_the_next_response_still_to_mark_comes_next() {
        use Progress::*;
        let order = [assignment(1, Submitted), assignment(2, Draft), assignment(3, Submitted), assignment(4, NotStarted)];
        let id = |n: u128| ResponseId(Uuid::from_u128(n));
        assert_eq!(next_to_mark(&order, id(1)), Some(id(2)));
        assert_eq!(next_to_mark(&order, id(2)), Some(id(4)), "skips what is submitted");
        assert_eq!(next_to_mark(&order, id(4)), Some(id(2)), "goes round to one left behind");
        let all_done = [assignment(1, Submitted), assignment(2, Released)];
        assert_eq!(next_to_mark(&all_done, id(1)), None);
        assert_eq!(next_to_mark(&[assignment(1, Draft)], id(1)), None, "not the one just submitted");
    }

    #[test]
    fn annotations_are_described_with_their_passage() {
        let text = "The strike failed because the TUC gave in.";
        let a = Annotation {
            kind: AnnotationKind::Ao,
            start: Some(4),
            end: Some(17),
            page: None,
            x: None,
            y: None,
            label: Some("AO1".into()),
            text: Some("knows why".into()),
        };
        let line = describe(&a, Some(text));
        assert_eq!((line.symbol, line.what.as_str(), line.quote.as_str()), ("AO", "AO1: knows why", "“strike failed”"));
        let on_scan = Annotation {
            kind: AnnotationKind::Tick,
            start: None,
            end: None,
            page: Some(2),
            x: Some(0.25),
            y: Some(0.5),
            label: None,
            text: None,
        };
        assert_eq!(describe(&on_scan, None).quote, "page 2, 25% across, 50% down");
    }
}
