//! Mark-scheme importer: reads a levels-of-response mark scheme as published
//! (Markdown or plain text, often a messy PDF conversion) into a [`Scheme`],
//! and checks a scheme against the structural rules with [`validate`].
//!
//! Pipeline: `lines` normalises the text into clean logical lines, `parse`
//! walks them and feeds a per-question `build`er, `bands` recognises band
//! lines of every known layout, `finish` assembles each question and
//! `paper` reads the cover page. Anything not understood becomes a
//! [`Problem`] with its line number instead of a silent guess.

mod bands;
mod build;
mod finish;
mod lines;
mod model;
mod paper;
mod parse;
mod render;
mod validate;

#[cfg(test)]
mod fixture_tests;
#[cfg(test)]
mod fuzz_tests;

pub use model::{AoBands, Level, LineSpan, PaperInfo, Parsed, Problem, Question, QuestionKind, Scheme, ValidationError};
pub use parse::parse;
pub use render::to_markdown;
pub use validate::validate;
