//! Krippendorff's alpha (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability"),
//! via the coincidence matrix, so units with missing values still contribute their pairs.
//!
//! alpha = 1 − (n − 1) · Σ o_ck δ²_ck / Σ n_c n_k δ²_ck, where n counts pairable values only.

/// Pairable units (≥ 2 values) with missing values removed; `None` if any value is non-finite.
fn pairable(units: &[Vec<Option<f64>>]) -> Option<Vec<Vec<f64>>> {
    let mut out = Vec::new();
    for unit in units {
        let vals: Vec<f64> = unit.iter().flatten().copied().collect();
        if vals.iter().any(|v| !v.is_finite()) {
            return None;
        }
        // A lone value has nobody to agree or disagree with, so it cannot enter the matrix.
        if vals.len() >= 2 {
            out.push(vals);
        }
    }
    Some(out)
}

/// Alpha for a difference function over indices into the sorted distinct values; `delta`
/// receives (values, counts n_c, c, k) so ordinal distances can use the marginals.
fn alpha_with(units: &[Vec<Option<f64>>], delta: impl Fn(&[f64], &[f64], usize, usize) -> f64) -> Option<f64> {
    let units = pairable(units)?;
    let mut values: Vec<f64> = units.iter().flatten().copied().collect();
    values.sort_unstable_by(f64::total_cmp);
    values.dedup();
    let idx = |v: f64| values.binary_search_by(|x| x.total_cmp(&v)).ok();
    let m = values.len();
    // Coincidence matrix: each ordered pair within a unit of m_u values weighs 1/(m_u − 1).
    let mut o = vec![vec![0.0_f64; m]; m];
    // Counting each unit's values first makes a unit cost O(m_u + distinct²)
    // rather than O(m_u²): a thousand examiners on one response is the normal case.
    let mut hist = vec![0.0_f64; m];
    for unit in &units {
        let w = 1.0 / (unit.len() - 1) as f64;
        hist.iter_mut().for_each(|h| *h = 0.0);
        for &v in unit {
            hist[idx(v)?] += 1.0;
        }
        for c in (0..m).filter(|&c| hist[c] > 0.0) {
            for k in (0..m).filter(|&k| hist[k] > 0.0) {
                // Ordered pairs of different coders: a value does not pair with itself.
                let pairs = if c == k { hist[c] * (hist[c] - 1.0) } else { hist[c] * hist[k] };
                o[c][k] += w * pairs;
            }
        }
    }
    let counts: Vec<f64> = o.iter().map(|row| row.iter().sum()).collect();
    let n: f64 = counts.iter().sum();
    if n < 2.0 {
        return None;
    }
    let (mut observed, mut expected) = (0.0, 0.0);
    for c in 0..m {
        for k in 0..m {
            let d = delta(&values, &counts, c, k);
            observed += o[c][k] * d;
            expected += counts[c] * counts[k] * d;
        }
    }
    // No expected disagreement (one value used throughout): alpha is 0/0, not a number.
    if expected.is_nan() || expected <= 0.0 || !observed.is_finite() {
        return None;
    }
    Some(1.0 - (n - 1.0) * observed / expected)
}

/// Krippendorff's alpha with the interval metric δ² = (c − k)²; `None` without pairable
/// values or when no disagreement is expected.
pub fn krippendorff_alpha_interval(units: &[Vec<Option<f64>>]) -> Option<f64> {
    alpha_with(units, |v, _, c, k| (v[c] - v[k]) * (v[c] - v[k]))
}

/// Krippendorff's alpha with the nominal metric (any difference counts 1).
pub fn krippendorff_alpha_nominal(units: &[Vec<Option<f64>>]) -> Option<f64> {
    alpha_with(units, |_, _, c, k| if c == k { 0.0 } else { 1.0 })
}

/// Krippendorff's alpha with the ordinal metric: distance is the number of values ranked
/// between c and k (half of each end), so only the order of marks matters.
pub fn krippendorff_alpha_ordinal(units: &[Vec<Option<f64>>]) -> Option<f64> {
    alpha_with(units, |_, n, c, k| {
        let (lo, hi) = (c.min(k), c.max(k));
        let between: f64 = n[lo..=hi].iter().sum::<f64>() - (n[lo] + n[hi]) / 2.0;
        between * between
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::fixtures::{self as fx, EXPECTED_6DP, PUBLISHED_3DP, assert_close};

    #[test]
    fn published_krippendorff_2011_example_c() {
        let ds = fx::load("krippendorff_2011_example_C");
        let units = fx::ratings_f64(&ds);
        assert_close(krippendorff_alpha_nominal(&units), 0.743, PUBLISHED_3DP, "nominal");
        assert_close(krippendorff_alpha_ordinal(&units), 0.815, PUBLISHED_3DP, "ordinal");
        assert_close(krippendorff_alpha_interval(&units), 0.849, PUBLISHED_3DP, "interval");
    }

    #[test]
    fn expected_values_on_every_fixture() {
        let mut interval_checked = 0;
        for (name, _) in fx::ALL {
            let ds = fx::load(name);
            let units = fx::ratings_f64(&ds);
            let nominal = fx::expected(&ds, &["krippendorff_alpha_nominal"]);
            assert_close(krippendorff_alpha_nominal(&units), nominal, EXPECTED_6DP, &format!("{name} nominal"));
            // Interval/ordinal alpha on category codes is meaningless (diagnoses is nominal).
            if !fx::is_numeric(&ds) {
                assert!(ds["expected"]["krippendorff_alpha_interval"].is_null());
                continue;
            }
            let interval = fx::expected(&ds, &["krippendorff_alpha_interval"]);
            let ordinal = fx::expected(&ds, &["krippendorff_alpha_ordinal"]);
            assert_close(krippendorff_alpha_interval(&units), interval, EXPECTED_6DP, &format!("{name} interval"));
            assert_close(krippendorff_alpha_ordinal(&units), ordinal, EXPECTED_6DP, &format!("{name} ordinal"));
            interval_checked += 1;
        }
        assert_eq!(interval_checked, 4);
    }

    #[test]
    fn edge_cases_are_none() {
        let none: Vec<Vec<Option<f64>>> = vec![];
        assert_eq!(krippendorff_alpha_interval(&none), None);
        // All missing, or only single-value units: nothing pairable.
        assert_eq!(krippendorff_alpha_interval(&[vec![None, None], vec![Some(1.0), None]]), None);
        // Everyone gave the same mark everywhere: De = 0.
        assert_eq!(krippendorff_alpha_interval(&[vec![Some(3.0), Some(3.0)], vec![Some(3.0), Some(3.0)]]), None);
        assert_eq!(krippendorff_alpha_nominal(&[vec![Some(3.0), Some(3.0)]]), None);
        assert_eq!(krippendorff_alpha_interval(&[vec![Some(1.0), Some(f64::NAN)]]), None);
        assert_eq!(krippendorff_alpha_ordinal(&[vec![]]), None);
    }

    #[test]
    fn perfect_agreement_is_one() {
        let units = vec![vec![Some(1.0), Some(1.0)], vec![Some(4.0), Some(4.0), None]];
        assert_eq!(krippendorff_alpha_interval(&units), Some(1.0));
    }
}
