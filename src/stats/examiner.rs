//! Per-examiner standardisation figures: how far an examiner's marks sit from the definitive
//! (senior examiner's) marks, and plain-word flags for the meeting.

use super::descriptive::{mean, sd};
use super::tolerance::within_tolerance;

/// One script/question marked by the examiner alongside its definitive mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkPair {
    /// Index of the question (or script) the marks belong to.
    pub question: usize,
    /// The examiner's mark.
    pub mark: i32,
    /// The examiner's level (band), where the mark scheme uses levels.
    pub level: Option<i32>,
    /// The definitive mark agreed by the senior examiner.
    pub definitive_mark: i32,
    /// The definitive level, where the mark scheme uses levels.
    pub definitive_level: Option<i32>,
    /// Allowed |mark − definitive| for this question, in whole marks.
    pub tolerance: i32,
}

impl MarkPair {
    /// Signed deviation: negative = severe (below definitive), positive = lenient.
    pub fn deviation(&self) -> i64 {
        i64::from(self.mark) - i64::from(self.definitive_mark)
    }
}

/// Why an examiner needs attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    /// Marks below the definitive mark on average by more than half the tolerance.
    Severe,
    /// Marks above the definitive mark on average by more than half the tolerance.
    Lenient,
    /// Deviations spread wider (SD) than the tolerance, whatever their average.
    Erratic,
}

/// Summary of one examiner's marks against the definitive marks.
#[derive(Debug, Clone, PartialEq)]
pub struct ExaminerStats {
    /// Number of mark pairs.
    pub n: usize,
    /// Mean of mark − definitive (negative = severe).
    pub mean_deviation: Option<f64>,
    /// Mean of |mark − definitive|.
    pub mean_abs_deviation: Option<f64>,
    /// Sample SD of the signed deviations (None when n < 2).
    pub sd_deviation: Option<f64>,
    /// Share (0–1) of pairs with |deviation| ≤ tolerance.
    pub within_tolerance_rate: Option<f64>,
    /// Share (0–1) of pairs with both levels given where the levels match.
    pub level_agreement_rate: Option<f64>,
    /// Mean tolerance over the pairs, the yardstick the flags use.
    pub mean_tolerance: Option<f64>,
    /// The tolerance every pair shares, when they share one: only for wording the
    /// flags ("the tolerance (±3)" rather than an average of different ones).
    pub uniform_tolerance: Option<i32>,
    /// Flags raised, in the order Severe/Lenient then Erratic.
    pub flags: Vec<Flag>,
}

/// Computes an examiner's figures and flags from their mark pairs. Negative tolerances are
/// treated as 0 because a band cannot be narrower than exact agreement.
pub fn examiner_stats(marks: &[MarkPair]) -> ExaminerStats {
    let devs: Vec<f64> = marks.iter().map(|p| p.deviation() as f64).collect();
    let abs: Vec<f64> = devs.iter().map(|d| d.abs()).collect();
    let tols: Vec<f64> = marks.iter().map(|p| f64::from(p.tolerance.max(0))).collect();
    let n = marks.len();
    let share = |hits: usize, of: usize| (of > 0).then(|| hits as f64 / of as f64);
    let within = marks.iter().filter(|p| within_tolerance_i64(p.deviation(), p.tolerance.max(0))).count();
    let levelled: Vec<(i32, i32)> = marks.iter().filter_map(|p| Some((p.level?, p.definitive_level?))).collect();
    let level_hits = levelled.iter().filter(|(a, b)| a == b).count();
    let mut stats = ExaminerStats {
        n,
        mean_deviation: mean(&devs),
        mean_abs_deviation: mean(&abs),
        sd_deviation: sd(&devs),
        within_tolerance_rate: share(within, n),
        level_agreement_rate: share(level_hits, levelled.len()),
        mean_tolerance: mean(&tols),
        uniform_tolerance: marks.first().map(|p| p.tolerance.max(0)).filter(|&t| marks.iter().all(|p| p.tolerance.max(0) == t)),
        flags: Vec::new(),
    };
    stats.flags = flags_for(&stats);
    stats
}

/// `within_tolerance` for deviations that may exceed i32 (i32::MAX − i32::MIN).
fn within_tolerance_i64(dev: i64, tolerance: i32) -> bool {
    match i32::try_from(dev) {
        Ok(d) => within_tolerance(d, tolerance),
        Err(_) => false,
    }
}

/// Flags from the computed figures; none can be raised without a mean tolerance.
fn flags_for(s: &ExaminerStats) -> Vec<Flag> {
    let mut flags = Vec::new();
    let Some(tol) = s.mean_tolerance else {
        return flags;
    };
    if let Some(m) = s.mean_deviation {
        if m < -tol / 2.0 {
            flags.push(Flag::Severe);
        } else if m > tol / 2.0 {
            flags.push(Flag::Lenient);
        }
    }
    if s.sd_deviation.is_some_and(|sd| sd > tol) {
        flags.push(Flag::Erratic);
    }
    flags
}

/// Drops the zeros a fixed number of decimals leaves: "1.50" → "1.5", "2.00" → "2".
fn trim(s: String) -> String {
    if !s.contains('.') {
        return s;
    }
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// `x`, known to exceed `limit`, with the fewest decimals (1 to 3) that still
/// show it above `limit` as `limit` is shown: rounding must never print "1 below
/// on average, more than half the tolerance (±2)". Beyond 3 decimals it says so.
fn above(x: f64, limit: f64) -> String {
    for decimals in 1..=3 {
        let shown = trim(format!("{x:.decimals$}"));
        if shown.parse::<f64>().is_ok_and(|v| v > limit) {
            return shown;
        }
    }
    format!("just over {}", trim(format!("{limit:.3}")))
}

impl Flag {
    /// Short label for badges.
    pub fn label(&self) -> &'static str {
        match self {
            Flag::Severe => "severe",
            Flag::Lenient => "lenient",
            Flag::Erratic => "erratic",
        }
    }

    /// The flag in the examiner's own figures, saying which line they crossed: the
    /// rule is in [`flags_for`], and these words use the same numbers, e.g. "marks
    /// 2.3 below the definitive mark on average, more than half the tolerance (±3);
    /// 6 marks compared".
    pub fn reason(&self, stats: &ExaminerStats) -> String {
        let compared = format!("{} mark{} compared", stats.n, if stats.n == 1 { "" } else { "s" });
        let Some(mean_tol) = stats.mean_tolerance else {
            return format!("{}; {compared}", self.label());
        };
        // The tolerance as the reader will see it, so the comparison holds for the shown figures.
        let (tol, tolerance) = match stats.uniform_tolerance {
            Some(t) => (f64::from(t), format!("the tolerance (±{t})")),
            None => {
                let shown = trim(format!("{mean_tol:.2}"));
                (shown.parse().unwrap_or(mean_tol), format!("the tolerance (±{shown} on average)"))
            }
        };
        match (self, stats.mean_deviation, stats.sd_deviation) {
            (Flag::Severe | Flag::Lenient, Some(m), _) => {
                let side = if m < 0.0 { "below" } else { "above" };
                format!("marks {} {side} the definitive mark on average, more than half {tolerance}; {compared}", above(m.abs(), tol / 2.0))
            }
            (Flag::Erratic, _, Some(sd)) => {
                format!("marks spread around the definitive mark with an SD of {}, more than {tolerance}; {compared}", above(sd, tol))
            }
            _ => format!("{}; {compared}", self.label()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::fixtures::{self as fx, EXPECTED_6DP, assert_close};

    /// Pairs for `rater` against the first rater (the fixtures' definitive marker), tolerance 1.
    /// Levels are set to the marks themselves so `level_agreement_rate` reproduces `pct_exact`.
    fn pairs_vs_first(ds: &serde_json::Value, rater: usize) -> Vec<MarkPair> {
        let (def, other) = fx::pair_marks(ds, 0, rater);
        def.iter()
            .zip(&other)
            .enumerate()
            .map(|(q, (&d, &m))| MarkPair {
                question: q,
                mark: m,
                level: Some(m),
                definitive_mark: d,
                definitive_level: Some(d),
                tolerance: 1,
            })
            .collect()
    }

    #[test]
    fn standardisation_vs_first_rater_on_every_fixture() {
        let mut checked = 0;
        for (name, _) in fx::ALL {
            let ds = fx::load(name);
            let raters = fx::raters(&ds);
            for (j, r) in raters.iter().enumerate().skip(1) {
                let s = examiner_stats(&pairs_vs_first(&ds, j));
                let key = |k: &str| fx::expected(&ds, &["standardisation_vs_first_rater", "by_rater", r, k]);
                let what = |k: &str| format!("{name} {r} {k}");
                assert_eq!(s.n as f64, key("n"), "{}", what("n"));
                assert_close(s.mean_deviation, key("mean_signed_deviation"), EXPECTED_6DP, &what("mean"));
                assert_close(s.mean_abs_deviation, key("mean_absolute_deviation"), EXPECTED_6DP, &what("abs"));
                let pct = |x: Option<f64>| x.map(|v| v * 100.0);
                assert_close(pct(s.within_tolerance_rate), key("pct_within_tolerance_1"), EXPECTED_6DP, &what("tol1"));
                assert_close(pct(s.level_agreement_rate), key("pct_exact"), EXPECTED_6DP, &what("exact"));
                checked += 1;
            }
        }
        assert_eq!(checked, 2 + 5 + 3 + 3 + 3);
    }

    #[test]
    fn flags_on_shrout_fleiss_and_video() {
        let sf = fx::load("shrout_fleiss_1979");
        let judge2 = examiner_stats(&pairs_vs_first(&sf, 1));
        assert!(judge2.flags.contains(&Flag::Severe), "{:?}", judge2.flags);
        assert_eq!(
            Flag::Severe.reason(&judge2),
            "marks 5.2 below the definitive mark on average, more than half the tolerance (±1); 6 marks compared"
        );
        let video = fx::load("irr_video");
        let rater4 = examiner_stats(&pairs_vs_first(&video, 3));
        assert!(rater4.flags.is_empty(), "{:?}", rater4.flags);
    }

    fn pair(mark: i32, definitive: i32, tolerance: i32) -> MarkPair {
        MarkPair { question: 0, mark, level: None, definitive_mark: definitive, definitive_level: None, tolerance }
    }

    #[test]
    fn lenient_and_erratic() {
        let lenient = examiner_stats(&[pair(7, 5, 2), pair(8, 6, 2), pair(6, 4, 2)]);
        assert_eq!(lenient.flags, vec![Flag::Lenient]);
        assert_eq!(lenient.sd_deviation, Some(0.0));
        let erratic = examiner_stats(&[pair(10, 5, 2), pair(0, 5, 2), pair(5, 5, 2)]);
        assert_eq!(erratic.flags, vec![Flag::Erratic]);
        assert_eq!(erratic.mean_deviation, Some(0.0));
        assert_eq!(
            Flag::Erratic.reason(&erratic),
            "marks spread around the definitive mark with an SD of 5, more than the tolerance (±2); 3 marks compared"
        );
        assert_eq!(
            Flag::Lenient.reason(&lenient),
            "marks 2 above the definitive mark on average, more than half the tolerance (±2); 3 marks compared"
        );
    }

    #[test]
    fn the_words_never_contradict_the_rule() {
        // Tolerances 1, 2, 1, 2 (mean 1.5, half 0.75) and deviations +1, +1, 0, +1: a mean of
        // 0.75 is on the line, not beyond it, so no flag. One more +1 (tolerance 1) makes a
        // mean of 0.8 against a mean tolerance of 1.4 (half 0.7): lenient.
        let mixed =
            |devs: &[i32]| examiner_stats(&devs.iter().enumerate().map(|(i, &d)| pair(5 + d, 5, 1 + (i % 2) as i32)).collect::<Vec<_>>());
        assert!(mixed(&[1, 1, 0, 1]).flags.is_empty());
        let lenient = mixed(&[1, 1, 0, 1, 1]);
        assert_eq!(lenient.flags, vec![Flag::Lenient]);
        assert_eq!(
            Flag::Lenient.reason(&lenient),
            "marks 0.8 above the definitive mark on average, more than half the tolerance (±1.4 on average); 5 marks compared"
        );
        // Mean −1.04 against tolerance 2: one decimal would print "1", which is not more than 1.
        let mut devs = vec![-1; 24];
        devs.push(-2);
        let severe = examiner_stats(&devs.iter().map(|&d| pair(5 + d, 5, 2)).collect::<Vec<_>>());
        assert_eq!(severe.flags, vec![Flag::Severe]);
        assert!(Flag::Severe.reason(&severe).starts_with("marks 1.04 below the definitive mark on average, more than half"));
        assert_eq!(above(1.0001, 1.0), "just over 1");
        assert_eq!(above(2.35, 2.0), "2.4");
    }

    #[test]
    fn edge_cases() {
        let empty = examiner_stats(&[]);
        assert_eq!(empty.n, 0);
        assert_eq!(empty.mean_deviation, None);
        assert_eq!(empty.within_tolerance_rate, None);
        assert_eq!(empty.level_agreement_rate, None);
        assert!(empty.flags.is_empty());
        let one = examiner_stats(&[pair(3, 3, 1)]);
        assert_eq!(one.sd_deviation, None);
        assert_eq!(one.within_tolerance_rate, Some(1.0));
        assert_eq!(one.level_agreement_rate, None, "no levels given");
        let extreme = examiner_stats(&[pair(i32::MAX, i32::MIN, -5)]);
        assert_eq!(extreme.within_tolerance_rate, Some(0.0));
        assert_eq!(extreme.flags, vec![Flag::Lenient]);
    }
}
