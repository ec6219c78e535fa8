//! What every page shares: the layout context and rendering askama templates.

use askama::Template;
use axum::{extract::FromRequestParts, http::request::Parts, response::Html};
use tower_sessions::Session;

use crate::{
    auth::{
        csrf,
        extract::{current_user, session_error, session_of},
    },
    error::AppError,
    state::AppState,
    users::User,
};

const FLASH_KEY: &str = "flash";

/// The layout's context: who is signed in, the CSRF token for its forms, and
/// a one-off message from the previous request ("User created.").
#[derive(Debug, Clone)]
pub struct PageCtx {
    /// The signed-in user, if any.
    pub user: Option<User>,
    /// The CSRF token every form on the page carries.
    pub csrf: String,
    /// A message left by the previous request, shown once.
    pub flash: Option<String>,
}

impl PageCtx {
    /// True when the signed-in user is an administrator (for the navigation).
    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.is_admin)
    }
}

impl FromRequestParts<AppState> for PageCtx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = current_user(parts, state).await?;
        let session = session_of(parts)?;
        let csrf = csrf::token(&session).await?;
        let flash = session.remove::<String>(FLASH_KEY).await.map_err(session_error)?;
        Ok(PageCtx { user, csrf, flash })
    }
}

/// Middleware on page routes: notes who is signed in, so that an error page
/// rendered further out keeps their navigation. It resolves the user the
/// handlers' extractors would (and leaves it cached for them): no extra query.
pub async fn remember_viewer(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let (mut parts, body) = request.into_parts();
    let viewer =
        current_user(&mut parts, &state).await.ok().flatten().map(|u| crate::error::ErrorViewer { name: u.name, is_admin: u.is_admin });
    let mut response = next.run(axum::extract::Request::from_parts(parts, body)).await;
    if let Some(v) = viewer
        && (response.status().is_client_error() || response.status().is_server_error())
    {
        response.extensions_mut().insert(v);
    }
    response
}

/// Leaves a message for the next page the user sees.
pub async fn flash(session: &Session, message: impl Into<String>) -> Result<(), AppError> {
    session.insert(FLASH_KEY, message.into()).await.map_err(session_error)
}

/// Renders a page template; a template error is a bug, logged as a 500.
pub fn render(template: &impl Template) -> Result<Html<String>, AppError> {
    template.render().map(Html).map_err(|e| AppError::Internal(anyhow::anyhow!("template: {e}")))
}

/// A local path to return to after signing in; anything else becomes `/`
/// (so `next=` cannot send people to another site).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        // Printable ASCII only: browsers drop tabs and newlines, so "/\t/evil" would become "//evil".
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') && n.bytes().all(|b| b.is_ascii_graphic()) => {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/admin/users")), "/admin/users");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("/\t/evil.example")), "/");
        assert_eq!(safe_next(Some("/\n/evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
