//! Signing in and out, changing one's password, and who may do what.

pub mod csrf;
pub mod extract;
pub mod password;
pub mod throttle;
pub mod tokens;

use askama::Template;
use axum::{
    Form, Router,
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use serde::Deserialize;
use tower_sessions::Session;

use crate::{
    error::{AppError, NUL_MESSAGE},
    state::AppState,
    users::{self, Email},
    web::{PageCtx, flash, render, safe_next},
};
use extract::{AuthUser, USER_ID_KEY, session_error};

/// Routes for signing in and out and for one's own account.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(show_login).post(login))
        .route("/logout", axum::routing::post(logout))
        .route(extract::CHANGE_PASSWORD_PATH, get(show_change_password).post(change_password))
        .route("/account/tokens", get(list_tokens).post(create_token))
        .route("/account/tokens/{id}/revoke", axum::routing::post(revoke_token))
}

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    ctx: PageCtx,
    /// The form's CSRF token: signed out, there is no session to hold one (see `csrf`).
    form_token: String,
    email: String,
    next: String,
    error: Option<String>,
    signed_out: bool,
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
    signed_out: Option<String>,
}

async fn show_login(
    State(state): State<AppState>,
    ctx: PageCtx,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Result<Response, AppError> {
    let next = safe_next(q.next.as_deref());
    if ctx.user.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    let token = csrf::login_token(&state.db, &headers, state.config.secure_cookies).await?;
    let page = LoginPage { ctx, form_token: token.form_token, email: String::new(), next, error: None, signed_out: q.signed_out.is_some() };
    let mut response = render(&page)?.into_response();
    if let Some(cookie) = token.set_cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

#[tracing::instrument(skip_all, fields(email = %form.email.trim().to_lowercase().replace('\0', "")))]
async fn login(
    State(state): State<AppState>,
    ctx: PageCtx,
    session: Session,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let next = safe_next(form.next.as_deref());
    // The form comes back with the same cookie, so with the same token.
    let form_token = csrf::login_token(&state.db, &headers, state.config.secure_cookies).await?;
    let refuse = |ctx: PageCtx, status: StatusCode, message: &str| -> Result<Response, AppError> {
        let page = LoginPage {
            ctx,
            form_token: form_token.form_token.clone(),
            email: form.email.replace('\0', ""),
            next: next.clone(),
            error: Some(message.to_owned()),
            signed_out: false,
        };
        let mut response = (status, render(&page)?).into_response();
        if let Some(cookie) = form_token.set_cookie.clone() {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
        Ok(response)
    };
    let email = match Email::parse(&form.email) {
        Ok(email) if !form.password.is_empty() => email,
        // NUL is never stored (PostgreSQL refuses it in text): say so rather than fail later.
        Err(message) if message == NUL_MESSAGE => return refuse(ctx, StatusCode::UNPROCESSABLE_ENTITY, NUL_MESSAGE),
        _ => return refuse(ctx, StatusCode::UNPROCESSABLE_ENTITY, "Enter your email address and your password."),
    };
    let Some(attempt) = throttle::begin(&state.db, email.as_str(), state.config.login_max_failures, state.config.login_window).await?
    else {
        tracing::warn!("sign-in refused: throttled");
        let minutes = state.config.login_window.as_secs() / 60;
        return refuse(
            ctx,
            StatusCode::TOO_MANY_REQUESTS,
            &format!(
                "Too many wrong passwords for this account. Signing in to it is paused for {minutes} minutes; \
                 wait, or ask an administrator to reset your password."
            ),
        );
    };

    let found = users::find_with_hash(&state.db, &email).await?;
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, password::dummy_hash().to_owned()),
    };
    let password_ok = password::verify(form.password.clone(), hash).await;
    let user = match user {
        Some(user) if password_ok => user,
        _ => {
            tracing::info!("sign-in failed");
            return refuse(ctx, StatusCode::UNAUTHORIZED, "That email and password do not match an account. Check both and try again.");
        }
    };
    if !user.active {
        return refuse(ctx, StatusCode::FORBIDDEN, "This account has been deactivated. Ask an exam-board administrator to reactivate it.");
    }
    throttle::succeeded(&state.db, attempt).await?;
    // A new session id on sign-in, so a planted cookie cannot ride along.
    session.cycle_id().await.map_err(session_error)?;
    session.insert(USER_ID_KEY, user.id).await.map_err(session_error)?;
    extract::stamp_session(&session, time::OffsetDateTime::now_utc()).await?;
    csrf::renew(&session).await?;
    tracing::info!(user_id = %user.id, "signed in");
    let target = if user.must_change_password { extract::CHANGE_PASSWORD_PATH.to_owned() } else { next };
    // Signed in, the session's own token takes over from the sign-in cookie.
    Ok(([(header::SET_COOKIE, csrf::clear_login_cookie(state.config.secure_cookies))], Redirect::to(&target)).into_response())
}

async fn logout(session: Session) -> Result<Redirect, AppError> {
    session.flush().await.map_err(session_error)?;
    Ok(Redirect::to("/login?signed_out=1"))
}

#[derive(Template)]
#[template(path = "auth/change_password.html")]
struct ChangePasswordPage {
    ctx: PageCtx,
    forced: bool,
    error: Option<String>,
    min_length: usize,
}

async fn show_change_password(AuthUser(user): AuthUser, ctx: PageCtx) -> Result<impl IntoResponse, AppError> {
    render(&ChangePasswordPage { ctx, forced: user.must_change_password, error: None, min_length: password::MIN_LENGTH })
}

#[derive(Deserialize)]
struct ChangePasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

async fn change_password(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ctx: PageCtx,
    session: Session,
    Form(form): Form<ChangePasswordForm>,
) -> Result<Response, AppError> {
    let forced = user.must_change_password;
    let refuse = |ctx: PageCtx, message: String| -> Result<Response, AppError> {
        let page = ChangePasswordPage { ctx, forced, error: Some(message), min_length: password::MIN_LENGTH };
        Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
    };
    let email = Email::parse(&user.email).map_err(AppError::invalid)?;
    let Some((_, hash)) = users::find_with_hash(&state.db, &email).await? else {
        return Err(AppError::Unauthenticated);
    };
    if !password::verify(form.current.clone(), hash).await {
        return refuse(ctx, "Your current password is not right.".into());
    }
    if let Err(message) = password::check_new(&form.new, &form.confirm) {
        return refuse(ctx, message);
    }
    if form.new == form.current {
        return refuse(ctx, "Choose a password different from the current one.".into());
    }
    let hash = password::hash(form.new).await?;
    // Other sessions of this account end and its API tokens are revoked; this session carries on.
    let done = crate::transact!(&state, |tx| { users::replace_password(tx, Some(user.actor()), user.user_id(), &hash, false).await })?;
    session.cycle_id().await.map_err(session_error)?;
    extract::stamp_session(&session, done.sessions_valid_after).await?;
    let message = match done.tokens_revoked {
        0 => "Your password has been changed.".to_owned(),
        1 => "Your password has been changed, and your API token has been revoked: create a new one for your programs.".to_owned(),
        n => format!("Your password has been changed, and your {n} API tokens have been revoked: create new ones for your programs."),
    };
    flash(&session, message).await?;
    Ok(Redirect::to("/").into_response())
}

#[derive(Template)]
#[template(path = "auth/tokens.html")]
struct TokensPage {
    ctx: PageCtx,
    tokens: Vec<tokens::TokenInfo>,
    new_token: Option<String>,
}

async fn list_tokens(State(state): State<AppState>, AuthUser(user): AuthUser, ctx: PageCtx) -> Result<impl IntoResponse, AppError> {
    let tokens = tokens::list(&state.db, user.user_id()).await?;
    render(&TokensPage { ctx, tokens, new_token: None })
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    name: String,
}

async fn create_token(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ctx: PageCtx,
    Form(form): Form<TokenForm>,
) -> Result<impl IntoResponse, AppError> {
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid("Name the token (up to 100 characters), e.g. after the program that will use it."));
    }
    let token = tokens::create_by(&state.db, Some(user.actor()), user.user_id(), name).await?;
    tracing::info!(user_id = %user.id, "API token created");
    let tokens = tokens::list(&state.db, user.user_id()).await?;
    render(&TokensPage { ctx, tokens, new_token: Some(token) })
}

async fn revoke_token(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    session: Session,
    axum::extract::Path(id): axum::extract::Path<uuid::Uuid>,
) -> Result<Redirect, AppError> {
    if !tokens::revoke_one(&state.db, user.user_id(), id).await? {
        return Err(AppError::not_found("A live token of yours with that id"));
    }
    flash(&session, "The token is revoked: programs using it are refused from now on.").await?;
    Ok(Redirect::to("/account/tokens"))
}
