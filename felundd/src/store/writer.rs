//! The single writer thread with group commit.
//!
//! Jobs arrive on a channel. The thread takes the first job, then everything else
//! already queued (up to [`MAX_BATCH`]), runs each inside its own SAVEPOINT of one
//! transaction, commits once, and only then completes every job's future. A failing
//! job is rolled back to its savepoint alone. If the commit itself fails, every job
//! in the batch gets the error: nothing is acknowledged that is not on disk.

use std::sync::mpsc;
use std::thread;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::{StoreError, StoreResult};

/// Upper bound on jobs per transaction, so one commit never grows without limit.
const MAX_BATCH: usize = 512;

/// A queued write: runs against the connection and returns whether it succeeded
/// plus a completion to call with the commit's outcome.
type Job = Box<dyn FnOnce(&Connection) -> (bool, Completion) + Send>;
type Completion = Box<dyn FnOnce(Option<&StoreError>) + Send>;

/// Handle to the writer thread.
#[derive(Clone)]
pub(super) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread owning `conn`. The thread ends when every handle
    /// is dropped.
    pub(super) fn spawn(conn: Connection) -> Self {
        let (jobs, rx) = mpsc::channel::<Job>();
        thread::Builder::new()
            .name("felund-store-writer".into())
            .spawn(move || run(conn, rx))
            .map(|_| ())
            .unwrap_or_else(|e| tracing::error!("cannot start store writer thread: {e}"));
        Self { jobs }
    }

    /// Queues `f` and waits for its transaction to commit.
    pub(super) async fn run<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<StoreResult<T>>();
        let job: Job = Box::new(move |conn| {
            let result = f(conn);
            let ok = result.is_ok();
            let done: Completion = Box::new(move |commit_err| {
                let outcome = match (result, commit_err) {
                    (Ok(v), None) => Ok(v),
                    (Ok(_), Some(e)) => Err(StoreError::Corrupt(format!("commit failed: {e}"))),
                    (Err(e), _) => Err(e),
                };
                // The caller may have gone away (client disconnected); that is fine.
                let _ = tx.send(outcome);
            });
            (ok, done)
        });
        self.jobs.send(job).map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

fn run(mut conn: Connection, rx: mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(&mut conn, batch);
    }
}

fn run_batch(conn: &mut Connection, batch: Vec<Job>) {
    let tx = match conn.transaction() {
        Ok(tx) => tx,
        Err(e) => {
            let err = StoreError::Sqlite(e);
            tracing::error!("cannot begin transaction: {err}");
            // Run nothing; tell every waiter.
            for job in batch {
                fail_unrun(job, &err);
            }
            return;
        }
    };
    let mut completions = Vec::with_capacity(batch.len());
    for job in batch {
        if let Err(e) = tx.execute_batch("SAVEPOINT job") {
            let err = StoreError::Sqlite(e);
            fail_unrun(job, &err);
            continue;
        }
        let (ok, done) = job(&tx);
        let end = if ok {
            "RELEASE job"
        } else {
            "ROLLBACK TO job; RELEASE job"
        };
        if let Err(e) = tx.execute_batch(end) {
            tracing::error!("savepoint handling failed: {e}");
        }
        completions.push(done);
    }
    let commit = tx.commit().err().map(StoreError::Sqlite);
    if let Some(e) = &commit {
        tracing::error!("commit failed: {e}");
    }
    for done in completions {
        done(commit.as_ref());
    }
}

/// Completes a job that could not run, without running its closure.
fn fail_unrun(job: Job, err: &StoreError) {
    // We must not run the job's SQL, but we need its completion to reply: running it
    // against an in-memory scratch connection would be wrong, so we drop it. Dropping
    // the job drops its oneshot sender, and the waiter sees `StoreError::Closed`.
    tracing::warn!("dropping a write that could not start: {err}");
    drop(job);
}
