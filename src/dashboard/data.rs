//! Everything the dashboard computes from, loaded in a fixed handful of
//! queries however many examiners and responses there are.

use std::{collections::HashMap, sync::Arc};

use foldhash::fast::RandomState;
use futures_util::TryStreamExt;
use sqlx::{Connection as _, PgConnection, PgPool, Postgres, pool::PoolConnection, types::Json};
use uuid::Uuid;

use crate::{
    db::binary_copy::{self, CopyError},
    error::AppError,
    marking::{MarkState, rules::Part},
    markscheme::Level,
    meetings::{Meeting, MeetingId, Purpose, store as meetings_store},
    papers::store as papers_store,
    scripts::ResponseId,
    users::UserId,
};

/// A question of the paper with its tolerance in this meeting.
#[derive(Debug, Clone)]
pub struct QuestionInfo {
    /// Question number.
    pub number: String,
    /// Maximum mark.
    pub max_mark: i32,
    /// Tolerance in force.
    pub tolerance: i32,
    /// Its levels (empty for point-marked questions).
    pub levels: Vec<Level>,
}

/// A response marked in the meeting.
#[derive(Debug, Clone)]
pub struct ResponseInfo {
    /// Response id.
    pub id: ResponseId,
    /// Candidate number.
    pub candidate: String,
    /// Index into `questions`.
    pub question: usize,
    /// Why the script is in the meeting.
    pub purpose: Purpose,
    /// Released to examiners.
    pub released: bool,
}

/// Someone who marks: an examiner or a team leader.
#[derive(Debug, Clone)]
pub struct ExaminerInfo {
    /// User id.
    pub id: UserId,
    /// Email.
    pub email: String,
    /// Name.
    pub name: String,
    /// Their team leader, if in a team.
    pub team_leader: Option<UserId>,
}

/// One examiner's mark on one response.
#[derive(Debug, Clone, Copy)]
pub struct Cell {
    /// Index into `responses`.
    pub response: usize,
    /// Index into `examiners`.
    pub examiner: usize,
    /// Level.
    pub level: Option<i32>,
    /// Mark.
    pub mark: i32,
    /// Submitted (statistics count only these) or a draft.
    pub submitted: bool,
}

/// A cell of the marks grid: mark, level, submitted (None when unmarked).
pub type GridCell = Option<(i32, Option<i32>, bool)>;

/// A definitive mark.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Def {
    /// Level.
    pub level: Option<i32>,
    /// Mark.
    pub mark: i32,
}

/// A meeting's marks and everything needed to judge them.
#[derive(Debug, Clone, Default)]
pub struct MeetingData {
    /// Questions of the paper, in order.
    pub questions: Vec<QuestionInfo>,
    /// Responses in marking order.
    pub responses: Vec<ResponseInfo>,
    /// Markers, by name.
    pub examiners: Vec<ExaminerInfo>,
    /// Every mark (drafts included).
    pub cells: Vec<Cell>,
    /// Definitive mark per response.
    pub definitive: Vec<Option<Def>>,
}

struct ResponseRow {
    id: ResponseId,
    candidate: String,
    question_number: String,
    purpose: Purpose,
    released: bool,
}

/// A mark as the dashboard reads it.
pub struct MarkRow {
    response_id: ResponseId,
    examiner_id: UserId,
    level: Option<i32>,
    mark: i32,
    submitted: bool,
}

/// A definitive mark as the dashboard reads it.
pub struct DefRow {
    response_id: ResponseId,
    level: Option<i32>,
    mark: i32,
}

/// A meeting with at least this many possible marks (responses × markers)
/// has them read on two connections at once, each half the table.
const SPLIT_FROM: usize = 20_000;

/// Whether a meeting's marks are read half on each of two connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Halves {
    /// When the meeting is large ([`SPLIT_FROM`]) and the pool has a connection free.
    WhenLarge,
    /// Always, waiting for a second connection if need be (tests compare the two ways).
    Always,
    /// Never.
    Never,
}

/// Loads a meeting's data: its frame ([`frame`]) and its marks, all in one
/// snapshot. A large meeting's marks are read half on each of two
/// connections, when the pool has one free: PostgreSQL and the reading of
/// what it sends then use both cores (at 5,000 examiners, 55–70 ms instead
/// of 75–80).
pub async fn load(pool: PgPool, meeting: Meeting, halves: Halves) -> Result<MeetingData, AppError> {
    let started = std::time::Instant::now();
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin_with(SNAPSHOT).await?;
    let mut data = frame(&mut tx, &meeting).await?;
    let framed = started.elapsed();
    let places = Arc::new(Places::of(&data));
    let helper = match halves {
        Halves::WhenLarge if data.responses.len() * data.examiners.len() >= SPLIT_FROM => pool.try_acquire(),
        Halves::WhenLarge | Halves::Never => None,
        Halves::Always => Some(pool.acquire().await?),
    };
    let split = helper.is_some();
    let cells = match helper {
        None => read_marks(&mut tx, meeting.meeting_id(), &places, Pages::All).await?,
        Some(helper) => {
            let share = sqlx::query!(
                r#"SELECT pg_export_snapshot() AS "snapshot!",
                          pg_relation_size('marks') / current_setting('block_size')::bigint AS "pages!""#
            )
            .fetch_one(&mut *tx)
            .await?;
            let half = share.pages / 2;
            let upper = tokio::spawn(read_in_snapshot(helper, share.snapshot, meeting.meeting_id(), places.clone(), Pages::From(half)));
            let mut cells = read_marks(&mut tx, meeting.meeting_id(), &places, Pages::Below(half)).await?;
            cells.extend(upper.await.map_err(|e| AppError::Internal(e.into()))??);
            cells
        }
    };
    tx.commit().await?;
    data.cells = cells;
    tracing::debug!(
        frame_ms = framed.as_secs_f64() * 1e3,
        marks_ms = (started.elapsed() - framed).as_secs_f64() * 1e3,
        split,
        "dashboard data read"
    );
    Ok(data)
}

/// Reads marks on `helper` as they were in another transaction's exported `snapshot`.
async fn read_in_snapshot(
    mut helper: PoolConnection<Postgres>,
    snapshot: String,
    meeting: MeetingId,
    places: Arc<Places>,
    pages: Pages,
) -> Result<Vec<Cell>, AppError> {
    // SET takes no bound parameters; the name is PostgreSQL's own (hex digits and dashes).
    if !snapshot.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(AppError::Internal(anyhow::anyhow!("unexpected snapshot name {snapshot:?}")));
    }
    let mut tx = helper.begin_with(SNAPSHOT).await?;
    sqlx::query(&format!("SET TRANSACTION SNAPSHOT '{snapshot}'")).execute(&mut *tx).await?;
    read_marks(&mut tx, meeting, &places, pages).await
}

/// A read-only transaction whose statements all see the database as at its first.
const SNAPSHOT: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

/// Which of the marks table's pages a read covers: all, those below a page, or
/// those from it on (rows written after the read began land anywhere, and are
/// not in its snapshot).
#[derive(Debug, Clone, Copy)]
enum Pages {
    All,
    Below(i64),
    From(i64),
}

/// Reads the meeting's marks on the pages given, each put in its place as it
/// arrives. The marks are the bulk (a row per examiner per response), so they
/// come as binary COPY data ([`binary_copy`]): as query rows, sqlx's per-row
/// work took twice as long as PostgreSQL's. (Tried and slower on this 2-core
/// machine: a response's marks as arrays in one row, which PostgreSQL builds
/// more slowly than it sends rows.)
async fn read_marks(db: &mut PgConnection, meeting: MeetingId, places: &Places, pages: Pages) -> Result<Vec<Cell>, AppError> {
    // COPY runs as a simple query, which takes no bound parameters: the id is
    // a `Uuid` printed in its canonical form, the page an integer.
    let pages = match pages {
        Pages::All => String::new(),
        Pages::Below(page) => format!(" AND ctid < '({page},0)'::tid"),
        Pages::From(page) => format!(" AND ctid >= '({page},0)'::tid"),
    };
    let statement = format!(
        "COPY (SELECT response_id, examiner_id, level, mark, state = 'submitted' FROM marks WHERE meeting_id = '{}'{pages}) TO STDOUT (FORMAT binary)",
        meeting.0
    );
    let mut stream = db.copy_out_raw(&statement).await?;
    let mut tuples = binary_copy::Tuples::<5>::new();
    let mut cells = Vec::new();
    let bad = |e: CopyError| AppError::Internal(e.into());
    // (Left unread after an error, the rest is discarded by sqlx before the connection's next query.)
    while let Some(chunk) = stream.try_next().await? {
        tuples
            .read(&chunk, |[response, examiner, level, mark, submitted]| {
                let row = MarkRow {
                    response_id: ResponseId(binary_copy::uuid(response)?),
                    examiner_id: UserId(binary_copy::uuid(examiner)?),
                    level: binary_copy::int4(level)?,
                    mark: binary_copy::int4(mark)?.ok_or(CopyError::Null)?,
                    submitted: binary_copy::boolean(submitted)?,
                };
                cells.extend(places.cell(&row));
                Ok(())
            })
            .map_err(bad)?;
    }
    tuples.finish().map_err(bad)?;
    Ok(cells)
}

/// A meeting's data without its marks: the paper (four queries) plus one
/// query each for tolerances, responses, markers and definitive marks — all
/// small beside the marks, and all a change to the meeting's settings, set-up
/// or scheme can touch.
pub async fn frame(db: &mut PgConnection, meeting: &Meeting) -> Result<MeetingData, AppError> {
    let paper = papers_store::load(db, meeting.paper_id).await?.ok_or_else(|| AppError::not_found("The meeting's paper"))?;
    let tolerances = meetings_store::tolerances(&mut *db, meeting.meeting_id()).await?;
    let questions: Vec<QuestionInfo> = paper
        .scheme
        .questions
        .iter()
        .map(|q| QuestionInfo { number: q.number.clone(), max_mark: q.max_mark, tolerance: tolerances.of(q), levels: q.levels.clone() })
        .collect();
    let question_index: HashMap<&str, usize> = questions.iter().enumerate().map(|(i, q)| (q.number.as_str(), i)).collect();

    let rows = sqlx::query_as!(
        ResponseRow,
        r#"SELECT r.id, s.candidate, q.number AS question_number, ms.purpose AS "purpose: Purpose",
                  ms.released_at IS NOT NULL AS "released!"
           FROM meeting_scripts ms JOIN scripts s ON s.id = ms.script_id
           JOIN responses r ON r.script_id = s.id JOIN questions q ON q.id = r.question_id
           WHERE ms.meeting_id = $1 ORDER BY ms.position, q.position"#,
        meeting.id,
    )
    .fetch_all(&mut *db)
    .await?;
    let responses: Vec<ResponseInfo> = rows
        .into_iter()
        .filter_map(|r| {
            Some(ResponseInfo {
                id: r.id,
                candidate: r.candidate,
                question: *question_index.get(r.question_number.as_str())?,
                purpose: r.purpose,
                released: r.released,
            })
        })
        .collect();

    let examiners = sqlx::query_as!(
        ExaminerInfo,
        r#"SELECT u.id, u.email, u.name, p.team_leader_id AS "team_leader: UserId"
           FROM meeting_participants p JOIN users u ON u.id = p.user_id
           WHERE p.meeting_id = $1 AND p.role IN ('examiner', 'team_leader') ORDER BY lower(u.name), u.email"#,
        meeting.id,
    )
    .fetch_all(&mut *db)
    .await?;

    let response_index = positions(responses.iter().map(|r| r.id));
    let defs = sqlx::query_as!(DefRow, "SELECT response_id, level, mark FROM definitive_marks WHERE meeting_id = $1", meeting.id)
        .fetch_all(&mut *db)
        .await?;
    let mut definitive = vec![None; responses.len()];
    for d in defs {
        if let Some(&i) = response_index.get(&d.response_id) {
            definitive[i] = Some(Def { level: d.level, mark: d.mark });
        }
    }
    Ok(MeetingData { questions, responses, examiners, cells: Vec::new(), definitive })
}

/// Each id's place in a list, by a hash quick on random ids.
fn positions<K: std::hash::Hash + Eq>(ids: impl Iterator<Item = K>) -> HashMap<K, usize, RandomState> {
    ids.enumerate().map(|(i, id)| (id, i)).collect()
}

/// Where a meeting's responses and markers are in its data: what a mark's
/// cell is found by.
struct Places {
    responses: HashMap<Uuid, usize, RandomState>,
    examiners: HashMap<Uuid, usize, RandomState>,
}

impl Places {
    fn of(data: &MeetingData) -> Places {
        Places { responses: positions(data.responses.iter().map(|r| r.id.0)), examiners: positions(data.examiners.iter().map(|e| e.id.0)) }
    }

    /// A response's place.
    fn response(&self, id: Uuid) -> Option<usize> {
        self.responses.get(&id).copied()
    }

    /// A marker's place.
    fn examiner(&self, id: Uuid) -> Option<usize> {
        self.examiners.get(&id).copied()
    }

    /// A (response, marker)'s cell's place.
    fn pair(&self, (response, examiner): (Uuid, Uuid)) -> Option<(usize, usize)> {
        Some((self.response(response)?, self.examiner(examiner)?))
    }

    /// A mark as a cell; None when its response or marker is not in the data.
    fn cell(&self, m: &MarkRow) -> Option<Cell> {
        let (response, examiner) = self.pair((m.response_id.0, m.examiner_id.0))?;
        Some(Cell { response, examiner, level: m.level, mark: m.mark, submitted: m.submitted })
    }
}

/// The marks of a meeting's (response, examiner) pairs as they are now: one query.
pub async fn marks_of(db: &mut PgConnection, meeting_id: MeetingId, pairs: &[(Uuid, Uuid)]) -> Result<Vec<MarkRow>, AppError> {
    let (responses, examiners): (Vec<Uuid>, Vec<Uuid>) = pairs.iter().copied().unzip();
    Ok(sqlx::query_as!(
        MarkRow,
        r#"SELECT m.response_id, m.examiner_id, m.level, m.mark, m.state = 'submitted' AS "submitted!"
           FROM unnest($2::uuid[], $3::uuid[]) AS p (response_id, examiner_id)
           JOIN marks m ON m.meeting_id = $1 AND m.response_id = p.response_id AND m.examiner_id = p.examiner_id"#,
        meeting_id as MeetingId,
        &responses,
        &examiners,
    )
    .fetch_all(&mut *db)
    .await?)
}

/// Responses and markers in a meeting's frame read again that were not in its data.
#[derive(Debug, Default, PartialEq)]
pub struct Newcomers {
    /// Responses (a script added).
    pub responses: Vec<Uuid>,
    /// Markers (someone joined, or came back).
    pub examiners: Vec<Uuid>,
}

impl Newcomers {
    /// No one new.
    pub fn is_empty(&self) -> bool {
        self.responses.is_empty() && self.examiners.is_empty()
    }
}

/// Every mark of a meeting on the newcomers' responses or by the newcomers: one query.
pub async fn marks_of_newcomers(db: &mut PgConnection, meeting_id: MeetingId, newcomers: &Newcomers) -> Result<Vec<MarkRow>, AppError> {
    Ok(sqlx::query_as!(
        MarkRow,
        r#"SELECT response_id, examiner_id, level, mark, state = 'submitted' AS "submitted!"
           FROM marks WHERE meeting_id = $1 AND (response_id = ANY($2) OR examiner_id = ANY($3))"#,
        meeting_id as MeetingId,
        &newcomers.responses,
        &newcomers.examiners,
    )
    .fetch_all(&mut *db)
    .await?)
}

/// The definitive marks of some of a meeting's responses as they are now: one query.
pub async fn definitive_of(db: &mut PgConnection, meeting_id: MeetingId, responses: &[Uuid]) -> Result<Vec<DefRow>, AppError> {
    Ok(sqlx::query_as!(
        DefRow,
        "SELECT response_id, level, mark FROM definitive_marks WHERE meeting_id = $1 AND response_id = ANY($2)",
        meeting_id as MeetingId,
        responses,
    )
    .fetch_all(&mut *db)
    .await?)
}

/// What to write into a meeting's data: marks by (response, examiner) index,
/// and definitive marks by response index — each as it is now, or None where
/// there is none any more.
pub struct Patch {
    cells: HashMap<(usize, usize), Option<Cell>>,
    definitive: Vec<(usize, Option<Def>)>,
}

impl MeetingData {
    /// What `marks` and `definitive` (those `changed` names, as they are now)
    /// change; None when a response or examiner named is not in the data.
    /// When the frame was read again (`changed.frame`, this data being it),
    /// its definitive marks are already as they are now: only marks are patched.
    pub fn patch(&self, changed: &crate::live::Changed, marks: Vec<MarkRow>, definitive: Vec<DefRow>) -> Option<Patch> {
        let places = Places::of(self);
        let mut cells = HashMap::with_capacity(changed.marks.len());
        for &pair in &changed.marks {
            cells.insert(places.pair(pair)?, None);
        }
        for row in marks {
            let cell = places.cell(&row)?;
            cells.insert((cell.response, cell.examiner), Some(cell));
        }
        let mut defs: HashMap<usize, Option<Def>> = HashMap::new();
        if !changed.frame {
            for response in &changed.definitive {
                defs.insert(places.response(*response)?, None);
            }
        }
        for row in definitive {
            defs.insert(places.response(row.response_id.0)?, Some(Def { level: row.level, mark: row.mark }));
        }
        Some(Patch { cells, definitive: defs.into_iter().collect() })
    }

    /// This data's marks in `frame`, the meeting's frame read again after a
    /// change that was not to its marks (marks change only with a `mark`
    /// event, or go with a response or marker leaving the meeting), and who
    /// is in the frame but not in this data (joined since): their marks were
    /// never read.
    pub fn reframed(&self, mut frame: MeetingData) -> (MeetingData, Newcomers) {
        let (theirs, ours) = (Places::of(&frame), Places::of(self));
        let response_map: Vec<Option<usize>> = self.responses.iter().map(|r| theirs.response(r.id.0)).collect();
        let examiner_map: Vec<Option<usize>> = self.examiners.iter().map(|e| theirs.examiner(e.id.0)).collect();
        let newcomers = Newcomers {
            responses: frame.responses.iter().map(|r| r.id.0).filter(|id| ours.response(*id).is_none()).collect(),
            examiners: frame.examiners.iter().map(|e| e.id.0).filter(|id| ours.examiner(*id).is_none()).collect(),
        };
        frame.cells = self
            .cells
            .iter()
            .filter_map(|c| Some(Cell { response: response_map[c.response]?, examiner: examiner_map[c.examiner]?, ..*c }))
            .collect();
        (frame, newcomers)
    }

    /// Adds the marks of newcomers (none of which is in the data yet).
    pub fn add_marks(&mut self, rows: Vec<MarkRow>) {
        let places = Places::of(self);
        self.cells.extend(rows.iter().filter_map(|m| places.cell(m)));
    }

    /// Writes a patch into the data: one pass over the marks.
    pub fn apply(&mut self, Patch { mut cells, definitive }: Patch) {
        self.cells.retain_mut(|cell| match cells.remove(&(cell.response, cell.examiner)) {
            Some(Some(now)) => {
                *cell = now;
                true
            }
            Some(None) => false,
            None => true,
        });
        self.cells.extend(cells.into_values().flatten());
        for (response, def) in definitive {
            self.definitive[response] = def;
        }
    }
}

/// One examiner's mark in full, with the definitive mark beside it: a row of
/// the "every mark" export.
#[derive(Debug, Clone)]
pub struct FullMark {
    /// Candidate number.
    pub candidate: String,
    /// Question number.
    pub question: String,
    /// Why the script is in the meeting.
    pub purpose: Purpose,
    /// Examiner's email.
    pub email: String,
    /// Examiner's name.
    pub name: String,
    /// Draft or submitted.
    pub state: MarkState,
    /// Level.
    pub level: Option<i32>,
    /// Mark (the total, for a question marked per objective).
    pub mark: i32,
    /// Level and mark per objective.
    pub parts: Json<Vec<Part>>,
    /// The examiner's rationale.
    pub comment: String,
    /// The definitive level.
    pub definitive_level: Option<i32>,
    /// The definitive mark.
    pub definitive_mark: Option<i32>,
    /// The definitive mark's parts.
    pub definitive_parts: Option<Json<Vec<Part>>>,
    /// The meeting's tolerance for the question, if set (else the default applies).
    pub tolerance: Option<i32>,
    /// The question's maximum mark.
    pub max_mark: i32,
}

/// Every mark of the meeting in full, in marking order then by examiner: one query.
pub async fn full_marks(db: &mut PgConnection, meeting: &Meeting) -> Result<Vec<FullMark>, AppError> {
    Ok(sqlx::query_as!(
        FullMark,
        r#"SELECT s.candidate, q.number AS question, ms.purpose AS "purpose: Purpose", u.email, u.name,
                  m.state AS "state: MarkState", m.level, m.mark, m.parts AS "parts: Json<Vec<Part>>", m.comment,
                  d.level AS definitive_level, d.mark AS "definitive_mark?", d.parts AS "definitive_parts?: Json<Vec<Part>>",
                  t.tolerance AS "tolerance?", q.max_mark
           FROM marks m JOIN users u ON u.id = m.examiner_id
           JOIN responses r ON r.id = m.response_id JOIN scripts s ON s.id = r.script_id JOIN questions q ON q.id = r.question_id
           JOIN meeting_scripts ms ON ms.meeting_id = m.meeting_id AND ms.script_id = s.id
           LEFT JOIN definitive_marks d ON d.meeting_id = m.meeting_id AND d.response_id = m.response_id
           LEFT JOIN meeting_tolerances t ON t.meeting_id = m.meeting_id AND t.question_id = q.id
           WHERE m.meeting_id = $1
           ORDER BY ms.position, q.position, lower(u.name), u.email"#,
        meeting.id,
    )
    .fetch_all(&mut *db)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn examiner(id: Uuid) -> ExaminerInfo {
        ExaminerInfo { id: UserId(id), email: format!("{id}@board.example"), name: id.to_string(), team_leader: None }
    }

    fn response(id: Uuid) -> ResponseInfo {
        ResponseInfo { id: ResponseId(id), candidate: "0001".into(), question: 0, purpose: Purpose::Practice, released: false }
    }

    #[test]
    fn a_patch_changes_adds_and_removes_only_the_marks_named() {
        let (r0, r1, e0, e1) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let cell = |response, examiner, mark| Cell { response, examiner, level: Some(1), mark, submitted: true };
        let mut data = MeetingData {
            responses: vec![response(r0), response(r1)],
            examiners: vec![examiner(e0), examiner(e1)],
            cells: vec![cell(0, 0, 5), cell(0, 1, 6), cell(1, 0, 7)],
            definitive: vec![None, None],
            ..MeetingData::default()
        };
        let row = |r, e, mark| MarkRow { response_id: ResponseId(r), examiner_id: UserId(e), level: Some(2), mark, submitted: false };
        // (r0, e0) changed, (r1, e1) is new, (r1, e0) is gone; (r0, e1) untouched.
        let pairs = [(r0, e0), (r1, e1), (r1, e0)];
        let changed = crate::live::Changed { marks: pairs.to_vec(), definitive: vec![r1], frame: false };
        let def = DefRow { response_id: ResponseId(r1), level: Some(1), mark: 4 };
        let patch = data.patch(&changed, vec![row(r0, e0, 9), row(r1, e1, 3)], vec![def]).expect("every pair is known");
        data.apply(patch);
        let mut now: Vec<(usize, usize, i32, bool)> = data.cells.iter().map(|c| (c.response, c.examiner, c.mark, c.submitted)).collect();
        now.sort();
        assert_eq!(now, vec![(0, 0, 9, false), (0, 1, 6, true), (1, 1, 3, false)]);
        assert_eq!(data.definitive, vec![None, Some(Def { level: Some(1), mark: 4 })]);
        // With the frame read again, its definitive marks are current: a
        // changed definitive mark is not read, nor blanked.
        let reframed = crate::live::Changed { marks: vec![], definitive: vec![r1], frame: true };
        let patch = data.patch(&reframed, vec![], vec![]).expect("every response is known");
        data.apply(patch);
        assert_eq!(data.definitive, vec![None, Some(Def { level: Some(1), mark: 4 })]);
        // Someone the data does not know: everything must be read again.
        let stranger = crate::live::Changed { marks: vec![(r0, Uuid::new_v4())], ..Default::default() };
        assert!(data.patch(&stranger, vec![], vec![]).is_none());
    }

    #[test]
    fn marks_are_kept_in_a_frame_read_again_and_newcomers_named() {
        let (r0, r1, e0, e1) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let cell = |response, examiner, mark| Cell { response, examiner, level: None, mark, submitted: true };
        let data = MeetingData {
            responses: vec![response(r0), response(r1)],
            examiners: vec![examiner(e0), examiner(e1)],
            cells: vec![cell(0, 0, 5), cell(0, 1, 6), cell(1, 0, 7), cell(1, 1, 8)],
            definitive: vec![None, None],
            ..MeetingData::default()
        };
        // Responses now in the other order (one released, say); examiner 0 has left.
        let frame = MeetingData {
            responses: vec![ResponseInfo { released: true, ..response(r1) }, response(r0)],
            examiners: vec![examiner(e1)],
            definitive: vec![Some(Def { level: None, mark: 8 }), None],
            ..MeetingData::default()
        };
        let (now, newcomers) = data.reframed(frame.clone());
        assert!(newcomers.is_empty());
        let mut cells: Vec<(usize, usize, i32)> = now.cells.iter().map(|c| (c.response, c.examiner, c.mark)).collect();
        cells.sort();
        assert_eq!(cells, vec![(0, 0, 8), (1, 0, 6)], "examiner 1's marks, in the responses' new places");
        assert!(now.responses[0].released);
        assert_eq!(now.definitive[0], Some(Def { level: None, mark: 8 }));
        // Someone joined, and a script was added: their marks were never read.
        let (e2, r2) = (Uuid::new_v4(), Uuid::new_v4());
        let joined = MeetingData {
            examiners: vec![examiner(e1), examiner(e2)],
            responses: vec![response(r0), response(r2)],
            definitive: vec![None, None],
            ..frame
        };
        let (mut now, newcomers) = data.reframed(joined);
        assert_eq!(newcomers, Newcomers { responses: vec![r2], examiners: vec![e2] });
        assert_eq!(now.cells.len(), 1, "examiner 1 on response 0");
        let row = |r, e, mark| MarkRow { response_id: ResponseId(r), examiner_id: UserId(e), level: None, mark, submitted: true };
        now.add_marks(vec![row(r2, e1, 3), row(r0, e2, 4), row(r2, e2, 5)]);
        let mut cells: Vec<(usize, usize, i32)> = now.cells.iter().map(|c| (c.response, c.examiner, c.mark)).collect();
        cells.sort();
        assert_eq!(cells, vec![(0, 0, 6), (0, 1, 4), (1, 0, 3), (1, 1, 5)]);
    }
}
