//! Marking in a meeting: examiners' blind marks, the principal examiner's
//! definitive marks and release. What each person may see of them is decided
//! by `meetings::policy`; `view` loads a response accordingly.

pub mod adjudication;
pub mod annotations;
pub mod api;
pub mod pages;
pub mod rules;
pub mod store;
pub mod view;
pub mod writer;

crate::text_enum! {
    /// Where an examiner's mark is.
    pub enum MarkState {
        /// Saved, still changing.
        Draft = "draft",
        /// Locked: counted in the figures, changed only if the principal examiner reopens it.
        Submitted = "submitted",
    }
}
