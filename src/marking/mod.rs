//! Marking in a meeting: examiners' blind marks, the principal examiner's
//! definitive marks, release, and what each person may see of them.

pub mod adjudication;
pub mod api;
pub mod pages;
pub mod rules;
pub mod store;

use crate::meetings::Role;

crate::text_enum! {
    /// Where an examiner's mark is.
    pub enum MarkState {
        /// Saved, still changing.
        Draft = "draft",
        /// Locked: counted in the figures, changed only if the principal examiner reopens it.
        Submitted = "submitted",
    }
}

/// The blind-marking rule: the definitive mark and rationale are seen by the
/// principal examiner and administrators, and by markers once released.
pub fn may_see_definitive(role: Role, released: bool) -> bool {
    role.oversees() || released
}

/// Other people's marks: the principal examiner and administrators see all;
/// a team leader sees their team's; an examiner only their own.
pub fn may_see_marks_of_others(role: Role) -> bool {
    role.oversees() || role == Role::TeamLeader
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blind_until_release() {
        assert!(!may_see_definitive(Role::Examiner, false));
        assert!(!may_see_definitive(Role::TeamLeader, false));
        assert!(may_see_definitive(Role::Examiner, true));
        assert!(may_see_definitive(Role::Pe, false));
        assert!(may_see_definitive(Role::Admin, false));
        assert!(!may_see_marks_of_others(Role::Examiner));
    }
}
