//! Live updates: changes travel through PostgreSQL LISTEN/NOTIFY, so every
//! standardise process sharing the database hears every change, and each
//! pushes them to its own viewers as Server-Sent Events.
//!
//! An event names what changed (`mark`, `definitive`, `release`,
//! `tolerance`) and which response, never a mark or a rationale: viewers
//! fetch what they are allowed to see, so the blind rule cannot leak here.

use std::{convert::Infallible, sync::Arc, time::Duration};

use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use sqlx::{PgExecutor, PgPool, postgres::PgListener};
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

use crate::{
    error::AppError,
    meetings::{
        MeetingId, Role,
        policy::{self, Change, Relation},
    },
    scripts::ResponseId,
    users::UserId,
};

/// Who is listening: enough to decide what they may hear.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The listener.
    pub user_id: Uuid,
    /// The meeting they listen to.
    pub meeting_id: Uuid,
    /// Their role in it.
    pub role: Role,
    /// Their team, if they lead one.
    pub team: Vec<Uuid>,
}

/// The NOTIFY channel.
pub const CHANNEL: &str = "standardise_events";

/// Something changed in a meeting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The meeting.
    pub meeting_id: Uuid,
    /// `mark`, `definitive`, `release`, `tolerance`, or `resync` (fetch everything again).
    pub kind: String,
    /// The response concerned, if one.
    pub response_id: Option<Uuid>,
    /// Whose mark, for `mark` events (used to filter, never sent to viewers).
    pub examiner_id: Option<Uuid>,
}

impl Event {
    /// A `kind` event in a meeting, about a response and whose mark if given.
    pub fn about(meeting: MeetingId, kind: &str, response: Option<ResponseId>, examiner: Option<UserId>) -> Event {
        Event { meeting_id: meeting.0, kind: kind.into(), response_id: response.map(|r| r.0), examiner_id: examiner.map(|e| e.0) }
    }
}

/// Queues the event; PostgreSQL delivers it when the transaction commits,
/// and not at all if it rolls back.
pub async fn notify(db: impl PgExecutor<'_>, event: &Event) -> Result<(), AppError> {
    let payload = serde_json::to_string(event).map_err(|e| AppError::Internal(e.into()))?;
    sqlx::query!("SELECT FROM pg_notify($1, $2)", CHANNEL, payload).execute(db).await?;
    Ok(())
}

/// This process's listener and its subscribers.
pub struct Hub {
    sender: broadcast::Sender<Event>,
    closing: watch::Sender<bool>,
}

impl Hub {
    /// Starts listening on the database (reconnecting after outages).
    pub fn start(pool: PgPool) -> Arc<Hub> {
        let (sender, _) = broadcast::channel(4096);
        let (closing, _) = watch::channel(false);
        let hub = Arc::new(Hub { sender, closing });
        let tx = hub.sender.clone();
        let mut stop = hub.closing.subscribe();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.changed() => return,
                    result = listen(&pool, &tx) => {
                        if pool.is_closed() {
                            return; // shutting down
                        }
                        if let Err(e) = result {
                            tracing::warn!(error = %e, "live updates: listener lost, reconnecting");
                        }
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
        hub
    }

    /// A receiver of every event this process hears.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }

    /// Ends every open stream, so a graceful shutdown does not wait on them.
    pub fn close(&self) {
        let _ = self.closing.send(true);
    }

    fn closed(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }
}

async fn listen(pool: &PgPool, tx: &broadcast::Sender<Event>) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    // Changes made while this process was not listening were missed: every
    // open page fetches what it shows afresh.
    let _ = tx.send(Event { meeting_id: Uuid::nil(), kind: "resync".into(), response_id: None, examiner_id: None });
    loop {
        let n = listener.recv().await?;
        match serde_json::from_str::<Event>(n.payload()) {
            Ok(event) => {
                let _ = tx.send(event);
            }
            Err(e) => tracing::warn!(error = %e, "live updates: unreadable event"),
        }
    }
}

/// Whether a viewer may hear of this event (the visibility policy decides).
pub fn visible_to(event: &Event, viewer: &Viewer) -> bool {
    // "Fetch again" says nothing about any meeting: everyone may hear it.
    if event.kind == "resync" {
        return true;
    }
    if event.meeting_id != viewer.meeting_id {
        return false;
    }
    let relation = match event.examiner_id {
        Some(e) if e == viewer.user_id => Relation::Own,
        Some(e) if viewer.team.contains(&e) => Relation::TeamMember,
        _ => Relation::Other,
    };
    let change = match event.kind.as_str() {
        "mark" => Change::Mark(relation),
        "qualification" => Change::Qualification(relation),
        "referral" => Change::Referral(relation),
        "amendment" => Change::Amendment,
        "definitive" => Change::Definitive,
        "release" => Change::Release,
        "tolerance" => Change::Tolerance,
        _ => return false,
    };
    policy::hears(viewer.role, change)
}

/// How often a live stream checks that its listener may still listen.
pub const RECHECK: Duration = Duration::from_secs(3);

/// The outcome of checking a listener again.
#[derive(Debug, Clone)]
pub enum Recheck {
    /// Still allowed, as this viewer (their role or team may have changed).
    Allowed(Viewer),
    /// The check could not be made (the database is away): carry on as before.
    Unknown,
    /// No longer allowed: the stream ends.
    Refused,
}

/// The event stream for one viewer: only what they may hear, as
/// `{"kind", "response_id"}`, with keep-alives. Every [`RECHECK`] it asks
/// `recheck` who the viewer is now (their role or team may have changed) and
/// ends when they may no longer listen: signed out, token revoked, account
/// deactivated, or removed from the meeting.
pub fn stream<F, Fut>(hub: &Hub, viewer: Viewer, recheck: F) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>> + use<F, Fut>>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Recheck> + Send,
{
    let rx = hub.subscribe();
    let closed = hub.closed();
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + RECHECK, RECHECK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let state = (rx, closed, viewer, ticks, recheck);
    let stream = futures_util::stream::unfold(state, |(mut rx, mut closed, mut viewer, mut ticks, recheck)| async move {
        loop {
            tokio::select! {
                _ = closed.changed() => return None,
                _ = ticks.tick() => match recheck().await {
                    Recheck::Allowed(now) => viewer = now,
                    Recheck::Unknown => {}
                    Recheck::Refused => return None,
                },
                received = rx.recv() => match received {
                    Ok(event) if visible_to(&event, &viewer) => {
                        let data = serde_json::json!({"kind": event.kind, "response_id": event.response_id}).to_string();
                        let sse = SseEvent::default().event(event.kind.clone()).data(data);
                        return Some((Ok(sse), (rx, closed, viewer, ticks, recheck)));
                    }
                    Ok(_) => continue,
                    // Too slow to keep up: tell the page to fetch everything again.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let sse = SseEvent::default().event("resync").data("{}");
                        return Some((Ok(sse), (rx, closed, viewer, ticks, recheck)));
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(role: Role, user_id: Uuid, meeting_id: Uuid, team: Vec<Uuid>) -> Viewer {
        Viewer { user_id, meeting_id, role, team }
    }

    #[test]
    fn examiners_hear_only_their_own_marks_and_releases() {
        let (me, other, meeting) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let ev = |kind: &str, examiner| Event { meeting_id: meeting, kind: kind.into(), response_id: None, examiner_id: examiner };
        let ex = viewer(Role::Examiner, me, meeting, vec![]);
        assert!(visible_to(&ev("mark", Some(me)), &ex));
        assert!(!visible_to(&ev("mark", Some(other)), &ex));
        assert!(!visible_to(&ev("definitive", None), &ex));
        assert!(visible_to(&ev("release", None), &ex));
        let tl = viewer(Role::TeamLeader, me, meeting, vec![other]);
        assert!(visible_to(&ev("mark", Some(other)), &tl));
        let pe = viewer(Role::Pe, me, meeting, vec![]);
        assert!(visible_to(&ev("definitive", None), &pe));
        let elsewhere = Event { meeting_id: Uuid::new_v4(), ..ev("release", None) };
        assert!(!visible_to(&elsewhere, &pe));
        let resync = Event { meeting_id: Uuid::nil(), ..ev("resync", None) };
        assert!(visible_to(&resync, &ex), "everyone fetches afresh after a reconnect");
    }
}
