//! The principal examiner's dashboard: the marks matrix, where the panel
//! disagrees, examiners' severity and consistency, agreement per question,
//! exports, and live updates.

pub mod api;
pub mod compute;
pub mod data;
pub mod explain;
pub mod export;
pub mod pages;
pub mod svg;
pub mod view;

use std::{
    borrow::Cow,
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use uuid::Uuid;

use crate::{error::AppError, meetings::access::Access, state::AppState};

/// A meeting's marks and the figures computed from them.
pub type Figures = (data::MeetingData, compute::MeetingStats);

/// How long figures go without being read in full. Every change to marks,
/// definitive marks, tolerances, releases and the meeting's set-up raises a
/// live event, which patches or ends the cached figures at once; this bounds
/// what a change made outside the application (or to the paper, which is
/// audited as the paper's) could leave stale. Aged figures are still served
/// while they are read again in the background, so no one waits for a full
/// read (at 5,000 examiners, a fifth of a second) just because time has passed.
const MAX_AGE: Duration = Duration::from_secs(5);

/// Each meeting's figures, computed once and shared by every dashboard,
/// export and statistics request until the meeting changes: twenty open
/// dashboards cost one computation per change, not twenty.
#[derive(Default)]
pub struct Cache {
    slots: Mutex<HashMap<Uuid, Arc<tokio::sync::Mutex<Option<Cached>>>>>,
}

struct Cached {
    generation: (u64, u64),
    /// When the figures' data was last read in full, or such a read began.
    loaded_at: Instant,
    figures: Arc<Figures>,
}

impl Cache {
    fn slot(&self, meeting: Uuid) -> Arc<tokio::sync::Mutex<Option<Cached>>> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.entry(meeting).or_default().clone()
    }
}

/// A meeting's figures: from the cache while nothing has changed since they
/// were computed; when the changes say what they touched, the cached data
/// with that read again (a few marks; or everything but the marks) and the
/// figures computed from it; else loaded and computed afresh — once, however
/// many ask at the same moment.
pub async fn figures(state: &AppState, access: &Access) -> Result<Arc<Figures>, AppError> {
    let meeting = access.meeting.id;
    let slot = state.figures.slot(meeting);
    let mut cached = slot.lock().await;
    // Read before loading: a change heard while loading makes the next request load again.
    let generation = state.live.generation(meeting);
    if let Some(c) = cached.as_mut() {
        let served = if c.generation == generation {
            Some(c.figures.clone())
        } else if let Some(changed) = state.live.changes_since(meeting, c.generation)
            && let Some(figures) = patch_figures(state, access, &c.figures.0, &changed).await?
        {
            c.generation = generation;
            c.figures = Arc::new(figures);
            Some(c.figures.clone())
        } else {
            None
        };
        if let Some(figures) = served {
            if c.loaded_at.elapsed() >= MAX_AGE {
                // Once per period: the next full read is due when this one is.
                c.loaded_at = Instant::now();
                refresh_in_background(state.clone(), access.clone(), slot.clone());
            }
            return Ok(figures);
        }
    }
    let figures = Arc::new(compute_figures(state, access).await?);
    *cached = Some(Cached { generation, loaded_at: Instant::now(), figures: figures.clone() });
    Ok(figures)
}

/// Reads a meeting's figures in full without anyone waiting, then puts them
/// in the cache — patched with whatever changed meanwhile, so they are never
/// older than what they replace.
fn refresh_in_background(state: AppState, access: Access, slot: Arc<tokio::sync::Mutex<Option<Cached>>>) {
    tokio::spawn(async move {
        let meeting = access.meeting.id;
        let read_at = (Instant::now(), state.live.generation(meeting));
        let fresh = compute_figures(&state, &access).await;
        let mut cached = slot.lock().await;
        let fresh = match fresh {
            Ok(fresh) => fresh,
            Err(e) => {
                tracing::warn!(error = %e, %meeting, "dashboard: could not read the figures again");
                // Due again at the next request.
                if let Some(c) = cached.as_mut() {
                    c.loaded_at = Instant::now().checked_sub(MAX_AGE).unwrap_or(c.loaded_at);
                }
                return;
            }
        };
        let now = state.live.generation(meeting);
        let patched = match state.live.changes_since(meeting, read_at.1) {
            _ if now == read_at.1 => None,
            Some(changed) => patch_figures(&state, &access, &fresh.0, &changed).await.ok().flatten(),
            None => None,
        };
        // Patched up to now; or, when that cannot be done (too much changed,
        // the database is away), as read: the next request patches them or
        // reads in full, never keeps what this read was to replace.
        let (generation, figures) = match patched {
            Some(patched) => (now, patched),
            None => (read_at.1, fresh),
        };
        *cached = Some(Cached { generation, loaded_at: read_at.0, figures: Arc::new(figures) });
    });
}

/// The figures of `base` with what `changed` names read again — the marks
/// and definitive marks, and when something else changed all but the marks,
/// with the marks of anyone (and on any response) new to the meeting; None
/// when a changed mark is not of a response or marker in the meeting.
async fn patch_figures(
    state: &AppState,
    access: &Access,
    base: &data::MeetingData,
    changed: &crate::live::Changed,
) -> Result<Option<Figures>, AppError> {
    let started = std::time::Instant::now();
    let mut conn = state.db.acquire().await?;
    let base = if changed.frame {
        let frame = data::frame(&mut conn, &access.meeting).await?;
        let (mut data, newcomers) = base.reframed(frame);
        if !newcomers.is_empty() {
            data.add_marks(data::marks_of_newcomers(&mut conn, access.meeting_id(), &newcomers).await?);
        }
        Cow::Owned(data)
    } else {
        Cow::Borrowed(base)
    };
    let marks = if changed.marks.is_empty() { Vec::new() } else { data::marks_of(&mut conn, access.meeting_id(), &changed.marks).await? };
    // A frame read again holds the definitive marks as they are now.
    let definitive = if changed.definitive.is_empty() || changed.frame {
        Vec::new()
    } else {
        data::definitive_of(&mut conn, access.meeting_id(), &changed.definitive).await?
    };
    drop(conn);
    let Some(patch) = base.patch(changed, marks, definitive) else { return Ok(None) };
    let mut data = base.into_owned();
    data.apply(patch);
    let figures = computed(data).await?;
    tracing::debug!(
        marks = changed.marks.len(),
        definitive = changed.definitive.len(),
        frame = changed.frame,
        total_ms = started.elapsed().as_secs_f64() * 1e3,
        "dashboard figures patched"
    );
    Ok(Some(figures))
}

/// Loads and computes a meeting's figures afresh.
async fn compute_figures(state: &AppState, access: &Access) -> Result<Figures, AppError> {
    let started = std::time::Instant::now();
    // On a task of its own: sqlx enters the caller's tracing span for every
    // row it yields, and the request's span costs a tenth of a 250,000-mark
    // read; and a read begun always ends, whatever the request does.
    let data = tokio::spawn(data::load(state.db.clone(), access.meeting.clone(), data::Halves::WhenLarge))
        .await
        .map_err(|e| AppError::Internal(e.into()))??;
    let loaded = started.elapsed();
    let (data, stats) = computed(data).await?;
    tracing::debug!(
        marks = data.cells.len(),
        load_ms = loaded.as_secs_f64() * 1e3,
        total_ms = started.elapsed().as_secs_f64() * 1e3,
        "dashboard figures"
    );
    Ok((data, stats))
}

/// The figures of `data`, computed off the async threads (the arithmetic is CPU work).
async fn computed(data: data::MeetingData) -> Result<Figures, AppError> {
    tokio::task::spawn_blocking(move || {
        let stats = compute::compute(&data);
        (data, stats)
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))
}
