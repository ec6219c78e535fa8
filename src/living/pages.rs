//! Living-scheme pages: the referral part of the marking page, the principal
//! examiner's queue, amendments highlighted until seen, scheme versions and
//! their differences, and the meeting's printable record.

use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, State},
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    amend::{Amendment, Kind},
    store::{self, RecordEntry, Referral},
};
use crate::{
    auth::extract::AuthUser,
    error::AppError,
    marking::store as marking_store,
    markscheme::Question,
    meetings::{
        Meeting, MeetingId, Role,
        access::{InMeeting, Leader, Participant},
    },
    papers::{PaperId, versions},
    qualification::store as qualification,
    scripts::ResponseId,
    state::AppState,
    users::UserId,
    web::{PageCtx, flash, render},
};

/// Page routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/meetings/{id}/responses/{response_id}/referrals", get(show_referrals_part).post(refer))
        .route("/meetings/{id}/referrals", get(show_queue))
        .route("/meetings/{id}/referrals/live", get(show_queue_part))
        .route("/meetings/{id}/referrals/{referral_id}/answer", axum::routing::post(answer))
        .route("/meetings/{id}/referrals/{referral_id}/pass-up", axum::routing::post(pass_up))
        .route("/meetings/{id}/amendments/new", get(show_new_amendments))
        .route("/meetings/{id}/responses/{response_id}/impact", get(show_impact))
        .route("/meetings/{id}/record", get(show_record))
        .route("/meetings/{id}/record.md", get(download_record))
        .route("/referrals/answered", get(show_answered))
        .route("/papers/{id}/versions", get(show_versions).post(amend_from_page))
        .route("/papers/{id}/versions/{number}", get(show_version))
        .route("/papers/{id}/versions/{number}/document", get(download_document))
        .route("/papers/{id}/versions/{a}/diff/{b}", get(show_diff))
}

/// The marking page's referral part: the viewer's referrals on this response, and a form to ask.
#[derive(Template)]
#[template(path = "living/referrals_part.html")]
struct ReferralsPart {
    meeting: Meeting,
    response_id: ResponseId,
    csrf: String,
    referrals: Vec<Referral>,
    may_ask: bool,
    notice: Option<String>,
}

async fn referrals_part(
    state: &AppState,
    access: &crate::meetings::access::Access,
    response_id: ResponseId,
    csrf: String,
    notice: Option<String>,
) -> Result<ReferralsPart, AppError> {
    let referrals = store::list(&state.db, access.meeting_id(), access.user_id(), access.role, Some(response_id)).await?;
    Ok(ReferralsPart { meeting: access.meeting.clone(), response_id, csrf, referrals, may_ask: access.role.marks(), notice })
}

async fn show_referrals_part(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Participant>,
    ctx: PageCtx,
    Path((_, response_id)): Path<(Uuid, ResponseId)>,
) -> Result<Response, AppError> {
    Ok(render(&referrals_part(&state, &access, response_id, ctx.csrf, None).await?)?.into_response())
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).unwrap_or("")
}

/// Asks from the marking page: through htmx the part is swapped in place (the
/// draft on the page is untouched); without it, back to the response.
async fn refer(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Participant>,
    ctx: PageCtx,
    session: Session,
    headers: HeaderMap,
    Path((_, response_id)): Path<(Uuid, ResponseId)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    if !access.role.marks() {
        return Err(AppError::Forbidden("Examiners and team leaders refer responses to the principal examiner.".into()));
    }
    let question = field(&fields, "question").to_owned();
    let done = crate::transact!(&state, |tx| {
        let r = marking_store::response_in_meeting(tx, &access.meeting, response_id).await?;
        qualification::check_may_mark(tx, access.meeting_id(), r.script_id, r.purpose, access.user_id()).await?;
        store::refer(tx, &access.meeting, response_id, access.user_id(), &question).await
    });
    if headers.contains_key("hx-request") {
        let notice = match &done {
            Ok(_) => "Sent to the principal examiner. The answer will appear here.".to_owned(),
            Err(AppError::Invalid { message, .. } | AppError::Conflict(message)) => format!("Not sent: {message}"),
            Err(_) => "Not sent: please try again.".to_owned(),
        };
        return Ok(render(&referrals_part(&state, &access, response_id, ctx.csrf, Some(notice)).await?)?.into_response());
    }
    done?;
    flash(&session, "Your question is with the principal examiner.").await?;
    Ok(Redirect::to(&format!("/meetings/{}/responses/{response_id}", access.meeting.id)).into_response())
}

/// A referral in the queue, with what the answerer needs beside it.
struct QueueItem {
    referral: Referral,
    answer_text: Option<String>,
    question: Question,
    may_amend: bool,
    may_pass_up: bool,
    /// Whether the asker may already see this response's definitive mark.
    released_to_asker: bool,
}

#[derive(Template)]
#[template(path = "living/queue_part.html")]
struct QueuePart {
    meeting: Meeting,
    csrf: String,
    items: Vec<QueueItem>,
    answered: Vec<Referral>,
}

#[derive(Template)]
#[template(path = "living/queue.html")]
struct QueuePage {
    ctx: PageCtx,
    part: QueuePart,
}

async fn queue_part(state: &AppState, access: &crate::meetings::access::Access, csrf: String) -> Result<QueuePart, AppError> {
    let all = store::list(&state.db, access.meeting_id(), access.user_id(), access.role, None).await?;
    let mut conn = state.db.acquire().await?;
    let mut items = Vec::new();
    let mut answered = Vec::new();
    for r in all {
        if r.state == "answered" {
            answered.push(r);
            continue;
        }
        // A script taken out of the meeting since: its referral stays in the record, not in the queue.
        let ctx = match marking_store::response_in_meeting(&mut conn, &access.meeting, r.response_id).await {
            Ok(ctx) => ctx,
            Err(AppError::NotFound(_)) => continue,
            Err(e) => return Err(e),
        };
        let may_pass_up = access.role == Role::TeamLeader && r.team_leader_id == Some(access.user_id()) && r.state == "open";
        items.push(QueueItem {
            answer_text: ctx.text.clone(),
            question: ctx.question.clone(),
            may_amend: access.role == Role::Pe,
            may_pass_up,
            released_to_asker: ctx.purpose == crate::meetings::Purpose::Practice && ctx.released,
            referral: r,
        });
    }
    Ok(QueuePart { meeting: access.meeting.clone(), csrf, items, answered })
}

async fn show_queue(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Leader>, ctx: PageCtx) -> Result<Response, AppError> {
    let part = queue_part(&state, &access, ctx.csrf.clone()).await?;
    Ok(render(&QueuePage { ctx, part })?.into_response())
}

async fn show_queue_part(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Leader>,
    ctx: PageCtx,
) -> Result<Response, AppError> {
    Ok(render(&queue_part(&state, &access, ctx.csrf).await?)?.into_response())
}

async fn answer(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Leader>,
    session: Session,
    Path((_, referral_id)): Path<(Uuid, Uuid)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Redirect, AppError> {
    let text = field(&fields, "answer").to_owned();
    let amendment = match field(&fields, "kind") {
        "" => None,
        kind => Some(Amendment {
            question: field(&fields, "question").to_owned(),
            kind: kind.parse::<Kind>().map_err(|_| AppError::invalid("Choose what the amendment changes."))?,
            level: match field(&fields, "level") {
                "" => None,
                l => Some(l.parse().map_err(|_| AppError::invalid(format!("\"{l}\" is not a level number.")))?),
            },
            text: field(&fields, "amendment_text").to_owned(),
            reason: field(&fields, "reason").to_owned(),
        }),
    };
    let version = crate::transact!(&state, |tx| {
        store::answer(tx, &access.meeting, referral_id, access.actor(), access.role, &text, amendment.as_ref()).await
    })?;
    flash(
        &session,
        match version {
            Some(v) => format!("Answered, and the mark scheme amended: version {v}."),
            None => "Answered.".to_owned(),
        },
    )
    .await?;
    Ok(Redirect::to(&format!("/meetings/{}/referrals", access.meeting.id)))
}

async fn pass_up(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Leader>,
    session: Session,
    Path((_, referral_id)): Path<(Uuid, Uuid)>,
) -> Result<Redirect, AppError> {
    crate::transact!(&state, |tx| { store::pass_up(tx, &access.meeting, referral_id, access.actor()).await })?;
    flash(&session, "Passed up to the principal examiner.").await?;
    Ok(Redirect::to(&format!("/meetings/{}/referrals", access.meeting.id)))
}

/// An amendment as the marking page highlights it.
struct NewAmendment {
    version: i32,
    question: String,
    kind: Kind,
    level: Option<i32>,
    text: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "living/new_amendments.html")]
struct NewAmendmentsPart {
    amendments: Vec<NewAmendment>,
}

/// Amendments to the meeting's scheme since the viewer last looked; shown once, then counted as seen.
async fn show_new_amendments(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Participant>) -> Result<Response, AppError> {
    let amendments = sqlx::query_as!(
        NewAmendment,
        r#"SELECT v.number AS version, q.number AS question, a.kind AS "kind: Kind", a.level, a.text, a.reason
           FROM amendments a JOIN scheme_versions v ON v.id = a.scheme_version_id JOIN questions q ON q.id = a.question_id
           WHERE a.paper_id = $2
             AND (v.number > (SELECT version FROM amendments_seen WHERE meeting_id = $1 AND user_id = $3)
                  OR (NOT EXISTS (SELECT 1 FROM amendments_seen WHERE meeting_id = $1 AND user_id = $3)
                      AND a.created_at >= (SELECT opened_at FROM meetings WHERE id = $1)))
           ORDER BY v.number"#,
        access.meeting.id,
        access.meeting.paper_id as PaperId,
        access.user_id() as UserId,
    )
    .fetch_all(&state.db)
    .await?;
    if let Some(newest) = amendments.last().map(|a| a.version) {
        sqlx::query!(
            "INSERT INTO amendments_seen (meeting_id, user_id, version) VALUES ($1, $2, $3)
             ON CONFLICT (meeting_id, user_id) DO UPDATE SET version = GREATEST(amendments_seen.version, EXCLUDED.version)",
            access.meeting.id,
            access.user_id() as UserId,
            newest,
        )
        .execute(&state.db)
        .await?;
    }
    Ok(render(&NewAmendmentsPart { amendments })?.into_response())
}

#[derive(Template)]
#[template(path = "living/record.html")]
struct RecordPage {
    ctx: PageCtx,
    meeting: Meeting,
    entries: Vec<RecordEntry>,
}

impl RecordPage {
    fn mark_of(&self, v: &serde_json::Value) -> String {
        format!("{}{}", v["level"].as_i64().map(|l| format!("Level {l}, ")).unwrap_or_default(), v["mark"])
    }
    fn marks_of(&self, v: &serde_json::Value) -> String {
        v.as_array()
            .map(|a| a.iter().map(|m| format!("{} {}", m["examiner"].as_str().unwrap_or("?"), m["mark"])).collect::<Vec<_>>().join(", "))
            .unwrap_or_default()
    }
    fn rationale_of(&self, v: &serde_json::Value) -> String {
        v["rationale"].as_str().unwrap_or("").to_owned()
    }
}

async fn show_record(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<Participant>,
    ctx: PageCtx,
) -> Result<Response, AppError> {
    let mut conn = state.db.acquire().await?;
    let entries = store::record(&mut conn, &access.meeting, &access.user.email, access.role).await?;
    Ok(render(&RecordPage { ctx, meeting: access.meeting, entries })?.into_response())
}

async fn download_record(State(state): State<AppState>, InMeeting(access, ..): InMeeting<Participant>) -> Result<Response, AppError> {
    super::api::record_download(&state, &access).await
}

#[derive(Template)]
#[template(path = "living/versions.html")]
struct VersionsPage {
    ctx: PageCtx,
    paper_id: PaperId,
    versions: Vec<versions::VersionInfo>,
    /// The newest version's question numbers, when the viewer may amend the scheme.
    amendable: Vec<String>,
}

async fn show_versions(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ctx: PageCtx,
    Path(paper_id): Path<PaperId>,
) -> Result<Response, AppError> {
    store::may_read_versions(&state.db, paper_id, &user).await?;
    let versions = versions::list(&state.db, paper_id).await?;
    let amendable = if store::may_amend(&state.db, paper_id, user.user_id(), user.is_admin).await? {
        let mut conn = state.db.acquire().await?;
        versions::latest(&mut conn, paper_id)
            .await?
            .map(|v| v.scheme.questions.iter().map(|q| q.number.clone()).collect())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(render(&VersionsPage { ctx, paper_id, versions, amendable })?.into_response())
}

/// The principal examiner (of a meeting on the paper) or an administrator amends the scheme from its versions page.
async fn amend_from_page(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    session: Session,
    Path(paper_id): Path<PaperId>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Redirect, AppError> {
    if !store::may_amend(&state.db, paper_id, user.user_id(), user.is_admin).await? {
        return Err(AppError::Forbidden(
            "Only the principal examiner of a meeting on this paper, or an administrator, amends its mark scheme.".into(),
        ));
    }
    let amendment = Amendment {
        question: field(&fields, "question").to_owned(),
        kind: field(&fields, "kind").parse::<Kind>().map_err(|_| AppError::invalid("Choose what the amendment changes."))?,
        level: match field(&fields, "level") {
            "" => None,
            l => Some(l.parse().map_err(|_| AppError::invalid(format!("\"{l}\" is not a level number.")))?),
        },
        text: field(&fields, "text").to_owned(),
        reason: field(&fields, "reason").to_owned(),
    };
    let version =
        crate::transact!(&state, |tx| { store::amend(tx, paper_id, &amendment, user.user_id(), store::Origin::default()).await })?;
    let affected = store::qualification_affected(&state.db, paper_id, &amendment.question, user.user_id(), user.is_admin).await?;
    let message = if affected.is_empty() {
        format!("The mark scheme is amended: version {version}.")
    } else {
        let names: Vec<String> =
            affected.iter().map(|a| format!("{} (set {}, {})", a.name, a.set, if a.passed { "passed" } else { "not passed" })).collect();
        format!(
            "The mark scheme is amended: version {version}. Question {} is in a qualification set these examiners were judged on: {}. \
             If the amendment changes what a definitive mark should be, change it: you will see whose result it moves and decide whether to judge them again.",
            amendment.question.trim(),
            names.join(", ")
        )
    };
    flash(&session, message).await?;
    Ok(Redirect::to(&format!("/papers/{paper_id}/versions")))
}

#[derive(Template)]
#[template(path = "living/version.html")]
struct VersionPage {
    ctx: PageCtx,
    paper_id: PaperId,
    number: i32,
    note: String,
    scheme: crate::markscheme::Scheme,
}

async fn show_version(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ctx: PageCtx,
    Path((paper_id, number)): Path<(PaperId, i32)>,
) -> Result<Response, AppError> {
    store::may_read_versions(&state.db, paper_id, &user).await?;
    let mut conn = state.db.acquire().await?;
    let v = versions::numbered(&mut conn, paper_id.0, number)
        .await?
        .ok_or_else(|| AppError::not_found(format!("Version {number} of this paper")))?;
    Ok(render(&VersionPage { ctx, paper_id, number, note: v.note.clone(), scheme: v.scheme.clone() })?.into_response())
}

/// One question's parts, side by side in two versions.
struct DiffRow {
    question: String,
    part: String,
    before: String,
    after: String,
}

#[derive(Template)]
#[template(path = "living/diff.html")]
struct DiffPage {
    ctx: PageCtx,
    paper_id: PaperId,
    a: i32,
    b: i32,
    rows: Vec<DiffRow>,
}

/// The parts of two schemes that differ, question by question.
fn differences(a: &crate::markscheme::Scheme, b: &crate::markscheme::Scheme) -> Vec<DiffRow> {
    let mut rows = Vec::new();
    let numbers: Vec<&str> = {
        let mut n: Vec<&str> = a.questions.iter().chain(&b.questions).map(|q| q.number.as_str()).collect();
        n.dedup();
        let mut seen = Vec::new();
        n.retain(|x| {
            if seen.contains(x) {
                false
            } else {
                seen.push(*x);
                true
            }
        });
        n
    };
    for number in numbers {
        let qa = a.questions.iter().find(|q| q.number == number);
        let qb = b.questions.iter().find(|q| q.number == number);
        let mut push = |part: String, before: String, after: String| {
            if before != after {
                rows.push(DiffRow { question: number.to_owned(), part, before, after });
            }
        };
        match (qa, qb) {
            (Some(x), Some(y)) => {
                push("Question".into(), x.prompt.clone(), y.prompt.clone());
                push("Maximum mark".into(), x.max_mark.to_string(), y.max_mark.to_string());
                for l in x.levels.iter().chain(&y.levels).map(|l| l.level).collect::<std::collections::BTreeSet<_>>() {
                    let d = |q: &Question| {
                        q.levels.iter().find(|b| b.level == l).map(|b| format!("{}–{}: {}", b.min, b.max, b.descriptor)).unwrap_or_default()
                    };
                    push(format!("Level {l}"), d(x), d(y));
                }
                push("Indicative content".into(), x.indicative_content.clone(), y.indicative_content.clone());
            }
            (Some(x), None) => push("Question".into(), x.prompt.clone(), "(removed)".into()),
            (None, Some(y)) => push("Question".into(), "(not yet there)".into(), y.prompt.clone()),
            (None, None) => {}
        }
    }
    rows
}

async fn show_diff(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ctx: PageCtx,
    Path((paper_id, a, b)): Path<(PaperId, i32, i32)>,
) -> Result<Response, AppError> {
    store::may_read_versions(&state.db, paper_id, &user).await?;
    let mut conn = state.db.acquire().await?;
    let va =
        versions::numbered(&mut conn, paper_id.0, a).await?.ok_or_else(|| AppError::not_found(format!("Version {a} of this paper")))?;
    let vb =
        versions::numbered(&mut conn, paper_id.0, b).await?.ok_or_else(|| AppError::not_found(format!("Version {b} of this paper")))?;
    let rows = differences(&va.scheme, &vb.scheme);
    Ok(render(&DiffPage { ctx, paper_id, a, b, rows })?.into_response())
}

/// An answered referral on the home page.
struct Answered {
    meeting_id: MeetingId,
    meeting: String,
    response_id: ResponseId,
    candidate: String,
    question_number: String,
    question: String,
    answer: String,
}

#[derive(Template)]
#[template(path = "living/answered.html")]
struct AnsweredPart {
    rows: Vec<Answered>,
}

/// The home page's part: answers to the signed-in person's referrals in meetings still running.
async fn show_answered(State(state): State<AppState>, AuthUser(user): AuthUser) -> Result<Response, AppError> {
    // An answered referral always has its answer (the table's check says so).
    let rows = sqlx::query_as!(
        Answered,
        r#"SELECT f.meeting_id AS "meeting_id: MeetingId", m.name AS meeting, f.response_id AS "response_id: ResponseId", s.candidate,
                  q.number AS question_number, f.question, f.answer AS "answer!"
           FROM referrals f JOIN meetings m ON m.id = f.meeting_id JOIN responses r ON r.id = f.response_id
           JOIN scripts s ON s.id = r.script_id JOIN questions q ON q.id = r.question_id
           WHERE f.asked_by = $1 AND f.state = 'answered' AND m.state <> 'closed'
           ORDER BY f.answered_at DESC LIMIT 20"#,
        user.user_id() as UserId,
    )
    .fetch_all(&state.db)
    .await?;
    Ok(render(&AnsweredPart { rows })?.into_response())
}

async fn download_document(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((paper_id, number)): Path<(PaperId, i32)>,
) -> Result<Response, AppError> {
    super::api::document(&state, &user, paper_id, number).await
}

#[derive(serde::Deserialize)]
struct ImpactQuery {
    mark: Option<String>,
}

#[derive(Template)]
#[template(path = "living/impact.html")]
struct ImpactPart {
    proposed: Option<i32>,
    affected: Vec<super::impact::Affected>,
}

/// The principal examiner's page: who the definitive mark in the form would affect, as they type it.
async fn show_impact(
    State(state): State<AppState>,
    InMeeting(access, ..): InMeeting<crate::meetings::access::Principal>,
    Path((_, response_id)): Path<(Uuid, ResponseId)>,
    axum::extract::Query(q): axum::extract::Query<ImpactQuery>,
) -> Result<Response, AppError> {
    let mut conn = state.db.acquire().await?;
    let ctx = marking_store::response_in_meeting(&mut conn, &access.meeting, response_id).await?;
    let proposed = q.mark.as_deref().and_then(|m| m.trim().parse::<i32>().ok()).filter(|m| ctx.question.allowed(*m));
    let affected = match proposed {
        Some(m) => super::impact::of_definitive_change(&mut conn, access.meeting_id(), response_id, m).await?,
        None => Vec::new(),
    };
    Ok(render(&ImpactPart { proposed, affected })?.into_response())
}
