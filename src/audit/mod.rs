//! The meeting's audit log: who changed what, when, from what to what, and why.
//! Append-only (a trigger refuses updates and deletes); written in the same
//! transaction as the change it records.

use serde::Serialize;
use serde_json::Value;
use sqlx::{FromRow, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::AppError;

/// One change to record.
pub struct Entry<'a> {
    /// The meeting.
    pub meeting_id: Uuid,
    /// Who did it.
    pub actor_id: Uuid,
    /// What, e.g. `mark.submit`.
    pub action: &'a str,
    /// The response concerned, if any.
    pub response_id: Option<Uuid>,
    /// The person concerned (whose mark), if any.
    pub subject_id: Option<Uuid>,
    /// The value before.
    pub old: Option<Value>,
    /// The value after.
    pub new: Option<Value>,
    /// Why, where a reason is required.
    pub reason: Option<&'a str>,
}

impl<'a> Entry<'a> {
    /// An entry about the meeting as a whole; fill in the rest with struct update syntax.
    pub fn new(meeting_id: Uuid, actor_id: Uuid, action: &'a str) -> Entry<'a> {
        Entry { meeting_id, actor_id, action, response_id: None, subject_id: None, old: None, new: None, reason: None }
    }
}

/// Appends an entry.
pub async fn record(db: impl PgExecutor<'_>, e: Entry<'_>) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO audit_log (meeting_id, actor_id, action, response_id, subject_id, old_value, new_value, reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(e.meeting_id)
    .bind(e.actor_id)
    .bind(e.action)
    .bind(e.response_id)
    .bind(e.subject_id)
    .bind(e.old)
    .bind(e.new)
    .bind(e.reason)
    .execute(db)
    .await?;
    Ok(())
}

/// An entry as read back, with names for people.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Logged {
    /// Sequence number.
    pub id: i64,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who (email).
    pub actor: Option<String>,
    /// What.
    pub action: String,
    /// Which response.
    pub response_id: Option<Uuid>,
    /// Candidate and question of that response, e.g. "0001 / 02".
    pub response_label: Option<String>,
    /// Whose mark (email).
    pub subject: Option<String>,
    /// Before.
    pub old_value: Option<Value>,
    /// After.
    pub new_value: Option<Value>,
    /// Why.
    pub reason: Option<String>,
}

/// The whole log of a meeting, oldest first (one query).
pub async fn list(db: impl PgExecutor<'_>, meeting_id: Uuid) -> Result<Vec<Logged>, AppError> {
    Ok(sqlx::query_as(
        "SELECT a.id, a.at, actor.email AS actor, a.action, a.response_id,
                s.candidate || ' / ' || q.number AS response_label, subject.email AS subject,
                a.old_value, a.new_value, a.reason
         FROM audit_log a
         LEFT JOIN users actor ON actor.id = a.actor_id
         LEFT JOIN users subject ON subject.id = a.subject_id
         LEFT JOIN responses r ON r.id = a.response_id
         LEFT JOIN scripts s ON s.id = r.script_id
         LEFT JOIN questions q ON q.id = r.question_id
         WHERE a.meeting_id = $1 ORDER BY a.id",
    )
    .bind(meeting_id)
    .fetch_all(db)
    .await?)
}

/// The log as CSV, for the board's records.
pub fn to_csv(entries: &[Logged]) -> Result<Vec<u8>, AppError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| AppError::Internal(e.into());
    w.write_record(["id", "at", "actor", "action", "response", "examiner", "old", "new", "reason"]).map_err(fail)?;
    for e in entries {
        let at = e.at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        w.write_record([
            e.id.to_string(),
            at,
            e.actor.clone().unwrap_or_default(),
            e.action.clone(),
            e.response_label.clone().unwrap_or_default(),
            e.subject.clone().unwrap_or_default(),
            e.old_value.as_ref().map(Value::to_string).unwrap_or_default(),
            e.new_value.as_ref().map(Value::to_string).unwrap_or_default(),
            e.reason.clone().unwrap_or_default(),
        ])
        .map_err(fail)?;
    }
    w.into_inner().map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))
}
