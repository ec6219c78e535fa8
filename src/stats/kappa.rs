//! Cohen's kappa between two examiners' whole marks.
//!
//! Quadratic weights make the kappa depend only on squared mark differences, so it is
//! computed from sums in O(n) instead of building a (max − min + 1)² confusion matrix —
//! a pathological `min`/`max` cannot exhaust memory.

use std::collections::BTreeMap;

/// Quadratic-weighted kappa given marks already mapped to scale positions.
fn quadratic_from_positions(a: &[i64], b: &[i64]) -> Option<f64> {
    if a.len() != b.len() || a.is_empty() {
        return None;
    }
    let n = a.len() as f64;
    let (a, b): (Vec<f64>, Vec<f64>) = (a.iter().map(|&x| x as f64).collect(), b.iter().map(|&x| x as f64).collect());
    // Observed: mean squared difference of paired marks.
    let observed = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>() / n;
    // Expected under independence: mean of (a_i − b_j)² over all i, j
    // = E[a²] − 2·E[a]·E[b] + E[b²]; written via centred terms to limit cancellation.
    let ma = a.iter().sum::<f64>() / n;
    let mb = b.iter().sum::<f64>() / n;
    let va = a.iter().map(|x| (x - ma) * (x - ma)).sum::<f64>() / n;
    let vb = b.iter().map(|y| (y - mb) * (y - mb)).sum::<f64>() / n;
    let expected = va + vb + (ma - mb) * (ma - mb);
    if expected.is_nan() || expected <= 0.0 || !observed.is_finite() {
        return None;
    }
    Some(1.0 - observed / expected)
}

/// Quadratic-weighted Cohen's kappa over the full mark scale `min..=max`; `None` when lengths
/// differ, input is empty, a mark lies outside the scale, or no disagreement is expected.
pub fn quadratic_weighted_kappa(a: &[i32], b: &[i32], min: i32, max: i32) -> Option<f64> {
    if min > max || a.iter().chain(b).any(|m| !(min..=max).contains(m)) {
        return None;
    }
    // Weights depend on mark differences only, so positions are the marks themselves.
    let pos = |xs: &[i32]| xs.iter().map(|&x| i64::from(x)).collect::<Vec<_>>();
    quadratic_from_positions(&pos(a), &pos(b))
}

/// Quadratic-weighted kappa over the levels actually used (irr / sklearn default): unused marks
/// are skipped, so a 4→6 gap counts as one step when nobody gave a 5.
pub fn quadratic_weighted_kappa_observed_levels(a: &[i32], b: &[i32]) -> Option<f64> {
    let mut levels: Vec<i32> = a.iter().chain(b).copied().collect();
    levels.sort_unstable();
    levels.dedup();
    let pos = |xs: &[i32]| xs.iter().map(|x| levels.binary_search(x).map(|i| i as i64)).collect::<Result<Vec<_>, _>>().ok();
    quadratic_from_positions(&pos(a)?, &pos(b)?)
}

/// Unweighted Cohen's kappa (exact agreement only); `None` when lengths differ, input is
/// empty, or chance agreement is total (both examiners gave one identical mark throughout).
pub fn cohen_kappa_unweighted(a: &[i32], b: &[i32]) -> Option<f64> {
    if a.len() != b.len() || a.is_empty() {
        return None;
    }
    let n = a.len() as f64;
    let agree = a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / n;
    let mut ca: BTreeMap<i32, f64> = BTreeMap::new();
    let mut cb: BTreeMap<i32, f64> = BTreeMap::new();
    for (&x, &y) in a.iter().zip(b) {
        *ca.entry(x).or_default() += 1.0;
        *cb.entry(y).or_default() += 1.0;
    }
    let chance: f64 = ca.iter().map(|(k, &c)| c * cb.get(k).copied().unwrap_or(0.0)).sum::<f64>() / (n * n);
    if chance >= 1.0 {
        return None;
    }
    Some((agree - chance) / (1.0 - chance))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::fixtures::{self as fx, EXPECTED_6DP, PUBLISHED_3DP, assert_close};

    /// Runs `f` on every rater pair of every fixture that has `key`, checking the stored value.
    fn check_all_pairs(key: &str, f: impl Fn(&serde_json::Value, &[i32], &[i32]) -> Option<f64>) -> usize {
        let mut checked = 0;
        for (name, _) in fx::ALL {
            let ds = fx::load(name);
            let Some(map) = ds["expected"][key].as_object() else {
                continue;
            };
            let raters = fx::raters(&ds);
            for i in 0..raters.len() {
                for j in i + 1..raters.len() {
                    let pair = format!("{}_vs_{}", raters[i], raters[j]);
                    let want = map[&pair].as_f64().expect("number");
                    let (a, b) = fx::pair_marks(&ds, i, j);
                    assert_close(f(&ds, &a, &b), want, EXPECTED_6DP, &format!("{name} {key} {pair}"));
                    checked += 1;
                }
            }
        }
        checked
    }

    #[test]
    fn full_scale_quadratic_matches_every_fixture_pair() {
        let n = check_all_pairs("cohen_kappa_quadratic_full_scale", |ds, a, b| {
            let (lo, hi) = (ds["scale"]["min"].as_i64()?, ds["scale"]["max"].as_i64()?);
            quadratic_weighted_kappa(a, b, lo as i32, hi as i32)
        });
        assert_eq!(n, 3 + 6 + 6 + 6);
    }

    #[test]
    fn observed_levels_quadratic_matches_every_fixture_pair() {
        let n = check_all_pairs("cohen_kappa_quadratic_observed_levels", |_, a, b| quadratic_weighted_kappa_observed_levels(a, b));
        assert_eq!(n, 3 + 15 + 6 + 6 + 6);
    }

    #[test]
    fn unweighted_matches_every_fixture_pair() {
        check_all_pairs("cohen_kappa_unweighted", |_, a, b| cohen_kappa_unweighted(a, b));
    }

    #[test]
    fn published_irr_values() {
        let ds = fx::load("irr_anxiety");
        let (r1, r2) = fx::pair_marks(&ds, 0, 1);
        let (q2, q3) = fx::pair_marks(&ds, 1, 2);
        assert_close(quadratic_weighted_kappa(&r1, &r2, 1, 6), 0.297, PUBLISHED_3DP, "anxiety r1/r2 squared");
        // irr weights by observed level, which differs from the full 1–6 scale here (fixture note 1).
        assert_close(quadratic_weighted_kappa_observed_levels(&q2, &q3), 0.2520325, 1e-7, "anxiety r2/r3 irr");
        assert_close(quadratic_weighted_kappa(&q2, &q3, 1, 6), 0.229798, EXPECTED_6DP, "anxiety r2/r3 full");
        assert_close(cohen_kappa_unweighted(&q2, &q3), -0.006289308, 1e-7, "anxiety r2/r3 unweighted");
        let dx = fx::load("irr_diagnoses");
        let (d2, d3) = fx::pair_marks(&dx, 1, 2);
        assert_close(cohen_kappa_unweighted(&d2, &d3), 0.631, PUBLISHED_3DP, "diagnoses r2/r3");
    }

    #[test]
    fn edge_cases_are_none() {
        assert_eq!(quadratic_weighted_kappa(&[], &[], 0, 10), None);
        assert_eq!(quadratic_weighted_kappa(&[1, 2], &[1], 0, 10), None);
        assert_eq!(quadratic_weighted_kappa(&[3, 3], &[3, 3], 0, 10), None);
        assert_eq!(quadratic_weighted_kappa(&[1, 11], &[1, 2], 0, 10), None);
        assert_eq!(quadratic_weighted_kappa(&[1], &[1], 5, 0), None);
        assert_eq!(quadratic_weighted_kappa_observed_levels(&[4, 4], &[4, 4]), None);
        assert_eq!(cohen_kappa_unweighted(&[2, 2], &[2, 2]), None);
        assert_eq!(cohen_kappa_unweighted(&[], &[]), None);
        // Extreme scale bounds must not overflow or allocate.
        assert!(quadratic_weighted_kappa(&[i32::MIN, i32::MAX], &[i32::MAX, i32::MIN], i32::MIN, i32::MAX).is_some());
    }

    #[test]
    fn perfect_agreement_is_one() {
        assert_eq!(quadratic_weighted_kappa(&[0, 5, 10], &[0, 5, 10], 0, 10), Some(1.0));
    }
}
