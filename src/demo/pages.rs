//! The home page's "Load a demonstration meeting" button, for administrators.

use askama::Template;
use axum::{Router, extract::State, response::IntoResponse, routing::post};

use super::{Account, load};
use crate::{
    auth::extract::Admin,
    error::AppError,
    state::AppState,
    web::{PageCtx, render},
};

/// `POST /demo`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/demo", post(load_demo))
}

#[derive(Template)]
#[template(path = "demo/loaded.html")]
struct LoadedPage {
    ctx: PageCtx,
    meeting_id: crate::meetings::MeetingId,
    meeting_name: String,
    accounts: Vec<Account>,
}

async fn load_demo(State(state): State<AppState>, Admin(admin): Admin, ctx: PageCtx) -> Result<impl IntoResponse, AppError> {
    let loaded = load(&state.db, admin.actor()).await?;
    tracing::info!(meeting = %loaded.meeting_id, by = %admin.email, "demonstration meeting loaded");
    render(&LoadedPage { ctx, meeting_id: loaded.meeting_id, meeting_name: loaded.meeting_name, accounts: loaded.accounts })
}
