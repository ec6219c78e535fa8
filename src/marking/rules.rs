//! The marking rules, pure: which level and mark a question allows, the
//! middle mark of a band, how far a mark is from the definitive one, and how
//! long the text people type may be.

use serde::{Deserialize, Serialize};

use crate::markscheme::{AoBands, Level, Question, QuestionKind};

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
/// Most parts (one per objective's grid) one mark may have; schemes have two or three.
pub const MAX_PARTS: usize = 20;
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

/// One objective's part of a mark on a question marked on separate grids
/// per assessment objective: the level and mark awarded on that grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Part {
    /// The grid's objectives as the scheme names them, e.g. "AO2" (or "AO1 + AO2" for a shared grid).
    pub ao: String,
    /// Level on that grid.
    pub level: i32,
    /// Mark within the level's band.
    pub mark: i32,
}

/// A level, mark and parts that the question allows, as they are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The level, for questions marked on one grid of levels.
    pub level: Option<i32>,
    /// The mark; for a question marked per objective, the sum of its parts.
    pub mark: i32,
    /// One part per grid, in the scheme's order (empty unless marked per objective).
    pub parts: Vec<Part>,
}

/// The name a grid is marked under: its objectives joined, as examiners read them.
pub fn grid_label(grid: &AoBands, index: usize) -> String {
    if grid.targets.is_empty() { format!("Grid {}", index + 1) } else { grid.targets.join(" + ") }
}

/// "ao2 " and "AO2" name the same grid.
fn same_label(a: &str, b: &str) -> bool {
    let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_uppercase).collect::<String>();
    squash(a) == squash(b)
}

/// Checks a level, mark and parts against a question. Levels-of-response
/// questions need a level, and the mark must lie in that level's band;
/// questions with separate grids per objective need a level and mark on
/// each grid, and their mark is the sum (a mark sent as well must equal it);
/// other questions take any whole mark from 0 to the maximum. The error says
/// what is allowed.
pub fn check_mark(q: &Question, level: Option<i32>, mark: Option<i32>, parts: &[Part]) -> Result<Checked, String> {
    let grids = if q.kind == QuestionKind::AoBands { q.ao_bands.as_slice() } else { &[] };
    if !parts.is_empty() && grids.is_empty() {
        return Err(format!("Question {} is not marked per assessment objective: give one mark, without parts.", q.number));
    }
    if parts.len() > MAX_PARTS {
        return Err(format!("A mark can have at most {MAX_PARTS} parts (this one has {}).", parts.len()));
    }
    if !grids.is_empty() {
        return check_parts(q, grids, level, mark, parts);
    }
    let Some(mark) = mark else {
        return Err(format!("Give a mark for question {}.", q.number));
    };
    match q.kind {
        QuestionKind::Levels if !q.levels.is_empty() => {
            let Some(level) = level else {
                return Err(format!("Choose a level for question {} before giving a mark.", q.number));
            };
            let band = band_of(&q.levels, level)
                .map_err(|levels| format!("Question {} has no level {level}: its levels are {levels}.", q.number))?;
            if mark < band.min || mark > band.max {
                return Err(format!(
                    "Level {level} of question {} allows marks {} to {}; {mark} is outside it.",
                    q.number, band.min, band.max
                ));
            }
            Ok(Checked { level: Some(level), mark, parts: Vec::new() })
        }
        _ => {
            if mark < 0 || mark > q.max_mark {
                return Err(format!("Question {} takes a mark from 0 to {}; {mark} is outside it.", q.number, q.max_mark));
            }
            if level.is_some() {
                return Err(format!("Question {} is not marked by levels: give a mark only.", q.number));
            }
            Ok(Checked { level: None, mark, parts: Vec::new() })
        }
    }
}

/// The band of `level`, or the levels there are (for the message).
fn band_of(levels: &[Level], level: i32) -> Result<&Level, String> {
    levels.iter().find(|l| l.level == level).ok_or_else(|| levels.iter().map(|l| l.level.to_string()).collect::<Vec<_>>().join(", "))
}

fn check_parts(q: &Question, grids: &[AoBands], level: Option<i32>, mark: Option<i32>, parts: &[Part]) -> Result<Checked, String> {
    let labels: Vec<String> = grids.iter().enumerate().map(|(i, g)| grid_label(g, i)).collect();
    if level.is_some() {
        return Err(format!(
            "Question {} is marked per assessment objective: give a level for each of {} rather than one level.",
            q.number,
            labels.join(", ")
        ));
    }
    if parts.is_empty() {
        return Err(format!(
            "Question {} is marked per assessment objective: give a level and mark for each of {}.",
            q.number,
            labels.join(", ")
        ));
    }
    let mut chosen: Vec<Option<&Part>> = vec![None; grids.len()];
    for part in parts {
        let Some(i) = labels.iter().position(|l| same_label(l, &part.ao)) else {
            return Err(format!("Question {} has no grid for {}: its grids are {}.", q.number, part.ao, labels.join(", ")));
        };
        if chosen[i].replace(part).is_some() {
            return Err(format!("{} is given twice for question {}: give each objective once.", labels[i], q.number));
        }
    }
    let missing: Vec<&str> = labels.iter().zip(&chosen).filter(|(_, c)| c.is_none()).map(|(l, _)| l.as_str()).collect();
    if !missing.is_empty() {
        return Err(format!("Give a level and mark for {} of question {} as well.", missing.join(" and "), q.number));
    }
    let mut out = Vec::with_capacity(grids.len());
    for ((grid, label), part) in grids.iter().zip(labels).zip(chosen) {
        let part = part.expect("every grid was checked to have a part");
        let band = band_of(&grid.levels, part.level)
            .map_err(|levels| format!("{label} of question {} has no level {}: its levels are {levels}.", q.number, part.level))?;
        if part.mark < band.min || part.mark > band.max {
            return Err(format!(
                "Level {} of {label} (question {}) allows marks {} to {}; {} is outside it.",
                part.level, q.number, band.min, band.max, part.mark
            ));
        }
        out.push(Part { ao: label, level: part.level, mark: part.mark });
    }
    let total: i32 = out.iter().map(|p| p.mark).sum();
    if let Some(m) = mark.filter(|m| *m != total) {
        return Err(format!("The parts of question {} add up to {total}, but the mark sent is {m}: the mark is their sum.", q.number));
    }
    if total > q.max_mark {
        return Err(format!("The parts of question {} add up to {total}, more than its {} marks.", q.number, q.max_mark));
    }
    Ok(Checked { level: None, mark: total, parts: out })
}

/// "AO1 L3 5 · AO2 L2 4": a mark's parts as one line, for tables and exports.
pub fn parts_text(parts: &[Part]) -> String {
    parts.iter().map(|p| format!("{} L{} {}", p.ao, p.level, p.mark)).collect::<Vec<_>>().join(" · ")
}

/// The middle mark of a level's band: the scheme's own rule for an answer
/// that fits the level well (rounded up for bands of an even size).
pub fn middle_mark(min: i32, max: i32) -> i32 {
    min + (max - min + 1) / 2
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn ok(level: Option<i32>, mark: i32) -> Result<Checked, String> {
        Ok(Checked { level, mark, parts: Vec::new() })
    }

    #[test]
    fn marks_must_lie_in_the_levels_band() {
        let q = question();
        assert_eq!(check_mark(&q, Some(3), Some(8), &[]), ok(Some(3), 8));
        assert_eq!(check_mark(&q, Some(3), Some(10), &[]).unwrap_err(), "Level 3 of question 01 allows marks 7 to 9; 10 is outside it.");
        assert!(check_mark(&q, Some(7), Some(8), &[]).unwrap_err().contains("has no level 7: its levels are 0, 1, 2, 3, 4"));
        assert!(check_mark(&q, None, Some(8), &[]).unwrap_err().contains("Choose a level"));
        assert!(check_mark(&q, Some(3), None, &[]).unwrap_err().contains("Give a mark"));
        let part = Part { ao: "AO1".into(), level: 3, mark: 8 };
        assert!(check_mark(&q, Some(3), Some(8), &[part]).unwrap_err().contains("not marked per assessment objective"));
    }

    #[test]
    fn point_marked_questions_take_any_mark_to_the_maximum() {
        let q = Question { number: "05".into(), max_mark: 4, kind: QuestionKind::Points, ..Question::default() };
        assert_eq!(check_mark(&q, None, Some(4), &[]), ok(None, 4));
        assert!(check_mark(&q, None, Some(5), &[]).unwrap_err().contains("from 0 to 4"));
        assert!(check_mark(&q, None, Some(-1), &[]).is_err());
        assert!(check_mark(&q, Some(1), Some(2), &[]).is_err());
    }

    /// WJEC-style: AO2 on bands 0–5, AO3 on bands 0, 1–2, 3–4; 9 marks in all.
    fn per_ao() -> Question {
        let grid = |ao: &str, bands: &[(i32, i32, i32)]| AoBands {
            targets: vec![ao.into()],
            levels: bands.iter().map(|&(level, min, max)| Level { level, min, max, descriptor: String::new() }).collect(),
        };
        Question {
            number: "3b".into(),
            max_mark: 9,
            kind: QuestionKind::AoBands,
            ao_bands: vec![grid("AO2", &[(0, 0, 0), (1, 1, 2), (2, 3, 5)]), grid("AO3", &[(0, 0, 0), (1, 1, 2), (2, 3, 4)])],
            ..Question::default()
        }
    }

    fn part(ao: &str, level: i32, mark: i32) -> Part {
        Part { ao: ao.into(), level, mark }
    }

    #[test]
    fn per_objective_questions_take_a_level_and_mark_per_grid_and_total_them() {
        let q = per_ao();
        let both = [part("ao3 ", 1, 2), part("AO2", 2, 4)];
        let checked = check_mark(&q, None, None, &both).unwrap();
        assert_eq!(checked.mark, 6, "the total is the sum");
        assert_eq!(checked.level, None);
        assert_eq!(checked.parts, vec![part("AO2", 2, 4), part("AO3", 1, 2)], "in the scheme's order, named as the scheme names them");
        assert_eq!(check_mark(&q, None, Some(6), &both).unwrap().mark, 6, "a matching total is accepted");
        assert!(check_mark(&q, None, Some(7), &both).unwrap_err().contains("add up to 6, but the mark sent is 7"));
        assert!(check_mark(&q, None, Some(6), &[]).unwrap_err().contains("give a level and mark for each of AO2, AO3"));
        assert!(check_mark(&q, None, None, &[part("AO2", 2, 4)]).unwrap_err().contains("for AO3 of question 3b as well"));
        assert!(check_mark(&q, None, None, &[part("AO2", 2, 4), part("AO2", 2, 3)]).unwrap_err().contains("given twice"));
        assert!(check_mark(&q, None, None, &[part("AO4", 1, 1), part("AO2", 2, 4)]).unwrap_err().contains("no grid for AO4"));
        assert_eq!(
            check_mark(&q, None, None, &[part("AO2", 1, 4), part("AO3", 0, 0)]).unwrap_err(),
            "Level 1 of AO2 (question 3b) allows marks 1 to 2; 4 is outside it."
        );
        assert!(
            check_mark(&q, None, None, &[part("AO2", 3, 4), part("AO3", 0, 0)]).unwrap_err().contains("AO2 of question 3b has no level 3")
        );
        assert!(check_mark(&q, Some(2), None, &both).unwrap_err().contains("rather than one level"));
        assert_eq!(parts_text(&checked.parts), "AO2 L2 4 · AO3 L1 2");
    }

    #[test]
    fn a_per_objective_question_without_grids_is_marked_as_a_whole() {
        let q = Question { number: "4".into(), max_mark: 6, kind: QuestionKind::AoBands, ..Question::default() };
        assert_eq!(check_mark(&q, None, Some(6), &[]), ok(None, 6));
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
