//! Adjudication: the principal examiner's definitive marks and releasing
//! scripts to examiners. Versioned and audited like examiners' marks.

use serde::Serialize;
use serde_json::json;
use sqlx::{PgConnection, types::Json};

use super::{
    annotations::{self, Annotation},
    rules::{self, Part, check_mark},
    store::{ResponseCtx, lock_response, locked_state, refuse_unless_marking, stale},
};
use crate::{
    audit::{self, Actor},
    error::AppError,
    live,
    meetings::{Meeting, MeetingId, MeetingState, Purpose},
    scripts::{ResponseId, ScriptId},
    users::UserId,
};

/// The principal examiner's definitive mark.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Definitive {
    /// Level.
    pub level: Option<i32>,
    /// Mark (for a question marked per objective, the sum of its parts).
    pub mark: i32,
    /// The level and mark per objective, for a question marked on separate grids.
    #[schema(value_type = Vec<Part>)]
    pub parts: Json<Vec<Part>>,
    /// The principal examiner's annotations on the answer.
    #[schema(value_type = Vec<Annotation>)]
    pub annotations: Json<Vec<Annotation>>,
    /// Rationale, Markdown.
    pub rationale: String,
    /// Edit version.
    pub version: i32,
    /// Changed after the script was released.
    pub changed_after_release: bool,
    /// Why it was changed after release.
    pub change_reason: Option<String>,
}

/// The definitive mark of a response, if set.
pub async fn definitive(db: &mut PgConnection, meeting_id: MeetingId, response_id: ResponseId) -> Result<Option<Definitive>, AppError> {
    Ok(sqlx::query_as!(
        Definitive,
        r#"SELECT level, mark, parts AS "parts: Json<Vec<Part>>", annotations AS "annotations: Json<Vec<Annotation>>", rationale, version, changed_after_release, change_reason
         FROM definitive_marks WHERE meeting_id = $1 AND response_id = $2"#,
        meeting_id as MeetingId,
        response_id as ResponseId,
    )
    .fetch_optional(&mut *db)
    .await?)
}

/// What the principal examiner sends.
#[derive(Debug, Clone)]
pub struct DefinitiveInput {
    /// Level.
    pub level: Option<i32>,
    /// Mark (may be left out when parts are given: their sum).
    pub mark: Option<i32>,
    /// The level and mark per objective, for a question marked on separate grids.
    pub parts: Vec<Part>,
    /// Annotations on the answer (replacing those saved before).
    pub annotations: Vec<Annotation>,
    /// Rationale, Markdown.
    pub rationale: String,
    /// Why it changes after release (required then).
    pub reason: Option<String>,
    /// Version the edit was based on; None writes unconditionally.
    pub version: Option<i32>,
    /// For a qualification script once qualification is open: whether the
    /// results of the examiners who submitted its set are judged again
    /// against the new mark (`None` refuses, asking the principal examiner to decide).
    pub reevaluate: Option<bool>,
}

/// Records or changes the definitive mark. After release a reason is required
/// and examiners are shown that it changed.
pub async fn save_definitive(
    tx: &mut PgConnection,
    meeting: &Meeting,
    ctx: &ResponseCtx,
    actor: Actor,
    input: DefinitiveInput,
) -> Result<Definitive, AppError> {
    rules::check_len("A rationale", &input.rationale, rules::MAX_RATIONALE_CHARS).map_err(AppError::invalid)?;
    if let Some(r) = &input.reason {
        rules::check_len("A reason", r, rules::MAX_REASON_CHARS).map_err(AppError::invalid)?;
    }
    let (state, released) = lock_response(tx, meeting.meeting_id(), ctx).await?;
    let rejudge = ctx.purpose == Purpose::Qualification && crate::qualification::store::is_open(&mut *tx, meeting.meeting_id()).await?;
    if rejudge && input.reevaluate.is_none() {
        return Err(AppError::Conflict(
            "Qualification is open and examiners are judged against this definitive mark: look at who is affected, then say \
             whether their results are judged again (reevaluate: true) or stand (reevaluate: false)."
                .into(),
        ));
    }
    if state == MeetingState::Closed {
        return Err(AppError::Conflict("The meeting is closed: definitive marks can no longer change.".into()));
    }
    let checked = check_mark(&ctx.question, input.level, input.mark, &input.parts).map_err(AppError::invalid)?;
    let annotations = annotations::check(input.annotations, &ctx.annotation_target()).map_err(AppError::invalid)?;
    let reason = input.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    if released && reason.is_none() {
        return Err(AppError::invalid(
            "This script has been released: give a reason for changing its definitive mark (examiners will see that it changed).",
        ));
    }
    let existing = sqlx::query_as!(
        Definitive,
        r#"SELECT level, mark, parts AS "parts: Json<Vec<Part>>", annotations AS "annotations: Json<Vec<Annotation>>", rationale, version, changed_after_release, change_reason
         FROM definitive_marks WHERE meeting_id = $1 AND response_id = $2 FOR UPDATE"#,
        meeting.id,
        ctx.response_id as ResponseId,
    )
    .fetch_optional(&mut *tx)
    .await?;
    match (&existing, input.version) {
        (Some(old), Some(v)) if v != old.version => return Err(stale(old.version, v)),
        (None, Some(v)) if v != 0 => return Err(stale(0, v)),
        _ => {}
    }
    let stored = sqlx::query_as!(
        Definitive,
        r#"INSERT INTO definitive_marks (meeting_id, response_id, level, mark, rationale, set_by, changed_after_release, change_reason,
                                       scheme_version_id, parts, annotations)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $10, $11, $12)
         ON CONFLICT (meeting_id, response_id) DO UPDATE SET level = EXCLUDED.level, mark = EXCLUDED.mark, parts = EXCLUDED.parts,
           annotations = EXCLUDED.annotations,
           scheme_version_id = EXCLUDED.scheme_version_id,
           rationale = EXCLUDED.rationale, set_by = EXCLUDED.set_by, version = definitive_marks.version + 1, updated_at = now(),
           changed_after_release = definitive_marks.changed_after_release OR EXCLUDED.changed_after_release,
           change_reason = COALESCE(EXCLUDED.change_reason, definitive_marks.change_reason)
         WHERE $9::int IS NULL OR definitive_marks.version = $9
         RETURNING level, mark, parts AS "parts: Json<Vec<Part>>", annotations AS "annotations: Json<Vec<Annotation>>", rationale, version, changed_after_release, change_reason"#,
        meeting.id,
        ctx.response_id as ResponseId,
        checked.level,
        checked.mark,
        input.rationale,
        actor.0 as UserId,
        released,
        reason,
        input.version,
        ctx.scheme_version_id,
        Json(&checked.parts) as _,
        Json(&annotations) as _,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::Conflict("The definitive mark was changed elsewhere at the same moment. Reload the page to see it.".into()))?;
    if rejudge && let Some(apply) = input.reevaluate {
        crate::qualification::store::reevaluate(tx, meeting.meeting_id(), ctx.script_id, apply, actor).await?;
    }
    let before = existing.map(|d| json!({"level": d.level, "mark": d.mark, "parts": d.parts, "rationale": d.rationale}));
    let after = json!({"level": stored.level, "mark": stored.mark, "parts": stored.parts, "rationale": stored.rationale});
    // Every adjudication is kept as a ruling, with the marks as they stand now.
    crate::living::store::record_ruling(tx, meeting.meeting_id(), ctx.response_id, before.clone(), after.clone(), actor).await?;
    audit::record(
        &mut *tx,
        audit::Entry {
            response_id: Some(ctx.response_id.0),
            old: before.clone(),
            new: Some(after.clone()),
            reason,
            ..audit::Entry::meeting(
                meeting.meeting_id(),
                actor,
                if released { "definitive.change_after_release" } else { "definitive.set" },
            )
        },
    )
    .await?;
    let event = live::Event::about(meeting.meeting_id(), live::Kind::Definitive, Some(ctx.response_id), None);
    live::notify(&mut *tx, &event).await?;
    Ok(stored)
}

/// Releases scripts (one, or every unreleased one): each needs a definitive
/// mark on every response. Returns how many scripts were released.
pub async fn release(tx: &mut PgConnection, meeting: &Meeting, script: Option<ScriptId>, actor: Actor) -> Result<usize, AppError> {
    refuse_unless_marking(locked_state(tx, meeting.meeting_id()).await?)?;
    // Only practice scripts are released to everyone: a qualification set is
    // released to each examiner as they submit it, and a seed never announced.
    if let Some(id) = script {
        let purpose = sqlx::query_scalar!(
            r#"SELECT purpose AS "purpose: Purpose" FROM meeting_scripts WHERE meeting_id = $1 AND script_id = $2"#,
            meeting.id,
            id as ScriptId,
        )
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(p @ (Purpose::Qualification | Purpose::Seed)) = purpose {
            return Err(AppError::Conflict(format!(
                "A {p} script is not released to everyone: {}",
                if p == Purpose::Seed {
                    "seeds are never announced to the examiners who mark them."
                } else {
                    "each examiner sees a qualification set's definitive marks when they submit the set."
                }
            )));
        }
    }
    let missing: Vec<(String, String)> = sqlx::query!(
        "SELECT s.candidate, q.number FROM meeting_scripts ms JOIN scripts s ON s.id = ms.script_id
         JOIN responses r ON r.script_id = s.id JOIN questions q ON q.id = r.question_id
         LEFT JOIN definitive_marks d ON d.meeting_id = ms.meeting_id AND d.response_id = r.id
         WHERE ms.meeting_id = $1 AND ms.released_at IS NULL AND ($2::uuid IS NULL OR ms.script_id = $2) AND d.response_id IS NULL
           AND ms.purpose = 'practice'
         ORDER BY ms.position, q.position",
        meeting.id,
        script as Option<ScriptId>,
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|r| (r.candidate, r.number))
    .collect();
    if !missing.is_empty() {
        return Err(AppError::Invalid {
            message: "Nothing was released: record a definitive mark for every response first.".into(),
            details: missing.iter().map(|(c, q)| format!("Candidate {c}, question {q} has no definitive mark.")).collect(),
        });
    }
    let released = sqlx::query_scalar!(
        r#"UPDATE meeting_scripts SET released_at = now(), released_by = $3
           WHERE meeting_id = $1 AND released_at IS NULL AND ($2::uuid IS NULL OR script_id = $2) AND purpose = 'practice'
           RETURNING script_id AS "script_id: ScriptId""#,
        meeting.id,
        script as Option<ScriptId>,
        actor.0 as UserId,
    )
    .fetch_all(&mut *tx)
    .await?;
    if script.is_some() && released.is_empty() {
        return Err(AppError::Conflict("That script has already been released.".into()));
    }
    audit::record(
        &mut *tx,
        audit::Entry {
            new: Some(json!({"scripts": released})),
            ..audit::Entry::meeting(meeting.meeting_id(), actor, if script.is_some() { "release.script" } else { "release.all" })
        },
    )
    .await?;
    live::notify(&mut *tx, &live::Event::about(meeting.meeting_id(), live::Kind::Release, None, None)).await?;
    Ok(released.len())
}
