//! The rules of qualification, pure: how a set is judged, where an examiner
//! goes after it, who may decide, and when seeds raise a flag.

use uuid::Uuid;

use crate::stats::tolerance::within_tolerance;

crate::text_enum! {
    /// Where an examiner stands in qualifying.
    pub enum QualState {
        /// Qualification is not open to them yet, or they have not begun.
        NotStarted = "not_started",
        /// Marking a set.
        InProgress = "in_progress",
        /// Passed a set: awaiting approval.
        Passed = "passed",
        /// Failed the last set: awaiting the principal examiner.
        Failed = "failed",
        /// Approved to mark live.
        Approved = "approved",
        /// Not approved to mark live.
        NotApproved = "not_approved",
    }
}

impl QualState {
    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            QualState::NotStarted => "not started",
            QualState::InProgress => "qualifying",
            QualState::Passed => "passed, awaiting approval",
            QualState::Failed => "failed, awaiting the principal examiner",
            QualState::Approved => "approved to mark",
            QualState::NotApproved => "not approved",
        }
    }

    /// Whether a decision (approve or not) can be made now: once the examiner
    /// has finished qualifying, and again to change a decision.
    pub fn decidable(self) -> bool {
        matches!(self, QualState::Passed | QualState::Failed | QualState::Approved | QualState::NotApproved)
    }
}

/// A set's pass rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PassRule {
    /// At least this many scripts with every response within tolerance.
    pub min_within: i32,
    /// And, if set, at most this total absolute deviation over the set.
    pub max_total_deviation: Option<i32>,
}

impl PassRule {
    /// The usual rule: all scripts but one (at least one) within tolerance.
    pub fn default_for(scripts: usize) -> PassRule {
        let n = i32::try_from(scripts).unwrap_or(i32::MAX);
        PassRule { min_within: (n - 1).max(1), max_total_deviation: None }
    }

    /// What is wrong with the rule for a set of `scripts` scripts, if anything.
    pub fn check(&self, scripts: usize) -> Result<(), String> {
        let n = i32::try_from(scripts).unwrap_or(i32::MAX);
        if self.min_within < 1 || self.min_within > n {
            return Err(format!(
                "The rule asks for {} script{} within tolerance, but the set holds {n}: choose from 1 to {n}.",
                self.min_within,
                if self.min_within == 1 { "" } else { "s" }
            ));
        }
        if self.max_total_deviation.is_some_and(|d| d < 0) {
            return Err("The cap on the total deviation cannot be negative.".into());
        }
        Ok(())
    }

    /// The rule in words, as examiners see it before they start.
    pub fn describe(&self, scripts: usize) -> String {
        let mut s = format!(
            "Mark the set's {scripts} scripts. You pass with at least {} of the {scripts} scripts within tolerance on every response",
            self.min_within
        );
        if let Some(d) = self.max_total_deviation {
            s.push_str(&format!(", and your marks at most {d} marks away from the definitive marks in total"));
        }
        s.push('.');
        s
    }
}

/// One response of a set as an examiner marked it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marked {
    /// The script it belongs to.
    pub script: Uuid,
    /// The examiner's mark.
    pub mark: i32,
    /// The definitive mark.
    pub definitive: i32,
    /// The question's tolerance in the meeting.
    pub tolerance: i32,
}

/// The outcome of a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetResult {
    /// Scripts with every response within tolerance.
    pub within: i32,
    /// Scripts in the set.
    pub scripts: i32,
    /// Sum of |mark − definitive| over every response.
    pub total_deviation: i32,
    /// Whether the rule is met.
    pub passed: bool,
}

/// Judges a set from every response's mark (all of the set's responses).
pub fn judge(rule: PassRule, marked: &[Marked]) -> SetResult {
    let mut scripts: Vec<(Uuid, bool)> = Vec::new();
    let mut total_deviation = 0;
    for m in marked {
        let ok = within_tolerance(m.mark - m.definitive, m.tolerance);
        total_deviation += (m.mark - m.definitive).abs();
        match scripts.iter_mut().find(|(s, _)| *s == m.script) {
            Some((_, all)) => *all &= ok,
            None => scripts.push((m.script, ok)),
        }
    }
    let within = i32::try_from(scripts.iter().filter(|(_, ok)| *ok).count()).unwrap_or(i32::MAX);
    let passed = within >= rule.min_within && rule.max_total_deviation.is_none_or(|cap| total_deviation <= cap);
    SetResult { within, scripts: i32::try_from(scripts.len()).unwrap_or(i32::MAX), total_deviation, passed }
}

/// Where an examiner goes after a set: passed → awaiting approval; failed →
/// the next set if there is one, else failed awaiting the principal examiner.
pub fn after_set(set: i32, sets: i32, passed: bool) -> (QualState, i32) {
    match (passed, set < sets) {
        (true, _) => (QualState::Passed, set),
        (false, true) => (QualState::InProgress, set + 1),
        (false, false) => (QualState::Failed, set),
    }
}

/// How many of the most recent seeds count towards a flag, and how many of those out of tolerance raise it.
pub const SEEDS_LOOKED_AT: usize = 3;
/// See [`SEEDS_LOOKED_AT`].
pub const SEEDS_OUT_TO_FLAG: usize = 2;

/// Whether an examiner's seeds call for a check: outside tolerance on 2 of
/// their last 3 (`newest_first` lists completed seeds, newest first).
pub fn seed_flag(newest_first: &[bool]) -> bool {
    newest_first.iter().take(SEEDS_LOOKED_AT).filter(|within| !**within).count() >= SEEDS_OUT_TO_FLAG
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(script: u128, mark: i32, definitive: i32, tolerance: i32) -> Marked {
        Marked { script: Uuid::from_u128(script), mark, definitive, tolerance }
    }

    #[test]
    fn a_script_counts_only_if_every_response_is_within() {
        let rule = PassRule { min_within: 2, max_total_deviation: None };
        // Script 1: both in; script 2: one out; script 3: in.
        let r = judge(rule, &[m(1, 8, 8, 1), m(1, 15, 14, 2), m(2, 5, 8, 1), m(2, 14, 14, 2), m(3, 9, 10, 1)]);
        assert_eq!(r, SetResult { within: 2, scripts: 3, total_deviation: 1 + 3 + 1, passed: true });
        let strict = PassRule { min_within: 3, ..rule };
        assert!(!judge(strict, &[m(1, 8, 8, 1), m(2, 5, 8, 1), m(3, 9, 10, 1)]).passed);
    }

    #[test]
    fn a_cap_on_total_deviation_can_fail_an_otherwise_good_set() {
        let marks = [m(1, 9, 8, 1), m(2, 7, 8, 1), m(3, 9, 8, 1)];
        assert!(judge(PassRule { min_within: 3, max_total_deviation: None }, &marks).passed);
        assert!(judge(PassRule { min_within: 3, max_total_deviation: Some(3) }, &marks).passed);
        assert!(!judge(PassRule { min_within: 3, max_total_deviation: Some(2) }, &marks).passed);
    }

    #[test]
    fn default_rule_and_its_checks() {
        assert_eq!(PassRule::default_for(5).min_within, 4);
        assert_eq!(PassRule::default_for(1).min_within, 1);
        assert!(PassRule { min_within: 6, max_total_deviation: None }.check(5).unwrap_err().contains("the set holds 5"));
        assert!(PassRule { min_within: 0, max_total_deviation: None }.check(5).is_err());
        assert!(PassRule { min_within: 4, max_total_deviation: Some(-1) }.check(5).is_err());
        assert!(PassRule::default_for(3).describe(3).contains("at least 2 of the 3 scripts"));
    }

    #[test]
    fn fail_goes_to_the_next_set_then_to_the_principal_examiner() {
        assert_eq!(after_set(1, 2, true), (QualState::Passed, 1));
        assert_eq!(after_set(1, 2, false), (QualState::InProgress, 2));
        assert_eq!(after_set(2, 2, false), (QualState::Failed, 2));
        assert_eq!(after_set(1, 1, false), (QualState::Failed, 1));
        assert!(QualState::Failed.decidable() && !QualState::InProgress.decidable());
    }

    #[test]
    fn two_of_the_last_three_seeds_out_raise_the_flag() {
        assert!(!seed_flag(&[]));
        assert!(!seed_flag(&[false]));
        assert!(seed_flag(&[false, true, false]));
        assert!(!seed_flag(&[true, false, true, false, false]), "only the last three count");
        assert!(seed_flag(&[false, false]));
    }
}
