//! Candidate scripts: uploading them (one, or many as CSV or ZIP), viewing
//! them, and serving their scanned answers.

pub mod pages;
pub mod store;
pub mod upload;

use std::collections::HashSet;

use sqlx::PgPool;

use crate::{
    error::AppError,
    papers::{PaperId, store::StoredPaper},
};
use store::SavedScript;
use upload::ScriptUpload;

crate::id_type! {
    /// A candidate script's id.
    pub struct ScriptId;
}

crate::id_type! {
    /// The id of a response: one script's answer to one question.
    pub struct ResponseId;
}

/// Checks uploads against the paper and saves them all in one transaction,
/// or nothing at all.
pub async fn save_all(db: &PgPool, paper: &StoredPaper, uploads: &[ScriptUpload]) -> Result<Vec<SavedScript>, AppError> {
    crate::transact!(db, |tx| {
        let existing: HashSet<String> = store::candidates(&mut *tx, paper.id).await?.into_iter().collect();
        let numbers: Vec<String> = paper.scheme.questions.iter().map(|q| q.number.clone()).collect();
        upload::check_against(uploads, &numbers, &existing).map_err(AppError::invalid)?;
        store::insert(tx, paper.id, uploads, |n| paper.question(n).map(|(id, _)| id)).await
    })
}

/// Loads a paper or answers 404.
pub async fn paper(db: &PgPool, id: PaperId) -> Result<StoredPaper, AppError> {
    let mut conn = db.acquire().await?;
    crate::papers::store::load(&mut conn, id).await?.ok_or_else(|| AppError::not_found("That paper"))
}
