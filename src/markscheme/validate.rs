//! Structural rules a scheme must satisfy before it can be used for marking.
//! Pure: the same checks run on parsed documents and on hand-written JSON.

use super::model::{Level, Question, QuestionKind, Scheme, ValidationError};
use std::collections::HashSet;

/// Checks a scheme against the spec's rules; empty means valid.
pub fn validate(scheme: &Scheme) -> Vec<ValidationError> {
    let mut errs = Vec::new();
    let mut seen = HashSet::new();
    if scheme.questions.is_empty() {
        errs.push(err(None, None, "the scheme has no questions"));
    }
    for q in &scheme.questions {
        let qn = Some(q.number.clone());
        if q.number.trim().is_empty() {
            errs.push(err(None, None, "a question has no number"));
        } else if !seen.insert(q.number.trim().to_string()) {
            errs.push(err(qn.clone(), None, "question number is used more than once"));
        }
        if q.max_mark <= 0 {
            errs.push(err(qn.clone(), None, &format!("maximum mark must be greater than 0 (is {})", q.max_mark)));
        }
        match q.kind {
            QuestionKind::Levels => check_grid(&q.levels, q.max_mark, q, &mut errs, ""),
            QuestionKind::Points => {
                if !q.levels.is_empty() || !q.ao_bands.is_empty() {
                    errs.push(err(qn.clone(), None, "a point-marked question must not have levels"));
                }
            }
            QuestionKind::AoBands => check_ao_bands(q, &mut errs),
        }
    }
    errs
}

/// Builds an error.
fn err(question: Option<String>, band: Option<i32>, message: &str) -> ValidationError {
    ValidationError { question, band, message: message.to_string() }
}

/// Per-AO grids: each contiguous from 0, maxima adding up to the question maximum.
fn check_ao_bands(q: &Question, errs: &mut Vec<ValidationError>) {
    let qn = Some(q.number.clone());
    if !q.levels.is_empty() {
        errs.push(err(qn.clone(), None, "an ao_bands question keeps its bands in ao_bands, not levels"));
    }
    if q.ao_bands.is_empty() {
        errs.push(err(qn.clone(), None, "an ao_bands question has no grids"));
        return;
    }
    let mut total = 0i64;
    for g in &q.ao_bands {
        let top = g.levels.iter().map(|l| l.max).max().unwrap_or(0);
        total += i64::from(top);
        let label = format!("{} grid: ", g.targets.join("/"));
        check_grid(&g.levels, top, q, errs, &label);
    }
    if total != i64::from(q.max_mark) {
        errs.push(err(qn, None, &format!("the AO grids add up to {total} marks but the question is worth {}", q.max_mark)));
    }
}

/// One grid: non-empty, sorted, unique level numbers, contiguous 0..=max.
fn check_grid(levels: &[Level], max: i32, q: &Question, errs: &mut Vec<ValidationError>, prefix: &str) {
    let qn = || Some(q.number.clone());
    if levels.is_empty() {
        errs.push(err(qn(), None, &format!("{prefix}a levels question needs at least one band")));
        return;
    }
    let mut nums = HashSet::new();
    for l in levels {
        if !nums.insert(l.level) {
            errs.push(err(qn(), Some(l.level), &format!("{prefix}level number appears more than once")));
        }
        if l.min > l.max {
            errs.push(err(qn(), Some(l.level), &format!("{prefix}band {}-{} runs backwards", l.min, l.max)));
        }
    }
    let mut by_marks: Vec<&Level> = levels.iter().collect();
    by_marks.sort_by_key(|l| (l.min, l.max));
    if let Some(first) = by_marks.first()
        && first.min != 0
    {
        errs.push(err(qn(), Some(first.level), &format!("{prefix}the lowest band starts at {} instead of 0", first.min)));
    }
    for w in by_marks.windows(2) {
        let (a, b) = (w[0], w[1]);
        if i64::from(b.min) <= i64::from(a.max) {
            errs.push(err(
                qn(),
                Some(b.level),
                &format!("{prefix}band {}-{} overlaps level {} ({}-{})", b.min, b.max, a.level, a.min, a.max),
            ));
        } else if i64::from(b.min) != i64::from(a.max) + 1 {
            errs.push(err(
                qn(),
                Some(b.level),
                &format!("{prefix}gap: marks {}-{} belong to no band", i64::from(a.max) + 1, i64::from(b.min) - 1),
            ));
        }
        if b.level <= a.level {
            errs.push(err(
                qn(),
                Some(b.level),
                &format!("{prefix}level numbers must increase with marks (level {} is above level {})", b.level, a.level),
            ));
        }
    }
    if let Some(last) = by_marks.last()
        && last.max != max
    {
        errs.push(err(qn(), Some(last.level), &format!("{prefix}the top band ends at {} but the maximum mark is {max}", last.max)));
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::*;
    use super::*;

    fn lv(level: i32, min: i32, max: i32) -> Level {
        Level { level, min, max, descriptor: String::new() }
    }

    fn q(levels: Vec<Level>, max: i32) -> Question {
        Question { number: "02".into(), max_mark: max, levels, ..Question::default() }
    }

    fn scheme(qs: Vec<Question>) -> Scheme {
        Scheme { questions: qs, ..Scheme::default() }
    }

    #[test]
    fn good_grid_passes() {
        assert!(validate(&scheme(vec![q(vec![lv(0, 0, 0), lv(1, 1, 2), lv(2, 3, 6)], 6)])).is_empty());
    }

    #[test]
    fn gaps_overlaps_and_ends_are_reported_with_band() {
        let e = validate(&scheme(vec![q(vec![lv(0, 0, 0), lv(1, 1, 3), lv(2, 3, 6), lv(3, 8, 9)], 10)]));
        let s: Vec<String> = e.iter().map(|e| e.to_string()).collect();
        assert!(s.contains(&"Question 02, level 2: band 3-6 overlaps level 1 (1-3)".to_string()), "{s:?}");
        assert!(s.iter().any(|m| m.starts_with("Question 02, level 3: gap: marks 7-7")), "{s:?}");
        assert!(s.iter().any(|m| m.starts_with("Question 02, level 3: the top band ends at 9")), "{s:?}");
    }

    #[test]
    fn start_order_duplicates_and_max() {
        let e = validate(&scheme(vec![q(vec![lv(1, 1, 2), lv(1, 3, 4)], 4), q(vec![lv(2, 0, 1), lv(1, 2, 3)], 0)]));
        let s: Vec<String> = e.iter().map(|e| e.to_string()).collect();
        assert!(s.iter().any(|m| m.contains("starts at 1 instead of 0")), "{s:?}");
        assert!(s.iter().any(|m| m.contains("level number appears more than once")), "{s:?}");
        assert!(s.iter().any(|m| m == "Question 02: question number is used more than once"), "{s:?}");
        assert!(s.iter().any(|m| m.contains("must increase")), "{s:?}");
        assert!(s.iter().any(|m| m.contains("greater than 0")), "{s:?}");
    }

    #[test]
    fn points_and_ao_bands() {
        let mut p = q(vec![lv(0, 0, 0)], 4);
        p.kind = QuestionKind::Points;
        let mut a = q(vec![], 15);
        a.number = "3".into();
        a.kind = QuestionKind::AoBands;
        a.ao_bands = vec![
            AoBands { targets: vec!["AO1".into()], levels: vec![lv(0, 0, 0), lv(1, 1, 5)] },
            AoBands { targets: vec!["AO2".into()], levels: vec![lv(0, 0, 0), lv(1, 1, 9)] },
        ];
        let s: Vec<String> = validate(&scheme(vec![p, a])).iter().map(|e| e.to_string()).collect();
        assert_eq!(
            s,
            vec![
                "Question 02: a point-marked question must not have levels",
                "Question 3: the AO grids add up to 14 marks but the question is worth 15"
            ]
        );
    }
}
