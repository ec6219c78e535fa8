//! Marks and definitive marks in the database: versioned, audited, one
//! transaction per change.

use serde::Serialize;
use serde_json::json;
use sqlx::{FromRow, PgConnection};
use time::OffsetDateTime;
use uuid::Uuid;

use super::rules::check_mark;
use crate::{
    audit,
    error::AppError,
    live,
    markscheme::Question,
    meetings::{Meeting, MeetingState},
    papers::store as papers_store,
};

/// A response as marked in a meeting, with its question and release state.
#[derive(Debug, Clone)]
pub struct ResponseCtx {
    /// Response id.
    pub response_id: Uuid,
    /// Script id.
    pub script_id: Uuid,
    /// Candidate number.
    pub candidate: String,
    /// The question, with its levels.
    pub question: Question,
    /// Typed answer.
    pub text: Option<String>,
    /// Scan, if any.
    pub attachment_id: Option<Uuid>,
    /// The scan's type.
    pub content_type: Option<String>,
    /// Whether the script has been released.
    pub released: bool,
    /// Tolerance in marks for this question in this meeting.
    pub tolerance: i32,
    /// Why the script is in the meeting.
    pub purpose: String,
}

#[derive(FromRow)]
struct ResponseRow {
    script_id: Uuid,
    candidate: String,
    question_id: Uuid,
    text: Option<String>,
    attachment_id: Option<Uuid>,
    content_type: Option<String>,
    released: bool,
    tolerance: Option<i32>,
    purpose: String,
}

/// Loads a response of the meeting; 404 when it is not one of the meeting's.
pub async fn response_in_meeting(db: &mut PgConnection, meeting: &Meeting, response_id: Uuid) -> Result<ResponseCtx, AppError> {
    let row: ResponseRow = sqlx::query_as(
        "SELECT s.id AS script_id, s.candidate, r.question_id, r.text, r.attachment_id, a.content_type,
                ms.released_at IS NOT NULL AS released, t.tolerance, ms.purpose
         FROM responses r
         JOIN scripts s ON s.id = r.script_id
         JOIN meeting_scripts ms ON ms.script_id = s.id AND ms.meeting_id = $1
         LEFT JOIN attachments a ON a.id = r.attachment_id
         LEFT JOIN meeting_tolerances t ON t.meeting_id = ms.meeting_id AND t.question_id = r.question_id
         WHERE r.id = $2",
    )
    .bind(meeting.id)
    .bind(response_id)
    .fetch_optional(&mut *db)
    .await?
    .ok_or_else(|| AppError::NotFound("That response is not one of this meeting's.".into()))?;
    let paper = papers_store::load(db, meeting.paper_id).await?.ok_or_else(|| AppError::not_found("The meeting's paper"))?;
    let question = paper
        .scheme
        .questions
        .iter()
        .zip(&paper.question_ids)
        .find(|(_, id)| **id == row.question_id)
        .map(|(q, _)| q.clone())
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("question of response {response_id} missing")))?;
    Ok(ResponseCtx {
        response_id,
        script_id: row.script_id,
        candidate: row.candidate,
        tolerance: row.tolerance.unwrap_or_else(|| super::rules::default_tolerance(question.max_mark)),
        question,
        text: row.text,
        attachment_id: row.attachment_id,
        content_type: row.content_type,
        released: row.released,
        purpose: row.purpose,
    })
}

/// An examiner's stored mark.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct StoredMark {
    /// Whose.
    pub examiner_id: Uuid,
    /// Level (None for questions not marked by levels).
    pub level: Option<i32>,
    /// Mark.
    pub mark: i32,
    /// Rationale comment.
    pub comment: String,
    /// Indicative-content points credited.
    pub credited: Vec<String>,
    /// `draft` or `submitted`.
    pub state: String,
    /// Edit version, for detecting stale edits.
    pub version: i32,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

const MARK_COLUMNS: &str = "examiner_id, level, mark, comment, credited, state, version, updated_at";

/// The mark `examiner` gave this response in this meeting.
pub async fn own_mark(db: &mut PgConnection, meeting_id: Uuid, response_id: Uuid, examiner: Uuid) -> Result<Option<StoredMark>, AppError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {MARK_COLUMNS} FROM marks WHERE meeting_id = $1 AND response_id = $2 AND examiner_id = $3"
    ))
    .bind(meeting_id)
    .bind(response_id)
    .bind(examiner)
    .fetch_optional(&mut *db)
    .await?)
}

/// A mark with the examiner's name, for the principal examiner's side-by-side view.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct NamedMark {
    /// The mark.
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub mark: StoredMark,
    /// Examiner's email.
    pub email: String,
    /// Examiner's name.
    pub name: String,
}

/// Marks on a response visible to a viewer: all (`team_of` None) or those of
/// one team leader's team and the leader's own.
pub async fn marks_on(db: &mut PgConnection, meeting_id: Uuid, response_id: Uuid, team_of: Option<Uuid>) -> Result<Vec<NamedMark>, AppError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {}, u.email, u.name FROM marks m JOIN users u ON u.id = m.examiner_id
         JOIN meeting_participants p ON p.meeting_id = m.meeting_id AND p.user_id = m.examiner_id
         WHERE m.meeting_id = $1 AND m.response_id = $2
           AND ($3::uuid IS NULL OR p.team_leader_id = $3 OR m.examiner_id = $3)
         ORDER BY lower(u.name)",
        MARK_COLUMNS.split(", ").map(|c| format!("m.{c}")).collect::<Vec<_>>().join(", ")
    ))
    .bind(meeting_id)
    .bind(response_id)
    .bind(team_of)
    .fetch_all(&mut *db)
    .await?)
}

/// What an examiner sends.
#[derive(Debug, Clone)]
pub struct MarkInput {
    /// Level chosen.
    pub level: Option<i32>,
    /// Mark within the level.
    pub mark: i32,
    /// Rationale.
    pub comment: String,
    /// Indicative-content points credited.
    pub credited: Vec<String>,
    /// Lock the mark.
    pub submit: bool,
    /// The version the edit was based on; None writes unconditionally (API only).
    pub version: Option<i32>,
}

fn refuse_unless_marking(meeting: &Meeting) -> Result<(), AppError> {
    match meeting.state() {
        MeetingState::Marking => Ok(()),
        MeetingState::Setup => Err(AppError::Conflict("The meeting has not been opened for marking yet.".into())),
        MeetingState::Closed => Err(AppError::Conflict("The meeting is closed: marks can no longer change.".into())),
    }
}

fn stale(current: i32, sent: i32) -> AppError {
    AppError::Conflict(format!(
        "This was changed elsewhere (perhaps in another tab) after you opened it: you sent version {sent}, the latest is {current}. \
         Reload the page to see the latest before changing it again."
    ))
}

/// Saves an examiner's draft or submitted mark.
pub async fn save_mark(tx: &mut PgConnection, meeting: &Meeting, ctx: &ResponseCtx, examiner: Uuid, input: MarkInput) -> Result<StoredMark, AppError> {
    refuse_unless_marking(meeting)?;
    if ctx.released {
        return Err(AppError::Conflict("This script has been released: its marks can no longer change.".into()));
    }
    let level = check_mark(&ctx.question, input.level, input.mark).map_err(AppError::invalid)?;
    if input.comment.len() > 20_000 {
        return Err(AppError::invalid("A comment can be at most 20,000 characters."));
    }
    let existing: Option<StoredMark> = sqlx::query_as(&format!(
        "SELECT {MARK_COLUMNS} FROM marks WHERE meeting_id = $1 AND response_id = $2 AND examiner_id = $3 FOR UPDATE"
    ))
    .bind(meeting.id)
    .bind(ctx.response_id)
    .bind(examiner)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(old) = &existing {
        if old.state == "submitted" {
            return Err(AppError::Conflict(
                "You have submitted this mark, so it is locked. Ask the principal examiner to reopen it if it must change.".into(),
            ));
        }
        if let Some(v) = input.version.filter(|v| *v != old.version) {
            return Err(stale(old.version, v));
        }
    } else if let Some(v) = input.version.filter(|v| *v != 0) {
        return Err(stale(0, v));
    }
    let state = if input.submit { "submitted" } else { "draft" };
    let stored: StoredMark = sqlx::query_as(&format!(
        "INSERT INTO marks (meeting_id, response_id, examiner_id, level, mark, comment, credited, state, submitted_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $8 = 'submitted' THEN now() END)
         ON CONFLICT (meeting_id, response_id, examiner_id) DO UPDATE SET
           level = EXCLUDED.level, mark = EXCLUDED.mark, comment = EXCLUDED.comment, credited = EXCLUDED.credited,
           state = EXCLUDED.state, submitted_at = EXCLUDED.submitted_at, version = marks.version + 1, updated_at = now()
         RETURNING {MARK_COLUMNS}"
    ))
    .bind(meeting.id)
    .bind(ctx.response_id)
    .bind(examiner)
    .bind(level)
    .bind(input.mark)
    .bind(&input.comment)
    .bind(&input.credited)
    .bind(state)
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        audit::Entry {
            meeting_id: meeting.id,
            actor_id: examiner,
            action: if input.submit { "mark.submit" } else { "mark.draft" },
            response_id: Some(ctx.response_id),
            subject_id: Some(examiner),
            old: existing.map(|m| json!({"level": m.level, "mark": m.mark, "comment": m.comment, "state": m.state})),
            new: Some(json!({"level": stored.level, "mark": stored.mark, "comment": stored.comment, "state": stored.state})),
            reason: None,
        },
    )
    .await?;
    live::notify(&mut *tx, &mark_event(meeting.id, ctx.response_id, examiner)).await?;
    Ok(stored)
}

fn mark_event(meeting_id: Uuid, response_id: Uuid, examiner: Uuid) -> live::Event {
    live::Event { meeting_id, kind: "mark".into(), response_id: Some(response_id), examiner_id: Some(examiner) }
}

/// Reopens a submitted mark so the examiner can change it (principal examiner).
pub async fn reopen(tx: &mut PgConnection, meeting: &Meeting, ctx: &ResponseCtx, examiner: Uuid, actor: Uuid, reason: &str) -> Result<StoredMark, AppError> {
    refuse_unless_marking(meeting)?;
    if ctx.released {
        return Err(AppError::Conflict("This script has been released: its marks can no longer change.".into()));
    }
    let reopened: Option<StoredMark> = sqlx::query_as(&format!(
        "UPDATE marks SET state = 'draft', submitted_at = NULL, version = version + 1, updated_at = now()
         WHERE meeting_id = $1 AND response_id = $2 AND examiner_id = $3 AND state = 'submitted' RETURNING {MARK_COLUMNS}"
    ))
    .bind(meeting.id)
    .bind(ctx.response_id)
    .bind(examiner)
    .fetch_optional(&mut *tx)
    .await?;
    let reopened = reopened.ok_or_else(|| AppError::Conflict("That examiner has no submitted mark on this response to reopen.".into()))?;
    audit::record(
        &mut *tx,
        audit::Entry {
            meeting_id: meeting.id,
            actor_id: actor,
            action: "mark.reopen",
            response_id: Some(ctx.response_id),
            subject_id: Some(examiner),
            old: Some(json!({"state": "submitted"})),
            new: Some(json!({"state": "draft"})),
            reason: Some(reason).filter(|r| !r.trim().is_empty()),
        },
    )
    .await?;
    live::notify(&mut *tx, &mark_event(meeting.id, ctx.response_id, examiner)).await?;
    Ok(reopened)
}

/// The principal examiner's definitive mark.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Definitive {
    /// Level.
    pub level: Option<i32>,
    /// Mark.
    pub mark: i32,
    /// Rationale, Markdown.
    pub rationale: String,
    /// Edit version.
    pub version: i32,
    /// Changed after the script was released.
    pub changed_after_release: bool,
    /// Why it was changed after release.
    pub change_reason: Option<String>,
}

const DEFINITIVE_COLUMNS: &str = "level, mark, rationale, version, changed_after_release, change_reason";

/// The definitive mark of a response, if set.
pub async fn definitive(db: &mut PgConnection, meeting_id: Uuid, response_id: Uuid) -> Result<Option<Definitive>, AppError> {
    Ok(sqlx::query_as(&format!("SELECT {DEFINITIVE_COLUMNS} FROM definitive_marks WHERE meeting_id = $1 AND response_id = $2"))
        .bind(meeting_id)
        .bind(response_id)
        .fetch_optional(&mut *db)
        .await?)
}

/// What the principal examiner sends.
#[derive(Debug, Clone)]
pub struct DefinitiveInput {
    /// Level.
    pub level: Option<i32>,
    /// Mark.
    pub mark: i32,
    /// Rationale, Markdown.
    pub rationale: String,
    /// Why it changes after release (required then).
    pub reason: Option<String>,
    /// Version the edit was based on; None writes unconditionally.
    pub version: Option<i32>,
}

/// Records or changes the definitive mark. After release a reason is required
/// and examiners are shown that it changed.
pub async fn save_definitive(tx: &mut PgConnection, meeting: &Meeting, ctx: &ResponseCtx, actor: Uuid, input: DefinitiveInput) -> Result<Definitive, AppError> {
    if meeting.state() == MeetingState::Closed {
        return Err(AppError::Conflict("The meeting is closed: definitive marks can no longer change.".into()));
    }
    let level = check_mark(&ctx.question, input.level, input.mark).map_err(AppError::invalid)?;
    let reason = input.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    if ctx.released && reason.is_none() {
        return Err(AppError::invalid(
            "This script has been released: give a reason for changing its definitive mark (examiners will see that it changed).",
        ));
    }
    let existing: Option<Definitive> = sqlx::query_as(&format!(
        "SELECT {DEFINITIVE_COLUMNS} FROM definitive_marks WHERE meeting_id = $1 AND response_id = $2 FOR UPDATE"
    ))
    .bind(meeting.id)
    .bind(ctx.response_id)
    .fetch_optional(&mut *tx)
    .await?;
    match (&existing, input.version) {
        (Some(old), Some(v)) if v != old.version => return Err(stale(old.version, v)),
        (None, Some(v)) if v != 0 => return Err(stale(0, v)),
        _ => {}
    }
    let stored: Definitive = sqlx::query_as(&format!(
        "INSERT INTO definitive_marks (meeting_id, response_id, level, mark, rationale, set_by, changed_after_release, change_reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (meeting_id, response_id) DO UPDATE SET level = EXCLUDED.level, mark = EXCLUDED.mark,
           rationale = EXCLUDED.rationale, set_by = EXCLUDED.set_by, version = definitive_marks.version + 1, updated_at = now(),
           changed_after_release = definitive_marks.changed_after_release OR EXCLUDED.changed_after_release,
           change_reason = COALESCE(EXCLUDED.change_reason, definitive_marks.change_reason)
         RETURNING {DEFINITIVE_COLUMNS}"
    ))
    .bind(meeting.id)
    .bind(ctx.response_id)
    .bind(level)
    .bind(input.mark)
    .bind(&input.rationale)
    .bind(actor)
    .bind(ctx.released)
    .bind(reason)
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        audit::Entry {
            meeting_id: meeting.id,
            actor_id: actor,
            action: if ctx.released { "definitive.change_after_release" } else { "definitive.set" },
            response_id: Some(ctx.response_id),
            subject_id: None,
            old: existing.map(|d| json!({"level": d.level, "mark": d.mark, "rationale": d.rationale})),
            new: Some(json!({"level": stored.level, "mark": stored.mark, "rationale": stored.rationale})),
            reason,
        },
    )
    .await?;
    let event = live::Event { meeting_id: meeting.id, kind: "definitive".into(), response_id: Some(ctx.response_id), examiner_id: None };
    live::notify(&mut *tx, &event).await?;
    Ok(stored)
}

/// Releases scripts (one, or every unreleased one): each needs a definitive
/// mark on every response. Returns how many scripts were released.
pub async fn release(tx: &mut PgConnection, meeting: &Meeting, script: Option<Uuid>, actor: Uuid) -> Result<usize, AppError> {
    refuse_unless_marking(meeting)?;
    let missing: Vec<(String, String)> = sqlx::query_as(
        "SELECT s.candidate, q.number FROM meeting_scripts ms JOIN scripts s ON s.id = ms.script_id
         JOIN responses r ON r.script_id = s.id JOIN questions q ON q.id = r.question_id
         LEFT JOIN definitive_marks d ON d.meeting_id = ms.meeting_id AND d.response_id = r.id
         WHERE ms.meeting_id = $1 AND ms.released_at IS NULL AND ($2::uuid IS NULL OR ms.script_id = $2) AND d.response_id IS NULL
         ORDER BY ms.position, q.position",
    )
    .bind(meeting.id)
    .bind(script)
    .fetch_all(&mut *tx)
    .await?;
    if !missing.is_empty() {
        return Err(AppError::Invalid {
            message: "Nothing was released: record a definitive mark for every response first.".into(),
            details: missing.iter().map(|(c, q)| format!("Candidate {c}, question {q} has no definitive mark.")).collect(),
        });
    }
    let released: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE meeting_scripts SET released_at = now(), released_by = $3
         WHERE meeting_id = $1 AND released_at IS NULL AND ($2::uuid IS NULL OR script_id = $2) RETURNING script_id",
    )
    .bind(meeting.id)
    .bind(script)
    .bind(actor)
    .fetch_all(&mut *tx)
    .await?;
    if script.is_some() && released.is_empty() {
        return Err(AppError::Conflict("That script has already been released.".into()));
    }
    audit::record(
        &mut *tx,
        audit::Entry {
            meeting_id: meeting.id,
            actor_id: actor,
            action: if script.is_some() { "release.script" } else { "release.all" },
            response_id: None,
            subject_id: None,
            old: None,
            new: Some(json!({"scripts": released})),
            reason: None,
        },
    )
    .await?;
    live::notify(&mut *tx, &live::Event { meeting_id: meeting.id, kind: "release".into(), response_id: None, examiner_id: None }).await?;
    Ok(released.len())
}
