//! What one viewer sees of one response, loaded once for the API and the
//! marking page alike; the visibility policy decides every part of it.

use serde_json::{Value, json};
use sqlx::PgConnection;

use super::{
    MarkState,
    adjudication::{self, Definitive},
    rules::within_tolerance,
    store::{self, NamedMark, ResponseCtx, StoredMark},
};
use crate::{
    error::AppError,
    meetings::{
        Purpose,
        access::Access,
        policy::{self, Facts, Others, Sight},
    },
    qualification::store as qualification,
    scripts::ResponseId,
};

/// A response as one viewer may see it.
#[derive(Debug, Clone)]
pub struct ResponseView {
    /// The response, its question and tolerance.
    pub ctx: ResponseCtx,
    /// Whether the outcome is released to this viewer.
    pub released: bool,
    /// What the policy lets this viewer see.
    pub sight: Sight,
    /// The viewer's own mark, if they mark and have saved one.
    pub own: Option<StoredMark>,
    /// The definitive mark, when the viewer may see it and there is one.
    pub definitive: Option<Definitive>,
    /// Other people's marks the viewer may see (and, for the principal examiner, everyone's).
    pub marks: Vec<NamedMark>,
}

impl ResponseView {
    /// Loads what `access` may see of the response (404 when it is not the meeting's).
    pub async fn load(conn: &mut PgConnection, access: &Access, response_id: ResponseId) -> Result<ResponseView, AppError> {
        let ctx = store::response_in_meeting(conn, &access.meeting, response_id).await?;
        let own = if policy::marks(access.role) {
            store::own_mark(conn, access.meeting_id(), response_id, access.user_id()).await?
        } else {
            None
        };
        // Released to this viewer: a practice script once the principal examiner
        // releases it; a qualification script to the one marker who submitted its
        // set; a seed never (the marker must not learn it was one).
        let released = match ctx.purpose {
            _ if !policy::marks(access.role) => ctx.released,
            Purpose::Practice => ctx.released,
            Purpose::Qualification => qualification::released_to(&mut *conn, access.meeting_id(), ctx.script_id, access.user_id()).await?,
            Purpose::Seed => false,
        };
        let facts = Facts { role: access.role, released, submitted_own: own.as_ref().is_some_and(|m| m.state == MarkState::Submitted) };
        let sight = policy::sight(facts);
        let definitive = if sight.definitive { adjudication::definitive(conn, access.meeting_id(), response_id).await? } else { None };
        let marks = if sight.others != Others::None {
            store::visible_marks(conn, access.meeting_id(), Some(response_id), access.user_id(), access.role).await?
        } else {
            Vec::new()
        };
        Ok(ResponseView { ctx, released, sight, own, definitive, marks })
    }

    /// The viewer's mark minus the definitive mark, once both can be seen and the script is released.
    pub fn difference(&self) -> Option<i32> {
        match (&self.own, &self.definitive) {
            (Some(m), Some(d)) if self.released => Some(m.mark - d.mark),
            _ => None,
        }
    }

    /// Marks counted in the panel's figures: submitted ones among those the viewer may see.
    pub fn submitted_marks(&self) -> Vec<(i32, Option<i32>)> {
        self.marks.iter().filter(|m| m.mark.state == MarkState::Submitted).map(|m| (m.mark.mark, m.mark.level)).collect()
    }

    /// The API's answer: only the fields the viewer may see are present.
    pub fn to_json(&self) -> Value {
        let c = &self.ctx;
        let mut view = json!({
            "response_id": c.response_id,
            "script_id": c.script_id,
            "candidate": c.candidate,
            "question": c.question,
            "text": c.text,
            "attachment_url": c.attachment_id.map(|a| format!("/attachments/{a}")),
            "released": self.released,
            "tolerance": c.tolerance,
            "points": c.points,
            "scheme_version_id": c.scheme_version_id,
            "mark": self.own,
        });
        if self.sight.purpose {
            view["purpose"] = json!(c.purpose);
        }
        if self.sight.definitive {
            view["definitive"] = json!(self.definitive);
            if let Some(d) = self.difference() {
                view["difference"] = json!(d);
                view["within_tolerance"] = json!(within_tolerance(d, c.tolerance));
            }
        }
        if self.sight.others != Others::None {
            view["marks"] = json!(self.marks);
        }
        view
    }
}
