//! Qualification and seeds in the database. Writes lock the meeting row first
//! (share), like every other marking write, then the rows they change.

use serde::Serialize;
use serde_json::json;
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use super::rules::{self, Marked, PassRule, QualState, SetResult};
use crate::{
    audit::{self, Actor},
    error::AppError,
    live,
    meetings::{Meeting, MeetingId, MeetingState, Purpose, Role},
    scripts::{ResponseId, ScriptId},
    stats::tolerance::{tolerance_in_force, within_tolerance},
    users::UserId,
};

/// The kind of live event qualification changes send.
pub const EVENT: live::Kind = live::Kind::Qualification;

/// The meeting's state and when qualification opened, under the meeting row's
/// lock that set-up changes and opening take (`FOR NO KEY UPDATE`): making sets,
/// opening qualification, seeding and deciding happen one after the other, and
/// each sees what the one before it did.
async fn meeting_state(tx: &mut PgConnection, meeting_id: MeetingId) -> Result<(MeetingState, Option<OffsetDateTime>), AppError> {
    let row = sqlx::query!(
        r#"SELECT state AS "state: MeetingState", qualification_opened_at FROM meetings WHERE id = $1 FOR NO KEY UPDATE"#,
        meeting_id as MeetingId,
    )
    .fetch_one(&mut *tx)
    .await?;
    Ok((row.state, row.qualification_opened_at))
}

fn event(meeting_id: MeetingId, examiner: Option<UserId>) -> live::Event {
    live::Event::about(meeting_id, EVENT, None, examiner)
}

/// A set as listed.
#[derive(Debug, Clone, Serialize)]
pub struct SetInfo {
    /// 1, 2, …
    pub number: i32,
    /// Its rule.
    pub min_within: i32,
    /// Its cap on total deviation.
    pub max_total_deviation: Option<i32>,
    /// Its scripts, in order: (script id, candidate).
    pub scripts: Vec<(ScriptId, String)>,
}

impl SetInfo {
    /// The rule as a value.
    pub fn rule(&self) -> PassRule {
        PassRule { min_within: self.min_within, max_total_deviation: self.max_total_deviation }
    }

    /// The rule in words.
    pub fn describe(&self) -> String {
        self.rule().describe(self.scripts.len())
    }
}

/// The meeting's sets, in order (one query).
pub async fn sets(db: impl PgExecutor<'_>, meeting_id: MeetingId) -> Result<Vec<SetInfo>, AppError> {
    let rows = sqlx::query!(
        r#"SELECT qs.number, qs.min_within, qs.max_total_deviation, s.id AS "script: ScriptId", s.candidate
           FROM qualification_sets qs
           JOIN qualification_set_scripts qss ON qss.set_id = qs.id
           JOIN scripts s ON s.id = qss.script_id
           WHERE qs.meeting_id = $1 ORDER BY qs.number, qss.position"#,
        meeting_id as MeetingId,
    )
    .fetch_all(db)
    .await?;
    let mut sets: Vec<SetInfo> = Vec::new();
    for r in rows {
        let (number, min_within, max_total_deviation, script, candidate) =
            (r.number, r.min_within, r.max_total_deviation, r.script, r.candidate);
        match sets.last_mut() {
            Some(s) if s.number == number => s.scripts.push((script, candidate)),
            _ => sets.push(SetInfo { number, min_within, max_total_deviation, scripts: vec![(script, candidate)] }),
        }
    }
    Ok(sets)
}

/// Makes the meeting's next set from its qualification scripts, in the order given.
pub async fn create_set(
    tx: &mut PgConnection,
    meeting: &Meeting,
    scripts: &[ScriptId],
    rule: Option<PassRule>,
    actor: Actor,
) -> Result<i32, AppError> {
    let (state, opened) = meeting_state(tx, meeting.meeting_id()).await?;
    if state == MeetingState::Closed {
        return Err(AppError::Conflict("The meeting is closed: its qualification sets are final.".into()));
    }
    if opened.is_some() {
        return Err(AppError::Conflict(
            "Qualification is already open: examiners are marking the sets as they stand, so no set can be added.".into(),
        ));
    }
    if scripts.is_empty() {
        return Err(AppError::invalid("Choose the qualification scripts that make up the set."));
    }
    let mut seen = Vec::new();
    for s in scripts {
        if seen.contains(s) {
            return Err(AppError::invalid("A script is listed twice in the set."));
        }
        seen.push(*s);
    }
    let rule = rule.unwrap_or_else(|| PassRule::default_for(scripts.len()));
    rule.check(scripts.len()).map_err(AppError::invalid)?;
    let found: Vec<(ScriptId, String, Purpose, bool)> = sqlx::query!(
        r#"SELECT ms.script_id AS "script_id: ScriptId", s.candidate, ms.purpose AS "purpose: Purpose",
                  EXISTS (SELECT 1 FROM qualification_set_scripts q WHERE q.meeting_id = ms.meeting_id AND q.script_id = ms.script_id)
                    AS "in_a_set!"
           FROM meeting_scripts ms JOIN scripts s ON s.id = ms.script_id
           WHERE ms.meeting_id = $1 AND ms.script_id = ANY($2)"#,
        meeting.id,
        scripts as &[ScriptId],
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|r| (r.script_id, r.candidate, r.purpose, r.in_a_set))
    .collect();
    for id in scripts {
        match found.iter().find(|f| f.0 == *id) {
            None => {
                return Err(AppError::invalid(format!("Script {id} is not one of this meeting's scripts: add it to the meeting first.")));
            }
            Some((_, c, purpose, _)) if *purpose != Purpose::Qualification => {
                return Err(AppError::invalid(format!(
                    "Candidate {c}'s script is a {purpose} script: only the meeting's qualification scripts go in a qualification set."
                )));
            }
            Some((_, c, _, true)) => {
                return Err(AppError::invalid(format!("Candidate {c}'s script is already in another qualification set.")));
            }
            _ => {}
        }
    }
    let set = sqlx::query!(
        "INSERT INTO qualification_sets (meeting_id, number, min_within, max_total_deviation, created_by)
         SELECT $1, COALESCE(max(number), 0) + 1, $2, $3, $4 FROM qualification_sets WHERE meeting_id = $1
         RETURNING id, number",
        meeting.id,
        rule.min_within,
        rule.max_total_deviation,
        actor.0 as UserId,
    )
    .fetch_one(&mut *tx)
    .await?;
    let (set_id, number) = (set.id, set.number);
    let positions: Vec<i32> = (1..=i32::try_from(scripts.len()).unwrap_or(i32::MAX)).collect();
    sqlx::query!(
        "INSERT INTO qualification_set_scripts (set_id, meeting_id, script_id, position)
         SELECT $1, $2, * FROM unnest($3::uuid[], $4::int[])",
        set_id,
        meeting.id,
        scripts as &[ScriptId],
        &positions,
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        audit::Entry {
            new: Some(
                json!({"set": number, "scripts": scripts, "min_within": rule.min_within, "max_total_deviation": rule.max_total_deviation}),
            ),
            ..audit::Entry::meeting(meeting.meeting_id(), actor, "qualification.set")
        },
    )
    .await?;
    Ok(number)
}

/// Opens qualification: every marker of the meeting starts set 1. Every
/// response of every set needs its definitive mark first.
pub async fn open(tx: &mut PgConnection, meeting: &Meeting, actor: Actor) -> Result<(), AppError> {
    let (state, opened) = meeting_state(tx, meeting.meeting_id()).await?;
    if state != MeetingState::Marking {
        return Err(AppError::Conflict(format!("Qualification opens while the meeting is marking; it is {}.", state.label())));
    }
    if opened.is_some() {
        return Err(AppError::Conflict("Qualification is already open.".into()));
    }
    let sets = sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM qualification_sets WHERE meeting_id = $1"#, meeting.id)
        .fetch_one(&mut *tx)
        .await?;
    if sets == 0 {
        return Err(AppError::invalid("Make a qualification set first: choose its qualification scripts and its pass rule."));
    }
    // Scripts taken out of the meeting since leave their sets smaller: each set must still hold its rule.
    let shapes = sqlx::query!(
        r#"SELECT qs.number, qs.min_within, qs.max_total_deviation,
                  (SELECT count(*) FROM qualification_set_scripts q WHERE q.set_id = qs.id) AS "scripts!"
           FROM qualification_sets qs WHERE qs.meeting_id = $1 ORDER BY qs.number"#,
        meeting.id,
    )
    .fetch_all(&mut *tx)
    .await?;
    for s in shapes {
        let (number, min_within, max_total_deviation, scripts) = (s.number, s.min_within, s.max_total_deviation, s.scripts);
        let rule = PassRule { min_within, max_total_deviation };
        if let Err(e) = rule.check(usize::try_from(scripts).unwrap_or(0)) {
            return Err(AppError::invalid(format!(
                "Set {number} no longer holds its rule (a script was taken out of the meeting): {e} Make the sets again."
            )));
        }
    }
    let missing = sqlx::query!(
        "SELECT qs.number AS set, s.candidate, q.number AS question
         FROM qualification_sets qs JOIN qualification_set_scripts qss ON qss.set_id = qs.id
         JOIN scripts s ON s.id = qss.script_id JOIN responses r ON r.script_id = s.id JOIN questions q ON q.id = r.question_id
         LEFT JOIN definitive_marks d ON d.meeting_id = qs.meeting_id AND d.response_id = r.id
         WHERE qs.meeting_id = $1 AND d.response_id IS NULL ORDER BY qs.number, qss.position, q.position",
        meeting.id,
    )
    .fetch_all(&mut *tx)
    .await?;
    if !missing.is_empty() {
        return Err(AppError::Invalid {
            message: "Qualification was not opened: record a definitive mark for every response of every set first.".into(),
            details: missing
                .iter()
                .map(|m| format!("Set {}: candidate {}, question {} has no definitive mark.", m.set, m.candidate, m.question))
                .collect(),
        });
    }
    sqlx::query!("UPDATE meetings SET qualification_opened_at = now() WHERE id = $1", meeting.id).execute(&mut *tx).await?;
    sqlx::query!(
        "INSERT INTO qualifications (meeting_id, examiner_id, state, current_set)
         SELECT meeting_id, user_id, 'in_progress', 1 FROM meeting_participants
         WHERE meeting_id = $1 AND role IN ('examiner', 'team_leader')
         ON CONFLICT (meeting_id, examiner_id) DO NOTHING",
        meeting.id,
    )
    .execute(&mut *tx)
    .await?;
    audit::record(&mut *tx, audit::Entry::meeting(meeting.meeting_id(), actor, "qualification.open")).await?;
    live::notify(&mut *tx, &event(meeting.meeting_id(), None)).await
}

/// A marker's qualification, if qualification is open.
#[derive(Debug, Clone)]
pub struct Standing {
    /// Their state.
    pub state: QualState,
    /// The set they are on.
    pub current_set: Option<i32>,
}

/// Where `examiner` stands (`None` before qualification opens). A marker
/// added after it opened starts set 1 now.
pub async fn standing(tx: &mut PgConnection, meeting_id: MeetingId, examiner: UserId) -> Result<Option<Standing>, AppError> {
    sqlx::query!(
        "INSERT INTO qualifications (meeting_id, examiner_id, state, current_set)
         SELECT m.id, p.user_id, 'in_progress', 1 FROM meetings m
         JOIN meeting_participants p ON p.meeting_id = m.id AND p.user_id = $2 AND p.role IN ('examiner', 'team_leader')
         WHERE m.id = $1 AND m.qualification_opened_at IS NOT NULL
         ON CONFLICT (meeting_id, examiner_id) DO NOTHING",
        meeting_id as MeetingId,
        examiner as UserId,
    )
    .execute(&mut *tx)
    .await?;
    Ok(sqlx::query_as!(
        Standing,
        r#"SELECT state AS "state: QualState", current_set FROM qualifications WHERE meeting_id = $1 AND examiner_id = $2"#,
        meeting_id as MeetingId,
        examiner as UserId,
    )
    .fetch_optional(&mut *tx)
    .await?)
}

/// Which set (id, number) a script is in, if any.
async fn set_of(db: impl PgExecutor<'_>, meeting_id: MeetingId, script_id: ScriptId) -> Result<Option<(Uuid, i32)>, AppError> {
    Ok(sqlx::query!(
        "SELECT qs.id, qs.number FROM qualification_set_scripts qss JOIN qualification_sets qs ON qs.id = qss.set_id
         WHERE qss.meeting_id = $1 AND qss.script_id = $2",
        meeting_id as MeetingId,
        script_id as ScriptId,
    )
    .fetch_optional(db)
    .await?
    .map(|r| (r.id, r.number)))
}

/// Refuses a marker's write on a qualification or seed script that is not
/// theirs to mark now.
pub async fn check_may_mark(
    tx: &mut PgConnection,
    meeting_id: MeetingId,
    script_id: ScriptId,
    purpose: Purpose,
    examiner: UserId,
) -> Result<(), AppError> {
    match purpose {
        Purpose::Practice => Ok(()),
        Purpose::Qualification => {
            let standing = standing(tx, meeting_id, examiner).await?;
            // One marker's saves on their set queue behind each other, so two
            // last responses submitted at once cannot each miss the other.
            sqlx::query!(
                "SELECT FROM qualifications WHERE meeting_id = $1 AND examiner_id = $2 FOR UPDATE",
                meeting_id as MeetingId,
                examiner as UserId,
            )
            .execute(&mut *tx)
            .await?;
            let set = set_of(&mut *tx, meeting_id, script_id).await?;
            match (standing, set) {
                (None, _) => Err(AppError::Conflict(
                    "Qualification has not been opened yet: the principal examiner opens it once the sets are ready.".into(),
                )),
                (_, None) => Err(AppError::Conflict("This script is in no qualification set.".into())),
                (Some(s), Some((_, n))) if s.state == QualState::InProgress && s.current_set == Some(n) => Ok(()),
                (Some(s), Some((_, n))) => Err(AppError::Conflict(match s.current_set {
                    Some(cur) if cur < n && s.state == QualState::InProgress => {
                        format!(
                            "This script is in qualification set {n}: finish set {cur} first (set {n} opens only if you do not pass it)."
                        )
                    }
                    _ => format!("Your marks on qualification set {n} are final: they were judged when you submitted the set."),
                })),
            }
        }
        Purpose::Seed => {
            let seeded = sqlx::query_scalar!(
                r#"SELECT EXISTS (SELECT 1 FROM seed_assignments WHERE meeting_id = $1 AND examiner_id = $2 AND script_id = $3 FOR UPDATE)
                     AS "seeded!""#,
                meeting_id as MeetingId,
                examiner as UserId,
                script_id as ScriptId,
            )
            .fetch_one(&mut *tx)
            .await?;
            if seeded { Ok(()) } else { Err(AppError::not_found("That response in your marking")) }
        }
    }
}

struct MarkedRow {
    script_id: ScriptId,
    mark: Option<i32>,
    submitted: bool,
    definitive: Option<i32>,
    tolerance: Option<i32>,
    max_mark: i32,
}

impl MarkedRow {
    fn marked(&self) -> Option<Marked> {
        Some(Marked {
            script: self.script_id.0,
            mark: self.mark?,
            definitive: self.definitive?,
            tolerance: tolerance_in_force(self.tolerance, self.max_mark),
        })
    }
}

/// Every response of the given scripts with `examiner`'s mark on it.
async fn marked(tx: &mut PgConnection, meeting_id: MeetingId, examiner: UserId, scripts: &[ScriptId]) -> Result<Vec<MarkedRow>, AppError> {
    Ok(sqlx::query_as!(
        MarkedRow,
        r#"SELECT r.script_id AS "script_id: ScriptId", m.mark AS "mark?",
                  m.state IS NOT DISTINCT FROM 'submitted' AS "submitted!", d.mark AS "definitive?", t.tolerance AS "tolerance?",
                  q.max_mark
           FROM responses r JOIN questions q ON q.id = r.question_id
           LEFT JOIN marks m ON m.meeting_id = $1 AND m.response_id = r.id AND m.examiner_id = $2
           LEFT JOIN definitive_marks d ON d.meeting_id = $1 AND d.response_id = r.id
           LEFT JOIN meeting_tolerances t ON t.meeting_id = $1 AND t.question_id = r.question_id
           WHERE r.script_id = ANY($3)"#,
        meeting_id as MeetingId,
        examiner as UserId,
        scripts as &[ScriptId],
    )
    .fetch_all(&mut *tx)
    .await?)
}

/// After a marker submits a mark on a qualification or seed script: when it
/// completes their set, judge the set at once and move them on; when it
/// completes a seed script, record the seed's result.
pub async fn after_submit(
    tx: &mut PgConnection,
    meeting_id: MeetingId,
    script_id: ScriptId,
    purpose: Purpose,
    examiner: UserId,
) -> Result<(), AppError> {
    match purpose {
        Purpose::Practice => Ok(()),
        Purpose::Qualification => {
            let Some((set_id, number)) = set_of(&mut *tx, meeting_id, script_id).await? else { return Ok(()) };
            let sets = self::sets(&mut *tx, meeting_id).await?;
            let Some(set) = sets.iter().find(|s| s.number == number) else { return Ok(()) };
            let scripts: Vec<ScriptId> = set.scripts.iter().map(|(id, _)| *id).collect();
            let rows = marked(tx, meeting_id, examiner, &scripts).await?;
            if !rows.iter().all(|r| r.submitted) {
                return Ok(());
            }
            let marks: Vec<Marked> = rows.iter().filter_map(MarkedRow::marked).collect();
            let result = rules::judge(set.rule(), &marks);
            let (state, next) = rules::after_set(number, i32::try_from(sets.len()).unwrap_or(i32::MAX), result.passed);
            let inserted = sqlx::query!(
                "INSERT INTO qualification_results (set_id, meeting_id, examiner_id, within, scripts, total_deviation, passed)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                set_id,
                meeting_id as MeetingId,
                examiner as UserId,
                result.within,
                result.scripts,
                result.total_deviation,
                result.passed,
            )
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 0 {
                return Ok(());
            }
            sqlx::query!(
                "UPDATE qualifications SET state = $3, current_set = $4, updated_at = now() WHERE meeting_id = $1 AND examiner_id = $2",
                meeting_id as MeetingId,
                examiner as UserId,
                state as QualState,
                next,
            )
            .execute(&mut *tx)
            .await?;
            audit::record(
                &mut *tx,
                audit::Entry {
                    subject_id: Some(examiner.0),
                    new: Some(json!({"set": number, "within": result.within, "of": result.scripts,
                                     "total_deviation": result.total_deviation, "passed": result.passed, "state": state})),
                    ..audit::Entry::meeting(meeting_id, Actor(examiner), "qualification.result")
                },
            )
            .await?;
            live::notify(&mut *tx, &event(meeting_id, Some(examiner))).await
        }
        Purpose::Seed => {
            let rows = marked(tx, meeting_id, examiner, &[script_id]).await?;
            if !rows.iter().all(|r| r.submitted) {
                return Ok(());
            }
            let marks: Vec<Marked> = rows.iter().filter_map(MarkedRow::marked).collect();
            let within = marks.iter().all(|m| within_tolerance(m.mark - m.definitive, m.tolerance));
            let deviation: i32 = marks.iter().map(|m| (m.mark - m.definitive).abs()).sum();
            sqlx::query!(
                "UPDATE seed_assignments SET within = $4, deviation = $5, completed_at = now()
                 WHERE meeting_id = $1 AND examiner_id = $2 AND script_id = $3 AND completed_at IS NULL",
                meeting_id as MeetingId,
                examiner as UserId,
                script_id as ScriptId,
                within,
                deviation,
            )
            .execute(&mut *tx)
            .await?;
            // Heard by the principal examiner only: the examiner must not learn a seed was one.
            live::notify(&mut *tx, &event(meeting_id, None)).await
        }
    }
}

/// Whether a qualification script's definitive marks are released to this
/// marker: once they have submitted the set it is in, and to nobody else.
pub async fn released_to(db: impl PgExecutor<'_>, meeting_id: MeetingId, script_id: ScriptId, viewer: UserId) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM qualification_set_scripts qss
                          JOIN qualification_results qr ON qr.set_id = qss.set_id AND qr.examiner_id = $3
                          WHERE qss.meeting_id = $1 AND qss.script_id = $2) AS "released!""#,
        meeting_id as MeetingId,
        script_id as ScriptId,
        viewer as UserId,
    )
    .fetch_one(db)
    .await?)
}

/// Records a decision on a marker's qualification, by the principal
/// examiner or (for their own team) a team leader.
pub async fn decide(
    tx: &mut PgConnection,
    meeting: &Meeting,
    actor: Actor,
    actor_role: Role,
    examiner_email: &str,
    approved: bool,
    reason: &str,
) -> Result<QualState, AppError> {
    let reason = reason.trim();
    crate::marking::rules::check_len("A reason", reason, crate::marking::rules::MAX_REASON_CHARS).map_err(AppError::invalid)?;
    meeting_state(tx, meeting.meeting_id()).await?;
    let who = sqlx::query!(
        r#"SELECT u.id AS "id: UserId", p.role AS "role: Role", p.team_leader_id AS "team_leader_id: UserId", u.name FROM users u
           JOIN meeting_participants p ON p.user_id = u.id AND p.meeting_id = $1 WHERE lower(u.email) = lower($2)"#,
        meeting.id,
        examiner_email,
    )
    .fetch_optional(&mut *tx)
    .await?
    .map(|w| (w.id, w.role, w.team_leader_id, w.name));
    let Some((examiner, role, leader, name)) = who.filter(|w| w.1 != Role::Pe) else {
        return Err(AppError::not_found(format!("A marker with the email {examiner_email} in this meeting")));
    };
    let allowed = match actor_role {
        Role::Pe => true,
        Role::TeamLeader => leader == Some(actor.0),
        _ => false,
    };
    if !allowed {
        return Err(AppError::Forbidden(format!(
            "{name} is not in your team: only the principal examiner, or {name}'s own team leader, decides their qualification."
        )));
    }
    if role == Role::TeamLeader && actor_role == Role::TeamLeader {
        return Err(AppError::Forbidden("A team leader's qualification is decided by the principal examiner.".into()));
    }
    let standing = sqlx::query!(
        r#"SELECT q.state AS "state: QualState", q.current_set,
                  EXISTS (SELECT 1 FROM meeting_participants p WHERE p.meeting_id = q.meeting_id AND p.user_id = q.decided_by AND p.role = 'pe')
                    AS "decided_by_pe!"
           FROM qualifications q WHERE q.meeting_id = $1 AND q.examiner_id = $2 FOR UPDATE"#,
        meeting.id,
        examiner as UserId,
    )
    .fetch_optional(&mut *tx)
    .await?
    .map(|s| (s.state, s.current_set, s.decided_by_pe));
    let Some((state, set, decided_by_pe)) = standing.filter(|(s, _, _)| s.decidable()) else {
        return Err(AppError::Conflict(format!(
            "{name} has not finished qualifying yet{}: decide once their result is in.",
            match standing {
                Some((_, Some(n), _)) => format!(" (they are marking set {n})"),
                _ => String::new(),
            }
        )));
    };
    // A team leader approves (or not) a member who passed; a failure, and the
    // principal examiner's own decisions, are the principal examiner's.
    if actor_role == Role::TeamLeader {
        if decided_by_pe {
            return Err(AppError::Forbidden(format!(
                "The principal examiner has decided {name}'s qualification: only they can change it."
            )));
        }
        if state == QualState::Failed {
            return Err(AppError::Forbidden(format!("{name} did not pass their last set: the principal examiner decides.")));
        }
    }
    // Agreeing with a pass needs no words; anything else says why.
    if reason.is_empty() && !(approved && state == QualState::Passed) {
        return Err(AppError::invalid(format!(
            "Give a reason: {name} is {}, and the decision {} it.",
            state.label(),
            if approved { "overrides" } else { "goes against" }
        )));
    }
    let new = if approved { QualState::Approved } else { QualState::NotApproved };
    sqlx::query!(
        "UPDATE qualifications SET state = $3, decided_by = $4, reason = $5, decided_at = now(), updated_at = now()
         WHERE meeting_id = $1 AND examiner_id = $2",
        meeting.id,
        examiner as UserId,
        new as QualState,
        actor.0 as UserId,
        Some(reason).filter(|r| !r.is_empty()),
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        audit::Entry {
            subject_id: Some(examiner.0),
            old: Some(json!({"state": state, "set": set})),
            new: Some(json!({"state": new})),
            reason: Some(reason).filter(|r| !r.is_empty()),
            ..audit::Entry::meeting(meeting.meeting_id(), actor, "qualification.decide")
        },
    )
    .await?;
    live::notify(&mut *tx, &event(meeting.meeting_id(), Some(examiner))).await?;
    Ok(new)
}

/// Gives approved examiners seed scripts (each needs every definitive mark).
pub async fn seed(
    tx: &mut PgConnection,
    meeting: &Meeting,
    examiners: &[String],
    scripts: &[ScriptId],
    actor: Actor,
) -> Result<usize, AppError> {
    let (state, _) = meeting_state(tx, meeting.meeting_id()).await?;
    if state != MeetingState::Marking {
        return Err(AppError::Conflict(format!("Seeds are given while the meeting is marking; it is {}.", state.label())));
    }
    if examiners.is_empty() || scripts.is_empty() {
        return Err(AppError::invalid("Choose the approved examiners and the seed scripts to give them."));
    }
    let people: Vec<(String, UserId, Option<QualState>)> = sqlx::query!(
        r#"SELECT u.email, u.id AS "id: UserId", q.state AS "state?: QualState" FROM users u
           JOIN meeting_participants p ON p.user_id = u.id AND p.meeting_id = $1 AND p.role IN ('examiner', 'team_leader')
           LEFT JOIN qualifications q ON q.meeting_id = p.meeting_id AND q.examiner_id = u.id
           WHERE lower(u.email) = ANY(SELECT lower(e) FROM unnest($2::text[]) e)"#,
        meeting.id,
        examiners,
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|p| (p.email, p.id, p.state))
    .collect();
    for e in examiners {
        match people.iter().find(|p| p.0.eq_ignore_ascii_case(e)) {
            None => return Err(AppError::invalid(format!("{e} does not mark in this meeting."))),
            Some((email, _, state)) if *state != Some(QualState::Approved) => {
                return Err(AppError::invalid(format!(
                    "{email} is not approved to mark live ({}): seeds check approved examiners. Decide their qualification first.",
                    state.map_or("has not qualified", QualState::label)
                )));
            }
            _ => {}
        }
    }
    let found: Vec<(ScriptId, String, Purpose, i64)> = sqlx::query!(
        r#"SELECT ms.script_id AS "script_id: ScriptId", s.candidate, ms.purpose AS "purpose: Purpose",
                  (SELECT count(*) FROM responses r LEFT JOIN definitive_marks d ON d.meeting_id = ms.meeting_id AND d.response_id = r.id
                   WHERE r.script_id = ms.script_id AND d.response_id IS NULL) AS "missing!"
           FROM meeting_scripts ms JOIN scripts s ON s.id = ms.script_id WHERE ms.meeting_id = $1 AND ms.script_id = ANY($2)"#,
        meeting.id,
        scripts as &[ScriptId],
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|f| (f.script_id, f.candidate, f.purpose, f.missing))
    .collect();
    for id in scripts {
        match found.iter().find(|f| f.0 == *id) {
            None => return Err(AppError::invalid(format!("Script {id} is not one of this meeting's scripts."))),
            Some((_, c, purpose, _)) if *purpose != Purpose::Seed => {
                return Err(AppError::invalid(format!("Candidate {c}'s script is a {purpose} script, not a seed.")));
            }
            Some((_, c, _, missing)) if *missing > 0 => {
                return Err(AppError::invalid(format!(
                    "Candidate {c}'s seed has {missing} response{} without a definitive mark: record them first.",
                    if *missing == 1 { "" } else { "s" }
                )));
            }
            _ => {}
        }
    }
    let ids: Vec<UserId> = people.iter().map(|p| p.1).collect();
    let given = sqlx::query!(
        "INSERT INTO seed_assignments (meeting_id, examiner_id, script_id, assigned_by)
         SELECT $1, e, s, $4 FROM unnest($2::uuid[]) e CROSS JOIN unnest($3::uuid[]) s
         ON CONFLICT DO NOTHING",
        meeting.id,
        &ids as &[UserId],
        scripts as &[ScriptId],
        actor.0 as UserId,
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        audit::Entry {
            new: Some(json!({"examiners": examiners, "scripts": scripts})),
            ..audit::Entry::meeting(meeting.meeting_id(), actor, "seed.assign")
        },
    )
    .await?;
    Ok(usize::try_from(given.rows_affected()).unwrap_or(usize::MAX))
}

/// A marker's result on one set.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SetScore {
    /// The set.
    pub set: i32,
    /// Scripts within tolerance on every response.
    pub within_tolerance: i32,
    /// Scripts in the set.
    pub of: i32,
    /// Total absolute deviation.
    pub total_deviation: i32,
    /// Whether the rule was met.
    pub passed: bool,
}

/// A completed seed, as evidence.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SeedResult {
    /// Candidate.
    pub candidate: String,
    /// Within tolerance on every response.
    pub within: bool,
    /// Total absolute deviation.
    pub deviation: i32,
    /// When they submitted it.
    #[serde(with = "time::serde::rfc3339")]
    pub completed_at: OffsetDateTime,
}

/// One marker's qualification, as the overview shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Entry {
    /// Who.
    pub email: String,
    /// Name.
    pub name: String,
    /// Their team leader's user id, if in a team.
    #[serde(skip)]
    pub team_leader_id: Option<UserId>,
    /// Where they stand.
    pub state: QualState,
    /// The set they are on.
    pub current_set: Option<i32>,
    /// Their results, set by set.
    pub sets: Vec<SetScore>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// Seeds call for a check (2 of the last 3 out of tolerance).
    pub seed_flag: bool,
    /// Their completed seeds, newest first.
    pub seeds: Vec<SeedResult>,
    /// Seeds given but not yet marked.
    pub seeds_pending: i64,
}

struct EntryRow {
    user_id: UserId,
    email: String,
    name: String,
    team_leader_id: Option<UserId>,
    state: Option<QualState>,
    current_set: Option<i32>,
    decided_by: Option<String>,
    reason: Option<String>,
}

impl Entry {
    /// The entry without seed evidence, for anyone but the principal examiner
    /// and administrators (a marker must not learn which scripts were seeds;
    /// a team leader, who marks too, neither). The flag itself stays.
    pub fn without_seed_evidence(mut self) -> Entry {
        self.seeds.clear();
        self.seeds_pending = 0;
        self
    }

    /// What a marker is shown of their own standing: no seed, no flag.
    pub fn for_the_marker(mut self) -> Entry {
        self.seed_flag = false;
        self.without_seed_evidence()
    }
}

/// Every marker's qualification (`only` narrows to some people), with their
/// set results and seeds (three queries, whatever the number of people).
pub async fn overview(db: &mut PgConnection, meeting_id: MeetingId, only: Option<&[UserId]>) -> Result<Vec<Entry>, AppError> {
    let rows = sqlx::query_as!(
        EntryRow,
        r#"SELECT u.id AS "user_id: UserId", u.email, u.name, p.team_leader_id AS "team_leader_id: UserId",
                  q.state AS "state?: QualState", q.current_set AS "current_set?", d.name AS "decided_by?", q.reason AS "reason?"
           FROM meeting_participants p JOIN users u ON u.id = p.user_id
           LEFT JOIN qualifications q ON q.meeting_id = p.meeting_id AND q.examiner_id = p.user_id
           LEFT JOIN users d ON d.id = q.decided_by
           WHERE p.meeting_id = $1 AND p.role IN ('examiner', 'team_leader') AND ($2::uuid[] IS NULL OR p.user_id = ANY($2))
           ORDER BY lower(u.name)"#,
        meeting_id as MeetingId,
        only as Option<&[UserId]>,
    )
    .fetch_all(&mut *db)
    .await?;
    let scores: Vec<(UserId, SetScore)> = sqlx::query_as!(
        SetScoreWho,
        r#"SELECT qr.examiner_id AS "examiner_id: UserId", qs.number AS set, qr.within AS within_tolerance, qr.scripts AS of,
                  qr.total_deviation, qr.passed
           FROM qualification_results qr JOIN qualification_sets qs ON qs.id = qr.set_id
           WHERE qr.meeting_id = $1 ORDER BY qs.number"#,
        meeting_id as MeetingId,
    )
    .fetch_all(&mut *db)
    .await?
    .into_iter()
    .map(|r| {
        (
            r.examiner_id,
            SetScore { set: r.set, within_tolerance: r.within_tolerance, of: r.of, total_deviation: r.total_deviation, passed: r.passed },
        )
    })
    .collect();
    let seeds = sqlx::query_as!(
        SeedWho,
        r#"SELECT sa.examiner_id AS "examiner_id: UserId", s.candidate, sa.within, sa.deviation, sa.completed_at
           FROM seed_assignments sa JOIN scripts s ON s.id = sa.script_id
           WHERE sa.meeting_id = $1 ORDER BY sa.completed_at DESC NULLS LAST"#,
        meeting_id as MeetingId,
    )
    .fetch_all(&mut *db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mine: Vec<SeedResult> = seeds
                .iter()
                .filter(|s| s.examiner_id == r.user_id)
                .filter_map(|s| {
                    Some(SeedResult {
                        candidate: s.candidate.clone(),
                        within: s.within?,
                        deviation: s.deviation?,
                        completed_at: s.completed_at?,
                    })
                })
                .collect();
            let pending = seeds.iter().filter(|s| s.examiner_id == r.user_id && s.completed_at.is_none()).count();
            let flags: Vec<bool> = mine.iter().map(|s| s.within).collect();
            Entry {
                email: r.email,
                name: r.name,
                team_leader_id: r.team_leader_id,
                state: r.state.unwrap_or(QualState::NotStarted),
                current_set: r.current_set,
                sets: scores.iter().filter(|(who, _)| *who == r.user_id).map(|(_, s)| s.clone()).collect(),
                decided_by: r.decided_by,
                reason: r.reason,
                seed_flag: rules::seed_flag(&flags),
                seeds: mine,
                seeds_pending: i64::try_from(pending).unwrap_or(i64::MAX),
            }
        })
        .collect())
}

struct SetScoreWho {
    examiner_id: UserId,
    set: i32,
    within_tolerance: i32,
    of: i32,
    total_deviation: i32,
    passed: bool,
}

struct SeedWho {
    examiner_id: UserId,
    candidate: String,
    within: Option<bool>,
    deviation: Option<i32>,
    completed_at: Option<OffsetDateTime>,
}

/// A response of a submitted set, as its examiner sees the outcome.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Outcome {
    /// The set.
    pub set: i32,
    /// Response id.
    pub response_id: ResponseId,
    /// Candidate.
    pub candidate: String,
    /// Question number.
    pub question: String,
    /// Their mark.
    pub mark: i32,
    /// The definitive mark.
    pub definitive: i32,
    /// The principal examiner's rationale.
    pub rationale: String,
    /// Mark − definitive.
    pub difference: i32,
    /// The question's tolerance.
    pub tolerance: i32,
    /// Within tolerance.
    pub within: bool,
}

/// Per response of every set `examiner` has submitted: their mark against
/// the definitive mark (released to them, and only them, on submission).
pub async fn outcomes(db: impl PgExecutor<'_>, meeting_id: MeetingId, examiner: UserId) -> Result<Vec<Outcome>, AppError> {
    struct Row {
        set: i32,
        response_id: ResponseId,
        candidate: String,
        question: String,
        mark: i32,
        definitive: i32,
        rationale: String,
        tolerance: Option<i32>,
        max_mark: i32,
    }
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT qs.number AS set, r.id AS "response_id: ResponseId", s.candidate, q.number AS question, m.mark, d.mark AS definitive,
                d.rationale, t.tolerance AS "tolerance?", q.max_mark
         FROM qualification_results qr
         JOIN qualification_sets qs ON qs.id = qr.set_id
         JOIN qualification_set_scripts qss ON qss.set_id = qs.id
         JOIN scripts s ON s.id = qss.script_id
         JOIN responses r ON r.script_id = s.id JOIN questions q ON q.id = r.question_id
         JOIN marks m ON m.meeting_id = qr.meeting_id AND m.response_id = r.id AND m.examiner_id = qr.examiner_id
         JOIN definitive_marks d ON d.meeting_id = qr.meeting_id AND d.response_id = r.id
         LEFT JOIN meeting_tolerances t ON t.meeting_id = qr.meeting_id AND t.question_id = q.id
         WHERE qr.meeting_id = $1 AND qr.examiner_id = $2
         ORDER BY qs.number, qss.position, q.position"#,
        meeting_id as MeetingId,
        examiner as UserId,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let tolerance = tolerance_in_force(r.tolerance, r.max_mark);
            Outcome {
                set: r.set,
                response_id: r.response_id,
                candidate: r.candidate,
                question: r.question,
                mark: r.mark,
                definitive: r.definitive,
                rationale: r.rationale,
                difference: r.mark - r.definitive,
                tolerance,
                within: within_tolerance(r.mark - r.definitive, tolerance),
            }
        })
        .collect())
}

/// Whether qualification is open in the meeting.
pub async fn is_open(db: impl PgExecutor<'_>, meeting_id: MeetingId) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(r#"SELECT qualification_opened_at IS NOT NULL AS "open!" FROM meetings WHERE id = $1"#, meeting_id as MeetingId)
        .fetch_one(db)
        .await?)
}

/// What the result of a set means for the examiner who just finished it.
pub fn result_words(result: &SetResult) -> String {
    format!(
        "{} of {} scripts within tolerance, {} marks from the definitive marks in total: {}.",
        result.within,
        result.scripts,
        result.total_deviation,
        if result.passed { "passed" } else { "not passed" }
    )
}

/// After the definitive mark of a response in a qualification set changed:
/// when `apply`, judges again every examiner who submitted that set against
/// the marks as they now are, and moves those not yet decided to where their
/// results now put them; otherwise leaves every result as it stood. Either way
/// the decision is audited.
pub async fn reevaluate(
    tx: &mut PgConnection,
    meeting_id: MeetingId,
    script_id: ScriptId,
    apply: bool,
    actor: Actor,
) -> Result<(), AppError> {
    let Some((set_id, number)) = set_of(&mut *tx, meeting_id, script_id).await? else { return Ok(()) };
    let sets = self::sets(&mut *tx, meeting_id).await?;
    let Some(set) = sets.iter().find(|s| s.number == number) else { return Ok(()) };
    let scripts: Vec<ScriptId> = set.scripts.iter().map(|(id, _)| *id).collect();
    let examiners = sqlx::query!(
        r#"SELECT examiner_id AS "examiner_id: UserId", passed FROM qualification_results WHERE set_id = $1 FOR UPDATE"#,
        set_id,
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut changes = Vec::new();
    for e in examiners {
        let (examiner, passed_before) = (e.examiner_id, e.passed);
        let rows = marked(tx, meeting_id, examiner, &scripts).await?;
        let marks: Vec<Marked> = rows.iter().filter_map(MarkedRow::marked).collect();
        let result = rules::judge(set.rule(), &marks);
        if result.passed != passed_before {
            changes.push(json!({"examiner": examiner, "set": number, "passed_before": passed_before, "passed_after": result.passed}));
        }
        if !apply {
            continue;
        }
        sqlx::query!(
            "UPDATE qualification_results SET within = $3, total_deviation = $4, passed = $5 WHERE set_id = $1 AND examiner_id = $2",
            set_id,
            examiner as UserId,
            result.within,
            result.total_deviation,
            result.passed,
        )
        .execute(&mut *tx)
        .await?;
        // Where their results now put them, unless someone has already decided.
        let results: Vec<(i32, bool)> = sqlx::query!(
            "SELECT qs.number, qr.passed FROM qualification_results qr JOIN qualification_sets qs ON qs.id = qr.set_id
             WHERE qr.meeting_id = $1 AND qr.examiner_id = $2 ORDER BY qs.number",
            meeting_id as MeetingId,
            examiner as UserId,
        )
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|r| (r.number, r.passed))
        .collect();
        let total = i32::try_from(sets.len()).unwrap_or(i32::MAX);
        let (state, current) = match results.iter().find(|(_, p)| *p) {
            Some((n, _)) => (QualState::Passed, *n),
            None => {
                let last = results.last().map_or(1, |(n, _)| *n);
                rules::after_set(last, total, false)
            }
        };
        sqlx::query!(
            "UPDATE qualifications SET state = $3, current_set = $4, updated_at = now()
             WHERE meeting_id = $1 AND examiner_id = $2 AND state IN ('in_progress', 'passed', 'failed')",
            meeting_id as MeetingId,
            examiner as UserId,
            state as QualState,
            current,
        )
        .execute(&mut *tx)
        .await?;
    }
    audit::record(
        &mut *tx,
        audit::Entry {
            new: Some(json!({"set": number, "reevaluated": apply, "outcomes_changed": changes})),
            ..audit::Entry::meeting(meeting_id, actor, if apply { "qualification.reevaluate" } else { "qualification.not_reevaluated" })
        },
    )
    .await?;
    live::notify(&mut *tx, &event(meeting_id, None)).await
}
