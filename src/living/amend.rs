//! An amendment applied to a scheme, pure: what each kind changes, and what
//! makes one impossible.

use crate::markscheme::{QuestionKind, Scheme};

crate::text_enum! {
    /// What an amendment changes.
    pub enum Kind {
        /// Adds a point of indicative content.
        IndicativeContent = "indicative_content",
        /// Replaces a level's descriptor with a clarified one.
        LevelDescriptor = "level_descriptor",
        /// Adds a note under the question.
        Note = "note",
    }
}

/// An amendment as asked for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
pub struct Amendment {
    /// The question's number, e.g. "01".
    pub question: String,
    /// What it changes.
    pub kind: Kind,
    /// The level, for a descriptor.
    #[serde(default)]
    pub level: Option<i32>,
    /// The new point, descriptor or note.
    pub text: String,
    /// Why.
    pub reason: String,
}

/// How an added note is written into the indicative content (it reads as a
/// note in every layout the importer knows, and comes back as content).
pub fn note_line(text: &str) -> String {
    format!("**Amendment (standardisation meeting):** {}", text.trim())
}

/// An amendment's text on one line: a line break in it could otherwise start
/// a new question, page or point when the scheme is written out and read again.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn append(content: &mut String, paragraph: &str) {
    let kept = content.trim_end().len();
    content.truncate(kept);
    if !content.is_empty() {
        content.push_str("\n\n");
    }
    content.push_str(paragraph);
}

/// Applies the amendment to `scheme`; the error says what is wrong.
pub fn apply(scheme: &mut Scheme, a: &Amendment) -> Result<(), String> {
    let text = a.text.trim();
    if text.is_empty() {
        return Err("Write the amendment: the point, the clarified descriptor or the note.".into());
    }
    if a.reason.trim().is_empty() {
        return Err("Give the reason for the amendment.".into());
    }
    if text.chars().count() > 5000 || a.reason.chars().count() > 2000 {
        return Err("An amendment's text can be at most 5,000 characters and its reason 2,000.".into());
    }
    let numbers = scheme.questions.iter().map(|q| q.number.as_str()).collect::<Vec<_>>().join(", ");
    let Some(q) = scheme.questions.iter_mut().find(|q| q.number == a.question.trim()) else {
        return Err(format!("Question {} is not on this paper (its questions are {numbers}).", a.question.trim()));
    };
    match a.kind {
        // Added at the end, after a blank line, with nothing trailing: the scheme
        // reads the same when it is written out and imported again.
        Kind::IndicativeContent => append(&mut q.indicative_content, &format!("- {}", one_line(text))),
        Kind::Note => append(&mut q.indicative_content, &note_line(&one_line(text))),
        Kind::LevelDescriptor => {
            match q.kind {
                QuestionKind::Levels => {}
                QuestionKind::AoBands => {
                    return Err(format!(
                        "Question {} is marked on a grid per assessment objective, whose descriptors cannot be amended here yet: \
                         add a note under the question instead.",
                        q.number
                    ));
                }
                QuestionKind::Points => {
                    return Err(format!(
                        "Question {} is point-marked, so it has no level descriptors: add a note or a point instead.",
                        q.number
                    ));
                }
            }
            let Some(level) = a.level else {
                return Err("Say which level's descriptor is clarified.".into());
            };
            let levels = q.levels.iter().map(|l| l.level.to_string()).collect::<Vec<_>>().join(", ");
            let number = q.number.clone();
            let Some(l) = q.levels.iter_mut().find(|l| l.level == level) else {
                return Err(format!("Question {number} has no level {level}: its levels are {levels}."));
            };
            l.descriptor = one_line(text);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markscheme::{Level, Question};

    fn scheme() -> Scheme {
        Scheme {
            questions: vec![
                Question {
                    number: "01".into(),
                    max_mark: 4,
                    kind: QuestionKind::Levels,
                    levels: vec![
                        Level { level: 1, min: 1, max: 2, descriptor: "Some".into() },
                        Level { level: 2, min: 3, max: 4, descriptor: "Good".into() },
                    ],
                    indicative_content: "- the first point".into(),
                    ..Question::default()
                },
                Question { number: "02".into(), max_mark: 2, kind: QuestionKind::Points, ..Question::default() },
            ],
            ..Scheme::default()
        }
    }

    fn amendment(question: &str, kind: Kind, level: Option<i32>, text: &str) -> Amendment {
        Amendment { question: question.into(), kind, level, text: text.into(), reason: "Discussed".into() }
    }

    #[test]
    fn each_kind_changes_what_it_says() {
        let mut s = scheme();
        apply(&mut s, &amendment("01", Kind::IndicativeContent, None, "the 1927 war scare as context")).unwrap();
        apply(&mut s, &amendment("01", Kind::Note, None, "Credit either reading of Source B")).unwrap();
        apply(&mut s, &amendment("01", Kind::LevelDescriptor, Some(2), "Good, with own knowledge")).unwrap();
        let q = &s.questions[0];
        assert!(
            q.indicative_content.starts_with("- the first point\n\n- the 1927 war scare as context\n\n**Amendment"),
            "{}",
            q.indicative_content
        );
        assert!(q.indicative_content.contains("**Amendment (standardisation meeting):** Credit either reading of Source B"));
        assert_eq!(q.levels[1].descriptor, "Good, with own knowledge");
        assert_eq!(crate::papers::versions::points_of(&q.indicative_content), ["the first point", "the 1927 war scare as context"]);
    }

    #[test]
    fn impossible_amendments_say_why() {
        let mut s = scheme();
        let err = |a: Amendment| apply(&mut scheme(), &a).unwrap_err();
        assert!(err(amendment("09", Kind::Note, None, "x")).contains("Question 09 is not on this paper (its questions are 01, 02)"));
        assert!(err(amendment("01", Kind::LevelDescriptor, Some(7), "x")).contains("has no level 7: its levels are 1, 2"));
        assert!(err(amendment("02", Kind::LevelDescriptor, Some(1), "x")).contains("point-marked, so it has no level descriptors"));
        assert!(err(amendment("01", Kind::Note, None, "  ")).contains("Write the amendment"));
        assert!(err(Amendment { reason: " ".into(), ..amendment("01", Kind::Note, None, "x") }).contains("reason"));
        assert!(apply(&mut s, &amendment("01", Kind::LevelDescriptor, None, "x")).is_err());
        assert_eq!(s, scheme(), "a refused amendment changes nothing");
    }
}
