//! A demonstration meeting, one command or one click away: the project's own
//! sample paper, a dozen scripts, a principal examiner, a team leader and
//! eight examiners (one severe, one lenient, one erratic), their submitted
//! marks, definitive marks with rationales on most responses and the last
//! scripts still undecided — so every part of the dashboard has something to
//! show. It goes through the same store functions as a real meeting (audit
//! log included), in one transaction, and never touches other data.

pub mod pages;
mod plan;

use std::collections::HashMap;

use crate::{
    audit::Actor,
    auth::password,
    error::AppError,
    living::{
        amend::{Amendment, Kind as AmendmentKind},
        store as living,
    },
    marking::{
        adjudication::{self, DefinitiveInput},
        store::{self as marking_store, MarkInput},
    },
    markscheme::{self, Scheme},
    meetings::{Meeting, MeetingId, MeetingState, Purpose, Role, store as meetings_store, store::MeetingSpec},
    papers::store as papers_store,
    qualification::store as qualification,
    scripts::{
        ScriptId, store as scripts_store,
        upload::{ResponseUpload, ScriptUpload},
    },
    users::{self, DisplayName, Email, NewUser},
};
use futures_util::future::try_join_all;
pub use plan::{Habit, PEOPLE, Part};
use rand::{SeedableRng, rngs::StdRng};
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

/// The sample paper's mark scheme, written for this project (also the tests' fixture).
pub const PAPER: &str = include_str!("../../tests/fixtures/markschemes/standardise-sample-history.md");

/// A demonstration account and its one-time password.
#[derive(Debug, Clone)]
pub struct Account {
    /// What they do in the meeting, in words.
    pub role: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Sign-in email.
    pub email: &'static str,
    /// One-time password: they choose their own at first sign-in.
    pub password: String,
}

/// What was loaded.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The demonstration meeting.
    pub meeting_id: MeetingId,
    /// Its name.
    pub meeting_name: String,
    /// Every account made, principal examiner first.
    pub accounts: Vec<Account>,
}

const MEETING_NAME: &str = "Sample history paper: standardisation (demonstration)";

/// The board the sample paper is filed under (the importer knows only real boards by name).
pub const BOARD: &str = "Standardise Sample Papers";

/// The sample paper's scheme, as an administrator would save it.
pub fn sample_scheme() -> Result<Scheme, AppError> {
    let mut scheme = markscheme::parse(PAPER)
        .into_result()
        .map_err(|p| AppError::Internal(anyhow::anyhow!("the sample paper does not parse: {p:?}")))?;
    if scheme.paper.board.trim().is_empty() {
        scheme.paper.board = BOARD.into();
    }
    Ok(scheme)
}

/// Loads the demonstration meeting, created by `actor` (an administrator).
/// Refused, changing nothing, when it is already there.
pub async fn load(pool: &PgPool, actor: Actor) -> Result<Loaded, AppError> {
    let scheme = sample_scheme()?;
    // Hash outside the transaction: argon2 is slow on purpose.
    let passwords: Vec<String> = PEOPLE.iter().map(|_| password::one_time_password()).collect();
    let hashes = try_join_all(passwords.iter().map(|p| password::hash(p.clone()))).await?;

    let mut tx = crate::db::tx::begin(pool).await?;
    // Two loads at once: the second waits, then finds the first and refuses.
    sqlx::query!("SELECT FROM pg_advisory_xact_lock(hashtext('standardise demo'))").execute(&mut *tx).await?;
    refuse_if_loaded(&mut tx, &scheme).await?;

    let mut ids = Vec::with_capacity(PEOPLE.len());
    let mut accounts = Vec::with_capacity(PEOPLE.len());
    for ((p, secret), hash) in PEOPLE.iter().zip(passwords).zip(&hashes) {
        let email = Email::parse(p.email).map_err(AppError::invalid)?;
        let name = DisplayName::parse(p.name).map_err(AppError::invalid)?;
        let user = users::insert(
            &mut tx,
            None,
            &NewUser { email: &email, name: &name, password_hash: hash, is_admin: false, must_change_password: true },
        )
        .await?;
        ids.push(user.user_id());
        accounts.push(Account { role: role_words(p), name: p.name, email: p.email, password: secret });
    }

    let paper_id = papers_store::insert(&mut tx, &scheme, Some(PAPER), actor).await?;
    let paper = papers_store::load(&mut tx, paper_id).await?.ok_or_else(|| AppError::not_found("The sample paper"))?;
    let scripts = plan::scripts();
    let uploads: Vec<ScriptUpload> = scripts
        .iter()
        .map(|s| ScriptUpload {
            candidate: s.candidate.clone(),
            responses: s
                .responses
                .iter()
                .map(|r| ResponseUpload {
                    question: r.question.clone(),
                    text: Some(r.text.clone()),
                    file: None,
                    origin: s.candidate.clone(),
                })
                .collect(),
        })
        .collect();
    let saved = scripts_store::insert(&mut tx, paper_id, &uploads, |n| paper.question(n).map(|(id, _)| id)).await?;

    let email = |p: &plan::Person| Email::parse(p.email).map_err(AppError::invalid);
    let in_part = |part| PEOPLE.iter().filter(move |p| p.part == part);
    let principal = in_part(Part::Principal).next().map(email).transpose()?.ok_or_else(|| AppError::invalid("no principal"))?;
    let team: Vec<Email> = in_part(Part::Examiner).filter(|p| p.in_team).map(email).collect::<Result<_, _>>()?;
    let spec = MeetingSpec {
        paper_id,
        name: MEETING_NAME.into(),
        held_on: Some(OffsetDateTime::now_utc().date()),
        principal_examiner: principal,
        examiners: in_part(Part::Examiner).filter(|p| !p.in_team).map(email).collect::<Result<_, _>>()?,
        team_leaders: in_part(Part::TeamLeader).map(|p| Ok((email(p)?, team.clone()))).collect::<Result<_, AppError>>()?,
        scripts: saved.iter().enumerate().map(|(i, s)| (s.id, plan::purpose_of(i))).collect(),
        tolerances: HashMap::new(),
    };
    let meeting_id = meetings_store::create(&mut tx, &spec, &paper, actor).await?;
    let pe = Actor(ids[0]);
    let in_setup = meeting(&mut tx, meeting_id).await?;
    meetings_store::open(&mut tx, &in_setup, pe).await?;
    let meeting = meeting(&mut tx, meeting_id).await?;

    // Everyone marks script by script; the seed keeps the demonstration the same every time.
    let mut rng = StdRng::seed_from_u64(2026);
    for (si, (script, stored)) in scripts.iter().zip(&saved).enumerate() {
        for (qi, (answer, response)) in script.responses.iter().zip(&stored.responses).enumerate() {
            let ctx = marking_store::response_in_meeting(&mut tx, &meeting, response.id).await?;
            for (p, &id) in PEOPLE.iter().zip(&ids).filter(|(p, _)| p.part != Part::Principal) {
                // Qualification scripts are marked after the meeting, below.
                if p.scripts_marked.is_some_and(|n| si >= n) || plan::purpose_of(si) == Purpose::Qualification {
                    continue;
                }
                let mark = plan::mark_given(p.habit, answer.mark, ctx.question.max_mark, &mut rng);
                let level = ctx.question.band_for(mark).map(|l| l.level);
                let comment = level.and_then(|l| ctx.question.levels.iter().find(|b| b.level == l)).map(|b| summary(&b.descriptor));
                let input = MarkInput {
                    level,
                    mark: Some(mark),
                    parts: Vec::new(),
                    annotations: Vec::new(),
                    comment: comment.unwrap_or_default(),
                    credited: Vec::new(),
                    submit: true,
                    version: None,
                };
                marking_store::save_mark(&mut tx, &meeting, &ctx, id, input).await?;
            }
            if plan::decided(si, scripts.len(), qi) {
                let input = DefinitiveInput {
                    reevaluate: None,
                    level: Some(answer.level),
                    mark: Some(answer.mark),
                    parts: Vec::new(),
                    annotations: Vec::new(),
                    rationale: answer.rationale.clone(),
                    reason: None,
                    version: None,
                };
                adjudication::save_definitive(&mut tx, &meeting, &ctx, pe, input).await?;
            }
        }
    }
    for script in saved.iter().take(plan::RELEASED_SCRIPTS) {
        adjudication::release(&mut tx, &meeting, Some(script.id), pe).await?;
    }

    // After the meeting: a qualification set, some examiners through it, one approved.
    let set: Vec<ScriptId> = plan::QUALIFICATION_SCRIPTS.iter().map(|&i| saved[i].id).collect();
    qualification::create_set(&mut tx, &meeting, &set, None, pe).await?;
    qualification::open(&mut tx, &meeting, pe).await?;
    for (p, &id) in PEOPLE.iter().zip(&ids).filter(|(p, _)| plan::QUALIFIED.contains(&p.email)) {
        for &si in &plan::QUALIFICATION_SCRIPTS {
            for (answer, response) in scripts[si].responses.iter().zip(&saved[si].responses) {
                let ctx = marking_store::response_in_meeting(&mut tx, &meeting, response.id).await?;
                let mark = plan::mark_given(p.habit, answer.mark, ctx.question.max_mark, &mut rng);
                let level = ctx.question.band_for(mark).map(|l| l.level);
                let input = MarkInput {
                    level,
                    mark: Some(mark),
                    parts: Vec::new(),
                    annotations: Vec::new(),
                    comment: String::new(),
                    credited: Vec::new(),
                    submit: true,
                    version: None,
                };
                marking_store::save_mark(&mut tx, &meeting, &ctx, id, input).await?;
            }
        }
    }
    qualification::decide(&mut tx, &meeting, pe, Role::Pe, plan::APPROVED, true, "").await?;

    // The living scheme: a referral answered with an amendment, and one still waiting.
    let id_of = |email: &str| PEOPLE.iter().zip(&ids).find(|(p, _)| p.email == email).map(|(_, id)| *id);
    let (Some(asker), Some(waiting)) = (id_of(plan::REFERRER), id_of(plan::WAITING_REFERRER)) else {
        return Err(AppError::Internal(anyhow::anyhow!("demonstration referrers missing")));
    };
    let (si, qi) = plan::REFERRED;
    let referral = living::refer(&mut tx, &meeting, saved[si].responses[qi].id, asker, plan::REFERRAL_QUESTION).await?;
    let amendment = Amendment {
        question: scripts[si].responses[qi].question.clone(),
        kind: AmendmentKind::IndicativeContent,
        level: None,
        text: plan::AMENDMENT_POINT.into(),
        reason: "Raised by an examiner's referral and agreed in the meeting".into(),
    };
    living::answer(&mut tx, &meeting, referral, pe, Role::Pe, plan::REFERRAL_ANSWER, Some(&amendment)).await?;
    let (wsi, wqi) = plan::WAITING_REFERRED;
    living::refer(&mut tx, &meeting, saved[wsi].responses[wqi].id, waiting, plan::WAITING_QUESTION).await?;
    tx.commit().await?;
    Ok(Loaded { meeting_id, meeting_name: MEETING_NAME.into(), accounts })
}

async fn refuse_if_loaded(tx: &mut PgConnection, scheme: &Scheme) -> Result<(), AppError> {
    let emails: Vec<&str> = PEOPLE.iter().map(|p| p.email).collect();
    let found = sqlx::query!(
        r#"SELECT EXISTS (SELECT 1 FROM papers WHERE board = $1 AND code = $2 AND series = $3) AS "paper!",
                  EXISTS (SELECT 1 FROM users WHERE email = ANY($4)) AS "people!""#,
        scheme.paper.board.trim(),
        scheme.paper.code.trim(),
        scheme.paper.series.trim(),
        &emails as &[&str],
    )
    .fetch_one(&mut *tx)
    .await?;
    if found.paper || found.people {
        return Err(AppError::Conflict(format!(
            "The demonstration meeting is already in this database (its paper {} {} or its accounts such as {} exist). Nothing was changed.",
            scheme.paper.code, scheme.paper.series, PEOPLE[0].email
        )));
    }
    Ok(())
}

async fn meeting(tx: &mut PgConnection, id: MeetingId) -> Result<Meeting, AppError> {
    Ok(sqlx::query_as!(
        Meeting,
        r#"SELECT id, paper_id, name, held_on, state AS "state: MeetingState", created_at FROM meetings WHERE id = $1"#,
        id as MeetingId,
    )
    .fetch_one(&mut *tx)
    .await?)
}

/// An examiner's comment: the first sentence of the level they chose.
fn summary(descriptor: &str) -> String {
    let first = descriptor.split_inclusive(". ").next().unwrap_or(descriptor).trim();
    format!("Fits this level: {}", first.chars().take(300).collect::<String>())
}

fn role_words(p: &plan::Person) -> &'static str {
    match (p.part, p.habit) {
        (Part::Principal, _) => "Principal examiner",
        (Part::TeamLeader, _) => "Team leader",
        (Part::Examiner, Habit::Steady) => "Examiner",
        (Part::Examiner, Habit::Severe) => "Examiner (marks severely)",
        (Part::Examiner, Habit::Lenient) => "Examiner (marks leniently)",
        (Part::Examiner, Habit::Erratic) => "Examiner (marks erratically)",
    }
}
