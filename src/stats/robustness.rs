//! Test-only smoke test: pseudo-random awkward inputs must never panic and never yield a
//! non-finite figure (the module promises `None` instead of a made-up number).

use super::*;

/// Tiny deterministic generator (no dependencies): xorshift64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> usize {
        (self.next() % n.max(1)) as usize
    }
    fn mark(&mut self) -> i32 {
        match self.below(20) {
            0 => i32::MIN,
            1 => i32::MAX,
            _ => self.below(7) as i32,
        }
    }
    fn value(&mut self) -> Option<f64> {
        match self.below(12) {
            0 => None,
            1 => Some(f64::NAN),
            2 => Some(f64::INFINITY),
            3 => Some(1e300),
            _ => Some(self.below(5) as f64),
        }
    }
}

/// A computed figure must be absent or finite.
fn ok(x: Option<f64>) -> bool {
    x.is_none_or(f64::is_finite)
}

#[test]
fn random_awkward_inputs_never_panic_or_produce_nan() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..3000 {
        let (units, coders) = (rng.below(5), rng.below(4));
        let m: Vec<Vec<Option<f64>>> = (0..units).map(|_| (0..coders).map(|_| rng.value()).collect()).collect();
        assert!(ok(krippendorff_alpha_interval(&m)) && ok(krippendorff_alpha_nominal(&m)) && ok(krippendorff_alpha_ordinal(&m)));
        assert!(ok(icc_a1_complete_units(&m)) && ok(icc_c1_complete_units(&m)));
        let flat: Vec<f64> = m.iter().flatten().flatten().copied().collect();
        assert!(ok(mean(&flat)) && ok(median(&flat)) && ok(sd(&flat)));

        let len = rng.below(6);
        let a: Vec<i32> = (0..len).map(|_| rng.mark()).collect();
        let b: Vec<i32> = (0..len + rng.below(2)).map(|_| rng.mark()).collect();
        let (lo, hi) = (rng.mark(), rng.mark());
        assert!(ok(quadratic_weighted_kappa(&a, &b, lo, hi)) && ok(quadratic_weighted_kappa_observed_levels(&a, &b)));
        assert!(ok(cohen_kappa_unweighted(&a, &b)));
        let _ = suggested_tolerance(&a);
        assert!(pass_rates(&a, rng.below(4) as i32).iter().all(|&(_, r)| (0.0..=1.0).contains(&r)));
        let _ = default_tolerance(lo);

        let pairs: Vec<MarkPair> = a
            .iter()
            .zip(&b)
            .map(|(&x, &y)| MarkPair { question: 0, mark: x, level: Some(x), definitive_mark: y, definitive_level: None, tolerance: hi })
            .collect();
        let s = examiner_stats(&pairs);
        assert!(ok(s.mean_deviation) && ok(s.sd_deviation) && ok(s.mean_abs_deviation));
        for f in &s.flags {
            assert!(!f.reason(&s).is_empty());
        }
        let marks: Vec<(i32, Option<i32>)> = a.iter().map(|&x| (x, (x % 3 != 0).then_some(x % 4))).collect();
        let summary = summarise_response(&marks, b.first().copied(), lo);
        assert!(ok(summary.mean) && ok(summary.sd));
        let _ = discussion_reason(&summary, lo);
        let _ = discussion_order(&[summary.clone(), summary]);
    }
}
