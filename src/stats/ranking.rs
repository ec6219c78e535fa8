//! Per-response summaries and the "discuss next" order for the standardisation meeting:
//! responses where most examiners fall outside tolerance come first.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::descriptive::{as_f64, mean, median, sd};
use super::tolerance::within_tolerance;

/// How the examiners marked one response (script/answer).
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseSummary {
    /// Number of examiner marks.
    pub n: usize,
    /// Mean mark.
    pub mean: Option<f64>,
    /// Median mark.
    pub median: Option<f64>,
    /// Sample SD of the marks (None when n < 2).
    pub sd: Option<f64>,
    /// Lowest mark.
    pub min: Option<i32>,
    /// Highest mark.
    pub max: Option<i32>,
    /// How many examiners chose each level, ascending by level.
    pub level_counts: Vec<(i32, usize)>,
    /// Marks outside tolerance of the definitive mark; None until a definitive mark exists.
    pub outside_tolerance: Option<usize>,
    /// Number of distinct levels used.
    pub level_spread: usize,
}

/// Summarises `(mark, level)` pairs for one response against an optional definitive mark.
pub fn summarise_response(marks: &[(i32, Option<i32>)], definitive: Option<i32>, tolerance: i32) -> ResponseSummary {
    let values: Vec<i32> = marks.iter().map(|&(m, _)| m).collect();
    let xs = as_f64(&values);
    let mut counts: BTreeMap<i32, usize> = BTreeMap::new();
    for level in marks.iter().filter_map(|&(_, l)| l) {
        *counts.entry(level).or_default() += 1;
    }
    // Deviation in i64 so extreme marks cannot overflow.
    let outside = definitive.map(|d| {
        values.iter().filter(|&&m| i32::try_from(i64::from(m) - i64::from(d)).map_or(true, |dev| !within_tolerance(dev, tolerance))).count()
    });
    ResponseSummary {
        n: marks.len(),
        mean: mean(&xs),
        median: median(&xs),
        sd: sd(&xs),
        min: values.iter().copied().min(),
        max: values.iter().copied().max(),
        level_spread: counts.len(),
        level_counts: counts.into_iter().collect(),
        outside_tolerance: outside,
    }
}

/// Descending order on optional values with `None` last.
fn desc_none_last<T: PartialOrd>(a: Option<T>, b: Option<T>) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => y.partial_cmp(&x).unwrap_or(Ordering::Equal),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Indices of `summaries` in discussion order: most outside tolerance first (unknown last),
/// then most levels used, then largest SD (unknown last); ties keep their original order.
pub fn discussion_order(summaries: &[ResponseSummary]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..summaries.len()).collect();
    // sort_by is stable, which gives the documented tie behaviour.
    idx.sort_by(|&i, &j| {
        let (a, b) = (&summaries[i], &summaries[j]);
        desc_none_last(a.outside_tolerance, b.outside_tolerance)
            .then_with(|| b.level_spread.cmp(&a.level_spread))
            .then_with(|| desc_none_last(a.sd, b.sd))
    });
    idx
}

/// Plain-words reason a response is worth discussing, e.g.
/// "4 of 9 examiners outside tolerance (±2); marks span 3 levels; SD 2.8".
pub fn discussion_reason(s: &ResponseSummary, tolerance: i32) -> String {
    if s.n == 0 {
        return "no marks yet".to_string();
    }
    let examiners = if s.n == 1 { "examiner" } else { "examiners" };
    let mut parts = vec![match s.outside_tolerance {
        Some(k) => format!("{k} of {} {examiners} outside tolerance (±{tolerance})", s.n),
        None => format!("no definitive mark yet ({} {examiners})", s.n),
    }];
    match s.level_spread {
        0 => {}
        1 => parts.push("all marks in one level".to_string()),
        k => parts.push(format!("marks span {k} levels")),
    }
    match (s.min, s.max) {
        (Some(lo), Some(hi)) if lo != hi => parts.push(format!("marks {lo}–{hi}")),
        _ => {}
    }
    if let Some(sd) = s.sd {
        parts.push(format!("SD {sd:.1}"));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_figures() {
        let marks = [(5, Some(2)), (7, Some(3)), (9, Some(3)), (3, Some(1)), (6, None)];
        let s = summarise_response(&marks, Some(6), 1);
        assert_eq!(s.n, 5);
        assert_eq!(s.mean, Some(6.0));
        assert_eq!(s.median, Some(6.0));
        assert!((s.sd.unwrap() - 5f64.sqrt()).abs() < 1e-12);
        assert_eq!((s.min, s.max), (Some(3), Some(9)));
        assert_eq!(s.level_counts, vec![(1, 1), (2, 1), (3, 2)]);
        assert_eq!(s.level_spread, 3);
        assert_eq!(s.outside_tolerance, Some(2), "9 and 3 are more than 1 from 6");
        assert_eq!(discussion_reason(&s, 1), "2 of 5 examiners outside tolerance (±1); marks span 3 levels; marks 3–9; SD 2.2");
        assert_eq!(summarise_response(&marks, None, 1).outside_tolerance, None);
    }

    #[test]
    fn empty_and_single_mark() {
        let e = summarise_response(&[], Some(4), 1);
        assert_eq!((e.n, e.mean, e.median, e.sd, e.min, e.max), (0, None, None, None, None, None));
        assert_eq!(e.outside_tolerance, Some(0));
        assert_eq!(e.level_spread, 0);
        assert_eq!(discussion_reason(&e, 1), "no marks yet");
        let one = summarise_response(&[(4, Some(2))], None, 1);
        assert_eq!(one.sd, None);
        assert_eq!(discussion_reason(&one, 1), "no definitive mark yet (1 examiner); all marks in one level");
        let extreme = summarise_response(&[(i32::MAX, None), (i32::MIN, None)], Some(i32::MIN), i32::MAX);
        assert_eq!(extreme.outside_tolerance, Some(1));
    }

    fn summary(outside: Option<usize>, spread: usize, sd: Option<f64>) -> ResponseSummary {
        ResponseSummary {
            n: 5,
            mean: None,
            median: None,
            sd,
            min: None,
            max: None,
            level_counts: vec![],
            outside_tolerance: outside,
            level_spread: spread,
        }
    }

    #[test]
    fn discussion_order_keys_and_ties() {
        let s = vec![
            summary(None, 5, Some(9.0)),    // 0: unknown outside goes last despite big spread
            summary(Some(2), 1, Some(1.0)), // 1
            summary(Some(4), 1, None),      // 2: most outside first
            summary(Some(2), 3, None),      // 3: same outside as 1, more levels
            summary(Some(2), 1, Some(2.0)), // 4: beats 1 on SD
            summary(Some(2), 1, None),      // 5: SD unknown after 1 and 4
            summary(Some(2), 1, Some(1.0)), // 6: exact tie with 1, stays after it
            summary(None, 5, Some(9.0)),    // 7: exact tie with 0, stays after it
        ];
        assert_eq!(discussion_order(&s), vec![2, 3, 4, 1, 6, 5, 0, 7]);
        assert!(discussion_order(&[]).is_empty());
    }
}
