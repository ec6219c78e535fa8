//! Who is asking: extractors a handler names in its signature to state the
//! access it needs (`AuthUser`, `Admin`; meeting roles build on these).
//!
//! Pages are authenticated by the session cookie, `/api/` by a bearer token
//! only, so a browser session can never be used to drive the API cross-site.

use axum::{
    extract::FromRequestParts,
    http::request::Parts,
    response::{IntoResponse, Redirect, Response},
};
use tower_sessions::Session;

use crate::{auth::tokens, error::AppError, state::AppState, users};

/// Session key holding the signed-in user's id.
pub const USER_ID_KEY: &str = "user_id";

/// Session key holding when the session signed in (unix nanoseconds).
const AUTH_AT_KEY: &str = "auth_at";

/// Notes in the session when it signed in, to compare with `sessions_valid_after`.
pub async fn stamp_session(session: &Session, at: time::OffsetDateTime) -> Result<(), AppError> {
    session.insert(AUTH_AT_KEY, at.unix_timestamp_nanos().to_string()).await.map_err(session_error)
}

/// The path where a holder of a one-time password must go first.
pub const CHANGE_PASSWORD_PATH: &str = "/account/password";

/// Cached in request extensions so several extractors cost one lookup.
#[derive(Clone)]
struct Resolved(Option<users::User>);

/// Maps a session-store failure (usually the database being down) to 503.
pub fn session_error(err: tower_sessions::session::Error) -> AppError {
    tracing::warn!(error = %err, "session store failed");
    AppError::Unavailable
}

/// The session of this request; present on every page route.
pub fn session_of(parts: &Parts) -> Result<Session, AppError> {
    parts
        .extensions
        .get::<Session>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no session layer on {}", parts.uri.path())))
}

/// True for `/api/` requests (looking past `nest`, which strips the prefix).
pub fn is_api(parts: &Parts) -> bool {
    let path = parts.extensions.get::<axum::extract::OriginalUri>().map(|u| u.0.path()).unwrap_or_else(|| parts.uri.path());
    path.starts_with("/api/")
}

/// Notes who the request is from, when an extractor found out another way
/// (the API's one-statement token and meeting lookup), so later ones do not
/// look again.
pub fn remember_user(parts: &mut Parts, user: &users::User) {
    parts.extensions.insert(Resolved(Some(user.clone())));
}

/// The signed-in user, if any, for this request.
pub async fn current_user(parts: &mut Parts, state: &AppState) -> Result<Option<users::User>, AppError> {
    if let Some(Resolved(user)) = parts.extensions.get::<Resolved>() {
        return Ok(user.clone());
    }
    let user = if is_api(parts) {
        tokens::user_for_bearer(&state.db, &parts.headers).await?
    } else {
        let session = session_of(parts)?;
        match session.get::<users::UserId>(USER_ID_KEY).await.map_err(session_error)? {
            Some(id) => match users::find_by_id(&state.db, id).await? {
                Some(user) if user.active && signed_in_after(&session, &user).await? => Some(user),
                // Deactivated (or deleted) while signed in: the session ends now.
                _ => {
                    session.flush().await.map_err(session_error)?;
                    None
                }
            },
            None => None,
        }
    };
    parts.extensions.insert(Resolved(user.clone()));
    Ok(user)
}

/// Whether the session signed in after the account's last password change or reset.
async fn signed_in_after(session: &Session, user: &users::User) -> Result<bool, AppError> {
    let at: Option<String> = session.get(AUTH_AT_KEY).await.map_err(session_error)?;
    let at = at.and_then(|a| a.parse::<i128>().ok()).unwrap_or(i128::MIN);
    Ok(at >= user.sessions_valid_after.unix_timestamp_nanos())
}

/// Any signed-in, active user.
pub struct AuthUser(pub users::User);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = current_user(parts, state).await.map_err(IntoResponse::into_response)?;
        let Some(user) = user else {
            return Err(AppError::Unauthenticated.into_response());
        };
        // A one-time password only opens the page where it is replaced.
        if !is_api(parts) && user.must_change_password && parts.uri.path() != CHANGE_PASSWORD_PATH {
            return Err(Redirect::to(CHANGE_PASSWORD_PATH).into_response());
        }
        Ok(AuthUser(user))
    }
}

/// An exam-board administrator.
pub struct Admin(pub users::User);

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let AuthUser(user) = AuthUser::from_request_parts(parts, state).await?;
        if !user.is_admin {
            return Err(AppError::Forbidden("Only exam-board administrators can do this.".into()).into_response());
        }
        Ok(Admin(user))
    }
}
