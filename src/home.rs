//! The home page a signed-in person lands on.

use askama::Template;
use axum::{Router, extract::State, response::IntoResponse, routing::get};

use crate::{
    auth::extract::AuthUser,
    error::AppError,
    meetings::{Meeting, pages::meeting_rows},
    state::AppState,
    web::{PageCtx, render},
};

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
    meetings: Vec<(Meeting, String, String)>,
}

async fn show_home(State(state): State<AppState>, AuthUser(user): AuthUser, ctx: PageCtx) -> Result<impl IntoResponse, AppError> {
    let meetings = meeting_rows(&state, &user).await?;
    render(&HomePage { ctx, name: user.name, is_admin: user.is_admin, meetings })
}
