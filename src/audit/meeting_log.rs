//! Reading a meeting's audit log back: all of it (the API and the CSV), or a
//! page of it filtered by person, response and kind (the audit page).
//!
//! Each entry comes with the names the sentences need (who, whose, which
//! response, which question, which scripts), joined here so the words module
//! stays free of SQL. A team leader's `referral.pass_up` records only the
//! referral's id: its response and asker are read from the referral, so the
//! entry reads and filters like the rest of that referral's history.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{PgExecutor, types::Json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    Page,
    words::{self, Described, Facts, Kind, Names},
};
use crate::{error::AppError, meetings::MeetingId};

/// An entry as read back, with names for people.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Logged {
    /// Sequence number.
    pub id: i64,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who (email).
    pub actor: Option<String>,
    /// Who (name).
    pub actor_name: Option<String>,
    /// What.
    pub action: String,
    /// Which response.
    pub response_id: Option<Uuid>,
    /// Candidate and question of that response, e.g. "0001 / 02".
    pub response_label: Option<String>,
    /// Whose mark (email).
    pub subject: Option<String>,
    /// Whose mark (name).
    pub subject_name: Option<String>,
    /// Before.
    pub old_value: Option<Value>,
    /// After.
    pub new_value: Option<Value>,
    /// Why.
    pub reason: Option<String>,
    /// The response's candidate, e.g. "0001" (for the sentence).
    #[serde(skip)]
    pub candidate: Option<String>,
    /// The response's question number, e.g. "02" (for the sentence).
    #[serde(skip)]
    pub question: Option<String>,
    /// The question a tolerance change is about.
    #[serde(skip)]
    pub tolerance_question: Option<String>,
    /// Candidates of the scripts the entry names (released, added, removed, seeds, sets).
    #[serde(skip)]
    pub scripts: Vec<String>,
}

impl Logged {
    /// The response as the page writes it, e.g. "0002·Q01".
    pub fn response_short(&self) -> Option<String> {
        Some(format!("{}·Q{}", self.candidate.as_deref()?, self.question.as_deref()?))
    }

    /// The entry in plain words.
    pub fn describe(&self, names: &Names) -> Described {
        let response = self.response_short();
        words::describe(&Facts {
            action: &self.action,
            actor: self.actor_name.as_deref().or(self.actor.as_deref()),
            subject: self.subject_name.as_deref().or(self.subject.as_deref()),
            subject_is_actor: self.subject.is_some() && self.subject == self.actor,
            response: response.as_deref(),
            old: self.old_value.as_ref(),
            new: self.new_value.as_ref(),
            reason: self.reason.as_deref(),
            question: self.tolerance_question.as_deref(),
            scripts: &self.scripts,
            names,
        })
    }
}

/// Reads entries of a meeting with everything their sentences need; the
/// literals given are appended to the query (conditions, order, limit), so
/// every reading is a checked query with one column list.
///
/// The casts to uuid are guarded by the action: only `referral.pass_up`
/// records a referral id and only `tolerance.set` a question id, and a CASE
/// evaluates its branch only for the rows it matches.
macro_rules! meeting_entries {
    ($($sql:literal)+; $($arg:expr),* $(,)?) => {
        sqlx::query_as!(
            Logged,
            r#"SELECT a.id, a.at, actor.email AS "actor?", actor.name AS "actor_name?", a.action, a.response_id,
                      s.candidate || ' / ' || q.number AS "response_label?",
                      subject.email AS "subject?", subject.name AS "subject_name?",
                      a.old_value, a.new_value, a.reason,
                      s.candidate AS "candidate?", q.number AS "question?", tq.number AS "tolerance_question?",
                      CASE WHEN a.action IN ('release.script', 'release.all', 'qualification.set', 'seed.assign', 'scripts.add', 'scripts.remove')
                           THEN ARRAY(SELECT sc.candidate FROM scripts sc
                                      WHERE sc.id = ANY(ARRAY(SELECT jsonb_array_elements_text(
                                                CASE a.action WHEN 'scripts.add' THEN a.new_value
                                                              WHEN 'scripts.remove' THEN jsonb_build_array(a.old_value)
                                                              ELSE a.new_value -> 'scripts' END)::uuid))
                                      ORDER BY sc.candidate)
                           ELSE '{}' END AS "scripts!"
               FROM audit_log a
               LEFT JOIN referrals f ON f.id = CASE WHEN a.action = 'referral.pass_up' THEN (a.new_value ->> 'referral')::uuid END
               LEFT JOIN users actor ON actor.id = a.actor_id
               LEFT JOIN users subject ON subject.id = COALESCE(a.subject_id, f.asked_by)
               LEFT JOIN responses r ON r.id = COALESCE(a.response_id, f.response_id)
               LEFT JOIN scripts s ON s.id = r.script_id
               LEFT JOIN questions q ON q.id = r.question_id
               LEFT JOIN questions tq
                 ON tq.id = CASE WHEN a.action = 'tolerance.set' THEN (COALESCE(a.new_value, a.old_value) ->> 'question_id')::uuid END
               WHERE a.meeting_id = $1 "# $(+ $sql)+,
            $($arg),*
        )
    };
}

/// Reads a page of entries that pass the filter: `$1` the meeting, `$2` a
/// person (who did it, or whom it is about), `$3` a response, `$4` the
/// actions of a kind, `$5` whether draft saves are shown, `$6` the page size,
/// `$7` the keyset bound; each `NULL` filter lets everything through.
macro_rules! filtered_entries {
    ($tail:literal; $($arg:expr),* $(,)?) => {
        meeting_entries!(
            "AND ($2::uuid IS NULL OR a.actor_id = $2 OR COALESCE(a.subject_id, f.asked_by) = $2)
             AND ($3::uuid IS NULL OR COALESCE(a.response_id, f.response_id) = $3)
             AND ($4::text[] IS NULL OR a.action = ANY($4))
             AND ($5 OR a.action <> 'mark.draft') "
            $tail;
            $($arg),*
        )
    };
}

/// The whole log of a meeting, oldest first (one query).
pub async fn list(db: impl PgExecutor<'_>, meeting_id: MeetingId) -> Result<Vec<Logged>, AppError> {
    Ok(meeting_entries!("ORDER BY a.id"; meeting_id as MeetingId).fetch_all(db).await?)
}

/// The people a meeting's log names, for the sentences: everyone who did
/// something or had something done to them, and everyone taking part.
pub async fn names(db: impl PgExecutor<'_>, meeting_id: MeetingId) -> Result<Names, AppError> {
    let people = sqlx::query!(
        "SELECT u.id, u.email, u.name FROM users u
         WHERE u.id IN (SELECT actor_id FROM audit_log WHERE meeting_id = $1
                        UNION SELECT subject_id FROM audit_log WHERE meeting_id = $1
                        UNION SELECT user_id FROM meeting_participants WHERE meeting_id = $1)",
        meeting_id as MeetingId,
    )
    .fetch_all(db)
    .await?;
    Ok(Names::new(people.iter().map(|p| (p.id, p.email.as_str(), p.name.as_str()))))
}

/// The log as CSV, for the board's records (every cell spreadsheet-safe),
/// with each entry in plain words in its last column.
pub fn to_csv(entries: &[Logged], names: &Names) -> Result<Vec<u8>, AppError> {
    let header =
        ["id", "at", "actor", "action", "response", "examiner", "old", "new", "reason", "what happened"].map(str::to_owned).to_vec();
    let rows = std::iter::once(header).chain(entries.iter().map(|e| {
        vec![
            e.id.to_string(),
            e.at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            e.actor.clone().unwrap_or_default(),
            e.action.clone(),
            e.response_label.clone().unwrap_or_default(),
            e.subject.clone().unwrap_or_default(),
            e.old_value.as_ref().map(Value::to_string).unwrap_or_default(),
            e.new_value.as_ref().map(Value::to_string).unwrap_or_default(),
            e.reason.clone().unwrap_or_default(),
            e.describe(names).sentence,
        ]
    }));
    crate::dashboard::export::to_csv(&rows.collect::<Vec<_>>())
}

/// What the audit page shows of a meeting's log.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter {
    /// Only entries by or about this person.
    pub person: Option<Uuid>,
    /// Only entries on this response.
    pub response: Option<Uuid>,
    /// Only entries of this kind.
    pub kind: Option<&'static Kind>,
    /// Draft saves too (they are most of the log, so folded away by default).
    pub drafts: bool,
}

/// A person the log names, as the filter offers them.
#[derive(Debug, Clone, Deserialize)]
pub struct LogPerson {
    /// Their account.
    pub id: Uuid,
    /// Their email.
    pub email: String,
    /// Their name.
    pub name: String,
    /// They did something in the log or had something done to them (else
    /// they only take part, and are there for their name).
    pub in_log: bool,
}

/// A response the log names, as the filter offers them.
#[derive(Debug, Clone, Deserialize)]
pub struct LogResponse {
    /// The response.
    pub id: Uuid,
    /// Its candidate, e.g. "0001".
    pub candidate: String,
    /// Its question's number, e.g. "02".
    pub question: String,
}

impl LogResponse {
    /// "0001·Q02", as the sentences write it.
    pub fn label(&self) -> String {
        format!("{}·Q{}", self.candidate, self.question)
    }
}

/// One page of a meeting's log, newest first, with what the filters offer.
#[derive(Debug, Clone)]
pub struct MeetingPage {
    /// The entries, newest first.
    pub entries: Vec<Logged>,
    /// Entries that pass the filter, on every page.
    pub matching: i64,
    /// Draft saves that would pass the other filters but are folded away.
    pub hidden_drafts: i64,
    /// There are older entries after the last one shown.
    pub has_older: bool,
    /// There are newer entries before the first one shown.
    pub has_newer: bool,
    /// Everyone the log names (the filter offers those `in_log`).
    pub people: Vec<LogPerson>,
    /// Every response the log names, by candidate and question.
    pub responses: Vec<LogResponse>,
    /// Names for the sentences.
    pub names: Names,
}

/// Entries per page of a meeting's audit log.
pub const MEETING_PAGE_SIZE: i64 = 50;

/// A page of a meeting's log: one query for the entries, one for the counts,
/// the pages around it and the filter's choices.
pub async fn page(db: &mut sqlx::PgConnection, meeting_id: MeetingId, filter: Filter, page: Page) -> Result<MeetingPage, AppError> {
    let actions: Option<Vec<String>> = filter.kind.map(|k| k.actions.iter().map(|a| (*a).to_owned()).collect());
    let (person, response, drafts, size) = (filter.person, filter.response, filter.drafts, MEETING_PAGE_SIZE);
    let mut entries = match page {
        Page::Newest => {
            filtered_entries!("ORDER BY a.id DESC LIMIT $6"; meeting_id as MeetingId, person, response, actions.as_deref(), drafts, size)
                .fetch_all(&mut *db)
                .await?
        }
        Page::Before(id) => {
            filtered_entries!(
                "AND a.id < $7 ORDER BY a.id DESC LIMIT $6";
                meeting_id as MeetingId, person, response, actions.as_deref(), drafts, size, id
            )
            .fetch_all(&mut *db)
            .await?
        }
        Page::After(id) => {
            filtered_entries!(
                "AND a.id > $7 ORDER BY a.id ASC LIMIT $6";
                meeting_id as MeetingId, person, response, actions.as_deref(), drafts, size, id
            )
            .fetch_all(&mut *db)
            .await?
        }
    };
    if let Page::After(_) = page {
        entries.reverse();
    }
    // Whether anything lies beyond the entries shown, either way; an empty
    // page looks beyond the bound it was asked for.
    let (newer_than, older_than) = match (entries.first(), entries.last(), page) {
        (Some(first), Some(last), _) => (Some(first.id), Some(last.id)),
        (_, _, Page::Newest) => (None, None),
        (_, _, Page::Before(id)) => (Some(id - 1), Some(id)),
        (_, _, Page::After(id)) => (Some(id), Some(id + 1)),
    };
    let summary = sqlx::query!(
        r#"WITH entries AS MATERIALIZED (
               SELECT a.id, a.action, a.actor_id, COALESCE(a.subject_id, f.asked_by) AS subject_id,
                      COALESCE(a.response_id, f.response_id) AS response_id
               FROM audit_log a
               LEFT JOIN referrals f ON f.id = CASE WHEN a.action = 'referral.pass_up' THEN (a.new_value ->> 'referral')::uuid END
               WHERE a.meeting_id = $1
           ), matching AS (
               SELECT id, action FROM entries
               WHERE ($2::uuid IS NULL OR actor_id = $2 OR subject_id = $2)
                 AND ($3::uuid IS NULL OR response_id = $3)
                 AND ($4::text[] IS NULL OR action = ANY($4))
           ), named AS (
               -- Without NULLs, so that `IN (SELECT id FROM named)` is never NULL.
               SELECT actor_id AS id FROM entries WHERE actor_id IS NOT NULL
               UNION SELECT subject_id FROM entries WHERE subject_id IS NOT NULL
           )
           SELECT
               (SELECT count(*) FROM matching WHERE $5 OR action <> 'mark.draft') AS "matching!",
               (SELECT count(*) FROM matching WHERE NOT $5 AND action = 'mark.draft') AS "hidden_drafts!",
               EXISTS (SELECT 1 FROM matching WHERE ($5 OR action <> 'mark.draft') AND id > $6) AS "has_newer!",
               EXISTS (SELECT 1 FROM matching WHERE ($5 OR action <> 'mark.draft') AND id < $7) AS "has_older!",
               (SELECT COALESCE(jsonb_agg(jsonb_build_object('id', u.id, 'email', u.email, 'name', u.name,
                                                             'in_log', u.id IN (SELECT id FROM named))
                                          ORDER BY u.name, u.email), '[]')
                FROM users u
                WHERE u.id IN (SELECT id FROM named UNION SELECT user_id FROM meeting_participants WHERE meeting_id = $1))
                   AS "people!: Json<Vec<LogPerson>>",
               (SELECT COALESCE(jsonb_agg(jsonb_build_object('id', r.id, 'candidate', s.candidate, 'question', q.number)
                                          ORDER BY s.candidate, q.position), '[]')
                FROM responses r JOIN scripts s ON s.id = r.script_id JOIN questions q ON q.id = r.question_id
                WHERE r.id IN (SELECT response_id FROM entries))
                   AS "responses!: Json<Vec<LogResponse>>""#,
        meeting_id as MeetingId,
        person,
        response,
        actions.as_deref(),
        drafts,
        newer_than,
        older_than,
    )
    .fetch_one(&mut *db)
    .await?;
    let Json(people) = summary.people;
    let names = Names::new(people.iter().map(|p| (p.id, p.email.as_str(), p.name.as_str())));
    Ok(MeetingPage {
        entries,
        matching: summary.matching,
        hidden_drafts: summary.hidden_drafts,
        has_older: summary.has_older,
        has_newer: summary.has_newer,
        people,
        responses: summary.responses.0,
        names,
    })
}
