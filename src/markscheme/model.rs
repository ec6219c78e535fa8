//! The data model of a parsed mark scheme; its JSON shape is fixed by the spec
//! because the upload form accepts the same JSON back.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Result of [`super::parse`]: the scheme as far as it could be read, plus what could not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parsed {
    /// Everything that was understood.
    pub scheme: Scheme,
    /// Everything that was not understood, with its source line.
    pub problems: Vec<Problem>,
}

impl Parsed {
    /// The scheme only if nothing went wrong, so callers cannot ignore problems by accident.
    pub fn into_result(self) -> Result<Scheme, Vec<Problem>> {
        if self.problems.is_empty() { Ok(self.scheme) } else { Err(self.problems) }
    }
}

/// Something in the source that could not be understood.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// 1-based source line the problem was found on.
    pub line: usize,
    /// Human-readable explanation.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// A whole mark scheme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct Scheme {
    /// Which paper the scheme belongs to.
    #[serde(default)]
    pub paper: PaperInfo,
    /// Generic guidance printed before the first question (Markdown).
    #[serde(default)]
    pub guidance: String,
    /// The questions in document order.
    #[serde(default)]
    pub questions: Vec<Question>,
}

/// Identification of the paper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct PaperInfo {
    /// Paper/component code such as "HIS2L" or "9275/2A".
    #[serde(default)]
    pub code: String,
    /// Paper title.
    #[serde(default)]
    pub title: String,
    /// Exam series such as "January 2011".
    #[serde(default)]
    pub series: String,
    /// Awarding body, empty when not detectable.
    #[serde(default)]
    pub board: String,
}

crate::text_enum! {
    /// How a question is marked.
    pub enum QuestionKind {
        /// Levels of response: one grid of bands.
        Levels = "levels",
        /// Point marked: any whole mark 0..=max, no bands.
        Points = "points",
        /// One band grid per assessment objective whose maxima add up.
        AoBands = "ao_bands",
    }
}

impl Default for QuestionKind {
    /// A new question is marked by levels unless said otherwise.
    fn default() -> Self {
        QuestionKind::Levels
    }
}

/// One question (or question part) of the scheme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct Question {
    /// Number as printed, e.g. "01" or "3b".
    pub number: String,
    /// The question text, without the "(12 marks)" tag.
    #[serde(default)]
    pub prompt: String,
    /// Maximum mark.
    #[serde(default)]
    pub max_mark: i32,
    /// Assessment objectives targeted, e.g. ["AO2(a)"].
    #[serde(default)]
    pub targets: Vec<String>,
    /// Level bands sorted ascending by level (empty for points/ao_bands questions).
    #[serde(default)]
    pub levels: Vec<Level>,
    /// Per-AO band grids (only for ao_bands questions).
    #[serde(default)]
    pub ao_bands: Vec<AoBands>,
    /// Indicative content as Markdown.
    #[serde(default)]
    pub indicative_content: String,
    /// How the question is marked.
    #[serde(default)]
    pub kind: QuestionKind,
    /// Source lines the question came from, for a side-by-side preview.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<LineSpan>,
}

impl Question {
    /// The band a mark falls in (levels questions only).
    pub fn band_for(&self, mark: i32) -> Option<&Level> {
        self.levels.iter().find(|l| l.min <= mark && mark <= l.max)
    }

    /// Whether a whole mark can be awarded for this question.
    pub fn allowed(&self, mark: i32) -> bool {
        if mark < 0 || mark > self.max_mark {
            return false;
        }
        match self.kind {
            QuestionKind::Levels => self.band_for(mark).is_some(),
            QuestionKind::Points | QuestionKind::AoBands => true,
        }
    }
}

/// One band of a levels grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct Level {
    /// Level (band) number, 0 for "nothing worthy of credit".
    pub level: i32,
    /// Lowest mark in the band.
    pub min: i32,
    /// Highest mark in the band.
    pub max: i32,
    /// Descriptor as clean text.
    #[serde(default)]
    pub descriptor: String,
}

/// The band grid of one or more assessment objectives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct AoBands {
    /// The objectives this grid assesses.
    #[serde(default)]
    pub targets: Vec<String>,
    /// Its bands, ascending.
    #[serde(default)]
    pub levels: Vec<Level>,
}

/// 1-based inclusive range of source lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct LineSpan {
    /// First line.
    pub start: usize,
    /// Last line.
    pub end: usize,
}

/// A rule of the spec that a scheme breaks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationError {
    /// Question number, if the error concerns one question.
    #[serde(default)]
    pub question: Option<String>,
    /// Level/band number, if the error concerns one band.
    #[serde(default)]
    pub band: Option<i32>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.question, self.band) {
            (Some(q), Some(b)) => write!(f, "Question {q}, level {b}: {}", self.message),
            (Some(q), None) => write!(f, "Question {q}: {}", self.message),
            (None, Some(b)) => write!(f, "Level {b}: {}", self.message),
            (None, None) => write!(f, "{}", self.message),
        }
    }
}
