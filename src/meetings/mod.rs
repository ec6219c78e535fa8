//! Standardisation meetings: who takes part in which role, which scripts are
//! marked, the tolerances, and the meeting's state (setup → marking → closed).

pub mod access;
pub mod api;
pub mod pages;
pub mod store;

use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// Where a meeting is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MeetingState {
    /// Being set up: scripts, people and tolerances can change; nobody marks.
    Setup,
    /// Examiners mark; the principal examiner adjudicates and releases.
    Marking,
    /// Over: nothing changes any more.
    Closed,
}

impl MeetingState {
    /// From the database's text.
    pub fn parse(s: &str) -> MeetingState {
        match s {
            "marking" => MeetingState::Marking,
            "closed" => MeetingState::Closed,
            _ => MeetingState::Setup,
        }
    }

    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            MeetingState::Setup => "being set up",
            MeetingState::Marking => "marking",
            MeetingState::Closed => "closed",
        }
    }
}

/// A person's part in one meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// An exam-board administrator (not a participant, but sees everything).
    Admin,
    /// The principal examiner: definitive marks, adjudication, release.
    Pe,
    /// Marks, and sees the marks of their own team.
    TeamLeader,
    /// Marks blind, sees only their own marks until release.
    Examiner,
}

impl Role {
    /// From the database's text.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "pe" => Some(Role::Pe),
            "team_leader" => Some(Role::TeamLeader),
            "examiner" => Some(Role::Examiner),
            _ => None,
        }
    }

    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Pe => "pe",
            Role::TeamLeader => "team_leader",
            Role::Examiner => "examiner",
        }
    }

    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "administrator",
            Role::Pe => "principal examiner",
            Role::TeamLeader => "team leader",
            Role::Examiner => "examiner",
        }
    }

    /// Whether this role marks scripts blind.
    pub fn marks(self) -> bool {
        matches!(self, Role::TeamLeader | Role::Examiner)
    }

    /// Whether this role sees every mark and the definitive marks before release.
    pub fn oversees(self) -> bool {
        matches!(self, Role::Pe | Role::Admin)
    }
}

/// Why a script is in the meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    /// Marked and discussed in the meeting.
    Practice,
    /// Marked afterwards to qualify, within tolerance.
    Qualification,
    /// Seeded into live marking to check examiners keep to the standard.
    Seed,
}

impl Purpose {
    /// From a form or JSON value.
    pub fn parse(s: &str) -> Option<Purpose> {
        match s {
            "practice" => Some(Purpose::Practice),
            "qualification" => Some(Purpose::Qualification),
            "seed" => Some(Purpose::Seed),
            _ => None,
        }
    }

    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Practice => "practice",
            Purpose::Qualification => "qualification",
            Purpose::Seed => "seed",
        }
    }
}

/// A meeting row.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Meeting {
    /// Id.
    pub id: Uuid,
    /// The paper whose scripts are marked.
    pub paper_id: Uuid,
    /// Name, e.g. "HIS2L January 2011 standardisation".
    pub name: String,
    /// The day of the meeting.
    pub held_on: Option<Date>,
    /// `setup`, `marking` or `closed`.
    pub state: String,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl Meeting {
    /// The state as a type.
    pub fn state(&self) -> MeetingState {
        MeetingState::parse(&self.state)
    }
}
