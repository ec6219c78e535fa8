//! The application state every handler can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use sqlx::PgPool;

use crate::{config::Config, live};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The connection pool.
    pub db: PgPool,
    /// Settings.
    pub config: Arc<Config>,
    /// Live updates heard from the database.
    pub live: Arc<live::Hub>,
    /// Each meeting's dashboard figures, until it changes.
    pub figures: Arc<crate::dashboard::Cache>,
    /// Where practice marks' saves are gathered into statements.
    pub marks: crate::marking::writer::MarkWriter,
}

impl AppState {
    /// The state for a pool, starting the live-update listener on it.
    pub fn new(db: PgPool, config: Config) -> AppState {
        let live = live::Hub::start(db.clone());
        let marks = crate::marking::writer::MarkWriter::start(db.clone());
        AppState { db, config: Arc::new(config), live, figures: Arc::default(), marks }
    }
}

impl FromRef<AppState> for PgPool {
    fn from_ref(state: &AppState) -> PgPool {
        state.db.clone()
    }
}
