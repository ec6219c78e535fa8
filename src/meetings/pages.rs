//! Meeting pages: the list, setting one up, its overview, the audit log.

use std::collections::HashMap;

use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;
use tower_sessions::Session;

use super::{
    Meeting, MeetingId, MeetingState, Purpose, Role,
    access::{InMeeting, Overseer, Participant, Principal},
    store::{self, Assignment, MeetingScript, MeetingSpec, Participant as Person, Progress},
};
use crate::{
    audit::{self, Filter, view::AuditView},
    auth::extract::{Admin, AuthUser},
    error::AppError,
    marking,
    papers::{
        PaperId,
        store::{self as papers_store, PaperSummary},
    },
    scripts::{self, ScriptId, store::ScriptSummary},
    state::AppState,
    users::{Email, UserId},
    web::{PageCtx, flash, render},
};

/// Routes for meeting pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/meetings", get(list_meetings).post(create_meeting))
        .route("/meetings/new", get(new_meeting))
        .route("/meetings/{id}", get(show_meeting))
        .route("/meetings/{id}/open", post(open_meeting))
        .route("/meetings/{id}/close", post(close_meeting))
        .route("/meetings/{id}/people", post(add_people))
        .route("/meetings/{id}/scripts", post(add_scripts))
        .route("/meetings/{id}/people/{user_id}/remove", post(remove_person))
        .route("/meetings/{id}/scripts/{script_id}/remove", post(remove_script))
        .route("/meetings/{id}/tolerances", post(set_tolerances))
        .route("/meetings/{id}/release", post(release_all))
        .route("/meetings/{id}/scripts/{script_id}/release", post(release_script))
        .route("/meetings/{id}/audit", get(show_audit))
        .route("/meetings/{id}/audit.csv", get(super::api::get_audit_csv))
}

/// A row of the meetings list.
struct MeetingRow {
    meeting: Meeting,
    role: String,
    paper: String,
}

#[derive(Template)]
#[template(path = "meetings/list.html")]
struct MeetingListPage {
    ctx: PageCtx,
    meetings: Vec<MeetingRow>,
    is_admin: bool,
}

/// The meetings a user sees, for the list and the home page.
pub async fn meeting_rows(state: &AppState, user: &crate::users::User) -> Result<Vec<(Meeting, String, String)>, AppError> {
    let rows = store::visible_to(&state.db, user.user_id(), user.is_admin).await?;
    Ok(rows
        .into_iter()
        .map(|(m, role, paper)| {
            let role = role.unwrap_or(Role::Admin).label().to_owned();
            (m, role, paper)
        })
        .collect())
}

async fn list_meetings(State(state): State<AppState>, AuthUser(user): AuthUser, ctx: PageCtx) -> Result<impl IntoResponse, AppError> {
    let meetings =
        meeting_rows(&state, &user).await?.into_iter().map(|(meeting, role, paper)| MeetingRow { meeting, role, paper }).collect();
    render(&MeetingListPage { ctx, meetings, is_admin: user.is_admin })
}

#[derive(Template)]
#[template(path = "meetings/new.html")]
struct NewMeetingPage {
    ctx: PageCtx,
    papers: Vec<PaperSummary>,
    paper: Option<(PaperId, String)>,
    scripts: Vec<ScriptSummary>,
    questions: Vec<(String, i32, i32)>,
    form: HashMap<String, String>,
    chosen: Vec<ScriptId>,
    error: Option<String>,
}

impl NewMeetingPage {
    /// A value posted before, to show the form again as it was.
    fn value(&self, key: &str) -> String {
        self.form.get(key).cloned().unwrap_or_default()
    }

    /// The tolerance posted before for a question, else its default.
    fn tolerance_value(&self, number: &str, default: impl std::fmt::Display) -> String {
        self.form.get(&format!("tolerance.{number}")).cloned().unwrap_or_else(|| default.to_string())
    }

    /// Whether a script was ticked.
    fn is_chosen(&self, id: impl std::borrow::Borrow<ScriptId>) -> bool {
        self.chosen.contains(id.borrow())
    }
}

#[derive(Deserialize)]
struct NewQuery {
    paper: Option<PaperId>,
}

async fn new_meeting_page(
    state: &AppState,
    ctx: PageCtx,
    paper_id: Option<PaperId>,
    form: HashMap<String, String>,
    chosen: Vec<ScriptId>,
    error: Option<String>,
) -> Result<NewMeetingPage, AppError> {
    let papers = papers_store::list(&state.db).await?;
    let (paper, scripts, questions) = match paper_id {
        Some(id) => {
            let p = scripts::paper(&state.db, id).await?;
            let label = format!("{} {} {}", p.scheme.paper.board, p.scheme.paper.code, p.scheme.paper.series);
            let questions =
                p.scheme.questions.iter().map(|q| (q.number.clone(), q.max_mark, marking::rules::default_tolerance(q.max_mark))).collect();
            (Some((id, label)), scripts::store::list(&state.db, id).await?, questions)
        }
        None => (None, Vec::new(), Vec::new()),
    };
    Ok(NewMeetingPage { ctx, papers, paper, scripts, questions, form, chosen, error })
}

async fn new_meeting(
    State(state): State<AppState>,
    Admin(_): Admin,
    ctx: PageCtx,
    Query(q): Query<NewQuery>,
) -> Result<impl IntoResponse, AppError> {
    render(&new_meeting_page(&state, ctx, q.paper, HashMap::new(), Vec::new(), None).await?)
}

fn emails(text: &str) -> Result<Vec<Email>, AppError> {
    text.split([',', ';', '\n', ' ', '\t', '\r'])
        .filter(|s| !s.trim().is_empty())
        .map(|s| Email::parse(s).map_err(AppError::invalid))
        .collect()
}

/// Reads the new-meeting form into a spec; errors say which field.
fn spec_from_form(fields: &[(String, String)]) -> Result<MeetingSpec, AppError> {
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim()).unwrap_or("");
    let paper_id = get("paper_id").parse::<PaperId>().map_err(|_| AppError::invalid("Choose the paper first."))?;
    let held_on = match get("held_on") {
        "" => None,
        d => Some(
            time::Date::parse(d, &time::macros::format_description!("[year]-[month]-[day]"))
                .map_err(|_| AppError::invalid(format!("\"{d}\" is not a date: use YYYY-MM-DD.")))?,
        ),
    };
    let principal_examiner = Email::parse(get("principal_examiner")).map_err(|e| AppError::invalid(format!("Principal examiner: {e}")))?;
    let mut team_leaders = Vec::new();
    for line in get("team_leaders").lines().filter(|l| !l.trim().is_empty()) {
        let (leader, team) = line.split_once(':').unwrap_or((line, ""));
        let leader = Email::parse(leader).map_err(|e| AppError::invalid(format!("Team leaders: {e}")))?;
        team_leaders.push((leader, emails(team)?));
    }
    let mut scripts = Vec::new();
    for (k, v) in fields {
        if k == "script" {
            let id = v.parse::<ScriptId>().map_err(|_| AppError::invalid("A chosen script is not valid; reload the page."))?;
            scripts.push((id, purpose_field(fields, id)?));
        }
    }
    let mut tolerances = HashMap::new();
    for (k, v) in fields {
        if let Some(n) = k.strip_prefix("tolerance.")
            && !v.trim().is_empty()
        {
            let t = v
                .trim()
                .parse::<i32>()
                .map_err(|_| AppError::invalid(format!("The tolerance of question {n} must be a whole number of marks.")))?;
            tolerances.insert(n.to_owned(), t);
        }
    }
    Ok(MeetingSpec {
        paper_id,
        name: get("name").to_owned(),
        held_on,
        principal_examiner,
        examiners: emails(get("examiners"))?,
        team_leaders,
        scripts,
        tolerances,
    })
}

async fn create_meeting(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ctx: PageCtx,
    session: Session,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let paper_id = fields.iter().find(|(k, _)| k == "paper_id").and_then(|(_, v)| v.parse::<PaperId>().ok());
    let result = async {
        let spec = spec_from_form(&fields)?;
        let paper = scripts::paper(&state.db, spec.paper_id).await?;
        crate::transact!(&state, |tx| { store::create(tx, &spec, &paper, admin.actor()).await })
    }
    .await;
    match result {
        Ok(id) => {
            flash(&session, "The meeting has been set up. Check it, then open it for marking.").await?;
            Ok(Redirect::to(&format!("/meetings/{id}")).into_response())
        }
        Err(AppError::Invalid { message, .. } | AppError::Conflict(message)) => {
            let form: HashMap<String, String> = fields.iter().filter(|(k, _)| k != "script").cloned().collect();
            let chosen = fields.iter().filter(|(k, _)| k == "script").filter_map(|(_, v)| v.parse::<ScriptId>().ok()).collect();
            let page = new_meeting_page(&state, ctx, paper_id, form, chosen, Some(message)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "meetings/show.html")]
struct MeetingPage {
    ctx: PageCtx,
    meeting: Meeting,
    paper_label: String,
    role: Role,
    people: Vec<Person>,
    scripts: Vec<MeetingScript>,
    assignments: Vec<Assignment>,
    done: usize,
    tolerances: Vec<(String, i32, i32)>,
    addable: Vec<ScriptSummary>,
    results: Option<(i64, i64)>,
    team: Vec<store::TeamProgress>,
    /// Qualification has opened: examiners are judged against the tolerances, which no longer change.
    qualification_open: bool,
}

/// What "Release all scripts" would do now. Releasing all is all or nothing:
/// `marking::adjudication::release` refuses while any unreleased practice script
/// lacks a definitive mark, and releases only practice scripts (a qualification
/// set is shown to each examiner as they submit it, a seed never).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReleaseAll {
    /// No practice script is left to release (none, or every one released).
    Nothing,
    /// This many unreleased practice scripts still need definitive marks.
    Waiting(usize),
    /// This many practice scripts are ready and would all be released.
    Ready(usize),
}

/// Decides the release-all button from the scripts' progress (pure).
fn release_all_state(scripts: &[MeetingScript]) -> ReleaseAll {
    let unreleased: Vec<&MeetingScript> = scripts.iter().filter(|s| s.purpose == Purpose::Practice && s.released_at.is_none()).collect();
    let waiting = unreleased.iter().filter(|s| s.definitive < s.responses).count();
    match (unreleased.len(), waiting) {
        (0, _) => ReleaseAll::Nothing,
        (_, 0) => ReleaseAll::Ready(unreleased.len()),
        (_, w) => ReleaseAll::Waiting(w),
    }
}

impl MeetingPage {
    fn is_setup(&self) -> bool {
        self.meeting.state == MeetingState::Setup
    }
    fn is_marking(&self) -> bool {
        self.meeting.state == MeetingState::Marking
    }
    /// The first response the marker has still to submit.
    fn next_to_mark(&self) -> Option<&Assignment> {
        self.assignments.iter().find(|a| matches!(a.state, Progress::NotStarted | Progress::Draft))
    }
    fn is_closed(&self) -> bool {
        self.meeting.state == MeetingState::Closed
    }
    fn is_pe(&self) -> bool {
        self.role == Role::Pe
    }
    fn oversees(&self) -> bool {
        self.role.oversees()
    }
    /// The release-all button shows only when pressing it would release something.
    fn release_all_ready(&self) -> Option<usize> {
        match release_all_state(&self.scripts) {
            ReleaseAll::Ready(n) if self.is_pe() && self.is_marking() => Some(n),
            _ => None,
        }
    }
    /// Unreleased practice scripts still without all their definitive marks, while
    /// they keep the release-all button away.
    fn release_all_waiting(&self) -> Option<usize> {
        match release_all_state(&self.scripts) {
            ReleaseAll::Waiting(n) if self.is_pe() && self.is_marking() => Some(n),
            _ => None,
        }
    }
    /// A script's own Release button: a practice script, unreleased, with every definitive mark.
    fn can_release(&self, s: &MeetingScript) -> bool {
        self.is_pe() && self.is_marking() && s.purpose == Purpose::Practice && s.released_at.is_none() && s.definitive >= s.responses
    }
    /// The tolerance form: the principal examiner's, until the meeting closes or qualification opens.
    fn can_change_tolerances(&self) -> bool {
        self.is_pe() && !self.is_closed() && !self.qualification_open
    }
}

async fn show_meeting(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Participant>,
    ctx: PageCtx,
) -> Result<impl IntoResponse, AppError> {
    let id = access.meeting_id();
    let paper = scripts::paper(&state.db, access.meeting.paper_id).await?;
    let people = store::participants(&state.db, id).await?;
    let scripts = store::scripts(&state.db, id).await?;
    // Overseers get the same list to open any response; its states are theirs (none).
    let assignments = store::assignments(&state.db, id, access.user_id()).await?;
    let done = assignments.iter().filter(|a| matches!(a.state, Progress::Submitted | Progress::Released)).count();
    // Only released responses count: before release the definitive marks are hidden.
    let results = if access.role.marks() { Some(store::released_results(&state.db, id, access.user_id()).await?) } else { None };
    let team = if access.role == Role::TeamLeader { store::team_progress(&state.db, id, access.user_id()).await? } else { Vec::new() };
    let tol = store::tolerances(&state.db, id).await?;
    let tolerances = paper.scheme.questions.iter().map(|q| (q.number.clone(), q.max_mark, tol.of(q))).collect();
    let paper_label = format!("{} {} {}", paper.scheme.paper.board, paper.scheme.paper.code, paper.scheme.paper.series);
    let qualification_open = access.role == Role::Pe && crate::qualification::store::is_open(&state.db, access.meeting_id()).await?;
    let addable = if access.meeting.state == MeetingState::Setup && access.role.oversees() {
        let chosen: Vec<ScriptId> = scripts.iter().map(|s| s.script_id).collect();
        scripts::store::list(&state.db, access.meeting.paper_id).await?.into_iter().filter(|s| !chosen.contains(&s.id)).collect()
    } else {
        Vec::new()
    };
    render(&MeetingPage {
        ctx,
        meeting: access.meeting,
        paper_label,
        role: access.role,
        people,
        scripts,
        assignments,
        done,
        tolerances,
        addable,
        results,
        team,
        qualification_open,
    })
}

async fn open_meeting(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Overseer>,
    session: Session,
) -> Result<Redirect, AppError> {
    crate::transact!(&state, |tx| { store::open(tx, &access.meeting, access.user.actor()).await })?;
    flash(&session, "The meeting is open: examiners can start marking.").await?;
    Ok(Redirect::to(&format!("/meetings/{}", access.meeting_id())))
}

async fn close_meeting(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Overseer>,
    session: Session,
) -> Result<Redirect, AppError> {
    crate::transact!(&state, |tx| { store::close(tx, &access.meeting, access.user.actor()).await })?;
    flash(&session, "The meeting is closed: its marks and definitive marks are final.").await?;
    Ok(Redirect::to(&format!("/meetings/{}", access.meeting_id())))
}

async fn add_people(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Overseer>,
    session: Session,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Redirect, AppError> {
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim()).unwrap_or("");
    let people = emails(get("emails"))?;
    if people.is_empty() {
        return Err(AppError::invalid("Type at least one email address."));
    }
    let role = match get("role") {
        "team_leader" => "team_leader",
        _ => "examiner",
    };
    let leader = match get("team_leader") {
        "" => None,
        l => Some(Email::parse(l).map_err(|e| AppError::invalid(format!("Team leader: {e}")))?),
    };
    if role == "team_leader" && leader.is_some() {
        return Err(AppError::invalid("A team leader is not in someone else's team: leave the team leader empty."));
    }
    let list: Vec<store::NewPerson<'_>> = people.iter().map(|e| (e, role, leader.as_ref())).collect();
    crate::transact!(&state, |tx| { store::add_people(tx, &access.meeting, &list, access.user.actor()).await })?;
    flash(&session, format!("{} added to the meeting.", people.iter().map(Email::as_str).collect::<Vec<_>>().join(", "))).await?;
    Ok(Redirect::to(&format!("/meetings/{}#people", access.meeting_id())))
}

async fn add_scripts(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Overseer>,
    session: Session,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Redirect, AppError> {
    let mut scripts = Vec::new();
    for (k, v) in &fields {
        if k == "script" {
            let id = v.parse::<ScriptId>().map_err(|_| AppError::invalid("A chosen script is not valid; reload the page."))?;
            scripts.push((id, purpose_field(&fields, id)?));
        }
    }
    if scripts.is_empty() {
        return Err(AppError::invalid("Tick the scripts to add."));
    }
    crate::transact!(&state, |tx| { store::add_scripts(tx, &access.meeting, &scripts, access.user.actor()).await })?;
    flash(&session, format!("{} script{} added.", scripts.len(), if scripts.len() == 1 { "" } else { "s" })).await?;
    Ok(Redirect::to(&format!("/meetings/{}", access.meeting_id())))
}

async fn remove_person(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Overseer>,
    session: Session,
    Path((_, user_id)): Path<(MeetingId, UserId)>,
) -> Result<Redirect, AppError> {
    crate::transact!(&state, |tx| { store::remove_person(tx, &access.meeting, user_id, access.user.actor()).await })?;
    flash(&session, "Removed from the meeting.").await?;
    Ok(Redirect::to(&format!("/meetings/{}#people", access.meeting_id())))
}

async fn remove_script(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Overseer>,
    session: Session,
    Path((_, script_id)): Path<(MeetingId, ScriptId)>,
) -> Result<Redirect, AppError> {
    crate::transact!(&state, |tx| { store::remove_script(tx, &access.meeting, script_id, access.user.actor()).await })?;
    flash(&session, "The script is no longer in the meeting.").await?;
    Ok(Redirect::to(&format!("/meetings/{}", access.meeting_id())))
}

async fn set_tolerances(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Principal>,
    session: Session,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Redirect, AppError> {
    let paper = scripts::paper(&state.db, access.meeting.paper_id).await?;
    let current = store::tolerances(&state.db, access.meeting_id()).await?;
    let changed = crate::transact!(&state, |tx| {
        let mut changed = 0;
        for (k, v) in &fields {
            let Some(n) = k.strip_prefix("tolerance.") else { continue };
            let (qid, q) = paper.question(n).ok_or_else(|| AppError::invalid(format!("Question {n} is not on this paper.")))?;
            let t = v
                .trim()
                .parse::<i32>()
                .map_err(|_| AppError::invalid(format!("The tolerance of question {n} must be a whole number of marks.")))?;
            if current.of(q) != t {
                store::set_tolerance(tx, access.meeting_id(), qid, t, access.user.actor()).await?;
                changed += 1;
            }
        }
        Ok(changed)
    })?;
    flash(&session, format!("{changed} tolerance{} changed.", if changed == 1 { "" } else { "s" })).await?;
    Ok(Redirect::to(&format!("/meetings/{}#tolerances", access.meeting_id())))
}

async fn release_all(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Principal>,
    session: Session,
) -> Result<Redirect, AppError> {
    let n = crate::transact!(&state, |tx| { marking::adjudication::release(tx, &access.meeting, None, access.user.actor()).await })?;
    flash(&session, format!("{n} scripts released: examiners now see the definitive marks.")).await?;
    Ok(Redirect::to(&format!("/meetings/{}", access.meeting_id())))
}

async fn release_script(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Principal>,
    session: Session,
    Path((_, script_id)): Path<(MeetingId, ScriptId)>,
) -> Result<Redirect, AppError> {
    crate::transact!(&state, |tx| { marking::adjudication::release(tx, &access.meeting, Some(script_id), access.user.actor()).await })?;
    flash(&session, "Script released: examiners now see its definitive marks.").await?;
    Ok(Redirect::to(&format!("/meetings/{}", access.meeting_id())))
}

#[derive(Template)]
#[template(path = "meetings/audit.html")]
struct AuditPage {
    ctx: PageCtx,
    meeting: Meeting,
    v: AuditView,
}

/// The audit page's filters and page, as its form and links send them (an
/// empty choice is no filter).
#[derive(Debug, Default, Deserialize)]
struct AuditQuery {
    #[serde(default)]
    person: Option<String>,
    #[serde(default)]
    response: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    drafts: Option<String>,
    before: Option<i64>,
    after: Option<i64>,
}

impl AuditQuery {
    /// The filter and page asked for; a value no form offers is refused.
    fn parse(&self) -> Result<(Filter, audit::Page), AppError> {
        let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let id = |v: &Option<String>, what: &str| {
            given(v)
                .map(|v| v.parse::<uuid::Uuid>().map_err(|_| AppError::invalid(format!("{v:?} is not {what} of this audit log."))))
                .transpose()
        };
        let filter = Filter {
            person: id(&self.person, "a person")?,
            response: id(&self.response, "a response")?,
            kind: given(&self.kind)
                .map(|k| audit::words::kind(&k).ok_or_else(|| AppError::invalid(format!("{k:?} is not a kind of entry."))))
                .transpose()?,
            drafts: given(&self.drafts).is_some_and(|d| d != "0"),
        };
        let page = match (self.before, self.after) {
            (Some(id), _) => audit::Page::Before(id),
            (None, Some(id)) => audit::Page::After(id),
            (None, None) => audit::Page::Newest,
        };
        Ok((filter, page))
    }
}

/// The meeting's audit log, a page at a time, in words, filtered.
async fn show_audit(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Overseer>,
    ctx: PageCtx,
    Query(q): Query<AuditQuery>,
) -> Result<impl IntoResponse, AppError> {
    let (filter, page) = q.parse()?;
    let mut conn = state.db.acquire().await?;
    let found = audit::meeting_page(&mut conn, access.meeting_id(), filter, page).await?;
    let v = AuditView::new(access.meeting_id().0, filter, page, found);
    render(&AuditPage { ctx, meeting: access.meeting, v })
}

/// The purpose chosen for a script on a form (practice when the form has none).
fn purpose_field(fields: &[(String, String)], script: ScriptId) -> Result<Purpose, AppError> {
    match fields.iter().find(|(n, _)| *n == format!("purpose.{script}")) {
        Some((_, p)) => {
            p.parse().map_err(|_| AppError::invalid(format!("{p:?} is not a purpose: choose practice, qualification or seed.")))
        }
        None => Ok(Purpose::Practice),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(purpose: Purpose, released: bool, definitive: i64, responses: i64) -> MeetingScript {
        MeetingScript {
            script_id: ScriptId::new_v4(),
            candidate: "0001".into(),
            purpose,
            released_at: released.then(time::OffsetDateTime::now_utc),
            responses,
            definitive,
        }
    }

    #[test]
    fn release_all_shows_only_when_it_would_release_something() {
        use Purpose::*;
        let cases = [
            (vec![], ReleaseAll::Nothing),
            (vec![script(Practice, false, 0, 2)], ReleaseAll::Waiting(1)),
            (vec![script(Practice, false, 1, 2), script(Practice, false, 2, 2)], ReleaseAll::Waiting(1)),
            (vec![script(Practice, false, 2, 2), script(Practice, true, 2, 2)], ReleaseAll::Ready(1)),
            (vec![script(Practice, true, 2, 2), script(Practice, true, 2, 2)], ReleaseAll::Nothing),
            // Qualification sets and seeds are never released to everyone, whatever their marks.
            (vec![script(Qualification, false, 2, 2), script(Seed, false, 0, 2)], ReleaseAll::Nothing),
            (vec![script(Qualification, false, 0, 2), script(Practice, false, 2, 2)], ReleaseAll::Ready(1)),
        ];
        for (scripts, want) in cases {
            assert_eq!(release_all_state(&scripts), want, "{scripts:?}");
        }
    }
}
