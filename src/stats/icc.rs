//! Intraclass correlations from the two-way ANOVA (Shrout & Fleiss 1979; McGraw & Wong 1996).
//! Rows are units (scripts), columns are raters (examiners); complete rows only.

/// Mean squares of the two-way layout: (rows, columns, error, k, n).
struct MeanSquares {
    msr: f64,
    msc: f64,
    mse: f64,
    n: f64,
    k: f64,
}

/// Two-way ANOVA mean squares; `None` unless ≥ 2 rows, ≥ 2 equal-length columns, all finite,
/// and the ratings are not all identical (no variance to apportion).
fn mean_squares(matrix: &[Vec<f64>]) -> Option<MeanSquares> {
    let n = matrix.len();
    let k = matrix.first()?.len();
    if n < 2 || k < 2 || matrix.iter().any(|r| r.len() != k || r.iter().any(|x| !x.is_finite())) {
        return None;
    }
    let first = matrix[0][0];
    if matrix.iter().flatten().all(|&x| x == first) {
        return None;
    }
    let (nf, kf) = (n as f64, k as f64);
    let grand = matrix.iter().flatten().sum::<f64>() / (nf * kf);
    let row_means: Vec<f64> = matrix.iter().map(|r| r.iter().sum::<f64>() / kf).collect();
    let col_means: Vec<f64> = (0..k).map(|j| matrix.iter().map(|r| r[j]).sum::<f64>() / nf).collect();
    let ssr = kf * row_means.iter().map(|m| (m - grand).powi(2)).sum::<f64>();
    let ssc = nf * col_means.iter().map(|m| (m - grand).powi(2)).sum::<f64>();
    // Error SS from residuals directly (not SST − SSR − SSC) so a perfect fit gives ~0, never < 0.
    let sse: f64 = matrix
        .iter()
        .enumerate()
        .flat_map(|(i, r)| r.iter().enumerate().map(move |(j, x)| (i, j, *x)))
        .map(|(i, j, x)| (x - row_means[i] - col_means[j] + grand).powi(2))
        .sum();
    let ms = MeanSquares { msr: ssr / (nf - 1.0), msc: ssc / (kf - 1.0), mse: sse / ((nf - 1.0) * (kf - 1.0)), n: nf, k: kf };
    [ms.msr, ms.msc, ms.mse].iter().all(|x| x.is_finite()).then_some(ms)
}

/// numerator / denominator unless the denominator is zero up to rounding of the data's scale.
fn ratio(num: f64, den: f64, scale: f64) -> Option<f64> {
    (den > 1e-12 * scale).then(|| num / den)
}

/// ICC(A,1) (= Shrout & Fleiss ICC(2,1)): two-way random effects, absolute agreement, single
/// rater. Penalises examiners who are consistently harsher or more lenient.
pub fn icc_a1(matrix: &[Vec<f64>]) -> Option<f64> {
    let s = mean_squares(matrix)?;
    let den = s.msr + (s.k - 1.0) * s.mse + s.k * (s.msc - s.mse) / s.n;
    ratio(s.msr - s.mse, den, s.msr + s.msc + s.mse)
}

/// ICC(C,1) (= Shrout & Fleiss ICC(3,1)): two-way, consistency, single rater. Ignores a
/// constant offset between examiners, so it only measures whether they rank scripts alike.
pub fn icc_c1(matrix: &[Vec<f64>]) -> Option<f64> {
    let s = mean_squares(matrix)?;
    let den = s.msr + (s.k - 1.0) * s.mse;
    ratio(s.msr - s.mse, den, s.msr + s.msc + s.mse)
}

/// Units that every coder rated, as a complete matrix (the ANOVA cannot handle gaps).
fn complete_units(units: &[Vec<Option<f64>>]) -> Vec<Vec<f64>> {
    units.iter().filter_map(|u| u.iter().copied().collect::<Option<Vec<f64>>>()).collect()
}

/// ICC(A,1) over only the units every coder rated.
pub fn icc_a1_complete_units(units: &[Vec<Option<f64>>]) -> Option<f64> {
    icc_a1(&complete_units(units))
}

/// ICC(C,1) over only the units every coder rated.
pub fn icc_c1_complete_units(units: &[Vec<Option<f64>>]) -> Option<f64> {
    icc_c1(&complete_units(units))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::fixtures::{self as fx, EXPECTED_6DP, PUBLISHED_3DP, assert_close};

    #[test]
    fn published_shrout_fleiss_1979() {
        let ds = fx::load("shrout_fleiss_1979");
        let units = fx::ratings_f64(&ds);
        assert_close(icc_a1_complete_units(&units), 0.290, PUBLISHED_3DP, "ICC(2,1)");
        assert_close(icc_c1_complete_units(&units), 0.715, PUBLISHED_3DP, "ICC(3,1)");
    }

    #[test]
    fn published_irr_anxiety() {
        let ds = fx::load("irr_anxiety");
        assert_close(icc_a1_complete_units(&fx::ratings_f64(&ds)), 0.198, PUBLISHED_3DP, "anxiety ICC(A,1)");
    }

    #[test]
    fn expected_values_on_every_numeric_fixture() {
        let mut checked = 0;
        for (name, _) in fx::ALL {
            let ds = fx::load(name);
            if !fx::is_numeric(&ds) {
                continue;
            }
            let units = fx::ratings_f64(&ds);
            let a1 = fx::expected(&ds, &["icc_2_1_absolute_agreement_single"]);
            let c1 = fx::expected(&ds, &["icc_3_1_consistency_single"]);
            assert_close(icc_a1_complete_units(&units), a1, EXPECTED_6DP, &format!("{name} A1"));
            assert_close(icc_c1_complete_units(&units), c1, EXPECTED_6DP, &format!("{name} C1"));
            checked += 1;
        }
        assert_eq!(checked, 4);
    }

    #[test]
    fn edge_cases_are_none() {
        assert_eq!(icc_a1(&[]), None);
        assert_eq!(icc_a1(&[vec![1.0, 2.0]]), None, "one unit");
        assert_eq!(icc_a1(&[vec![1.0], vec![2.0]]), None, "one rater");
        assert_eq!(icc_a1(&[vec![1.0, 2.0], vec![3.0]]), None, "ragged");
        assert_eq!(icc_a1(&[vec![0.1, 0.1], vec![0.1, 0.1]]), None, "zero variance");
        assert_eq!(icc_c1(&[vec![0.1, 0.1], vec![0.1, 0.1]]), None, "zero variance");
        assert_eq!(icc_a1(&[vec![1.0, f64::NAN], vec![2.0, 3.0]]), None);
        // Raters differ by a constant but units do not: consistency is 0/0, agreement is 0.
        assert_eq!(icc_c1(&[vec![0.3, 0.7], vec![0.3, 0.7]]), None);
        assert_eq!(icc_a1(&[vec![0.3, 0.7], vec![0.3, 0.7]]), Some(0.0));
        assert_eq!(icc_a1_complete_units(&[vec![Some(1.0), None], vec![Some(2.0), Some(3.0)]]), None);
    }
}
