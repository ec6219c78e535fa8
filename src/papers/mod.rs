//! Papers: a mark scheme imported from the board's document, kept structured.

pub mod api;
pub mod docx;
pub mod form;
pub mod import;
pub mod pages;
pub mod pdf;
pub mod store;
pub mod versions;

use axum::Router;

use crate::{
    markscheme::{self, Scheme},
    state::AppState,
};

crate::id_type! {
    /// A paper's id.
    pub struct PaperId;
}

/// Page and API routes for papers.
pub fn routes() -> Router<AppState> {
    pages::routes()
}

/// The largest maximum mark a question may have (the schema says the same).
pub const MAX_MARK: i32 = 1000;

/// Everything wrong with a scheme before it may be saved as a paper: the
/// paper's identification, then the mark scheme's own rules (naming the
/// question and band). Empty means it can be saved.
pub fn check(scheme: &Scheme) -> Vec<String> {
    let mut problems = Vec::new();
    let info = &scheme.paper;
    for (value, what) in [
        (&info.board, "the exam board (e.g. AQA)"),
        (&info.code, "the paper's code (e.g. HIS2L)"),
        (&info.title, "the paper's title"),
        (&info.series, "the series (e.g. January 2011)"),
    ] {
        if value.trim().is_empty() {
            problems.push(format!("Enter {what}."));
        }
    }
    for q in scheme.questions.iter().filter(|q| q.max_mark > MAX_MARK) {
        problems.push(format!("Question {}: a maximum mark of {} is more than standardise accepts ({MAX_MARK}).", q.number, q.max_mark));
    }
    problems.extend(markscheme::validate(scheme).iter().map(ToString::to_string));
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scheme_needs_its_identification() {
        let scheme = Scheme::default();
        let problems = check(&scheme);
        assert!(problems.iter().any(|p| p.contains("exam board")));
        assert!(problems.iter().any(|p| p.contains("code")));
        assert!(problems.iter().any(|p| p.contains("no questions")), "{problems:?}");
    }
}
