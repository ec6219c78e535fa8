//! Administrators' pages for accounts: list, create, deactivate, reset.

use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;
use tower_sessions::Session;

use crate::{
    audit::{self, AdminLogged, Page},
    auth::{extract::Admin, password, throttle},
    error::AppError,
    state::AppState,
    users::{self, DisplayName, Email, NewUser, User, UserId},
    web::{PageCtx, flash, render},
};

/// Routes under `/admin/users`, and the log of account and paper changes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(list_users).post(create_user))
        .route("/admin/users/new", get(new_user))
        .route("/admin/users/{id}/deactivate", post(deactivate_user))
        .route("/admin/users/{id}/activate", post(activate_user))
        .route("/admin/users/{id}/reset-password", post(reset_password))
        .route("/admin/audit", get(show_audit))
}

#[derive(Template)]
#[template(path = "users/list.html")]
struct UserListPage {
    ctx: PageCtx,
    users: Vec<User>,
    me: uuid::Uuid,
}

async fn list_users(State(state): State<AppState>, Admin(me): Admin, ctx: PageCtx) -> Result<impl IntoResponse, AppError> {
    let users = users::list(&state.db).await?;
    render(&UserListPage { ctx, users, me: me.id })
}

#[derive(Template)]
#[template(path = "users/new.html")]
struct NewUserPage {
    ctx: PageCtx,
    email: String,
    name: String,
    admin: bool,
    errors: Vec<String>,
}

async fn new_user(Admin(_): Admin, ctx: PageCtx) -> Result<impl IntoResponse, AppError> {
    render(&NewUserPage { ctx, email: String::new(), name: String::new(), admin: false, errors: Vec::new() })
}

#[derive(Deserialize)]
struct NewUserForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    admin: Option<String>,
}

/// Shown once after creating an account or resetting a password: the only
/// time anyone sees the one-time password.
#[derive(Template)]
#[template(path = "users/one_time_password.html")]
struct OneTimePasswordPage {
    ctx: PageCtx,
    user: User,
    password: String,
    created: bool,
}

async fn create_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ctx: PageCtx,
    Form(form): Form<NewUserForm>,
) -> Result<Response, AppError> {
    let email = Email::parse(&form.email);
    let name = DisplayName::parse(&form.name);
    let (email, name) = match (email, name) {
        (Ok(e), Ok(n)) => (e, n),
        (e, n) => {
            let errors = [e.err(), n.err()].into_iter().flatten().collect();
            let page = NewUserPage { ctx, email: form.email, name: form.name, admin: form.admin.is_some(), errors };
            return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
        }
    };
    let one_time = password::one_time_password();
    let hash = password::hash(one_time.clone()).await?;
    let created = users::create_by(
        &state.db,
        Some(admin.actor()),
        NewUser { email: &email, name: &name, password_hash: &hash, is_admin: form.admin.is_some(), must_change_password: true },
    )
    .await;
    let user = match created {
        Ok(user) => user,
        Err(AppError::Conflict(message)) => {
            let page = NewUserPage { ctx, email: form.email, name: form.name, admin: form.admin.is_some(), errors: vec![message] };
            return Ok((axum::http::StatusCode::CONFLICT, render(&page)?).into_response());
        }
        Err(e) => return Err(e),
    };
    tracing::info!(by = %admin.id, user_id = %user.id, "account created");
    Ok(render(&OneTimePasswordPage { ctx, user, password: one_time, created: true })?.into_response())
}

async fn set_active(state: &AppState, admin: &User, session: &Session, id: UserId, active: bool) -> Result<Redirect, AppError> {
    if id == admin.user_id() && !active {
        return Err(AppError::Conflict("You cannot deactivate your own account: ask another administrator.".into()));
    }
    let user = users::set_active(&state.db, Some(admin.actor()), id, active).await?.ok_or_else(|| AppError::not_found("That account"))?;
    tracing::info!(by = %admin.id, user_id = %id, active, "account active flag changed");
    let verb = if active { "reactivated" } else { "deactivated" };
    flash(session, format!("{} ({}) has been {verb}.", user.name, user.email)).await?;
    Ok(Redirect::to("/admin/users"))
}

async fn deactivate_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    session: Session,
    Path(id): Path<UserId>,
) -> Result<Redirect, AppError> {
    set_active(&state, &admin, &session, id, false).await
}

async fn activate_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    session: Session,
    Path(id): Path<UserId>,
) -> Result<Redirect, AppError> {
    set_active(&state, &admin, &session, id, true).await
}

async fn reset_password(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ctx: PageCtx,
    Path(id): Path<UserId>,
) -> Result<Response, AppError> {
    let user = users::find_by_id(&state.db, id).await?.ok_or_else(|| AppError::not_found("That account"))?;
    let one_time = password::one_time_password();
    let hash = password::hash(one_time.clone()).await?;
    crate::transact!(&state, |tx| {
        // The account's sessions and API tokens end: a reset locks out whoever had access.
        users::replace_password(tx, Some(admin.actor()), id, &hash, true).await?;
        // A reset lifts the sign-in throttle for the account.
        throttle::record(&mut *tx, &user.email, true).await
    })?;
    tracing::info!(by = %admin.id, user_id = %id, "password reset");
    Ok(render(&OneTimePasswordPage { ctx, user, password: one_time, created: false })?.into_response())
}

/// The log of changes outside meetings (accounts, papers), newest first.
#[derive(Template)]
#[template(path = "users/audit.html")]
struct AuditPage {
    ctx: PageCtx,
    rows: Vec<AuditRow>,
    /// Link to older entries, if any.
    older: Option<String>,
    /// Link to newer entries, if any.
    newer: Option<String>,
    /// Showing an older page (so offer the newest).
    paged: bool,
}

/// One entry in words.
struct AuditRow {
    id: i64,
    /// ISO 8601, for the `datetime` attribute.
    at_iso: String,
    /// "12 March 2026, 14:05 UTC".
    at: String,
    who: String,
    about: String,
    what: String,
    before: Option<String>,
    after: Option<String>,
    why: Option<String>,
}

fn person(name: Option<String>, email: Option<String>) -> Option<String> {
    match (name, email) {
        (Some(name), Some(email)) => Some(format!("{name} ({email})")),
        (name, email) => name.or(email),
    }
}

impl From<AdminLogged> for AuditRow {
    fn from(e: AdminLogged) -> AuditRow {
        const WHEN: &[time::format_description::FormatItem<'_>] =
            time::macros::format_description!("[day padding:none] [month repr:long] [year], [hour]:[minute] UTC");
        let at = e.at.to_offset(time::UtcOffset::UTC);
        let who = person(e.actor_name, e.actor_email).unwrap_or_else(|| "standardise itself (command line or first start)".to_owned());
        let about = match (person(e.account_name, e.account_email), e.paper_label) {
            (Some(account), _) => format!("Account of {account}"),
            (None, Some(paper)) => format!("Paper {paper}"),
            (None, None) => String::new(),
        };
        AuditRow {
            id: e.id,
            at_iso: at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            at: at.format(WHEN).unwrap_or_default(),
            who,
            about,
            what: audit::action_words(&e.action),
            before: e.old_value.as_ref().map(audit::value_words),
            after: e.new_value.as_ref().map(audit::value_words),
            why: e.reason,
        }
    }
}

#[derive(Deserialize)]
struct AuditQuery {
    before: Option<i64>,
    after: Option<i64>,
}

async fn show_audit(
    State(state): State<AppState>,
    Admin(_): Admin,
    ctx: PageCtx,
    Query(q): Query<AuditQuery>,
) -> Result<impl IntoResponse, AppError> {
    let page = match (q.before, q.after) {
        (Some(id), _) => Page::Before(id),
        (None, Some(id)) => Page::After(id),
        (None, None) => Page::Newest,
    };
    let mut conn = state.db.acquire().await?;
    let found = audit::list_admin(&mut conn, page).await?;
    let older = found.entries.last().filter(|_| found.has_older).map(|e| format!("/admin/audit?before={}", e.id));
    let newer = found.entries.first().filter(|_| found.has_newer).map(|e| format!("/admin/audit?after={}", e.id));
    let rows = found.entries.into_iter().map(AuditRow::from).collect();
    render(&AuditPage { ctx, rows, older, newer, paged: page != Page::Newest })
}
