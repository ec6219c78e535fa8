//! Marks and definitive marks in the database: versioned, audited, each
//! change in one transaction (a practice save: one statement, which it may
//! share with the saves of the same moment).

use std::{
    collections::HashMap,
    sync::{Arc, LazyLock, Mutex},
};

use serde::Serialize;
use serde_json::json;
use sqlx::{PgConnection, types::Json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    MarkState,
    annotations::{self, Annotation},
    rules::{self, Part, check_mark},
};
use crate::{
    audit::{self, Actor},
    auth::tokens,
    error::AppError,
    live,
    markscheme::Question,
    meetings::{
        Meeting, MeetingId, MeetingState, Purpose, Role,
        access::{self, Marker},
        policy::{self, Facts, Relation},
    },
    papers::versions::{self, Point},
    qualification::store as qualification,
    scripts::{ResponseId, ScriptId},
    state::AppState,
    users::UserId,
};

/// A response as marked in a meeting, with its question and release state.
#[derive(Debug, Clone)]
pub struct ResponseCtx {
    /// Response id.
    pub response_id: ResponseId,
    /// Script id.
    pub script_id: ScriptId,
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
    /// The version of the mark scheme the response is marked under.
    pub scheme_version_id: Uuid,
    /// The question's points of indicative content in that version.
    pub points: Vec<Point>,
    /// The scheme's general guidance in that version (Markdown).
    pub guidance: String,
}

impl ResponseCtx {
    /// What annotations on this response may be anchored to and name.
    pub fn annotation_target(&self) -> annotations::Target<'_> {
        annotations::Target {
            text: self.text.as_deref(),
            scanned: self.attachment_id.is_some(),
            question: &self.question,
            points: &self.points,
        }
    }
}

struct ResponseRow {
    script_id: ScriptId,
    candidate: String,
    question_id: Uuid,
    text: Option<String>,
    attachment_id: Option<Uuid>,
    content_type: Option<String>,
    released: bool,
    tolerance: Option<i32>,
    purpose: Purpose,
    scheme_version_id: Uuid,
}

/// Loads a response of the meeting; 404 when it is not one of the meeting's.
pub async fn response_in_meeting(db: &mut PgConnection, meeting: &Meeting, response_id: ResponseId) -> Result<ResponseCtx, AppError> {
    // A paper always has a version (its import made version 1), so the
    // COALESCE is never NULL; a LEFT JOIN leaves the scan's type and the
    // tolerance nullable.
    let row = sqlx::query_as!(
        ResponseRow,
        r#"SELECT s.id AS "script_id: ScriptId", s.candidate, r.question_id, r.text, r.attachment_id, a.content_type AS "content_type?",
                ms.released_at IS NOT NULL AS "released!", t.tolerance AS "tolerance?", ms.purpose AS "purpose: Purpose",
                -- Pinned once the meeting opens; while it is set up it follows the newest version.
                COALESCE(m.scheme_version_id,
                         (SELECT v.id FROM scheme_versions v WHERE v.paper_id = m.paper_id ORDER BY v.number DESC LIMIT 1))
                  AS "scheme_version_id!"
         FROM responses r
         JOIN scripts s ON s.id = r.script_id
         JOIN meeting_scripts ms ON ms.script_id = s.id AND ms.meeting_id = $1
         JOIN meetings m ON m.id = ms.meeting_id
         LEFT JOIN attachments a ON a.id = r.attachment_id
         LEFT JOIN meeting_tolerances t ON t.meeting_id = ms.meeting_id AND t.question_id = r.question_id
         WHERE r.id = $2"#,
        meeting.id,
        response_id as ResponseId,
    )
    .fetch_optional(&mut *db)
    .await?
    .ok_or_else(|| AppError::NotFound("That response is not one of this meeting's.".into()))?;
    let version = versions::load(&mut *db, row.scheme_version_id)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("scheme version {} missing", row.scheme_version_id)))?;
    let (question, points) = version
        .question(row.question_id)
        .map(|(q, p)| (q.clone(), p.to_vec()))
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("question of response {response_id} missing from its scheme version")))?;
    Ok(ResponseCtx {
        response_id,
        script_id: row.script_id,
        candidate: row.candidate,
        tolerance: rules::tolerance_in_force(row.tolerance, question.max_mark),
        question,
        text: row.text,
        attachment_id: row.attachment_id,
        content_type: row.content_type,
        released: row.released,
        purpose: row.purpose,
        scheme_version_id: row.scheme_version_id,
        points,
        guidance: version.scheme.guidance.clone(),
    })
}

/// An examiner's stored mark.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StoredMark {
    /// Whose.
    pub examiner_id: UserId,
    /// Level (None for questions not marked by levels).
    pub level: Option<i32>,
    /// Mark (for a question marked per objective, the sum of its parts).
    pub mark: i32,
    /// The level and mark per objective, for a question marked on separate grids.
    #[schema(value_type = Vec<Part>)]
    pub parts: Json<Vec<Part>>,
    /// The examiner's annotations on the answer.
    #[schema(value_type = Vec<Annotation>)]
    pub annotations: Json<Vec<Annotation>>,
    /// Rationale comment.
    pub comment: String,
    /// Ids of the indicative-content points credited.
    pub credited: Vec<Uuid>,
    /// Draft or submitted.
    pub state: MarkState,
    /// Edit version, for detecting stale edits.
    pub version: i32,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// The mark `examiner` gave this response in this meeting.
pub async fn own_mark(
    db: &mut PgConnection,
    meeting_id: MeetingId,
    response_id: ResponseId,
    examiner: UserId,
) -> Result<Option<StoredMark>, AppError> {
    Ok(sqlx::query_as!(
        StoredMark,
        r#"SELECT m.examiner_id, m.level, m.mark, m.parts AS "parts: Json<Vec<Part>>", m.annotations AS "annotations: Json<Vec<Annotation>>", m.comment, m.state AS "state: MarkState", m.version, m.updated_at,
                  ARRAY(SELECT c.point_id FROM mark_credits c WHERE c.mark_id = m.id ORDER BY c.point_id) AS "credited!"
           FROM marks m WHERE meeting_id = $1 AND response_id = $2 AND examiner_id = $3"#,
        meeting_id as MeetingId,
        response_id as ResponseId,
        examiner as UserId,
    )
    .fetch_optional(&mut *db)
    .await?)
}

/// A mark with the examiner's name, for the side-by-side view.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NamedMark {
    /// The response it is on.
    pub response_id: ResponseId,
    /// The mark.
    #[serde(flatten)]
    pub mark: StoredMark,
    /// Examiner's email.
    pub email: String,
    /// Examiner's name.
    pub name: String,
    /// The examiner's team leader, if they are in a team (decides who may see the mark).
    #[serde(skip)]
    pub team_leader_id: Option<UserId>,
    /// The response's script is released.
    #[serde(skip)]
    pub released: bool,
    /// The viewer has submitted their own mark on this response.
    #[serde(skip)]
    pub viewer_submitted: bool,
    /// The mark is on a qualification set its author has not finished.
    #[serde(skip)]
    pub author_qualifying: bool,
}

impl NamedMark {
    /// How the mark's author stands to `viewer`.
    pub fn relation_to(&self, viewer: UserId) -> Relation {
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
    meeting_id: MeetingId,
    response_id: Option<ResponseId>,
    viewer: UserId,
    role: Role,
) -> Result<Vec<NamedMark>, AppError> {
    let rows = sqlx::query!(
        r#"SELECT m.response_id AS "response_id: ResponseId", m.examiner_id AS "examiner_id: UserId", m.level, m.mark, m.comment,
                  m.parts AS "parts: Json<Vec<Part>>", m.annotations AS "annotations: Json<Vec<Annotation>>", m.state AS "state: MarkState", m.version, m.updated_at,
                  ARRAY(SELECT c.point_id FROM mark_credits c WHERE c.mark_id = m.id ORDER BY c.point_id) AS "credited!",
                  u.email, u.name, p.team_leader_id AS "team_leader_id: UserId", ms.released_at IS NOT NULL AS "released!",
                  EXISTS (SELECT 1 FROM marks o WHERE o.meeting_id = m.meeting_id AND o.response_id = m.response_id
                          AND o.examiner_id = $3 AND o.state = 'submitted') AS "viewer_submitted!",
                  (ms.purpose = 'qualification' AND NOT EXISTS (
                      SELECT 1 FROM qualification_set_scripts qss JOIN qualification_results qr ON qr.set_id = qss.set_id
                      WHERE qss.meeting_id = m.meeting_id AND qss.script_id = r.script_id AND qr.examiner_id = m.examiner_id))
                    AS "author_qualifying!"
           FROM marks m JOIN users u ON u.id = m.examiner_id
           JOIN meeting_participants p ON p.meeting_id = m.meeting_id AND p.user_id = m.examiner_id
           JOIN responses r ON r.id = m.response_id JOIN questions q ON q.id = r.question_id
           JOIN meeting_scripts ms ON ms.meeting_id = m.meeting_id AND ms.script_id = r.script_id
           WHERE m.meeting_id = $1 AND ($2::uuid IS NULL OR m.response_id = $2)
           ORDER BY ms.position, q.position, lower(u.name)"#,
        meeting_id as MeetingId,
        response_id as Option<ResponseId>,
        viewer as UserId,
    )
    .fetch_all(&mut *db)
    .await?;
    let all = rows.into_iter().map(|r| NamedMark {
        response_id: r.response_id,
        mark: StoredMark {
            examiner_id: r.examiner_id,
            level: r.level,
            mark: r.mark,
            parts: r.parts,
            annotations: r.annotations,
            comment: r.comment,
            credited: r.credited,
            state: r.state,
            version: r.version,
            updated_at: r.updated_at,
        },
        email: r.email,
        name: r.name,
        team_leader_id: r.team_leader_id,
        released: r.released,
        viewer_submitted: r.viewer_submitted,
        author_qualifying: r.author_qualifying,
    });
    Ok(all
        .filter(|m| {
            let facts = Facts { role, released: m.released, submitted_own: m.viewer_submitted };
            policy::shows_mark(facts, m.relation_to(viewer))
                && !policy::hides_while_qualifying(role, m.relation_to(viewer), m.author_qualifying)
        })
        .collect())
}

/// What an examiner sends.
#[derive(Debug, Clone)]
pub struct MarkInput {
    /// Level chosen.
    pub level: Option<i32>,
    /// Mark within the level (may be left out when parts are given: their sum).
    pub mark: Option<i32>,
    /// The level and mark per objective, for a question marked on separate grids.
    pub parts: Vec<Part>,
    /// Annotations on the answer (replacing those saved before).
    pub annotations: Vec<Annotation>,
    /// Rationale.
    pub comment: String,
    /// Ids of the indicative-content points credited.
    pub credited: Vec<Uuid>,
    /// Lock the mark.
    pub submit: bool,
    /// The version the edit was based on; None writes unconditionally (API only).
    pub version: Option<i32>,
}

/// The meeting's state, read under a share lock so that a concurrent open or
/// close waits for this transaction (and this one sees the outcome of theirs).
pub(super) async fn locked_state(tx: &mut PgConnection, meeting_id: MeetingId) -> Result<MeetingState, AppError> {
    Ok(sqlx::query_scalar!(r#"SELECT state AS "state: MeetingState" FROM meetings WHERE id = $1 FOR SHARE"#, meeting_id as MeetingId)
        .fetch_one(&mut *tx)
        .await?)
}

/// The meeting's state and whether the response's script is released, read
/// under share locks taken in the one order every writer uses — the meeting,
/// then its script, then the mark — so that saves, releases, opening and
/// closing queue behind each other instead of deadlocking.
pub(super) async fn lock_response(
    tx: &mut PgConnection,
    meeting_id: MeetingId,
    ctx: &ResponseCtx,
) -> Result<(MeetingState, bool), AppError> {
    let state = locked_state(tx, meeting_id).await?;
    let released = sqlx::query_scalar!(
        r#"SELECT released_at IS NOT NULL AS "released!" FROM meeting_scripts WHERE meeting_id = $1 AND script_id = $2 FOR SHARE"#,
        meeting_id as MeetingId,
        ctx.script_id as ScriptId,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("That response is no longer one of this meeting's.".into()))?;
    Ok((state, released))
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

/// Responses whose saves may skip the transaction: practice scripts of
/// meetings being marked, by (meeting, response), as the last save that went
/// the long way found them. Only a hint: the save's one statement checks under
/// its locks that the script is still for practice and the meeting still
/// marks under that scheme version, and goes the long way when not. (The
/// tolerance and release state kept here may be out of date: a save uses
/// neither.)
static PRACTICE: LazyLock<Mutex<Hints>> = LazyLock::new(Default::default);
type Hints = HashMap<(MeetingId, ResponseId), Arc<ResponseCtx>>;
/// Enough for every response of several large meetings at once.
const PRACTICE_LIMIT: usize = 50_000;

fn practice_hint(meeting_id: MeetingId, response_id: ResponseId) -> Option<Arc<ResponseCtx>> {
    PRACTICE.lock().ok().and_then(|c| c.get(&(meeting_id, response_id)).cloned())
}

/// Whether the process knows the response as a practice script of the meeting
/// (so that its save can be one statement).
pub fn knows_practice(meeting_id: MeetingId, response_id: ResponseId) -> bool {
    practice_hint(meeting_id, response_id).is_some()
}

fn set_practice_hint(meeting_id: MeetingId, ctx: Option<Arc<ResponseCtx>>, response_id: ResponseId) {
    if let Ok(mut c) = PRACTICE.lock() {
        match ctx {
            Some(ctx) => {
                if c.len() >= PRACTICE_LIMIT {
                    c.clear();
                }
                c.insert((meeting_id, response_id), ctx);
            }
            None => {
                c.remove(&(meeting_id, response_id));
            }
        }
    }
}

/// Saves an examiner's draft or submitted mark on a response of the meeting,
/// and publishes its live event once it is stored; returns the response as
/// marked with the stored mark.
///
/// The hot path of a meeting (every draft autosave). A practice script's save,
/// once the process has seen the response, is one autocommitted statement
/// ([`write_marks`]), shared with the saves arriving at the same moment
/// ([`super::writer`]) and which no cancelled request can leave half done; the rest
/// (the first save of a response, qualification and seed scripts, whose rules
/// need more) run [`save_mark`] in a transaction.
pub async fn save(
    state: &AppState,
    meeting: &Meeting,
    response_id: ResponseId,
    examiner: UserId,
    input: MarkInput,
) -> Result<(Arc<ResponseCtx>, StoredMark), AppError> {
    let meeting_id = meeting.meeting_id();
    if meeting.state == MeetingState::Marking
        && let Some(ctx) = practice_hint(meeting_id, response_id)
        && let Some(stored) = save_practice(state, meeting_id, &ctx, Caller::Known(examiner), &input).await?
    {
        return Ok((ctx, stored));
    }
    // The long way: the response's context and [`save_mark`] in a transaction;
    // a practice script's context is then kept for the saves after.
    let (ctx, stored) = crate::transact!(state, |tx| {
        let ctx = response_in_meeting(tx, meeting, response_id).await?;
        let stored = save_mark(tx, meeting, &ctx, examiner, input.clone()).await?;
        Ok((Arc::new(ctx), stored))
    })?;
    // Stored, so the meeting is being marked under `ctx`'s version.
    if ctx.purpose == Purpose::Practice {
        set_practice_hint(meeting_id, Some(ctx.clone()), response_id);
    }
    Ok((ctx, stored))
}

/// [`save`] for an API token the caller has not checked yet, which the save's
/// statement checks itself: one statement from request to stored mark, when
/// the process knows the response as a practice script of the meeting. None
/// when it does not (or no longer): check the token and [`save`].
pub async fn save_by_token(
    state: &AppState,
    digest: &[u8],
    meeting_id: MeetingId,
    response_id: ResponseId,
    input: &MarkInput,
) -> Result<Option<StoredMark>, AppError> {
    let Some(ctx) = practice_hint(meeting_id, response_id) else { return Ok(None) };
    save_practice(state, meeting_id, &ctx, Caller::Token(digest), input).await
}

/// A practice script's save in one autocommitted statement (with those of
/// the same moment, [`super::writer`]), which no cancelled request can leave
/// half done, its event published once stored.
/// Forgets the hint when the statement finds it out of date.
async fn save_practice(
    state: &AppState,
    meeting_id: MeetingId,
    ctx: &Arc<ResponseCtx>,
    caller: Caller<'_>,
    input: &MarkInput,
) -> Result<Option<StoredMark>, AppError> {
    let write = MarkWrite::new(meeting_id, ctx, caller, input, check_input(ctx, input)?);
    let (write, outcome) = state.marks.write(write).await?;
    let written = judge(&write, outcome)?;
    if let Some((token_id, last_used_at)) = written.token {
        tokens::note_use(&state.db, token_id, last_used_at);
    }
    match &written.stored {
        Some(stored) => live::Publish::publish(state, vec![mark_event(meeting_id, ctx.response_id, stored.examiner_id)]),
        // No longer for practice, or marked under another version: the long way.
        None => set_practice_hint(meeting_id, None, ctx.response_id),
    }
    Ok(written.stored)
}

/// A mark's input checked against its question, ready to write.
struct Checked {
    level: Option<i32>,
    mark: i32,
    parts: Vec<Part>,
    annotations: Vec<Annotation>,
    credited: Vec<Uuid>,
}

/// The checks of a mark that need nothing from the database.
fn check_input(ctx: &ResponseCtx, input: &MarkInput) -> Result<Checked, AppError> {
    let checked = check_mark(&ctx.question, input.level, input.mark, &input.parts).map_err(AppError::invalid)?;
    rules::check_len("A comment", &input.comment, rules::MAX_COMMENT_CHARS).map_err(AppError::invalid)?;
    rules::check_credited(&input.credited).map_err(AppError::invalid)?;
    let annotations = annotations::check(input.annotations.clone(), &ctx.annotation_target()).map_err(AppError::invalid)?;
    let mut credited = input.credited.clone();
    credited.sort();
    credited.dedup();
    if let Some(unknown) = credited.iter().find(|id| !ctx.points.iter().any(|p| p.id == **id)) {
        return Err(AppError::invalid(format!(
            "Indicative-content point {unknown} is not a point of question {} in this meeting's mark scheme.",
            ctx.question.number
        )));
    }
    Ok(Checked { level: checked.level, mark: checked.mark, parts: checked.parts, annotations, credited })
}

/// Saves an examiner's draft or submitted mark inside the caller's
/// transaction (see [`save`], which most callers want).
///
/// After the response's context, a practice script's save is one statement
/// ([`write_mark`]); the checks that need nothing from the database run before
/// it, in Rust. Qualification and seed scripts, which have their own rules to
/// check first, take the meeting and script locks beforehand.
pub async fn save_mark(
    tx: &mut PgConnection,
    meeting: &Meeting,
    ctx: &ResponseCtx,
    examiner: UserId,
    input: MarkInput,
) -> Result<StoredMark, AppError> {
    let checked = check_input(ctx, &input)?;
    if ctx.purpose != Purpose::Practice {
        let (state, released) = lock_response(tx, meeting.meeting_id(), ctx).await?;
        refuse_unless_marking(state)?;
        if released {
            return Err(released_refusal());
        }
        qualification::check_may_mark(tx, meeting.meeting_id(), ctx.script_id, ctx.purpose, examiner).await?;
    }
    let written = write_mark(tx, meeting.meeting_id(), ctx, Caller::Known(examiner), &input, checked).await?;
    let stored = written.stored.ok_or_else(|| {
        AppError::Conflict(
            "This script's place in the meeting, or the mark scheme it is marked under, changed as you saved. \
             Reload the page and save again."
                .into(),
        )
    })?;
    if input.submit {
        // A submit that completes a qualification set or a seed is judged now.
        qualification::after_submit(tx, meeting.meeting_id(), ctx.script_id, ctx.purpose, examiner).await?;
    }
    live::notify(&mut *tx, &mark_event(meeting.meeting_id(), ctx.response_id, examiner)).await?;
    Ok(stored)
}

/// Who is saving a mark.
#[derive(Debug, Clone, Copy)]
pub enum Caller<'a> {
    /// Checked already (a page's session, or a token the extractor checked).
    Known(UserId),
    /// An API token's digest, which the save's statement checks itself.
    Token(&'a [u8]),
}

/// What the statement of a save did.
struct Written {
    /// The stored mark; None when the script's purpose or the meeting's scheme
    /// version is no longer the context's (or, for a token, the script is no
    /// longer in the meeting): the long way then decides.
    stored: Option<StoredMark>,
    /// The token that let a [`Caller::Token`] in, and when it was last noted as used.
    token: Option<(Uuid, Option<OffsetDateTime>)>,
}

/// One save as [`write_marks`] writes it: the caller, the response in its
/// meeting and the mark, checked already against the question.
#[derive(Debug)]
pub(super) struct MarkWrite {
    meeting_id: MeetingId,
    response_id: ResponseId,
    script_id: ScriptId,
    scheme_version_id: Uuid,
    purpose: Purpose,
    known: Option<UserId>,
    digest: Option<Vec<u8>>,
    level: Option<i32>,
    mark: i32,
    comment: String,
    state: MarkState,
    version: Option<i32>,
    parts: Json<Vec<Part>>,
    annotations: Json<Vec<Annotation>>,
    credited: Vec<Uuid>,
    new: serde_json::Value,
}

impl MarkWrite {
    fn new(meeting_id: MeetingId, ctx: &ResponseCtx, caller: Caller<'_>, input: &MarkInput, checked: Checked) -> MarkWrite {
        let (known, digest) = match caller {
            Caller::Known(id) => (Some(id), None),
            Caller::Token(digest) => (None, Some(digest.to_vec())),
        };
        let state = if input.submit { MarkState::Submitted } else { MarkState::Draft };
        let new = json!({"level": checked.level, "mark": checked.mark, "parts": checked.parts,
                         "annotations": checked.annotations.len(), "comment": input.comment, "state": state});
        MarkWrite {
            meeting_id,
            response_id: ctx.response_id,
            script_id: ctx.script_id,
            scheme_version_id: ctx.scheme_version_id,
            purpose: ctx.purpose,
            known,
            digest,
            level: checked.level,
            mark: checked.mark,
            comment: input.comment.clone(),
            state,
            version: input.version,
            parts: Json(checked.parts),
            annotations: Json(checked.annotations),
            credited: checked.credited,
            new,
        }
    }

    /// Two writes of the same mark by the same caller cannot share a
    /// statement (an upsert changes a row once); the later waits for the next.
    pub(super) fn same_mark_as(&self, other: &MarkWrite) -> bool {
        self.meeting_id == other.meeting_id
            && self.response_id == other.response_id
            && self.known == other.known
            && self.digest == other.digest
    }
}

/// What the statement found and did for one [`MarkWrite`]; [`judge`] reads it.
#[derive(Debug)]
pub(super) struct WriteOutcome {
    user_id: Option<Uuid>,
    is_admin: Option<bool>,
    token_id: Option<Uuid>,
    last_used_at: Option<OffsetDateTime>,
    role: Option<Role>,
    meeting_state: Option<MeetingState>,
    released: Option<bool>,
    current: Option<bool>,
    old_state: Option<MarkState>,
    old_version: Option<i32>,
    level: Option<i32>,
    mark: Option<i32>,
    parts: Option<Json<Vec<Part>>>,
    annotations: Option<Json<Vec<Annotation>>>,
    comment: Option<String>,
    state: Option<MarkState>,
    version: Option<i32>,
    updated_at: Option<OffsetDateTime>,
}

/// Writes one save inside the caller's transaction, and judges what the
/// statement found.
async fn write_mark(
    db: &mut PgConnection,
    meeting_id: MeetingId,
    ctx: &ResponseCtx,
    caller: Caller<'_>,
    input: &MarkInput,
    checked: Checked,
) -> Result<Written, AppError> {
    let write = MarkWrite::new(meeting_id, ctx, caller, input, checked);
    let outcome = write_one(db, &write).await?;
    judge(&write, outcome)
}

/// [`write_marks`] for one save.
pub(super) async fn write_one(db: &mut PgConnection, write: &MarkWrite) -> Result<WriteOutcome, AppError> {
    let mut outcomes = write_marks(db, std::slice::from_ref(write)).await?;
    outcomes.pop().ok_or_else(|| AppError::Internal(anyhow::anyhow!("a save's statement returned no row")))
}

/// The one statement of any number of saves (one per [`MarkWrite`], each
/// judged alone): for each, finds the caller (for a token, its active user)
/// and their role in the meeting, which must be one that marks; takes the
/// share locks on the meeting and the script (in the one order every writer
/// uses: meeting, script, mark); checks the meeting is being marked, the
/// script unreleased and still for the save's purpose under its scheme
/// version; locks the old mark, writes the new one, its credited points and
/// the audit entry. Who may mark is decided by [`access`] (the roles are
/// passed in from there). Returns one outcome per write, in their order.
///
/// Many saves in one statement are what lets the server keep up with
/// examiners: PostgreSQL's cost is mostly per statement and per commit, not
/// per row ([`super::writer`] gathers them).
pub(super) async fn write_marks(db: &mut PgConnection, writes: &[MarkWrite]) -> Result<Vec<WriteOutcome>, sqlx::Error> {
    let roles = access::roles_passing::<Marker>();
    let column = |f: &dyn Fn(&MarkWrite) -> Uuid| writes.iter().map(f).collect::<Vec<Uuid>>();
    let (meetings, responses, scripts, versions) =
        (column(&|w| w.meeting_id.0), column(&|w| w.response_id.0), column(&|w| w.script_id.0), column(&|w| w.scheme_version_id));
    let known: Vec<Option<Uuid>> = writes.iter().map(|w| w.known.map(|u| u.0)).collect();
    let digests: Vec<Option<Vec<u8>>> = writes.iter().map(|w| w.digest.clone()).collect();
    let levels: Vec<Option<i32>> = writes.iter().map(|w| w.level).collect();
    let marks: Vec<i32> = writes.iter().map(|w| w.mark).collect();
    let comments: Vec<&str> = writes.iter().map(|w| w.comment.as_str()).collect();
    let states: Vec<&str> = writes.iter().map(|w| w.state.as_str()).collect();
    let input_versions: Vec<Option<i32>> = writes.iter().map(|w| w.version).collect();
    let parts: Vec<&Json<Vec<Part>>> = writes.iter().map(|w| &w.parts).collect();
    let annotations: Vec<&Json<Vec<Annotation>>> = writes.iter().map(|w| &w.annotations).collect();
    let purposes: Vec<&str> = writes.iter().map(|w| w.purpose.as_str()).collect();
    let actions: Vec<&str> = writes.iter().map(|w| if w.state == MarkState::Submitted { "mark.submit" } else { "mark.draft" }).collect();
    let news: Vec<&serde_json::Value> = writes.iter().map(|w| &w.new).collect();
    let (credit_of, credit_point): (Vec<i64>, Vec<Uuid>) =
        writes.iter().zip(1i64..).flat_map(|(w, n)| w.credited.iter().map(move |p| (n, *p))).unzip();
    // Two saves of one mark cannot share the upsert (it changes a row once;
    // two tokens of one examiner can send them): the first is written, and
    // the other finds it changed at the same moment, as it would a moment
    // later. `old` is read as the input of the upsert, so before it. A save based on
    // a version needs no lock on the old mark: the upsert changes the row only
    // if it is still at that version, which is then the one `old` read (every
    // change raises the version). Without one, the old mark is locked, so the
    // audit records what was really replaced, and its version is the one
    // expected. The upsert repeats the expected version (as the inserted
    // version less one) because two first saves at the same moment find no
    // row, and the second must not overwrite the first.
    sqlx::query_as!(
        WriteOutcome,
        r#"WITH input AS (
               SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::bytea[], $5::int[], $6::int[], $7::text[], $8::text[],
                                    $9::int[], $10::uuid[], $11::jsonb[], $12::jsonb[], $13::uuid[], $14::text[], $15::text[], $16::jsonb[])
                   WITH ORDINALITY AS i (meeting_id, response_id, known, digest, level, mark, comment, state,
                                         version, scheme_version_id, parts, annotations, script_id, purpose, action, new, n)),
           who AS (
               SELECT i.n, u.id, u.is_admin, NULL::uuid AS token_id, NULL::timestamptz AS last_used_at
               FROM input i JOIN users u ON u.id = i.known AND u.active
               UNION ALL
               SELECT i.n, t.user_id, t.is_admin, t.token_id, t.last_used_at FROM input i JOIN live_api_tokens t ON t.token_hash = i.digest),
           target AS (
               SELECT w.n, w.id AS examiner_id,
                      row_number() OVER (PARTITION BY i.meeting_id, i.response_id, w.id ORDER BY w.n) = 1 AS first
               FROM input i JOIN who w ON w.n = i.n),
           member AS (
               SELECT w.n, p.role FROM who w JOIN input i ON i.n = w.n
               JOIN meeting_participants p ON p.meeting_id = i.meeting_id AND p.user_id = w.id),
           locked AS (
               SELECT i.n, m.state AS meeting_state, ms.released_at IS NOT NULL AS released,
                      ms.purpose = i.purpose AND m.scheme_version_id IS NOT DISTINCT FROM i.scheme_version_id AS current
               FROM input i JOIN meetings m ON m.id = i.meeting_id
               JOIN meeting_scripts ms ON ms.meeting_id = m.id AND ms.script_id = i.script_id
               FOR SHARE OF m, ms),
           locked_old AS (
               SELECT w.n, o.id, o.level, o.mark, o.parts, o.annotations, o.comment, o.state, o.version
               FROM input i JOIN who w ON w.n = i.n
               JOIN marks o ON o.meeting_id = i.meeting_id AND o.response_id = i.response_id AND o.examiner_id = w.id
               WHERE i.version IS NULL
               FOR UPDATE OF o),
           old AS (
               SELECT * FROM locked_old
               UNION ALL
               SELECT w.n, o.id, o.level, o.mark, o.parts, o.annotations, o.comment, o.state, o.version
               FROM input i JOIN who w ON w.n = i.n
               JOIN marks o ON o.meeting_id = i.meeting_id AND o.response_id = i.response_id AND o.examiner_id = w.id
               WHERE i.version IS NOT NULL),
           up AS (
               INSERT INTO marks AS m (meeting_id, response_id, examiner_id, level, mark, comment, state, submitted_at,
                                       scheme_version_id, parts, annotations, version)
               SELECT i.meeting_id, i.response_id, w.id, i.level, i.mark, i.comment, i.state,
                      CASE WHEN i.state = 'submitted' THEN now() END, i.scheme_version_id, i.parts, i.annotations,
                      COALESCE(i.version, old.version, 0) + 1
               FROM input i JOIN who w ON w.n = i.n JOIN target t ON t.n = i.n AND t.first
               JOIN member p ON p.n = i.n JOIN locked l ON l.n = i.n
               LEFT JOIN old ON old.n = i.n
               WHERE l.meeting_state = 'marking' AND NOT l.released AND l.current
                 AND p.role = ANY($17::text[])
                 AND (old.id IS NULL OR old.state <> 'submitted')
                 AND (i.version IS NULL OR i.version = COALESCE(old.version, 0))
               ORDER BY i.n
               ON CONFLICT (meeting_id, response_id, examiner_id) DO UPDATE SET
                 level = EXCLUDED.level, mark = EXCLUDED.mark, parts = EXCLUDED.parts, annotations = EXCLUDED.annotations,
                 comment = EXCLUDED.comment, scheme_version_id = EXCLUDED.scheme_version_id,
                 state = EXCLUDED.state, submitted_at = EXCLUDED.submitted_at, version = m.version + 1, updated_at = now()
               WHERE m.state <> 'submitted' AND m.version = EXCLUDED.version - 1
               RETURNING m.id, m.meeting_id, m.response_id, m.examiner_id, m.level, m.mark, m.parts, m.annotations,
                         m.comment, m.state, m.version, m.updated_at),
           saved AS (
               SELECT i.n, up.* FROM up JOIN target t ON t.first AND t.examiner_id = up.examiner_id
               JOIN input i ON i.n = t.n AND i.meeting_id = up.meeting_id AND i.response_id = up.response_id),
           credits AS (SELECT * FROM unnest($18::int8[], $19::uuid[]) AS k (n, point_id)),
           gone AS (
               DELETE FROM mark_credits c USING saved s WHERE c.mark_id = s.id
                 AND NOT EXISTS (SELECT 1 FROM credits k WHERE k.n = s.n AND k.point_id = c.point_id)),
           added AS (
               INSERT INTO mark_credits (mark_id, point_id)
               SELECT s.id, k.point_id FROM saved s, credits k WHERE k.n = s.n
               ON CONFLICT DO NOTHING),
           logged AS (
               INSERT INTO audit_log (meeting_id, actor_id, action, response_id, subject_id, old_value, new_value)
               SELECT i.meeting_id, s.examiner_id, i.action, i.response_id, s.examiner_id,
                      CASE WHEN old.id IS NOT NULL THEN jsonb_build_object(
                          'level', old.level, 'mark', old.mark, 'parts', old.parts,
                          'annotations', jsonb_array_length(old.annotations), 'comment', old.comment, 'state', old.state) END,
                      i.new
               FROM saved s JOIN input i ON i.n = s.n LEFT JOIN old ON old.n = s.n)
           SELECT w.id AS "user_id?", w.is_admin AS "is_admin?", w.token_id AS "token_id?", w.last_used_at AS "last_used_at?",
                  p.role AS "role?: Role",
                  l.meeting_state AS "meeting_state?: MeetingState", l.released AS "released?", l.current AS "current?",
                  old.state AS "old_state?: MarkState", old.version AS "old_version?",
                  s.level AS "level?", s.mark AS "mark?", s.parts AS "parts?: Json<Vec<Part>>",
                  s.annotations AS "annotations?: Json<Vec<Annotation>>", s.comment AS "comment?",
                  s.state AS "state?: MarkState", s.version AS "version?", s.updated_at AS "updated_at?"
           FROM input i LEFT JOIN who w ON w.n = i.n LEFT JOIN member p ON p.n = i.n LEFT JOIN locked l ON l.n = i.n
                LEFT JOIN old ON old.n = i.n LEFT JOIN saved s ON s.n = i.n
           ORDER BY i.n"#,
        &meetings,
        &responses,
        &known as &[Option<Uuid>],
        &digests as &[Option<Vec<u8>>],
        &levels as &[Option<i32>],
        &marks,
        &comments as &[&str],
        &states as &[&str],
        &input_versions as &[Option<i32>],
        &versions,
        &parts as _,
        &annotations as _,
        &scripts,
        &purposes as &[&str],
        &actions as &[&str],
        &news as _,
        &roles[..] as &[&str],
        &credit_of,
        &credit_point,
    )
    .fetch_all(&mut *db)
    .await
}

/// What one save's outcome means: the stored mark, the long way (None), or
/// the refusal the caller gets — who is asking first, as the extractor would
/// have refused them.
fn judge(write: &MarkWrite, row: WriteOutcome) -> Result<Written, AppError> {
    let token = row.token_id.map(|id| (id, row.last_used_at));
    if write.digest.is_some() {
        row.is_admin.ok_or_else(tokens::invalid_token)?;
        if row.meeting_state.is_none() {
            // No such meeting, or the script is no longer in it: the long way says which.
            return Ok(Written { stored: None, token: None });
        }
    }
    access::decide::<Marker>(row.is_admin.unwrap_or(false), row.role)?;
    let Some(meeting_state) = row.meeting_state else {
        return Err(AppError::NotFound("That response is no longer one of this meeting's.".into()));
    };
    refuse_unless_marking(meeting_state)?;
    if row.released == Some(true) {
        return Err(released_refusal());
    }
    if row.current != Some(true) {
        return Ok(Written { stored: None, token });
    }
    let (Some(mark), Some(parts), Some(annotations), Some(comment), Some(saved_state), Some(version), Some(updated_at)) =
        (row.mark, row.parts, row.annotations, row.comment, row.state, row.version, row.updated_at)
    else {
        if row.old_state == Some(MarkState::Submitted) {
            return Err(AppError::Conflict(
                "You have submitted this mark, so it is locked. Ask the principal examiner to reopen it if it must change.".into(),
            ));
        }
        let current = row.old_version.unwrap_or(0);
        if let Some(v) = write.version.filter(|v| *v != current) {
            return Err(stale(current, v));
        }
        return Err(AppError::Conflict(
            "This mark was changed elsewhere at the same moment. Reload the page to see it before changing it again.".into(),
        ));
    };
    let Some(examiner_id) = row.user_id else {
        return Err(AppError::Internal(anyhow::anyhow!("a mark was written with no examiner")));
    };
    let stored = StoredMark {
        examiner_id: UserId(examiner_id),
        level: row.level,
        mark,
        parts,
        annotations,
        comment,
        credited: write.credited.clone(),
        state: saved_state,
        version,
        updated_at,
    };
    Ok(Written { stored: Some(stored), token })
}

fn released_refusal() -> AppError {
    AppError::Conflict("This script has been released: its marks can no longer change.".into())
}

fn mark_event(meeting_id: MeetingId, response_id: ResponseId, examiner: UserId) -> live::Event {
    live::Event::about(meeting_id, live::Kind::Mark, Some(response_id), Some(examiner))
}

/// Reopens a submitted mark so the examiner can change it (principal examiner).
pub async fn reopen(
    tx: &mut PgConnection,
    meeting: &Meeting,
    ctx: &ResponseCtx,
    examiner: UserId,
    actor: Actor,
    reason: &str,
) -> Result<StoredMark, AppError> {
    rules::check_len("A reason", reason, rules::MAX_REASON_CHARS).map_err(AppError::invalid)?;
    let (state, released) = lock_response(tx, meeting.meeting_id(), ctx).await?;
    refuse_unless_marking(state)?;
    if released {
        return Err(AppError::Conflict("This script has been released: its marks can no longer change.".into()));
    }
    match ctx.purpose {
        Purpose::Qualification => {
            return Err(AppError::Conflict(
                "A qualification mark is final once submitted: it decides the examiner's result, so it cannot be reopened.".into(),
            ));
        }
        Purpose::Seed => {
            return Err(AppError::Conflict("A seed's mark is final once submitted: its result has been recorded.".into()));
        }
        Purpose::Practice => {}
    }
    let reopened = sqlx::query_as!(
        StoredMark,
        r#"UPDATE marks AS m SET state = 'draft', submitted_at = NULL, version = version + 1, updated_at = now()
           WHERE meeting_id = $1 AND response_id = $2 AND examiner_id = $3 AND state = 'submitted'
           RETURNING m.examiner_id, m.level, m.mark, m.parts AS "parts: Json<Vec<Part>>", m.annotations AS "annotations: Json<Vec<Annotation>>", m.comment, m.state AS "state: MarkState",
                     m.version, m.updated_at,
                     ARRAY(SELECT c.point_id FROM mark_credits c WHERE c.mark_id = m.id ORDER BY c.point_id) AS "credited!""#,
        meeting.id,
        ctx.response_id as ResponseId,
        examiner as UserId,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let reopened = reopened.ok_or_else(|| AppError::Conflict("That examiner has no submitted mark on this response to reopen.".into()))?;
    audit::record(
        &mut *tx,
        audit::Entry {
            response_id: Some(ctx.response_id.0),
            subject_id: Some(examiner.0),
            old: Some(json!({"state": MarkState::Submitted})),
            new: Some(json!({"state": MarkState::Draft})),
            reason: Some(reason).filter(|r| !r.trim().is_empty()),
            ..audit::Entry::meeting(meeting.meeting_id(), actor, "mark.reopen")
        },
    )
    .await?;
    live::notify(&mut *tx, &mark_event(meeting.meeting_id(), ctx.response_id, examiner)).await?;
    Ok(reopened)
}
