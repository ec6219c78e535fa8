//! Marks and definitive marks in the database: versioned, audited, one
//! transaction per change.

use serde::Serialize;
use serde_json::json;
use sqlx::{FromRow, PgConnection};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{MarkState, rules::check_mark};
use crate::{
    audit,
    error::AppError,
    live,
    markscheme::Question,
    meetings::{
        Meeting, MeetingState, Purpose, Role,
        policy::{self, Facts, Relation},
    },
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
    pub purpose: Purpose,
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
    purpose: Purpose,
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
         WHERE r.id = $2
         FOR SHARE OF ms",
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
    /// Draft or submitted.
    pub state: MarkState,
    /// Edit version, for detecting stale edits.
    pub version: i32,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

const MARK_COLUMNS: &str = "examiner_id, level, mark, comment, credited, state, version, updated_at";

/// The mark `examiner` gave this response in this meeting.
pub async fn own_mark(db: &mut PgConnection, meeting_id: Uuid, response_id: Uuid, examiner: Uuid) -> Result<Option<StoredMark>, AppError> {
    Ok(sqlx::query_as(&format!("SELECT {MARK_COLUMNS} FROM marks WHERE meeting_id = $1 AND response_id = $2 AND examiner_id = $3"))
        .bind(meeting_id)
        .bind(response_id)
        .bind(examiner)
        .fetch_optional(&mut *db)
        .await?)
}

/// A mark with the examiner's name, for the side-by-side view.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct NamedMark {
    /// The response it is on.
    pub response_id: Uuid,
    /// The mark.
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub mark: StoredMark,
    /// Examiner's email.
    pub email: String,
    /// Examiner's name.
    pub name: String,
    /// The examiner's team leader, if they are in a team (decides who may see the mark).
    #[serde(skip)]
    pub team_leader_id: Option<Uuid>,
    /// The response's script is released.
    #[serde(skip)]
    pub released: bool,
    /// The viewer has submitted their own mark on this response.
    #[serde(skip)]
    pub viewer_submitted: bool,
}

impl NamedMark {
    /// How the mark's author stands to `viewer`.
    pub fn relation_to(&self, viewer: Uuid) -> Relation {
        if self.mark.examiner_id == viewer {
            Relation::Own
        } else if self.team_leader_id == Some(viewer) {
            Relation::TeamMember
        } else {
            Relation::Other
        }
    }
}

/// The marks `viewer` (in `role`) may see, on one response or on every
/// response of the meeting: one query for the facts, the visibility policy
/// for the decision, mark by mark.
pub async fn visible_marks(
    db: &mut PgConnection,
    meeting_id: Uuid,
    response_id: Option<Uuid>,
    viewer: Uuid,
    role: Role,
) -> Result<Vec<NamedMark>, AppError> {
    let all: Vec<NamedMark> = sqlx::query_as(&format!(
        "SELECT m.response_id, {}, u.email, u.name, p.team_leader_id, ms.released_at IS NOT NULL AS released,
                EXISTS (SELECT 1 FROM marks o WHERE o.meeting_id = m.meeting_id AND o.response_id = m.response_id
                        AND o.examiner_id = $3 AND o.state = 'submitted') AS viewer_submitted
         FROM marks m JOIN users u ON u.id = m.examiner_id
         JOIN meeting_participants p ON p.meeting_id = m.meeting_id AND p.user_id = m.examiner_id
         JOIN responses r ON r.id = m.response_id
         JOIN meeting_scripts ms ON ms.meeting_id = m.meeting_id AND ms.script_id = r.script_id
         WHERE m.meeting_id = $1 AND ($2::uuid IS NULL OR m.response_id = $2)
         ORDER BY ms.position, r.question_id, lower(u.name)",
        MARK_COLUMNS.split(", ").map(|c| format!("m.{c}")).collect::<Vec<_>>().join(", ")
    ))
    .bind(meeting_id)
    .bind(response_id)
    .bind(viewer)
    .fetch_all(&mut *db)
    .await?;
    Ok(all
        .into_iter()
        .filter(|m| {
            let facts = Facts { role, released: m.released, submitted_own: m.viewer_submitted };
            policy::may_see_mark(facts, m.relation_to(viewer))
        })
        .collect())
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

/// The meeting's state, read under a share lock so that a concurrent open or
/// close waits for this transaction (and this one sees the outcome of theirs).
pub(super) async fn locked_state(tx: &mut PgConnection, meeting_id: Uuid) -> Result<MeetingState, AppError> {
    Ok(sqlx::query_scalar("SELECT state FROM meetings WHERE id = $1 FOR SHARE").bind(meeting_id).fetch_one(&mut *tx).await?)
}

pub(super) fn refuse_unless_marking(state: MeetingState) -> Result<(), AppError> {
    match state {
        MeetingState::Marking => Ok(()),
        MeetingState::Setup => Err(AppError::Conflict("The meeting has not been opened for marking yet.".into())),
        MeetingState::Closed => Err(AppError::Conflict("The meeting is closed: marks can no longer change.".into())),
    }
}

pub(super) fn stale(current: i32, sent: i32) -> AppError {
    AppError::Conflict(format!(
        "This was changed elsewhere (perhaps in another tab) after you opened it: you sent version {sent}, the latest is {current}. \
         Reload the page to see the latest before changing it again."
    ))
}

/// Saves an examiner's draft or submitted mark.
pub async fn save_mark(
    tx: &mut PgConnection,
    meeting: &Meeting,
    ctx: &ResponseCtx,
    examiner: Uuid,
    input: MarkInput,
) -> Result<StoredMark, AppError> {
    refuse_unless_marking(locked_state(tx, meeting.id).await?)?;
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
        if old.state == MarkState::Submitted {
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
    let state = if input.submit { MarkState::Submitted } else { MarkState::Draft };
    // The conditions are repeated in the upsert: two first saves at the same
    // moment find no row to lock above, and the second must not overwrite the first.
    let stored: Option<StoredMark> = sqlx::query_as(&format!(
        "INSERT INTO marks (meeting_id, response_id, examiner_id, level, mark, comment, credited, state, submitted_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $8 = 'submitted' THEN now() END)
         ON CONFLICT (meeting_id, response_id, examiner_id) DO UPDATE SET
           level = EXCLUDED.level, mark = EXCLUDED.mark, comment = EXCLUDED.comment, credited = EXCLUDED.credited,
           state = EXCLUDED.state, submitted_at = EXCLUDED.submitted_at, version = marks.version + 1, updated_at = now()
         WHERE marks.state <> 'submitted' AND ($9::int IS NULL OR marks.version = $9)
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
    .bind(input.version)
    .fetch_optional(&mut *tx)
    .await?;
    let stored = stored.ok_or_else(|| {
        AppError::Conflict("This mark was changed elsewhere at the same moment. Reload the page to see it before changing it again.".into())
    })?;
    audit::record(
        &mut *tx,
        audit::Entry {
            response_id: Some(ctx.response_id),
            subject_id: Some(examiner),
            old: existing.map(|m| json!({"level": m.level, "mark": m.mark, "comment": m.comment, "state": m.state})),
            new: Some(json!({"level": stored.level, "mark": stored.mark, "comment": stored.comment, "state": stored.state})),
            ..audit::Entry::new(meeting.id, examiner, if input.submit { "mark.submit" } else { "mark.draft" })
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
pub async fn reopen(
    tx: &mut PgConnection,
    meeting: &Meeting,
    ctx: &ResponseCtx,
    examiner: Uuid,
    actor: Uuid,
    reason: &str,
) -> Result<StoredMark, AppError> {
    refuse_unless_marking(locked_state(tx, meeting.id).await?)?;
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
            response_id: Some(ctx.response_id),
            subject_id: Some(examiner),
            old: Some(json!({"state": MarkState::Submitted})),
            new: Some(json!({"state": MarkState::Draft})),
            reason: Some(reason).filter(|r| !r.trim().is_empty()),
            ..audit::Entry::new(meeting.id, actor, "mark.reopen")
        },
    )
    .await?;
    live::notify(&mut *tx, &mark_event(meeting.id, ctx.response_id, examiner)).await?;
    Ok(reopened)
}
