//! Administrators' pages for papers: list, import with preview, edit, view.

use askama::Template;
use axum::{
    Form, Router,
    extract::{DefaultBodyLimit, Multipart, Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use tower_sessions::Session;

use super::{
    PaperId, check,
    form::{PaperForm, QuestionField, read_fields, to_scheme, unchecked_flags},
    import::read_upload,
    store::{self, PaperSummary, StoredPaper},
};
use crate::{
    auth::extract::Admin,
    error::AppError,
    markdown,
    markscheme::{LineSpan, Problem, QuestionKind},
    scripts::store as scripts_store,
    state::AppState,
    web::{PageCtx, flash, render},
};

/// Routes under `/papers`.
pub fn routes() -> Router<AppState> {
    Router::new()
        // The paper form carries the whole source document back, so it may be
        // as large as an upload; the global upload limit still applies.
        .route("/papers", get(list_papers).post(create_paper).layer(DefaultBodyLimit::disable()))
        // Uploads are bounded by the global upload limit instead of the form limit.
        .route("/papers/import", get(show_import).post(import_document).layer(DefaultBodyLimit::disable()))
        .route("/papers/{id}", get(show_paper).post(update_paper).layer(DefaultBodyLimit::disable()))
        .route("/papers/{id}/edit", get(edit_paper))
}

#[derive(Template)]
#[template(path = "papers/list.html")]
struct PaperListPage {
    ctx: PageCtx,
    papers: Vec<PaperSummary>,
}

async fn list_papers(State(state): State<AppState>, Admin(_): Admin, ctx: PageCtx) -> Result<impl IntoResponse, AppError> {
    let papers = store::list(&state.db).await?;
    render(&PaperListPage { ctx, papers })
}

#[derive(Template)]
#[template(path = "papers/import.html")]
struct ImportPage {
    ctx: PageCtx,
    board: String,
    text: String,
    error: Option<String>,
}

async fn show_import(Admin(_): Admin, ctx: PageCtx) -> Result<impl IntoResponse, AppError> {
    render(&ImportPage { ctx, board: String::new(), text: String::new(), error: None })
}

/// A source line in the preview; `problem` marks lines the parser could not read.
struct SourceLine {
    n: usize,
    text: String,
    problem: bool,
}

/// A question block of the form with the source lines it came from beside it.
struct Block {
    q: QuestionField,
    excerpt: Vec<SourceLine>,
}

#[derive(Template)]
#[template(path = "papers/form.html")]
struct PaperFormPage {
    ctx: PageCtx,
    heading: String,
    action: String,
    form: PaperForm,
    blocks: Vec<Block>,
    cover: Vec<SourceLine>,
    problems: Vec<Problem>,
    errors: Vec<String>,
    source: String,
    full_source: Vec<SourceLine>,
}

fn source_lines(source: &str, problems: &[Problem], span: Option<LineSpan>) -> Vec<SourceLine> {
    source
        .lines()
        .enumerate()
        .map(|(i, text)| (i + 1, text))
        .filter(|(n, _)| span.is_none_or(|s| *n >= s.start && *n <= s.end))
        .map(|(n, text)| SourceLine { n, text: text.to_owned(), problem: problems.iter().any(|p| p.line == n) })
        .collect()
}

fn form_page(
    ctx: PageCtx,
    heading: String,
    action: String,
    form: PaperForm,
    source: String,
    problems: Vec<Problem>,
    errors: Vec<String>,
) -> PaperFormPage {
    let first_question = form.questions.iter().filter_map(|q| q.source).map(|s| s.start).min();
    let cover = match first_question {
        Some(start) if start > 1 => source_lines(&source, &problems, Some(LineSpan { start: 1, end: start - 1 })),
        _ => Vec::new(),
    };
    let mut blocks: Vec<Block> = form
        .questions
        .iter()
        .map(|q| Block { excerpt: q.source.map(|s| source_lines(&source, &problems, Some(s))).unwrap_or_default(), q: q.clone() })
        .collect();
    // Flagged questions first: they are what needs a person's attention.
    blocks.sort_by_key(|b| b.q.flags.is_empty());
    let full_source = source_lines(&source, &problems, None);
    PaperFormPage { ctx, heading, action, form, blocks, cover, problems, errors, source, full_source }
}

async fn import_document(Admin(_): Admin, ctx: PageCtx, mut multipart: Multipart) -> Result<Response, AppError> {
    let mut board = String::new();
    let mut pasted = String::new();
    let mut file: Option<Vec<u8>> = None;
    while let Some(field) = multipart.next_field().await.map_err(|e| AppError::BadRequest(format!("The upload was cut short: {e}")))? {
        match field.name().unwrap_or("") {
            "board" => board = field.text().await.unwrap_or_default(),
            "text" => pasted = field.text().await.unwrap_or_default(),
            "file" => {
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|_| AppError::PayloadTooLarge("The file is larger than standardise accepts (20 MB).".into()))?;
                if !bytes.is_empty() {
                    file = Some(bytes.to_vec());
                }
            }
            _ => {}
        }
    }
    let bytes = file.unwrap_or_else(|| pasted.clone().into_bytes());
    let imported = match read_upload(bytes).await {
        Ok(imported) => imported,
        Err(message) => {
            let page = ImportPage { ctx, board, text: pasted, error: Some(message) };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
        }
    };
    let mut scheme = imported.scheme;
    if !board.trim().is_empty() {
        scheme.paper.board = board.trim().to_owned();
    }
    let mut form = PaperForm::from_scheme(&scheme);
    form.flag(&imported.problems);
    let heading = "Check the imported mark scheme".to_owned();
    let page = form_page(ctx, heading, "/papers".into(), form, imported.text, imported.problems, Vec::new());
    Ok(render(&page)?.into_response())
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
}

/// Reads the posted form into a checked scheme, or the page to show again.
fn read_form(fields: &[(String, String)]) -> Result<crate::markscheme::Scheme, Vec<String>> {
    let scheme = to_scheme(fields)?;
    let problems = check(&scheme);
    if problems.is_empty() { Ok(scheme) } else { Err(problems) }
}

async fn create_paper(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ctx: PageCtx,
    session: Session,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let source = field(&fields, "source").to_owned();
    let unchecked = unchecked_flags(&fields);
    if !unchecked.is_empty() {
        return show_again(ctx, "Check the imported mark scheme", "/papers", &fields, source, unchecked);
    }
    let scheme = match read_form(&fields) {
        Ok(scheme) => scheme,
        Err(errors) => return show_again(ctx, "Check the imported mark scheme", "/papers", &fields, source, errors),
    };
    let document = Some(&source).filter(|s| !s.is_empty()).map(String::as_str);
    let saved = async { crate::transact!(&state, |tx| { store::insert(tx, &scheme, document, admin.actor()).await }) }.await;
    let id = match saved {
        Ok(id) => id,
        Err(AppError::Conflict(message)) => {
            return show_again(ctx, "Check the imported mark scheme", "/papers", &fields, source, vec![message]);
        }
        Err(e) => return Err(e),
    };
    tracing::info!(paper_id = %id, by = %admin.id, "paper saved");
    flash(&session, format!("{} {} saved with {} questions.", scheme.paper.code, scheme.paper.series, scheme.questions.len())).await?;
    Ok(Redirect::to(&format!("/papers/{id}")).into_response())
}

/// The form again, as posted, with what is wrong; nothing was saved.
fn show_again(
    ctx: PageCtx,
    heading: &str,
    action: &str,
    fields: &[(String, String)],
    source: String,
    errors: Vec<String>,
) -> Result<Response, AppError> {
    // Rebuild from what was posted, keeping the person's edits where they parse.
    let mut form = PaperForm::from_scheme(&read_fields(fields).0);
    form.carry_flags(fields);
    let page = form_page(ctx, heading.to_owned(), action.to_owned(), form, source, Vec::new(), errors);
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

/// A question as the paper page shows it.
struct QuestionView {
    number: String,
    prompt: String,
    max_mark: i32,
    targets: String,
    kind: QuestionKind,
    grids: Vec<(String, Vec<crate::markscheme::Level>)>,
    indicative_html: String,
}

#[derive(Template)]
#[template(path = "papers/show.html")]
struct PaperPage {
    ctx: PageCtx,
    id: PaperId,
    board: String,
    code: String,
    title: String,
    series: String,
    guidance_html: String,
    questions: Vec<QuestionView>,
    scripts: Vec<scripts_store::ScriptSummary>,
    /// Why the scheme cannot be edited, when it cannot.
    locked: Option<&'static str>,
}

async fn load_paper(state: &AppState, id: PaperId) -> Result<StoredPaper, AppError> {
    let mut conn = state.db.acquire().await?;
    store::load(&mut conn, id).await?.ok_or_else(|| AppError::not_found("That paper"))
}

async fn show_paper(
    State(state): State<AppState>,
    Admin(_): Admin,
    ctx: PageCtx,
    Path(id): Path<PaperId>,
) -> Result<impl IntoResponse, AppError> {
    let paper = load_paper(&state, id).await?;
    let scripts = scripts_store::list(&state.db, id).await?;
    let info = &paper.scheme.paper;
    let questions = paper
        .scheme
        .questions
        .iter()
        .map(|q| QuestionView {
            number: q.number.clone(),
            prompt: q.prompt.clone(),
            max_mark: q.max_mark,
            targets: q.targets.join(", "),
            kind: q.kind,
            grids: if q.kind == QuestionKind::AoBands {
                q.ao_bands.iter().map(|g| (g.targets.join(", "), g.levels.clone())).collect()
            } else if q.levels.is_empty() {
                Vec::new()
            } else {
                vec![(String::new(), q.levels.clone())]
            },
            indicative_html: markdown::to_html(&q.indicative_content),
        })
        .collect();
    render(&PaperPage {
        ctx,
        id,
        board: info.board.clone(),
        code: info.code.clone(),
        title: info.title.clone(),
        series: info.series.clone(),
        guidance_html: markdown::to_html(&paper.scheme.guidance),
        questions,
        scripts,
        locked: store::is_locked(&state.db, id).await?.then_some(store::LOCKED_MESSAGE),
    })
}

async fn edit_paper(
    State(state): State<AppState>,
    Admin(_): Admin,
    ctx: PageCtx,
    Path(id): Path<PaperId>,
) -> Result<impl IntoResponse, AppError> {
    store::refuse_if_locked(&state.db, id).await?;
    let paper = load_paper(&state, id).await?;
    let heading = format!("Edit {} {}", paper.scheme.paper.code, paper.scheme.paper.series);
    let form = PaperForm::from_scheme(&paper.scheme);
    let page = form_page(ctx, heading, format!("/papers/{id}"), form, paper.source_document.unwrap_or_default(), Vec::new(), Vec::new());
    render(&page)
}

async fn update_paper(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ctx: PageCtx,
    session: Session,
    Path(id): Path<PaperId>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    store::refuse_if_locked(&state.db, id).await?;
    let source = field(&fields, "source").to_owned();
    let action = format!("/papers/{id}");
    let scheme = match read_form(&fields) {
        Ok(scheme) => scheme,
        Err(errors) => return show_again(ctx, "Edit the paper", &action, &fields, source, errors),
    };
    match async { crate::transact!(&state, |tx| { store::update(tx, id, &scheme, admin.actor()).await }) }.await {
        Ok(()) => {}
        Err(AppError::Conflict(message)) => return show_again(ctx, "Edit the paper", &action, &fields, source, vec![message]),
        Err(e) => return Err(e),
    }
    tracing::info!(paper_id = %id, by = %admin.id, "paper updated");
    flash(&session, "The paper has been saved.").await?;
    Ok(Redirect::to(&action).into_response())
}
