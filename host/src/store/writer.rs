//! Group commit: one thread owns every redb write transaction.
//!
//! Callers hand the writer an operation (a closure over a write transaction)
//! and await its acknowledgement. The writer takes everything pending into
//! one transaction and acknowledges each operation only after that
//! transaction committed (durable before ack, one sync per batch, as
//! databases do with group commit). Reads never pass through here.
//!
//! | rule | why |
//! |---|---|
//! | an operation is a pure function of the transaction (`FnMut`) | when a batch fails, each operation is re-run alone in its own transaction, so one bad operation fails only its caller |
//! | at most [`MAX_BATCH`] operations per transaction | bounds the work lost to one failing commit and the latency of the first caller |
//! | a batch of [`SIBLINGS`] or more waits up to [`COMMIT_DELAY`] until it holds [`ENOUGH`]; a smaller one commits at once | under load one sync then covers more writes (a third less writer CPU per message); a lone write never waits |
//! | the thread ends when the last sender is dropped, after draining | [`super::Store`]'s `Drop` joins it, so the file is closed when the store is |

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use redb::{Database, WriteTransaction};
use tokio::sync::oneshot;

use super::{StoreError, db};

/// Largest number of operations folded into one transaction.
const MAX_BATCH: usize = 512;

/// A batch of at least this many operations shows the store is busy: the
/// writer then waits up to [`COMMIT_DELAY`] for more before committing.
const SIBLINGS: usize = 4;

/// A busy batch stops waiting once it holds this many operations.
const ENOUGH: usize = 24;

/// The longest a busy writer waits for more operations to share its
/// commit, in [`DELAY_SLICES`] naps.
///
/// Measured (`e2e --profile 8`, 50 users, interleaved with the build
/// without a delay; host CPU per message): a fixed 2 ms wait took the
/// assistant from 0.34–0.36 to 0.28–0.29 ms but the echo agent, whose
/// messages make three writes one after another, from 5,200 to 3,300
/// replies/s. Waiting only until [`ENOUGH`] operations keeps echo at
/// 5,360–5,470 replies/s (0.200 → 0.175–0.181 ms) and the assistant at
/// 0.27–0.29 ms, at the same replies/s and p99.
const COMMIT_DELAY: Duration = Duration::from_millis(2);
const DELAY_SLICES: u32 = 8;

type OpResult = Result<(), StoreError>;

/// Where a submitted operation's result arrives.
pub(super) type Ack<T> = oneshot::Receiver<Result<T, StoreError>>;

/// One queued write with its acknowledgement.
pub(super) trait Op: Send {
    fn apply(&mut self, tx: &WriteTransaction) -> OpResult;
    fn complete(self: Box<Self>, committed: OpResult);
}

struct TypedOp<T, F> {
    f: F,
    out: Option<T>,
    ack: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Op for TypedOp<T, F>
where
    T: Send,
    F: FnMut(&WriteTransaction) -> Result<T, StoreError> + Send,
{
    fn apply(&mut self, tx: &WriteTransaction) -> OpResult {
        self.out = Some((self.f)(tx)?);
        Ok(())
    }

    fn complete(self: Box<Self>, committed: OpResult) {
        let TypedOp { out, ack, .. } = *self;
        let result = committed.and_then(|()| {
            out.ok_or_else(|| StoreError::Db("write finished without a result".into()))
        });
        // The caller may have gone away (its task was cancelled): nothing to tell.
        let _ = ack.send(result);
    }
}

/// Sending half; cloned into every [`super::Store`] handle.
pub(super) struct Writer {
    tx: Option<mpsc::Sender<Box<dyn Op>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    pub(super) fn start(db: Arc<Database>) -> Result<Writer, StoreError> {
        let (tx, rx) = mpsc::channel::<Box<dyn Op>>();
        let thread = std::thread::Builder::new()
            .name("kennel-store".into())
            .spawn(move || run(&db, rx))
            .map_err(|e| StoreError::Db(format!("cannot start the store writer: {e}")))?;
        Ok(Writer {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Queues `f` and waits until the transaction holding it has committed.
    pub(super) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnMut(&WriteTransaction) -> Result<T, StoreError> + Send + 'static,
    {
        Self::acked(self.submit(f)?).await
    }

    /// Queues `f` and returns at once; the receiver gets its result once
    /// the transaction holding it has committed. Operations are applied in
    /// the order they were queued, so a later write's acknowledgement
    /// implies every earlier one is durable too.
    pub(super) fn submit<T, F>(&self, f: F) -> Result<Ack<T>, StoreError>
    where
        T: Send + 'static,
        F: FnMut(&WriteTransaction) -> Result<T, StoreError> + Send + 'static,
    {
        let (ack, rx) = oneshot::channel();
        let op = Box::new(TypedOp { f, out: None, ack });
        self.tx
            .as_ref()
            .ok_or_else(|| StoreError::Db("the store is closed".into()))?
            .send(op)
            .map_err(|_| StoreError::Db("the store writer has stopped".into()))?;
        Ok(rx)
    }

    /// Waits for a submitted operation's result.
    pub(super) async fn acked<T>(rx: Ack<T>) -> Result<T, StoreError> {
        rx.await
            .map_err(|_| StoreError::Db("the store writer has stopped".into()))?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(db: &Database, rx: mpsc::Receiver<Box<dyn Op>>) {
    let nap = COMMIT_DELAY / DELAY_SLICES;
    while let Some(batch) = next_batch(&rx, || std::thread::sleep(nap)) {
        commit(db, batch);
    }
}

/// Waits for the next operation and returns it with everything queued
/// behind it. When that is [`SIBLINGS`] or more (the store is busy), it
/// naps (`nap`, up to [`DELAY_SLICES`] times) and takes what arrived
/// meanwhile, until the batch holds [`ENOUGH`]. `None` once every sender is
/// gone and the queue is empty.
///
/// This is PostgreSQL's `commit_delay` / `commit_siblings`: under load a
/// commit waits briefly so that one sync covers more writes; a lone write
/// (the sequential case) never waits.
fn next_batch(rx: &mpsc::Receiver<Box<dyn Op>>, mut nap: impl FnMut()) -> Option<Vec<Box<dyn Op>>> {
    let mut batch = vec![rx.recv().ok()?];
    take_pending(rx, &mut batch);
    if batch.len() >= SIBLINGS {
        for _ in 0..DELAY_SLICES {
            if batch.len() >= ENOUGH {
                break;
            }
            nap();
            take_pending(rx, &mut batch);
        }
    }
    Some(batch)
}

/// Moves every operation already queued into `batch`, up to [`MAX_BATCH`].
fn take_pending(rx: &mpsc::Receiver<Box<dyn Op>>, batch: &mut Vec<Box<dyn Op>>) {
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(op) => batch.push(op),
            Err(_) => break,
        }
    }
}

/// Commits a batch in one transaction; if that fails, each operation alone.
fn commit(db: &Database, mut batch: Vec<Box<dyn Op>>) {
    if batch.len() > 1 && together(db, &mut batch).is_ok() {
        for op in batch {
            op.complete(Ok(()));
        }
        return;
    }
    for mut op in batch {
        let r = together(db, std::slice::from_mut(&mut op));
        op.complete(r);
    }
}

fn together(db: &Database, ops: &mut [Box<dyn Op>]) -> OpResult {
    let tx = db.begin_write().map_err(db_err)?;
    for op in ops.iter_mut() {
        op.apply(&tx)?; // dropping `tx` aborts it
    }
    tx.commit().map_err(db_err)
}

fn db_err<E: Into<redb::Error>>(e: E) -> StoreError {
    db(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An operation that writes nothing.
    struct Nop;

    impl Op for Nop {
        fn apply(&mut self, _: &WriteTransaction) -> OpResult {
            Ok(())
        }
        fn complete(self: Box<Self>, _: OpResult) {}
    }

    fn queue(tx: &mpsc::Sender<Box<dyn Op>>, n: usize) {
        for _ in 0..n {
            tx.send(Box::new(Nop)).unwrap();
        }
    }

    #[test]
    fn a_small_batch_commits_without_waiting() {
        let (tx, rx) = mpsc::channel();
        for n in [1, SIBLINGS - 1] {
            queue(&tx, n);
            let batch = next_batch(&rx, || panic!("{n} queued writes must not wait")).unwrap();
            assert_eq!(batch.len(), n);
        }
    }

    #[test]
    fn a_busy_batch_takes_the_writes_that_arrive_while_it_naps_until_it_has_enough() {
        let (tx, rx) = mpsc::channel();
        queue(&tx, SIBLINGS);
        let mut naps = 0;
        let batch = next_batch(&rx, || {
            naps += 1;
            queue(&tx, 3);
        })
        .unwrap();
        // It naps until the batch holds ENOUGH, then no more.
        let want = (ENOUGH - SIBLINGS).div_ceil(3);
        assert_eq!((batch.len(), naps), (SIBLINGS + 3 * want, want));
        // Nothing is left behind for the next batch.
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn a_busy_batch_waits_at_most_its_delay() {
        let (tx, rx) = mpsc::channel();
        queue(&tx, SIBLINGS);
        let mut naps = 0;
        let batch = next_batch(&rx, || naps += 1).unwrap();
        assert_eq!((batch.len(), naps), (SIBLINGS, DELAY_SLICES));
        // A write arriving after the batch closed is the next one's.
        queue(&tx, 1);
        let next = next_batch(&rx, || panic!("a lone write must not wait")).unwrap();
        assert_eq!(next.len(), 1);
    }

    #[test]
    fn a_full_batch_commits_without_waiting_and_leaves_the_rest_queued() {
        let (tx, rx) = mpsc::channel();
        queue(&tx, MAX_BATCH + 5);
        let batch = next_batch(&rx, || panic!("a full batch must not wait")).unwrap();
        assert_eq!(batch.len(), MAX_BATCH);
        let rest = next_batch(&rx, || {}).unwrap();
        assert_eq!(rest.len(), 5);
    }

    #[test]
    fn the_queue_ends_when_every_sender_is_gone() {
        let (tx, rx) = mpsc::channel();
        queue(&tx, 2);
        drop(tx);
        assert_eq!(next_batch(&rx, || {}).map(|b| b.len()), Some(2));
        assert!(next_batch(&rx, || {}).is_none());
    }
}
