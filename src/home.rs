//! The home page a signed-in person lands on.

use askama::Template;
use axum::{Router, response::IntoResponse, routing::get};

use crate::{app::AppState, auth::extract::AuthUser, error::AppError, web::{PageCtx, render}};

/// The `/` route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(show_home))
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ctx: PageCtx,
    name: String,
    is_admin: bool,
}

async fn show_home(AuthUser(user): AuthUser, ctx: PageCtx) -> Result<impl IntoResponse, AppError> {
    render(&HomePage { ctx, name: user.name, is_admin: user.is_admin })
}
