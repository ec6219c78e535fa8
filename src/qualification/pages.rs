//! Qualification pages: the principal examiner's (and team leaders') overview
//! with sets, decisions and seeds; each examiner's own standing and results;
//! small parts the meeting and home pages load.

use askama::Template;
use axum::{
    Form, Router,
    extract::State,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use tower_sessions::Session;

use super::{
    api::scope,
    rules::{PassRule, QualState},
    store::{self, Entry, Outcome, SetInfo},
};
use crate::{
    auth::extract::AuthUser,
    dashboard::{export::to_csv, pages::download},
    error::AppError,
    meetings::{
        Meeting, MeetingId, MeetingState, Purpose, Role,
        access::{Access, InMeeting, Leader, Marker, Overseer, Participant, Principal},
    },
    scripts::{ResponseId, ScriptId},
    state::AppState,
    users::UserId,
    web::{PageCtx, flash, render},
};

/// Page routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/meetings/{id}/qualification", get(show_overview))
        .route("/meetings/{id}/qualification/live", get(show_live))
        .route("/meetings/{id}/qualification.csv", get(export_csv))
        .route("/meetings/{id}/qualification/sets", post(create_set))
        .route("/meetings/{id}/qualification/open", post(open_qualification))
        .route("/meetings/{id}/qualification/decision", post(decide))
        .route("/meetings/{id}/qualification/seeds", post(give_seeds))
        .route("/meetings/{id}/qualification/mine", get(show_mine))
        .route("/meetings/{id}/qualification/status", get(show_status))
        .route("/meetings/{id}/qualification/flags", get(show_flags))
        .route("/qualification/summary", get(show_summary))
}

/// The overview's live part: everyone's standing.
#[derive(Template)]
#[template(path = "qualification/table.html")]
struct TablePart {
    meeting: Meeting,
    csrf: String,
    role: Role,
    me: UserId,
    entries: Vec<Entry>,
    open: bool,
}

impl TablePart {
    fn may_decide(&self, e: &Entry) -> bool {
        e.state.decidable() && (self.role == Role::Pe || (self.role == Role::TeamLeader && e.team_leader_id == Some(self.me)))
    }
}

#[derive(Template)]
#[template(path = "qualification/show.html")]
struct OverviewPage {
    ctx: PageCtx,
    table: TablePart,
    sets: Vec<SetInfo>,
    /// Qualification scripts not yet in a set: (script id, candidate).
    unassigned: Vec<(ScriptId, String)>,
    /// Seed scripts with every definitive mark: (script id, candidate).
    seeds: Vec<(ScriptId, String)>,
    approved: Vec<(String, String)>,
}

impl OverviewPage {
    fn is_pe(&self) -> bool {
        self.table.role == Role::Pe
    }
    fn can_open(&self) -> bool {
        self.is_pe() && !self.table.open && !self.sets.is_empty() && self.table.meeting.state == MeetingState::Marking
    }
}

async fn table(state: &AppState, access: &Access) -> Result<TablePart, AppError> {
    let only = scope(state, access).await?;
    let mut conn = state.db.acquire().await?;
    let oversees = access.role.oversees();
    Ok(TablePart {
        entries: store::overview(&mut conn, access.meeting_id(), only.as_deref())
            .await?
            .into_iter()
            .map(|e| if oversees { e } else { e.without_seed_evidence() })
            .collect(),
        open: store::is_open(&mut *conn, access.meeting_id()).await?,
        meeting: access.meeting.clone(),
        csrf: String::new(),
        role: access.role,
        me: access.user_id(),
    })
}

async fn show_overview(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Leader>,
    ctx: PageCtx,
) -> Result<Response, AppError> {
    let mut table = table(&state, &access).await?;
    table.csrf = ctx.csrf.clone();
    let sets = store::sets(&state.db, access.meeting_id()).await?;
    let scripts: Vec<(ScriptId, String, Purpose, bool, bool)> = sqlx::query!(
        r#"SELECT ms.script_id AS "script_id: ScriptId", s.candidate, ms.purpose AS "purpose: Purpose",
                  EXISTS (SELECT 1 FROM qualification_set_scripts q WHERE q.meeting_id = ms.meeting_id AND q.script_id = ms.script_id)
                    AS "in_a_set!",
                  NOT EXISTS (SELECT 1 FROM responses r LEFT JOIN definitive_marks d ON d.meeting_id = ms.meeting_id AND d.response_id = r.id
                              WHERE r.script_id = ms.script_id AND d.response_id IS NULL) AS "all_decided!"
           FROM meeting_scripts ms JOIN scripts s ON s.id = ms.script_id
           WHERE ms.meeting_id = $1 AND ms.purpose <> 'practice' ORDER BY ms.position"#,
        access.meeting.id,
    )
    .fetch_all(&state.db)
    .await?
    .into_iter()
    .map(|r| (r.script_id, r.candidate, r.purpose, r.in_a_set, r.all_decided))
    .collect();
    let unassigned = scripts.iter().filter(|s| s.2 == Purpose::Qualification && !s.3).map(|s| (s.0, s.1.clone())).collect();
    let seeds = scripts.iter().filter(|s| s.2 == Purpose::Seed && s.4).map(|s| (s.0, s.1.clone())).collect();
    let approved = table.entries.iter().filter(|e| e.state == QualState::Approved).map(|e| (e.email.clone(), e.name.clone())).collect();
    Ok(render(&OverviewPage { ctx, table, sets, unassigned, seeds, approved })?.into_response())
}

async fn show_live(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Leader>, ctx: PageCtx) -> Result<Response, AppError> {
    let mut table = table(&state, &access).await?;
    table.csrf = ctx.csrf;
    Ok(render(&table)?.into_response())
}

async fn export_csv(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Leader>) -> Result<Response, AppError> {
    let t = table(&state, &access).await?;
    let sets = t.entries.iter().flat_map(|e| e.sets.iter().map(|s| s.set)).max().unwrap_or(0);
    let mut header = vec!["name".to_owned(), "email".to_owned(), "state".to_owned()];
    for n in 1..=sets {
        header.extend([format!("set {n} within"), format!("set {n} of"), format!("set {n} total deviation"), format!("set {n} passed")]);
    }
    header.extend(["decided by", "reason", "seed check", "seeds within", "seeds marked"].map(str::to_owned));
    let mut rows = vec![header];
    for e in &t.entries {
        let mut row = vec![e.name.clone(), e.email.clone(), e.state.as_str().to_owned()];
        for n in 1..=sets {
            match e.sets.iter().find(|s| s.set == n) {
                Some(s) => {
                    row.extend([s.within_tolerance.to_string(), s.of.to_string(), s.total_deviation.to_string(), s.passed.to_string()])
                }
                None => row.extend([String::new(), String::new(), String::new(), String::new()]),
            }
        }
        row.extend([
            e.decided_by.clone().unwrap_or_default(),
            e.reason.clone().unwrap_or_default(),
            if e.seed_flag { "check".into() } else { String::new() },
            e.seeds.iter().filter(|s| s.within).count().to_string(),
            e.seeds.len().to_string(),
        ]);
        rows.push(row);
    }
    download(to_csv(&rows)?, "text/csv; charset=utf-8", "qualification.csv")
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).unwrap_or("")
}

fn number(fields: &[(String, String)], name: &str, what: &str) -> Result<Option<i32>, AppError> {
    match field(fields, name) {
        "" => Ok(None),
        text => text.parse().map(Some).map_err(|_| AppError::invalid(format!("{what}: \"{text}\" is not a whole number."))),
    }
}

fn back(meeting: &Meeting) -> Redirect {
    Redirect::to(&format!("/meetings/{}/qualification", meeting.id))
}

async fn create_set(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Principal>,
    session: Session,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Redirect, AppError> {
    let scripts: Vec<ScriptId> = fields
        .iter()
        .filter(|(k, _)| k == "script")
        .map(|(_, v)| v.parse::<ScriptId>().map_err(|_| AppError::invalid("A chosen script is not valid; reload the page.")))
        .collect::<Result<_, _>>()?;
    let min_within = number(&fields, "min_within", "Scripts needed within tolerance")?;
    let cap = number(&fields, "max_total_deviation", "Cap on total deviation")?;
    let rule = match (min_within, cap) {
        (None, None) => None,
        (min, cap) => {
            Some(PassRule { min_within: min.unwrap_or(PassRule::default_for(scripts.len()).min_within), max_total_deviation: cap })
        }
    };
    let n = crate::transact!(&state, |tx| { store::create_set(tx, &access.meeting, &scripts, rule, access.actor()).await })?;
    flash(&session, format!("Qualification set {n} made with {} scripts.", scripts.len())).await?;
    Ok(back(&access.meeting))
}

async fn open_qualification(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Principal>,
    session: Session,
) -> Result<Redirect, AppError> {
    crate::transact!(&state, |tx| { store::open(tx, &access.meeting, access.actor()).await })?;
    flash(&session, "Qualification is open: every examiner and team leader now has set 1 to mark.").await?;
    Ok(back(&access.meeting))
}

async fn decide(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Leader>,
    session: Session,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Redirect, AppError> {
    let email = field(&fields, "email").to_owned();
    let approved = match field(&fields, "decision") {
        "approve" => true,
        "not_approve" => false,
        _ => return Err(AppError::invalid("Choose Approve or Not approved.")),
    };
    let reason = field(&fields, "reason").to_owned();
    let now = crate::transact!(&state, |tx| {
        store::decide(tx, &access.meeting, access.actor(), access.role, &email, approved, &reason).await
    })?;
    flash(&session, format!("{email}: {}.", now.label())).await?;
    Ok(back(&access.meeting))
}

async fn give_seeds(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Principal>,
    session: Session,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Redirect, AppError> {
    let examiners: Vec<String> = fields.iter().filter(|(k, _)| k == "examiner").map(|(_, v)| v.clone()).collect();
    let scripts: Vec<ScriptId> = fields
        .iter()
        .filter(|(k, _)| k == "script")
        .map(|(_, v)| v.parse::<ScriptId>().map_err(|_| AppError::invalid("A chosen script is not valid; reload the page.")))
        .collect::<Result<_, _>>()?;
    let given = crate::transact!(&state, |tx| { store::seed(tx, &access.meeting, &examiners, &scripts, access.actor()).await })?;
    flash(&session, format!("{given} seed{} given.", if given == 1 { "" } else { "s" })).await?;
    Ok(back(&access.meeting))
}

/// What an examiner should do next, in words, with where to go.
struct NextStep {
    words: String,
    href: Option<String>,
}

async fn next_step(state: &AppState, access: &Access, entry: Option<&Entry>, sets: &[SetInfo]) -> Result<NextStep, AppError> {
    let open = store::is_open(&state.db, access.meeting_id()).await?;
    let Some(e) = entry.filter(|_| open) else {
        return Ok(NextStep { words: "Qualification has not opened yet.".into(), href: None });
    };
    Ok(match e.state {
        QualState::InProgress | QualState::NotStarted => {
            let set = e.current_set.unwrap_or(1);
            let first = sqlx::query_scalar!(
                r#"SELECT r.id AS "id: ResponseId" FROM qualification_sets qs JOIN qualification_set_scripts qss ON qss.set_id = qs.id
                   JOIN responses r ON r.script_id = qss.script_id JOIN questions q ON q.id = r.question_id
                   LEFT JOIN marks m ON m.meeting_id = qs.meeting_id AND m.response_id = r.id AND m.examiner_id = $3
                   WHERE qs.meeting_id = $1 AND qs.number = $2 AND m.state IS DISTINCT FROM 'submitted'
                   ORDER BY qss.position, q.position LIMIT 1"#,
                access.meeting.id,
                set,
                access.user_id() as UserId,
            )
            .fetch_optional(&state.db)
            .await?;
            let rule = sets.iter().find(|s| s.number == set).map(SetInfo::describe).unwrap_or_default();
            NextStep {
                words: format!("Mark qualification set {set}. {rule}"),
                href: first.map(|r| format!("/meetings/{}/responses/{r}", access.meeting.id)),
            }
        }
        QualState::Passed => NextStep { words: "The principal examiner or your team leader approves you next.".into(), href: None },
        QualState::Failed => NextStep { words: "The principal examiner decides what happens next.".into(), href: None },
        QualState::Approved => NextStep { words: "You may mark live.".into(), href: None },
        QualState::NotApproved => NextStep { words: "Your team leader or the principal examiner will be in touch.".into(), href: None },
    })
}

#[derive(Template)]
#[template(path = "qualification/mine.html")]
struct MinePage {
    ctx: PageCtx,
    meeting: Meeting,
    entry: Option<Entry>,
    sets: Vec<SetInfo>,
    next: NextStep,
    outcomes: Vec<Outcome>,
}

impl MinePage {
    fn outcomes_of(&self, set: &i32) -> Vec<&Outcome> {
        self.outcomes.iter().filter(|o| o.set == *set).collect()
    }
}

async fn show_mine(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Marker>, ctx: PageCtx) -> Result<Response, AppError> {
    let mut conn = state.db.acquire().await?;
    let sets = store::sets(&mut *conn, access.meeting_id()).await?;
    let entry =
        store::overview(&mut conn, access.meeting_id(), Some(&[access.user_id()])).await?.into_iter().next().map(Entry::for_the_marker);
    let outcomes = store::outcomes(&mut *conn, access.meeting_id(), access.user_id()).await?;
    drop(conn);
    let next = next_step(&state, &access, entry.as_ref(), &sets).await?;
    Ok(render(&MinePage { ctx, meeting: access.meeting, entry, sets, next, outcomes })?.into_response())
}

#[derive(Template)]
#[template(path = "qualification/status.html")]
struct StatusPart {
    meeting: Meeting,
    marks: bool,
    leads: bool,
    entry: Option<Entry>,
    next: NextStep,
}

/// The meeting page's qualification part (loaded by the page).
async fn show_status(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Participant>) -> Result<Response, AppError> {
    let marks = access.role.marks();
    let (entry, next) = if marks {
        let mut conn = state.db.acquire().await?;
        let sets = store::sets(&mut *conn, access.meeting_id()).await?;
        let entry =
            store::overview(&mut conn, access.meeting_id(), Some(&[access.user_id()])).await?.into_iter().next().map(Entry::for_the_marker);
        drop(conn);
        let next = next_step(&state, &access, entry.as_ref(), &sets).await?;
        (entry, next)
    } else {
        (None, NextStep { words: String::new(), href: None })
    };
    let leads = crate::meetings::policy::sees_others_marks(access.role);
    Ok(render(&StatusPart { meeting: access.meeting, marks, leads, entry, next })?.into_response())
}

#[derive(Template)]
#[template(path = "qualification/summary.html")]
struct SummaryPart {
    rows: Vec<(MeetingId, String, QualState)>,
}

/// The home page's part: the signed-in person's qualification in each meeting.
async fn show_summary(State(state): State<AppState>, AuthUser(user): AuthUser) -> Result<Response, AppError> {
    let rows = sqlx::query!(
        r#"SELECT m.id AS "id: MeetingId", m.name, q.state AS "state: QualState" FROM qualifications q JOIN meetings m ON m.id = q.meeting_id
           WHERE q.examiner_id = $1 AND m.state <> 'closed' ORDER BY m.created_at DESC"#,
        user.user_id() as UserId,
    )
    .fetch_all(&state.db)
    .await?
    .into_iter()
    .map(|r| (r.id, r.name, r.state))
    .collect();
    Ok(render(&SummaryPart { rows })?.into_response())
}

#[derive(Template)]
#[template(path = "qualification/flags.html")]
struct FlagsPart {
    meeting: Meeting,
    flagged: Vec<Entry>,
}

/// The dashboard's part: examiners whose seeds call for a check, with the evidence.
async fn show_flags(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Overseer>) -> Result<Response, AppError> {
    let mut conn = state.db.acquire().await?;
    let flagged = store::overview(&mut conn, access.meeting_id(), None).await?.into_iter().filter(|e| e.seed_flag).collect();
    Ok(render(&FlagsPart { meeting: access.meeting, flagged })?.into_response())
}
