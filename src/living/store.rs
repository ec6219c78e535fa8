//! Referrals, amendments and rulings in the database.

use serde::Serialize;
use serde_json::{Value, json};
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use super::amend::{self, Amendment, Kind};
use crate::{
    audit::{self, Actor},
    error::AppError,
    live,
    meetings::{Meeting, MeetingId, MeetingState, Purpose, Role},
    papers::{PaperId, store as papers_store, versions},
    scripts::ResponseId,
    users::UserId,
};

/// The live event kind for referrals (amendments raise `live::Kind::Amendment`).
pub const EVENT: live::Kind = live::Kind::Referral;

/// Where the amendment came from, when it came from the meeting.
#[derive(Debug, Clone, Copy, Default)]
pub struct Origin {
    /// The meeting.
    pub meeting_id: Option<MeetingId>,
    /// The referral it answers.
    pub referral_id: Option<Uuid>,
    /// The response that prompted it.
    pub response_id: Option<ResponseId>,
}

/// Amends a paper's scheme: the change goes into the working copy and makes
/// the next version, and every meeting marking the paper moves to it
/// (examiners mark against the current version). Returns the version number.
pub async fn amend(tx: &mut PgConnection, paper_id: PaperId, a: &Amendment, actor: UserId, origin: Origin) -> Result<i32, AppError> {
    sqlx::query!("SELECT FROM papers WHERE id = $1 FOR UPDATE", paper_id as PaperId).execute(&mut *tx).await?;
    let paper = papers_store::load(tx, paper_id).await?.ok_or_else(|| AppError::not_found("That paper"))?;
    let mut scheme = paper.scheme.clone();
    amend::apply(&mut scheme, a).map_err(AppError::invalid)?;
    let Some((question_id, q)) =
        scheme.questions.iter().zip(&paper.question_ids).find(|(q, _)| q.number == a.question.trim()).map(|(q, id)| (*id, q))
    else {
        return Err(AppError::invalid(format!("Question {} is not on this paper.", a.question.trim())));
    };
    match a.kind {
        Kind::IndicativeContent | Kind::Note => {
            sqlx::query!("UPDATE questions SET indicative_content = $2 WHERE id = $1", question_id, q.indicative_content)
                .execute(&mut *tx)
                .await?;
        }
        Kind::LevelDescriptor => {
            sqlx::query!(
                "UPDATE level_bands SET descriptor = $3 WHERE question_id = $1 AND grid = 0 AND level = $2",
                question_id,
                a.level,
                a.text.trim(),
            )
            .execute(&mut *tx)
            .await?;
        }
    }
    sqlx::query!("UPDATE papers SET updated_at = now() WHERE id = $1", paper_id as PaperId).execute(&mut *tx).await?;
    let version_id = versions::record(tx, paper_id, Some(Actor(actor)), a.reason.trim()).await?;
    let number = sqlx::query_scalar!("SELECT number FROM scheme_versions WHERE id = $1", version_id).fetch_one(&mut *tx).await?;
    let amendment_id = sqlx::query_scalar!(
        "INSERT INTO amendments (paper_id, scheme_version_id, question_id, kind, level, text, reason, meeting_id, referral_id, response_id, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        paper_id as PaperId,
        version_id,
        question_id,
        a.kind as Kind,
        if a.kind == Kind::LevelDescriptor { a.level } else { None },
        a.text.trim(),
        a.reason.trim(),
        origin.meeting_id as Option<MeetingId>,
        origin.referral_id,
        origin.response_id as Option<ResponseId>,
        actor as UserId,
    )
    .fetch_one(&mut *tx)
    .await?;
    let moved = sqlx::query_scalar!(
        r#"UPDATE meetings SET scheme_version_id = $2 WHERE paper_id = $1 AND state = 'marking' RETURNING id AS "id: MeetingId""#,
        paper_id as PaperId,
        version_id,
    )
    .fetch_all(&mut *tx)
    .await?;
    let change = json!({"version": number, "question": a.question.trim(), "kind": a.kind, "level": a.level, "text": a.text.trim()});
    audit::record(
        &mut *tx,
        audit::Entry {
            new: Some(change.clone()),
            reason: Some(a.reason.trim()),
            ..audit::Entry::paper(paper_id, Actor(actor), "scheme.amend")
        },
    )
    .await?;
    for meeting_id in moved {
        audit::record(
            &mut *tx,
            audit::Entry {
                new: Some(change.clone()),
                reason: Some(a.reason.trim()),
                response_id: origin.response_id.map(|r| r.0),
                ..audit::Entry::meeting(meeting_id, Actor(actor), "scheme.amend")
            },
        )
        .await?;
        live::notify(&mut *tx, &live::Event::about(meeting_id, live::Kind::Amendment, None, None)).await?;
    }
    if let Some(r) = origin.referral_id {
        sqlx::query!("UPDATE referrals SET amendment_id = $2 WHERE id = $1", r, amendment_id).execute(&mut *tx).await?;
    }
    // The adjudication of the response that prompted it led to this amendment: its ruling says so.
    if let (Some(meeting_id), Some(response_id)) = (origin.meeting_id, origin.response_id) {
        sqlx::query!(
            "UPDATE rulings SET amendment_id = $3
             WHERE id = (SELECT id FROM rulings WHERE meeting_id = $1 AND response_id = $2 ORDER BY created_at DESC LIMIT 1)",
            meeting_id as MeetingId,
            response_id as ResponseId,
            amendment_id,
        )
        .execute(&mut *tx)
        .await?;
    }
    Ok(number)
}

/// An examiner whose qualification was judged on a set that uses an amended question.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QualificationAffected {
    /// The meeting.
    pub meeting: String,
    /// Who.
    pub email: String,
    /// Their name.
    pub name: String,
    /// The set.
    pub set: i32,
    /// Whether they passed it.
    pub passed: bool,
}

/// Who was judged on a qualification set that uses question `number` of the
/// paper: an amendment to it may call for a second look at their results
/// (the principal examiner decides, through the set's definitive marks).
pub async fn qualification_affected(
    db: impl PgExecutor<'_>,
    paper_id: PaperId,
    number: &str,
    viewer: UserId,
    is_admin: bool,
) -> Result<Vec<QualificationAffected>, AppError> {
    Ok(sqlx::query_as!(
        QualificationAffected,
        r#"SELECT DISTINCT m.name AS meeting, u.email, u.name, qs.number AS set, qr.passed
           FROM qualification_results qr
           JOIN qualification_sets qs ON qs.id = qr.set_id
           JOIN meetings m ON m.id = qs.meeting_id
           JOIN users u ON u.id = qr.examiner_id
           -- Only meetings the viewer oversees: another principal examiner's examiners are theirs.
           WHERE m.paper_id = $1
             AND ($3 OR EXISTS (SELECT 1 FROM meeting_participants pe WHERE pe.meeting_id = m.id AND pe.user_id = $4 AND pe.role = 'pe'))
             AND EXISTS (
               SELECT 1 FROM qualification_set_scripts qss JOIN responses r ON r.script_id = qss.script_id
               JOIN questions q ON q.id = r.question_id
               WHERE qss.set_id = qs.id AND q.number = $2)
           ORDER BY m.name, qs.number, u.name"#,
        paper_id as PaperId,
        number.trim(),
        is_admin,
        viewer as UserId,
    )
    .fetch_all(db)
    .await?)
}

/// Whether `user` may amend the paper: an administrator, or the principal examiner of a meeting on it.
pub async fn may_amend(db: impl PgExecutor<'_>, paper_id: PaperId, user: UserId, is_admin: bool) -> Result<bool, AppError> {
    if is_admin {
        return Ok(true);
    }
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM meetings m JOIN meeting_participants p ON p.meeting_id = m.id
                          WHERE m.paper_id = $1 AND p.user_id = $2 AND p.role = 'pe') AS "may!""#,
        paper_id as PaperId,
        user as UserId,
    )
    .fetch_one(db)
    .await?)
}

/// A referral as listed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Referral {
    /// Id.
    pub id: Uuid,
    /// The response it is about.
    pub response_id: ResponseId,
    /// Candidate.
    pub candidate: String,
    /// Question number.
    pub question_number: String,
    /// What the examiner asked.
    pub question: String,
    /// open, passed_up or answered.
    pub state: String,
    /// The answer.
    pub answer: Option<String>,
    /// Who asked.
    pub asked_by: String,
    /// Who answered.
    pub answered_by: Option<String>,
    /// The asker's id (decides who may answer).
    #[serde(skip)]
    pub asker_id: UserId,
    /// The asker's team leader, if in a team.
    #[serde(skip)]
    pub team_leader_id: Option<UserId>,
    /// The amendment the answer made, if any.
    pub amendment_id: Option<Uuid>,
    /// When asked.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Refers a response to the principal examiner with a question.
pub async fn refer(
    tx: &mut PgConnection,
    meeting: &Meeting,
    response_id: ResponseId,
    asker: UserId,
    question: &str,
) -> Result<Uuid, AppError> {
    if meeting.state != MeetingState::Marking {
        return Err(AppError::Conflict(format!(
            "The meeting is {}: referrals are made while it is marking. After it, ask the principal examiner directly.",
            meeting.state.label()
        )));
    }
    let question = question.trim();
    if question.is_empty() {
        return Err(AppError::invalid("Write your question for the principal examiner."));
    }
    crate::marking::rules::check_len("A question", question, 2000).map_err(AppError::invalid)?;
    let id = sqlx::query_scalar!(
        "INSERT INTO referrals (meeting_id, response_id, asked_by, question) VALUES ($1, $2, $3, $4) RETURNING id",
        meeting.id,
        response_id as ResponseId,
        asker as UserId,
        question,
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        audit::Entry {
            response_id: Some(response_id.0),
            new: Some(json!({"question": question})),
            ..audit::Entry::meeting(meeting.meeting_id(), Actor(asker), "referral.ask")
        },
    )
    .await?;
    live::notify(&mut *tx, &live::Event::about(meeting.meeting_id(), EVENT, Some(response_id), Some(asker))).await?;
    Ok(id)
}

/// The referrals `viewer` may see: all for the principal examiner and
/// administrators, their team's and their own for a team leader, their own
/// for an examiner; optionally only those on one response.
pub async fn list(
    db: impl PgExecutor<'_>,
    meeting_id: MeetingId,
    viewer: UserId,
    role: Role,
    response: Option<ResponseId>,
) -> Result<Vec<Referral>, AppError> {
    let scope_all = matches!(role, Role::Pe | Role::Admin);
    // The same columns and joins as `answer` reads one referral with.
    Ok(sqlx::query_as!(
        Referral,
        r#"SELECT f.id, f.response_id AS "response_id: ResponseId", s.candidate, q.number AS question_number, f.question, f.state,
                  f.answer, a.email AS asked_by, b.name AS "answered_by?", f.asked_by AS "asker_id: UserId",
                  p.team_leader_id AS "team_leader_id?: UserId", f.amendment_id, f.created_at
           FROM referrals f JOIN responses r ON r.id = f.response_id JOIN scripts s ON s.id = r.script_id
           JOIN questions q ON q.id = r.question_id JOIN users a ON a.id = f.asked_by
           LEFT JOIN users b ON b.id = f.answered_by
           LEFT JOIN meeting_participants p ON p.meeting_id = f.meeting_id AND p.user_id = f.asked_by
           JOIN meeting_scripts ms ON ms.meeting_id = f.meeting_id AND ms.script_id = r.script_id
           -- A team leader sees their team's referrals on practice scripts; those on qualification
           -- sets and seeds go to the principal examiner alone (no coaching mid-set, no seed announced).
           WHERE f.meeting_id = $1 AND ($4::uuid IS NULL OR f.response_id = $4)
             AND ($3 OR f.asked_by = $2 OR (p.team_leader_id = $2 AND ms.purpose = 'practice'))
           ORDER BY f.state = 'answered', f.created_at"#,
        meeting_id as MeetingId,
        viewer as UserId,
        scope_all,
        response as Option<ResponseId>,
    )
    .fetch_all(db)
    .await?)
}

/// Answers a referral (the principal examiner, or the asker's team leader,
/// who may instead pass it up), optionally amending the scheme in the same step.
pub async fn answer(
    tx: &mut PgConnection,
    meeting: &Meeting,
    referral_id: Uuid,
    actor: Actor,
    role: Role,
    text: &str,
    amendment: Option<&Amendment>,
) -> Result<Option<i32>, AppError> {
    // The same columns and joins as `list`.
    let r = sqlx::query_as!(
        Referral,
        r#"SELECT f.id, f.response_id AS "response_id: ResponseId", s.candidate, q.number AS question_number, f.question, f.state,
                  f.answer, a.email AS asked_by, b.name AS "answered_by?", f.asked_by AS "asker_id: UserId",
                  p.team_leader_id AS "team_leader_id?: UserId", f.amendment_id, f.created_at
           FROM referrals f JOIN responses r ON r.id = f.response_id JOIN scripts s ON s.id = r.script_id
           JOIN questions q ON q.id = r.question_id JOIN users a ON a.id = f.asked_by
           LEFT JOIN users b ON b.id = f.answered_by
           LEFT JOIN meeting_participants p ON p.meeting_id = f.meeting_id AND p.user_id = f.asked_by
           WHERE f.id = $1 AND f.meeting_id = $2 FOR UPDATE OF f"#,
        referral_id,
        meeting.id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let r = r.ok_or_else(|| AppError::not_found("That referral in this meeting"))?;
    // Where the referral's script stands, for the team leader's rules below.
    let purpose = sqlx::query_scalar!(
        r#"SELECT ms.purpose AS "purpose: Purpose" FROM referrals f JOIN responses r ON r.id = f.response_id
           JOIN meeting_scripts ms ON ms.meeting_id = f.meeting_id AND ms.script_id = r.script_id WHERE f.id = $1"#,
        referral_id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let allowed = match role {
        Role::Pe => true,
        // A team leader answers their own team's open referrals on practice scripts; one passed up,
        // or on a qualification set or a seed, is the principal examiner's.
        Role::TeamLeader => r.team_leader_id == Some(actor.0) && r.state == "open" && purpose == Some(Purpose::Practice),
        _ => false,
    };
    if !allowed {
        return Err(AppError::Forbidden(if r.state == "passed_up" {
            "This referral was passed up: the principal examiner answers it.".into()
        } else {
            "Only the principal examiner, or the asker's team leader on a practice script, answers this referral.".into()
        }));
    }
    if r.state == "answered" {
        return Err(AppError::Conflict("This referral has already been answered.".into()));
    }
    let text = text.trim();
    if text.is_empty() {
        return Err(AppError::invalid("Write the answer."));
    }
    crate::marking::rules::check_len("An answer", text, 5000).map_err(AppError::invalid)?;
    if amendment.is_some() && role != Role::Pe {
        return Err(AppError::Forbidden("Only the principal examiner amends the mark scheme: pass the referral up instead.".into()));
    }
    let version = match amendment {
        Some(a) => Some(
            amend(
                tx,
                meeting.paper_id,
                a,
                actor.0,
                Origin { meeting_id: Some(meeting.meeting_id()), referral_id: Some(referral_id), response_id: Some(r.response_id) },
            )
            .await?,
        ),
        None => None,
    };
    sqlx::query!(
        "UPDATE referrals SET state = 'answered', answer = $2, answered_by = $3, answered_at = now() WHERE id = $1",
        referral_id,
        text,
        actor.0 as UserId,
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        audit::Entry {
            response_id: Some(r.response_id.0),
            subject_id: Some(r.asker_id.0),
            old: Some(json!({"question": r.question})),
            new: Some(json!({"answer": text, "amended_version": version})),
            ..audit::Entry::meeting(meeting.meeting_id(), actor, "referral.answer")
        },
    )
    .await?;
    live::notify(&mut *tx, &live::Event::about(meeting.meeting_id(), EVENT, Some(r.response_id), Some(r.asker_id))).await?;
    Ok(version)
}

/// A team leader sends a referral on to the principal examiner.
pub async fn pass_up(tx: &mut PgConnection, meeting: &Meeting, referral_id: Uuid, actor: Actor) -> Result<(), AppError> {
    let done = sqlx::query!(
        "UPDATE referrals f SET state = 'passed_up' FROM meeting_participants p
         WHERE f.id = $1 AND f.meeting_id = $2 AND f.state = 'open'
           AND p.meeting_id = f.meeting_id AND p.user_id = f.asked_by AND p.team_leader_id = $3",
        referral_id,
        meeting.id,
        actor.0 as UserId,
    )
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::Forbidden(
            "Only an open referral from a member of your own team can be passed up; it may have been answered or passed up already.".into(),
        ));
    }
    audit::record(
        &mut *tx,
        audit::Entry {
            new: Some(json!({"referral": referral_id})),
            ..audit::Entry::meeting(meeting.meeting_id(), actor, "referral.pass_up")
        },
    )
    .await?;
    // The principal examiner's queue shows it now.
    live::notify(&mut *tx, &live::Event::about(meeting.meeting_id(), EVENT, None, None)).await
}

/// Keeps an adjudication as a ruling: the marks on the response at that
/// moment, the definitive mark before and after.
pub async fn record_ruling(
    tx: &mut PgConnection,
    meeting_id: MeetingId,
    response_id: ResponseId,
    before: Option<Value>,
    after: Value,
    actor: Actor,
) -> Result<(), AppError> {
    sqlx::query!(
        "INSERT INTO rulings (meeting_id, response_id, marks, definitive_before, definitive_after, amendment_id, ruled_by)
         SELECT $1, $2,
                COALESCE((SELECT jsonb_agg(jsonb_build_object('examiner', u.name, 'email', u.email, 'level', m.level, 'mark', m.mark,
                                                              'parts', m.parts, 'state', m.state, 'comment', m.comment) ORDER BY lower(u.name))
                          FROM marks m JOIN users u ON u.id = m.examiner_id
                          WHERE m.meeting_id = $1 AND m.response_id = $2 AND m.state = 'submitted'), '[]'::jsonb),
                $3, $4,
                NULL,
                $5",
        meeting_id as MeetingId,
        response_id as ResponseId,
        before,
        after,
        actor.0 as UserId,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// One entry of a meeting's record.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RecordEntry {
    /// An adjudication.
    Ruling {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// Candidate.
        candidate: String,
        /// Question.
        question: String,
        /// Marks at that moment.
        marks: Value,
        /// Definitive mark before.
        definitive_before: Option<Value>,
        /// Definitive mark after.
        definitive_after: Value,
        /// The scheme version the amendment this ruling led to made, if any.
        amended_version: Option<i32>,
        /// Who ruled.
        by: Option<String>,
    },
    /// An amendment of the scheme.
    Amendment {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// The version it made.
        version: i32,
        /// Question.
        question: String,
        /// Kind.
        kind: String,
        /// Level, for descriptors.
        level: Option<i32>,
        /// The text.
        text: String,
        /// Why.
        reason: String,
        /// Who.
        by: Option<String>,
    },
}

impl RecordEntry {
    fn at(&self) -> OffsetDateTime {
        match self {
            RecordEntry::Ruling { at, .. } | RecordEntry::Amendment { at, .. } => *at,
        }
    }
}

/// The meeting's record, rulings and amendments in order, as `viewer` may read it: everything for the principal
/// examiner and administrators; for a marker, only rulings on practice scripts
/// released to everyone, with no one's mark but their own (the policy's rules
/// for a response view, applied to its history).
pub async fn record(db: &mut PgConnection, meeting: &Meeting, viewer_email: &str, role: Role) -> Result<Vec<RecordEntry>, AppError> {
    struct RulingRow {
        purpose: Purpose,
        released: bool,
        amended_version: Option<i32>,
        created_at: OffsetDateTime,
        candidate: String,
        question: String,
        marks: Value,
        definitive_before: Option<Value>,
        definitive_after: Value,
        by: Option<String>,
    }
    struct AmendmentRow {
        created_at: OffsetDateTime,
        version: i32,
        question: String,
        kind: String,
        level: Option<i32>,
        text: String,
        reason: String,
        by: Option<String>,
    }
    let rulings = sqlx::query_as!(
        RulingRow,
        r#"SELECT ms.purpose AS "purpose: Purpose", ms.released_at IS NOT NULL AS "released!",
                  g.created_at, s.candidate, q.number AS question, g.marks, g.definitive_before, g.definitive_after, u.name AS "by?",
                  (SELECT v.number FROM amendments a JOIN scheme_versions v ON v.id = a.scheme_version_id WHERE a.id = g.amendment_id)
                    AS "amended_version?"
           FROM rulings g JOIN responses r ON r.id = g.response_id JOIN scripts s ON s.id = r.script_id
           JOIN meeting_scripts ms ON ms.meeting_id = g.meeting_id AND ms.script_id = r.script_id
           JOIN questions q ON q.id = r.question_id LEFT JOIN users u ON u.id = g.ruled_by
           WHERE g.meeting_id = $1"#,
        meeting.id,
    )
    .fetch_all(&mut *db)
    .await?;
    // Amendments made in this meeting, and any other amendment of its paper made while it was marking
    // (the meeting moved to those versions too).
    let amendments = sqlx::query_as!(
        AmendmentRow,
        r#"SELECT a.created_at, v.number AS version, q.number AS question, a.kind, a.level, a.text, a.reason, u.name AS "by?"
           FROM amendments a JOIN scheme_versions v ON v.id = a.scheme_version_id JOIN questions q ON q.id = a.question_id
           JOIN meetings m ON m.id = $1
           LEFT JOIN users u ON u.id = a.created_by
           WHERE a.meeting_id = $1
              OR (a.paper_id = $2 AND m.opened_at IS NOT NULL AND a.created_at >= m.opened_at
                  AND (m.closed_at IS NULL OR a.created_at <= m.closed_at))"#,
        meeting.id,
        meeting.paper_id as PaperId,
    )
    .fetch_all(&mut *db)
    .await?;
    let oversees = crate::meetings::policy::oversees(role);
    let mut entries: Vec<RecordEntry> = rulings
        .into_iter()
        .filter(|r| oversees || (r.purpose == Purpose::Practice && r.released))
        .map(|mut r| {
            if !oversees {
                let own: Vec<Value> =
                    r.marks.as_array().map(|a| a.iter().filter(|m| m["email"] == viewer_email).cloned().collect()).unwrap_or_default();
                r.marks = Value::Array(own);
            }
            r
        })
        .map(|r| RecordEntry::Ruling {
            at: r.created_at,
            candidate: r.candidate,
            question: r.question,
            marks: r.marks,
            definitive_before: r.definitive_before,
            definitive_after: r.definitive_after,
            amended_version: r.amended_version,
            by: r.by,
        })
        .chain(amendments.into_iter().map(|a| RecordEntry::Amendment {
            at: a.created_at,
            version: a.version,
            question: a.question,
            kind: a.kind,
            level: a.level,
            text: a.text,
            reason: a.reason,
            by: a.by,
        }))
        .collect();
    entries.sort_by_key(RecordEntry::at);
    Ok(entries)
}

/// The record as Markdown, for examiners who missed the meeting.
pub fn record_markdown(meeting: &Meeting, entries: &[RecordEntry]) -> String {
    let mut md =
        format!("# {}: the meeting's record\n\nRulings and amendments to the mark scheme, in the order they were made.\n", meeting.name);
    for e in entries {
        match e {
            RecordEntry::Ruling { candidate, question, marks, definitive_before, definitive_after, amended_version, by, .. } => {
                md.push_str(&format!("\n## Ruling: candidate {candidate}, question {question}\n\n"));
                let show = |d: &Value| format!("{}{}", d["level"].as_i64().map(|l| format!("Level {l}, ")).unwrap_or_default(), d["mark"]);
                if let Some(b) = definitive_before {
                    md.push_str(&format!("- Definitive mark: {} (was {})\n", show(definitive_after), show(b)));
                } else {
                    md.push_str(&format!("- Definitive mark: {}\n", show(definitive_after)));
                }
                if let Some(r) = definitive_after["rationale"].as_str().filter(|r| !r.is_empty()) {
                    md.push_str(&format!("- Rationale: {}\n", r.replace('\n', " ")));
                }
                let given: Vec<String> = marks
                    .as_array()
                    .map(|a| a.iter().map(|m| format!("{} {}", m["examiner"].as_str().unwrap_or("?"), m["mark"])).collect())
                    .unwrap_or_default();
                if !given.is_empty() {
                    md.push_str(&format!("- Examiners' marks then: {}\n", given.join(", ")));
                }
                if let Some(v) = amended_version {
                    md.push_str(&format!("- It led to an amendment of the mark scheme (version {v})\n"));
                }
                if let Some(by) = by {
                    md.push_str(&format!("- By {by}\n"));
                }
            }
            RecordEntry::Amendment { version, question, kind, level, text, reason, by, .. } => {
                let what = match (kind.as_str(), level) {
                    ("level_descriptor", Some(l)) => format!("level {l} descriptor clarified"),
                    ("indicative_content", _) => "indicative content added".into(),
                    _ => "note added".into(),
                };
                md.push_str(&format!(
                    "\n## Amendment (version {version}): question {question}, {what}\n\n> {}\n\n- Why: {reason}\n",
                    text.replace('\n', "\n> ")
                ));
                if let Some(by) = by {
                    md.push_str(&format!("- By {by}\n"));
                }
            }
        }
    }
    md
}

/// Who may read a paper's scheme versions: administrators, and people taking
/// part in a meeting on the paper (the API and the pages both ask here).
pub async fn may_read_versions(db: &sqlx::PgPool, paper_id: PaperId, user: &crate::users::User) -> Result<(), AppError> {
    let allowed = user.is_admin
        || sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM meetings m JOIN meeting_participants p ON p.meeting_id = m.id
                              WHERE m.paper_id = $1 AND p.user_id = $2) AS "takes_part!""#,
            paper_id as PaperId,
            user.user_id() as UserId,
        )
        .fetch_one(db)
        .await?;
    if allowed { Ok(()) } else { Err(AppError::Forbidden("You take part in no meeting on this paper.".into())) }
}
