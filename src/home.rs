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
    /// No paper yet: offer an administrator the demonstration meeting.
    offer_demo: bool,
}

async fn show_home(State(state): State<AppState>, AuthUser(user): AuthUser, ctx: PageCtx) -> Result<impl IntoResponse, AppError> {
    let meetings = meeting_rows(&state, &user).await?;
    let offer_demo =
        user.is_admin && !sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM papers) AS "any!""#).fetch_one(&state.db).await?;
    render(&HomePage { ctx, name: user.name, is_admin: user.is_admin, meetings, offer_demo })
}
