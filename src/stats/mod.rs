//! Statistics for standardisation meetings: descriptive figures, inter-rater agreement
//! (Krippendorff's alpha, ICC, weighted kappa) and the product's own examiner/response figures.
//!
//! Every function is pure and total: where a figure cannot be computed (empty input,
//! zero variance, non-finite values, all missing) it returns `None` rather than a made-up number.

pub mod descriptive;
pub mod examiner;
pub mod icc;
pub mod kappa;
pub mod krippendorff;
pub mod ranking;
pub mod tolerance;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod robustness;

pub use descriptive::{max, mean, median, min, sd};
pub use examiner::{ExaminerStats, Flag, MarkPair, examiner_stats};
pub use icc::{icc_a1, icc_a1_complete_units, icc_c1, icc_c1_complete_units};
pub use kappa::{cohen_kappa_unweighted, quadratic_weighted_kappa, quadratic_weighted_kappa_observed_levels};
pub use krippendorff::{krippendorff_alpha_interval, krippendorff_alpha_nominal, krippendorff_alpha_ordinal};
pub use ranking::{ResponseSummary, discussion_order, discussion_reason, summarise_response};
pub use tolerance::{
    SuggestionDrivers, check_tolerance, default_tolerance, pass_rates, suggested_tolerance, suggestion_drivers, tolerance_in_force,
    within_tolerance,
};
