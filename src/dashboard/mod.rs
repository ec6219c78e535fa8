//! The principal examiner's dashboard: the marks matrix, where the panel
//! disagrees, examiners' severity and consistency, agreement per question,
//! exports, and live updates.

pub mod api;
pub mod compute;
pub mod data;
pub mod explain;
pub mod export;
pub mod pages;
pub mod svg;
pub mod view;

use crate::{error::AppError, meetings::access::Access, state::AppState};

/// Loads and computes a meeting's figures.
pub async fn figures(state: &AppState, access: &Access) -> Result<(data::MeetingData, compute::MeetingStats), AppError> {
    let started = std::time::Instant::now();
    let mut conn = state.db.acquire().await?;
    let data = data::load(&mut conn, &access.meeting).await?;
    drop(conn);
    let loaded = started.elapsed();
    // The arithmetic is CPU work: keep it off the async threads.
    let (data, stats) = tokio::task::spawn_blocking(move || {
        let stats = compute::compute(&data);
        (data, stats)
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?;
    tracing::debug!(
        marks = data.cells.len(),
        load_ms = loaded.as_secs_f64() * 1e3,
        total_ms = started.elapsed().as_secs_f64() * 1e3,
        "dashboard figures"
    );
    Ok((data, stats))
}
