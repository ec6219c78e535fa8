//! The JSON API for programs, under `/api/v1`, authenticated by bearer token.

use axum::{Json, Router, routing::get};
use serde::Serialize;

use crate::{auth::extract::AuthUser, state::AppState};

/// Routes nested under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me", get(get_me))
        .merge(crate::papers::api::routes())
        .merge(crate::meetings::api::routes())
        .merge(crate::marking::api::routes())
        .merge(crate::dashboard::api::routes())
        .merge(crate::qualification::api::routes())
        .merge(crate::living::api::routes())
}

/// The caller, as `GET /api/v1/me` answers it.
#[derive(Serialize)]
struct Me {
    email: String,
    name: String,
    admin: bool,
}

async fn get_me(AuthUser(user): AuthUser) -> Json<Me> {
    Json(Me { email: user.email, name: user.name, admin: user.is_admin })
}
