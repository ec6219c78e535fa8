//! Meetings in the database.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde_json::json;
use sqlx::{PgConnection, PgExecutor};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::{Meeting, MeetingId, MeetingState, Purpose, Role};
use crate::{
    audit::{self, Actor},
    error::AppError,
    live,
    marking::{
        MarkState,
        rules::{MAX_MEETING_NAME_CHARS, check_len, check_tolerance, default_tolerance, tolerance_in_force, within_tolerance},
    },
    markscheme::Question,
    papers::{PaperId, store::StoredPaper},
    scripts::{ResponseId, ScriptId},
    users::{Email, UserId},
};

/// Everything a new meeting is made from, already parsed at the edge.
#[derive(Debug, Clone)]
pub struct MeetingSpec {
    /// The paper.
    pub paper_id: PaperId,
    /// Name.
    pub name: String,
    /// Day of the meeting.
    pub held_on: Option<Date>,
    /// The principal examiner.
    pub principal_examiner: Email,
    /// Examiners not in a team.
    pub examiners: Vec<Email>,
    /// Team leaders with their teams.
    pub team_leaders: Vec<(Email, Vec<Email>)>,
    /// Scripts and why each is marked, in order.
    pub scripts: Vec<(ScriptId, Purpose)>,
    /// Tolerance per question number; others get the default.
    pub tolerances: HashMap<String, i32>,
}

/// Creates a meeting with its people, scripts and tolerances, all or nothing.
pub async fn create(tx: &mut PgConnection, spec: &MeetingSpec, paper: &StoredPaper, actor: Actor) -> Result<MeetingId, AppError> {
    if spec.name.trim().is_empty() {
        return Err(AppError::invalid("Give the meeting a name."));
    }
    check_len("A meeting's name", spec.name.trim(), MAX_MEETING_NAME_CHARS).map_err(AppError::invalid)?;
    // Every person once, in one role.
    let mut people: Vec<(&Email, &'static str, Option<&Email>)> = vec![(&spec.principal_examiner, "pe", None)];
    for (leader, team) in &spec.team_leaders {
        people.push((leader, "team_leader", None));
        for member in team {
            people.push((member, "examiner", Some(leader)));
        }
    }
    for e in &spec.examiners {
        if !people.iter().any(|(p, role, _)| *p == e && *role == "examiner") {
            people.push((e, "examiner", None));
        }
    }
    let mut seen = HashSet::new();
    for (email, _, _) in &people {
        if !seen.insert(email.as_str()) {
            return Err(AppError::invalid(format!("{} is listed twice: a person has one role in a meeting.", email.as_str())));
        }
    }
    let emails: Vec<String> = people.iter().map(|(e, _, _)| e.as_str().to_owned()).collect();
    let unknown: Vec<&String> = spec.tolerances.keys().filter(|n| paper.question(n).is_none()).collect();
    if let Some(n) = unknown.first() {
        return Err(AppError::invalid(format!("Question {n} is not on this paper (its questions are {}).", paper.question_numbers())));
    }
    for (n, t) in &spec.tolerances {
        let max = paper.question(n).map(|(_, q)| q.max_mark).unwrap_or(0);
        check_tolerance(n, *t, max).map_err(AppError::invalid)?;
    }

    let id = sqlx::query_scalar!(
        r#"INSERT INTO meetings (paper_id, name, held_on, created_by) VALUES ($1, $2, $3, $4) RETURNING id AS "id: MeetingId""#,
        spec.paper_id as PaperId,
        spec.name.trim(),
        spec.held_on,
        actor.0 as UserId,
    )
    .fetch_one(&mut *tx)
    .await?;
    insert_people(tx, id, &people).await?;
    let mut script_ids = HashSet::new();
    for (position, (script_id, purpose)) in spec.scripts.iter().enumerate() {
        if !script_ids.insert(script_id) {
            return Err(AppError::invalid(format!("Script {script_id} is listed twice.")));
        }
        sqlx::query!(
            "INSERT INTO meeting_scripts (meeting_id, paper_id, script_id, purpose, position) VALUES ($1, $2, $3, $4, $5)",
            id as MeetingId,
            spec.paper_id as PaperId,
            *script_id as ScriptId,
            *purpose as Purpose,
            i32::try_from(position).unwrap_or(i32::MAX),
        )
        .execute(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.constraint() == Some("meeting_scripts_script_fk") => {
                AppError::invalid(format!("Script {script_id} is not a script of this paper."))
            }
            _ => e.into(),
        })?;
    }
    let tolerances: Vec<i32> =
        paper.scheme.questions.iter().map(|q| tolerance_in_force(spec.tolerances.get(&q.number).copied(), q.max_mark)).collect();
    sqlx::query!(
        "INSERT INTO meeting_tolerances (meeting_id, question_id, tolerance) SELECT $1, * FROM unnest($2::uuid[], $3::int[])",
        id as MeetingId,
        &paper.question_ids,
        &tolerances,
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        audit::Entry {
            new: Some(json!({"name": spec.name, "people": emails, "scripts": spec.scripts.len()})),
            ..audit::Entry::meeting(id, actor, "meeting.create")
        },
    )
    .await?;
    Ok(id)
}

/// A person to add: email, role (`pe`, `team_leader`, `examiner`) and team leader.
pub type NewPerson<'a> = (&'a Email, &'static str, Option<&'a Email>);

/// Adds people to a meeting; every email must belong to an active account
/// and nobody may already take part.
pub async fn insert_people(tx: &mut PgConnection, meeting_id: MeetingId, people: &[NewPerson<'_>]) -> Result<(), AppError> {
    let mut emails: Vec<String> = people.iter().map(|(e, _, _)| e.as_str().to_owned()).collect();
    emails.extend(people.iter().filter_map(|(_, _, l)| l.map(|l| l.as_str().to_owned())));
    let found =
        sqlx::query!(r#"SELECT email, id AS "id: UserId", active FROM users WHERE email = ANY($1)"#, &emails).fetch_all(&mut *tx).await?;
    let ids: HashMap<&str, UserId> = found.iter().filter(|u| u.active).map(|u| (u.email.as_str(), u.id)).collect();
    let missing: Vec<&str> = emails.iter().map(String::as_str).filter(|e| !ids.contains_key(e)).collect();
    if !missing.is_empty() {
        return Err(AppError::invalid(format!(
            "No active account has the email {}: create the account under Accounts first.",
            missing.join(", ")
        )));
    }
    for (email, role, leader) in people {
        sqlx::query!(
            "INSERT INTO meeting_participants (meeting_id, user_id, role, team_leader_id) VALUES ($1, $2, $3, $4)",
            meeting_id as MeetingId,
            ids[email.as_str()] as UserId,
            role,
            leader.map(|l| ids[l.as_str()]) as Option<UserId>,
        )
        .execute(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.constraint() == Some("meeting_participants_pkey") => {
                AppError::invalid(format!("{} already takes part in this meeting.", email.as_str()))
            }
            _ => e.into(),
        })?;
    }
    // A team must belong to someone who leads a team in this meeting.
    let not_leaders = sqlx::query_scalar!(
        "SELECT DISTINCT u.email FROM meeting_participants p JOIN users u ON u.id = p.team_leader_id
         WHERE p.meeting_id = $1 AND NOT EXISTS (
             SELECT 1 FROM meeting_participants l WHERE l.meeting_id = p.meeting_id AND l.user_id = p.team_leader_id AND l.role = 'team_leader')",
        meeting_id as MeetingId,
    )
    .fetch_all(&mut *tx)
    .await?;
    if !not_leaders.is_empty() {
        return Err(AppError::invalid(format!(
            "{} is not a team leader in this meeting: add them as a team leader first.",
            not_leaders.join(", ")
        )));
    }
    Ok(())
}

/// Adds people to a meeting that is not closed (audited).
pub async fn add_people(tx: &mut PgConnection, meeting: &Meeting, people: &[NewPerson<'_>], actor: Actor) -> Result<(), AppError> {
    if lock_state(tx, meeting.meeting_id()).await? == MeetingState::Closed {
        return Err(AppError::Conflict("The meeting is closed.".into()));
    }
    insert_people(tx, meeting.meeting_id(), people).await?;
    let added: Vec<String> = people.iter().map(|(e, role, _)| format!("{} ({role})", e.as_str())).collect();
    audit::record(&mut *tx, audit::Entry { new: Some(json!(added)), ..audit::Entry::meeting(meeting.meeting_id(), actor, "people.add") })
        .await
}

/// Adds scripts to a meeting still being set up (audited).
pub async fn add_scripts(tx: &mut PgConnection, meeting: &Meeting, scripts: &[(ScriptId, Purpose)], actor: Actor) -> Result<(), AppError> {
    if lock_state(tx, meeting.meeting_id()).await? != MeetingState::Setup {
        return Err(AppError::Conflict("Scripts can only be added while the meeting is being set up.".into()));
    }
    let start =
        sqlx::query_scalar!(r#"SELECT coalesce(max(position) + 1, 0) AS "start!" FROM meeting_scripts WHERE meeting_id = $1"#, meeting.id)
            .fetch_one(&mut *tx)
            .await?;
    for (i, (script_id, purpose)) in scripts.iter().enumerate() {
        sqlx::query!(
            "INSERT INTO meeting_scripts (meeting_id, paper_id, script_id, purpose, position) VALUES ($1, $2, $3, $4, $5)",
            meeting.id,
            meeting.paper_id as PaperId,
            *script_id as ScriptId,
            *purpose as Purpose,
            start + i32::try_from(i).unwrap_or(i32::MAX),
        )
        .execute(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.constraint() == Some("meeting_scripts_pkey") => {
                AppError::invalid("That script is already in the meeting.")
            }
            sqlx::Error::Database(d) if d.constraint() == Some("meeting_scripts_script_fk") => {
                AppError::invalid(format!("Script {script_id} is not a script of this paper."))
            }
            _ => e.into(),
        })?;
    }
    audit::record(
        &mut *tx,
        audit::Entry {
            new: Some(json!(scripts.iter().map(|(s, _)| s).collect::<Vec<_>>())),
            ..audit::Entry::meeting(meeting.meeting_id(), actor, "scripts.add")
        },
    )
    .await
}

/// Removes a person from a meeting still being set up (not the principal
/// examiner); a removed team leader's team stays in the meeting, without a leader.
pub async fn remove_person(tx: &mut PgConnection, meeting: &Meeting, user_id: UserId, actor: Actor) -> Result<(), AppError> {
    if lock_state(tx, meeting.meeting_id()).await? != MeetingState::Setup {
        return Err(AppError::Conflict("People can only be removed while the meeting is being set up.".into()));
    }
    let role = sqlx::query_scalar!(
        "SELECT role FROM meeting_participants WHERE meeting_id = $1 AND user_id = $2 FOR UPDATE",
        meeting.id,
        user_id as UserId,
    )
    .fetch_optional(&mut *tx)
    .await?;
    match role.as_deref() {
        None => return Err(AppError::not_found("That person in this meeting")),
        Some("pe") => return Err(AppError::Conflict("The principal examiner cannot be removed from the meeting.".into())),
        _ => {}
    }
    sqlx::query!(
        "UPDATE meeting_participants SET team_leader_id = NULL WHERE meeting_id = $1 AND team_leader_id = $2",
        meeting.id,
        user_id as UserId,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("DELETE FROM meeting_participants WHERE meeting_id = $1 AND user_id = $2", meeting.id, user_id as UserId)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut *tx,
        audit::Entry {
            subject_id: Some(user_id.0),
            old: role.map(|r| json!(r)),
            ..audit::Entry::meeting(meeting.meeting_id(), actor, "people.remove")
        },
    )
    .await
}

/// Why marks go when their script leaves the meeting (in the audit log).
const SCRIPT_REMOVED: &str = "The script was taken out of the meeting.";

/// Takes a script out of a meeting still being set up, with every mark and
/// definitive mark the meeting holds for its responses (each removal audited),
/// so that adding the script again starts afresh.
pub async fn remove_script(tx: &mut PgConnection, meeting: &Meeting, script_id: ScriptId, actor: Actor) -> Result<(), AppError> {
    if lock_state(tx, meeting.meeting_id()).await? != MeetingState::Setup {
        return Err(AppError::Conflict("Scripts can only be removed while the meeting is being set up.".into()));
    }
    let removed = sqlx::query!("DELETE FROM meeting_scripts WHERE meeting_id = $1 AND script_id = $2", meeting.id, script_id as ScriptId)
        .execute(&mut *tx)
        .await?;
    if removed.rows_affected() == 0 {
        return Err(AppError::not_found("That script in this meeting"));
    }
    let definitive = sqlx::query!(
        "DELETE FROM definitive_marks d USING responses r
         WHERE d.meeting_id = $1 AND d.response_id = r.id AND r.script_id = $2
         RETURNING d.response_id, d.level, d.mark, d.rationale",
        meeting.id,
        script_id as ScriptId,
    )
    .fetch_all(&mut *tx)
    .await?;
    for d in definitive {
        audit::record(
            &mut *tx,
            audit::Entry {
                response_id: Some(d.response_id),
                old: Some(json!({"level": d.level, "mark": d.mark, "rationale": d.rationale})),
                reason: Some(SCRIPT_REMOVED),
                ..audit::Entry::meeting(meeting.meeting_id(), actor, "definitive.remove")
            },
        )
        .await?;
    }
    let marks = sqlx::query!(
        r#"DELETE FROM marks m USING responses r
           WHERE m.meeting_id = $1 AND m.response_id = r.id AND r.script_id = $2
           RETURNING m.response_id, m.examiner_id, m.level, m.mark, m.comment, m.state AS "state: MarkState""#,
        meeting.id,
        script_id as ScriptId,
    )
    .fetch_all(&mut *tx)
    .await?;
    for m in marks {
        audit::record(
            &mut *tx,
            audit::Entry {
                response_id: Some(m.response_id),
                subject_id: Some(m.examiner_id),
                old: Some(json!({"level": m.level, "mark": m.mark, "comment": m.comment, "state": m.state})),
                reason: Some(SCRIPT_REMOVED),
                ..audit::Entry::meeting(meeting.meeting_id(), actor, "mark.remove")
            },
        )
        .await?;
        // A removed mark is a changed mark: whoever caches the marks reads it again.
        let event =
            live::Event::about(meeting.meeting_id(), live::Kind::Mark, Some(ResponseId(m.response_id)), Some(UserId(m.examiner_id)));
        live::notify(&mut *tx, &event).await?;
    }
    audit::record(
        &mut *tx,
        audit::Entry { old: Some(json!(script_id)), ..audit::Entry::meeting(meeting.meeting_id(), actor, "scripts.remove") },
    )
    .await
}

/// The meeting's state, read under its row lock. Every set-up change (people,
/// scripts) and every change of state takes this lock first, so they happen
/// one after the other and each sees the other's outcome: an addition that
/// waited for an open finds the meeting marking and is refused. The lock is
/// the one changing the state takes anyway (`FOR NO KEY UPDATE`): it excludes
/// the share lock marking takes (`marking::store::locked_state`), but not rows
/// that merely refer to the meeting (audit entries, the tolerances a paper
/// edit writes), so an open cannot deadlock with a paper edit that holds the
/// paper's lock while it waits.
async fn lock_state(tx: &mut PgConnection, meeting_id: MeetingId) -> Result<MeetingState, AppError> {
    sqlx::query_scalar!(r#"SELECT state AS "state: MeetingState" FROM meetings WHERE id = $1 FOR NO KEY UPDATE"#, meeting_id as MeetingId)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::not_found("That meeting"))
}

/// Moves a meeting from setup to marking.
pub async fn open(tx: &mut PgConnection, meeting: &Meeting, actor: Actor) -> Result<(), AppError> {
    let state = lock_state(tx, meeting.meeting_id()).await?;
    if state != MeetingState::Setup {
        return Err(AppError::Conflict(format!("The meeting is already {}.", state.label())));
    }
    let scripts = sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM meeting_scripts WHERE meeting_id = $1"#, meeting.id)
        .fetch_one(&mut *tx)
        .await?;
    if scripts == 0 {
        return Err(AppError::invalid("Choose the scripts to mark before opening the meeting."));
    }
    // The paper's scheme is fixed from now on (`papers::store::is_locked`): wait
    // for any edit of it to finish.
    sqlx::query!("SELECT FROM papers WHERE id = $1 FOR SHARE", meeting.paper_id as PaperId).execute(&mut *tx).await?;
    move_state(tx, meeting, MeetingState::Setup, MeetingState::Marking, actor, "meeting.open").await
}

/// Moves a meeting between states (in one statement, so a double click moves
/// it once) and records it.
async fn move_state(
    tx: &mut PgConnection,
    meeting: &Meeting,
    from: MeetingState,
    to: MeetingState,
    actor: Actor,
    action: &str,
) -> Result<(), AppError> {
    let moved = sqlx::query!(
        "UPDATE meetings SET state = $2,
                opened_at = CASE WHEN $2 = 'marking' THEN now() ELSE opened_at END,
                closed_at = CASE WHEN $2 = 'closed' THEN now() ELSE closed_at END,
                -- Opening pins the meeting to the newest version of its paper's scheme.
                scheme_version_id = CASE WHEN $2 = 'marking' AND scheme_version_id IS NULL
                    THEN (SELECT v.id FROM scheme_versions v WHERE v.paper_id = meetings.paper_id ORDER BY v.number DESC LIMIT 1)
                    ELSE scheme_version_id END
         WHERE id = $1 AND state = $3",
        meeting.id,
        to as MeetingState,
        from as MeetingState,
    )
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() == 0 {
        return Err(AppError::Conflict(format!("The meeting is no longer {}: reload the page.", from.label())));
    }
    audit::record(
        &mut *tx,
        audit::Entry { old: Some(json!(from)), new: Some(json!(to)), ..audit::Entry::meeting(meeting.meeting_id(), actor, action) },
    )
    .await
}

/// Closes a meeting that is marking: nothing changes in it afterwards.
pub async fn close(tx: &mut PgConnection, meeting: &Meeting, actor: Actor) -> Result<(), AppError> {
    let state = lock_state(tx, meeting.meeting_id()).await?;
    if state != MeetingState::Marking {
        return Err(AppError::Conflict(format!("Only a meeting that is marking can be closed; this one is {}.", state.label())));
    }
    move_state(tx, meeting, MeetingState::Marking, MeetingState::Closed, actor, "meeting.close").await
}

/// A person in a meeting.
#[derive(Debug, Clone, Serialize)]
pub struct Participant {
    /// User id.
    pub user_id: UserId,
    /// Email.
    pub email: String,
    /// Name.
    pub name: String,
    /// `pe`, `team_leader` or `examiner`.
    pub role: String,
    /// Their team leader's email, if in a team.
    pub team_leader: Option<String>,
}

/// The people of a meeting, principal examiner first.
pub async fn participants(db: impl PgExecutor<'_>, meeting_id: MeetingId) -> Result<Vec<Participant>, AppError> {
    Ok(sqlx::query_as!(
        Participant,
        r#"SELECT u.id AS user_id, u.email, u.name, p.role, tl.email AS "team_leader?"
           FROM meeting_participants p JOIN users u ON u.id = p.user_id LEFT JOIN users tl ON tl.id = p.team_leader_id
           WHERE p.meeting_id = $1
           ORDER BY CASE p.role WHEN 'pe' THEN 0 WHEN 'team_leader' THEN 1 ELSE 2 END, lower(u.name)"#,
        meeting_id as MeetingId,
    )
    .fetch_all(db)
    .await?)
}

/// A response to mark, with the caller's progress on it.
#[derive(Debug, Clone, Serialize)]
pub struct Assignment {
    /// Response id.
    pub response_id: ResponseId,
    /// Script id.
    pub script_id: ScriptId,
    /// Candidate number.
    pub candidate: String,
    /// Question number.
    pub question: String,
    /// Why the script is in the meeting: for the overseers' pages only. Never
    /// serialised: the assignments API answers markers, who are never told a
    /// script's purpose (`meetings::policy`).
    #[serde(skip_serializing)]
    pub purpose: Purpose,
    /// How far the user has got with it.
    pub state: Progress,
}

crate::text_enum! {
    /// How far a marker has got with one response.
    pub enum Progress {
        /// Not opened, or opened without saving.
        NotStarted = "not_started",
        /// A draft is saved.
        Draft = "draft",
        /// Submitted, awaiting release.
        Submitted = "submitted",
        /// The script is released: the outcome can be seen.
        Released = "released",
    }
}

impl Progress {
    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            Progress::NotStarted => "not started",
            Progress::Draft => "draft",
            Progress::Submitted => "submitted",
            Progress::Released => "released",
        }
    }
}

/// Every response in the meeting with `user`'s progress, in marking order (one query).
pub async fn assignments(db: impl PgExecutor<'_>, meeting_id: MeetingId, user: UserId) -> Result<Vec<Assignment>, AppError> {
    Ok(sqlx::query_as!(
        Assignment,
        r#"SELECT r.id AS response_id, s.id AS script_id, s.candidate, q.number AS question, ms.purpose AS "purpose: Purpose",
                CASE WHEN ms.released_at IS NOT NULL OR qr.set_id IS NOT NULL THEN 'released'
                     WHEN m.state IS NULL THEN 'not_started' ELSE m.state END AS "state!: Progress"
         FROM meeting_scripts ms
         JOIN meetings mt ON mt.id = ms.meeting_id
         JOIN scripts s ON s.id = ms.script_id
         JOIN responses r ON r.script_id = s.id
         JOIN questions q ON q.id = r.question_id
         LEFT JOIN marks m ON m.meeting_id = ms.meeting_id AND m.response_id = r.id AND m.examiner_id = $2
         -- Qualification scripts: those of the sets up to the one the marker is on, once qualification is open.
         LEFT JOIN qualification_set_scripts qss ON qss.meeting_id = ms.meeting_id AND qss.script_id = ms.script_id
         LEFT JOIN qualification_sets qs ON qs.id = qss.set_id
         LEFT JOIN qualifications ql ON ql.meeting_id = ms.meeting_id AND ql.examiner_id = $2
         LEFT JOIN qualification_results qr ON qr.set_id = qs.id AND qr.examiner_id = $2
         WHERE ms.meeting_id = $1
           AND (ms.purpose = 'practice'
                OR (ms.purpose = 'qualification' AND mt.qualification_opened_at IS NOT NULL
                    AND qs.number <= COALESCE(ql.current_set, 1))
                -- Seeds: only those given to this marker, in their ordinary list.
                OR (ms.purpose = 'seed' AND EXISTS (SELECT 1 FROM seed_assignments sa
                        WHERE sa.meeting_id = ms.meeting_id AND sa.script_id = ms.script_id AND sa.examiner_id = $2))
                -- The principal examiner goes through every response, whatever it is for.
                OR EXISTS (SELECT 1 FROM meeting_participants pe WHERE pe.meeting_id = ms.meeting_id AND pe.user_id = $2 AND pe.role = 'pe'))
         ORDER BY qs.number IS NOT NULL, qs.number, qss.position, ms.position, q.position"#,
        meeting_id as MeetingId,
        user as UserId,
    )
    .fetch_all(db)
    .await?)
}

/// How a marker did on the released responses: (within tolerance, compared).
/// Every submitted mark on a released response with a definitive mark counts,
/// judged by the tolerance rules (`stats::tolerance`), not re-coded here.
pub async fn released_results(db: impl PgExecutor<'_>, meeting_id: MeetingId, examiner: UserId) -> Result<(i64, i64), AppError> {
    let rows = sqlx::query!(
        r#"SELECT m.mark, d.mark AS definitive, q.max_mark, t.tolerance AS "tolerance?"
         FROM marks m
         JOIN responses r ON r.id = m.response_id
         JOIN questions q ON q.id = r.question_id
         JOIN meeting_scripts ms ON ms.meeting_id = m.meeting_id AND ms.script_id = r.script_id AND ms.released_at IS NOT NULL
         JOIN definitive_marks d ON d.meeting_id = m.meeting_id AND d.response_id = m.response_id
         LEFT JOIN meeting_tolerances t ON t.meeting_id = m.meeting_id AND t.question_id = r.question_id
         WHERE m.meeting_id = $1 AND m.examiner_id = $2 AND m.state = $3"#,
        meeting_id as MeetingId,
        examiner as UserId,
        MarkState::Submitted as MarkState,
    )
    .fetch_all(db)
    .await?;
    let within = rows.iter().filter(|r| within_tolerance(r.mark - r.definitive, tolerance_in_force(r.tolerance, r.max_mark))).count();
    Ok((i64::try_from(within).unwrap_or(i64::MAX), i64::try_from(rows.len()).unwrap_or(i64::MAX)))
}

/// A team member's progress: name, email, submitted, drafts.
pub type TeamProgress = (String, String, i64, i64);

/// The progress of a team leader's team (one query).
pub async fn team_progress(db: impl PgExecutor<'_>, meeting_id: MeetingId, leader: UserId) -> Result<Vec<TeamProgress>, AppError> {
    Ok(sqlx::query!(
        r#"SELECT u.name, u.email, count(m.id) FILTER (WHERE m.state = 'submitted') AS "submitted!",
                  count(m.id) FILTER (WHERE m.state = 'draft') AS "drafts!"
           FROM meeting_participants p JOIN users u ON u.id = p.user_id
           LEFT JOIN marks m ON m.meeting_id = p.meeting_id AND m.examiner_id = p.user_id
           WHERE p.meeting_id = $1 AND p.team_leader_id = $2
           GROUP BY u.id ORDER BY lower(u.name)"#,
        meeting_id as MeetingId,
        leader as UserId,
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| (r.name, r.email, r.submitted, r.drafts))
    .collect())
}

/// A script of the meeting for the overview.
#[derive(Debug, Clone, Serialize)]
pub struct MeetingScript {
    /// Script id.
    pub script_id: ScriptId,
    /// Candidate number.
    pub candidate: String,
    /// Purpose.
    pub purpose: Purpose,
    /// When it was released, if it was.
    pub released_at: Option<OffsetDateTime>,
    /// Responses in it.
    pub responses: i64,
    /// Responses with a definitive mark.
    pub definitive: i64,
}

/// The meeting's scripts with release and definitive-mark progress (one query).
pub async fn scripts(db: impl PgExecutor<'_>, meeting_id: MeetingId) -> Result<Vec<MeetingScript>, AppError> {
    Ok(sqlx::query_as!(
        MeetingScript,
        r#"SELECT s.id AS script_id, s.candidate, ms.purpose AS "purpose: Purpose", ms.released_at,
                count(r.id) AS "responses!", count(d.response_id) AS "definitive!"
         FROM meeting_scripts ms JOIN scripts s ON s.id = ms.script_id
         LEFT JOIN responses r ON r.script_id = s.id
         LEFT JOIN definitive_marks d ON d.meeting_id = ms.meeting_id AND d.response_id = r.id
         WHERE ms.meeting_id = $1 GROUP BY s.id, ms.purpose, ms.released_at, ms.position ORDER BY ms.position"#,
        meeting_id as MeetingId,
    )
    .fetch_all(db)
    .await?)
}

/// The tolerances a meeting has set, by question number.
#[derive(Debug, Clone, Default)]
pub struct Tolerances(HashMap<String, i32>);

impl Tolerances {
    /// The tolerance in force for a question of the meeting's paper: the
    /// meeting's own, else the default (`stats::tolerance_in_force`).
    pub fn of(&self, q: &Question) -> i32 {
        tolerance_in_force(self.0.get(&q.number).copied(), q.max_mark)
    }
}

/// The tolerances a meeting has set; ask `Tolerances::of` for the one in force.
pub async fn tolerances(db: impl PgExecutor<'_>, meeting_id: MeetingId) -> Result<Tolerances, AppError> {
    let rows = sqlx::query!(
        "SELECT q.number, t.tolerance FROM meeting_tolerances t JOIN questions q ON q.id = t.question_id WHERE t.meeting_id = $1",
        meeting_id as MeetingId,
    )
    .fetch_all(db)
    .await?;
    Ok(Tolerances(rows.into_iter().map(|r| (r.number, r.tolerance)).collect()))
}

/// Gives questions just added to a paper the default tolerance in every
/// meeting on it still being set up (the paper edit holds the paper's lock,
/// so no meeting on it leaves set-up meanwhile).
pub async fn add_default_tolerances(tx: &mut PgConnection, paper_id: PaperId, questions: &[(Uuid, i32)]) -> Result<(), AppError> {
    if questions.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = questions.iter().map(|(id, _)| *id).collect();
    let defaults: Vec<i32> = questions.iter().map(|(_, max)| default_tolerance(*max)).collect();
    sqlx::query!(
        "INSERT INTO meeting_tolerances (meeting_id, question_id, tolerance)
         SELECT m.id, q.id, q.tolerance FROM meetings m CROSS JOIN unnest($2::uuid[], $3::int[]) AS q (id, tolerance)
         WHERE m.paper_id = $1 AND m.state = $4
         ON CONFLICT (meeting_id, question_id) DO NOTHING",
        paper_id as PaperId,
        &ids,
        &defaults,
        MeetingState::Setup as MeetingState,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Drops the meetings' tolerances for questions being removed from a paper
/// (only meetings still being set up can have them: the paper is locked once
/// one starts marking).
pub async fn forget_questions(tx: &mut PgConnection, question_ids: &[Uuid]) -> Result<(), AppError> {
    if !question_ids.is_empty() {
        sqlx::query!("DELETE FROM meeting_tolerances WHERE question_id = ANY($1)", question_ids).execute(&mut *tx).await?;
    }
    Ok(())
}

/// Changes a question's tolerance (principal examiner), audited.
pub async fn set_tolerance(
    tx: &mut PgConnection,
    meeting_id: MeetingId,
    question_id: Uuid,
    tolerance: i32,
    actor: Actor,
) -> Result<(), AppError> {
    let meeting = sqlx::query!(
        r#"SELECT state AS "state: MeetingState", qualification_opened_at IS NOT NULL AS "qualifying!" FROM meetings WHERE id = $1 FOR SHARE"#,
        meeting_id as MeetingId,
    )
    .fetch_one(&mut *tx)
    .await?;
    let (state, qualifying) = (meeting.state, meeting.qualifying);
    if state == MeetingState::Closed {
        return Err(AppError::Conflict("The meeting is closed: its tolerances are final.".into()));
    }
    if qualifying {
        return Err(AppError::Conflict(
            "Qualification is open: examiners are judged against these tolerances, so they can no longer change.".into(),
        ));
    }
    let question = sqlx::query!("SELECT number, max_mark FROM questions WHERE id = $1", question_id).fetch_one(&mut *tx).await?;
    check_tolerance(&question.number, tolerance, question.max_mark).map_err(AppError::invalid)?;
    let old = sqlx::query_scalar!(
        "SELECT tolerance FROM meeting_tolerances WHERE meeting_id = $1 AND question_id = $2 FOR UPDATE",
        meeting_id as MeetingId,
        question_id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO meeting_tolerances (meeting_id, question_id, tolerance) VALUES ($1, $2, $3)
         ON CONFLICT (meeting_id, question_id) DO UPDATE SET tolerance = EXCLUDED.tolerance",
        meeting_id as MeetingId,
        question_id,
        tolerance,
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        audit::Entry {
            old: old.map(|t| json!({"question_id": question_id, "tolerance": t})),
            new: Some(json!({"question_id": question_id, "tolerance": tolerance})),
            ..audit::Entry::meeting(meeting_id, actor, "tolerance.set")
        },
    )
    .await?;
    live::notify(&mut *tx, &live::Event::about(meeting_id, live::Kind::Tolerance, None, None)).await
}

/// The meetings a user can see: all for administrators, else those they take part in.
pub async fn visible_to(db: impl PgExecutor<'_>, user: UserId, admin: bool) -> Result<Vec<(Meeting, Option<Role>, String)>, AppError> {
    let rows = sqlx::query!(
        r#"SELECT m.id, m.paper_id AS "paper_id: PaperId", m.name, m.held_on, m.state AS "state: MeetingState", m.created_at,
                  p.role AS "role?: Role", pa.board || ' ' || pa.code || ' ' || pa.series AS "paper!"
           FROM meetings m JOIN papers pa ON pa.id = m.paper_id
           LEFT JOIN meeting_participants p ON p.meeting_id = m.id AND p.user_id = $1
           WHERE $2 OR p.user_id IS NOT NULL
           ORDER BY m.created_at DESC"#,
        user as UserId,
        admin,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let meeting =
                Meeting { id: r.id, paper_id: r.paper_id, name: r.name, held_on: r.held_on, state: r.state, created_at: r.created_at };
            (meeting, r.role, r.paper)
        })
        .collect())
}
