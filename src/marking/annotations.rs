//! Annotations: the stamps an examiner puts on an answer to show why they gave
//! their mark — a tick, a cross, an assessment objective, a point of the
//! indicative content, or a comment — anchored to a passage of a typed answer
//! (character offsets) or to a position on a scanned page. Pure: checked here
//! against the response they annotate; stored with the mark they explain, so
//! the visibility policy that decides who sees a mark decides who sees them.

use serde::{Deserialize, Serialize};

use crate::{markscheme::Question, papers::versions::Point};

crate::text_enum! {
    /// What an annotation says.
    pub enum AnnotationKind {
        /// Creditworthy.
        Tick = "tick",
        /// Wrong or not creditworthy.
        Cross = "cross",
        /// Evidence of one of the question's assessment objectives (`label`).
        Ao = "ao",
        /// Makes a point of the indicative content (`label`: its text).
        Point = "point",
        /// A margin comment (`text`).
        Comment = "comment",
    }
}

/// Most annotations one mark may carry.
pub const MAX_ANNOTATIONS: usize = 200;
/// The longest a comment annotation may be, in characters.
pub const MAX_ANNOTATION_TEXT_CHARS: usize = 2_000;
/// The most pages a scan may have for an annotation to point at.
const MAX_PAGE: u32 = 500;

/// One annotation. Exactly one anchor: `start`/`end` (a typed answer's
/// characters, end exclusive) or `page`/`x`/`y` (a scan: page from 1, x and y
/// as fractions of the page's width and height from its top left).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Annotation {
    /// What it says.
    pub kind: AnnotationKind,
    /// First character of the passage (typed answers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<u32>,
    /// Character after the passage's last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<u32>,
    /// Page of a scan, from 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 500)]
    pub page: Option<u32>,
    /// Across the page, 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1)]
    pub x: Option<f64>,
    /// Down the page, 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1)]
    pub y: Option<f64>,
    /// The objective (`ao`) or the point of indicative content (`point`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The comment (`comment`), or a note on any other kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// What an annotation may be anchored to and say: the response it is on.
pub struct Target<'a> {
    /// The typed answer, if any.
    pub text: Option<&'a str>,
    /// Whether there is a scan.
    pub scanned: bool,
    /// The question (its targets and per-objective grids name the objectives).
    pub question: &'a Question,
    /// Its points of indicative content.
    pub points: &'a [Point],
}

impl Target<'_> {
    /// The objectives an `ao` annotation may name.
    pub fn objectives(&self) -> Vec<String> {
        let mut aos: Vec<String> = self.question.targets.clone();
        for t in self.question.ao_bands.iter().flat_map(|g| g.targets.iter()) {
            if !aos.contains(t) {
                aos.push(t.clone());
            }
        }
        aos
    }
}

/// Checks annotations against the response and returns them as they are kept:
/// labels in the scheme's own spelling, points by their text, empty notes
/// dropped. The error is for the person and names the annotation (from 1).
pub fn check(annotations: Vec<Annotation>, target: &Target<'_>) -> Result<Vec<Annotation>, String> {
    if annotations.len() > MAX_ANNOTATIONS {
        return Err(format!("A mark can carry at most {MAX_ANNOTATIONS} annotations (this one has {}).", annotations.len()));
    }
    let length = target.text.map(|t| t.chars().count());
    let objectives = target.objectives();
    annotations
        .into_iter()
        .enumerate()
        .map(|(i, mut a)| {
            let n = i + 1;
            let ranged = a.start.is_some() || a.end.is_some();
            let placed = a.page.is_some() || a.x.is_some() || a.y.is_some();
            match (ranged, placed) {
                (true, true) => return Err(format!("Annotation {n} is anchored twice: give start and end, or page, x and y.")),
                (false, false) => return Err(format!("Annotation {n} is not anchored: give start and end, or page, x and y.")),
                (true, false) => {
                    let Some(length) = length else {
                        return Err(format!("Annotation {n} marks a passage, but this answer has no typed text: place it on the scan."));
                    };
                    let (Some(start), Some(end)) = (a.start, a.end) else {
                        return Err(format!("Annotation {n} needs both start and end."));
                    };
                    if start >= end || end as usize > length {
                        return Err(format!(
                            "Annotation {n} marks characters {start} to {end}, but the answer has {length} characters: start must be before end, within it."
                        ));
                    }
                }
                (false, true) => {
                    if !target.scanned {
                        return Err(format!("Annotation {n} is placed on a scanned page, but this answer has no scan."));
                    }
                    let (Some(page), Some(x), Some(y)) = (a.page, a.x, a.y) else {
                        return Err(format!("Annotation {n} needs page, x and y."));
                    };
                    if !(1..=MAX_PAGE).contains(&page) {
                        return Err(format!("Annotation {n} is on page {page}: pages are numbered from 1."));
                    }
                    if !((0.0..=1.0).contains(&x) && (0.0..=1.0).contains(&y)) {
                        return Err(format!("Annotation {n} is placed at ({x}, {y}): x and y are fractions of the page, from 0 to 1."));
                    }
                }
            }
            a.text = a.text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
            if let Some(t) = &a.text {
                super::rules::check_len(&format!("The text of annotation {n}"), t, MAX_ANNOTATION_TEXT_CHARS)?;
            }
            let label = a.label.take().map(|l| l.trim().to_owned()).filter(|l| !l.is_empty());
            a.label = match a.kind {
                AnnotationKind::Tick | AnnotationKind::Cross => None,
                AnnotationKind::Comment => {
                    if a.text.is_none() {
                        return Err(format!("Annotation {n} is a comment without text: write the comment."));
                    }
                    None
                }
                AnnotationKind::Ao => {
                    let Some(label) = label else {
                        return Err(format!("Annotation {n} names no objective: give one of {}.", objectives.join(", ")));
                    };
                    let found = objectives.iter().find(|o| o.eq_ignore_ascii_case(&label));
                    Some(found.cloned().ok_or_else(|| {
                        format!("Annotation {n} names {label}, which question {} does not target: give one of {}.", target.question.number, objectives.join(", "))
                    })?)
                }
                AnnotationKind::Point => {
                    let Some(label) = label else {
                        return Err(format!("Annotation {n} names no point of the indicative content."));
                    };
                    // A point is named by its text or by its id (as the API lists them).
                    let found = target.points.iter().find(|p| p.text == label || p.id.to_string() == label);
                    Some(found.map(|p| p.text.clone()).ok_or_else(|| {
                        format!("Annotation {n} names a point that is not in question {}'s indicative content.", target.question.number)
                    })?)
                }
            };
            Ok(a)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markscheme::AoBands;
    use uuid::Uuid;

    fn question() -> Question {
        Question {
            number: "01".into(),
            targets: vec!["AO1".into(), "AO2(a)".into()],
            ao_bands: vec![AoBands { targets: vec!["AO3".into()], levels: vec![] }],
            ..Question::default()
        }
    }

    fn on_text(kind: AnnotationKind, start: u32, end: u32) -> Annotation {
        Annotation { kind, start: Some(start), end: Some(end), page: None, x: None, y: None, label: None, text: None }
    }

    #[test]
    fn passages_lie_within_the_typed_answer() {
        let q = question();
        let points = [Point { id: Uuid::nil(), text: "the tone of Source A".into() }];
        let t = Target { text: Some("Café society was hostile."), scanned: false, question: &q, points: &points };
        assert_eq!(check(vec![on_text(AnnotationKind::Tick, 0, 25)], &t).unwrap().len(), 1, "25 characters, not 26 bytes");
        assert!(check(vec![on_text(AnnotationKind::Tick, 0, 26)], &t).unwrap_err().contains("the answer has 25 characters"));
        assert!(check(vec![on_text(AnnotationKind::Cross, 5, 5)], &t).is_err(), "an empty passage");
        let both = Annotation { page: Some(1), x: Some(0.5), y: Some(0.5), ..on_text(AnnotationKind::Tick, 0, 3) };
        assert!(check(vec![both], &t).unwrap_err().contains("anchored twice"));
        let scan = Annotation {
            kind: AnnotationKind::Tick,
            start: None,
            end: None,
            page: Some(1),
            x: Some(0.2),
            y: Some(0.3),
            label: None,
            text: None,
        };
        assert!(check(vec![scan], &t).unwrap_err().contains("no scan"));
    }

    #[test]
    fn positions_lie_on_a_scanned_page() {
        let q = question();
        let t = Target { text: None, scanned: true, question: &q, points: &[] };
        let at = |page, x, y| Annotation {
            kind: AnnotationKind::Tick,
            start: None,
            end: None,
            page: Some(page),
            x: Some(x),
            y: Some(y),
            label: None,
            text: None,
        };
        assert!(check(vec![at(1, 0.0, 1.0), at(3, 0.5, 0.25)], &t).is_ok());
        assert!(check(vec![at(0, 0.5, 0.5)], &t).unwrap_err().contains("numbered from 1"));
        assert!(check(vec![at(1, 1.5, 0.5)], &t).unwrap_err().contains("from 0 to 1"));
        assert!(check(vec![at(1, f64::NAN, 0.5)], &t).is_err(), "NaN is not a position");
        assert!(check(vec![on_text(AnnotationKind::Tick, 0, 1)], &t).unwrap_err().contains("no typed text"));
    }

    #[test]
    fn labels_name_the_questions_objectives_and_points() {
        let q = question();
        let id = Uuid::from_u128(7);
        let points = [Point { id, text: "the tone of Source A".into() }];
        let t = Target { text: Some("Some answer text."), scanned: false, question: &q, points: &points };
        let with = |kind, label: &str| Annotation { label: Some(label.into()), ..on_text(kind, 0, 4) };
        let kept = check(
            vec![with(AnnotationKind::Ao, "ao2(a)"), with(AnnotationKind::Ao, "AO3"), with(AnnotationKind::Point, &id.to_string())],
            &t,
        )
        .unwrap();
        assert_eq!(kept[0].label.as_deref(), Some("AO2(a)"), "the scheme's spelling");
        assert_eq!(kept[1].label.as_deref(), Some("AO3"), "a per-objective grid's objective counts");
        assert_eq!(kept[2].label.as_deref(), Some("the tone of Source A"), "a point by id is kept by its text");
        assert!(check(vec![with(AnnotationKind::Ao, "AO4")], &t).unwrap_err().contains("does not target: give one of AO1, AO2(a), AO3"));
        assert!(check(vec![with(AnnotationKind::Point, "something else")], &t).is_err());
        assert!(check(vec![on_text(AnnotationKind::Comment, 0, 4)], &t).unwrap_err().contains("without text"));
        let comment = Annotation { text: Some("  good link  ".into()), ..on_text(AnnotationKind::Comment, 0, 4) };
        assert_eq!(check(vec![comment], &t).unwrap()[0].text.as_deref(), Some("good link"));
        let tick = Annotation { label: Some("ignored".into()), ..on_text(AnnotationKind::Tick, 0, 4) };
        assert_eq!(check(vec![tick], &t).unwrap()[0].label, None);
        let long = Annotation { text: Some("x".repeat(MAX_ANNOTATION_TEXT_CHARS + 1)), ..on_text(AnnotationKind::Comment, 0, 4) };
        assert!(check(vec![long], &t).unwrap_err().contains("at most 2,000 characters"));
        assert!(check(vec![on_text(AnnotationKind::Tick, 0, 1); MAX_ANNOTATIONS + 1], &t).unwrap_err().contains("at most 200"));
    }

    #[test]
    fn the_json_shape_is_the_apis() {
        let a: Annotation = serde_json::from_str(r#"{"kind": "ao", "start": 3, "end": 9, "label": "AO1"}"#).unwrap();
        assert_eq!(a.kind, AnnotationKind::Ao);
        assert_eq!(serde_json::to_value(&a).unwrap(), serde_json::json!({"kind": "ao", "start": 3, "end": 9, "label": "AO1"}));
        assert!(serde_json::from_str::<Annotation>(r#"{"kind": "smiley", "start": 0, "end": 1}"#).is_err());
    }
}
