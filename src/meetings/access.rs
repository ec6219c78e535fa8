//! Who may do what in a meeting, decided on the server for every request.
//!
//! A handler names the access it needs in its signature, e.g.
//! `InMeeting<Principal>`: the extractor loads the meeting named in the path,
//! finds the caller's role in it, and refuses with 403 (404 for no such
//! meeting) before the handler runs.

use std::{collections::HashMap, marker::PhantomData};

use super::{Meeting, MeetingId, MeetingState, Role, policy};
use crate::{
    audit::Actor,
    auth::{
        extract::{AuthUser, is_api, session_of},
        tokens,
    },
    error::AppError,
    papers::PaperId,
    state::AppState,
    users::{self, User, UserId},
};
use axum::{
    extract::{FromRequestParts, Path},
    http::request::Parts,
    response::{IntoResponse, Response},
};

/// The caller, the meeting, and the caller's role in it.
#[derive(Debug, Clone)]
pub struct Access {
    /// Who is asking.
    pub user: User,
    /// The meeting in the path.
    pub meeting: Meeting,
    /// Their role (administrators who do not take part are `Role::Admin`).
    pub role: Role,
}

impl Access {
    /// The meeting's id.
    pub fn meeting_id(&self) -> MeetingId {
        self.meeting.meeting_id()
    }

    /// The caller's id.
    pub fn user_id(&self) -> UserId {
        self.user.user_id()
    }

    /// The caller as the one making a change.
    pub fn actor(&self) -> Actor {
        self.user.actor()
    }
}

/// A rule about which roles may pass.
pub trait Requirement {
    /// Whether the role passes.
    fn allows(role: Role) -> bool;
    /// What a refused caller is told.
    const REFUSAL: &'static str;
}

/// Anyone taking part, and administrators.
pub struct Participant;
impl Requirement for Participant {
    fn allows(_: Role) -> bool {
        true
    }
    const REFUSAL: &'static str = "";
}

/// Examiners and team leaders: the people who mark blind.
pub struct Marker;
impl Requirement for Marker {
    fn allows(role: Role) -> bool {
        policy::marks(role)
    }
    const REFUSAL: &'static str = "Only the meeting's examiners and team leaders mark scripts.";
}

/// The principal examiner alone.
pub struct Principal;
impl Requirement for Principal {
    fn allows(role: Role) -> bool {
        role == Role::Pe
    }
    const REFUSAL: &'static str = "Only the meeting's principal examiner can do this.";
}

/// The principal examiner or an administrator.
pub struct Overseer;
impl Requirement for Overseer {
    fn allows(role: Role) -> bool {
        policy::oversees(role)
    }
    const REFUSAL: &'static str = "Only the principal examiner and administrators can see this.";
}

/// The principal examiner, an administrator, or a team leader (for their team).
pub struct Leader;
impl Requirement for Leader {
    fn allows(role: Role) -> bool {
        policy::sees_others_marks(role)
    }
    const REFUSAL: &'static str = "Only the principal examiner, team leaders and administrators can see this.";
}

/// Extracts `Access` and checks it against `R`.
pub struct InMeeting<R>(pub Access, pub PhantomData<R>);

/// Finds the caller's role in a meeting, or refuses.
pub async fn access(state: &AppState, user: User, meeting_id: MeetingId) -> Result<Access, AppError> {
    let row = sqlx::query!(
        r#"SELECT m.id, m.paper_id AS "paper_id: PaperId", m.name, m.held_on, m.state AS "state: MeetingState", m.created_at,
                  p.role AS "role?: Role"
           FROM meetings m LEFT JOIN meeting_participants p ON p.meeting_id = m.id AND p.user_id = $2
           WHERE m.id = $1"#,
        meeting_id as MeetingId,
        user.id,
    )
    .fetch_optional(&state.db)
    .await?
    .ok_or_else(|| AppError::not_found("That meeting"))?;
    let meeting =
        Meeting { id: row.id, paper_id: row.paper_id, name: row.name, held_on: row.held_on, state: row.state, created_at: row.created_at };
    let role = decide::<Participant>(user.is_admin, row.role)?;
    Ok(Access { user, meeting, role })
}

/// Decides a bearer token's access to a meeting from what one statement found:
/// the token's active user (401 without), the meeting (404 without) and their
/// part in it (403 without, unless they are an administrator), then `R`.
pub fn admit<R: Requirement>(user: Option<User>, meeting: Option<Meeting>, participant: Option<Role>) -> Result<Access, AppError> {
    let user = user.ok_or_else(tokens::invalid_token)?;
    let meeting = meeting.ok_or_else(|| AppError::not_found("That meeting"))?;
    let role = decide::<R>(user.is_admin, participant)?;
    Ok(Access { user, meeting, role })
}

/// The role someone found to take part in a meeting (`participant`, or for an
/// administrator who does not, `Role::Admin`) passes `R`, or the refusal.
pub fn decide<R: Requirement>(is_admin: bool, participant: Option<Role>) -> Result<Role, AppError> {
    let role = match participant {
        Some(role) => role,
        None if is_admin => Role::Admin,
        None => return Err(AppError::Forbidden("You are not taking part in this meeting.".into())),
    };
    passes::<R>(role)
}

/// `access` if its role passes `R`, else 403.
pub fn require<R: Requirement>(access: Access) -> Result<Access, AppError> {
    passes::<R>(access.role)?;
    Ok(access)
}

/// `role` if it passes `R`, else `R`'s refusal.
fn passes<R: Requirement>(role: Role) -> Result<Role, AppError> {
    if R::allows(role) { Ok(role) } else { Err(AppError::Forbidden(R::REFUSAL.into())) }
}

/// The participant roles that pass `R`, for a statement that checks them itself.
pub fn roles_passing<R: Requirement>() -> Vec<&'static str> {
    Role::ALL.iter().filter(|r| **r != Role::Admin && R::allows(**r)).map(|r| r.as_str()).collect()
}

/// For an API request: the token's user, the meeting and their role in it in
/// one statement (the hot path of every API request in a meeting), checked
/// against `R`. `Ok(None)` when the request carries no token.
async fn access_by_bearer<R: Requirement>(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    meeting_id: MeetingId,
) -> Result<Option<Access>, AppError> {
    match tokens::bearer_digest(headers)? {
        Some(digest) => access_by_digest::<R>(state, &digest, meeting_id).await.map(Some),
        None => Ok(None),
    }
}

/// A bearer token's access to a meeting, by the token's digest, checked against `R`.
pub async fn access_by_digest<R: Requirement>(state: &AppState, digest: &[u8], meeting_id: MeetingId) -> Result<Access, AppError> {
    let row = sqlx::query!(
        r#"SELECT t.token_id AS "token_id!", t.last_used_at, t.user_id AS "id!", t.email AS "email!", t.name AS "user_name!",
                  t.is_admin AS "is_admin!", t.must_change_password AS "must_change_password!", t.created_at AS "user_created_at!",
                  t.sessions_valid_after AS "sessions_valid_after!",
                  m.id AS "meeting_id?", m.paper_id AS "paper_id?: PaperId", m.name AS "meeting_name?", m.held_on,
                  m.state AS "state?: MeetingState", m.created_at AS "meeting_created_at?", p.role AS "role?: Role"
           FROM live_api_tokens t
           LEFT JOIN meetings m ON m.id = $2
           LEFT JOIN meeting_participants p ON p.meeting_id = m.id AND p.user_id = t.user_id
           WHERE t.token_hash = $1"#,
        digest,
        meeting_id as MeetingId,
    )
    .fetch_optional(&state.db)
    .await?;
    let Some(row) = row else { return admit::<R>(None, None, None) };
    let user = tokens::LiveToken {
        token_id: row.token_id,
        last_used_at: row.last_used_at,
        user_id: row.id,
        email: row.email,
        name: row.user_name,
        is_admin: row.is_admin,
        must_change_password: row.must_change_password,
        created_at: row.user_created_at,
        sessions_valid_after: row.sessions_valid_after,
    }
    .admit(&state.db);
    let meeting = match (row.meeting_id, row.paper_id, row.meeting_name, row.state, row.meeting_created_at) {
        (Some(id), Some(paper_id), Some(name), Some(state), Some(created_at)) => {
            Some(Meeting { id, paper_id, name, held_on: row.held_on, state, created_at })
        }
        _ => None,
    };
    admit::<R>(Some(user), meeting, row.role)
}

impl<R: Requirement + Send + Sync> FromRequestParts<AppState> for InMeeting<R> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        let meeting_id = params.get("id").and_then(|id| id.parse::<MeetingId>().ok());
        // The API's token, meeting and role in one statement; pages go by their session.
        let by_token = match meeting_id {
            Some(id) if is_api(parts) => access_by_bearer::<R>(state, &parts.headers, id).await.map_err(IntoResponse::into_response)?,
            _ => None,
        };
        let access = match by_token {
            Some(access) => {
                crate::auth::extract::remember_user(parts, &access.user);
                access
            }
            None => {
                let AuthUser(user) = AuthUser::from_request_parts(parts, state).await?;
                let meeting_id = meeting_id.ok_or_else(|| AppError::not_found("That meeting").into_response())?;
                let access = access(state, user, meeting_id).await.map_err(IntoResponse::into_response)?;
                require::<R>(access).map_err(IntoResponse::into_response)?
            }
        };
        Ok(InMeeting(access, PhantomData))
    }
}

/// How a request proved who it is, kept so that a long-lived response (a
/// live event stream) can check that it still holds.
#[derive(Debug, Clone)]
pub enum Credential {
    /// An API request's bearer token, by its digest.
    Bearer(Vec<u8>),
    /// A page's session, by its id in the session store.
    Session(String),
}

impl FromRequestParts<AppState> for Credential {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Self::Rejection> {
        if is_api(parts) {
            return match tokens::bearer_digest(&parts.headers) {
                Ok(Some(digest)) => Ok(Credential::Bearer(digest)),
                Ok(None) => Err(AppError::Unauthenticated.into_response()),
                Err(e) => Err(e.into_response()),
            };
        }
        let session = session_of(parts).map_err(IntoResponse::into_response)?;
        session.id().map(|id| Credential::Session(id.to_string())).ok_or_else(|| AppError::Unauthenticated.into_response())
    }
}

/// The caller's access to the meeting now, if `credential` still proves they
/// are `user_id` and they still take part: `None` once they have signed out,
/// their token was revoked, their account deactivated, their password changed
/// since `since`, or they were removed from the meeting.
pub async fn still_allowed(
    state: &AppState,
    credential: &Credential,
    user_id: UserId,
    meeting_id: MeetingId,
    since: time::OffsetDateTime,
) -> Result<Option<Access>, AppError> {
    let user = match credential {
        Credential::Bearer(digest) => {
            // One statement: the token, the meeting and the role.
            return match access_by_digest::<Participant>(state, digest, meeting_id).await {
                Ok(access) if access.user.user_id() == user_id => Ok(Some(access)),
                Ok(_) | Err(AppError::BadToken(_) | AppError::Forbidden(_) | AppError::NotFound(_)) => Ok(None),
                Err(e) => Err(e),
            };
        }
        Credential::Session(id) => {
            let live = sqlx::query_scalar!(
                r#"SELECT EXISTS (SELECT 1 FROM tower_sessions.session WHERE id = $1 AND expiry_date > now()) AS "live!""#,
                id,
            )
            .fetch_one(&state.db)
            .await?;
            if live { users::find_by_id(&state.db, user_id).await?.filter(|u| u.active && u.sessions_valid_after <= since) } else { None }
        }
    };
    let Some(user) = user.filter(|u| u.user_id() == user_id) else {
        return Ok(None);
    };
    match access(state, user, meeting_id).await {
        Ok(access) => Ok(Some(access)),
        Err(AppError::Forbidden(_) | AppError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}
