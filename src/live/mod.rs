//! Live updates. A change is published only once its transaction has
//! committed: `transact!` collects the events its block raises and hands them
//! to the hub after the commit (never `pg_notify` inside the write, which
//! would hold PostgreSQL's global notification lock across the commit's WAL
//! flush). The hub delivers them at once to this process's streams and, in
//! batches every few milliseconds, through PostgreSQL NOTIFY to every other
//! standardise process sharing the database.
//!
//! Streams listen on channels per meeting and audience — everyone in the
//! meeting, those who watch others' marks, and each person — so an event
//! wakes only the streams that may hear it; the visibility policy still
//! decides each one. An event names what changed (`mark`, `definitive`,
//! `release`, `tolerance`, …) and which response, never a mark or a
//! rationale: viewers fetch what they are allowed to see, so the blind rule
//! cannot leak here.

use std::{
    cell::RefCell,
    collections::HashMap,
    convert::Infallible,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use sqlx::{PgExecutor, PgPool, postgres::PgListener};
use tokio::sync::{broadcast, mpsc, watch};
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

/// What changed. On the wire (NOTIFY between processes, and the event
/// names pages listen for) each is its snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An examiner's mark (saved, submitted, reopened).
    Mark,
    /// A response's definitive mark.
    Definitive,
    /// Scripts released to examiners.
    Release,
    /// A question's tolerance.
    Tolerance,
    /// A qualification result.
    Qualification,
    /// A referral to the principal examiner, or its answer.
    Referral,
    /// An amendment to the mark scheme.
    Amendment,
    /// The meeting changed in a way no viewer is told about (its set-up).
    Changed,
    /// Fetch everything again: changes may have been missed.
    Resync,
    /// A kind this version does not know (sent by a newer process).
    #[serde(other)]
    Unknown,
}

impl Kind {
    /// Its name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Mark => "mark",
            Kind::Definitive => "definitive",
            Kind::Release => "release",
            Kind::Tolerance => "tolerance",
            Kind::Qualification => "qualification",
            Kind::Referral => "referral",
            Kind::Amendment => "amendment",
            Kind::Changed => "changed",
            Kind::Resync => "resync",
            Kind::Unknown => "unknown",
        }
    }
}

/// Something changed in a meeting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The meeting.
    pub meeting_id: Uuid,
    /// What changed.
    pub kind: Kind,
    /// The response concerned, if one.
    pub response_id: Option<Uuid>,
    /// Whose mark, for `mark` events (used to filter, never sent to viewers).
    pub examiner_id: Option<Uuid>,
}

impl Event {
    /// A `kind` event in a meeting, about a response and whose mark if given.
    pub fn about(meeting: MeetingId, kind: Kind, response: Option<ResponseId>, examiner: Option<UserId>) -> Event {
        Event { meeting_id: meeting.0, kind, response_id: response.map(|r| r.0), examiner_id: examiner.map(|e| e.0) }
    }

    /// "Fetch everything again": this process may have missed changes (its
    /// listener reconnected), so every cache and open page starts afresh.
    pub fn resync() -> Event {
        Event { meeting_id: Uuid::nil(), kind: Kind::Resync, response_id: None, examiner_id: None }
    }
}

tokio::task_local! {
    /// Events raised inside the transaction `transact!` is running.
    static PENDING: RefCell<Vec<Event>>;
}

/// Raises an event. Inside `transact!` it is kept until the transaction
/// commits (and dropped if it does not). Elsewhere — a caller running its own
/// transaction — PostgreSQL is asked to deliver it at that transaction's
/// commit, the slower way, but never early.
pub async fn notify(db: impl PgExecutor<'_>, event: &Event) -> Result<(), AppError> {
    if PENDING.try_with(|p| p.borrow_mut().push(event.clone())).is_ok() {
        return Ok(());
    }
    let payload = serde_json::to_string(event).map_err(|e| AppError::Internal(e.into()))?;
    sqlx::query!("SELECT FROM pg_notify($1, $2)", CHANNEL, payload).execute(db).await?;
    Ok(())
}

/// Notes, inside `transact!`, that a meeting changed in a way no viewer is told
/// about (its set-up, say): caches of its figures end at the commit. Outside
/// `transact!` it does nothing (the caches' age limit covers it).
pub fn changed(meeting_id: Uuid) {
    let _ = PENDING.try_with(|p| p.borrow_mut().push(Event { meeting_id, kind: Kind::Changed, response_id: None, examiner_id: None }));
}

/// Runs `work`, collecting the events it raises (for `transact!`).
pub async fn collecting<F: Future>(work: F) -> (F::Output, Vec<Event>) {
    PENDING
        .scope(RefCell::new(Vec::new()), async move {
            let out = work.await;
            (out, PENDING.with(|p| p.take()))
        })
        .await
}

/// Where committed events go: the hub of the application state, or for a bare
/// pool (tools, tests) PostgreSQL's NOTIFY, which every hub on it hears.
pub trait Publish {
    /// Publishes events of a committed transaction.
    fn publish(&self, events: Vec<Event>);
}

impl Publish for PgPool {
    fn publish(&self, events: Vec<Event>) {
        if events.is_empty() {
            return;
        }
        let pool = self.clone();
        tokio::spawn(async move {
            if let Err(e) = send_batch(&pool, None, &events).await {
                tracing::warn!(error = %e, "live updates: could not publish");
            }
        });
    }
}

/// Events as NOTIFY carries them: a batch, marked with the process it came from.
#[derive(Debug, Serialize, Deserialize)]
struct Batch {
    origin: Option<Uuid>,
    events: Vec<Event>,
}

/// Longest NOTIFY payload sent (PostgreSQL's limit is 8000 bytes).
const MAX_PAYLOAD: usize = 7_000;

async fn send_batch(pool: &PgPool, origin: Option<Uuid>, events: &[Event]) -> Result<(), sqlx::Error> {
    let mut payloads = Vec::new();
    let mut current: Vec<Event> = Vec::new();
    let encode = |events: Vec<Event>| serde_json::to_string(&Batch { origin, events }).unwrap_or_default();
    for e in events {
        current.push(e.clone());
        if encode(current.clone()).len() > MAX_PAYLOAD && current.len() > 1 {
            let last = current.pop().expect("more than one");
            payloads.push(encode(std::mem::take(&mut current)));
            current.push(last);
        }
    }
    if !current.is_empty() {
        payloads.push(encode(current));
    }
    sqlx::query!("SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p", CHANNEL, &payloads).execute(pool).await?;
    Ok(())
}

/// Who a channel of a meeting is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Audience {
    /// Everyone in the meeting.
    Everyone,
    /// Those who see others' marks: the principal examiner, administrators, team leaders.
    Watchers,
    /// One person.
    Person(Uuid),
}

/// The channels an event goes to: what the visibility policy could let hear it.
fn audiences(event: &Event) -> Vec<Audience> {
    match event.kind {
        Kind::Mark | Kind::Qualification | Kind::Referral => {
            let mut to = vec![Audience::Watchers];
            to.extend(event.examiner_id.map(Audience::Person));
            to
        }
        Kind::Definitive => vec![Audience::Watchers],
        Kind::Release | Kind::Tolerance | Kind::Amendment | Kind::Changed | Kind::Resync | Kind::Unknown => vec![Audience::Everyone],
    }
}

/// What a process has heard of one meeting's changes.
#[derive(Debug, Default)]
struct Heard {
    /// How many.
    generation: u64,
    /// The latest, numbered: what a dashboard can patch, None for any other change.
    recent: std::collections::VecDeque<(u64, Option<Patchable>)>,
}

/// A change a dashboard can patch its cached figures with.
#[derive(Debug, Clone, Copy)]
enum Patchable {
    /// A mark, by (response, examiner).
    Mark(Uuid, Uuid),
    /// A response's definitive mark.
    Definitive(Uuid),
    /// Anything but a mark: a tolerance, a release, the meeting's set-up, the
    /// scheme. Marks change only with a `mark` event of their own (or go with
    /// a response or marker leaving the meeting), so the rest of the figures'
    /// data — small beside the marks — is read again and the marks kept.
    Frame,
}

/// What changed in a meeting since a generation, when it can be patched.
#[derive(Debug, Default, PartialEq)]
pub struct Changed {
    /// Marks, by (response, examiner), each once.
    pub marks: Vec<(Uuid, Uuid)>,
    /// Responses whose definitive mark changed, each once.
    pub definitive: Vec<Uuid>,
    /// Something other than marks changed: everything but the marks is read again.
    pub frame: bool,
}

/// How many of a meeting's latest changes are remembered.
const REMEMBERED: usize = 4096;

impl Heard {
    fn note(&mut self, event: &Event) {
        self.generation += 1;
        let patchable = match (event.kind, event.response_id, event.examiner_id) {
            (Kind::Mark, Some(response), Some(examiner)) => Some(Patchable::Mark(response, examiner)),
            (Kind::Definitive, Some(response), _) => Some(Patchable::Definitive(response)),
            // Which mark is not known, or what changed: everything must be read again.
            (Kind::Mark | Kind::Definitive | Kind::Resync | Kind::Unknown, ..) => None,
            (Kind::Release | Kind::Tolerance | Kind::Qualification | Kind::Referral | Kind::Amendment | Kind::Changed, ..) => {
                Some(Patchable::Frame)
            }
        };
        if self.recent.len() == REMEMBERED {
            self.recent.pop_front();
        }
        self.recent.push_back((self.generation, patchable));
    }

    fn changes_since(&self, since: u64) -> Option<Changed> {
        if since > self.generation {
            return None;
        }
        // Every change after `since` must still be remembered.
        if since < self.generation && self.recent.front().is_none_or(|(n, _)| *n > since + 1) {
            return None;
        }
        let mut changed = Changed::default();
        for (_, change) in self.recent.iter().filter(|(n, _)| *n > since) {
            match (*change)? {
                Patchable::Mark(response, examiner) => changed.marks.push((response, examiner)),
                Patchable::Definitive(response) => changed.definitive.push(response),
                Patchable::Frame => changed.frame = true,
            }
        }
        changed.marks.sort_unstable();
        changed.marks.dedup();
        changed.definitive.sort_unstable();
        changed.definitive.dedup();
        Some(changed)
    }
}

/// Capacity of a meeting-wide channel and of one person's.
const WIDE: usize = 256;
const PERSONAL: usize = 16;

/// This process's listener, its channels, and the outbox to other processes.
pub struct Hub {
    id: Uuid,
    channels: Mutex<HashMap<(Uuid, Audience), broadcast::Sender<Event>>>,
    resync: broadcast::Sender<Event>,
    /// Per meeting, how many changes this process has heard of and the latest
    /// of them (dashboards cache by it, and patch what they cached).
    generations: Mutex<HashMap<Uuid, Heard>>,
    /// Bumped by a resync: everything may have changed.
    epoch: AtomicU64,
    outbox: mpsc::UnboundedSender<Event>,
    closing: watch::Sender<bool>,
}

impl Hub {
    /// Starts listening on the database (reconnecting after outages) and the
    /// batched sender of this process's events.
    pub fn start(pool: PgPool) -> Arc<Hub> {
        let (resync, _) = broadcast::channel(16);
        let (closing, _) = watch::channel(false);
        let (outbox, mut queued) = mpsc::unbounded_channel::<Event>();
        let hub = Arc::new(Hub {
            id: Uuid::new_v4(),
            channels: Mutex::new(HashMap::new()),
            resync,
            generations: Mutex::new(HashMap::new()),
            epoch: AtomicU64::new(0),
            outbox,
            closing,
        });
        let weak = Arc::downgrade(&hub);
        let mut stop = hub.closing.subscribe();
        let listen_pool = pool.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.changed() => return,
                    result = listen(&listen_pool, &weak) => {
                        if listen_pool.is_closed() || weak.strong_count() == 0 {
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
        // Other processes hear this one's events in batches: one NOTIFY
        // statement for everything committed in the last few milliseconds.
        let origin = hub.id;
        tokio::spawn(async move {
            while let Some(first) = queued.recv().await {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let mut batch = vec![first];
                while let Ok(e) = queued.try_recv() {
                    batch.push(e);
                }
                if pool.is_closed() {
                    return;
                }
                if let Err(e) = send_batch(&pool, Some(origin), &batch).await {
                    tracing::warn!(error = %e, events = batch.len(), "live updates: could not tell other processes");
                }
            }
        });
        hub
    }

    /// Delivers events to this process's streams at once and queues them for the others.
    pub fn publish_events(&self, events: Vec<Event>) {
        for e in events {
            self.dispatch(&e);
            let _ = self.outbox.send(e);
        }
    }

    fn dispatch(&self, event: &Event) {
        if event.kind == Kind::Resync {
            self.epoch.fetch_add(1, Ordering::Relaxed);
            let _ = self.resync.send(event.clone());
            return;
        }
        if let Ok(mut g) = self.generations.lock() {
            g.entry(event.meeting_id).or_default().note(event);
        }
        let Ok(mut channels) = self.channels.lock() else { return };
        for audience in audiences(event) {
            let key = (event.meeting_id, audience);
            if let Some(sender) = channels.get(&key) {
                if sender.receiver_count() == 0 {
                    channels.remove(&key);
                } else {
                    let _ = sender.send(event.clone());
                }
            }
        }
    }

    fn channel(&self, meeting: Uuid, audience: Audience) -> broadcast::Receiver<Event> {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        let capacity = if matches!(audience, Audience::Person(_)) { PERSONAL } else { WIDE };
        channels.entry((meeting, audience)).or_insert_with(|| broadcast::channel(capacity).0).subscribe()
    }

    /// How many changes to a meeting this process has heard of (and resyncs,
    /// after which anything may have changed): a cache of the meeting's figures
    /// is good while this stays the same.
    pub fn generation(&self, meeting: Uuid) -> (u64, u64) {
        let heard = self.generations.lock().map(|g| g.get(&meeting).map_or(0, |h| h.generation)).unwrap_or(0);
        (self.epoch.load(Ordering::Relaxed), heard)
    }

    /// What changed in a meeting since `since` (a [`Hub::generation`]), when
    /// this process still remembers every change and each says what it
    /// touched; None after a resync, or too many changes, or a change that
    /// could be to any mark: then everything must be read again.
    pub fn changes_since(&self, meeting: Uuid, since: (u64, u64)) -> Option<Changed> {
        if since.0 != self.epoch.load(Ordering::Relaxed) {
            return None;
        }
        let g = self.generations.lock().ok()?;
        g.get(&meeting)?.changes_since(since.1)
    }

    /// Ends every open stream, so a graceful shutdown does not wait on them.
    pub fn close(&self) {
        let _ = self.closing.send(true);
    }

    fn closed(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }
}

async fn listen(pool: &PgPool, hub: &std::sync::Weak<Hub>) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    // Changes made while this process was not listening were missed: every
    // open page fetches what it shows afresh.
    if let Some(h) = hub.upgrade() {
        h.dispatch(&Event::resync());
    }
    loop {
        let n = listener.recv().await?;
        let Some(h) = hub.upgrade() else { return Ok(()) };
        if let Ok(batch) = serde_json::from_str::<Batch>(n.payload()) {
            // This process delivered its own events when it published them.
            if batch.origin != Some(h.id) {
                batch.events.iter().for_each(|e| h.dispatch(e));
            }
        } else {
            match serde_json::from_str::<Event>(n.payload()) {
                Ok(event) => h.dispatch(&event),
                Err(e) => tracing::warn!(error = %e, "live updates: unreadable event"),
            }
        }
    }
}

/// Whether a viewer may hear of this event (the visibility policy decides).
pub fn visible_to(event: &Event, viewer: &Viewer) -> bool {
    // "Fetch again" says nothing about any meeting: everyone may hear it.
    if event.kind == Kind::Resync {
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
    let change = match event.kind {
        Kind::Mark => Change::Mark(relation),
        Kind::Qualification => Change::Qualification(relation),
        Kind::Referral => Change::Referral(relation),
        Kind::Amendment => Change::Amendment,
        Kind::Definitive => Change::Definitive,
        Kind::Release => Change::Release,
        Kind::Tolerance => Change::Tolerance,
        Kind::Changed | Kind::Resync | Kind::Unknown => return false,
    };
    policy::hears(viewer.role, change)
}

/// How often a live stream checks that its listener may still listen: a
/// revoked token or a signed-out session stops being heard within this. Each
/// check is a statement, so a room of a thousand open pages checking every few
/// seconds would cost the database hundreds of statements a second.
pub const RECHECK: Duration = Duration::from_secs(10);

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

/// The least time between two writes to one stream. The first change after
/// a quiet spell goes out at once; what follows it within this time goes out
/// together at its end, in one write. Pages refresh at most this often anyway
/// (`static/app.js` waits 200 ms after a change), and a thousand open pages
/// each written to on every save would cost the server (and every reader) a
/// system call per page per save.
pub const PACE: Duration = Duration::from_millis(200);

/// The event stream for one viewer: only what they may hear, as
/// `{"kind", "response_id"}`, with keep-alives, at most one write per
/// [`PACE`]. Every [`RECHECK`] it asks `recheck` who the viewer is now (their
/// role or team may have changed) and ends when they may no longer listen:
/// signed out, token revoked, account deactivated, or removed from the meeting.
pub fn stream<F, Fut>(hub: &Hub, viewer: Viewer, recheck: F) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>> + use<F, Fut>>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Recheck> + Send,
{
    let receivers = Receivers {
        everyone: hub.channel(viewer.meeting_id, Audience::Everyone),
        watchers: policy::sees_others_marks(viewer.role).then(|| hub.channel(viewer.meeting_id, Audience::Watchers)),
        own: hub.channel(viewer.meeting_id, Audience::Person(viewer.user_id)),
        resync: hub.resync.subscribe(),
        pending: Vec::new(),
    };
    let closed = hub.closed();
    // Streams opened together (a room of examiners starting at once) would
    // otherwise check again together: the first check is spread over the
    // second half of the period (never later than one period).
    let first = RECHECK.mul_f64(0.5 + rand::random::<f64>() / 2.0);
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + first, RECHECK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let state = Listening { rx: receivers, closed, viewer, ticks, recheck, quiet_until: None };
    let batches = futures_util::stream::unfold(state, |mut s| async move {
        loop {
            // Just written to: what comes within the pace is kept until its end.
            let quiet_until = s.quiet_until;
            let received = tokio::select! {
                _ = s.closed.changed() => return None,
                _ = async { match quiet_until { Some(t) => tokio::time::sleep_until(t).await, None => std::future::pending().await } } => {
                    s.quiet_until = None;
                    None
                }
                _ = s.ticks.tick() => {
                    match (s.recheck)().await {
                        Recheck::Allowed(now) => s.viewer = now,
                        Recheck::Unknown => {}
                        Recheck::Refused => return None,
                    }
                    continue;
                }
                r = s.rx.everyone.recv() => Some(r),
                r = async { match s.rx.watchers.as_mut() { Some(w) => w.recv().await, None => std::future::pending().await } } => Some(r),
                r = s.rx.own.recv() => Some(r),
                r = s.rx.resync.recv() => Some(r),
            };
            match received {
                Some(Ok(event)) => keep(&mut s.rx.pending, Ok(event), &s.viewer),
                Some(Err(broadcast::error::RecvError::Lagged(_))) => keep(&mut s.rx.pending, Err(Lagged), &s.viewer),
                Some(Err(broadcast::error::RecvError::Closed)) => return None,
                None => {}
            }
            if s.quiet_until.is_some() {
                // Whatever else has come is kept now too: one pass through
                // the select (and its timer) per wake, not per event.
                if !s.rx.drain(&s.viewer) {
                    return None;
                }
                continue;
            }
            let mut batch = Vec::new();
            if !s.rx.take(&s.viewer, &mut batch) {
                return None;
            }
            if !batch.is_empty() {
                s.quiet_until = Some(tokio::time::Instant::now() + PACE);
                return Some((batch, s));
            }
        }
    });
    // A batch's events are ready together, so they are written together.
    let stream = batches.flat_map(|batch| futures_util::stream::iter(batch.into_iter().map(Ok)));
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// One open stream's state between writes.
struct Listening<F> {
    rx: Receivers,
    closed: watch::Receiver<bool>,
    viewer: Viewer,
    ticks: tokio::time::Interval,
    recheck: F,
    /// Nothing more is written before this.
    quiet_until: Option<tokio::time::Instant>,
}

/// The stream fell behind its channel and events were dropped.
struct Lagged;

/// The channels one stream listens on.
struct Receivers {
    everyone: broadcast::Receiver<Event>,
    watchers: Option<broadcast::Receiver<Event>>,
    own: broadcast::Receiver<Event>,
    resync: broadcast::Receiver<Event>,
    /// Received while waiting, not yet written.
    pending: Vec<Result<Event, Lagged>>,
}

/// Most events kept for one stream between writes (see [`keep`]).
const MOST_PENDING: usize = WIDE;

/// Keeps what was received, if the viewer may hear it, until the next write.
/// When too much has come (a principal examiner's page hears every mark of a
/// busy meeting), changes of the same kind to the same response are kept
/// once — a page fetches what changed, not each change — and past that the
/// page is told to fetch everything again.
fn keep(pending: &mut Vec<Result<Event, Lagged>>, got: Result<Event, Lagged>, viewer: &Viewer) {
    if matches!(&got, Ok(event) if !visible_to(event, viewer)) {
        return;
    }
    if pending.len() >= MOST_PENDING {
        let mut seen = std::collections::HashSet::new();
        pending.retain(|kept| match kept {
            Ok(e) => seen.insert((e.kind, e.response_id)),
            Err(Lagged) => true,
        });
    }
    if pending.len() < MOST_PENDING {
        pending.push(got);
    } else if !matches!(pending.last(), Some(Err(Lagged))) {
        *pending.last_mut().expect("full") = Err(Lagged);
    }
}

impl Receivers {
    /// Keeps what is waiting in the channels; false when the hub has gone.
    fn drain(&mut self, viewer: &Viewer) -> bool {
        let Receivers { everyone, watchers, own, resync, pending } = self;
        for rx in [Some(everyone), watchers.as_mut(), Some(own), Some(resync)].into_iter().flatten() {
            loop {
                match rx.try_recv() {
                    Ok(event) => keep(pending, Ok(event), viewer),
                    Err(broadcast::error::TryRecvError::Empty) => break,
                    Err(broadcast::error::TryRecvError::Lagged(_)) => keep(pending, Err(Lagged), viewer),
                    Err(broadcast::error::TryRecvError::Closed) => return false,
                }
            }
        }
        true
    }

    /// What was kept and what is still waiting in the channels, as the
    /// events this viewer may hear; false when the hub has gone (the stream ends).
    fn take(&mut self, viewer: &Viewer, out: &mut Vec<SseEvent>) -> bool {
        if !self.drain(viewer) {
            return false;
        }
        let mut resync = false;
        for got in self.pending.drain(..) {
            match got {
                // Heard again: their role may have changed since it was kept.
                Ok(event) if visible_to(&event, viewer) => {
                    resync |= event.kind == Kind::Resync;
                    let data = serde_json::json!({"kind": event.kind, "response_id": event.response_id}).to_string();
                    out.push(SseEvent::default().event(event.kind.as_str()).data(data));
                }
                Ok(_) => {}
                // Too slow to keep up: tell the page to fetch everything again (once).
                Err(Lagged) if !resync => {
                    resync = true;
                    out.push(SseEvent::default().event(Kind::Resync.as_str()).data("{}"));
                }
                Err(Lagged) => {}
            }
        }
        true
    }
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
        let ev = |kind: Kind, examiner| Event { meeting_id: meeting, kind, response_id: None, examiner_id: examiner };
        let ex = viewer(Role::Examiner, me, meeting, vec![]);
        assert!(visible_to(&ev(Kind::Mark, Some(me)), &ex));
        assert!(!visible_to(&ev(Kind::Mark, Some(other)), &ex));
        assert!(!visible_to(&ev(Kind::Definitive, None), &ex));
        assert!(visible_to(&ev(Kind::Release, None), &ex));
        let tl = viewer(Role::TeamLeader, me, meeting, vec![other]);
        assert!(visible_to(&ev(Kind::Mark, Some(other)), &tl));
        let pe = viewer(Role::Pe, me, meeting, vec![]);
        assert!(visible_to(&ev(Kind::Definitive, None), &pe));
        let elsewhere = Event { meeting_id: Uuid::new_v4(), ..ev(Kind::Release, None) };
        assert!(!visible_to(&elsewhere, &pe));
        let resync = Event { meeting_id: Uuid::nil(), ..ev(Kind::Resync, None) };
        assert!(visible_to(&resync, &ex), "everyone fetches afresh after a reconnect");
    }

    #[test]
    fn a_dashboard_learns_which_marks_changed_unless_something_else_did_or_too_much() {
        let (meeting, r1, r2, ex) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let mark = |response| Event { meeting_id: meeting, kind: Kind::Mark, response_id: Some(response), examiner_id: Some(ex) };
        let marks = |marks: Vec<(Uuid, Uuid)>| Some(Changed { marks, ..Changed::default() });
        let mut heard = Heard::default();
        assert_eq!(heard.changes_since(0), marks(vec![]), "nothing changed");
        heard.note(&mark(r1));
        heard.note(&mark(r2));
        heard.note(&mark(r1));
        let mut both = vec![(r1, ex), (r2, ex)];
        both.sort();
        assert_eq!(heard.changes_since(0), marks(both), "each changed mark once");
        assert_eq!(heard.changes_since(2), marks(vec![(r1, ex)]));
        assert_eq!(heard.changes_since(4), None, "a generation not yet reached");
        heard.note(&Event { kind: Kind::Definitive, examiner_id: None, ..mark(r2) });
        assert_eq!(heard.changes_since(3), Some(Changed { definitive: vec![r2], ..Changed::default() }), "a definitive mark changed");
        heard.note(&Event { kind: Kind::Tolerance, response_id: None, examiner_id: None, ..mark(r2) });
        assert_eq!(
            heard.changes_since(3),
            Some(Changed { definitive: vec![r2], frame: true, ..Changed::default() }),
            "a tolerance changed: all but the marks is read again"
        );
        heard.note(&Event { examiner_id: None, ..mark(r1) });
        assert_eq!(heard.changes_since(3), None, "a mark changed, but whose is not said: read everything");
        assert_eq!(heard.changes_since(6), marks(vec![]), "nothing since");
        heard.note(&mark(r2));
        for _ in 0..REMEMBERED {
            heard.note(&mark(r2));
        }
        assert_eq!(heard.changes_since(6), None, "the changes since then are forgotten");
        assert_eq!(heard.changes_since(7), marks(vec![(r2, ex)]), "all remembered since then");
    }

    #[test]
    fn an_event_goes_only_to_the_channels_that_may_hear_it() {
        let (me, meeting) = (Uuid::new_v4(), Uuid::new_v4());
        let ev = |kind: Kind, examiner| Event { meeting_id: meeting, kind, response_id: None, examiner_id: examiner };
        assert_eq!(audiences(&ev(Kind::Mark, Some(me))), vec![Audience::Watchers, Audience::Person(me)]);
        assert_eq!(audiences(&ev(Kind::Definitive, None)), vec![Audience::Watchers]);
        assert_eq!(audiences(&ev(Kind::Release, None)), vec![Audience::Everyone]);
        // Every role that hears a kind listens on one of its channels.
        for role in [Role::Examiner, Role::TeamLeader, Role::Pe] {
            let listens = |a: &Audience| match a {
                Audience::Everyone | Audience::Person(_) => true,
                Audience::Watchers => policy::sees_others_marks(role),
            };
            for (kind, examiner) in [(Kind::Mark, Some(me)), (Kind::Definitive, None), (Kind::Release, None), (Kind::Referral, Some(me))] {
                let e = ev(kind, examiner);
                let v = viewer(role, if role == Role::Examiner { me } else { Uuid::new_v4() }, meeting, vec![me]);
                if visible_to(&e, &v) {
                    assert!(
                        audiences(&e).iter().any(|a| listens(a) && (*a != Audience::Person(me) || v.user_id == me)),
                        "{role:?} {kind:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_kind_is_named_as_serde_names_it() {
        use Kind::*;
        for kind in [Mark, Definitive, Release, Tolerance, Qualification, Referral, Amendment, Changed, Resync, Unknown] {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str(), "{kind:?}");
        }
    }

    #[test]
    fn a_busy_page_keeps_each_change_once_when_too_much_comes_and_hears_nothing_it_may_not() {
        let (pe, meeting, ex) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let viewer = viewer(Role::Pe, pe, meeting, vec![]);
        let (_tx, rx) = broadcast::channel::<Event>(1);
        let mut r = Receivers { everyone: rx.resubscribe(), watchers: None, own: rx.resubscribe(), resync: rx, pending: Vec::new() };
        let responses: Vec<Uuid> = (0..10).map(|_| Uuid::new_v4()).collect();
        let mark = |i: usize| Event { meeting_id: meeting, kind: Kind::Mark, response_id: Some(responses[i % 10]), examiner_id: Some(ex) };
        keep(&mut r.pending, Ok(Event { meeting_id: Uuid::new_v4(), ..mark(0) }), &viewer);
        assert!(r.pending.is_empty(), "another meeting's change is not kept");
        for i in 0..MOST_PENDING * 3 {
            keep(&mut r.pending, Ok(mark(i)), &viewer);
        }
        assert!(r.pending.len() < MOST_PENDING);
        assert!(!r.pending.iter().any(|kept| matches!(kept, Err(Lagged))), "no need to fetch everything");
        let mut out = Vec::new();
        assert!(r.take(&viewer, &mut out));
        assert!(out.len() >= 10, "every response changed is told");
        assert!(r.pending.is_empty());
    }

    #[test]
    fn kinds_keep_their_names_on_the_wire_and_a_newer_kind_is_understood_as_unknown() {
        let event = Event::about(MeetingId(Uuid::nil()), Kind::Mark, None, None);
        let wire = serde_json::to_value(&event).unwrap();
        assert_eq!(wire["kind"], "mark");
        assert_eq!(serde_json::from_value::<Event>(wire).unwrap(), event);
        let newer = serde_json::json!({"meeting_id": Uuid::nil(), "kind": "something_new", "response_id": null, "examiner_id": null});
        let heard = serde_json::from_value::<Event>(newer).unwrap();
        assert_eq!(heard.kind, Kind::Unknown);
        let mut seen = Heard::default();
        seen.note(&heard);
        assert_eq!(seen.changes_since(0), None, "what an unknown change touched is not known: read everything");
    }

    #[tokio::test]
    async fn events_raised_in_a_transaction_are_collected_not_sent() {
        let meeting = MeetingId(Uuid::new_v4());
        let (n, events) = collecting(async {
            PENDING.with(|p| p.borrow_mut().push(Event::about(meeting, Kind::Mark, None, None)));
            7
        })
        .await;
        assert_eq!((n, events.len()), (7, 1));
    }
}
