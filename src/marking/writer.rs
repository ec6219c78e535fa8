//! Group commit for the saves of practice marks: the saves that arrive while
//! a statement is running wait for it to end, then go together in the next
//! one ([`store::write_marks`]), each judged alone.
//!
//! Why: nearly all of what PostgreSQL spends on a save is per statement and
//! per commit (parsing, planning and starting the executor, the round trip,
//! waking the backend, flushing the WAL), not per row. Examiners autosaving
//! at the same moment therefore cost about as much as one. No save waits for
//! a timer: a lone save goes at once, and a busy moment makes bigger groups.
//!
//! A save is acknowledged only after the statement holding it has committed.
//! The statement runs on the writer's own task, so a request cancelled while
//! it waits (its client gone) cannot leave it half done or strand a
//! connection in a transaction.

use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::{Mutex, mpsc, oneshot};

use super::store::{self, MarkWrite, WriteOutcome};
use crate::error::AppError;

/// Most saves in one statement: enough for every examiner of a busy moment,
/// few enough that the statement stays short.
const MAX_GROUP: usize = 64;

/// Statements running at once: one being written while another commits.
const WRITERS: usize = 2;

/// Saves waiting for a writer, beyond which a save waits to be queued.
const QUEUE: usize = 1024;

/// What a save is answered with: its outcome, with the save handed back to be judged.
type Answer = Result<(MarkWrite, WriteOutcome), AppError>;

struct Job {
    write: MarkWrite,
    reply: oneshot::Sender<Answer>,
}

/// Where saves are queued for the writers; cloned into every request's state.
#[derive(Clone)]
pub struct MarkWriter {
    queue: mpsc::Sender<Job>,
}

impl MarkWriter {
    /// Starts the writers on the pool; they stop when the last clone of the
    /// writer is dropped.
    pub fn start(db: PgPool) -> MarkWriter {
        let (queue, jobs) = mpsc::channel(QUEUE);
        let jobs = Arc::new(Mutex::new(jobs));
        for _ in 0..WRITERS {
            tokio::spawn(run(db.clone(), jobs.clone()));
        }
        MarkWriter { queue }
    }

    /// Writes one save with whatever others are waiting; its outcome once the
    /// statement has committed, with the save.
    pub(super) async fn write(&self, write: MarkWrite) -> Answer {
        let (reply, outcome) = oneshot::channel();
        self.queue.send(Job { write, reply }).await.map_err(|_| AppError::Unavailable)?;
        outcome.await.map_err(|_| AppError::Internal(anyhow::anyhow!("the mark writer stopped before answering")))?
    }
}

/// One writer: takes the first save waiting and every other already there
/// (up to [`MAX_GROUP`]), writes them, answers each, and again.
async fn run(db: PgPool, jobs: Arc<Mutex<mpsc::Receiver<Job>>>) {
    loop {
        let mut group = Vec::new();
        {
            let mut jobs = jobs.lock().await;
            let Some(first) = jobs.recv().await else { return };
            group.push(first);
            while group.len() < MAX_GROUP
                && let Ok(job) = jobs.try_recv()
            {
                group.push(job);
            }
        }
        let mut outage = false;
        for round in rounds(group, |a, b| a.write.same_mark_as(&b.write)) {
            if outage {
                unavailable(round);
            } else {
                outage = write_group(&db, round).await;
            }
        }
        // The database is not answering: the saves queued meanwhile would each
        // wait for it in turn, so they are answered now, as their senders
        // would have been (503, nothing written); later ones try again.
        if outage && let Ok(mut jobs) = jobs.try_lock() {
            let mut waiting = Vec::new();
            while let Ok(job) = jobs.try_recv() {
                waiting.push(job);
            }
            unavailable(waiting);
        }
    }
}

/// Answers saves that were not written because the database is not answering.
fn unavailable(jobs: Vec<Job>) {
    for job in jobs {
        let _ = job.reply.send(Err(AppError::Unavailable));
    }
}

/// Splits a group so that no statement holds two saves of the same mark by
/// the same caller; each save keeps its place after the earlier ones.
fn rounds<T>(group: Vec<T>, same: impl Fn(&T, &T) -> bool) -> Vec<Vec<T>> {
    let mut rounds: Vec<Vec<T>> = Vec::new();
    for item in group {
        // After the last round holding the same mark, so saves of it stay in order.
        let after = rounds.iter().rposition(|r| r.iter().any(|other| same(other, &item))).map_or(0, |i| i + 1);
        match rounds.get_mut(after) {
            Some(round) => round.push(item),
            None => rounds.push(vec![item]),
        }
    }
    rounds
}

/// Writes a group in one statement and answers each save; true when the
/// database is not answering. When the statement fails for anything but an
/// outage (a deadlock with another group, a text PostgreSQL refuses), each
/// save is written again alone, so one save's failure is its own.
async fn write_group(db: &PgPool, group: Vec<Job>) -> bool {
    let (writes, replies): (Vec<MarkWrite>, Vec<_>) = group.into_iter().map(|j| (j.write, j.reply)).unzip();
    let written = match db.acquire().await {
        Ok(mut conn) => store::write_marks(&mut conn, &writes).await,
        Err(err) => Err(err),
    };
    match written {
        Ok(outcomes) if outcomes.len() == writes.len() => {
            for ((write, reply), outcome) in writes.into_iter().zip(replies).zip(outcomes) {
                let _ = reply.send(Ok((write, outcome)));
            }
            false
        }
        Ok(_) => {
            for reply in replies {
                let _ = reply.send(Err(AppError::Internal(anyhow::anyhow!("a save's statement did not answer every save"))));
            }
            false
        }
        Err(err) if writes.len() > 1 && !crate::error::is_outage(&err) => {
            tracing::debug!(error = %err, saves = writes.len(), "a group of saves failed: each is written alone");
            let mut outage = false;
            for (write, reply) in writes.into_iter().zip(replies) {
                let answer = if outage { Err(AppError::Unavailable) } else { write_alone(db, write).await };
                outage = matches!(answer, Err(AppError::Unavailable));
                let _ = reply.send(answer);
            }
            outage
        }
        Err(err) => {
            let outage = crate::error::is_outage(&err);
            let mut replies = replies.into_iter();
            if let Some(reply) = replies.next() {
                // Its own failure, or the outage, logged once as any request meeting it is.
                let _ = reply.send(Err(AppError::from(err)));
            }
            for reply in replies {
                let _ = reply.send(Err(AppError::Unavailable));
            }
            outage
        }
    }
}

/// One save in a statement of its own.
async fn write_alone(db: &PgPool, write: MarkWrite) -> Answer {
    let mut conn = db.acquire().await?;
    let outcome = store::write_one(&mut conn, &write).await?;
    Ok((write, outcome))
}

#[cfg(test)]
mod tests {
    use super::rounds;

    #[test]
    fn saves_of_the_same_mark_go_in_order_in_separate_statements() {
        // (mark, arrival): marks 1 and 2 saved twice, mark 1 three times.
        let group = vec![(1, 0), (2, 1), (1, 2), (3, 3), (1, 4), (2, 5), (4, 6)];
        let split = rounds(group, |a, b| a.0 == b.0);
        assert_eq!(split, vec![vec![(1, 0), (2, 1), (3, 3), (4, 6)], vec![(1, 2), (2, 5)], vec![(1, 4)]]);
        assert_eq!(rounds(vec![(5, 0)], |a: &(i32, i32), b| a.0 == b.0), vec![vec![(5, 0)]]);
    }
}
