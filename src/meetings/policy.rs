//! Who sees what in a meeting: the one place that decides. Every route —
//! API, pages, live events, exports, the dashboard, attachments — asks here,
//! from plain facts it has loaded, and shows nothing this module does not
//! allow. Pure: no database, no HTTP, so every combination is tested below.
//!
//! The blind rule: people who mark (examiners and team leaders) see no other
//! mark and no definitive mark of a response until its script is released —
//! except that a team leader, once they have submitted their own mark, sees
//! their team's marks on it. Markers never learn why a script is in the
//! meeting (a seed must not announce itself). The principal examiner and
//! administrators see everything.
//!
//! This replaces the copies that grew elsewhere: `may_see_definitive` and
//! `may_see_marks_of_others` (marking), the role checks of the access
//! requirements, the live stream's filter and the team filter in SQL.

use super::Role;

/// What the policy needs to know about one response, as one viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// The viewer's role in the meeting.
    pub role: Role,
    /// The response's script is released to this viewer.
    pub released: bool,
    /// The viewer has submitted their own mark on this response.
    pub submitted_own: bool,
}

/// Whose marks, other than their own, a viewer sees on a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Others {
    /// Nobody's.
    None,
    /// Their team's (team leaders).
    Team,
    /// Everyone's.
    All,
}

/// How the author of a mark stands to the viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// The viewer's own mark.
    Own,
    /// A member of the viewer's team (the viewer leads it).
    TeamMember,
    /// Anyone else.
    Other,
}

/// What one viewer may see of one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sight {
    /// Their own mark (only markers have one).
    pub own_mark: bool,
    /// Other people's marks, and the panel's figures built from them.
    pub others: Others,
    /// The definitive mark and its rationale.
    pub definitive: bool,
    /// Why the script is in the meeting (practice, qualification, seed).
    pub purpose: bool,
}

/// Whether the role sees everything in the meeting, at any time.
pub fn oversees(role: Role) -> bool {
    matches!(role, Role::Pe | Role::Admin)
}

/// Whether the role marks scripts blind.
pub fn marks(role: Role) -> bool {
    matches!(role, Role::Examiner | Role::TeamLeader)
}

/// Whether the role sees some of other people's marks somewhere in the
/// meeting (subject, response by response, to [`sight`]).
pub fn sees_others_marks(role: Role) -> bool {
    oversees(role) || role == Role::TeamLeader
}

/// What a viewer sees of a response.
pub fn sight(f: Facts) -> Sight {
    if oversees(f.role) {
        return Sight { own_mark: false, others: Others::All, definitive: true, purpose: true };
    }
    let others = match f.role {
        Role::TeamLeader if f.released || f.submitted_own => Others::Team,
        _ => Others::None,
    };
    Sight { own_mark: marks(f.role), others, definitive: f.released, purpose: false }
}

/// Whether the viewer sees one particular mark on a response.
pub fn shows_mark(f: Facts, author: Relation) -> bool {
    let s = sight(f);
    match author {
        Relation::Own => s.own_mark,
        Relation::TeamMember => s.others >= Others::Team,
        Relation::Other => s.others == Others::All,
    }
}

/// Whether a mark on a qualification set is hidden from the viewer because its
/// author has not finished the set: a team leader must not watch (and so
/// could not coach) their team's marks on a set while it is being marked.
pub fn hides_while_qualifying(role: Role, author: Relation, author_qualifying: bool) -> bool {
    author_qualifying && author != Relation::Own && !oversees(role)
}

/// A change a live stream could tell a viewer about. Events never carry a
/// mark: they say what changed so the page fetches what it may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A mark was saved or submitted, by someone standing in `Relation` to the viewer.
    Mark(Relation),
    /// A definitive mark was recorded.
    Definitive,
    /// Scripts were released.
    Release,
    /// A tolerance changed.
    Tolerance,
    /// Someone's qualification moved on (a set judged, a decision, a seed),
    /// someone standing in `Relation` to the viewer.
    Qualification(Relation),
    /// A referral asked or answered, by (or for) someone standing in `Relation` to the viewer.
    Referral(Relation),
    /// The mark scheme was amended: everyone's scheme changed.
    Amendment,
}

/// Whether a viewer hears of a change in their meeting.
pub fn hears(role: Role, change: Change) -> bool {
    if oversees(role) {
        return true;
    }
    match change {
        Change::Release => true,
        Change::Mark(Relation::Own) => true,
        // A team leader's page refetches, and the fetch applies `sight`: hearing
        // that a team member marked says nothing of the mark.
        Change::Mark(Relation::TeamMember) | Change::Qualification(Relation::TeamMember) => role == Role::TeamLeader,
        Change::Qualification(Relation::Own) | Change::Referral(Relation::Own) => true,
        Change::Referral(Relation::TeamMember) => role == Role::TeamLeader,
        // An amendment changes everyone's scheme: markers hear it and fetch the highlighted change.
        Change::Amendment => true,
        Change::Mark(Relation::Other)
        | Change::Qualification(Relation::Other)
        | Change::Referral(Relation::Other)
        | Change::Definitive
        | Change::Tolerance => false,
    }
}

/// Whether someone may see a response's answer (text or scan): anyone taking
/// part in a meeting that marks it, and administrators.
pub fn may_read_answers(role: Option<Role>) -> bool {
    role.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLES: [Role; 4] = [Role::Admin, Role::Pe, Role::TeamLeader, Role::Examiner];
    const RELATIONS: [Relation; 3] = [Relation::Own, Relation::TeamMember, Relation::Other];

    /// The expected answer for every combination, written as a table a person
    /// can check line by line: (role, released, submitted own) →
    /// (own mark, others, definitive, purpose).
    fn expected(role: Role, released: bool, submitted: bool) -> (bool, Others, bool, bool) {
        use Others::*;
        match (role, released, submitted) {
            (Role::Admin | Role::Pe, _, _) => (false, All, true, true),
            (Role::TeamLeader, false, false) => (true, None, false, false),
            (Role::TeamLeader, false, true) => (true, Team, false, false),
            (Role::TeamLeader, true, _) => (true, Team, true, false),
            (Role::Examiner, false, _) => (true, None, false, false),
            (Role::Examiner, true, _) => (true, None, true, false),
        }
    }

    #[test]
    fn every_role_release_and_submission_combination() {
        for role in ROLES {
            for released in [false, true] {
                for submitted_own in [false, true] {
                    let f = Facts { role, released, submitted_own };
                    let s = sight(f);
                    let (own, others, definitive, purpose) = expected(role, released, submitted_own);
                    assert_eq!((s.own_mark, s.others, s.definitive, s.purpose), (own, others, definitive, purpose), "{f:?}");
                    for author in RELATIONS {
                        let want = match author {
                            Relation::Own => own,
                            Relation::TeamMember => others != Others::None,
                            Relation::Other => others == Others::All,
                        };
                        assert_eq!(shows_mark(f, author), want, "{f:?} {author:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn markers_never_see_the_purpose_and_team_leaders_mark_blind() {
        for released in [false, true] {
            for submitted_own in [false, true] {
                for role in [Role::Examiner, Role::TeamLeader] {
                    assert!(!sight(Facts { role, released, submitted_own }).purpose);
                }
            }
        }
        let before = Facts { role: Role::TeamLeader, released: false, submitted_own: false };
        assert!(!shows_mark(before, Relation::TeamMember), "blind until their own mark is in");
        assert!(!shows_mark(Facts { submitted_own: true, ..before }, Relation::Other), "never another team's");
    }

    #[test]
    fn who_hears_which_change() {
        use Change::*;
        let changes = [
            Mark(Relation::Own),
            Mark(Relation::TeamMember),
            Mark(Relation::Other),
            Definitive,
            Release,
            Tolerance,
            Qualification(Relation::Own),
            Qualification(Relation::TeamMember),
            Qualification(Relation::Other),
            Referral(Relation::Own),
            Referral(Relation::TeamMember),
            Referral(Relation::Other),
            Amendment,
        ];
        for role in ROLES {
            for change in changes {
                // Overseers hear everything; everyone hears releases and their own marks;
                // a team leader hears that their team marked.
                let want = matches!(
                    (role, change),
                    (Role::Admin | Role::Pe, _)
                        | (_, Release | Mark(Relation::Own) | Qualification(Relation::Own) | Referral(Relation::Own) | Amendment)
                        | (
                            Role::TeamLeader,
                            Mark(Relation::TeamMember) | Qualification(Relation::TeamMember) | Referral(Relation::TeamMember)
                        )
                );
                assert_eq!(hears(role, change), want, "{role:?} {change:?}");
            }
        }
    }

    #[test]
    fn a_set_being_marked_is_hidden_from_team_leaders() {
        assert!(hides_while_qualifying(Role::TeamLeader, Relation::TeamMember, true));
        assert!(!hides_while_qualifying(Role::TeamLeader, Relation::TeamMember, false));
        assert!(!hides_while_qualifying(Role::TeamLeader, Relation::Own, true));
        assert!(!hides_while_qualifying(Role::Pe, Relation::Other, true));
    }

    #[test]
    fn roles() {
        assert_eq!(ROLES.map(oversees), [true, true, false, false]);
        assert_eq!(ROLES.map(marks), [false, false, true, true]);
        assert_eq!(ROLES.map(sees_others_marks), [true, true, true, false]);
        assert!(may_read_answers(Some(Role::Examiner)) && !may_read_answers(None));
    }
}
