//! Standardisation meetings: who takes part in which role, which scripts are
//! marked, the tolerances, and the meeting's state (setup → marking → closed).

pub mod access;
pub mod api;
pub mod pages;
pub mod policy;
pub mod store;

use serde::Serialize;
use sqlx::FromRow;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::papers::PaperId;

crate::text_enum! {
    /// Where a meeting is in its life.
    pub enum MeetingState {
        /// Being set up: scripts, people and tolerances can change; nobody marks.
        Setup = "setup",
        /// Examiners mark; the principal examiner adjudicates and releases.
        Marking = "marking",
        /// Over: nothing changes any more.
        Closed = "closed",
    }
}

impl MeetingState {
    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            MeetingState::Setup => "being set up",
            MeetingState::Marking => "marking",
            MeetingState::Closed => "closed",
        }
    }
}

crate::text_enum! {
    /// A person's part in one meeting.
    pub enum Role {
        /// An exam-board administrator (not a participant, but sees everything).
        Admin = "admin",
        /// The principal examiner: definitive marks, adjudication, release.
        Pe = "pe",
        /// Marks blind, and sees the marks of their own team once they have marked.
        TeamLeader = "team_leader",
        /// Marks blind, sees only their own marks until release.
        Examiner = "examiner",
    }
}

impl Role {
    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "administrator",
            Role::Pe => "principal examiner",
            Role::TeamLeader => "team leader",
            Role::Examiner => "examiner",
        }
    }

    /// Whether this role marks scripts blind (the policy decides).
    pub fn marks(self) -> bool {
        policy::marks(self)
    }

    /// Whether this role sees everything in the meeting (the policy decides).
    pub fn oversees(self) -> bool {
        policy::oversees(self)
    }
}

crate::text_enum! {
    /// Why a script is in the meeting.
    pub enum Purpose {
        /// Marked and discussed in the meeting.
        Practice = "practice",
        /// Marked afterwards to qualify, within tolerance.
        Qualification = "qualification",
        /// Seeded into live marking to check examiners keep to the standard.
        Seed = "seed",
    }
}

crate::id_type! {
    /// A meeting's id.
    pub struct MeetingId;
}

impl Meeting {
    /// The meeting's id.
    pub fn meeting_id(&self) -> MeetingId {
        MeetingId(self.id)
    }
}

/// A meeting row.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Meeting {
    /// Id (typed: [`Meeting::meeting_id`]).
    pub id: Uuid,
    /// The paper whose scripts are marked.
    pub paper_id: PaperId,
    /// Name, e.g. "HIS2L January 2011 standardisation".
    pub name: String,
    /// The day of the meeting.
    pub held_on: Option<Date>,
    /// Setup, marking or closed.
    pub state: MeetingState,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}
