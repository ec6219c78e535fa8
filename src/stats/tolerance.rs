//! Marking tolerances: the one home of every tolerance rule. The default band, the tolerance
//! in force when a meeting has set none, the bounds a tolerance must keep, whether a mark is
//! within tolerance, a data-driven suggestion, and pass rates per band. Everything else (the
//! meeting set-up, the marking pages and API, the dashboard, the examiner's tally) calls these;
//! none of them is re-coded in SQL.

/// Most bands `pass_rates` will produce, so a stray `up_to` cannot allocate without bound.
pub const MAX_PASS_RATE_BANDS: i32 = 10_000;

/// 10% of the maximum mark, rounded half away from zero, and at least 1 mark
/// (a zero tolerance would flag every difference on a short question).
pub fn default_tolerance(max_mark: i32) -> i32 {
    // Integer arithmetic keeps the .5 cases (e.g. 15 → 1.5 → 2) exact; i64 avoids overflow.
    let rounded = (i64::from(max_mark.max(0)) + 5) / 10;
    i32::try_from(rounded).unwrap_or(i32::MAX).max(1)
}

/// The tolerance in force for a question: the one the meeting set, else the default for its
/// maximum mark (a question added to the paper after the meeting was set up has none set).
pub fn tolerance_in_force(set: Option<i32>, max_mark: i32) -> i32 {
    set.unwrap_or_else(|| default_tolerance(max_mark))
}

/// Checks a tolerance a person chose for question `number`: a whole number of marks from 0 to
/// the question's maximum. The error is the message to show.
pub fn check_tolerance(number: &str, tolerance: i32, max_mark: i32) -> Result<(), String> {
    if (0..=max_mark).contains(&tolerance) {
        Ok(())
    } else {
        Err(format!("The tolerance of question {number} must be from 0 to its maximum mark, {max_mark} (not {tolerance})."))
    }
}

/// Whether a mark deviation lies inside the tolerance band (inclusive). A negative tolerance
/// counts as 0, because a band cannot be narrower than exact agreement.
pub fn within_tolerance(deviation: i32, tolerance: i32) -> bool {
    i64::from(deviation).abs() <= i64::from(tolerance.max(0))
}

/// Smallest whole t ≥ 0 such that at least 90% of |deviations| are ≤ t; `None` when empty.
pub fn suggested_tolerance(deviations: &[i32]) -> Option<i32> {
    let mut abs: Vec<u32> = deviations.iter().map(|d| d.unsigned_abs()).collect();
    // Need count ≥ 0.9·n, i.e. count ≥ ceil(9n/10); the answer is that order
    // statistic, which selection finds without sorting everything.
    let need = (9 * abs.len()).div_ceil(10);
    let k = need.checked_sub(1)?;
    if k >= abs.len() {
        return None;
    }
    let (_, t, _) = abs.select_nth_unstable(k);
    i32::try_from(*t).ok()
}

/// Who a suggested tolerance rests on, worked out with the same rule as
/// [`suggested_tolerance`], so that the words beside a suggestion can name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuggestionDrivers {
    /// The suggestion: `suggested_tolerance` of every deviation.
    pub suggested: i32,
    /// Who has a deviation of exactly the suggestion, with how many: the marks that
    /// set its value (the 90% point falls on them). Most first, then in the order of
    /// the examiners' indices. Empty when the suggestion is 0 (nothing to explain).
    pub setters: Vec<(usize, usize)>,
    /// Who alone holds it up: the examiners without whose deviations the suggestion
    /// would be lower, each with what it would be then (`None`: nobody else has a
    /// deviation). In the order of the examiners' indices.
    pub lowered_without: Vec<(usize, Option<i32>)>,
}

/// The drivers of the suggestion for `deviations` as (examiner index, mark −
/// definitive mark); `None` when there is no suggestion. Removing an examiner's
/// deviations is answered without sorting them again: with the count of every
/// distinct |deviation| (few: marks are small), the suggestion without them is
/// the smallest t at which the count of the others' |deviations| ≤ t reaches
/// 90% of the others, so a panel of thousands costs one pass over its deviations.
pub fn suggestion_drivers(deviations: &[(usize, i32)]) -> Option<SuggestionDrivers> {
    let all: Vec<i32> = deviations.iter().map(|&(_, d)| d).collect();
    let suggested = suggested_tolerance(&all)?;
    let mut drivers = SuggestionDrivers { suggested, setters: Vec::new(), lowered_without: Vec::new() };
    if suggested == 0 {
        return Some(drivers);
    }
    let s = suggested.unsigned_abs();
    // Every distinct |deviation| below the suggestion, with how many are at most it.
    let mut below: std::collections::BTreeMap<u32, usize> = std::collections::BTreeMap::new();
    for d in &all {
        let x = d.unsigned_abs();
        if x < s {
            *below.entry(x).or_default() += 1;
        }
    }
    let mut at_most_all = Vec::with_capacity(below.len());
    let mut running = 0;
    for (t, n) in below {
        running += n;
        at_most_all.push((t, running));
    }
    // Each examiner's |deviations|, grouped by examiner index in one counting pass.
    let examiners = deviations.iter().map(|&(e, _)| e + 1).max().unwrap_or(0);
    let mut start = vec![0usize; examiners + 1];
    for &(e, _) in deviations {
        start[e + 1] += 1;
    }
    for e in 0..examiners {
        start[e + 1] += start[e];
    }
    let mut next = start.clone();
    let mut grouped = vec![0u32; deviations.len()];
    for &(e, d) in deviations {
        grouped[next[e]] = d.unsigned_abs();
        next[e] += 1;
    }
    for e in 0..examiners {
        let mine = &mut grouped[start[e]..start[e + 1]];
        if mine.is_empty() {
            continue;
        }
        mine.sort_unstable();
        let setting = mine.iter().filter(|&&x| x == s).count();
        if setting > 0 {
            drivers.setters.push((e, setting));
        }
        // Only someone with a deviation at or beyond the suggestion can hold it up.
        if mine.last().is_none_or(|&x| x < s) {
            continue;
        }
        let rest = all.len() - mine.len();
        if rest == 0 {
            drivers.lowered_without.push((e, None));
            continue;
        }
        let need = (9 * rest).div_ceil(10);
        let lowered = at_most_all.iter().find(|&&(t, n)| n - mine.partition_point(|&x| x <= t) >= need);
        if let Some(&(t, _)) = lowered {
            drivers.lowered_without.push((e, i32::try_from(t).ok()));
        }
    }
    drivers.setters.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Some(drivers)
}

/// For each t in 0..=up_to, the share (0–1) of deviations with |d| ≤ t. Empty when there are
/// no deviations (no share exists) or `up_to` < 0; capped at `MAX_PASS_RATE_BANDS` bands.
pub fn pass_rates(deviations: &[i32], up_to: i32) -> Vec<(i32, f64)> {
    if deviations.is_empty() {
        return Vec::new();
    }
    let n = deviations.len() as f64;
    (0..=up_to.min(MAX_PASS_RATE_BANDS - 1))
        .map(|t| (t, deviations.iter().filter(|&&d| within_tolerance(d, t)).count() as f64 / n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_tolerance_table() {
        for (max, want) in [(12, 1), (24, 2), (40, 4), (5, 1), (15, 2), (25, 3), (14, 1), (1, 1), (0, 1), (-3, 1), (100, 10)] {
            assert_eq!(default_tolerance(max), want, "max mark {max}");
        }
        assert_eq!(default_tolerance(i32::MAX), 214_748_365);
    }

    #[test]
    fn tolerance_in_force_and_bounds() {
        assert_eq!(tolerance_in_force(Some(0), 24), 0, "a tolerance the meeting set, even 0, wins");
        assert_eq!(tolerance_in_force(None, 24), 2, "else the default");
        assert_eq!(check_tolerance("01", 0, 12), Ok(()));
        assert_eq!(check_tolerance("01", 12, 12), Ok(()));
        assert_eq!(
            check_tolerance("01", 13, 12).unwrap_err(),
            "The tolerance of question 01 must be from 0 to its maximum mark, 12 (not 13)."
        );
        assert!(check_tolerance("02", -1, 24).is_err());
    }

    #[test]
    fn suggested_tolerance_cases() {
        assert_eq!(suggested_tolerance(&[]), None);
        assert_eq!(suggested_tolerance(&[0]), Some(0));
        assert_eq!(suggested_tolerance(&[-3]), Some(3));
        // 10 deviations: 9 must be covered, so the single outlier is ignored.
        assert_eq!(suggested_tolerance(&[0, 0, 1, -1, 1, 0, 2, -2, 1, 9]), Some(2));
        // 11 deviations: ceil(9.9) = 10 must be covered, so the 10th smallest |d| decides.
        assert_eq!(suggested_tolerance(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 7]), Some(5));
        assert_eq!(suggested_tolerance(&[i32::MIN]), None, "|i32::MIN| is not an i32");
    }

    fn drivers(suggested: i32, setters: &[(usize, usize)], lowered_without: &[(usize, Option<i32>)]) -> Option<SuggestionDrivers> {
        Some(SuggestionDrivers { suggested, setters: setters.to_vec(), lowered_without: lowered_without.to_vec() })
    }

    #[test]
    fn who_drives_a_suggestion() {
        assert_eq!(suggestion_drivers(&[]), None);
        // Everyone exact: ±0 needs no explaining.
        assert_eq!(suggestion_drivers(&[(0, 0), (1, 0)]), drivers(0, &[], &[]));
        // One examiner's three deviations of 5 among 17 zeros: 18 of 20 must be covered, so ±5;
        // without them everyone else is exact.
        let mut devs: Vec<(usize, i32)> = (1..=17).map(|e| (e, 0)).collect();
        devs.extend([(0, 5), (0, -5), (0, 5)]);
        assert_eq!(suggestion_drivers(&devs), drivers(5, &[(0, 3)], &[(0, Some(0))]));
        // Two examiners with a deviation of 5 among 9 zeros: 10 of 11 must be covered, so ±5,
        // and leaving out either of them brings it down to 0.
        let mut devs: Vec<(usize, i32)> = (2..=10).map(|e| (e, 0)).collect();
        devs.extend([(0, 5), (1, -5)]);
        assert_eq!(suggestion_drivers(&devs), drivers(5, &[(0, 1), (1, 1)], &[(0, Some(0)), (1, Some(0))]));
        // Three examiners at 5 among 16 zeros: no single one holds it up.
        let mut devs: Vec<(usize, i32)> = (3..=18).map(|e| (e, 0)).collect();
        devs.extend([(0, 5), (1, 5), (2, -5)]);
        assert_eq!(suggestion_drivers(&devs), drivers(5, &[(0, 1), (1, 1), (2, 1)], &[]));
        // The one who sets it is not the one who holds it up: without 0 (at 5) the 9 beyond
        // it would count, so the suggestion would rise, not fall.
        let mut devs: Vec<(usize, i32)> = (2..=9).map(|e| (e, 0)).collect();
        devs.extend([(0, 5), (1, 9)]);
        assert_eq!(suggestion_drivers(&devs), drivers(5, &[(0, 1)], &[]));
        // A single examiner: nobody else to compare with.
        assert_eq!(suggestion_drivers(&[(4, 2), (4, -3)]), drivers(3, &[(4, 1)], &[(4, None)]));
    }

    proptest::proptest! {
        /// The quick answer is the rule itself, applied again without each examiner.
        #[test]
        fn drivers_agree_with_the_rule_applied_again(devs in proptest::collection::vec((0usize..6, -6i32..=6), 0..60)) {
            let Some(d) = suggestion_drivers(&devs) else {
                proptest::prop_assert!(devs.is_empty());
                return Ok(());
            };
            let all: Vec<i32> = devs.iter().map(|&(_, x)| x).collect();
            proptest::prop_assert_eq!(Some(d.suggested), suggested_tolerance(&all));
            let mut expected = Vec::new();
            for e in 0..6 {
                if d.suggested == 0 || !devs.iter().any(|&(who, _)| who == e) {
                    continue;
                }
                let others: Vec<i32> = devs.iter().filter(|&&(who, _)| who != e).map(|&(_, x)| x).collect();
                match suggested_tolerance(&others) {
                    None => expected.push((e, None)),
                    Some(t) if t < d.suggested => expected.push((e, Some(t))),
                    Some(_) => {}
                }
            }
            proptest::prop_assert_eq!(d.lowered_without, expected);
        }
    }

    #[test]
    fn pass_rates_cases() {
        let r = pass_rates(&[0, 1, -1, 3], 3);
        assert_eq!(r, vec![(0, 0.25), (1, 0.75), (2, 0.75), (3, 1.0)]);
        assert!(pass_rates(&[], 3).is_empty());
        assert!(pass_rates(&[1], -1).is_empty());
        assert_eq!(pass_rates(&[1], i32::MAX).len(), MAX_PASS_RATE_BANDS as usize);
        assert!(!within_tolerance(i32::MIN, i32::MAX));
        assert!(within_tolerance(0, -2), "negative tolerance acts as 0");
    }
}
