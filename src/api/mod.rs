//! The JSON API for programs, under `/api/v1`, authenticated by bearer token.
//!
//! Every route is registered with its description (utoipa-axum's `routes!`),
//! so the router and the OpenAPI document in [`openapi`] come from one list.

pub mod openapi;

use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{auth::extract::AuthUser, state::AppState};
use openapi::{Unauthorized, Unavailable};

/// Routes nested under `/api/v1`.
pub fn routes() -> Router<AppState> {
    described().split_for_parts().0
}

/// Every route under `/api/v1` with its description (paths relative to `/api/v1`).
pub fn described() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_me))
        .routes(routes!(openapi::get_openapi))
        .merge(crate::papers::api::routes())
        .merge(crate::meetings::api::routes())
        .merge(crate::marking::api::routes())
        .merge(crate::dashboard::api::routes())
        .merge(crate::qualification::api::routes())
        .merge(crate::living::api::routes())
}

/// The caller, as `GET /api/v1/me` answers it.
#[derive(Serialize, ToSchema)]
struct Me {
    /// Their email.
    email: String,
    /// Their name.
    name: String,
    /// An exam-board administrator.
    admin: bool,
}

/// The token's account.
#[utoipa::path(get, path = "/me", tag = "account", responses((status = 200, description = "The token's account", body = Me), Unauthorized, Unavailable))]
async fn get_me(AuthUser(user): AuthUser) -> Json<Me> {
    Json(Me { email: user.email, name: user.name, admin: user.is_admin })
}
