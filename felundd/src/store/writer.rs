//! The single writer thread with group commit.
//!
//! Jobs arrive on a channel. The thread takes the first job, then everything else
//! already queued (up to [`MAX_BATCH`]), runs them in queue order inside one
//! transaction, commits once, and only then completes every job's future. If the
//! commit itself fails, every job in the batch gets the error: nothing is
//! acknowledged that is not on disk.
//!
//! A failing job must not take the others down with it, yet a SAVEPOINT per job is
//! what made ingest slow: every savepoint makes SQLite copy each page the job touches
//! into a sub-journal, and makes FTS5 flush its pending index as a tiny segment. So
//! there are two kinds of job:
//!
//! - *repeatable* jobs ([`Writer::run_repeatable`]: sends and received messages, the
//!   hot path) may run more than once and touch nothing but the connection. A run of
//!   them shares one savepoint — none at all when the whole batch is repeatable. If
//!   one fails, the run is rolled back and every job of it runs again in its own
//!   savepoint, so the failure is rolled back alone as before;
//! - every other job runs once, in its own savepoint.

use std::sync::mpsc;
use std::thread;

use rusqlite::{Connection, Transaction};
use tokio::sync::oneshot;

use super::{StoreError, StoreResult};

/// Upper bound on jobs per transaction, so one commit never grows without limit.
const MAX_BATCH: usize = 512;

/// A queued write, type-erased.
trait Job: Send {
    /// Whether [`Job::attempt`] may be called again after a rolled-back attempt.
    fn repeatable(&self) -> bool;
    /// Runs the job's SQL; returns whether it succeeded.
    fn attempt(&mut self, conn: &Connection) -> bool;
    /// Reports the last attempt's outcome, given the commit's.
    fn complete(self: Box<Self>, commit_err: Option<&StoreError>);
}

struct Task<T, F> {
    f: Option<F>,
    repeatable: bool,
    result: Option<StoreResult<T>>,
    tx: oneshot::Sender<StoreResult<T>>,
}

impl<T, F> Job for Task<T, F>
where
    T: Send + 'static,
    F: FnMut(&Connection) -> StoreResult<T> + Send + 'static,
{
    fn repeatable(&self) -> bool {
        self.repeatable
    }

    fn attempt(&mut self, conn: &Connection) -> bool {
        let result = match self.f.as_mut() {
            Some(f) => f(conn),
            None => Err(StoreError::Corrupt("a write job ran twice".into())),
        };
        if !self.repeatable {
            self.f = None;
        }
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn complete(self: Box<Self>, commit_err: Option<&StoreError>) {
        let outcome = match (self.result, commit_err) {
            (Some(Ok(v)), None) => Ok(v),
            (Some(Ok(_)), Some(e)) => Err(StoreError::Corrupt(format!("commit failed: {e}"))),
            (Some(Err(e)), _) => Err(e),
            (None, _) => Err(StoreError::Closed),
        };
        // The caller may have gone away (client disconnected); that is fine.
        let _ = self.tx.send(outcome);
    }
}

/// Handle to the writer thread.
#[derive(Clone)]
pub(super) struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
}

impl Writer {
    /// Starts the writer thread owning `conn`. The thread ends when every handle
    /// is dropped.
    pub(super) fn spawn(conn: Connection) -> Self {
        let (jobs, rx) = mpsc::channel::<Box<dyn Job>>();
        thread::Builder::new()
            .name("felund-store-writer".into())
            .spawn(move || run(conn, rx))
            .map(|_| ())
            .unwrap_or_else(|e| tracing::error!("cannot start store writer thread: {e}"));
        Self { jobs }
    }

    /// Queues `f` (run once, in its own savepoint) and waits for its transaction to
    /// commit.
    pub(super) fn run<T, F>(
        &self,
        f: F,
    ) -> impl std::future::Future<Output = StoreResult<T>> + Send + 'static
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let mut f = Some(f);
        self.queue(
            move |conn: &Connection| match f.take() {
                Some(f) => f(conn),
                None => Err(StoreError::Corrupt("a write job ran twice".into())),
            },
            false,
        )
    }

    /// Queues a repeatable `f` (see the module docs: it may run again after a
    /// rollback, so it must touch nothing but the connection) and waits for its
    /// transaction to commit. The job is queued before this returns its future, so
    /// calls made in some order are committed in that order.
    pub(super) fn run_repeatable<T, F>(
        &self,
        f: F,
    ) -> impl std::future::Future<Output = StoreResult<T>> + Send + 'static
    where
        T: Send + 'static,
        F: FnMut(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.queue(f, true)
    }

    fn queue<T, F>(
        &self,
        f: F,
        repeatable: bool,
    ) -> impl std::future::Future<Output = StoreResult<T>> + Send + 'static
    where
        T: Send + 'static,
        F: FnMut(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<StoreResult<T>>();
        let job = Box::new(Task {
            f: Some(f),
            repeatable,
            result: None,
            tx,
        });
        let queued = self.jobs.send(job).map_err(|_| StoreError::Closed);
        async move {
            queued?;
            rx.await.map_err(|_| StoreError::Closed)?
        }
    }
}

fn run(mut conn: Connection, rx: mpsc::Receiver<Box<dyn Job>>) {
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

/// Begins the batch's transaction; if that fails, runs nothing and tells every
/// waiter why.
fn begin<'c>(conn: &'c mut Connection, batch: &mut Vec<Box<dyn Job>>) -> Option<Transaction<'c>> {
    match conn.transaction() {
        Ok(tx) => Some(tx),
        Err(e) => {
            let err = StoreError::Sqlite(e);
            tracing::error!("cannot begin transaction: {err}");
            for job in batch.drain(..) {
                job.complete(Some(&err));
            }
            None
        }
    }
}

fn run_batch(conn: &mut Connection, mut batch: Vec<Box<dyn Job>>) {
    let Some(tx) = begin(conn, &mut batch) else {
        return;
    };
    if batch.iter().all(|j| j.repeatable()) {
        // The common case: no savepoint at all. On a failure, roll everything back
        // and run the batch again the careful way.
        if !batch.iter_mut().all(|j| j.attempt(&tx)) {
            drop(tx);
            return run_careful(conn, batch);
        }
    } else {
        let mut start = 0;
        while start < batch.len() {
            let end = if batch[start].repeatable() {
                start + batch[start..].iter().take_while(|j| j.repeatable()).count()
            } else {
                start + 1
            };
            run_group(&tx, &mut batch[start..end]);
            start = end;
        }
    }
    finish(tx, batch);
}

/// Runs `jobs` (a run of repeatable jobs, or one other job) in one savepoint; if
/// a repeatable one fails, runs each again in its own savepoint.
fn run_group(conn: &Connection, jobs: &mut [Box<dyn Job>]) {
    if jobs.len() == 1 || !jobs[0].repeatable() {
        for job in jobs {
            in_savepoint(conn, job.as_mut());
        }
        return;
    }
    if let Err(e) = conn.execute_batch("SAVEPOINT jobs") {
        tracing::error!("cannot open a savepoint: {e}");
        return;
    }
    let ok = jobs.iter_mut().all(|j| j.attempt(conn));
    let end = if ok {
        "RELEASE jobs"
    } else {
        "ROLLBACK TO jobs; RELEASE jobs"
    };
    if let Err(e) = conn.execute_batch(end) {
        tracing::error!("savepoint handling failed: {e}");
    }
    if !ok {
        for job in jobs {
            in_savepoint(conn, job.as_mut());
        }
    }
}

/// After a repeatable batch failed and was rolled back: every job again, each in
/// its own savepoint of a fresh transaction.
fn run_careful(conn: &mut Connection, mut batch: Vec<Box<dyn Job>>) {
    let Some(tx) = begin(conn, &mut batch) else {
        return;
    };
    for job in batch.iter_mut() {
        in_savepoint(&tx, job.as_mut());
    }
    finish(tx, batch);
}

/// One attempt of `job` in its own savepoint, rolled back alone if it fails.
fn in_savepoint(conn: &Connection, job: &mut dyn Job) {
    if let Err(e) = conn.execute_batch("SAVEPOINT job") {
        tracing::error!("cannot open a savepoint: {e}");
        return;
    }
    let end = if job.attempt(conn) {
        "RELEASE job"
    } else {
        "ROLLBACK TO job; RELEASE job"
    };
    if let Err(e) = conn.execute_batch(end) {
        tracing::error!("savepoint handling failed: {e}");
    }
}

/// Commits and completes every job with the outcome.
fn finish(tx: rusqlite::Transaction<'_>, batch: Vec<Box<dyn Job>>) {
    let commit = tx.commit().err().map(StoreError::Sqlite);
    if let Some(e) = &commit {
        tracing::error!("commit failed: {e}");
    }
    for job in batch {
        job.complete(commit.as_ref());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A writer on a fresh file, a reader on it, and the directory holding it.
    fn writer() -> (Writer, Mutex<Connection>, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("w.sqlite");
        let conn = Connection::open(&path).expect("db");
        conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (v INTEGER PRIMARY KEY);")
            .expect("schema");
        let reader = Connection::open(&path).expect("reader");
        (Writer::spawn(conn), Mutex::new(reader), dir)
    }

    fn stored(reader: &Mutex<Connection>) -> Vec<i64> {
        let conn = reader.lock().expect("reader");
        let mut stmt = conn.prepare("SELECT v FROM t ORDER BY v").expect("stmt");
        let rows = stmt.query_map([], |r| r.get(0)).expect("query");
        rows.collect::<Result<_, _>>().expect("rows")
    }

    fn insert(conn: &Connection, v: i64) -> StoreResult<()> {
        conn.execute("INSERT INTO t (v) VALUES (?1)", [v])?;
        Ok(())
    }

    /// A job that inserts `v` and then fails: its insert must not survive.
    fn insert_then_fail(conn: &Connection, v: i64) -> StoreResult<()> {
        insert(conn, v)?;
        Err(StoreError::Corrupt(format!("job {v} fails on purpose")))
    }

    /// Queues a job that holds the writer thread until the returned sender fires, so
    /// that everything queued meanwhile lands in the next batch together.
    fn hold(w: &Writer) -> std::sync::mpsc::Sender<()> {
        let (go, wait) = std::sync::mpsc::channel::<()>();
        drop(w.run(move |_| {
            let _ = wait.recv();
            Ok(())
        }));
        go
    }

    #[tokio::test]
    async fn a_failing_repeatable_job_is_rolled_back_alone_and_its_batch_commits() {
        let (w, reader, _dir) = writer();
        let go = hold(&w);
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&runs);
        let a = w.run_repeatable(move |c| {
            counted.fetch_add(1, Ordering::SeqCst);
            insert(c, 1)
        });
        let bad = w.run_repeatable(|c| insert_then_fail(c, 2));
        let b = w.run_repeatable(|c| insert(c, 3));
        go.send(()).expect("release the writer");
        assert!(a.await.is_ok());
        assert!(bad.await.is_err());
        assert!(b.await.is_ok());
        assert_eq!(stored(&reader), [1, 3]);
        // The failure made the batch run again, each job in its own savepoint.
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn repeatable_jobs_without_failures_run_once_in_queue_order() {
        let (w, reader, _dir) = writer();
        let go = hold(&w);
        let runs = Arc::new(AtomicUsize::new(0));
        let order = Arc::new(Mutex::new(Vec::new()));
        let futures: Vec<_> = (1..=20)
            .map(|v| {
                let (runs, order) = (Arc::clone(&runs), Arc::clone(&order));
                w.run_repeatable(move |c| {
                    runs.fetch_add(1, Ordering::SeqCst);
                    order.lock().expect("order").push(v);
                    insert(c, v)
                })
            })
            .collect();
        go.send(()).expect("release the writer");
        for f in futures {
            assert!(f.await.is_ok());
        }
        assert_eq!(runs.load(Ordering::SeqCst), 20);
        assert_eq!(*order.lock().expect("order"), (1..=20).collect::<Vec<_>>());
        assert_eq!(stored(&reader), (1..=20).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn in_a_mixed_batch_each_failure_is_rolled_back_alone() {
        let (w, reader, _dir) = writer();
        let go = hold(&w);
        let a = w.run_repeatable(|c| insert(c, 1));
        let once_bad = w.run(|c| insert_then_fail(c, 2));
        let b = w.run_repeatable(|c| insert(c, 3));
        let bad = w.run_repeatable(|c| insert_then_fail(c, 4));
        let c = w.run(|c| insert(c, 5));
        go.send(()).expect("release the writer");
        assert!(a.await.is_ok());
        assert!(once_bad.await.is_err());
        assert!(b.await.is_ok());
        assert!(bad.await.is_err());
        assert!(c.await.is_ok());
        assert_eq!(stored(&reader), [1, 3, 5]);
    }
}
