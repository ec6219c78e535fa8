//! `GET /healthz`: 200 when the database answers, 503 when it does not.

use std::time::Duration;

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde_json::json;

use crate::state::AppState;

/// Asks the database for `SELECT 1` with a short deadline.
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let answered = tokio::time::timeout(Duration::from_secs(2), sqlx::query!("SELECT 1 AS one").fetch_one(&state.db)).await;
    match answered {
        Ok(Ok(_)) => (StatusCode::OK, Json(json!({"status": "ok", "database": "ok"}))),
        _ => (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "unavailable", "database": "not answering"}))),
    }
}
