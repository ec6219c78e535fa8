//! Descriptive statistics over f64 slices. Any non-finite input yields `None`, because a NaN
//! or infinity would otherwise silently propagate into a figure shown to examiners.

/// Returns the values if every one is finite and there is at least one.
fn finite(xs: &[f64]) -> Option<&[f64]> {
    (!xs.is_empty() && xs.iter().all(|x| x.is_finite())).then_some(xs)
}

/// Arithmetic mean; `None` for empty or non-finite input.
pub fn mean(xs: &[f64]) -> Option<f64> {
    let xs = finite(xs)?;
    let m = xs.iter().sum::<f64>() / xs.len() as f64;
    // Sums of huge finite values can overflow to infinity.
    m.is_finite().then_some(m)
}

/// Median (mean of the two middle values for even n); `None` for empty or non-finite input.
pub fn median(xs: &[f64]) -> Option<f64> {
    let mut v = finite(xs)?.to_vec();
    v.sort_unstable_by(f64::total_cmp);
    let n = v.len();
    let mid = n / 2;
    Some(if n % 2 == 1 { v[mid] } else { v[mid - 1] / 2.0 + v[mid] / 2.0 })
}

/// Sample variance (n − 1 denominator); `None` when n < 2 or input is non-finite.
pub fn variance(xs: &[f64]) -> Option<f64> {
    if xs.len() < 2 {
        return None;
    }
    let m = mean(xs)?;
    // Identical values must give exactly 0, not rounding residue from the mean.
    if xs.iter().all(|&x| x == xs[0]) {
        return Some(0.0);
    }
    // Two-pass formula: avoids the cancellation of Σx² − n·m², so identical values give exactly 0.
    let ss: f64 = xs.iter().map(|x| (x - m) * (x - m)).sum();
    let v = ss / (xs.len() - 1) as f64;
    v.is_finite().then_some(v)
}

/// Sample standard deviation (n − 1); `None` when n < 2 or input is non-finite.
pub fn sd(xs: &[f64]) -> Option<f64> {
    variance(xs).map(f64::sqrt)
}

/// Smallest value; `None` for empty or non-finite input.
pub fn min(xs: &[f64]) -> Option<f64> {
    finite(xs)?.iter().copied().reduce(f64::min)
}

/// Largest value; `None` for empty or non-finite input.
pub fn max(xs: &[f64]) -> Option<f64> {
    finite(xs)?.iter().copied().reduce(f64::max)
}

/// Whole marks as f64, so the integer-based modules can share the functions above.
pub fn as_f64(xs: &[i32]) -> Vec<f64> {
    xs.iter().map(|&x| f64::from(x)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_figures() {
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert_eq!(mean(&xs), Some(5.0));
        assert_eq!(median(&xs), Some(4.5));
        assert!((sd(&xs).unwrap() - 2.138_089_935).abs() < 1e-9);
        assert_eq!(min(&xs), Some(2.0));
        assert_eq!(max(&xs), Some(9.0));
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
    }

    #[test]
    fn edge_cases_are_none() {
        assert_eq!(mean(&[]), None);
        assert_eq!(median(&[]), None);
        assert_eq!(sd(&[]), None);
        assert_eq!(sd(&[3.0]), None);
        assert_eq!(min(&[]), None);
        assert_eq!(max(&[]), None);
        assert_eq!(mean(&[1.0, f64::NAN]), None);
        assert_eq!(median(&[f64::INFINITY]), None);
        assert_eq!(sd(&[1.0, f64::NAN]), None);
        assert_eq!(mean(&[f64::MAX, f64::MAX]), None);
    }

    #[test]
    fn zero_variance_sd_is_zero_not_none() {
        // A spread of zero is a real figure (everyone agreed), unlike n < 2.
        assert_eq!(sd(&[0.1, 0.1, 0.1]), Some(0.0));
    }
}
