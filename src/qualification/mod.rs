//! Qualification and seeds: after the meeting each examiner marks a
//! qualification set, judged at once by its stated rule; the principal
//! examiner (or their team leader) approves them to mark live; seeds slipped
//! into approved examiners' marking keep checking them.
//!
//! `rules` is the pure part (judging a set, the states, the seed flag);
//! `store` the database; `api` and `pages` the two ways in. Who sees which
//! definitive mark is still decided by `meetings::policy`: this module only
//! supplies the fact that a set is released to the one examiner who submitted it.

pub mod api;
pub mod pages;
pub mod rules;
pub mod store;
