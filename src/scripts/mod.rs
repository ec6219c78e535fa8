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
use upload::{Bulk, Problems, ScriptUpload};

crate::id_type! {
    /// A candidate script's id.
    pub struct ScriptId;
}

crate::id_type! {
    /// The id of a response: one script's answer to one question.
    pub struct ResponseId;
}

/// Checks uploads against the paper and saves them all in one transaction,
/// or nothing at all. A refusal's message is its first problem (what the
/// one-script form and the API show); when there are several, its details list
/// them all.
pub async fn save_all(db: &PgPool, paper: &StoredPaper, uploads: &[ScriptUpload]) -> Result<Vec<SavedScript>, AppError> {
    save_checked(db, paper, uploads, &Problems::default()).await?.map_err(|problems| {
        let mut lines = problems.into_lines();
        match lines.len() {
            1 => AppError::invalid(lines.remove(0)),
            _ => AppError::Invalid { message: lines[0].clone(), details: lines },
        }
    })
}

/// Saves a bulk upload in one transaction, or nothing at all: the problems
/// found reading the file and those found against the paper (candidates
/// already on it) are refused together, every one listed.
pub async fn save_bulk(db: &PgPool, paper: &StoredPaper, bulk: &Bulk) -> Result<Vec<SavedScript>, AppError> {
    save_checked(db, paper, &bulk.scripts, &bulk.problems).await?.map_err(bulk_refusal)
}

/// The refusal of a bulk upload: a sentence saying nothing was saved, and every problem.
pub fn bulk_refusal(problems: Problems) -> AppError {
    let message = match problems.len() {
        1 => "Nothing was saved: the file has a problem.".to_owned(),
        n => format!("Nothing was saved: the file has {n} problems. Put them right and upload it again."),
    };
    AppError::Invalid { message, details: problems.into_lines() }
}

/// Adds the problems found against the paper to those already `found`; saves
/// the uploads only when there are none. `Ok(Err(..))` is a refusal.
async fn save_checked(
    db: &PgPool,
    paper: &StoredPaper,
    uploads: &[ScriptUpload],
    found: &Problems,
) -> Result<Result<Vec<SavedScript>, Problems>, AppError> {
    crate::transact!(db, |tx| {
        let existing: HashSet<String> = store::candidates(&mut *tx, paper.id).await?.into_iter().collect();
        let numbers: Vec<String> = paper.scheme.questions.iter().map(|q| q.number.clone()).collect();
        let mut problems = found.clone();
        upload::check_against(uploads, &numbers, &existing, &mut problems);
        if !problems.is_empty() {
            return Ok(Err(problems));
        }
        store::insert(tx, paper.id, uploads, |n| paper.question(n).map(|(id, _)| id)).await.map(Ok)
    })
}

/// Loads a paper or answers 404.
pub async fn paper(db: &PgPool, id: PaperId) -> Result<StoredPaper, AppError> {
    let mut conn = db.acquire().await?;
    crate::papers::store::load(&mut conn, id).await?.ok_or_else(|| AppError::not_found("That paper"))
}
