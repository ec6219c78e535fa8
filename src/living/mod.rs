//! The living mark scheme: examiners refer unusual answers to the principal
//! examiner; answers can amend the scheme, each amendment making a new
//! version that every meeting on the paper then marks against; every
//! adjudication is kept as a ruling; and the meeting's record (rulings and
//! amendments in order) can be read, printed and exported.
//!
//! `amend` is the pure part (what an amendment changes); `store` the database.

pub mod amend;
pub mod api;
pub mod impact;
pub mod pages;
pub mod store;
