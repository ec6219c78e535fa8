//! The marking rules, pure: which level and mark a question allows, the
//! middle mark of a band, and how far a mark is from the definitive one.

use crate::markscheme::{Question, QuestionKind};

/// Tolerance rules live with the statistics; marking uses the same ones.
pub use crate::stats::{default_tolerance, within_tolerance};

/// Checks a level and mark against a question. Levels-of-response questions
/// need a level, and the mark must lie in that level's band; other questions
/// take any whole mark from 0 to the maximum and no level. The error says the
/// allowed range.
pub fn check_mark(q: &Question, level: Option<i32>, mark: i32) -> Result<Option<i32>, String> {
    match q.kind {
        QuestionKind::Levels if !q.levels.is_empty() => {
            let Some(level) = level else {
                return Err(format!("Choose a level for question {} before giving a mark.", q.number));
            };
            let Some(band) = q.levels.iter().find(|l| l.level == level) else {
                let levels: Vec<String> = q.levels.iter().map(|l| l.level.to_string()).collect();
                return Err(format!("Question {} has no level {level}: its levels are {}.", q.number, levels.join(", ")));
            };
            if mark < band.min || mark > band.max {
                return Err(format!(
                    "Level {level} of question {} allows marks {} to {}; {mark} is outside it.",
                    q.number, band.min, band.max
                ));
            }
            Ok(Some(level))
        }
        _ => {
            if mark < 0 || mark > q.max_mark {
                return Err(format!("Question {} takes a mark from 0 to {}; {mark} is outside it.", q.number, q.max_mark));
            }
            if level.is_some() {
                return Err(format!("Question {} is not marked by levels: give a mark only.", q.number));
            }
            Ok(None)
        }
    }
}

/// The middle mark of a level's band: the scheme's own rule for an answer
/// that fits the level well (rounded up for bands of an even size).
pub fn middle_mark(min: i32, max: i32) -> i32 {
    min + (max - min + 1) / 2
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markscheme::Level;

    fn question() -> Question {
        Question {
            number: "01".into(),
            max_mark: 12,
            levels: vec![
                Level { level: 0, min: 0, max: 0, descriptor: String::new() },
                Level { level: 1, min: 1, max: 2, descriptor: String::new() },
                Level { level: 2, min: 3, max: 6, descriptor: String::new() },
                Level { level: 3, min: 7, max: 9, descriptor: String::new() },
                Level { level: 4, min: 10, max: 12, descriptor: String::new() },
            ],
            ..Question::default()
        }
    }

    #[test]
    fn marks_must_lie_in_the_levels_band() {
        let q = question();
        assert_eq!(check_mark(&q, Some(3), 8), Ok(Some(3)));
        assert_eq!(check_mark(&q, Some(3), 10).unwrap_err(), "Level 3 of question 01 allows marks 7 to 9; 10 is outside it.");
        assert!(check_mark(&q, Some(7), 8).unwrap_err().contains("has no level 7: its levels are 0, 1, 2, 3, 4"));
        assert!(check_mark(&q, None, 8).unwrap_err().contains("Choose a level"));
    }

    #[test]
    fn point_marked_questions_take_any_mark_to_the_maximum() {
        let q = Question { number: "05".into(), max_mark: 4, kind: QuestionKind::Points, ..Question::default() };
        assert_eq!(check_mark(&q, None, 4), Ok(None));
        assert!(check_mark(&q, None, 5).unwrap_err().contains("from 0 to 4"));
        assert!(check_mark(&q, None, -1).is_err());
        assert!(check_mark(&q, Some(1), 2).is_err());
    }

    #[test]
    fn middle_marks() {
        assert_eq!(middle_mark(7, 9), 8);
        assert_eq!(middle_mark(1, 6), 4);
        assert_eq!(middle_mark(0, 0), 0);
        assert_eq!(middle_mark(22, 24), 23);
    }
}
