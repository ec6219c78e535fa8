//! The audit log: who changed what, when, from what to what, and why.
//! Append-only (a trigger refuses updates and deletes); written in the same
//! transaction as the change it records.
//!
//! An entry is about a meeting (marks, definitive marks, releases, people; listed
//! on the meeting's audit page), a paper (its mark scheme, its scripts), or an
//! account (created, deactivated, passwords, API tokens); the last two are listed
//! for administrators on `/admin/audit`.

mod meeting_log;
pub mod view;
pub mod words;

use serde_json::Value;
use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

pub use self::meeting_log::{
    Filter, LogPerson, LogResponse, Logged, MEETING_PAGE_SIZE, MeetingPage, list, names, page as meeting_page, to_csv,
};
use crate::{error::AppError, meetings::MeetingId, papers::PaperId, users::UserId};

/// Who makes a change: the person signed in. A type of its own rather than a
/// bare `UserId`, so that a function told both who acts and whom the change
/// is about (`marking::store::reopen`, `meetings::store::remove_person`,
/// `users::set_active`, ...) cannot be handed them the other way round.
/// Where an `Option<Actor>` is asked for, `None` means the command line or the
/// server itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor(pub UserId);

/// One change to record. The fields are the audit log's columns, UUIDs as
/// stored; the constructors take typed ids.
pub struct Entry<'a> {
    /// The meeting, for meeting entries.
    pub meeting_id: Option<Uuid>,
    /// The paper, for paper entries.
    pub paper_id: Option<Uuid>,
    /// The account, for account entries.
    pub account_id: Option<Uuid>,
    /// Who did it; `None` for the command line and the server itself.
    pub actor_id: Option<Uuid>,
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
    fn about(actor_id: Option<Uuid>, action: &'a str) -> Entry<'a> {
        Entry {
            meeting_id: None,
            paper_id: None,
            account_id: None,
            actor_id,
            action,
            response_id: None,
            subject_id: None,
            old: None,
            new: None,
            reason: None,
        }
    }

    /// An entry about a meeting, done by `actor`; fill in the rest with struct update syntax.
    pub fn meeting(meeting: MeetingId, actor: Actor, action: &'a str) -> Entry<'a> {
        Entry { meeting_id: Some(meeting.0), ..Entry::about(Some(actor.0.0), action) }
    }

    /// An entry about an account (`account.create`, `token.revoke`, ...); the
    /// actor is `None` when the command line did it.
    pub fn account(actor: impl Into<Option<Actor>>, account: UserId, action: &'a str) -> Entry<'a> {
        Entry { account_id: Some(account.0), ..Entry::about(actor.into().map(|a| a.0.0), action) }
    }

    /// An entry about a paper: its mark scheme or its scripts (`paper.update`, ...).
    pub fn paper(paper: PaperId, actor: impl Into<Option<Actor>>, action: &'a str) -> Entry<'a> {
        Entry { paper_id: Some(paper.0), ..Entry::about(actor.into().map(|a| a.0.0), action) }
    }
}

/// Appends an entry. Every change to a meeting is audited, so this is also
/// where the meeting is noted as changed (`live::changed`).
pub async fn record(db: impl PgExecutor<'_>, e: Entry<'_>) -> Result<(), AppError> {
    if let Some(meeting) = e.meeting_id {
        crate::live::changed(meeting);
    }
    sqlx::query!(
        "INSERT INTO audit_log (meeting_id, paper_id, account_id, actor_id, action, response_id, subject_id, old_value, new_value, reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        e.meeting_id,
        e.paper_id,
        e.account_id,
        e.actor_id,
        e.action,
        e.response_id,
        e.subject_id,
        e.old,
        e.new,
        e.reason,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// An account- or paper-level entry as administrators read it on `/admin/audit`.
#[derive(Debug, Clone)]
pub struct AdminLogged {
    /// Sequence number (pages go by it).
    pub id: i64,
    /// When.
    pub at: OffsetDateTime,
    /// Who: name and email, or `None` for the command line and the server itself.
    pub actor_name: Option<String>,
    /// Who (email).
    pub actor_email: Option<String>,
    /// What, e.g. `account.create`.
    pub action: String,
    /// The account it is about: name and email.
    pub account_name: Option<String>,
    /// The account it is about (email).
    pub account_email: Option<String>,
    /// The paper it is about, e.g. "HIS2L History (June 2024)".
    pub paper_label: Option<String>,
    /// Before.
    pub old_value: Option<Value>,
    /// After.
    pub new_value: Option<Value>,
    /// Why.
    pub reason: Option<String>,
}

/// Which page of a log to show (the administrators' or a meeting's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// The newest entries.
    Newest,
    /// The entries just older than this id.
    Before(i64),
    /// The entries just newer than this id.
    After(i64),
}

/// One page of account- and paper-level entries, newest first, and whether
/// there are older and newer ones beyond it.
#[derive(Debug, Clone)]
pub struct AdminPage {
    /// The entries, newest first.
    pub entries: Vec<AdminLogged>,
    /// There are older entries (after the last one shown).
    pub has_older: bool,
    /// There are newer entries (before the first one shown).
    pub has_newer: bool,
}

/// Entries per page on `/admin/audit`.
pub const PAGE_SIZE: i64 = 100;

/// Reads administrators' log entries (those outside meetings) with names and
/// labels, newest or oldest first, one more than a page: the three pages
/// differ only in their bound and direction, so each is its own checked query.
macro_rules! admin_entries {
    ($condition_and_order:literal $(, $bound:expr)?) => {
        sqlx::query_as!(
            AdminLogged,
            r#"SELECT a.id, a.at, actor.name AS "actor_name?", actor.email AS "actor_email?", a.action,
                      acc.name AS "account_name?", acc.email AS "account_email?",
                      p.code || ' ' || p.title || ' (' || p.series || ')' AS "paper_label?",
                      a.old_value, a.new_value, a.reason
               FROM audit_log a
               LEFT JOIN users actor ON actor.id = a.actor_id
               LEFT JOIN users acc ON acc.id = a.account_id
               LEFT JOIN papers p ON p.id = a.paper_id
               WHERE a.meeting_id IS NULL "# + $condition_and_order,
            PAGE_SIZE + 1
            $(, $bound)?
        )
    };
}

/// A page of the log of everything outside meetings (accounts, papers).
pub async fn list_admin(db: &mut sqlx::PgConnection, page: Page) -> Result<AdminPage, AppError> {
    // Keyset pages: one more row than shown says whether there is a further page.
    let mut entries = match page {
        Page::Newest => admin_entries!("ORDER BY a.id DESC LIMIT $1").fetch_all(&mut *db).await?,
        Page::Before(id) => admin_entries!("AND a.id < $2 ORDER BY a.id DESC LIMIT $1", id).fetch_all(&mut *db).await?,
        Page::After(id) => admin_entries!("AND a.id > $2 ORDER BY a.id ASC LIMIT $1", id).fetch_all(&mut *db).await?,
    };
    let more = entries.len() > PAGE_SIZE as usize;
    entries.truncate(PAGE_SIZE as usize);
    if let Page::After(_) = page {
        entries.reverse();
    }
    let (has_older, has_newer) = match page {
        Page::Newest => (more, false),
        Page::Before(id) => (more, newer_than(db, entries.first().map_or(id - 1, |e| e.id)).await?),
        Page::After(id) => (older_than(db, entries.last().map_or(id + 1, |e| e.id)).await?, more),
    };
    Ok(AdminPage { entries, has_older, has_newer })
}

/// Whether there are entries outside meetings newer than `id`.
async fn newer_than(db: &mut sqlx::PgConnection, id: i64) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM audit_log WHERE meeting_id IS NULL AND id > $1) AS "exists!""#, id)
        .fetch_one(db)
        .await?)
}

/// Whether there are entries outside meetings older than `id`.
async fn older_than(db: &mut sqlx::PgConnection, id: i64) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM audit_log WHERE meeting_id IS NULL AND id < $1) AS "exists!""#, id)
        .fetch_one(db)
        .await?)
}

/// An action in words, e.g. `account.deactivate` → "Deactivated the account".
pub fn action_words(action: &str) -> String {
    let known = match action {
        "account.create" => "Created the account",
        "account.create_first_admin" => "Created the first administrator's account on the first start",
        "account.activate" => "Reactivated the account",
        "account.deactivate" => "Deactivated the account",
        "account.password_reset" => "Reset the password to a one-time password",
        "account.password_change" => "Changed their own password",
        "token.create" => "Created an API token",
        "token.revoke" => "Revoked an API token",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_owned();
    }
    // Anything else (papers, and actions added later): the code made readable.
    let words = action.replace(['.', '_'], " ");
    let mut chars = words.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A recorded value in words for people: text as it is, `yes`/`no`, lists
/// joined with commas, objects as `key: value` pairs; never raw JSON.
pub fn value_words(value: &Value) -> String {
    match value {
        Value::Null => "none".to_owned(),
        Value::Bool(true) => "yes".to_owned(),
        Value::Bool(false) => "no".to_owned(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "none".to_owned(),
        Value::Array(items) => items.iter().map(value_words).collect::<Vec<_>>().join(", "),
        Value::Object(fields) => fields
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::Object(_) => format!("({})", value_words(v)),
                    _ => value_words(v),
                };
                format!("{}: {v}", k.replace('_', " "))
            })
            .collect::<Vec<_>>()
            .join("; "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_read_as_words() {
        let account = value_words(&json!({"email": "pat@board.example", "administrator": false}));
        assert!(
            account.contains("email: pat@board.example") && account.contains("administrator: no") && account.contains("; "),
            "{account}"
        );
        assert_eq!(value_words(&json!({"api_tokens_revoked": 2})), "api tokens revoked: 2");
        assert_eq!(value_words(&json!(["01", "02"])), "01, 02");
        assert_eq!(value_words(&json!("plain")), "plain");
        assert_eq!(value_words(&json!({"level": {"min": 1}})), "level: (min: 1)");
    }

    #[test]
    fn actions_read_as_words() {
        assert_eq!(action_words("account.deactivate"), "Deactivated the account");
        assert_eq!(action_words("paper.scheme_update"), "Paper scheme update");
        assert_eq!(action_words(""), "");
    }
}
