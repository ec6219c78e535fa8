//! The marking rules, pure: which level and mark a question allows, the
//! middle mark of a band, how far a mark is from the definitive one, and how
//! long the text people type may be.

use crate::markscheme::{Question, QuestionKind};

/// Tolerance rules live with the statistics (`stats::tolerance` is their one
/// home); marking uses the same ones.
pub use crate::stats::{check_tolerance, default_tolerance, tolerance_in_force, within_tolerance};

/// The longest an examiner's comment (rationale for their mark) may be, in characters.
pub const MAX_COMMENT_CHARS: usize = 20_000;
/// The longest a definitive mark's rationale may be, in characters.
pub const MAX_RATIONALE_CHARS: usize = 20_000;
/// The longest a reason (for reopening a mark, for changing a definitive mark after release) may be, in characters.
pub const MAX_REASON_CHARS: usize = 2_000;
/// The longest a meeting's name may be, in characters.
pub const MAX_MEETING_NAME_CHARS: usize = 200;
/// Most indicative-content points one mark may credit.
pub const MAX_CREDITED_POINTS: usize = 100;
/// The longest one credited point may be, in characters.
pub const MAX_CREDITED_POINT_CHARS: usize = 1_000;

/// Checks that `text` is at most `max` characters (not bytes). `label` starts
/// the message, e.g. "A comment"; the error is the message to show.
pub fn check_len(label: &str, text: &str, max: usize) -> Result<(), String> {
    let n = text.chars().count();
    if n <= max { Ok(()) } else { Err(format!("{label} can be at most {} characters (this one has {}).", thousands(max), thousands(n))) }
}

/// Checks how many indicative-content points one mark credits: at most
/// `MAX_CREDITED_POINTS`, whether they come as ids or as text. Points given
/// as text are also checked one by one with
/// `check_len("A credited point", p, MAX_CREDITED_POINT_CHARS)`.
pub fn check_credited<T>(points: &[T]) -> Result<(), String> {
    if points.len() > MAX_CREDITED_POINTS {
        return Err(format!(
            "A mark can credit at most {MAX_CREDITED_POINTS} points of the indicative content (this one credits {}).",
            points.len()
        ));
    }
    Ok(())
}

/// 20000 → "20,000", for messages.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

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
    fn text_lengths_are_counted_in_characters() {
        assert_eq!(check_len("A comment", &"é".repeat(MAX_COMMENT_CHARS), MAX_COMMENT_CHARS), Ok(()), "characters, not bytes");
        assert_eq!(
            check_len("A comment", &"a".repeat(MAX_COMMENT_CHARS + 1), MAX_COMMENT_CHARS).unwrap_err(),
            "A comment can be at most 20,000 characters (this one has 20,001)."
        );
        assert_eq!(check_len("A name", "abc", 2).unwrap_err(), "A name can be at most 2 characters (this one has 3).");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn credited_lists_are_bounded() {
        assert_eq!(check_credited::<String>(&[]), Ok(()));
        assert_eq!(check_credited(&vec!["point".to_owned(); MAX_CREDITED_POINTS]), Ok(()));
        assert!(check_credited(&vec!["point".to_owned(); MAX_CREDITED_POINTS + 1]).unwrap_err().contains("at most 100 points"));
        assert_eq!(check_credited(&[uuid::Uuid::nil(); MAX_CREDITED_POINTS]), Ok(()), "ids count the same");
        let long_point = "x".repeat(MAX_CREDITED_POINT_CHARS + 1);
        assert!(
            check_len("A credited point", &long_point, MAX_CREDITED_POINT_CHARS)
                .unwrap_err()
                .starts_with("A credited point can be at most 1,000")
        );
    }

    #[test]
    fn middle_marks() {
        assert_eq!(middle_mark(7, 9), 8);
        assert_eq!(middle_mark(1, 6), 4);
        assert_eq!(middle_mark(0, 0), 0);
        assert_eq!(middle_mark(22, 24), 23);
    }
}
